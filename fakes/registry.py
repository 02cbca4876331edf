"""The registry of simulated services: built-ins and users' own.

A world is built from every registered service, in registration order (later
services may read earlier ones' seeded state, so tickets can name real customers).
Each built-in service package registers its service when imported; importing this
module imports them all, in :data:`BUILT_IN` order, so they come before users' own.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from fakes.base import FakeService

#: The built-in simulated systems' packages, in build order (later ones may read
#: earlier states). Users add theirs with :func:`register_service`.
BUILT_IN: tuple[str, ...] = (
    "fakes.payments",
    "fakes.iam",
    "fakes.crm",
    "fakes.erp",
    "fakes.kb",
    "fakes.tickets",
    "fakes.ops",
    "fakes.notify",
    "fakes.calendar",
)

_REGISTRY: dict[str, type[FakeService]] = {}
_S = TypeVar("_S", bound=type[FakeService])


def _build_rank(cls: type[FakeService]) -> int:
    """A built-in's place in :data:`BUILT_IN`; users' services come after."""
    module = cls.__module__
    for rank, package in enumerate(BUILT_IN):
        if module == package or module.startswith(f"{package}."):
            return rank
    return len(BUILT_IN)


def register_service(cls: _S) -> _S:
    """Add a FakeService subclass to every world built from now on."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{cls.__name__}.name must be an identifier, got {name!r}")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a service named {name!r} is already registered")
    taken = {
        host: other.name
        for other in _REGISTRY.values()
        if other is not cls
        for host in other.hosts
    }
    clash = sorted(h for h in cls.hosts if h in taken)
    if clash:
        raise ValueError(f"host {clash[0]!r} already belongs to {taken[clash[0]]!r}")
    tools = {
        op.name: other.name
        for other in _REGISTRY.values()
        if other is not cls
        for op in other.operations
    }
    for op in cls.operations:
        if op.name in tools:
            raise ValueError(
                f"tool {op.name!r} of {name!r} is already a tool of {tools[op.name]!r}"
            )
    _REGISTRY[name] = cls
    # A built-in imported on its own registers while this module loads the
    # others, so it may arrive late: keep the build order all the same.
    ordered = sorted(_REGISTRY.values(), key=_build_rank)
    if list(_REGISTRY.values()) != ordered:
        _REGISTRY.clear()
        _REGISTRY.update((other.name, other) for other in ordered)
    return cls


def registered_services() -> tuple[type[FakeService], ...]:
    """Every registered service, in registration order."""
    return tuple(_REGISTRY.values())


def built_in_services() -> tuple[type[FakeService], ...]:
    """The built-in services, in build order."""
    return tuple(cls for cls in _REGISTRY.values() if _build_rank(cls) < len(BUILT_IN))


for _package in BUILT_IN:
    importlib.import_module(_package)
