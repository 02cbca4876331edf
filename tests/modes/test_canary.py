"""Canary streams: routing, stages, the kill switch and its blast radius."""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, load_scenario
from harness.agents.library import careful_agent
from harness.agents.reference import careful_refund_agent
from harness.modes.canary import (
    CanaryConfig,
    case_seed,
    make_case,
    routed_to_candidate,
    run_canary,
)
from harness.modes.judge import Verdict

ROOT = Path(__file__).resolve().parents[2]
#: The equivalent candidate's streams: 5 seeds by default, the 20 of the false
#: alarm sweep in the slow CI job (``AQE_SLOW=1``).
EQUIVALENT_SEEDS = range(20) if os.environ.get("AQE_SLOW") == "1" else range(0, 20, 4)
TEMPLATES = [
    load_scenario(p) for p in sorted((ROOT / "scenarios" / "payments").glob("*.yaml"))
]


def double_refunds_one_world_in_fifty(task: Task, env: AgentEnv) -> AgentResult:
    """The careful agent, but on 2% of worlds it refunds twice without a key."""
    charge = str(task.input.get("charge", ""))
    if charge and zlib.crc32(charge.encode()) % 50 == 0:
        for _ in range(2):
            with contextlib.suppress(Exception):
                env.tools.call(
                    "create_refund", charge=charge, amount=task.input["amount"]
                )
        return AgentResult(status="done", summary="refunded")
    return careful_refund_agent(task, env)


def same_as_careful(task: Task, env: AgentEnv) -> Any:
    """Another build of the careful agent: equivalent behaviour."""
    return careful_refund_agent(task, env)


def always_escalates(task: Task, env: AgentEnv) -> Any:
    """Stops every task at a human: never a duplicate, but it gets no work done."""
    env.http.post(
        "https://ops.sim/v1/escalations",
        json={"reason": "low_confidence", "summary": "not sure", "refs": []},
    )
    return AgentResult(status="escalated", summary="asked a human")


def test_routing_is_a_stable_hash_of_the_case_id() -> None:
    routed = [routed_to_candidate(7, f"c{i:06d}", 10.0) for i in range(5000)]
    assert 0.08 < sum(routed) / len(routed) < 0.12
    assert routed == [routed_to_candidate(7, f"c{i:06d}", 10.0) for i in range(5000)]
    # a wider stage keeps every case the narrower one routed
    wider = [routed_to_candidate(7, f"c{i:06d}", 25.0) for i in range(5000)]
    assert all(w for r, w in zip(routed, wider, strict=True) if r)


def test_cases_reseed_the_world_so_each_has_its_own_records() -> None:
    from harness.run import prepare_run

    template = TEMPLATES[0]
    charges = set()
    for i in range(5):
        seed = case_seed(3, f"c{i:06d}")
        setup = prepare_run(make_case(template, seed, 11), seed=seed)
        charges.add(setup.task.input["charge"])
    assert len(charges) == 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_defect_in_two_percent_of_cases_trips_the_kill_switch_within_bounds(
    seed: int,
) -> None:
    # the templates where a second refund always lands (elsewhere it is refused)
    harmed = ("refund_ok", "refund_ambiguous_timeout", "refund_over_limit_approval")
    templates = [t for t in TEMPLATES if t.name in harmed]
    config = CanaryConfig(cases=3000, steps=(25.0,), seed=seed)
    report = run_canary(
        templates, double_refunds_one_world_in_fifty, careful_agent, config
    )
    assert report.verdict is Verdict.FAILED
    assert report.killed
    assert report.kill_reason is not None
    assert report.kill_reason.startswith(f"critical: {report.killed_at_case} (")
    assert (
        "duplicated side effect refund:ch_" in report.kill_reason
        or "blocking policy violation: payments.refund" in report.kill_reason
    )
    # stopped at the first defective case: the stream did not run to its end
    assert report.cases_run < 3000
    radius = report.blast_radius
    assert 1 <= radius.cases <= 300, radius  # 0.98**300 < 0.3%: a bound, not luck
    assert len(radius.critical) == 1
    assert radius.side_effects >= 2
    assert report.time_to_rollback is not None
    assert report.time_to_rollback > 0
    assert report.to_json()["killed_at_case"] == report.killed_at_case


@pytest.mark.parametrize("seed", EQUIVALENT_SEEDS)
def test_an_equivalent_candidate_passes_without_a_false_alarm(seed: int) -> None:
    config = CanaryConfig(cases=140, steps=(50.0,), seed=seed)
    report = run_canary(TEMPLATES, same_as_careful, careful_agent, config)
    assert report.verdict is Verdict.SUCCESSFUL, report.to_json()["stages"]
    assert not report.killed
    assert report.blast_radius.critical == ()


def test_stages_ramp_and_a_failed_stage_stops_routing_before_the_next() -> None:
    config = CanaryConfig(cases=300, steps=(5.0, 25.0, 50.0), seed=4)
    report = run_canary(TEMPLATES, always_escalates, careful_agent, config)
    assert report.verdict is Verdict.FAILED
    assert report.killed
    assert report.kill_reason is not None
    assert report.kill_reason.startswith("judge failed the stage: ")
    assert len(report.stages) < 3  # never reached the last stage
    assert [s.percent for s in report.stages] == [5.0, 25.0][: len(report.stages)]
    last = report.stages[-1].judgement
    assert last is not None
    assert last.verdict is Verdict.FAILED


