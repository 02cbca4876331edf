"""Human-readable renderings of a run for the terminal and failure reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.scenario.fault_kinds import KINDS, Target
from harness.scenario.model import FaultKind

if TYPE_CHECKING:
    from harness.run import RunResult

#: How many of a run's warnings a failure's text lists (the trace has them all).
SHOWN_WARNINGS = 5
#: How much of a warning's message it shows (its first line).
WARNING_CHARS = 200


def render_failure(result: RunResult, *, reproduce: str, trace: str | None) -> str:
    """What a failing scenario item shows: each failed oracle with its evidence."""
    failed = [s for s in result.scores if not s.passed]
    names = ", ".join(s.oracle for s in failed) or "none"
    lines = [
        f"scenario {result.scenario.name!r} failed on {names} "
        f"(seed {result.seed}, agent {result.agent})",
    ]
    for score in failed:
        lines.append(f"  [{score.severity}] {score.oracle}: {score.explanation}")
        lines.extend(f"      {e.render()}" for e in score.evidence)
    agent = result.agent_result
    if agent is not None:
        lines.append(f"  agent said: {agent.status}: {agent.summary}")
    if result.fault_coverage:
        lines.append(
            "  faults: " + "; ".join(map(coverage_text, result.fault_coverage))
        )
    lines.extend(_warnings(result))
    if trace:
        lines.append(f"  trace: {trace}")
    lines.append(f"reproduce: {reproduce}")
    return result.world.secrets.redact("\n".join(lines))


def _warnings(result: RunResult) -> list[str]:
    """``  warnings: DeprecationWarning at agent.py:12: old call (x3)`` and the
    next ones below it, at most :data:`SHOWN_WARNINGS` of them."""
    if not result.warnings and not result.warnings_dropped:
        return []
    shown = [
        f"{w.category} at {w.where}: {_first_line(w.message)}"
        + (f" (x{w.count})" if w.count > 1 else "")
        for w in result.warnings[:SHOWN_WARNINGS]
    ]
    more = len(result.warnings) - len(shown)
    if more:
        shown.append(f"and {more} more in the trace")
    if result.warnings_dropped:
        shown.append(f"and {result.warnings_dropped} more not kept")
    return [f"  warnings: {shown[0]}", *(f"            {s}" for s in shown[1:])]


def _first_line(message: str) -> str:
    lines = message.strip().splitlines() or [""]
    line = lines[0]
    if len(line) > WARNING_CHARS:
        return line[:WARNING_CHARS] + "..."
    return line + (" ..." if len(lines) > 1 else "")


def coverage_text(fault: Mapping[str, Any]) -> str:
    """``timeout-1 (timeout) fired on 1 of 3 matching calls``."""
    head = f"{fault['fault']} ({fault['kind']})"
    if KINDS[FaultKind(fault["kind"])].target is not Target.CALL:
        return f"{head} applied" if fault["fired"] else f"{head} not applied"
    if not fault["fired"]:
        return f"{head} never fired ({fault['matched']} matching calls)"
    return f"{head} fired on {fault['fired']} of {fault['matched']} matching calls"
