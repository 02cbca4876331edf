"""The Pydantic AI example: ``Agent(model, system_prompt=…, tools=…)`` with
``env.tools`` as Pydantic AI tools and the run's model as ``OpenAIResponsesModel``.
The careful model passes, the naive one fails idempotency, over five seeds;
every model call is recorded on the gateway path; a tool's error reaches the
model as text; the tools run through anyio's worker threads, inline in the
agent's thread; a run is the same bytes on the same seed, here or in its own
process."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

pytest.importorskip(
    "pydantic_ai",
    reason="the pydantic-ai extra is not installed (aqe-harness[pydantic-ai])",
)
pytest.importorskip(
    "pydantic_ai.models.openai",
    reason="the pydantic-ai extra (with openai) is not installed",
)

import pydantic_ai._utils
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel

from harness import RunResult, load_scenario, run_scenario
from harness.adapters import pydantic_ai as adapter
from harness.agents import library, llm_refunds, pydantic_ai_refunds
from harness.agents._llm import conversation
from harness.errors import HarnessError
from harness.isolation import ProcessIsolation
from harness.reporting.trace import trace_bytes
from harness.runtime.env import AgentEnv, AgentResult, Task
from harness.scenario.model import Scenario
from tests.conftest import ROOT

PATH = ROOT / "scenarios" / "llm" / "pydantic_ai_refund_ambiguous_timeout.yaml"


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("adapters.test_pydantic_ai")


@cache
def scenario() -> Scenario:
    return load_scenario(PATH)


def failed(result: RunResult) -> set[str]:
    return {s.oracle for s in result.scores if not s.passed}


def model_calls(result: RunResult) -> list[dict[str, Any]]:
    return [dict(h.value) for h in result.world.history if h.f == "model_call"]


def test_the_scenario_dispatches_to_the_pydantic_ai_agent_with_the_careful_model() -> (
    None
):
    loaded = scenario()
    assert loaded.name == PATH.stem
    assert loaded.task.input["workflow"] == "pydantic_ai_refunds"
    assert loaded.model is not None
    assert loaded.model.script == "harness.agents.llm_refunds:careful_model"
    assert {"llm", "pydantic_ai", "openai"} <= set(loaded.tags)


def test_the_careful_model_passes_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            library.careful_agent,
            seed=seed,
            model=llm_refunds.careful_model,
        )
        assert failed(result) == set(), f"seed {seed}"
        assert result.agent_result is not None
        assert result.agent_result.status == "done"
        assert result.agent_result.summary.startswith("Refunded 1200 on ch_")
        assert result.warnings == ()


def test_every_model_call_is_recorded_on_the_gateway_with_tokens_and_cost() -> None:
    result = run_scenario(
        scenario(), library.careful_agent, seed=0, model=llm_refunds.careful_model
    )

    calls = model_calls(result)
    assert [(c["provider"], c["endpoint"], c["model"]) for c in calls] == [
        ("openai", "responses", "gpt-6.1-sol")
    ] * 4
    assert all(c["tokens_in"] > 0 and c["tokens_out"] > 0 for c in calls)
    assert all(c["cost_usd"] > 0 for c in calls)
    invoked = [h.f for h in result.world.history if h.type == "invoke"]
    assert invoked == [
        "create_response",
        "retrieve_charge",
        "create_response",
        "create_refund",
        "create_response",
        "list_refunds",
        "create_response",
    ]


def test_the_naive_model_fails_idempotency_on_five_seeds() -> None:
    for seed in range(5):
        result = run_scenario(
            scenario(),
            pydantic_ai_refunds.careful_agent,
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


def test_the_tools_run_through_anyios_workers_inline_in_the_agents_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[str] = []
    run_sync = pydantic_ai._utils.run_sync

    async def spy(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(threading.current_thread().name)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(pydantic_ai._utils, "run_sync", spy)
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

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        agent_thread.append(threading.current_thread())
        return pydantic_ai_refunds.careful_agent(task, env)

    result = run_scenario(scenario(), agent, seed=0, model=llm_refunds.careful_model)

    assert result.passed
    assert ran == [
        ("retrieve_charge", True),
        ("create_refund", True),
        ("list_refunds", True),
    ]
    assert len(handed) >= 3


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


def test_the_chat_completions_model_passes_too_with_reasoning_off() -> None:
    """OpenAI takes function tools over Chat Completions only with reasoning
    off: gpt-6.1-terra can turn it off (gpt-6.1-sol cannot)."""

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        from pydantic_ai import Agent

        from harness.agents._llm import prompt

        made = adapter.model(env, llm_refunds.CHAT_MODEL, api="chat")
        assert isinstance(made, OpenAIChatModel)
        bot = Agent(
            made,
            system_prompt=llm_refunds.SYSTEM,
            tools=adapter.tools(env, llm_refunds.TOOLS),
            model_settings={"openai_reasoning_effort": "none"},
        )
        return AgentResult(summary=bot.run_sync(prompt(task)).output)

    result = run_scenario(scenario(), agent, seed=0, model=llm_refunds.careful_model)

    assert failed(result) == set()
    assert result.warnings == ()
    calls = model_calls(result)
    assert {(c["endpoint"], c["model"]) for c in calls} == {
        ("chat.completions", "gpt-6.1-terra")
    }


def test_a_streamed_run_passes_and_each_model_call_is_a_stream() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        from harness.agents._llm import prompt

        bot = pydantic_ai_refunds.build_agent(env)
        with bot.run_stream_sync(prompt(task)) as streamed:
            return AgentResult(summary=streamed.get_output())

    result = run_scenario(scenario(), agent, seed=0, model=llm_refunds.careful_model)

    assert failed(result) == set()
    assert [c["stream"] for c in model_calls(result)] == [True] * 4
    assert result.warnings == ()


def test_the_model_is_openais_with_the_runs_key_at_the_simulated_host() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        made = adapter.model(env)
        seen["type"] = type(made)
        seen["name"] = made.model_name
        seen["base_url"] = made.base_url
        seen["key"] = made.client.api_key == env.identity.api_key

    run_scenario(scenario(), agent, seed=0)

    assert seen == {
        "type": OpenAIResponsesModel,
        "name": "gpt-6.1-sol",
        "base_url": "https://api.openai.com/v1/",
        "key": True,
    }


def test_the_adapter_wraps_the_named_tools_with_their_contracts() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        made = adapter.tools(env, ["create_refund", "retrieve_charge"])
        seen["names"] = [t.name for t in made]
        seen["schema"] = made[0].tool_def.parameters_json_schema
        seen["description"] = made[0].description
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
    assert seen["description"] == seen["spec"]["description"]
    assert seen["all"] is True
    assert seen["error"] == (
        "harness.adapters.pydantic_ai.tools: no tool 'create_refnd' in env.tools"
    )


@pytest.mark.parametrize(
    ("missing", "make"),
    [("pydantic_ai", "tools"), ("pydantic_ai.models.openai", "model")],
)
def test_the_adapter_says_which_extra_to_install_when_pydantic_ai_is_missing(
    monkeypatch: pytest.MonkeyPatch, missing: str, make: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        with pytest.raises(HarnessError) as raised:
            getattr(adapter, make)(env)
        seen.append(str(raised.value))

    run_scenario(scenario(), agent, seed=0)

    first, fix = seen[0].splitlines()
    assert first.startswith(
        "harness.adapters.pydantic_ai needs pydantic-ai (with openai), which"
        " is not installed ("
    )
    assert fix == "    fix: pip install 'aqe-harness[pydantic-ai]'"


def test_parallel_tool_calls_reach_the_gateway_in_the_models_order() -> None:
    """Pydantic AI runs one turn's calls as concurrent tasks; inline, they come in
    the model's order, and the gateway (not the tool's schema) rejects a bad one."""
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
        scenario(), pydantic_ai_refunds.careful_agent, seed=0, model=model
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


def test_a_model_that_never_stops_calling_tools_fails_after_max_turns() -> None:
    def model(call: Any) -> dict[str, Any]:
        return call.tool_call(
            "retrieve_charge", {"charge": conversation(call).request["charge"]}
        )

    result = run_scenario(
        scenario(), pydantic_ai_refunds.careful_agent, seed=0, model=model
    )

    assert result.agent_result == AgentResult(
        status="failed", summary=f"no answer in {llm_refunds.MAX_TURNS} turns"
    )
    assert len(model_calls(result)) == llm_refunds.MAX_TURNS
