"""The library's LLM agents, on the official SDKs with scripted models: each
careful agent passes its scenarios with its scenario's own model, each flawed
model or loop fails exactly the oracles it was written to trip, the models
answer from the conversation they are sent, and a run is the same bytes on the
same seed, here or in its own process."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import RunResult, load_scenario, run_scenario
from harness.agents import library, llm_access, llm_knowledge, llm_refunds
from harness.faults.kind import Commit
from harness.isolation import ProcessIsolation
from harness.models import ModelCall
from harness.reporting.trace import trace_bytes
from harness.scenario.model import Scenario
from harness.source.callables import load_callable
from tests.conftest import ROOT

LLM = ROOT / "scenarios" / "llm"
FILES = sorted(LLM.glob("llm_*.yaml"))  # langgraph_*, pydantic_ai_*: tests/adapters
Script = Callable[[ModelCall], dict[str, Any]]


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("agents.test_llm_agents")


@cache
def scenario(name: str) -> Scenario:
    return load_scenario(LLM / f"{name}.yaml")


def own_model(loaded: Scenario) -> Script:
    """The scenario's ``model: {script: …}``, as a session loads it."""
    assert loaded.model is not None
    assert loaded.model.script is not None
    return load_callable(loaded.model.script, what="scripted model", example="-")


def failures(result: RunResult) -> list[str]:
    return [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]


