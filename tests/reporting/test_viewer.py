"""The report's run viewer: each run's story, read from its trace, embedded once as
inert JSON that cannot break out of its element, secrets aliased as in the trace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness import AgentEnv, Task
from harness.agents import access
from harness.agents.reference import naive_refund_agent
from harness.reporting.html import render_html
from harness.reporting.summary import build_summary
from harness.reporting.trace import trace_lines, write_trace
from harness.reporting.viewer import (
    REF,
    load_stories,
    read_story,
    render_runs,
    shared_values,
    story,
    story_json,
)
from harness.run import RunResult, prepare_run, run_record, run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, payments_scenario

RESET = ROOT / "scenarios" / "access" / "access_reset_verified_requester.yaml"
DATA = re.compile(r'<script type="application/json" id="run-(\d+)-data">(.*?)</script>')


def resolve(value: Any, shared: list[Any]) -> Any:
    """What the page's script does with a story's shared values."""
    if isinstance(value, list):
        return [resolve(v, shared) for v in value]
    if isinstance(value, dict):
        if list(value) == [REF]:
            return shared[value[REF]]
        return {k: resolve(v, shared) for k, v in value.items()}
    return value


def resolved_history(told: dict[str, Any]) -> list[Any]:
    shared: list[Any] = []
    for value in told["shared"]:
        shared.append(resolve(value, shared))
    return resolve(told["history"], shared)  # type: ignore[no-any-return]


def session(tmp_path: Path, *results: RunResult) -> dict[str, Any]:
    """A summary of ``results`` whose traces are in the run folder ``tmp_path``."""
    records = []
    for result in results:
        trace = write_trace(result, tmp_path / "traces")
        records.append(
            result.world.secrets.redact_json(
                run_record(
                    result,
                    nodeid=f"{result.scenario.name}.yaml::{result.scenario.name}",
                    path=f"{result.scenario.name}.yaml",
                    agent=result.agent,
                    seed_index=0,
                    trace=trace.relative_to(tmp_path).as_posix(),
                )
            )
        )
    return build_summary(
        records,
        run_id="r1",
        started=None,
        finished=None,
        git={"sha": None, "branch": None, "dirty": False},
        complete=True,
        incomplete_reason=None,
        run_dir=str(tmp_path),
    )


@pytest.fixture(scope="module")
def ambiguous() -> RunResult:
    scenario = payments_scenario("refund_ambiguous_timeout")
    return run_scenario(scenario, naive_refund_agent, seed=0)


def test_the_story_of_a_duplicated_refund_holds_both_effects_the_fault_and_why(
    ambiguous: RunResult,
) -> None:
    lines = [json.loads(line) for line in trace_lines(ambiguous)]
    told = story(lines, {"scenario": "refund_ambiguous_timeout", "passed": False})

    first, second = told["effects"]
    assert first["business_key"] == second["business_key"]
    assert (first["time"], second["time"]) == (0.0, 30.0)
    history = resolved_history(told)
    fault = next(h for h in history if h[2] == "nemesis")
    assert fault[6]["kind"] == "timeout"
    assert fault[6]["params"]["commit"] == "after"
    seen = next(h for h in history if h[6].get("seen") == "timeout")
    assert seen[6]["committed"] == [first["seq"]]
    # the first effect shows after the fault, before the agent's timeout
    assert fault[0] < first["at"] <= seen[0]
    idempotency = next(s for s in told["scores"] if s["oracle"] == "idempotency")
    assert not idempotency["passed"]
    assert "duplicated" in idempotency["explanation"]
    refs = [e["ref"] for e in idempotency["evidence"]]
    assert {"ledger#1", "ledger#2", f"history#{fault[0]}"} <= set(refs)
    assert idempotency["details"] == {"keys": {first["business_key"]: "duplicated"}}
    (coverage,) = told["faults"]
    assert coverage["text"] == "lost-response (timeout) fired on 1 of 2 matching calls"
    assert told["task"]["input"]["amount"] == 1200


def test_a_passing_oracle_keeps_its_explanation_not_its_details(
    ambiguous: RunResult,
) -> None:
    lines = [json.loads(line) for line in trace_lines(ambiguous)]
    budget = next(s for s in story(lines, {})["scores"] if s["oracle"] == "budget")
    assert budget["passed"]
    assert "details" not in budget
    assert budget["explanation"].startswith("within budget")


def test_values_repeated_in_a_history_are_stored_once_and_put_back() -> None:
    spec = {"name": "create_refund", "parameters": {"type": "object", "x": "y" * 80}}
    turn = {"role": "user", "content": "refund the charge " * 8}
    history = [
        [0, 0.0, "agent", "invoke", "chat", 1, {"params": {"tools": [spec], "m": [turn]}}],
        [1, 0.5, "agent", "invoke", "chat", 2, {"params": {"tools": [spec], "m": [turn, turn]}}],
        [2, 0.6, "agent", "ok", "chat", 2, {"small": [1, 2]}],
    ]  # fmt: skip

    rebuilt, shared = shared_values(history)

    assert resolve(rebuilt, resolve_all(shared)) == history
    text = json.dumps([rebuilt, shared])
    assert text.count("refund the charge") == 8  # the turn once
    assert text.count("y" * 80) == 1  # the spec once
    assert rebuilt[2] == history[2]  # short values stay in place


def resolve_all(shared: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in shared:
        out.append(resolve(value, out))
    return out


def test_story_json_cannot_close_its_script_element() -> None:
    data = {"summary": "</script><script>alert(1)</script><!-- & \u2028"}
    text = story_json(data)
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == data


def test_the_page_embeds_one_story_per_run_and_links_failures_to_them(
    tmp_path: Path, ambiguous: RunResult
) -> None:
    ok = run_scenario(payments_scenario("refund_ok"), naive_refund_agent, seed=0)
    summary = session(tmp_path, ok, ambiguous)

    page = render_html(summary, stories=load_stories(summary, tmp_path))

    blobs = {int(i): json.loads(text) for i, text in DATA.findall(page)}
    assert sorted(blobs) == [0, 1]
    by_name = {b["scenario"]: b for b in blobs.values()}
    assert by_name["refund_ok"]["passed"]
    told = by_name["refund_ambiguous_timeout"]
    assert len(told["effects"]) == 2
    assert told["replay"].startswith("aqe replay ")
    index = next(i for i, b in blobs.items() if b is told)
    assert f'<tr id="run-{index}" data-run="{index}"' in page
    assert f'<a href="#run-{index}" title="open the run">' in page  # from Failures
    assert '<a href="#runs">Runs</a>' in page


def test_a_run_without_a_readable_trace_opens_to_why(tmp_path: Path) -> None:
    record = {"scenario": "s", "passed": False, "trace": "traces/gone.jsonl"}
    told = read_story(record, tmp_path)
    assert told["missing"].startswith("cannot read trace traces/gone.jsonl")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert (
        "is not JSON lines" in read_story({"trace": "bad.jsonl"}, tmp_path)["missing"]
    )
    assert read_story({}, tmp_path)["missing"] == "the run wrote no trace"
    (tmp_path / "canary.json").write_text('{"verdict": "passed"}\n')
    told = read_story({"trace": "canary.json"}, tmp_path)
    assert told["missing"] == "canary.json is not a run's trace"


def test_a_report_rendered_without_traces_still_lists_every_run() -> None:
    summary = {"results": [{"scenario": "a", "passed": True}, {"scenario": "b"}]}
    section = render_runs(summary, None)
    assert section.count('data-run="') == 2
    assert "application/json" not in section
    assert "written without the run folder" in section


def test_secrets_reach_the_page_only_as_their_aliases(tmp_path: Path) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        env.tools.call(
            "add_ticket_comment",
            ticket=task.input["ticket_id"],
            body=f"my key is {env.identity.api_key}",
        )

    refund = load_scenario(ROOT / "scenarios" / "payments" / "refund_ok.yaml")
    leaky = run_scenario(refund, agent, seed=1)
    key = prepare_run(refund, seed=1).identity.api_key
    shared = run_scenario(load_scenario(RESET), access.link_sharing_agent, seed=3)
    resets = shared.world.services["iam"].state["credential_resets"].values()
    secrets = [key, *shared.world.secrets.values(), *(r["reset_link"] for r in resets)]
    summary = session(tmp_path, leaky, shared)

    page = render_html(summary, stories=load_stories(summary, tmp_path))

    for secret in secrets:
        assert secret not in page
    stories = [json.loads(text) for _, text in DATA.findall(page)]
    told = {s["scenario"]: json.dumps(resolved_history(s)) for s in stories}
    assert "my key is <secret:credential:1>" in told["refund_ok"]
    assert "<secret:reset_link:1>" in told["access_reset_verified_requester"]
