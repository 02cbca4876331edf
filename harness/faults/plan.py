"""The fault plan: which injected faults hit which tool call.

Every decision derives from (run seed, fault id, match index) only, through a
SHA-512-seeded stream, so it is the same in every process, worker and
``PYTHONHASHSEED``. Each fired fault is written to the history by the ``nemesis``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.base import Operation
from harness.scenario.model import FaultKind, FaultSpec
from harness.world.history import EntryType, History


def _path_matches(pattern: str, op: Operation, params: Mapping[str, Any]) -> bool:
    if pattern == op.path:
        return True
    try:
        concrete = op.path.format(**{k: params.get(k, "") for k in op.path_params})
    except (KeyError, IndexError):
        return False
    return pattern == concrete


def matches(spec: FaultSpec, op: Operation, params: Mapping[str, Any]) -> bool:
    m = spec.match
    return (
        (m.service is None or m.service == op.service)
        and (m.method is None or m.method.upper() == op.method)
        and (m.tool is None or m.tool == op.name)
        and (m.path is None or _path_matches(m.path, op, params))
        and all(_same(params.get(k), v) for k, v in m.params.items())
    )


def _same(actual: Any, wanted: Any) -> bool:
    """Parameter equality across doors (form bodies carry ``"1200"``)."""
    return actual == wanted or (actual is not None and str(actual) == str(wanted))


class FaultPlan:
    """Decides, per call, which faults fire; remembers what it decided."""

    __slots__ = ("_matched", "_seed", "fired", "specs")

    def __init__(self, specs: Iterable[FaultSpec], *, seed: int) -> None:
        self.specs = tuple(specs)
        self._seed = seed
        self._matched: dict[str, int] = {s.id: 0 for s in self.specs}
        self.fired: dict[str, int] = {s.id: 0 for s in self.specs}

    def decide(
        self,
        *,
        call: int,
        op: Operation,
        params: Mapping[str, Any],
        history: History,
        now: float,
    ) -> list[FaultSpec]:
        """The faults that fire on this call, each recorded in ``history``."""
        if not self.specs:
            return []
        fired: list[FaultSpec] = []
        for spec in self.specs:
            if not matches(spec, op, params):
                continue
            self._matched[spec.id] += 1
            index = self._matched[spec.id]
            if not self._triggers(spec, index, now):
                continue
            self.fired[spec.id] += 1
            fired.append(spec)
            history.append(
                time=now,
                process="nemesis",
                type=EntryType.INFO,
                f=str(spec.kind),
                call=call,
                value={
                    "fault": spec.id,
                    "kind": str(spec.kind),
                    "match_index": index,
                    "params": {k: _plain(v) for k, v in spec.params.items()},
                    "target": f"{op.method} {op.path}",
                },
            )
        return fired

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
            draw = random.Random(f"aqe:{self._seed}:fault:{spec.id}:{index}").random()
            return draw < when.probability
        return True


def _plain(value: Any) -> Any:
    return str(value) if hasattr(value, "value") else value


__all__ = ["FaultKind", "FaultPlan", "matches"]
