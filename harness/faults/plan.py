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
from harness.scenario.fault_kinds import KINDS, Target
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


def target_record(spec: FaultSpec, op: Operation, params: Mapping[str, Any]) -> Any:
    """The record a concurrent_write changes: named in the fault, or the call's."""
    named = spec.params.get("record")
    if named is not None:
        return named
    return params.get(op.path_params[0]) if op.path_params else None


def matches(spec: FaultSpec, op: Operation, params: Mapping[str, Any]) -> bool:
    m = spec.match
    if spec.kind is FaultKind.PARTIAL_FAILURE and not (
        op.batch and isinstance(params.get(op.batch), list)
    ):
        return False  # only batch calls can partly fail
    if spec.kind is FaultKind.CONCURRENT_WRITE and not (
        op.write and isinstance(target_record(spec, op, params), str)
    ):
        return False  # another writer needs a record the agent writes
    return (
        (m.service is None or m.service == op.service)
        and (m.method is None or m.method.upper() == op.method)
        and (m.tool is None or m.tool == op.name)
        and (m.path is None or _path_matches(m.path, op, params))
        and all(same_param(params.get(k), v) for k, v in m.params.items())
    )


class FaultPlan:
    """Decides, per call, which faults fire; remembers what it decided."""

    __slots__ = ("_buckets", "_seed", "fired", "matched", "specs", "whole")

    def __init__(self, specs: Iterable[FaultSpec], *, seed: int) -> None:
        every = tuple(specs)
        #: Faults on tool calls (the rest act on the world or the task's delivery).
        self.specs = tuple(s for s in every if KINDS[s.kind].target is Target.CALL)
        self.whole = every
        self._seed = seed
        #: Per fault id: calls it matched, and times it fired (fault coverage).
        self.matched: dict[str, int] = {s.id: 0 for s in every}
        self.fired: dict[str, int] = {s.id: 0 for s in every}
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
        """The faults that fire on this call, each recorded in ``history``,
        with the parameters this firing drew or computed added (see :meth:`_drawn`).
        """
        if not self.specs:
            return []
        fired: list[FaultSpec] = []
        for spec in self.specs:
            if not matches(spec, op, params):
                continue
            self.matched[spec.id] += 1
            index = self.matched[spec.id]
            if not self._triggers(spec, index, now):
                continue
            drawn = self._drawn(spec, index, now, caller, op, params)
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

    def _drawn(
        self,
        spec: FaultSpec,
        index: int,
        now: float,
        caller: str,
        op: Operation,
        params: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Parameters this firing draws or computes; ``None``: it does not fire.

        Outages and rate limits compute ``retry_after`` (the rest of the outage;
        the time until the caller's bucket holds a token again), a distributed
        latency draws its ``seconds``, a partial failure picks the ``failed_items``.
        """
        if spec.kind in (FaultKind.OUTAGE, FaultKind.RATE_LIMIT):
            retry_after = self._stateful(spec, now, caller)
            return None if retry_after == 0.0 else {"retry_after": retry_after}
        if spec.kind is FaultKind.LATENCY and isinstance(spec.params["seconds"], dict):
            rng = self._rng(spec, "latency", index)
            return {"seconds": draw_latency(spec.params["seconds"], rng)}
        if spec.kind is FaultKind.PARTIAL_FAILURE:
            count = len(params[op.batch or ""])
            chosen = spec.params.get("fail")
            if chosen is None:
                rng = self._rng(spec, "items", index)
                ratio = float(spec.params["ratio"])
                chosen = [n for n in range(1, count + 1) if rng.random() < ratio]
            failed = sorted(n for n in chosen if n <= count)
            return {"failed_items": failed} if failed else None
        return {}

    def _rng(self, spec: FaultSpec, purpose: str, index: int) -> random.Random:
        return random.Random(f"aqe:{self._seed}:{purpose}:{spec.id}:{index}")

    def _stateful(self, spec: FaultSpec, now: float, caller: str) -> float:
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
        raise AssertionError(spec.kind)

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


def draw_latency(spec: Mapping[str, Any], rng: random.Random) -> float:
    """A latency in seconds from a distribution spec (durations already parsed)."""
    family = spec["distribution"]
    if family == "uniform":
        value = rng.uniform(float(spec["min"]), float(spec["max"]))
    elif family == "exponential":
        value = rng.expovariate(1.0 / float(spec["mean"])) if spec["mean"] else 0.0
    else:  # lognormal, by its median
        median = float(spec["median"])
        value = median * math.exp(rng.gauss(0.0, float(spec["sigma"])))
    return round(value, 6)


def _plain(value: Any) -> Any:
    return str(value) if hasattr(value, "value") else value


__all__ = ["FaultKind", "FaultPlan", "draw_latency", "matches", "target_record"]
