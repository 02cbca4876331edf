"""The pytest plugin, as users drive it (pytester runs pytest in a temp project)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_payments

CAREFUL = "harness.agents.reference:careful_refund_agent"
NAIVE = "harness.agents.reference:naive_refund_agent"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return copy_payments(pytester)


def test_each_scenario_file_is_collected_as_one_item(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q", "scenarios")
    result.stdout.fnmatch_lines(
        [
            "scenarios/payments/refund_503_then_ok.yaml::refund_503_then_ok",
            "scenarios/payments/refund_already_refunded.yaml::refund_already_refunded",
            "scenarios/payments/refund_ambiguous_timeout.yaml::refund_ambiguous_timeout",
            "scenarios/payments/refund_ok.yaml::refund_ok",
            "scenarios/payments/refund_over_limit_approval.yaml::refund_over_limit_approval",
        ]
    )


def test_careful_agent_passes_the_suite_and_writes_a_trace_per_run(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("scenarios", f"--aqe-agent={CAREFUL}")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*aqe scenario summary*", "5/5 scenario runs passed*"])
    traces = sorted((project.path / "reports" / "latest" / "traces").glob("*.jsonl"))
    assert len(traces) == 5
    assert (project.path / "reports" / "latest" / "summary.json").is_file()


def test_a_failing_scenario_names_the_oracle_shows_evidence_and_a_reproduce_line(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios/payments/refund_ambiguous_timeout.yaml",
        f"--aqe-agent={NAIVE}",
        "--aqe-seed=4",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenario 'refund_ambiguous_timeout' failed on idempotency, outcome, safe_failure (seed *, agent "
            "harness.agents.reference:naive_refund_agent)",
            "  [[]block[]] idempotency: business key 'refund:ch_*' committed 2 effects, at most 1 "
            "allowed (duplicated)",
            "      history#1 * fault 'lost-response': timeout after=30.0 commit=after on call #1 POST /v1/refunds",
            "      ledger#1 *t=+0.000s*payments.create_refund refund:ch_*",
            "      ledger#2 *t=+30.000s*payments.create_refund refund:ch_*",
            "reproduce: pytest scenarios/payments/refund_ambiguous_timeout.yaml --aqe-agent "
            "harness.agents.reference:naive_refund_agent --aqe-seed 4",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_reproduce_line_reproduces_the_same_trace(project: pytest.Pytester) -> None:
    args = (
        "scenarios/payments/refund_ambiguous_timeout.yaml",
        f"--aqe-agent={NAIVE}",
        "--aqe-seed=9",
    )
    project.runpytest(*args)
    (trace,) = (project.path / "reports" / "latest" / "traces").glob("*.jsonl")
    first = trace.read_bytes()
    project.runpytest(*args)
    assert trace.read_bytes() == first


def test_an_invalid_scenario_is_one_failing_item_without_a_traceback(
    project: pytest.Pytester,
) -> None:
    bad = project.path / "scenarios" / "payments" / "broken.yaml"
    bad.write_text(
        "name: broken\nrationale: r\ntask:\n  instructions: x\n  input: {}\n"
        "faults:\n  - id: f\n    kind: timout\n"
    )
    result = project.runpytest(
        "scenarios/payments/broken.yaml", f"--aqe-agent={CAREFUL}"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "invalid scenario:" in out
    assert "broken.yaml:8:11: faults[0].kind: unknown fault kind 'timout'" in out
    assert "did you mean 'timeout'?" in out
    assert "Traceback" not in out


def test_running_scenarios_without_an_agent_says_how_to_name_one(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("scenarios/payments/refund_ok.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # once, before any run
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: no agent under test",
            "    fix: pass --aqe-agent module:callable, or set aqe_agent in the pytest ini file",
        ]
    )


def test_the_agent_can_come_from_the_ini_file(project: pytest.Pytester) -> None:
    project.makeini(f"[pytest]\naqe_agent = {CAREFUL}\n")
    project.runpytest("scenarios/payments/refund_ok.yaml").assert_outcomes(passed=1)


def test_an_agent_that_does_not_import_is_a_clear_error(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios/payments/refund_ok.yaml", "--aqe-agent=nowhere.agent:run"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # once, before any run
    result.stderr.fnmatch_lines(
        ["ERROR: aqe: --aqe-agent: cannot import agent module 'nowhere.agent': *"]
    )


def test_a_user_agent_module_in_the_project_is_importable(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        my_agent="""
        def agent(task, env):
            env.tools.call("create_refund", charge=task.input["charge"],
                           amount=task.input["amount"], idempotency_key="once")
            return {"status": "done"}
        """
    )
    result = project.runpytest(
        "scenarios/payments/refund_ok.yaml", "--aqe-agent=my_agent:agent"
    )
    result.assert_outcomes(passed=1)


def test_seeds_make_a_matrix_of_items_in_a_stable_order(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "--collect-only", "-q", "scenarios/payments/refund_ok.yaml", "--aqe-seeds", "3"
    )
    result.stdout.fnmatch_lines(
        [
            "scenarios/payments/refund_ok.yaml::refund_ok[[]seed=0[]]",
            "scenarios/payments/refund_ok.yaml::refund_ok[[]seed=1[]]",
            "scenarios/payments/refund_ok.yaml::refund_ok[[]seed=2[]]",
        ]
    )


def test_a_scenario_can_ask_for_several_seeds(project: pytest.Pytester) -> None:
    path = project.path / "scenarios" / "payments" / "refund_ok.yaml"
    path.write_text(path.read_text().replace("severity: block", "seeds: 2"))

    result = project.runpytest("--collect-only", "-q", str(path))
    result.stdout.fnmatch_lines(["*refund_ok[[]seed=0[]]", "*refund_ok[[]seed=1[]]"])
    overridden = project.runpytest("--collect-only", "-q", str(path), "--aqe-seeds=1")
    overridden.stdout.fnmatch_lines(["*::refund_ok", "1 test collected*"])


def test_tags_select_scenarios_with_m_and_k(project: pytest.Pytester) -> None:
    by_marker = project.runpytest("--collect-only", "-q", "scenarios", "-m", "approval")
    by_marker.stdout.fnmatch_lines(["*refund_over_limit_approval*", "1/5 tests*"])
    by_keyword = project.runpytest(
        "--collect-only", "-q", "scenarios", "-k", "timeout and not approval"
    )
    by_keyword.stdout.fnmatch_lines(["*refund_ambiguous_timeout*", "1/5 tests*"])


def test_xdist_gives_the_same_verdicts_pass_rate_and_pass_hat_k_as_one_process(
    project: pytest.Pytester,
) -> None:
    # one -n 2 session (its workers cost seconds to start) checks all three
    pytest.importorskip("xdist")
    args = ["scenarios", f"--aqe-agent={NAIVE}", "--aqe-seeds", "2"]
    summaries = []
    for extra, report in (([], "serial"), (["-n", "2"], "parallel")):
        result = project.runpytest(*args, *extra, f"--aqe-report-dir={report}")
        result.assert_outcomes(passed=4, failed=6)
        result.stdout.fnmatch_lines(
            [
                "*aqe scenario summary*",
                "*runs  pass^k*",
                "refund_ok * pass * 2/2 * 1.00*",
                "4/10 scenario runs passed*",
            ]
        )
        summary = json.loads(
            (project.path / report / "latest" / "summary.json").read_text()
        )
        summaries.append(summary["scenarios"])
    assert summaries[0] == summaries[1]
    refund_ok = next(s for s in summaries[0] if s["scenario"] == "refund_ok")
    assert refund_ok["pass_hat_k"] == {"1": 1.0, "2": 1.0}
    timeout = next(
        s for s in summaries[0] if s["scenario"] == "refund_ambiguous_timeout"
    )
    assert (timeout["runs"], timeout["passed"], timeout["pass_rate"]) == (2, 0, 0.0)


def test_pass_at_k_and_pass_hat_k_follow_tau_bench() -> None:
    from harness.reporting.summary import per_scenario

    runs = [
        {"path": "p", "scenario": "s", "passed": passed}
        for passed in (True, True, False, True)
    ]

    (row,) = per_scenario(runs)

    assert row["pass_rate"] == 0.75
    assert row["pass_hat_k"] == {"1": 0.75, "2": 0.5, "3": 0.25, "4": 0.0}
    assert row["pass_at_k"] == {"1": 0.75, "2": 1.0, "3": 1.0, "4": 1.0}


def test_yaml_outside_scenario_directories_is_not_collected(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "config.yaml").write_text("key: value\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert "config.yaml" not in result.stdout.str()


def test_importing_the_plugin_loads_no_heavy_modules() -> None:
    code = (
        "import sys, harness.plugin\n"
        "heavy = [m for m in ('simpy', 'pandas', 'httpx', 'respx', 'faker') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(
    os.environ.get("AQE_SLOW") != "1",
    reason="the whole library (CI's main job runs the command): AQE_SLOW=1",
)
def test_the_readme_main_command_runs_the_library(tmp_path: Path) -> None:
    """`aqe run scenarios --agent …library:careful_agent`, from the repository root
    (the slow CI step; its main job runs the same command, gated on the baseline)."""
    readme = (ROOT / "README.md").read_text()
    assert "aqe run scenarios --agent harness.agents.library:careful_agent" in readme
    command = [
        sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())",
        "run", "scenarios", "--agent", "harness.agents.library:careful_agent",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    assert summary["runs"] == summary["passed"] >= 40
    assert (
        len(list((tmp_path / "latest" / "traces").glob("*.jsonl"))) == summary["runs"]
    )
    assert f"{summary['runs']}/{summary['runs']} scenario runs passed" in done.stdout
    # escalation decisions across the suite, in the terminal and the summary
    assert "escalation: conflicting_records precision 1.00 recall 1.00;" in done.stdout
    matrix = summary["escalation"]["matrix"]
    assert all(
        count == 0 or expected in (actual, "any")
        for expected, row in matrix.items()
        for actual, count in row.items()
    ), matrix
    # an oracle with nothing to judge is shown as such, not as a pass
    refund_ok = next(r for r in summary["results"] if r["scenario"] == "refund_ok")
    assert refund_ok["scores"]["injection"] is None
    assert refund_ok["scores"]["idempotency"] is True


def test_aqe_run_fails_when_a_scenario_fails(tmp_path: Path) -> None:
    command = [
        sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())",
        "run", "scenarios/payments/refund_ambiguous_timeout.yaml", "--agent", NAIVE,
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "failed on idempotency" in done.stdout
