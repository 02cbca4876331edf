"""An error status before anything commits: what error, outage and rate_limit answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.base import Reply
from harness.faults.kind import Call

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


def refusal(fault: FaultSpec, call: Call) -> Reply:
    """The service's own error reply, after its latency: the call ends there."""
    service = call.service
    status = int(fault.params.get("status", 429))
    retry = fault.params.get("retry_after")
    reply = service.unavailable(status, None if retry is None else float(retry))
    if fault.params.get("body") is not None:
        reply = Reply(status=status, body=fault.params["body"], headers=reply.headers)
    call.world.clock.advance(service.latency)
    return reply
