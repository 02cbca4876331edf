"""Trajectory: the agent took the expected path: tools used and avoided, their
order, and the arguments of the calls that matter."""

from __future__ import annotations

from typing import Any

from fakes.base import same_param
from harness.oracles.base import (
    Evidence,
    RunView,
    Score,
    history_evidence,
    not_applicable,
    oracle,
)
from harness.world.history import EntryType, HistoryEntry


@oracle("trajectory")
def trajectory(run: RunView) -> Score:
    expected = run.expect.trajectory
    if expected is None:
        return not_applicable("trajectory", "no trajectory expected")
    calls = [
        h
        for h in run.world.history
        if h.process == "agent" and h.type is EntryType.INVOKE
    ]
    called = [h.f for h in calls]
    problems: list[str] = []
    evidence: list[Evidence] = []
    problems += [f"never called {t}" for t in expected.uses if t not in called]
    for tool in expected.avoids:
        for h in calls:
            if h.f == tool:
                problems.append(f"called {tool}, which it must avoid")
                evidence.append(
                    history_evidence(h, f"call #{h.call} {tool} (to avoid)")
                )
    if expected.order and not _in_order(called, expected.order):
        firsts = [f"{t}@{called.index(t) + 1}" for t in expected.order if t in called]
        problems.append(
            f"called out of order: expected {' -> '.join(expected.order)}, first"
            f" calls were {', '.join(firsts) or 'none'}"
        )
    for tool, args in expected.args.items():
        if not any(h.f == tool and _carries(h, args) for h in calls):
            shown = ", ".join(f"{k}: {v}" for k, v in args.items())
            problems.append(f"no call of {tool} with {{{shown}}}")
    checks = (
        len(expected.uses)
        + len(expected.avoids)
        + (1 if expected.order else 0)
        + len(expected.args)
    )
    return Score(
        oracle="trajectory",
        passed=not problems,
        value=(checks - len(problems)) / checks if checks else None,
        explanation="; ".join(problems) or "the agent took the expected path",
        evidence=tuple(evidence),
        details={"calls": called},
    )


def _in_order(called: list[str], order: tuple[str, ...]) -> bool:
    """Whether the first call of each tool comes in ``order``."""
    if any(t not in called for t in order):
        return False
    firsts = [called.index(t) for t in order]
    return firsts == sorted(firsts)


def _carries(h: HistoryEntry, args: dict[str, Any] | Any) -> bool:
    params = h.value.get("params", {})
    return all(same_param(params.get(k), v) for k, v in dict(args).items())
