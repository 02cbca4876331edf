"""Budget: the run stayed within its pack's limits on calls, repeats, cost, time
and model use.

Counted from the history, whatever the pack's mode: tool calls the agent made,
repeats of one business operation (the same write with the same parameters),
simulated cost (the pack's ``costs``, 1 a call by default), simulated time from
the start to the agent's last call, and over its model calls the tokens (in +
out) and the cost in USD (the price table's, :mod:`harness.models.prices`). Model
calls count toward the model budgets only, not as tool calls. A ``model_cost``
budget cannot hold when a call's model has no price: it fails, naming the model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import reduce
from itertools import chain
from operator import add
from typing import TYPE_CHECKING, Any

from fakes.base import canonical_json, operations_by_name
from harness.models.prices import TABLE, prices
from harness.models.providers import PROVIDER_NAMES
from harness.models.usage import ModelUsage, usage_of, usd
from harness.oracles.base import Evidence, RunView, Score, not_applicable, oracle
from harness.world.clock import format_offset
from harness.world.history import EntryType

if TYPE_CHECKING:
    from fakes.operations import Operation

_NONE = ModelUsage(calls=0, tokens_in=0, tokens_out=0, cost_usd=0.0)
_ORDER = ("tool_calls", "retries", "cost", "duration", "model_tokens", "model_cost")


@oracle("budget")
def budget(run: RunView) -> Score:
    pack = run.policy
    limits = pack.budgets
    if not limits.any:
        return not_applicable("budget", "no budgets in this scenario's pack")
    ops = operations_by_name(run.world.services.values())
    invokes = [
        h
        for h in run.world.history
        if h.process == "agent"
        and h.type is EntryType.INVOKE
        and h.value.get("service") not in PROVIDER_NAMES
    ]
    tools = [h.f for h in invokes]
    # Each tool's unit cost once; added up call by call, in order, as floats add.
    units = {f: pack.cost_of(f, _action(ops.get(f))) for f in dict.fromkeys(tools)}
    cost = reduce(add, map(units.__getitem__, tools), 0.0)
    # Polling a read is not retrying an operation: only writes repeat.
    writing = {f for f in units if (op := ops.get(f)) is not None and op.write}
    writes = [(h.f, h.value.get("params", {})) for h in invokes if h.f in writing]
    worst_repeat = _worst_repeat(writes)
    last = invokes[-1].time if invokes else 0.0
    model = usage_of(run.world.history) or _NONE
    calls = f"{model.calls} model call{'s' if model.calls != 1 else ''}"
    used = {
        "tool_calls": float(len(invokes)),
        "retries": float(worst_repeat[0]),
        "cost": cost,
        "duration": last,
        "model_tokens": float(model.tokens),
        "model_cost": model.cost_usd or 0.0,
    }
    shown = {
        "tool_calls": f"{len(invokes)} tool calls",
        "retries": f"{worst_repeat[0]} repeats of {worst_repeat[1] or 'one call'}",
        "cost": f"cost {cost:g}",
        "duration": f"last call at {format_offset(last)}",
        "model_tokens": f"{model.tokens:,} model tokens"
        f" ({model.tokens_in:,} in, {model.tokens_out:,} out) over {calls}",
        "model_cost": f"model cost {usd(model.cost_usd or 0.0)} over {calls}",
    }
    over: list[str] = []
    evidence: list[Evidence] = []
    for name in _ORDER:
        limit = getattr(limits, name)
        if limit is not None and used[name] > limit:
            over.append(f"{shown[name]} (budget {_limit(name, limit)})")
            evidence.append(
                Evidence(
                    ref="history",
                    time=last,
                    text=f"budget {name} {_limit(name, limit)} exceeded: {shown[name]}",
                )
            )
    parts = ["over budget: " + "; ".join(over)] if over else []
    unjudged = limits.model_cost is not None and bool(model.unpriced)
    if unjudged:
        unknown = _unpriced(model)
        parts.append(f"model_cost budget cannot be judged: {unknown}")
        evidence.append(Evidence(ref="history", time=last, text=unknown))
    if parts:
        explanation = "; ".join(parts)
    else:
        explanation = "within budget: " + ", ".join(
            shown[n] for n in _ORDER if getattr(limits, n) is not None
        )
    return Score(
        oracle="budget",
        passed=not parts,
        value=float(len(over) + unjudged),
        explanation=explanation,
        evidence=tuple(evidence),
        details={"used": used, "model": model.to_json()},
    )


def _worst_repeat(writes: list[tuple[str, Any]]) -> tuple[int, str]:
    """The most repeats of one write with the same parameters, and its tool
    (the first to reach that count), as the parameters' canonical JSON counts
    them. A tool whose calls' parameters are all :func:`_plain` has them
    compared as sets of items (equal exactly when their JSON is); the others'
    are compared by their JSON."""
    calls: dict[str, list[Any]] = defaultdict(list)
    for f, params in writes:
        calls[f].append(params)
    plain = {f for f, params in calls.items() if _plain(params)}
    keys: list[tuple[str, object]]
    if len(plain) == len(calls):  # the usual run: built by C-level maps
        tools, params = [f for f, _ in writes], [p for _, p in writes]
        keys = list(zip(tools, map(frozenset, map(dict.items, params)), strict=True))
    else:
        keys = [
            (f, frozenset(params.items()) if f in plain else canonical_json(params))
            for f, params in writes
        ]
    counts = Counter(keys)
    top = max(counts.values(), default=0)
    if top < 2:
        return (0, "")
    reached = {key: 0 for key, count in counts.items() if count == top}
    for key in keys:
        if key in reached:
            reached[key] += 1
            if reached[key] == top:
                return (top - 1, key[0])
    raise AssertionError("unreachable: a key counted top times reaches top")


#: The types of parameters :func:`_plain` accepts.
_DICT, _NAMES, _VALUES = frozenset({dict}), frozenset({str}), frozenset({str, int})


def _plain(calls: list[Any]) -> bool:
    """Whether every call's parameters are a dict of str names to str or int
    values: two such have equal items exactly when their canonical JSON is
    equal (JSON would make ``1``, ``1.0`` and ``True`` differ, and a value
    of another type can print as a string does)."""
    return (
        _DICT.issuperset(map(type, calls))
        and _NAMES.issuperset(map(type, chain.from_iterable(calls)))
        and _VALUES.issuperset(map(type, chain.from_iterable(map(dict.values, calls))))
    )


def _action(op: Operation | None) -> str | None:
    return op.action if op is not None else None


def _limit(name: str, limit: float) -> str:
    if name == "model_cost":
        return usd(limit)
    if name == "model_tokens":
        return f"{limit:,}"
    return f"{limit:g}"


def _unpriced(model: ModelUsage) -> str:
    names = ", ".join(repr(m) for m in model.unpriced_models)
    return (
        f"{model.unpriced} of {model.calls} model calls went to {names}, which"
        f" the price table ({TABLE.name}, checked {prices().checked}) does not"
        " list; add the model to harness/models/prices.json"
    )
