"""``duplicate_delivery``: the task is delivered to the agent a second time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.faults.kind import Kind, Target
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class DuplicateDelivery(Kind):
    name = "duplicate_delivery"
    summary = "the task is delivered to the agent a second time"
    order = 140
    doc_params = "`delay`"
    doc_sees = "the same task delivered a second time (no `match`/`when`)"
    target = Target.TASK
    params = ("delay",)
    choices = ({"delay": 0}, {"delay": "10m"})

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("delay", 0.0)

    def redelivery(self, fault: FaultSpec) -> float | None:
        return float(fault.params["delay"])
