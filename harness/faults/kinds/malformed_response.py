"""``malformed_response``: the answer is not valid JSON; the effect has committed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kind import Call, Garbled, Kind
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

_HTML = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><p>The upstream server sent an invalid response."
    "</p><hr><address>edge-proxy</address></body></html>\n"
)


@register
class MalformedResponse(Kind):
    name = "malformed_response"
    summary = (
        "the answer is not valid JSON (truncated, an HTML page, empty);"
        " the effect has committed"
    )
    order = 130
    doc_params = "`form: truncated\\|html\\|empty`"
    doc_sees = "a body that is not JSON (`ToolMalformedResponse`); the effect committed"
    params = ("form",)
    schemas = MappingProxyType(
        {
            "form": {
                "type": "string",
                "enum": ["truncated", "html", "empty"],
                "description": "malformed_response only: truncated JSON (default), an"
                " HTML page, or an empty body",
            },
        }
    )
    choices = ({"form": "truncated"}, {"form": "html"}, {"form": "empty"})

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("form", "truncated")

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        call.garbled = fault
        return None

    def garble(self, fault: FaultSpec, body: Mapping[str, Any]) -> Garbled:
        form = str(fault.params["form"])
        if form == "html":
            raw, content_type = _HTML.encode(), "text/html; charset=utf-8"
        elif form == "empty":
            raw, content_type = b"", "application/json"
        else:
            text = json.dumps(body, sort_keys=True)
            raw = text[: max(1, len(text) // 2)].encode()
            content_type = "application/json"
        return Garbled(seen="malformed_response", raw=raw, content_type=content_type)
