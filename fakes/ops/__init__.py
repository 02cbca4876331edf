"""The humans in the loop; importing this package registers the service."""

from __future__ import annotations

from fakes.ops.service import (
    APPROVAL,
    APPROVAL_STATUSES,
    APPROVAL_TTL,
    ESCALATION,
    REASONS,
    Ops,
)
from fakes.registry import register_service

register_service(Ops)

__all__ = [
    "APPROVAL",
    "APPROVAL_STATUSES",
    "APPROVAL_TTL",
    "ESCALATION",
    "REASONS",
    "Ops",
]
