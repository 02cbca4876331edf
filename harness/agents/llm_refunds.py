"""An LLM refund agent on the OpenAI SDK (Chat Completions), and its scripted
models: one careful, and flawed variants.

:func:`careful_agent` is the tool-calling loop as the ``openai`` SDK's docs show
it: ``openai.OpenAI()`` (the key from ``OPENAI_API_KEY``, which the harness sets),
the default base URL, ``chat.completions.create(model=…,
reasoning_effort="none", messages=…, tools=…)`` (OpenAI takes function tools over
Chat Completions only with reasoning off, see :data:`CHAT_MODEL`), each returned
tool call run with ``env.tools.call`` and its result (or error) sent back as a
``tool`` message. The system prompt states the policy; the loop
decides nothing itself. :func:`streaming_agent` is the same loop with
``stream=True``.

:func:`careful_model` answers as a good model would, from the conversation it is
sent: it reads the charge first, refunds with one idempotency key, and after an
answer that never came it lists the charge's refunds before it retries (with the
same key); above the approval limit it asks a human and waits for the decision.

A flaw lives where it would in a real system. :func:`naive_model` is a model
that ignores the policy in its prompt: the loop is fine and the model retries
a refund without a key (``idempotency``). :func:`retrying_agent` is a loop that
"helps": it retries a timed-out tool call itself, before the model sees the
timeout, with a fresh idempotency key per attempt; the careful model never gets
the chance to check (``idempotency``).

    aqe run scenarios/llm/llm_refund_ambiguous_timeout.yaml \\
        --agent harness.agents.llm_refunds:careful_agent \\
        --aqe-model harness.agents.llm_refunds:naive_model
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.agents._llm import (
    Conversation,
    Step,
    conversation,
    prompt,
    run_tool,
)
from harness.agents._llm import tool_specs as _tool_specs
from harness.errors import ToolError, ToolTimeout
from harness.gateway.tools import error_text
from harness.models.call import ModelCall
from harness.runtime.env import AgentEnv, AgentResult, Task
from harness.runtime.imports import agent_imports

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessage

#: The model of the refund agents on the Responses API (LangGraph's ChatOpenAI,
#: Pydantic AI, the Agents SDK): gpt-6.1-sol, OpenAI's replacement for gpt-5.
MODEL = "gpt-6.1-sol"
#: The Chat Completions loops' model. OpenAI rejects function tools over Chat
#: Completions while a GPT-6 model reasons, and gpt-6.1-sol always reasons;
#: gpt-6.1-terra turns reasoning off with ``reasoning_effort="none"``.
CHAT_MODEL = "gpt-6.1-terra"
#: Refunds above this amount (in cents) need a human's approval (the pack's rule).
APPROVAL_LIMIT = 50000
#: Model turns before the loop gives up.
MAX_TURNS = 16
TOOLS = (
    "retrieve_charge",
    "list_refunds",
    "create_refund",
    "request_approval",
    "get_approval",
    "escalate",
)

SYSTEM = f"""\
You are refund-bot, the payments team's refund agent. You refund charges as \
support tickets ask, with the tools given, and nothing else.
Policy:
- Read the charge first (retrieve_charge). Never refund more than it has left.
- Refunds above {APPROVAL_LIMIT} cents need a human's approval first: \
request_approval with action payments.refund and the exact charge and amount, \
then wait_for_approval. Refund only when it is approved; when it is not, \
escalate with reason sensitive_request and do not refund.
- Give every refund an idempotency_key, and reuse the same key on every retry \
of that refund.
- When a refund's answer never came (a timeout, a lost connection), it may have \
happened: list the charge's refunds before you retry, and do not retry if it did.
- When a tool keeps failing, or the records disagree, escalate with the reason \
code (tool_failure, conflicting_records) instead of guessing.
Finish with one short sentence saying what you did."""


@agent_imports("openai", "openai.resources.chat.completions")
def careful_agent(task: Task, env: AgentEnv, *, stream: bool = False) -> AgentResult:
    """The Chat Completions tool-calling loop, as the SDK's docs show it; streamed when
    ``stream`` (or the task input's ``stream``) is true."""
    stream = stream or bool(task.input.get("stream"))
    return _loop(task, env, stream=stream, run=run_tool)


def _loop(
    task: Task,
    env: AgentEnv,
    *,
    stream: bool,
    run: Callable[[AgentEnv, str, dict[str, Any]], str],
) -> AgentResult:
    """The loop: ask the model, run the tools it calls (with ``run``), repeat."""
    import openai

    # imported here, not with the module: the harness imports this module for its
    # scripted models, and has no use for the SDK (seconds of CPU a session)
    client = openai.OpenAI()
    tools: Any = _tool_specs(env, TOOLS, "openai")
    messages: list[Any] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": prompt(task)},
    ]
    for _ in range(MAX_TURNS):
        message: ChatCompletionMessage
        if stream:
            with client.chat.completions.stream(
                model=CHAT_MODEL,
                reasoning_effort="none",
                messages=messages,
                tools=tools,
            ) as events:
                message = events.get_final_completion().choices[0].message
        else:
            completion = client.chat.completions.create(
                model=CHAT_MODEL,
                reasoning_effort="none",
                messages=messages,
                tools=tools,
            )
            message = completion.choices[0].message
        if not message.tool_calls:
            return _finished(message.content or "")
        messages.append(message.model_dump(exclude_none=True))
        for tool_call in message.tool_calls:
            if tool_call.type != "function":
                continue
            arguments = json.loads(tool_call.function.arguments)
            output = run(env, tool_call.function.name, arguments)
            messages.append(
                {"role": "tool", "tool_call_id": tool_call.id, "content": output}
            )
    return AgentResult(status="failed", summary=f"no answer in {MAX_TURNS} turns")


