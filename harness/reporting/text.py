"""Human-readable renderings of a run for the terminal and failure reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.modes.sim import RunResult


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
    if trace:
        lines.append(f"  trace: {trace}")
    lines.append(f"reproduce: {reproduce}")
    return "\n".join(lines)
