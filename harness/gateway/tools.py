"""The function-call door: the same operations as tools an LLM can call.

``specs(format=...)`` renders each operation's JSON Schema contract as an OpenAI
(Chat Completions, or ``responses``: the Responses API's function tools),
Anthropic or MCP tool definition; ``call(name, **args)`` goes through the same
gateway path as HTTP. Operations that accept an idempotency key take it as the
``idempotency_key`` argument.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Literal

from fakes.base import FakeService, Operation, operations_by_name
from fakes.table import json_copy
from harness.errors import (
    HarnessError,
    ToolAmbiguousError,
    ToolConnectionError,
    ToolError,
    ToolMalformedResponse,
    ToolTimeout,
)
from harness.gateway.core import Gateway, ToolRequest, Transport

SpecFormat = Literal["openai", "responses", "anthropic", "mcp"]
_FORMATS = ("openai", "responses", "anthropic", "mcp")

_IDEMPOTENCY_KEY = {
    "type": "string",
    "description": (
        "Idempotency key: the same key with the same arguments replays the first "
        "result instead of acting twice. Reuse it on every retry of one action."
    ),
}


@cache
def _parameters(op: Operation) -> dict[str, Any]:
    schema = dict(op.request)
    if op.idempotent:
        schema["properties"] = {
            **schema["properties"],
            "idempotency_key": _IDEMPOTENCY_KEY,
        }
    return schema


def tool_spec(op: Operation, fmt: str) -> dict[str, Any]:
    """One operation as a tool definition in ``fmt``."""
    description = f"{op.summary} ({op.method} https://{op.service}.sim{op.path})"
    if op.write and op.reversible is False:
        description += " Irreversible."
    elif op.compensation:
        description += f" Undo with {op.compensation}."
    if fmt == "openai":
        return {
            "type": "function",
            "function": {
                "name": op.name,
                "description": description,
                "parameters": _parameters(op),
            },
        }
    if fmt == "responses":  # flat, and ``strict`` is required: the contracts are not
        return {  # in strict mode's subset (optional fields, open objects)
            "type": "function",
            "name": op.name,
            "description": description,
            "parameters": _parameters(op),
            "strict": False,
        }
    if fmt == "anthropic":
        return {
            "name": op.name,
            "description": description,
            "input_schema": _parameters(op),
        }
    if fmt == "mcp":
        return {
            "name": op.name,
            "description": description,
            "inputSchema": _parameters(op),
        }
    raise HarnessError(
        f"unknown tool spec format {fmt!r}\n    fix: use one of {', '.join(_FORMATS)}"
    )


class Tools:
    """``env.tools``: list, describe and call the simulated tools by name."""

    def __init__(
        self, gateway: Gateway, services: Iterable[FakeService], credential: str
    ) -> None:
        self._gateway = gateway
        self._credential = credential
        self._ops = operations_by_name(services)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._ops))

    def specs(self, format: SpecFormat = "openai") -> list[dict[str, Any]]:
        """Every tool as a definition for ``format``: openai (Chat Completions),
        responses (the Responses API), anthropic or mcp."""
        return [tool_spec(self._ops[name], format) for name in self.names]

    def call(self, name: str, /, **args: Any) -> Any:
        """Call tool ``name``; returns the result, raises ToolError/ToolTimeout."""
        op = self._ops.get(name)
        if op is None:
            close = difflib.get_close_matches(name, self._ops, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ToolError(
                f"unknown tool {name!r}; {hint}known tools: {', '.join(self.names)}",
                status=404,
                body={
                    "error": {"code": "unknown_tool", "message": f"no tool {name!r}"}
                },
            )
        key = args.pop("idempotency_key", None) if op.idempotent else None
        response = self._gateway.call(
            ToolRequest(op, args, "function", self._credential, key)
        )
        if response.transport is Transport.TIMEOUT:
            raise ToolTimeout(f"{name} timed out; it may or may not have taken effect")
        if response.transport is Transport.RESET:
            raise ToolConnectionError(f"{name}: connection reset by peer")
        if response.transport is Transport.MALFORMED:
            raw = (response.raw or b"").decode("utf-8", "replace")
            raise ToolMalformedResponse(
                f"{name} answered {response.status} with a body that is not valid"
                f" JSON ({len(raw)} bytes); it may or may not have taken effect",
                status=response.status,
                raw=raw,
            )
        if response.status >= 400:
            raise ToolError(
                _error_message(name, response.status, response.body),
                status=response.status,
                body=response.body,
                headers=response.headers,
            )
        body = response.body
        # A private copy, as a real API's response would be: the fakes answer with
        # live records, and an agent editing its result must not edit the world.
        return json_copy(body if type(body) is dict else dict(body))


def _error_message(name: str, status: int, body: Mapping[str, Any]) -> str:
    error = body.get("error")
    message = error.get("message") if isinstance(error, Mapping) else None
    return f"{name} failed with {status}: {message or body}"


def error_text(exc: ToolError) -> str:
    """A tool's error as a model reads it (an LLM agent's tool result): its
    message, and its HTTP status when one came back (none: the call may or may
    not have taken effect)."""
    error: dict[str, Any] = {"message": str(exc)}
    if not isinstance(exc, ToolAmbiguousError):
        error["status"] = exc.status
    return json.dumps({"error": error})
