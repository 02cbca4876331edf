"""What the LLM reference agents share, on both sides of the model call.

The agent's side: the user turn (the task's wording and its request as JSON),
the tools an agent offers (a chosen few of ``env.tools``, plus
``wait_for_approval``, a tool the agent runs itself) and running one tool call
into the text the model reads back (a tool error is text too, as the SDK docs
show: the model decides what to do about it).

The scripted models' side: :func:`conversation` reads a request body in any of
the three wire formats (Chat Completions, Responses, Messages) into the steps
taken so far, so a model decides from what it was sent, as a real one does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.agents._careful import await_decision
from harness.errors import ToolError
from harness.gateway.tools import SpecFormat, error_text
from harness.models.call import ModelCall
from harness.runtime.env import AgentEnv, Task

Json = dict[str, Any]

#: The line of the user turn that carries the request, as JSON.
REQUEST = "Request: "

_WAIT = {
    "name": "wait_for_approval",
    "description": (
        "Wait until a human decides an approval you requested (this can take "
        "hours), then return it with its status: approved, denied or expired."
    ),
    "parameters": {
        "type": "object",
        "properties": {"approval": {"type": "string", "description": "apr_…"}},
        "required": ["approval"],
        "additionalProperties": False,
    },
}


def prompt(task: Task) -> str:
    """The user turn: the task as worded, and its request as JSON."""
    request = {k: v for k, v in task.input.items() if k not in ("workflow", "stream")}
    return f"{task.instructions}\n\n{REQUEST}{json.dumps(request, sort_keys=True)}"


def tool_specs(env: AgentEnv, names: Iterable[str], format: SpecFormat) -> list[Json]:
    """The tools ``names`` of ``env.tools`` in ``format``, and ``wait_for_approval``."""
    wanted = set(names)
    specs = env.tools.specs(format=format)
    if format == "openai":
        chosen = [s for s in specs if s["function"]["name"] in wanted]
        return [*chosen, {"type": "function", "function": _WAIT}]
    chosen = [s for s in specs if s["name"] in wanted]
    if format == "anthropic":
        wait = {k: v for k, v in _WAIT.items() if k != "parameters"}
        return [*chosen, {**wait, "input_schema": _WAIT["parameters"]}]
    return [*chosen, {"type": "function", **_WAIT, "strict": True}]


def run_tool(env: AgentEnv, name: str, arguments: Mapping[str, Any]) -> str:
    """Run one tool call; its result, or its error, as the JSON the model reads."""
    try:
        if name == "wait_for_approval":
            return json.dumps(_wait_for_approval(env, str(arguments["approval"])))
        return json.dumps(env.tools.call(name, **arguments))
    except ToolError as exc:
        return error_text(exc)


def _wait_for_approval(env: AgentEnv, approval: str) -> Any:
    last: dict[str, Any] = {}

    def fetch() -> str:
        last.update(env.tools.call("get_approval", approval=approval))
        return str(last["status"])

    await_decision(fetch)
    return last


# -- the scripted models' side -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One tool call the model made, and what came back (None: not yet)."""

    tool: str
    arguments: Json
    output: str | None

    @property
    def result(self) -> Json:
        """The output as JSON ({} when it is not a JSON object)."""
        try:
            value = json.loads(self.output or "")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def error(self) -> str | None:
        """The error the tool answered, if it did."""
        error = self.result.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])
        return None

    @property
    def status(self) -> int | None:
        error = self.result.get("error")
        return error.get("status") if isinstance(error, dict) else None

    @property
    def unanswered(self) -> bool:
        """The call may or may not have taken effect (a timeout, a lost answer)."""
        return self.error is not None and self.status is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """A model call's request, read: the system prompt, the user's request and
    the tool calls so far, in order."""

    system: str
    user: str
    steps: tuple[Step, ...] = field(default=())

    @property
    def request(self) -> Json:
        """The request JSON the agent put in the user turn."""
        for line in self.user.splitlines():
            if line.startswith(REQUEST):
                value = json.loads(line.removeprefix(REQUEST))
                return value if isinstance(value, dict) else {}
        raise ValueError(f"no {REQUEST.strip()!r} line in the user turn")

    def calls(self, tool: str) -> list[Step]:
        return [s for s in self.steps if s.tool == tool]

    def last(self, tool: str) -> Step | None:
        found = self.calls(tool)
        return found[-1] if found else None

    def after(self, step: Step) -> tuple[Step, ...]:
        """The steps that came after ``step``."""
        return self.steps[[id(s) for s in self.steps].index(id(step)) + 1 :]


