"""Anthropic's wire format: Messages bodies, their stream (the
``message_start`` … ``message_stop`` server-sent events) and error bodies.

Shapes follow the API reference and what the official ``anthropic`` SDK parses
(``Message`` and its ``MessageStream`` accumulator); the tests read every body
and stream back through the SDK itself.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from harness.models import sse
from harness.models.tokens import estimate, prompt_tokens


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(
    ident: str, name: str, arguments: Mapping[str, Any]
) -> dict[str, Any]:
    return {"type": "tool_use", "id": ident, "name": name, "input": dict(arguments)}


def message(
    *, ident: str, model: str, blocks: list[dict[str, Any]], stop_reason: str
) -> dict[str, Any]:
    """A ``message`` body (``usage`` is filled in later)."""
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }


def usage(request: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, int]:
    """Estimated ``usage`` of a message (see :mod:`harness.models.tokens`)."""
    out = 0
    for block in answer.get("content", []):
        if block.get("type") == "text":
            out += estimate(block.get("text", ""))
        elif block.get("type") == "tool_use":
            out += estimate(block.get("name", "") + json.dumps(block.get("input", {})))
    return {"input_tokens": prompt_tokens(dict(request)), "output_tokens": out}


def stream_message(answer: Mapping[str, Any]) -> bytes:
    """``answer`` (a ``message``) as the events ``stream: true`` sends."""
    return sse.stream(_events(answer))


def _events(answer: Mapping[str, Any]) -> Iterator[bytes]:
    def emit(kind: str, **fields: Any) -> bytes:
        return sse.event({"type": kind, **fields}, name=kind)

    spent = dict(answer.get("usage") or {"input_tokens": 0, "output_tokens": 0})
    started = {
        **copy.deepcopy(dict(answer)),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**spent, "output_tokens": 1},
    }
    yield emit("message_start", message=started)
    for at, block in enumerate(answer.get("content", [])):
        kind = block.get("type")
        if kind == "text":
            yield emit(
                "content_block_start", index=at, content_block={**block, "text": ""}
            )
            for piece in sse.pieces(block.get("text", "")):
                yield emit(
                    "content_block_delta", index=at,
                    delta={"type": "text_delta", "text": piece},
                )  # fmt: skip
        elif kind == "tool_use":
            yield emit(
                "content_block_start", index=at, content_block={**block, "input": {}}
            )
            for piece in sse.pieces(json.dumps(block.get("input", {}))):
                yield emit(
                    "content_block_delta", index=at,
                    delta={"type": "input_json_delta", "partial_json": piece},
                )  # fmt: skip
        else:
            yield emit("content_block_start", index=at, content_block=block)
        yield emit("content_block_stop", index=at)
    yield emit(
        "message_delta",
        delta={
            "stop_reason": answer.get("stop_reason"),
            "stop_sequence": answer.get("stop_sequence"),
        },
        usage={"output_tokens": spent.get("output_tokens", 0)},
    )
    yield emit("message_stop")


def error_body(message: str, *, kind: str) -> dict[str, Any]:
    """An error body as Anthropic sends it (``kind``: e.g. ``rate_limit_error``,
    ``overloaded_error``, ``invalid_request_error``)."""
    return {"type": "error", "error": {"type": kind, "message": message}}
