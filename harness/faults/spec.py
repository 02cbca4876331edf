"""A fault as a scenario states it: frozen values, kinds from the registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from harness.faults.registry import registry

if TYPE_CHECKING:

    class FaultKind(StrEnum):
        """A registered fault kind's name (members: the registry's kinds)."""

else:
    FaultKind = StrEnum(
        "FaultKind",
        [(name.upper(), name) for name in registry().names()],
        module=__name__,
        qualname="FaultKind",
    )
    FaultKind.__doc__ = (
        "A registered fault kind's name (members: the registry's kinds)."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultMatch:
    service: str | None = None
    method: str | None = None
    path: str | None = None
    tool: str | None = None
    #: Request parameters the call must carry, with exactly these values.
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultWhen:
    """Which matching calls the fault hits; every condition given must hold.

    ``call``: the n-th matching call; ``after_call``: every one after the n-th;
    ``probability``: a seeded draw per matching call; ``start``/``end``: a window
    of simulated seconds since the run started.
    """

    call: int | None = None
    after_call: int | None = None
    probability: float | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultSpec:
    id: str
    kind: FaultKind
    match: FaultMatch
    when: FaultWhen
    #: Kind parameters, as the kind (:mod:`harness.faults.kinds`) lists them, with
    #: durations in seconds and defaults filled in.
    params: Mapping[str, Any] = field(default_factory=dict)
