"""LLM agents on the official SDKs, unchanged, against scripted models served at
the providers' real hosts: a careful model's agent passes the ambiguous timeout,
a naive one's refunds twice; streamed or not; in-process and in its own process."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, agent_imports, run_scenario
from harness.errors import ToolError
from harness.isolation import ProcessIsolation
from harness.models import ModelCall
from tests.conftest import payments_scenario

openai = pytest.importorskip("openai")
# anthropic is imported by the agents that use it, not here: a fork server for
# openai_agent (tests/models/test_session.py's sessions) imports this module and
# would spend ~1 s on the anthropic SDK it never calls
if importlib.util.find_spec("anthropic") is None:
    pytest.skip("could not import 'anthropic'", allow_module_level=True)

SCENARIO = "refund_ambiguous_timeout"


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("models.test_providers")


def _prompt(task: Task) -> str:
    return f"{task.instructions}\nInput: {json.dumps(dict(task.input), sort_keys=True)}"


def _result(tool: str, args: dict[str, Any], env: AgentEnv) -> str:
    try:
        return json.dumps(env.tools.call(tool, **args))
    except ToolError as exc:
        return json.dumps({"error": str(exc)})


def openai_agent(task: Task, env: AgentEnv) -> AgentResult:
    """A tool-calling loop as the openai SDK's docs show it."""
    stream = bool(task.input.get("stream"))
    client = openai.OpenAI(api_key=env.identity.api_key)
    messages: list[Any] = [{"role": "user", "content": _prompt(task)}]
    tools = env.tools.specs(format="openai")
    for _ in range(8):
        if stream:
            with client.chat.completions.stream(
                model="gpt-5", messages=messages, tools=tools
            ) as events:
                message = events.get_final_completion().choices[0].message
        else:
            completion = client.chat.completions.create(
                model="gpt-5", messages=messages, tools=tools
            )
            message = completion.choices[0].message
        if not message.tool_calls:
            return AgentResult(status="done", summary=message.content or "")
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            output = _result(call.function.name, args, env)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": output}
            )
    return AgentResult(status="failed", summary="too many turns")


@agent_imports("anthropic")
def anthropic_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The same loop as the anthropic SDK's docs show it."""
    import anthropic

    stream = bool(task.input.get("stream"))
    client = anthropic.Anthropic(api_key=env.identity.api_key)
    messages: list[Any] = [{"role": "user", "content": _prompt(task)}]
    tools = env.tools.specs(format="anthropic")
    for _ in range(8):
        ask = {"model": "claude-sonnet-5-5", "max_tokens": 1024, "messages": messages}
        if stream:
            with client.messages.stream(**ask, tools=tools) as events:
                message = events.get_final_message()
        else:
            message = client.messages.create(**ask, tools=tools)
        uses = [b for b in message.content if b.type == "tool_use"]
        if not uses:
            text = "".join(b.text for b in message.content if b.type == "text")
            return AgentResult(status="done", summary=text)
        messages.append(
            {"role": "assistant", "content": [b.model_dump() for b in message.content]}
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": _result(use.name, dict(use.input), env),
                    }
                    for use in uses
                ],
            }
        )
    return AgentResult(status="failed", summary="too many turns")


def _asked(call: ModelCall) -> tuple[str, int, int, str]:
    """The charge and amount the task names, how many tool results came back,
    and the last message (the latest tool result, once there is one)."""
    messages = call.body["messages"]
    first = json.dumps(messages[0])
    charge = re.search(r"ch_[A-Za-z0-9]+", first)
    amount = re.search(r'\\"amount\\": (\d+)', first)
    assert charge is not None, first
    assert amount is not None, first
    text = json.dumps(messages)
    results = text.count('"role": "tool"') + text.count('"tool_result"')
    return charge.group(0), int(amount.group(1)), results, json.dumps(messages[-1])


def careful_model(call: ModelCall) -> dict[str, Any]:
    """Refunds with one idempotency key, and after a timeout retries with it."""
    charge, amount, results, last = _asked(call)
    if results == 0 or (results == 1 and "timed out" in last):
        key = f"refund-{charge}"
        args = {"charge": charge, "amount": amount, "idempotency_key": key}
        return call.tool_call("create_refund", args)
    return call.text(f"Refunded {amount} on {charge}.")


def naive_model(call: ModelCall) -> dict[str, Any]:
    """Refunds without a key, and after a timeout tries again."""
    charge, amount, results, last = _asked(call)
    if results == 0 or (results < 3 and "timed out" in last):
        return call.tool_call("create_refund", {"charge": charge, "amount": amount})
    return call.text(f"Refunded {amount} on {charge}.")


