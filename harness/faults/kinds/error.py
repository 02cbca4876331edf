"""``error``: an error status, with an optional body and Retry-After."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from fakes.base import Reply
from harness.faults.kind import DURATION, Call, Kind
from harness.faults.kinds._refusal import refusal
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class Error(Kind):
    name = "error"
    on_models = True
    summary = "an error status, with an optional body and Retry-After"
    order = 30
    doc_params = "`status`, `retry_after`, `body`"
    doc_sees = "an error status in the service's own format"
    params = ("status", "retry_after", "body")
    required = (("status", "status: 503, the HTTP status to answer with"),)
    schemas = MappingProxyType(
        {
            "retry_after": {
                **DURATION,
                "description": "error and overload: the Retry-After the service sends",
            },
            "body": {
                "type": "object",
                "description": "error only: the JSON error body the service sends",
            },
        }
    )
    choices = (
        {"status": 500},
        {"status": 503, "retry_after": "30s"},
        {"status": 429, "retry_after": "10s"},
        {"status": 502},
        {"status": 409},
        {"status": 400},
    )

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        return refusal(fault, call)
