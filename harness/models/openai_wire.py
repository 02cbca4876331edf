"""OpenAI's wire format: Chat Completions and Responses bodies, their streams
(server-sent events, as ``stream=true`` asks) and error bodies.

Shapes follow the API reference and what the official ``openai`` SDK parses
(``ChatCompletion``, ``ChatCompletionChunk``, ``Response`` and the
``response.*`` stream events); the tests read every body and stream back
through the SDK itself.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from harness.models import sse
from harness.models.tokens import estimate, prompt_tokens

# -- Chat Completions ------------------------------------------------------------


def tool_call(ident: str, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(dict(arguments))},
    }


def chat_completion(
    *,
    ident: str,
    model: str,
    content: str | None,
    tool_calls: list[dict[str, Any]] | None = None,
    created: int = 0,
) -> dict[str, Any]:
    """A ``chat.completion`` body with one choice (``usage`` is filled in later)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
    }


def chat_usage(request: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, int]:
    """Estimated ``usage`` of a chat completion (see :mod:`harness.models.tokens`)."""
    out = 0
    for choice in answer.get("choices", []):
        message = choice.get("message") or {}
        out += estimate(message.get("content") or "")
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            out += estimate(function.get("name", "") + function.get("arguments", ""))
    given = prompt_tokens(dict(request))
    return {
        "prompt_tokens": given,
        "completion_tokens": out,
        "total_tokens": given + out,
    }


def stream_chat(request: Mapping[str, Any], answer: Mapping[str, Any]) -> bytes:
    """``answer`` (a ``chat.completion``) as the chunks ``stream=true`` sends."""
    options = request.get("stream_options") or {}
    with_usage = bool(options.get("include_usage"))
    head = {
        "id": answer["id"],
        "object": "chat.completion.chunk",
        "created": answer.get("created", 0),
        "model": answer.get("model", ""),
        "system_fingerprint": answer.get("system_fingerprint"),
    }

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            **head,
            "choices": [
                {
                    "index": index,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
        }
        if with_usage:
            body["usage"] = None
        return sse.event(body)

    events: list[bytes] = []
    for choice in answer.get("choices", []):
        index, message = choice.get("index", 0), choice.get("message") or {}
        refusal = message.get("refusal")
        if refusal is None:
            start: dict[str, Any] = {
                "role": "assistant",
                "content": "",
                "refusal": None,
            }
        else:
            start = {"role": "assistant", "content": None, "refusal": ""}
        events.append(chunk(index, start))
        for piece in sse.pieces(message.get("content") or ""):
            events.append(chunk(index, {"content": piece}))
        for piece in sse.pieces(refusal or ""):
            events.append(chunk(index, {"refusal": piece}))
        for n, call in enumerate(message.get("tool_calls") or []):
            function = call.get("function", {})
            start = {"name": function.get("name", ""), "arguments": ""}
            events.append(
                chunk(index, {"tool_calls": [
                    {"index": n, "id": call.get("id"), "type": "function",
                     "function": start}
                ]})
            )  # fmt: skip
            for piece in sse.pieces(function.get("arguments", "")):
                events.append(
                    chunk(index, {"tool_calls": [
                        {"index": n, "function": {"arguments": piece}}
                    ]})
                )  # fmt: skip
        events.append(chunk(index, {}, choice.get("finish_reason") or "stop"))
    if with_usage:
        events.append(sse.event({**head, "choices": [], "usage": answer.get("usage")}))
    events.append(sse.event("[DONE]"))
    return sse.stream(events)


# -- Responses --------------------------------------------------------------------


def output_text(ident: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{ident}",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_call_item(
    ident: str, call_id: str, name: str, arguments: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{ident}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(dict(arguments)),
        "status": "completed",
    }


def response(
    *, ident: str, model: str, output: list[dict[str, Any]], created: int = 0
) -> dict[str, Any]:
    """A ``response`` body (``usage`` is filled in later)."""
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": created,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
    }


def response_usage(
    request: Mapping[str, Any], answer: Mapping[str, Any]
) -> dict[str, Any]:
    out = 0
    for item in answer.get("output", []):
        if item.get("type") == "message":
            out += sum(estimate(c.get("text", "")) for c in item.get("content", []))
        elif item.get("type") == "function_call":
            out += estimate(item.get("name", "") + item.get("arguments", ""))
    given = prompt_tokens(dict(request))
    return {
        "input_tokens": given,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": given + out,
    }


def stream_response(answer: Mapping[str, Any]) -> bytes:
    """``answer`` (a ``response``) as the ``response.*`` events of a stream."""
    return sse.stream(_response_events(answer))


