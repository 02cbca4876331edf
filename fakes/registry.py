"""The registry of simulated services: built-ins and users' own.

A world is built from every registered service, in registration order (later
services may read earlier ones' seeded state, so tickets can name real customers).
"""

from __future__ import annotations

from typing import TypeVar

from fakes.base import FakeService

_REGISTRY: dict[str, type[FakeService]] = {}
_S = TypeVar("_S", bound=type[FakeService])


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
    return cls


def registered_services() -> tuple[type[FakeService], ...]:
    """Every registered service, in registration order."""
    return tuple(_REGISTRY.values())
