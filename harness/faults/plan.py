"""The fault plan: which injected faults hit which tool call.

Every decision derives from (run seed, fault id, match index) only, through a
SHA-512-seeded stream, so it is the same in every process, worker and
``PYTHONHASHSEED``. Each fired fault is written to the history by the ``nemesis``.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.base import Operation, same_param
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
        and all(same_param(params.get(k), v) for k, v in m.params.items())
    )


class FaultPlan:
    """Decides, per call, which faults fire; remembers what it decided."""

    __slots__ = ("_buckets", "_matched", "_seed", "fired", "specs")

    def __init__(self, specs: Iterable[FaultSpec], *, seed: int) -> None:
        self.specs = tuple(specs)
        self._seed = seed
        self._matched: dict[str, int] = {s.id: 0 for s in self.specs}
        self.fired: dict[str, int] = {s.id: 0 for s in self.specs}
        # rate_limit token buckets, per (fault, caller): (tokens, last refill time)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

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
        """The faults that fire on this call, each recorded in ``history``.

        Outages and rate limits fire with a computed ``retry_after`` (the rest of
        the outage; the time until the caller's bucket holds a token again).
        """
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
            retry_after = self._stateful(spec, now, caller)
            if retry_after == 0.0:
                continue
            if retry_after is not None:
                spec = dataclasses.replace(
                    spec, params={**spec.params, "retry_after": retry_after}
                )
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

    def _stateful(self, spec: FaultSpec, now: float, caller: str) -> float | None:
        """For outages and rate limits: seconds until relief (0.0: no fault now)."""
        if spec.kind is FaultKind.OUTAGE:
            start = spec.when.start or 0.0
            end = start + float(spec.params["for"])
            return math.ceil(end - now) if start <= now < end else 0.0
        if spec.kind is FaultKind.RATE_LIMIT:
            limit = float(spec.params["limit"])
            rate = limit / float(spec.params["per"])
            tokens, last = self._buckets.get((spec.id, caller), (limit, now))
            tokens = min(limit, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[(spec.id, caller)] = (tokens - 1.0, now)
                return 0.0
            self._buckets[(spec.id, caller)] = (tokens, now)
            return math.ceil((1.0 - tokens) / rate)
        return None

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