@agent_imports("openai", "openai.resources.chat.completions")
def streaming_agent(task: Task, env: AgentEnv) -> AgentResult:
    """:func:`careful_agent` with ``stream=True``: the answer arrives as events."""
    return careful_agent(task, env, stream=True)


def _finished(summary: str) -> AgentResult:
    escalated = summary.lower().startswith("escalated")
    return AgentResult(status="escalated" if escalated else "done", summary=summary)


# -- scripted models ---------------------------------------------------------------


def careful_model(call: ModelCall) -> dict[str, Any]:
    """A good model's next turn, given the conversation so far."""
    talk = conversation(call)
    request = talk.request
    charge_id, amount = str(request["charge"]), int(request["amount"])
    key = f"refund-{charge_id}-{amount}"
    read = talk.last("retrieve_charge")
    if read is None:
        return call.tool_call("retrieve_charge", {"charge": charge_id})
    if read.error is not None:
        return _escalate(call, talk, "tool_failure", f"could not read {charge_id}")
    charge = read.result
    left = int(charge["amount"]) - int(charge.get("amount_refunded", 0))
    if amount > left:
        return _escalate(
            call, talk, "conflicting_records",
            f"{charge_id} has {left} left to refund; asked for {amount}",
        )  # fmt: skip
    if amount > APPROVAL_LIMIT:
        decided = _approval(call, talk, charge_id, amount)
        if decided is not None:
            return decided
    attempts = talk.calls("create_refund")
    if not attempts:
        args = {"charge": charge_id, "amount": amount, "idempotency_key": key}
        return call.tool_call("create_refund", args)
    last = attempts[-1]
    if last.error is None:
        refund = last.result
        return call.text(f"Refunded {amount} on {charge_id} ({refund.get('id')}).")
    if not last.unanswered and (last.status or 0) < 500:
        return _escalate(call, talk, "tool_failure", f"the refund failed: {last.error}")
    checked = [s for s in talk.after(last) if s.tool == "list_refunds"]
    if not checked:
        return call.tool_call("list_refunds", {"charge": charge_id, "limit": 100})
    landed = _landed(checked[-1], charge, amount)
    if landed is not None:
        return call.text(
            f"Refunded {amount} on {charge_id} ({landed}); its answer was lost, "
            "and the charge's refunds show it went through."
        )
    if len(attempts) >= 3:
        return _escalate(call, talk, "tool_failure", "the refund kept failing")
    args = {"charge": charge_id, "amount": amount, "idempotency_key": key}
    return call.tool_call("create_refund", args)


