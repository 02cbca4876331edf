"""What model-call faults do to a model's answer, in each provider's wire format.

A fault kind (:mod:`harness.faults.kinds`) hands over the request, the answer's
body and, for a streamed call, the bytes of its stream; these functions return
the damaged answer as the provider would have sent it: a refusal, tool-call
arguments that are not valid JSON, or a stream that ends part-way. Bodies name
their own endpoint (``chat.completion``, ``response``, ``message``), so nothing
here needs the provider that sent them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.models import sse
from harness.models.call import ENDPOINTS, Endpoint, ModelCall
from harness.models.wire import complete

#: The services whose calls are model calls.
MODEL_SERVICES: frozenset[str] = frozenset(ENDPOINTS.values())

#: How tool-call arguments are broken: ``cut`` where the model's output ended,
#: ``invalid`` whole but not JSON (a trailing comma).
Breakage = Literal["cut", "invalid"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """An answer as sent: its body, and its stream's bytes (``None``: not streamed)."""

    body: dict[str, Any]
    raw: bytes | None


def endpoint_of(body: Mapping[str, Any]) -> Endpoint | None:
    """The endpoint whose answer ``body`` is (``None``: not a model's answer)."""
    if body.get("object") == "chat.completion":
        return "chat.completions"
    if body.get("object") == "response":
        return "responses"
    if body.get("type") == "message":
        return "messages"
    return None


def _resent(
    request: Mapping[str, Any], body: dict[str, Any], raw: bytes | None
) -> Sent:
    """``body`` sent again as the request asked: its stream rendered anew."""
    endpoint = endpoint_of(body)
    if raw is None or endpoint is None:
        return Sent(body=body, raw=raw)
    call = ModelCall(
        provider=ENDPOINTS[endpoint], endpoint=endpoint, body=request, seed=0
    )
    return Sent(body=body, raw=complete(call, body)[1])


# -- a refusal --------------------------------------------------------------------


def refused(
    request: Mapping[str, Any],
    body: Mapping[str, Any],
    raw: bytes | None,
    *,
    refusal: str,
) -> Sent:
    """The answer as a refusal: OpenAI chat ``message.refusal`` (``content``
    null), a Responses ``refusal`` content part, Anthropic ``stop_reason:
    "refusal"`` (text it wrote before stopping kept, its tool calls dropped)."""
    out = copy.deepcopy(dict(body))
    endpoint = endpoint_of(out)
    if endpoint == "chat.completions":
        for choice in out.get("choices", []):
            choice["message"] = {
                "role": "assistant",
                "content": None,
                "refusal": refusal,
            }
            choice["finish_reason"] = "stop"
    elif endpoint == "responses":
        ident = next(
            (i["id"] for i in out.get("output", []) if i.get("type") == "message"),
            f"msg_{str(out.get('id', '')).removeprefix('resp_')}",
        )
        out["output"] = [
            {
                "type": "message",
                "id": ident,
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "refusal", "refusal": refusal}],
            }
        ]
    elif endpoint == "messages":
        out["content"] = [b for b in out.get("content", []) if b.get("type") == "text"]
        out["stop_reason"] = "refusal"
        out["stop_sequence"] = None
    return _resent(request, out, raw)


# -- broken tool-call arguments ---------------------------------------------------


