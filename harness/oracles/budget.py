"""Budget: the run stayed within its pack's limits on calls, repeats, cost and time.

Counted from the history, whatever the pack's mode: tool calls the agent made,
repeats of one business operation (the same write with the same parameters),
simulated cost (the pack's ``costs``, 1 a call by default) and simulated time from
the start to the agent's last call.
"""

from __future__ import annotations

from collections import Counter

from fakes.base import fingerprint
from harness.oracles.base import Evidence, RunView, Score, not_applicable, oracle
from harness.world.clock import format_offset
from harness.world.history import EntryType


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
        if h.process == "agent" and h.type is EntryType.INVOKE
    ]
    repeats: Counter[tuple[str, str]] = Counter()
    cost = 0.0
    worst_repeat = (0, "")
    for h in invokes:
        op = ops.get(h.f)
        cost += pack.cost_of(h.f, op.action if op else None)
        if op is None or not op.write:
            continue  # polling a read is not retrying an operation
        key = (h.f, fingerprint(dict(h.value.get("params", {}))))
        repeats[key] += 1
        if repeats[key] - 1 > worst_repeat[0]:
            worst_repeat = (repeats[key] - 1, h.f)
    last = invokes[-1].time if invokes else 0.0
    used = {
        "tool_calls": float(len(invokes)),
        "retries": float(worst_repeat[0]),
        "cost": cost,
        "duration": last,
    }
    shown = {
        "tool_calls": f"{len(invokes)} tool calls",
        "retries": f"{worst_repeat[0]} repeats of {worst_repeat[1] or 'one call'}",
        "cost": f"cost {cost:g}",
        "duration": f"last call at {format_offset(last)}",
    }
    over: list[str] = []
    evidence: list[Evidence] = []
    for name in ("tool_calls", "retries", "cost", "duration"):
        limit = getattr(limits, name)
        if limit is not None and used[name] > limit:
            over.append(f"{shown[name]} (budget {limit:g})")
            evidence.append(
                Evidence(
                    ref="history",
                    time=last,
                    text=f"budget {name} {limit:g} exceeded: {shown[name]}",
                )
            )
    if over:
        explanation = "over budget: " + "; ".join(over)
    else:
        explanation = "within budget: " + ", ".join(
            shown[n] for n in used if getattr(limits, n) is not None
        )
    return Score(
        oracle="budget",
        passed=not over,
        value=float(len(over)),
        explanation=explanation,
        evidence=tuple(evidence),
        details={"used": used},
    )
