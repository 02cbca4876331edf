"""The OpenAI Agents SDK example: an ``Agent`` run with ``Runner.run_sync``, its
tools ``env.tools`` as function tools. The careful model passes, the naive one
fails idempotency, over five seeds; a tool's error reaches the model as text;
the SDK's tracing stays on and exports once, at the end, to the simulated
OpenAI, with no thread left behind; a run is the same bytes on the same seed,
here or in its own process."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

pytest.importorskip(
    "agents",
    reason="the openai-agents extra is not installed (aqe-harness[openai-agents])",
)

from agents import Agent, FunctionTool, Runner

from harness import RunResult, load_scenario, run_scenario
from harness.adapters import openai_agents as adapter
from harness.agents import library, llm_refunds, openai_agents_refunds
from harness.errors import HarnessError
from harness.isolation import ProcessIsolation
from harness.reporting.trace import trace_bytes
from harness.runtime.env import AgentEnv, Task
from harness.scenario.model import Scenario
from tests.conftest import ROOT

PATH = ROOT / "scenarios" / "llm" / "openai_agents_refund_ambiguous_timeout.yaml"


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("adapters.test_openai_agents")


@cache
def scenario() -> Scenario:
    return load_scenario(PATH)


def failed(result: RunResult) -> set[str]:
    return {s.oracle for s in result.scores if not s.passed}


def calls(result: RunResult, name: str) -> list[Any]:
    return [h for h in result.world.history if h.f == name and h.type == "invoke"]


def test_the_scenario_dispatches_to_the_agents_sdk_agent_with_the_careful_model() -> (
    None
):
    loaded = scenario()
    assert loaded.name == PATH.stem
    assert loaded.task.input["workflow"] == "openai_agents_refunds"
    assert loaded.model is not None
    assert loaded.model.script == "harness.agents.llm_refunds:careful_model"
    assert {"llm", "openai-agents", "openai"} <= set(loaded.tags)


def test_the_careful_model_passes_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            library.careful_agent,
            seed=seed,
            model=llm_refunds.careful_model,
        )
        assert failed(result) == set(), f"seed {seed}"
        models = [h for h in result.world.history if h.f == "model_call"]
        assert [c.value["endpoint"] for c in models] == ["responses"] * 4
        assert result.agent_result is not None
        assert result.agent_result.status == "done"
        assert result.agent_result.summary.startswith("Refunded 1200 on ch_")
        assert result.warnings == ()
        assert result.tool_calls == 3  # retrieve, refund, list: no model, no traces


def test_the_naive_model_fails_idempotency_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            openai_agents_refunds.careful_agent,
            seed=seed,
            model=llm_refunds.naive_model,
        )
        assert failed(result) == {"idempotency", "outcome", "safe_failure"}, seed


def test_a_timeout_reaches_the_model_as_the_tools_error_text() -> None:
    sent: list[dict[str, Any]] = []

    def model(call: Any) -> dict[str, Any]:
        sent.append(dict(call.body))
        return llm_refunds.careful_model(call)

    run_scenario(scenario(), library.careful_agent, seed=0, model=model)

    outputs = [i for i in sent[2]["input"] if i.get("type") == "function_call_output"]
    assert json.loads(outputs[-1]["output"]) == {
        "error": {
            "message": "create_refund timed out; it may or may not have taken effect"
        }
    }


def test_the_sdks_traces_go_to_the_simulated_openai_once_when_the_agent_returns() -> (
    None
):
    result = run_scenario(
        scenario(), library.careful_agent, seed=0, model=llm_refunds.careful_model
    )

    last = list(result.world.history)[-2:]
    assert [(h.type, h.f) for h in last] == [
        ("invoke", "ingest_traces"),
        ("ok", "ingest_traces"),
    ]
    (ingest,) = calls(result, "ingest_traces")
    data = ingest.value["params"]["data"]
    assert data[0]["object"] == "trace"
    assert data[0]["workflow_name"] == "Agent workflow"
    kinds = [d["span_data"]["type"] for d in data[1:]]
    assert kinds.count("response") == 4
    assert kinds.count("function") == 3
    assert last[1].value["status"] == 200
    assert not [h for h in result.world.history if h.f == "route_not_found"]


def test_no_sdk_thread_is_left_and_the_processor_is_as_it_was() -> None:
    from agents.tracing import processors

    before = processors.BatchTraceProcessor._ensure_thread_started
    result = run_scenario(
        scenario(), library.careful_agent, seed=0, model=llm_refunds.careful_model
    )

    assert result.passed
    assert processors.BatchTraceProcessor._ensure_thread_started is before
    processor = processors.default_processor()
    assert processor._worker_thread is None
    assert processor._queue.empty()
    assert processors.default_exporter()._api_key is None  # the run's key is gone


def test_an_agent_leaving_its_own_thread_still_fails_agent() -> None:
    stop = threading.Event()

    def agent(task: Task, env: AgentEnv) -> Any:
        threading.Thread(target=stop.wait, name="my-poller", daemon=True).start()
        return openai_agents_refunds.careful_agent(task, env)

    try:
        result = run_scenario(
            scenario(), agent, seed=0, model=llm_refunds.careful_model
        )
    finally:
        stop.set()

    assert failed(result) == {"agent"}
    assert "the agent left 1 thread running after it returned (my-poller)" in (
        result.score("agent").explanation
    )


def test_a_stopped_delivery_exports_nothing_and_leaves_nothing_queued() -> None:
    from agents.tracing import processors

    def agent(task: Task, env: AgentEnv) -> Any:
        Runner.run_sync(openai_agents_refunds.build_agent(env), "hello")
        raise SystemExit(3)

    result = run_scenario(scenario(), agent, seed=0, model=lambda call: call.text("hi"))

    assert "agent" in failed(result)
    assert calls(result, "ingest_traces") == []
    assert processors.default_processor()._queue.empty()


def test_the_same_seed_gives_the_same_trace_bytes() -> None:
    def trace(seed: int) -> bytes:
        result = run_scenario(
            scenario(), library.careful_agent, seed=seed, model=llm_refunds.naive_model
        )
        return trace_bytes(result)

    first = trace(3)
    assert trace(4) != first
    assert trace(3) == first


@pytest.fixture(scope="module")
def isolation() -> Iterator[ProcessIsolation]:
    made = ProcessIsolation()
    yield made
    made.close()


def test_a_run_in_its_own_process_gives_the_same_bytes(
    isolation: ProcessIsolation,
) -> None:
    """The first run imports the SDK in its process, the second finds it
    imported (the fork server warmed): the same bytes as here."""
    script = llm_refunds.careful_model
    here = run_scenario(scenario(), library.careful_agent, seed=5, model=script)
    first, second = (
        run_scenario(
            scenario(), library.careful_agent, seed=5, model=script, isolation=isolation
        )
        for _ in range(2)
    )

    assert (here.sandbox, first.sandbox) == ("none", "kernel")
    assert first.passed is second.passed is here.passed is True
    assert trace_bytes(first) == trace_bytes(here)
    assert trace_bytes(second) == trace_bytes(here)


def test_run_config_talks_chat_completions_to_the_run_model_when_asked() -> None:
    from agents import ModelSettings
    from openai.types.shared import Reasoning

    def agent(task: Task, env: AgentEnv) -> Any:
        # OpenAI takes tools over Chat Completions only from a model whose
        # reasoning is off: gpt-6.1-terra with effort "none" (gpt-6.1-sol is refused)
        chatty = openai_agents_refunds.build_agent(env).clone(
            model=llm_refunds.CHAT_MODEL,
            model_settings=ModelSettings(reasoning=Reasoning(effort="none")),
        )
        result = Runner.run_sync(
            chatty,
            task.instructions + "\n\nRequest: " + json.dumps(task.input),
            run_config=adapter.run_config(env, use_responses=False),
        )
        return {"status": "done", "summary": str(result.final_output)}

    result = run_scenario(scenario(), agent, seed=1, model=llm_refunds.careful_model)

    assert result.passed, result.scores
    models = [h for h in result.world.history if h.f == "model_call"]
    assert [c.value["endpoint"] for c in models] == ["chat.completions"] * 4


def tool_names(made: list[FunctionTool]) -> list[str]:
    return [t.name for t in made]


def test_the_adapter_wraps_the_named_tools_with_their_contracts() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        made = adapter.tools(env, ["create_refund", "retrieve_charge"])
        seen["names"] = tool_names(made)
        seen["schema"] = made[0].params_json_schema
        seen["strict"] = {t.strict_json_schema for t in made}
        seen["spec"] = next(
            s["function"]
            for s in env.tools.specs(format="openai")
            if s["function"]["name"] == "create_refund"
        )
        seen["all"] = len(adapter.tools(env)) == len(env.tools.names)
        seen["agent"] = isinstance(Agent(name="a", tools=list(made)), Agent)
        with pytest.raises(HarnessError) as raised:
            adapter.tools(env, ["create_refnd"])
        seen["error"] = str(raised.value).splitlines()[0]

    run_scenario(scenario(), agent, seed=0)

    assert seen["names"] == ["create_refund", "retrieve_charge"]
    assert seen["schema"] == seen["spec"]["parameters"]
    assert seen["strict"] == {False}
    assert seen["all"] is True
    assert seen["agent"] is True
    assert seen["error"] == (
        "harness.adapters.openai_agents.tools: no tool 'create_refnd' in env.tools"
    )


def test_arguments_that_are_not_a_json_object_are_the_tools_error_text() -> None:
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        import asyncio

        (tool,) = adapter.tools(env, ["retrieve_charge"])
        for arguments in ("{not json", "[1, 2]"):
            seen.append(asyncio.run(tool.on_invoke_tool(None, arguments)))  # type: ignore[arg-type]

    result = run_scenario(scenario(), agent, seed=0)

    assert [json.loads(s) for s in seen] == [
        {
            "error": {
                "message": "retrieve_charge was not called: its arguments are not a JSON object",
                "status": 400,
            }
        }
    ] * 2
    assert calls(result, "retrieve_charge") == []


def test_the_adapter_says_which_extra_to_install_when_the_sdk_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "agents", None)
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        for make in (adapter.tools, adapter.model_provider, adapter.run_config):
            with pytest.raises(HarnessError) as raised:
                make(env)
            seen.append(str(raised.value))

    run_scenario(scenario(), agent, seed=0)

    assert len(seen) == 3
    for message in seen:
        first, fix = message.splitlines()
        assert first.startswith(
            "harness.adapters.openai_agents needs openai-agents, which is not installed ("
        )
        assert fix == "    fix: pip install 'aqe-harness[openai-agents]'"