@pytest.fixture(scope="module")
def isolation() -> Any:
    made = ProcessIsolation()
    yield made
    made.close()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(
    "agent", [openai_agent, anthropic_agent], ids=["openai", "anthropic"]
)
@pytest.mark.parametrize("isolated", [False, True], ids=["in_process", "isolated"])
def test_a_careful_model_passes_and_a_naive_one_refunds_twice(
    agent: Any, stream: bool, isolated: bool, isolation: ProcessIsolation
) -> None:
    scenario = payments_scenario(SCENARIO)
    where = isolation if isolated else None

    def run(model: Any) -> Any:
        task = dataclasses.replace(
            scenario.task, input={**scenario.task.input, "stream": stream}
        )
        return run_scenario(
            dataclasses.replace(scenario, task=task),
            agent,
            seed=1,
            isolation=where,
            model=model,
        )

    careful, naive = run(careful_model), run(naive_model)

    assert careful.passed, careful.failed_oracles
    assert "idempotency" in naive.failed_oracles
    calls = [h for h in careful.world.history if h.f == "model_call"]
    # careful: refund, retry after the timeout, then the answer
    assert len(calls) == 3
    assert all(h.value["stream"] is stream for h in calls)
    assert all(h.value["tokens_in"] > 0 for h in calls)
    assert all(h.value["cost_usd"] > 0 for h in calls)
    assert all(h.value["latency_s"] == 0.5 for h in calls)
    # the whole answer, as the script gave it (streamed or not), with its usage
    assert all(h.value["response"]["usage"] for h in calls)
    (invoke,) = [
        h
        for h in careful.world.history
        if h.call == calls[0].call and h.type == "invoke"
    ]
    assert invoke.value["params"]["messages"]  # the request, on the call's invoke
    charge = naive.task.input["charge"]
    refunds = naive.world.service("payments").query("refunds", {"charge": charge})
    assert len(refunds) == 2  # the naive model's retry refunded twice


@agent_imports("anthropic")
def keyless_agent(task: Task, env: AgentEnv) -> AgentResult:
    """``OpenAI()`` and ``Anthropic()`` as their docs show them: the key from the
    environment."""
    import anthropic

    ask: list[Any] = [{"role": "user", "content": _prompt(task)}]
    chat = openai.OpenAI().chat.completions.create(model="gpt-5", messages=ask)
    message = anthropic.Anthropic().messages.create(
        model="claude-sonnet-5-5", max_tokens=64, messages=ask
    )
    text = message.content[0].text  # type: ignore[union-attr]
    return AgentResult(
        status="done", summary=f"{chat.choices[0].message.content} {text}"
    )


@pytest.mark.parametrize("isolated", [False, True], ids=["in_process", "isolated"])
def test_the_sdks_read_the_runs_key_from_the_environment_not_the_users(
    isolated: bool, isolation: ProcessIsolation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-users-real-key")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    result = run_scenario(
        payments_scenario("refund_ok"),
        keyless_agent,
        seed=1,
        isolation=isolation if isolated else None,
        model=lambda call: call.text("Hello."),
    )

    assert result.agent_result is not None
    assert result.agent_result.summary == "Hello. Hello."
    statuses = [h.value.get("status") for h in result.world.history if h.type == "ok"]
    assert statuses == [200, 200]  # both authenticated with the run's key
    assert os.environ["OPENAI_API_KEY"] == "sk-the-users-real-key"
    assert "ANTHROPIC_API_KEY" not in os.environ


def test_a_model_that_is_not_a_script_is_a_clear_error() -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError) as info:
        run_scenario(
            payments_scenario("refund_ok"), keyless_agent, seed=1, model="gpt-5"
        )  # type: ignore[arg-type]
    assert str(info.value) == (
        "model: expected a scripted model, script(call) -> dict; got str\n"
        "    fix: pass a function, e.g. model=lambda call: call.text('Done.')"
    )


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (lambda call: 1 / 0, "division by zero"),
        (
            lambda call: "Done.",
            "it returned str, not a response body (a dict in openai's wire format,"
            " e.g. call.text('Done.'))",
        ),
    ],
    ids=["raises", "returns_text"],
)
def test_a_failing_script_is_a_provider_error_and_a_recorded_failure(
    script: Any, says: str
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        try:
            openai.OpenAI(max_retries=0).chat.completions.create(
                model="gpt-5", messages=[{"role": "user", "content": "hi"}]
            )
        except openai.InternalServerError as exc:
            return AgentResult(status="failed", summary=str(exc.message))
        return AgentResult(status="done")

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1, model=script)

    message = f"the scripted model failed on model call 1: {says}"
    assert result.agent_result is not None
    assert message in result.agent_result.summary
    (failed,) = [h for h in result.world.history if h.f == "model_script_error"]
    assert (failed.process, failed.type) == ("model", "fail")
    assert failed.value["error"] == message
