"""SDKs on httpx2 go through its door: the ``openai`` SDK (3.x) pointed at a
model server outside the simulation is blocked and recorded, never sent; at its
real host, in a run with no model, it is told the run has none."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.isolation import ProcessIsolation
from tests.conftest import small_scenario

OPENAI = "https://llm.example.com/v1"
MESSAGES: list[Any] = [{"role": "user", "content": "Refund the charge."}]


async def _async_completion(api_key: str) -> None:
    async with openai.AsyncOpenAI(api_key=api_key, base_url=OPENAI) as client:
        await client.chat.completions.create(model="gpt-5", messages=MESSAGES)


def openai_agent(task: Task, env: AgentEnv) -> AgentResult:
    """One chat completion with ``openai.OpenAI``, or with ``openai.AsyncOpenAI``
    when ``task.input["client"]`` says ``async`` (one agent: one process to start
    for the isolated runs)."""
    try:
        if task.input["client"] == "async":
            asyncio.run(_async_completion(env.identity.api_key))
        else:
            with openai.OpenAI(api_key=env.identity.api_key, base_url=OPENAI) as client:
                client.chat.completions.create(model="gpt-5", messages=MESSAGES)
    except openai.APIConnectionError as exc:
        return AgentResult(
            output={"error": type(exc).__name__, "cause": repr(exc.__cause__)}
        )
    return AgentResult(output={"error": None})


@pytest.mark.parametrize("isolated", [False, True], ids=["in_process", "isolated"])
@pytest.mark.parametrize("client", ["sync", "async"])
def test_the_openai_sdk_at_a_model_server_outside_is_blocked_and_recorded(
    client: str, isolated: bool, isolation: ProcessIsolation
) -> None:
    scenario = small_scenario(
        task={"instructions": "Ask a model", "input": {"client": client}}
    )
    result = run_scenario(
        scenario, openai_agent, seed=1, isolation=isolation if isolated else None
    )

    assert (result.sandbox != "none") is isolated
    assert result.agent_result is not None
    assert result.agent_result.output["error"] == "APIConnectionError"
    assert result.agent_result.output["cause"].startswith(
        "ConnectError('aqe: blocked outbound request to llm.example.com: "
    )
    assert result.failed_oracles == ("security",)
    blocked = [
        (h.value["method"], h.value["url"])
        for h in result.world.history
        if h.f == "blocked_request"
    ]
    # the SDK's own retries (two by default), each blocked and recorded
    assert blocked == [("POST", f"{OPENAI}/chat/completions")] * 3
    evidence = result.score("security").evidence[0].text
    assert "blocked POST https://llm.example.com/v1/chat/completions (via http)" in (
        evidence
    )


def no_model_agent(task: Task, env: AgentEnv) -> AgentResult:
    try:
        openai.OpenAI().chat.completions.create(model="gpt-5", messages=MESSAGES)
    except openai.InternalServerError as exc:
        return AgentResult(output={"error": exc.message})
    return AgentResult(output={"error": None})


def test_the_openai_sdk_in_a_run_with_no_model_is_told_so_once() -> None:
    result = run_scenario(small_scenario(), no_model_agent, seed=1)

    said = (
        "model: the agent called api.openai.com (chat.completions), and this run"
        " has no model\n    fix: give it one: --aqe-model MODULE:CALLABLE, the"
        " scenario's model: {script: …} or {turns: …}, or a cassette"
        " (--aqe-model-mode record)"
    )
    assert result.agent_result is not None
    assert said in result.agent_result.output["error"]
    assert result.failed_oracles[0] == "model"
    assert result.score("model").explanation == said
    missing = [h for h in result.world.history if h.f == "model_missing"]
    assert len(missing) == 1  # x-should-retry: false, so the SDK asks once