def broken_json(arguments: str, how: Breakage) -> str:
    """``arguments`` (JSON) cut in the middle, or closed with a trailing comma."""
    if how == "cut":
        return arguments[: max(1, len(arguments) // 2)]
    return (
        arguments[:-1].rstrip() + ",}" if arguments.endswith("}") else arguments + ","
    )


def _complete_keys(arguments: Mapping[str, Any], cut: str) -> dict[str, Any]:
    """The keys of ``arguments`` written out whole within ``cut`` (a prefix of
    its JSON): what a tool call holds when the model stopped at the cut."""
    kept: dict[str, Any] = {}
    for key, value in arguments.items():
        trial = {**kept, key: value}
        if len(json.dumps(trial)) - 1 > len(cut):
            break
        kept = trial
    return kept


def malformed(
    request: Mapping[str, Any],
    body: Mapping[str, Any],
    raw: bytes | None,
    *,
    how: Breakage,
) -> Sent:
    """The answer's first tool call with broken arguments; ``cut`` also ends
    the answer there, as running out of output tokens does (OpenAI
    ``finish_reason: "length"`` / Responses ``incomplete``, Anthropic
    ``stop_reason: "max_tokens"``). An answer with no tool call is unchanged."""
    out = copy.deepcopy(dict(body))
    endpoint = endpoint_of(out)
    if endpoint == "chat.completions":
        for choice in out.get("choices", [])[:1]:
            calls = (choice.get("message") or {}).get("tool_calls") or []
            if calls:
                function = calls[0]["function"]
                function["arguments"] = broken_json(function["arguments"], how)
                if how == "cut":
                    del calls[1:]
                    choice["finish_reason"] = "length"
        return _resent(request, out, raw)
    if endpoint == "responses":
        items = out.get("output", [])
        at = next(
            (n for n, i in enumerate(items) if i.get("type") == "function_call"), None
        )
        if at is not None:
            item = items[at]
            item["arguments"] = broken_json(item["arguments"], how)
            if how == "cut":
                del items[at + 1 :]
                item["status"] = "incomplete"
                out["status"] = "incomplete"
                out["incomplete_details"] = {"reason": "max_output_tokens"}
        return _resent(request, out, raw)
    if endpoint == "messages":
        return _malformed_message(request, out, raw, how)
    return Sent(body=out, raw=raw)


def _malformed_message(
    request: Mapping[str, Any], out: dict[str, Any], raw: bytes | None, how: Breakage
) -> Sent:
    """Anthropic: ``tool_use.input`` is an object on the wire, so a broken string
    exists only in a stream's ``input_json_delta`` pieces. Streamed, those pieces
    carry the broken JSON; whole, the API parses the input itself and the closest
    real failure is the cut one: the input holds the keys written before the
    model stopped, with ``stop_reason: "max_tokens"``."""
    blocks = out.get("content", [])
    at = next((n for n, b in enumerate(blocks) if b.get("type") == "tool_use"), None)
    if at is None:
        return Sent(body=out, raw=raw)
    block = blocks[at]
    text = broken_json(json.dumps(block.get("input", {})), how)
    if how == "cut" or raw is None:
        del blocks[at + 1 :]
        out["stop_reason"] = "max_tokens"
        block["input"] = _complete_keys(
            block.get("input", {}), broken_json(json.dumps(block["input"]), "cut")
        )
    sent = _resent(request, out, raw)
    if sent.raw is None:
        return sent
    return Sent(body=sent.body, raw=_with_input_json(sent.raw, at, text))


def _with_input_json(raw: bytes, index: int, text: str) -> bytes:
    """An Anthropic stream whose block ``index`` streams ``text`` as its input."""
    events: list[bytes] = []
    for item in _events(raw):
        data = _data(item)
        if (
            data is not None
            and data.get("type") == "content_block_delta"
            and data.get("index") == index
        ):
            continue
        events.append(item)
        if (
            data is not None
            and data.get("type") == "content_block_start"
            and data.get("index") == index
        ):
            events += [
                sse.event(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": p},
                    },
                    name="content_block_delta",
                )
                for p in sse.pieces(text)
            ]
    return sse.stream(events)


# -- a stream cut part-way -----------------------------------------------------------


def cut_stream(raw: bytes) -> bytes:
    """``raw`` (a model's event stream) ended part-way, at an event boundary:
    after the first half of the first tool call's argument deltas (before its
    only one), else of the text deltas, else halfway through the events. What
    comes after (the finish reason, ``[DONE]``, ``message_stop``,
    ``response.completed``) never arrives."""
    events = list(_events(raw))
    datas = [_data(e) for e in events]
    for wanted in (_is_argument_delta, _is_text_delta):
        marks = [n for n, d in enumerate(datas) if d is not None and wanted(d)]
        if marks:
            # the first tool call's (or text block's) deltas; one alone is cut
            # off whole, so what arrives is never the complete arguments
            first = _delta_group(datas, marks)
            stop = first[len(first) // 2 - 1] + 1 if len(first) > 1 else first[0]
            return b"".join(events[:stop])
    return b"".join(events[: max(1, len(events) // 2)])


def _delta_group(datas: list[dict[str, Any] | None], marks: list[int]) -> list[int]:
    """The marked events of the first block or tool call (by its index)."""
    key = _block_of(datas[marks[0]])
    return [n for n in marks if _block_of(datas[n]) == key]


def _block_of(data: dict[str, Any] | None) -> Any:
    if data is None:
        return None
    if "choices" in data:
        calls = (data["choices"][0].get("delta") or {}).get("tool_calls") or [{}]
        return calls[0].get("index")
    return data.get("index", data.get("output_index"))


def _is_argument_delta(data: Mapping[str, Any]) -> bool:
    kind = data.get("type")
    if kind == "response.function_call_arguments.delta":
        return True
    if kind == "content_block_delta":
        return bool((data.get("delta") or {}).get("type") == "input_json_delta")
    for choice in data.get("choices") or []:
        for call in (choice.get("delta") or {}).get("tool_calls") or []:
            if (call.get("function") or {}).get("arguments"):
                return True
    return False


def _is_text_delta(data: Mapping[str, Any]) -> bool:
    kind = data.get("type")
    if kind == "response.output_text.delta":
        return True
    if kind == "content_block_delta":
        return bool((data.get("delta") or {}).get("type") == "text_delta")
    return any(
        (choice.get("delta") or {}).get("content")
        for choice in data.get("choices") or []
    )


def _events(raw: bytes) -> list[bytes]:
    """The stream's events, each with its closing blank line."""
    return [part + b"\n\n" for part in raw.split(b"\n\n") if part.strip()]


def _data(event: bytes) -> dict[str, Any] | None:
    """The JSON an event's ``data:`` line carries (``None``: none, or ``[DONE]``)."""
    for line in event.decode().splitlines():
        if line.startswith("data: "):
            try:
                data = json.loads(line[6:])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None
