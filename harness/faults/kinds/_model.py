"""What the kinds that act on a model's answer share: they hit model calls only
(``match: {service: openai}`` or ``anthropic``), and change the reply as sent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes.base import Operation
from harness.faults.kind import Issue, Kind
from harness.models.damage import MODEL_SERVICES

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


class ModelAnswerKind(Kind):
    """A kind that damages a model's answer (a refusal, broken arguments, a cut
    stream); the model still answered, so its call is billed (``model_call``)."""

    generic: ClassVar[bool] = False  # a run needs a model for it to hit anything
    changes_reply: ClassVar[bool] = True
    on_models: ClassVar[bool] = True

    def can_hit(self, op: Operation) -> bool:
        return op.service in MODEL_SERVICES

    def applies(
        self, fault: FaultSpec, op: Operation, params: Mapping[str, Any]
    ) -> bool:
        return op.service in MODEL_SERVICES

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        match = fault.get("match")
        service = match.get("service") if isinstance(match, Mapping) else None
        if isinstance(service, str) and service not in MODEL_SERVICES:
            yield Issue(
                path=("match", "service"),
                message=f"{self.name} faults act on model calls, not on"
                f" {service!r} calls",
                fix="match service: " + " or ".join(sorted(MODEL_SERVICES)),
            )
