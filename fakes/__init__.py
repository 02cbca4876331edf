"""The simulated enterprise: one module per system, all built on :mod:`fakes.base`."""

from __future__ import annotations

from fakes.base import FakeService, Operation, Reply, ServiceError
from fakes.notify import Notify
from fakes.ops import Ops
from fakes.payments import Payments
from fakes.tickets import Tickets

#: Every simulated system, in build order (later ones may read earlier states).
SERVICES: tuple[type[FakeService], ...] = (Payments, Tickets, Ops, Notify)

__all__ = [
    "SERVICES",
    "FakeService",
    "Notify",
    "Operation",
    "Ops",
    "Payments",
    "Reply",
    "ServiceError",
    "Tickets",
]
