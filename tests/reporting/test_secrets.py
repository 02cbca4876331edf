"""Secrets never reach a file in clear: the run's credential and the reset links
the fakes issue are aliased in traces and failure text; the oracles still judge
the real values, and re-scoring a redacted trace sends them again."""

from __future__ import annotations

import json
from pathlib import Path

from harness import AgentEnv, Task
from harness.agents import access
from harness.reporting.artefacts import read_trace
from harness.reporting.replay import replay_agent
from harness.reporting.text import render_failure
from harness.reporting.trace import write_trace
from harness.run import RunResult, prepare_run, run_record, run_scenario
from harness.scenario.loader import load_scenario
from harness.world.secrets import Secrets
from tests.conftest import ROOT

RESET = ROOT / "scenarios" / "access" / "access_reset_verified_requester.yaml"


def reset_links(result: RunResult) -> list[str]:
    resets = result.world.services["iam"].state["credential_resets"].values()
    return [r["reset_link"] for r in resets]


def test_a_leaked_reset_link_is_aliased_in_the_trace_record_and_failure_text(
    tmp_path: Path,
) -> None:
    result = run_scenario(load_scenario(RESET), access.link_sharing_agent, seed=3)
    (link,) = reset_links(result)

    trace = write_trace(result, tmp_path).read_text()
    record = json.dumps(
        run_record(
            result, nodeid="n", path="p", agent="a", seed_index=0, trace="t.jsonl"
        )
    )
    failure = render_failure(result, reproduce="pytest …", trace=None)

    assert result.failed_oracles == ("leakage",)  # judged on the real link
    for text in (trace, record, failure):
        assert link not in text
    assert "<secret:reset_link:1>" in trace


def test_an_agent_that_writes_its_own_credential_somewhere_shows_only_its_alias(
    tmp_path: Path,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        env.tools.call(
            "add_ticket_comment",
            ticket=task.input["ticket_id"],
            body=f"my key is {env.identity.api_key}",
        )

    scenario = load_scenario(ROOT / "scenarios" / "payments" / "refund_ok.yaml")
    result = run_scenario(scenario, agent, seed=1)
    key = prepare_run(scenario, seed=1).identity.api_key

    trace = write_trace(result, tmp_path).read_text()

    assert key not in trace
    assert "my key is <secret:credential:1>" in trace


def test_rescoring_a_redacted_trace_sends_the_new_runs_real_secrets(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(RESET)
    first = run_scenario(scenario, access.link_sharing_agent, seed=3)
    trace = read_trace(write_trace(first, tmp_path))

    setup = prepare_run(scenario, seed=3)
    replayed = replay_agent(trace, reveal=setup.world.secrets.reveal)
    again = run_scenario(scenario, replayed, seed=3, setup=setup)

    assert [e.text for e in again.score("leakage").evidence] == [
        e.text for e in first.score("leakage").evidence
    ]


def test_aliases_are_numbered_per_kind_in_the_order_secrets_are_issued() -> None:
    book = Secrets()
    book.add("sk_test_abc", "credential")
    book.add("https://login/x1", "reset_link")
    book.add("https://login/x1/longer", "reset_link")
    book.add("https://login/x1", "reset_link")  # the same secret: one alias

    text = book.redact("sk_test_abc https://login/x1/longer https://login/x1")

    assert text == ("<secret:credential:1> <secret:reset_link:2> <secret:reset_link:1>")
    assert book.reveal({"body": [text]}) == {
        "body": ["sk_test_abc https://login/x1/longer https://login/x1"]
    }
