"""``outage``: the service is down for a window of simulated time."""

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
class Outage(Kind):
    name = "outage"
    on_models = True
    summary = "the service is down for a window of simulated time"
    order = 50
    doc_params = "`for`, `status`"
    doc_sees = "every call refused until it ends, with `Retry-After`"
    params = ("for", "status")
    required = (("for", "for: 30m, how long the service is down"),)
    schemas = MappingProxyType(
        {
            "for": {
                **DURATION,
                "description": "outage only: how long the service is down, from"
                " when.from (default: the start of the run)",
            },
        }
    )
    choices = ({"for": "1m"}, {"for": "10m"}, {"for": "1h"})

    def load(self, params: dict[str, Any]) -> None:
        params["status"] = int(params.get("status", 503))

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        """Fires only during the outage; ``retry_after``: the rest of it."""
        start = fault.when.start or 0.0
        end = start + float(fault.params["for"])
        now = firing.now
        retry_after = math.ceil(end - now) if start <= now < end else 0.0
        return None if retry_after == 0.0 else {"retry_after": retry_after}

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        return refusal(fault, call)
