"""The humans in the loop: escalations and approvals.

The service is :class:`Ops` (:mod:`fakes.ops.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

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
