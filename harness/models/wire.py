"""A script's answer made ready to send: ``usage`` where it has none, and the
stream when the request asked for one."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from harness.models import anthropic_wire, openai_wire
from harness.models.call import ModelCall

#: The content type of a streamed answer.
EVENT_STREAM = "text/event-stream"


def complete(
    call: ModelCall, answer: Mapping[str, Any]
) -> tuple[dict[str, Any], bytes | None]:
    """``answer`` with its ``usage`` (estimated unless given), and its stream's
    bytes when ``call`` asked for a stream (else ``None``)."""
    body = copy.deepcopy(dict(answer))
    request = call.body
    if call.endpoint == "messages":
        body.setdefault("usage", anthropic_wire.usage(request, body))
        return body, anthropic_wire.stream_message(body) if call.stream else None
    if call.endpoint == "responses":
        body.setdefault("usage", openai_wire.response_usage(request, body))
        return body, openai_wire.stream_response(body) if call.stream else None
    body.setdefault("usage", openai_wire.chat_usage(request, body))
    return body, openai_wire.stream_chat(request, body) if call.stream else None
