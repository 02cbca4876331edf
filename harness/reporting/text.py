"""Human-readable renderings of a run for the terminal and failure reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.scenario.fault_kinds import KINDS, Target
from harness.scenario.model import FaultKind

if TYPE_CHECKING:
    from harness.run import RunResult


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
        lines.append("  faults: " + "; ".join(map(_coverage, result.fault_coverage)))
    if trace:
        lines.append(f"  trace: {trace}")
    lines.append(f"reproduce: {reproduce}")
    return result.world.secrets.redact("\n".join(lines))


def _coverage(fault: Mapping[str, Any]) -> str:
    """``timeout-1 (timeout) fired on 1 of 3 matching calls``."""
    head = f"{fault['fault']} ({fault['kind']})"
    if KINDS[FaultKind(fault["kind"])].target is not Target.CALL:
        return f"{head} applied" if fault["fired"] else f"{head} not applied"
    if not fault["fired"]:
        return f"{head} never fired ({fault['matched']} matching calls)"
    return f"{head} fired on {fault['fired']} of {fault['matched']} matching calls"