def test_the_same_stream_gives_the_same_report() -> None:
    config = CanaryConfig(cases=80, steps=(1.0, 50.0), seed=9)
    first = run_canary(TEMPLATES, same_as_careful, careful_agent, config)
    again = run_canary(TEMPLATES, same_as_careful, careful_agent, config)
    assert first.to_json() == again.to_json()


def test_bad_stream_settings_are_clear_errors() -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError) as err:
        CanaryConfig(cases=10, steps=(0.0, 150.0))
    assert str(err.value) == (
        "canary: steps [0.0, 150.0] must each be a percentage in (0, 100]\n"
        "    fix: e.g. --aqe-canary-steps 1,5,25 or --aqe-canary-fraction 0.1"
    )


DEFECTIVE = """
import contextlib
import zlib

from harness.agents.reference import careful_refund_agent


def double_refunds(task, env):
    charge = str(task.input.get("charge", ""))
    if charge and zlib.crc32(charge.encode()) % 50 == 0:
        for _ in range(2):
            with contextlib.suppress(Exception):
                env.tools.call("create_refund", charge=charge, amount=task.input["amount"])
        return {"status": "done", "summary": "refunded"}
    return careful_refund_agent(task, env)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    from tests.conftest import copy_payments

    pytester.makeini("[pytest]\npythonpath = .\n")
    pytester.makepyfile(defective=DEFECTIVE)
    return copy_payments(pytester)


def test_a_failed_canary_fails_the_session_and_states_its_blast_radius(
    project: pytest.Pytester,
) -> None:
    import json

    for name in ("refund_503_then_ok", "refund_already_refunded"):
        (project.path / "scenarios" / "payments" / f"{name}.yaml").unlink()
    result = project.runpytest(
        "scenarios",
        "--aqe-mode=canary",
        "--aqe-agent=defective:double_refunds",
        "--aqe-control-agent=harness.agents.library:careful_agent",
        "--aqe-cases=2000",
        "--aqe-canary-steps=5,25",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "canary FAILED: candidate defective:double_refunds vs control *",
            "  kill switch: critical: c0* (refund_*",
            "  rolled back at * s simulated (* s after the candidate's first case)",
            "  blast radius: * candidate case(s), * failed, * side effect(s)",
            "reproduce: pytest <the same paths> --aqe-mode canary *",
        ]
    )
    run = project.path / "reports" / "latest"
    canary = json.loads((run / "canary.json").read_text())
    assert canary["killed"] is True
    summary = json.loads((run / "summary.json").read_text())
    assert summary["canary"]["verdict"] == "failed"
    assert "kill switch: critical:" in (run / "summary.md").read_text()
    assert "kill switch: critical:" in (run / "report.html").read_text()


def test_canary_mode_without_a_control_agent_says_how_to_name_one(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios",
        "--aqe-mode=canary",
        "--aqe-agent=harness.agents.library:careful_agent",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # once, before the stream
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: canary mode needs a control agent",
            "    fix: pass --aqe-control-agent module:callable (the agent in"
            " production today)",
        ]
    )


def test_a_templates_vary_ranges_give_each_case_its_own_values() -> None:
    from harness.run import prepare_run

    template = next(t for t in TEMPLATES if t.name == "refund_ok")
    amounts = set()
    for i in range(30):
        seed = case_seed(5, f"c{i:06d}")
        case = make_case(template, seed, 11)
        amount = case.world.records["charge"].fields["amount"]
        assert 2000 <= amount <= 9000
        amounts.add(amount)
        charge = prepare_run(case, seed=seed).world.records["charge"]
        assert charge["amount"] == amount
    assert len(amounts) > 20


def test_a_vary_path_naming_no_record_is_a_file_error() -> None:
    from harness import ScenarioError, parse_scenario

    text = (
        "name: t\nrationale: A template with a misspelt record to vary.\n"
        "task: {instructions: Hi, input: {amount: 1}}\n"
        "canary:\n  vary:\n    records.charg.amount: {min: 1, max: 2}\n"
    )
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "t.yaml")
    assert err.value.problems == (
        "t.yaml:6:5: canary.vary['records.charg.amount']: the world has no record"
        " 'charg' to vary\n    fix: valid records: none",
    )


@pytest.mark.parametrize(
    ("option", "lines"),
    [
        (
            "--aqe-canary-steps=1,five",
            [
                "aqe: --aqe-canary-steps '1,five': not a list of percentages",
                "    fix: e.g. --aqe-canary-steps 1,5,25",
            ],
        ),
        (
            "--aqe-cases=0",
            ["aqe: canary: 0 cases", "    fix: pass --aqe-cases N with N >= 1"],
        ),
    ],
)
def test_bad_canary_options_fail_with_the_fix(
    project: pytest.Pytester, option: str, lines: list[str]
) -> None:
    result = project.runpytest(
        "scenarios",
        "--aqe-mode=canary",
        "--aqe-agent=harness.agents.library:careful_agent",
        "--aqe-control-agent=harness.agents.library:careful_agent",
        option,
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(lines)
