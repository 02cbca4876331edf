"""``rate_limit``: a token bucket per caller; 429 with Retry-After when it is empty."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kind import DURATION, Call, Firing, Kind
from harness.faults.kinds._refusal import refusal
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class RateLimit(Kind):
    name = "rate_limit"
    on_models = True
    summary = "a token bucket per caller; 429 with Retry-After when it is empty"
    order = 60
    doc_params = "`limit`, `per`"
    doc_sees = "429 with `Retry-After` once the caller's token bucket is empty"
    params = ("limit", "per")
    required = (("limit", "limit: 10, the calls allowed per window"),)
    schemas = MappingProxyType(
        {
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "rate_limit only: calls allowed per window (the bucket's"
                " size)",
            },
            "per": {
                **DURATION,
                "description": "rate_limit only: the window the limit refills over"
                " (default 1m)",
            },
        }
    )
    choices = (
        {"limit": 1, "per": "1m"},
        {"limit": 2, "per": "1m"},
        {"limit": 1, "per": "10m"},
    )

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("per", 60.0)

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        """Fires when the caller's bucket is empty; ``retry_after``: until a token."""
        limit = float(fault.params["limit"])
        rate = limit / float(fault.params["per"])
        buckets, caller, now = firing.state, firing.caller, firing.now
        tokens, last = buckets.get(caller, (limit, now))
        tokens = min(limit, tokens + (now - last) * rate)
        if tokens >= 1.0:
            buckets[caller] = (tokens - 1.0, now)
            return None
        buckets[caller] = (tokens, now)
        return {"retry_after": math.ceil((1.0 - tokens) / rate)}

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        return refusal(fault, call)
