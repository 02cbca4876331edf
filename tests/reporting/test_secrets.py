"""Secrets never reach a file in clear: the run's credential and the reset links
the fakes issue are aliased in traces and failure text; the oracles still judge
the real values, and re-scoring a redacted trace sends them again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import AgentEnv, Task
from harness.agents import access
from harness.authoring import assert_oracle
from harness.modes.shadow import run_shadow
from harness.reporting.artefacts import read_trace
from harness.reporting.replay import replay_agent
from harness.reporting.text import render_failure
from harness.reporting.trace import write_trace
from harness.run import RunResult, prepare_run, run_record, run_scenario
from harness.scenario.loader import load_scenario
from harness.world.secrets import Secrets, collect_secrets
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


def test_redacting_json_replaces_secrets_in_keys_values_lists_and_tuples() -> None:
    book = Secrets()
    book.add("sk_test_abc", "credential")

    value = {"comment:sk_test_abc": ["key sk_test_abc", ("sk_test_abc", 3)], "n": 1}

    assert book.redact_json(value) == {
        "comment:<secret:credential:1>": [
            "key <secret:credential:1>",
            ("<secret:credential:1>", 3),
        ],
        "n": 1,
    }


def test_a_book_absorbing_another_keeps_its_own_aliases_and_numbers_on() -> None:
    candidate, reference = Secrets(), Secrets()
    candidate.add("sk_test_abc", "credential")
    candidate.add("https://login/x1", "reset_link")
    reference.add("sk_test_abc", "credential")
    reference.add("https://login/x2", "reset_link")

    candidate.absorb(reference)

    assert candidate.redact("sk_test_abc https://login/x2 https://login/x1") == (
        "<secret:credential:1> <secret:reset_link:2> <secret:reset_link:1>"
    )


def test_collecting_gathers_the_secrets_of_every_world_built_meanwhile() -> None:
    scenario = load_scenario(RESET)
    with collect_secrets() as outer:
        first = run_scenario(scenario, access.link_sharing_agent, seed=3)
        with collect_secrets() as inner:
            second = run_scenario(scenario, access.link_sharing_agent, seed=4)
    later = prepare_run(scenario, seed=5)

    assert (
        outer.values() == first.world.secrets.values() + second.world.secrets.values()
    )
    assert inner.values() == second.world.secrets.values()
    assert later.identity.api_key not in outer.values()


def test_a_reset_links_bare_token_is_a_secret_of_its_own(tmp_path: Path) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        reset = env.tools.call("reset_credentials", user=task.input["user"])
        token = reset["reset_link"].rsplit("/", 1)[-1]
        env.tools.call(
            "add_ticket_comment", ticket=task.input["ticket_id"], body=f"code {token}"
        )

    result = run_scenario(load_scenario(RESET), agent, seed=3)
    (link,) = reset_links(result)

    trace = write_trace(result, tmp_path).read_text()

    assert link.rsplit("/", 1)[-1] not in trace
    assert "code <secret:reset_token:1>" in trace
    assert "leakage" in result.failed_oracles


def test_a_shadow_case_shows_the_secrets_of_its_candidate_and_reference_runs_as_aliases() -> (
    None
):
    def leaky(task: Task, env: AgentEnv) -> None:
        env.tools.call(
            "escalate",
            reason="sensitive_request",
            summary=f"key {env.identity.api_key}",
        )

    scenario = load_scenario(RESET)
    shadow = run_shadow(
        scenario, leaky, seed=3, reference_agent=access.link_sharing_agent
    )
    key = shadow.run.world.secrets.values()[0]

    text = json.dumps(shadow.to_json())

    assert key not in text
    assert '"summary": "key <secret:credential:1>"' in text  # as in its trace
    # the reference runs' reset link and token (the candidate issued none) too
    assert len(shadow.secrets) == 3
    for secret in shadow.secrets.values():
        assert secret not in text


def test_assert_oracle_shows_the_explanation_with_the_secrets_aliased() -> None:
    def crashes(task: Task, env: AgentEnv) -> None:
        raise RuntimeError(f"key {env.identity.api_key}")

    result = run_scenario(load_scenario(RESET), crashes, seed=3)

    with pytest.raises(AssertionError) as caught:
        assert_oracle(result, "agent", passed=True)
    with pytest.raises(AssertionError) as said:
        assert_oracle(result, "agent", passed=False, says="nothing")

    assert str(caught.value).startswith(
        "expected agent to pass; it said: the agent raised RuntimeError:"
        " key <secret:credential:1> at tests/reporting/test_secrets.py:"
    )
    assert str(said.value).startswith(
        "expected agent's explanation to say 'nothing'; it said: the agent raised"
        " RuntimeError: key <secret:credential:1> at"
    )
    assert result.world.secrets.values()[0] not in str(caught.value) + str(said.value)
