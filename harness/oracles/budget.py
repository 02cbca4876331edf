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

import json
from collections.abc import Mapping
from typing import Any

from harness.models.prices import TABLE, prices
from harness.models.providers import PROVIDER_NAMES
from harness.models.usage import ModelUsage, usage_of, usd
from harness.oracles.base import Evidence, RunView, Score, not_applicable, oracle
from harness.world.clock import format_offset
from harness.world.history import EntryType

_NONE = ModelUsage(calls=0, tokens_in=0, tokens_out=0, cost_usd=0.0)
_ORDER = ("tool_calls", "retries", "cost", "duration", "model_tokens", "model_cost")


@oracle("budget")
def budget(run: RunView) -> Score:
    pack = run.policy
    limits = pack.budgets
    if not limits.any:
        return not_applicable("budget", "no budgets in this scenario's pack")
    ops = {op.name: op for s in run.world.services.values() for op in s.operations}
    invokes = [
        h
        for h in run.world.history
        if h.process == "agent"
        and h.type is EntryType.INVOKE
        and h.value.get("service") not in PROVIDER_NAMES
    ]
    repeats: dict[tuple[str, str], int] = {}
    costs: dict[str, float] = {}
    cost = 0.0
    worst_repeat = (0, "")
    for h in invokes:
        f = h.f
        op = ops.get(f)
        unit = costs.get(f)
        if unit is None:
            unit = costs[f] = pack.cost_of(f, op.action if op else None)
        cost += unit
        if op is None or not op.write:
            continue  # polling a read is not retrying an operation
        key = (f, _canonical(h.value.get("params", {})))
        seen = repeats[key] = repeats.get(key, 0) + 1
        if seen - 1 > worst_repeat[0]:
            worst_repeat = (seen - 1, f)
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


#: :func:`fakes.base.fingerprint`'s JSON, made once (``json.dumps`` with options
#: builds an encoder per call).
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _canonical(params: Mapping[str, Any]) -> str:
    """The parameters as canonical JSON: equal for the same call made again (what
    :func:`fakes.base.fingerprint` digests; the digest itself is not needed)."""
    return _JSON.encode(params if type(params) is dict else dict(params))


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