def _response_events(answer: Mapping[str, Any]) -> Iterator[bytes]:
    number = iter(range(1 << 30))

    def emit(kind: str, **fields: Any) -> bytes:
        return sse.event(
            {"type": kind, "sequence_number": next(number), **fields}, name=kind
        )

    started = {**copy.deepcopy(dict(answer)), "status": "in_progress", "output": []}
    started.pop("usage", None)
    yield emit("response.created", response=started)
    yield emit("response.in_progress", response=started)
    for at, item in enumerate(answer.get("output", [])):
        if item.get("type") == "message":
            yield from _message_events(emit, at, item)
        elif item.get("type") == "function_call":
            yield emit(
                "response.output_item.added", output_index=at,
                item={**item, "arguments": "", "status": "in_progress"},
            )  # fmt: skip
            for piece in sse.pieces(item.get("arguments", "")):
                yield emit(
                    "response.function_call_arguments.delta",
                    item_id=item["id"], output_index=at, delta=piece,
                )  # fmt: skip
            yield emit(
                "response.function_call_arguments.done",
                item_id=item["id"], output_index=at,
                arguments=item.get("arguments", ""),
            )  # fmt: skip
            yield emit("response.output_item.done", output_index=at, item=item)
        else:
            yield emit("response.output_item.added", output_index=at, item=item)
            yield emit("response.output_item.done", output_index=at, item=item)
    # an answer cut short (max_output_tokens) ends with response.incomplete
    last = "response.incomplete" if answer.get("status") == "incomplete" else None
    yield emit(last or "response.completed", response=dict(answer))


def _message_events(emit: Any, at: int, item: Mapping[str, Any]) -> Iterator[bytes]:
    ident = item["id"]
    yield emit(
        "response.output_item.added", output_index=at,
        item={**item, "content": [], "status": "in_progress"},
    )  # fmt: skip
    for part_at, part in enumerate(item.get("content", [])):
        text = part.get("text", "")
        where = {"item_id": ident, "output_index": at, "content_index": part_at}
        if part.get("type") == "refusal":
            yield from _refusal_events(emit, where, part)
            continue
        yield emit("response.content_part.added", **where, part={**part, "text": ""})
        for piece in sse.pieces(text):
            yield emit("response.output_text.delta", **where, delta=piece, logprobs=[])
        yield emit("response.output_text.done", **where, text=text, logprobs=[])
        yield emit("response.content_part.done", **where, part=part)
    yield emit("response.output_item.done", output_index=at, item=item)


def _refusal_events(
    emit: Any, where: Mapping[str, Any], part: Mapping[str, Any]
) -> Iterator[bytes]:
    refusal = part.get("refusal", "")
    yield emit("response.content_part.added", **where, part={**part, "refusal": ""})
    for piece in sse.pieces(refusal):
        yield emit("response.refusal.delta", **where, delta=piece)
    yield emit("response.refusal.done", **where, refusal=refusal)
    yield emit("response.content_part.done", **where, part=part)


# -- errors -----------------------------------------------------------------------


#: The models whose Chat Completions refuse function tools while they reason
#: (OpenAI's GPT-5.4, GPT-5.6 and GPT-6 families; Pydantic AI 2.78's profiles
#: record it as verified live, 2026-11). GPT-5.4 reasons only when asked; the
#: others reason unless ``reasoning_effort`` is ``"none"``.
TOOLS_NEED_REASONING_OFF = ("gpt-5.4", "gpt-5.6", "gpt-6")
#: ... except GPT-5.4 Pro, which Chat Completions does not serve at all.
_NOT_ON_CHAT = ("gpt-5.4-pro",)


def chat_tools_refused(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 400 body OpenAI answers a Chat Completions request with when it sends
    tools to a model that refuses them while reasoning (see
    :data:`TOOLS_NEED_REASONING_OFF`), else None. The fix the message names is
    the one OpenAI's error points at: the Responses API, or reasoning off."""
    model = str(request.get("model") or "")
    if not request.get("tools") or not model.startswith(TOOLS_NEED_REASONING_OFF):
        return None
    if model.startswith(_NOT_ON_CHAT):
        return None
    effort = request.get("reasoning_effort")
    asked = model.startswith("gpt-5.4")  # reasons only when asked to
    reasoning = effort not in (None, "none") if asked else effort != "none"
    if not reasoning:
        return None
    return error_body(
        f"Function tools are not supported with reasoning on {model!r} in"
        " /v1/chat/completions. Use /v1/responses, or set reasoning_effort to"
        " 'none' if the model supports it.",
        kind="invalid_request_error",
        code="unsupported_parameter",
        param="tools",
    )


def error_body(
    message: str, *, kind: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An error body as OpenAI sends it (``kind``: its ``type``, e.g.
    ``rate_limit_exceeded``'s ``requests``, ``invalid_request_error``)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
