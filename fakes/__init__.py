"""The simulated enterprise: one package per system, all built on :mod:`fakes.base`.

Importing ``fakes`` (or ``fakes.base``) imports no service: the services and the
registry load on first use of a name below (``fakes.Payments``,
``fakes.registered_services``), and :mod:`fakes.registry` loads every built-in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fakes.base import FakeService, Operation, Reply, ServiceError

if TYPE_CHECKING:
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

    #: The built-in simulated systems, in build order.
    SERVICES: tuple[type[FakeService], ...]

#: Where each lazily loaded name lives.
_LAZY = {
    "Calendar": "fakes.calendar",
    "Crm": "fakes.crm",
    "Erp": "fakes.erp",
    "Iam": "fakes.iam",
    "Kb": "fakes.kb",
    "Notify": "fakes.notify",
    "Ops": "fakes.ops",
    "Payments": "fakes.payments",
    "Tickets": "fakes.tickets",
    "register_service": "fakes.registry",
    "registered_services": "fakes.registry",
}


def __getattr__(name: str) -> Any:
    if name == "SERVICES":
        from fakes.registry import built_in_services

        value: Any = built_in_services()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'fakes' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "SERVICES",
    "Calendar",
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