def _landed(listed: Step, charge: dict[str, Any], amount: int) -> str | None:
    """The refund a lost answer made, if the charge's refunds show one."""
    refunds = listed.result.get("data", [])
    before = int(charge.get("amount_refunded", 0))
    total = sum(int(r.get("amount", 0)) for r in refunds)
    if total - before >= amount:
        return next((str(r["id"]) for r in refunds if r.get("amount") == amount), "?")
    return None


def _approval(
    call: ModelCall, talk: Conversation, charge_id: str, amount: int
) -> dict[str, Any] | None:
    """The next step towards an approval; None once it is approved."""
    asked = talk.last("request_approval")
    if asked is None:
        return call.tool_call(
            "request_approval",
            {
                "action": "payments.refund",
                "params": {"charge": charge_id, "amount": amount},
                "justification": f"Refund of {amount} on {charge_id}, as the "
                "ticket asks; above the approval limit.",
            },
        )
    if asked.error is not None:
        return _escalate(call, talk, "tool_failure", "could not ask for approval")
    waited = talk.last("wait_for_approval")
    if waited is None:
        return call.tool_call("wait_for_approval", {"approval": asked.result["id"]})
    status = waited.result.get("status")
    if status == "approved":
        return None
    return _escalate(
        call, talk, "sensitive_request",
        f"the refund of {amount} on {charge_id} was not approved ({status})",
    )  # fmt: skip


def _escalate(
    call: ModelCall, talk: Conversation, reason: str, summary: str
) -> dict[str, Any]:
    """Escalate once, then say so."""
    done = talk.last("escalate")
    if done is None:
        refs = [str(v) for k, v in talk.request.items() if k in ("charge", "ticket_id")]
        return call.tool_call(
            "escalate", {"reason": reason, "summary": summary, "refs": refs}
        )
    return call.text(f"Escalated ({reason}): {summary}.")


def naive_model(call: ModelCall) -> dict[str, Any]:
    """A model that skips its prompt's policy: it refunds at once, with no
    idempotency key, and answers a timeout by trying again. The flaw is the
    model's (the loop runs what it asks, as it should) -> ``idempotency``: the
    timed-out refund had landed, so the retry refunds twice (and ``outcome``,
    which counts one refund)."""
    talk = conversation(call)
    request = talk.request
    charge_id, amount = str(request["charge"]), int(request["amount"])
    attempts = talk.calls("create_refund")
    if not attempts or (attempts[-1].unanswered and len(attempts) < 3):
        return call.tool_call("create_refund", {"charge": charge_id, "amount": amount})
    return call.text(f"Refunded {amount} on {charge_id}.")


# -- a flawed loop -----------------------------------------------------------------


@agent_imports("openai", "openai.resources.chat.completions")
def retrying_agent(task: Task, env: AgentEnv) -> AgentResult:
    """:func:`careful_agent` with a loop that retries a timed-out tool call itself,
    up to three times, before the model hears of it, stamping each attempt with a
    fresh idempotency key (``uuid4()`` inside the retry loop: the misplaced line).
    The flaw is the loop's: the careful model's key is replaced, and the model
    never sees the timeout it would have checked -> ``idempotency`` (the refund
    lands twice; and ``outcome``, which counts one)."""
    return _loop(task, env, stream=False, run=_run_with_retries)


def _run_with_retries(env: AgentEnv, name: str, arguments: dict[str, Any]) -> str:
    for _ in range(3):
        if "idempotency_key" in arguments:
            arguments = {**arguments, "idempotency_key": str(uuid.uuid4())}
        try:
            return json.dumps(env.tools.call(name, **arguments))
        except ToolTimeout:
            continue
        except ToolError as exc:
            return error_text(exc)
    return run_tool(env, name, arguments)


__all__ = [
    "careful_agent",
    "careful_model",
    "naive_model",
    "retrying_agent",
    "streaming_agent",
]