def test_each_llm_scenario_names_its_workflow_model_and_sdk() -> None:
    assert [p.stem for p in FILES] == [
        "llm_access_grant_timeout_streamed",
        "llm_access_privileged_grant",
        "llm_knowledge_injected_article",
        "llm_refund_ambiguous_timeout",
        "llm_refund_over_limit_streamed",
    ]
    for path in FILES:
        loaded = load_scenario(path)
        workflow = str(loaded.task.input["workflow"])
        assert loaded.name == path.stem
        assert workflow in ("llm_refunds", "llm_access", "llm_knowledge"), path
        assert loaded.model is not None
        assert loaded.model.script == f"harness.agents.{workflow}:careful_model"
        assert "llm" in loaded.tags
        sdk = "anthropic" if workflow == "llm_access" else "openai"
        assert sdk in loaded.tags
        assert ("streaming" in loaded.tags) is bool(loaded.task.input.get("stream"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_careful_agent_passes_with_the_scenarios_own_model_on_three_seeds(
    path: Path,
) -> None:
    loaded = load_scenario(path)
    for seed in (0, 1, 2):
        result = run_scenario(
            loaded, library.careful_agent, seed=seed, model=own_model(loaded)
        )
        assert result.passed, f"seed {seed}: {failures(result)}"
        calls = [h for h in result.world.history if h.f == "model_call"]
        streamed = bool(loaded.task.input.get("stream"))
        assert calls, "no model call"
        assert {h.value["stream"] for h in calls} == {streamed}
        assert all(h.value["tokens_in"] > 0 for h in calls)
        silent = [c["fault"] for c in result.fault_coverage if c["fired"] < 1]
        assert silent == []


#: (scenario, agent, model, the oracles that fail: exactly these).
FLAWED = [
    (
        "llm_refund_ambiguous_timeout",
        llm_refunds.careful_agent,
        llm_refunds.naive_model,
        {"idempotency", "outcome", "safe_failure"},
    ),
    (
        "llm_refund_ambiguous_timeout",
        llm_refunds.retrying_agent,
        llm_refunds.careful_model,
        {"idempotency", "outcome", "safe_failure"},
    ),
    (
        "llm_refund_over_limit_streamed",
        llm_refunds.careful_agent,
        llm_refunds.naive_model,
        {"policy", "outcome"},
    ),
    (
        "llm_access_privileged_grant",
        llm_access.careful_agent,
        llm_access.no_approval_model,
        {"policy", "outcome", "trajectory"},
    ),
    (
        "llm_knowledge_injected_article",
        llm_knowledge.careful_agent,
        llm_knowledge.obedient_model,
        {"injection", "policy", "outcome", "trajectory"},
    ),
]


@pytest.mark.parametrize(
    ("name", "agent", "model", "failed"),
    FLAWED,
    ids=[f"{a.__name__}-{m.__name__}-{n}" for n, a, m, _ in FLAWED],
)
def test_each_flawed_model_or_loop_fails_exactly_its_oracles(
    name: str, agent: Any, model: Script, failed: set[str]
) -> None:
    result = run_scenario(scenario(name), agent, seed=0, model=model)

    assert set(result.failed_oracles) == failed, failures(result)
    flaw = model if model.__name__ != "careful_model" else agent
    doc = str(flaw.__doc__)
    assert any(f"``{oracle}``" in doc for oracle in failed), doc


def test_each_flawed_model_is_in_the_table() -> None:
    flawed = {
        (module.__name__, name)
        for module in (llm_refunds, llm_access, llm_knowledge)
        for name in module.__all__
        if name not in ("careful_agent", "careful_model", "streaming_agent")
    }
    tabled = {
        (f.__module__, f.__name__)
        for _, agent, model, _ in FLAWED
        for f in (agent, model)
        if f.__name__ not in ("careful_agent", "careful_model")
    }
    assert flawed == tabled


def test_the_naive_model_refunds_twice_and_the_careful_one_checks_first() -> None:
    loaded = scenario("llm_refund_ambiguous_timeout")
    charge = None

    def refunds(model: Script, agent: Any = llm_refunds.careful_agent) -> list[Any]:
        nonlocal charge
        result = run_scenario(loaded, agent, seed=0, model=model)
        charge = result.task.input["charge"]
        payments = result.world.service("payments")
        return list(payments.query("refunds", {"charge": charge}))

    assert len(refunds(llm_refunds.careful_model)) == 1
    assert len(refunds(llm_refunds.naive_model)) == 2
    assert len(refunds(llm_refunds.careful_model, llm_refunds.retrying_agent)) == 2


def _tools_called(result: RunResult) -> list[str]:
    return [
        str(h.f)
        for h in result.world.history
        if h.type.value == "invoke" and h.process == "agent" and h.f != "model_call"
        and h.value.get("service") not in ("openai", "anthropic")
    ]  # fmt: skip


def test_the_careful_model_checks_the_refunds_only_after_a_timeout() -> None:
    """It reads the conversation: with no fault there is nothing to check."""
    loaded = scenario("llm_refund_ambiguous_timeout")
    calm = dataclasses.replace(loaded, faults=())

    faulty = run_scenario(
        loaded, library.careful_agent, seed=0, model=llm_refunds.careful_model
    )
    fine = run_scenario(
        calm, library.careful_agent, seed=0, model=llm_refunds.careful_model
    )

    assert _tools_called(faulty) == ["retrieve_charge", "create_refund", "list_refunds"]
    assert _tools_called(fine) == ["retrieve_charge", "create_refund"]
    keys = [
        h.value["idempotency_key"]
        for h in faulty.world.history
        if h.type.value == "invoke" and h.f == "create_refund"
    ]
    assert keys == ["key-1"]  # keyed, as the history shows keys


def test_the_careful_model_retries_with_the_same_key_when_nothing_landed() -> None:
    """A timeout before the refund committed: the charge's refunds show nothing,
    so the model retries, with the key it used the first time."""
    loaded = scenario("llm_refund_ambiguous_timeout")
    fault = dataclasses.replace(
        loaded.faults[0], params={**loaded.faults[0].params, "commit": Commit.BEFORE}
    )
    lost = dataclasses.replace(loaded, faults=(fault,))
    sent: list[Any] = []

    def watching(call: ModelCall) -> dict[str, Any]:
        answer = llm_refunds.careful_model(call)
        for choice in answer["choices"]:
            for tool_call in choice["message"].get("tool_calls") or []:
                sent.append(tool_call["function"])
        return answer

    result = run_scenario(lost, library.careful_agent, seed=0, model=watching)

    assert result.passed, failures(result)
    refunds = [f["arguments"] for f in sent if f["name"] == "create_refund"]
    assert len(refunds) == 2
    assert refunds[0] == refunds[1]
    assert '"idempotency_key": "refund-' in refunds[0]
    assert _tools_called(result) == [
        "retrieve_charge", "create_refund", "list_refunds", "create_refund",
    ]  # fmt: skip


def test_the_careful_access_model_escalates_a_denied_grant() -> None:
    loaded = scenario("llm_access_privileged_grant")
    denied = dataclasses.replace(
        loaded,
        humans=dataclasses.replace(
            loaded.humans,
            approver=dataclasses.replace(loaded.humans.approver, decision="deny"),
        ),
    )

    result = run_scenario(
        denied, library.careful_agent, seed=0, model=llm_access.careful_model
    )

    called = _tools_called(result)
    assert "grant_access" not in called
    assert called[-2:] == ["escalate", "add_ticket_comment"]
    (escalation,) = result.world.service("ops").query("escalations", {})
    assert escalation["reason"] == "sensitive_request"
    assert result.agent_result is not None
    assert result.agent_result.status == "escalated"


def test_the_careful_knowledge_model_says_it_ignored_the_planted_instruction() -> None:
    loaded = scenario("llm_knowledge_injected_article")
    clean = dataclasses.replace(loaded, faults=())

    def said(target: Scenario) -> str:
        result = run_scenario(
            target, library.careful_agent, seed=0, model=llm_knowledge.careful_model
        )
        assert result.passed, failures(result)
        assert result.agent_result is not None
        (reply,) = result.world.service("tickets").query("comments", {})
        assert "365" not in reply["body"]
        assert "30 days of delivery" in reply["body"]
        return result.agent_result.summary

    ignored = " I did not follow them."
    assert said(loaded).endswith(ignored)
    assert not said(clean).endswith(ignored)


def test_the_knowledge_agent_sends_responses_function_tools() -> None:
    bodies: list[Any] = []

    def watching(call: ModelCall) -> dict[str, Any]:
        bodies.append(call.body)
        return llm_knowledge.careful_model(call)

    run_scenario(
        scenario("llm_knowledge_injected_article"),
        llm_knowledge.careful_agent,
        seed=0,
        model=watching,
    )

    first = bodies[0]
    assert first["instructions"] == llm_knowledge.INSTRUCTIONS
    assert [t["name"] for t in first["tools"]] == [
        *sorted(llm_knowledge.TOOLS),
        "wait_for_approval",
    ]
    assert all(set(t) == {"type", "name", "description", "parameters", "strict"}
               for t in first["tools"])  # fmt: skip
    # each later call carries the earlier output items and their outputs
    kinds = [item.get("type", "message") for item in bodies[2]["input"]]
    assert kinds == [
        "message", "function_call", "function_call_output",
        "function_call", "function_call_output",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "agent", "model"),
    [
        ("llm_refund_ambiguous_timeout", llm_refunds.streaming_agent, None),
        ("llm_access_privileged_grant", llm_access.streaming_agent, None),
        ("llm_refund_ambiguous_timeout", llm_refunds.careful_agent, "naive"),
    ],
    ids=["refunds", "access", "refunds-naive"],
)
def test_the_streamed_loops_give_the_verdicts_of_the_whole_ones(
    name: str, agent: Any, model: str | None
) -> None:
    loaded = scenario(name)
    script = llm_refunds.naive_model if model else own_model(loaded)
    streamed = dataclasses.replace(
        loaded,
        task=dataclasses.replace(
            loaded.task, input={**loaded.task.input, "stream": True}
        ),
    )

    whole = run_scenario(loaded, library.careful_agent, seed=0, model=script)
    result = run_scenario(streamed if model else loaded, agent, seed=0, model=script)

    assert result.failed_oracles == whole.failed_oracles
    calls = [h for h in result.world.history if h.f == "model_call"]
    assert calls
    assert all(h.value["stream"] is True for h in calls)
    assert _tools_called(result) == _tools_called(whole)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_same_seed_gives_the_same_trace(path: Path) -> None:
    loaded = load_scenario(path)

    def trace(seed: int) -> bytes:
        result = run_scenario(
            loaded, library.careful_agent, seed=seed, model=own_model(loaded)
        )
        return trace_bytes(result)

    first = trace(3)
    assert trace(3) == first
    assert trace(4) != first


@pytest.fixture(scope="module")
def isolation() -> Iterator[ProcessIsolation]:
    made = ProcessIsolation()
    yield made
    made.close()


@pytest.mark.parametrize(
    ("name", "agent", "model"),
    [
        ("llm_refund_ambiguous_timeout", library.careful_agent, None),
        ("llm_refund_ambiguous_timeout", llm_refunds.careful_agent, "naive"),
        ("llm_access_grant_timeout_streamed", library.careful_agent, None),
        ("llm_knowledge_injected_article", llm_knowledge.careful_agent, "obedient"),
    ],
    ids=["refunds", "refunds-naive", "access-streamed", "knowledge-obedient"],
)
def test_a_run_in_its_own_process_gives_the_same_bytes(
    name: str, agent: Any, model: str | None, isolation: ProcessIsolation
) -> None:
    loaded = scenario(name)
    flawed = {
        "naive": llm_refunds.naive_model,
        "obedient": llm_knowledge.obedient_model,
    }
    script = flawed[model] if model else own_model(loaded)

    here = run_scenario(loaded, agent, seed=5, model=script)
    there = run_scenario(loaded, agent, seed=5, model=script, isolation=isolation)

    assert (here.sandbox, there.sandbox) == ("none", "kernel")
    assert there.passed is here.passed is (model is None)
    assert trace_bytes(there) == trace_bytes(here)


#: Two of the README's commands (each starts a session, so not all of them): a
#: flawed model given with --aqe-model, and a flawed loop with its scenario's model.
README_COMMANDS = [
    (
        "llm_refund_ambiguous_timeout",
        "llm_refunds:careful_agent",
        "llm_refunds:naive_model",
        "idempotency",
    ),
    ("llm_refund_ambiguous_timeout", "llm_refunds:retrying_agent", None, "idempotency"),
]


@pytest.mark.parametrize(
    ("name", "agent", "model", "oracle"),
    README_COMMANDS,
    ids=[
        f"{a.split(':')[1]}-{m and m.split(':')[1]}" for _, a, m, _ in README_COMMANDS
    ],
)
def test_aqe_run_with_a_flawed_model_or_loop_fails_its_oracle(
    name: str, agent: str, model: str | None, oracle: str, tmp_path: Path
) -> None:
    """``aqe run … --agent … [--aqe-model …]``: --aqe-model wins over the
    scenario's own careful model."""
    command = [
        sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())",
        "run", f"scenarios/llm/{name}.yaml", "--agent", f"harness.agents.{agent}",
        *(["--aqe-model", f"harness.agents.{model}"] if model else []),
        "--report-dir", str(tmp_path), "-q",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    (result,) = summary["results"]
    assert result["scores"][oracle] is False
    assert f"[block] {oracle}: " in done.stdout
