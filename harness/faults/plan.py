"""The fault plan: which injected faults hit which tool call.

Every decision derives from (run seed, fault id, match index) only, through a
SHA-512-seeded stream, so it is the same in every process, worker and
``PYTHONHASHSEED``. Each fired fault is written to the history by the ``nemesis``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fakes.base import Operation, same_param
from harness.faults.kind import Firing, Kind, Target
from harness.faults.registry import kind_of
from harness.faults.spec import FaultKind, FaultSpec
from harness.models.damage import MODEL_SERVICES
from harness.world.history import EntryType, History

if TYPE_CHECKING:
    from harness.world.world import World


def _path_matches(pattern: str, op: Operation, params: Mapping[str, Any]) -> bool:
    if pattern == op.path:
        return True
    try:
        concrete = op.path.format(**{k: params.get(k, "") for k in op.path_params})
    except (KeyError, IndexError):
        return False
    return pattern == concrete


def matches(spec: FaultSpec, op: Operation, params: Mapping[str, Any]) -> bool:
    """Whether ``spec`` matches a call to ``op`` with ``params``."""
    return _matches(spec, kind_of(spec.kind), op, params)


def _matches(
    spec: FaultSpec, kind: Kind, op: Operation, params: Mapping[str, Any]
) -> bool:
    m = spec.match
    return (
        # a model call is hit only by a fault that names its service
        (m.service == op.service if m.service or op.service in MODEL_SERVICES else True)
        and (m.method is None or m.method.upper() == op.method)
        and (m.tool is None or m.tool == op.name)
        and (m.path is None or _path_matches(m.path, op, params))
        and all(same_param(params.get(k), v) for k, v in m.params.items())
        # and what the kind needs (only batch calls can partly fail):
        and kind.applies(spec, op, params)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Redelivery:
    """The task delivered again, ``delay`` seconds after the agent finished."""

    fault: FaultSpec
    delay: float


class FaultPlan:
    """Decides, per call, which faults fire; remembers what it decided."""

    __slots__ = ("_kinds", "_seed", "_state", "fired", "matched", "specs", "whole")

    def __init__(self, specs: Iterable[FaultSpec], *, seed: int) -> None:
        every = tuple(specs)
        self._kinds = {s.id: kind_of(s.kind) for s in every}
        #: Faults on tool calls (the rest act on the world or the task's delivery).
        self.specs = tuple(s for s in every if self._kinds[s.id].target is Target.CALL)
        self.whole = every
        self._seed = seed
        #: Per fault id: calls it matched, and times it fired (fault coverage).
        self.matched: dict[str, int] = {s.id: 0 for s in every}
        self.fired: dict[str, int] = {s.id: 0 for s in every}
        #: Per fault id: its kind's state across the run (a rate limit's buckets).
        self._state: dict[str, dict[str, Any]] = {s.id: {} for s in every}

    def decide(
        self,
        *,
        call: int,
        op: Operation,
        params: Mapping[str, Any],
        history: History,
        now: float,
        caller: str = "",
    ) -> list[FaultSpec]:
        """The faults that fire on this call, each recorded in ``history``,
        with the parameters this firing drew or computed added (each kind's
        :meth:`~harness.faults.kind.Kind.draw`: the rest of an outage, a latency
        drawn from its distribution, the items of a partial failure).
        """
        if not self.specs:
            return []
        fired: list[FaultSpec] = []
        for spec in self.specs:
            kind = self._kinds[spec.id]
            if not _matches(spec, kind, op, params):
                continue
            self.matched[spec.id] += 1
            index = self.matched[spec.id]
            if not self._triggers(spec, index, now):
                continue
            firing = Firing(
                index=index,
                now=now,
                caller=caller,
                op=op,
                params=params,
                seed=self._seed,
                state=self._state[spec.id],
            )
            drawn = kind.draw(spec, firing)
            if drawn is None:
                continue
            if drawn:
                spec = dataclasses.replace(spec, params={**spec.params, **drawn})
            fired.append(spec)
            self.record(spec, history, now=now, call=call, index=index, op=op)
        return fired

    def record(
        self,
        spec: FaultSpec,
        history: History,
        *,
        now: float,
        call: int | None = None,
        index: int = 1,
        op: Operation | None = None,
        **extra: Any,
    ) -> None:
        """Count ``spec`` as fired and write the nemesis entry for it."""
        self.fired[spec.id] += 1
        if op is None:  # world and task faults are matched by being there
            self.matched[spec.id] += 1
        value: dict[str, Any] = {
            "fault": spec.id,
            "kind": str(spec.kind),
            "match_index": index,
            "params": {k: _plain(v) for k, v in spec.params.items()},
            "target": f"{op.method} {op.path}" if op is not None else None,
        }
        value.update(extra)
        history.append(
            time=now,
            process="nemesis",
            type=EntryType.INFO,
            f=str(spec.kind),
            call=call,
            value=value,
        )

    def prepare_world(self, world: World, *, scenario: str) -> None:
        """Let each world fault change the world as it is built."""
        for fault in self.whole:
            kind = self._kinds[fault.id]
            if kind.target is Target.WORLD:
                kind.on_world(fault, world, self, scenario=scenario)

    def redeliveries(self) -> list[Redelivery]:
        """The task's extra deliveries, in scenario order."""
        out = []
        for fault in self.whole:
            delay = self._kinds[fault.id].redelivery(fault)
            if delay is not None:
                out.append(Redelivery(fault=fault, delay=delay))
        return out

    def coverage(self) -> list[dict[str, Any]]:
        """Per fault, in scenario order: its kind, calls matched, times fired."""
        return [
            {
                "fault": s.id,
                "kind": str(s.kind),
                "matched": self.matched[s.id],
                "fired": self.fired[s.id],
            }
            for s in self.whole
        ]

    def _rng(self, spec: FaultSpec, purpose: str, index: int) -> random.Random:
        return random.Random(f"aqe:{self._seed}:{purpose}:{spec.id}:{index}")

    def _triggers(self, spec: FaultSpec, index: int, now: float) -> bool:
        when = spec.when
        if when.call is not None and when.call != index:
            return False
        if when.after_call is not None and index <= when.after_call:
            return False
        if when.start is not None and now < when.start:
            return False
        if when.end is not None and now >= when.end:
            return False
        if when.probability is not None:
            return self._rng(spec, "fault", index).random() < when.probability
        return True


def _plain(value: Any) -> Any:
    return str(value) if hasattr(value, "value") else value


__all__ = ["FaultKind", "FaultPlan", "Redelivery", "matches"]