def conversation(call: ModelCall) -> Conversation:
    """``call``'s request body, in whichever wire format it came, read."""
    body = call.body
    if call.endpoint == "messages":
        return _messages(body)
    if call.endpoint == "responses":
        return _responses(body)
    return _chat(body)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        )
    return ""


def _chat(body: Mapping[str, Any]) -> Conversation:
    system, user, steps = "", "", []
    outputs: dict[str, str] = {}
    for message in body.get("messages", []):
        if message.get("role") == "tool":
            outputs[str(message.get("tool_call_id"))] = _text(message.get("content"))
    for message in body.get("messages", []):
        role = message.get("role")
        if role in ("system", "developer") and not system:
            system = _text(message.get("content"))
        elif role == "user" and not user:
            user = _text(message.get("content"))
        for tool_call in message.get("tool_calls") or []:
            function = tool_call.get("function", {})
            steps.append(
                Step(
                    tool=str(function.get("name")),
                    arguments=_arguments(function.get("arguments")),
                    output=outputs.get(str(tool_call.get("id"))),
                )
            )
    return Conversation(system=system, user=user, steps=tuple(steps))


def _messages(body: Mapping[str, Any]) -> Conversation:
    user, uses = "", []
    outputs: dict[str, str] = {}
    for message in body.get("messages", []):
        content = message.get("content")
        if message.get("role") == "user" and not user:
            user = _text(content)
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use":
                uses.append(block)
            elif block.get("type") == "tool_result":
                outputs[str(block.get("tool_use_id"))] = _text(block.get("content"))
    steps = tuple(
        Step(
            tool=str(use.get("name")),
            arguments=dict(use.get("input") or {}),
            output=outputs.get(str(use.get("id"))),
        )
        for use in uses
    )
    return Conversation(system=_text(body.get("system")), user=user, steps=steps)


def _responses(body: Mapping[str, Any]) -> Conversation:
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given
    user, calls = "", []
    outputs: dict[str, str] = {}
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "message" and item.get("role") == "user" and not user:
            user = _text(item.get("content"))
        elif kind == "function_call":
            calls.append(item)
        elif kind == "function_call_output":
            outputs[str(item.get("call_id"))] = _text(item.get("output"))
    steps = tuple(
        Step(
            tool=str(item.get("name")),
            arguments=_arguments(item.get("arguments")),
            output=outputs.get(str(item.get("call_id"))),
        )
        for item in calls
    )
    return Conversation(system=_text(body.get("instructions")), user=user, steps=steps)


def _arguments(raw: Any) -> Json:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return dict(value) if isinstance(value, dict) else {}


_ADDRESSED_TO_AI = re.compile(
    r"\b(?:note|notice|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?"
    r"(?:ai|assistants?|agents?|bots?|language\s+models?|llms?)\b"
    r"|\bignore\s+(?:all\s+|any\s+)?(?:previous|prior|above)\s+instructions\b",
    re.IGNORECASE,
)


def planted(text: str) -> list[str]:
    """The paragraphs of ``text`` that address an AI reader: instructions planted
    in data, which a careful model reads as data and does not follow."""
    return [p.strip() for p in text.split("\n\n") if _ADDRESSED_TO_AI.search(p)]


def without_planted(text: str) -> str:
    """``text`` without its :func:`planted` paragraphs."""
    found = planted(text)
    kept = [p.strip() for p in text.split("\n\n") if p.strip() not in found]
    return " ".join(p for p in kept if p)
