"""The LangGraph example: a ReAct graph on ChatOpenAI with ``env.tools`` as
LangChain tools. The careful model passes, the naive one fails idempotency, over
five seeds; a tool's error reaches the model as text; the tools run in
LangGraph's executor, inline in the agent's thread; a run is the same bytes on
the same seed, here or in its own process."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

pytest.importorskip(
    "langgraph", reason="the langgraph extra is not installed (aqe-harness[langgraph])"
)
pytest.importorskip("langchain_openai", reason="the langgraph extra is not installed")

from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import BaseTool

from harness import RunResult, load_scenario, run_scenario
from harness.adapters import langchain as adapter
from harness.agents import langgraph_refunds, library, llm_refunds
from harness.agents._llm import conversation
from harness.errors import HarnessError
from harness.isolation import ProcessIsolation
from harness.reporting.trace import trace_bytes
from harness.runtime.env import AgentEnv, Task
from harness.scenario.model import Scenario
from tests.conftest import ROOT

PATH = ROOT / "scenarios" / "llm" / "langgraph_refund_ambiguous_timeout.yaml"


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("adapters.test_langgraph")


@cache
def scenario() -> Scenario:
    return load_scenario(PATH)


def failed(result: RunResult) -> set[str]:
    return {s.oracle for s in result.scores if not s.passed}


def test_the_scenario_dispatches_to_the_langgraph_agent_with_the_careful_model() -> (
    None
):
    loaded = scenario()
    assert loaded.name == PATH.stem
    assert loaded.task.input["workflow"] == "langgraph_refunds"
    assert loaded.model is not None
    assert loaded.model.script == "harness.agents.llm_refunds:careful_model"
    assert {"llm", "langgraph", "openai"} <= set(loaded.tags)


def test_the_careful_model_passes_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            library.careful_agent,
            seed=seed,
            model=llm_refunds.careful_model,
        )
        assert failed(result) == set(), f"seed {seed}"
        calls = [h for h in result.world.history if h.f == "model_call"]
        # langchain-openai sends a gpt-6 model with tools over the Responses API
        assert [c.value["endpoint"] for c in calls] == ["responses"] * 4
        assert result.agent_result is not None
        assert result.agent_result.status == "done"
        assert result.agent_result.summary.startswith("Refunded 1200 on ch_")
        assert result.warnings == ()


def test_the_naive_model_fails_idempotency_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            langgraph_refunds.careful_agent,
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


def test_the_tools_run_in_langgraphs_executor_inline_in_the_agents_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submitted: list[str] = []
    submit = ContextThreadPoolExecutor.submit

    def spy(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        submitted.append(threading.current_thread().name)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ContextThreadPoolExecutor, "submit", spy)
    ran: list[tuple[str, bool]] = []
    caller = adapter._caller

    def watched(env: AgentEnv, name: str) -> Any:
        call = caller(env, name)

        def run(**args: Any) -> str:
            ran.append((name, threading.current_thread() is agent_thread[0]))
            return call(**args)

        return run

    monkeypatch.setattr(adapter, "_caller", watched)
    agent_thread: list[threading.Thread] = []

    def agent(task: Task, env: AgentEnv) -> Any:
        agent_thread.append(threading.current_thread())
        return langgraph_refunds.careful_agent(task, env)

    result = run_scenario(scenario(), agent, seed=0, model=llm_refunds.careful_model)

    assert result.passed
    assert ran == [
        ("retrieve_charge", True),
        ("create_refund", True),
        ("list_refunds", True),
    ]
    assert len(submitted) >= 3


def test_the_same_seed_gives_the_same_trace_bytes() -> None:
    def trace(seed: int) -> bytes:
        result = run_scenario(
            scenario(), library.careful_agent, seed=seed, model=llm_refunds.naive_model
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


def test_a_run_in_its_own_process_gives_the_same_bytes(
    isolation: ProcessIsolation,
) -> None:
    script = llm_refunds.careful_model
    here = run_scenario(scenario(), library.careful_agent, seed=5, model=script)
    there = run_scenario(
        scenario(), library.careful_agent, seed=5, model=script, isolation=isolation
    )

    assert (here.sandbox, there.sandbox) == ("none", "kernel")
    assert there.passed is here.passed is True
    assert trace_bytes(there) == trace_bytes(here)


def tool_names(made: list[BaseTool]) -> list[str]:
    return [t.name for t in made]


def test_the_adapter_wraps_the_named_tools_with_their_contracts() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        made = adapter.tools(env, ["create_refund", "retrieve_charge"])
        seen["names"] = tool_names(made)
        seen["schema"] = made[0].args_schema
        seen["spec"] = next(
            s["function"]
            for s in env.tools.specs(format="openai")
            if s["function"]["name"] == "create_refund"
        )
        seen["all"] = len(adapter.tools(env)) == len(env.tools.names)
        with pytest.raises(HarnessError) as raised:
            adapter.tools(env, ["create_refnd"])
        seen["error"] = str(raised.value).splitlines()[0]

    run_scenario(scenario(), agent, seed=0)

    assert seen["names"] == ["create_refund", "retrieve_charge"]
    assert seen["schema"] == seen["spec"]["parameters"]
    assert seen["all"] is True
    assert seen["error"] == (
        "harness.adapters.langchain.tools: no tool 'create_refnd' in env.tools"
    )


def test_the_adapter_says_which_extra_to_install_when_langchain_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core.tools", None)
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        with pytest.raises(HarnessError) as raised:
            adapter.tools(env)
        seen.append(str(raised.value))

    run_scenario(scenario(), agent, seed=0)

    first, fix = seen[0].splitlines()
    assert first.startswith(
        "harness.adapters.langchain needs langchain-core, which is not installed ("
    )
    assert fix == "    fix: pip install 'aqe-harness[langgraph]'"


def test_parallel_tool_calls_reach_the_gateway_in_the_models_order() -> None:
    """ToolNode maps one turn's calls over its executor; inline, they come in the
    model's order, and the gateway (not the tool's schema) rejects a bad one."""
    sent: list[Any] = []

    def model(call: Any) -> dict[str, Any]:
        sent.append(call.body)
        if call.index > 0:
            return call.text("Done.")
        charge = {"charge": conversation(call).request["charge"]}
        return call.tool_calls(
            [
                ("list_refunds", charge),
                ("retrieve_charge", charge),
                ("retrieve_charge", {**charge, "expand": "everything"}),
            ]
        )

    result = run_scenario(
        scenario(), langgraph_refunds.careful_agent, seed=0, model=model
    )

    invoked = [h.f for h in result.world.history if h.type == "invoke"]
    assert invoked[0] == "create_response"
    assert invoked[1:4] == ["list_refunds", "retrieve_charge", "retrieve_charge"]
    answers = [
        json.loads(i["output"])
        for i in sent[1]["input"]
        if i.get("type") == "function_call_output"
    ]
    assert answers[0]["object"] == "list"
    assert answers[1]["object"] == "charge"
    assert answers[2] == {
        "error": {
            "message": "retrieve_charge failed with 400: Received unknown parameter: expand",
            "status": 400,
        }
    }
