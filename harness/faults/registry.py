"""The fault-kind registry: the single source of what each kind is and does.

The loader's defaults, the file checks, the published schema, the fault plan, the
gateway, the fuzzer and the README's fault table all read it. A kind registers
itself with :func:`register` in its own module of :mod:`harness.faults.kinds`;
the built-in ones are loaded on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from harness.faults.kind import DURATION, Kind
from harness.faults.params import SHARED

_K = TypeVar("_K", bound=type[Kind])


class DuplicateKind(ValueError):
    """A second kind registered under a name (or place) already taken."""


class Registry:
    """Kinds by name, in fault-table order."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._ordered: tuple[Kind, ...] = ()
        self._owners: dict[str, str] = {}
        self._durations: frozenset[str] | None = None

    def add(self, kind: Kind) -> None:
        """Register ``kind``; a name, place or parameter already taken is an error."""
        taken = self._kinds.get(kind.name)
        if taken is not None:
            raise DuplicateKind(
                f"fault kind {kind.name!r} is already registered by"
                f" {type(taken).__module__}.{type(taken).__qualname__}\n"
                "    fix: give the new kind another name, or remove one of the two"
            )
        for other in self._kinds.values():
            if other.order == kind.order:
                raise DuplicateKind(
                    f"fault kind {kind.name!r} takes place {kind.order} in the fault"
                    f" table, already {other.name!r}'s\n"
                    "    fix: choose a free 'order' (places in use: "
                    + ", ".join(str(k.order) for k in self._ordered)
                    + ")"
                )
        for param in kind.schemas:
            owner = self._owners.get(param) or ("shared" if param in SHARED else None)
            if owner is not None:
                raise DuplicateKind(
                    f"fault kind {kind.name!r} defines parameter {param!r}, already"
                    f" defined by {owner}\n"
                    f"    fix: list {param!r} in params and leave it out of schemas"
                    " to share it, or give yours another name"
                )
        unknown = [
            p
            for p in kind.params
            if p not in kind.schemas and p not in SHARED and p not in self._owners
        ]
        if unknown:
            raise ValueError(
                f"fault kind {kind.name!r} takes parameters with no schema:"
                f" {', '.join(unknown)}\n"
                "    fix: add their JSON Schemas to the kind's 'schemas'"
            )
        self._kinds[kind.name] = kind
        self._owners.update(dict.fromkeys(kind.schemas, f"fault kind {kind.name!r}"))
        self._ordered = tuple(sorted(self._kinds.values(), key=lambda k: k.order))
        self._durations = None

    def __getitem__(self, name: str) -> Kind:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._ordered)

    def __len__(self) -> int:
        return len(self._kinds)

    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self._ordered)

    def durations(self) -> frozenset[str]:
        """The parameters that are durations (the loader parses them to seconds)."""
        if self._durations is None:
            self._durations = frozenset(
                name
                for name, schema in self.param_schemas().items()
                if schema.get("$ref") == DURATION["$ref"]
            )
        return self._durations

    def param_schemas(self) -> dict[str, Mapping[str, Any]]:
        """Every parameter's JSON Schema: in order of the kinds that take them."""
        out: dict[str, Mapping[str, Any]] = {}
        for kind in self._ordered:
            for name in kind.params:
                if name not in out:
                    out[name] = kind.schemas.get(name) or SHARED[name]
        return out


_REGISTRY = Registry()
_loaded = False


def register(cls: _K) -> _K:
    """Class decorator: register one instance of the kind ``cls``."""
    _REGISTRY.add(cls())
    return cls


def registry() -> Registry:
    """The registry, with the built-in kinds (:mod:`harness.faults.kinds`) loaded."""
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module("harness.faults.kinds")
    return _REGISTRY


def kind_of(name: str) -> Kind:
    """The kind called ``name`` (a :class:`~harness.faults.spec.FaultKind`)."""
    return registry()[name]
