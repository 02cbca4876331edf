"""What a scripted model is given: one model call, as the provider received it.

The stable contract (README, "Scripted models")::

    def script(call: ModelCall) -> dict: ...

``call.provider`` is ``"openai"`` or ``"anthropic"``; ``call.endpoint`` is
``"chat.completions"``, ``"responses"`` or ``"messages"``; ``call.body`` is the
request body exactly as the provider received it (its wire format, ``stream``
included); ``call.seed`` is the run seed. The script returns the provider's
non-streaming response body; the harness streams it when the request asked for
a stream. ``call.tool_call(...)`` and ``call.text(...)`` build that body in the
right wire format for the call's endpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.models import anthropic_wire, openai_wire

Provider = Literal["openai", "anthropic"]
Endpoint = Literal["chat.completions", "responses", "messages"]

#: Which provider serves which endpoint.
ENDPOINTS: dict[str, Provider] = {
    "chat.completions": "openai",
    "responses": "openai",
    "messages": "anthropic",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCall:
    """One request to a model provider, as a scripted model sees it."""

    provider: Provider
    endpoint: Endpoint
    body: Mapping[str, Any]
    seed: int
    #: How many model calls the run made before this one.
    index: int = 0

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    def ident(self, kind: str) -> str:
        """A deterministic id for this call's answer (``kind``: a prefix)."""
        basis = json.dumps([self.seed, self.index, kind])
        return hashlib.sha256(basis.encode()).hexdigest()[:24]

    def text(self, content: str) -> dict[str, Any]:
        """An answer that is plain text, in this call's wire format."""
        if self.endpoint == "messages":
            return anthropic_wire.message(
                ident=self.ident("msg"), model=self.model, blocks=[
                    anthropic_wire.text_block(content)
                ], stop_reason="end_turn",
            )  # fmt: skip
        if self.endpoint == "responses":
            return openai_wire.response(
                ident=self.ident("resp"), model=self.model,
                output=[openai_wire.output_text(self.ident("msg"), content)],
            )  # fmt: skip
        return openai_wire.chat_completion(
            ident=self.ident("chatcmpl"), model=self.model, content=content
        )

    def tool_call(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """An answer that calls one tool, in this call's wire format."""
        return self.tool_calls([(name, arguments)])

    def tool_calls(
        self, calls: list[tuple[str, Mapping[str, Any]]], *, content: str = ""
    ) -> dict[str, Any]:
        """An answer that calls several tools (in parallel, as models do)."""
        if self.endpoint == "messages":
            blocks = [anthropic_wire.text_block(content)] if content else []
            blocks += [
                anthropic_wire.tool_use_block(
                    f"toolu_{self.ident(f'tool{i}')}", name, dict(arguments)
                )
                for i, (name, arguments) in enumerate(calls)
            ]
            return anthropic_wire.message(
                ident=self.ident("msg"), model=self.model, blocks=blocks,
                stop_reason="tool_use",
            )  # fmt: skip
        if self.endpoint == "responses":
            return openai_wire.response(
                ident=self.ident("resp"), model=self.model,
                output=[
                    openai_wire.function_call_item(
                        self.ident(f"fc{i}"), f"call_{self.ident(f'tool{i}')}",
                        name, dict(arguments),
                    )
                    for i, (name, arguments) in enumerate(calls)
                ],
            )  # fmt: skip
        return openai_wire.chat_completion(
            ident=self.ident("chatcmpl"), model=self.model, content=content or None,
            tool_calls=[
                openai_wire.tool_call(f"call_{self.ident(f'tool{i}')}", name, dict(a))
                for i, (name, a) in enumerate(calls)
            ],
        )  # fmt: skip
