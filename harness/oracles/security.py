"""Security: no request may leave the simulation."""

from __future__ import annotations

from harness.oracles.base import RunView, Score, history_evidence, oracle


@oracle("security")
def security(run: RunView) -> Score:
    blocked = [
        h for h in run.world.history.by_process("security") if h.f == "blocked_request"
    ]
    evidence = tuple(
        history_evidence(
            h,
            f"blocked {h.value.get('method')} {h.value.get('url')} "
            f"(via {h.value.get('door')})",
        )
        for h in blocked
    )
    if blocked:
        explanation = (
            f"{len(blocked)} outbound request(s) to hosts outside the simulation "
            "were blocked"
        )
    else:
        explanation = "every request stayed inside the simulation"
    return Score(
        oracle="security",
        passed=not blocked,
        value=float(len(blocked)),
        explanation=explanation,
        evidence=evidence,
    )
