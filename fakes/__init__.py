"""The simulated enterprise: one module per system, all built on :mod:`fakes.base`."""

from __future__ import annotations

from fakes.base import FakeService, Operation, Reply, ServiceError
from fakes.calendar import Calendar
from fakes.crm import Crm
from fakes.erp import Erp
from fakes.iam import Iam
from fakes.kb import Kb
from fakes.notify import Notify
from fakes.ops import Ops
from fakes.payments import Payments
from fakes.registry import register_service, registered_services
from fakes.tickets import Tickets

#: The built-in simulated systems, in build order (later ones may read earlier
#: states). Users add theirs with :func:`register_service`.
SERVICES: tuple[type[FakeService], ...] = (
    Payments,
    Iam,
    Crm,
    Erp,
    Kb,
    Tickets,
    Ops,
    Notify,
    Calendar,
)
for _service in SERVICES:
    register_service(_service)

__all__ = [
    "SERVICES",
    "Crm",
    "Erp",
    "FakeService",
    "Iam",
    "Kb",
    "Notify",
    "Operation",
    "Ops",
    "Payments",
    "Reply",
    "ServiceError",
    "Tickets",
    "register_service",
    "registered_services",
]
