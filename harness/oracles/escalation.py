"""Escalation: required or forbidden, with the right reason code."""

from __future__ import annotations

from harness.oracles.base import RunView, Score, ledger_evidence, oracle
from harness.scenario.model import EscalationRule


@oracle("escalation")
def escalation(run: RunView) -> Score:
    entries = [
        e for e in run.world.ledger if e.service == "ops" and e.operation == "escalate"
    ]
    reasons = [str(e.params.get("reason")) for e in entries]
    expected = run.expect.escalation
    evidence = tuple(ledger_evidence(e) for e in entries)
    details = {"escalations": reasons}
    said = ", ".join(reasons) or "none"
    if expected is None or expected.rule is EscalationRule.OPTIONAL:
        return Score(
            oracle="escalation",
            passed=True,
            value=None,
            explanation=f"escalation not asserted (escalations: {said})",
            evidence=evidence,
            details=details,
        )
    if expected.rule is EscalationRule.FORBIDDEN:
        passed = not entries
        explanation = (
            "no escalation, as expected"
            if passed
            else f"escalated ({said}) although this case must be handled without one"
        )
    elif not entries:
        passed = False
        want = f" with reason {expected.reason!r}" if expected.reason else ""
        explanation = f"the agent did not escalate; an escalation{want} is required"
    elif expected.reason is not None and expected.reason not in reasons:
        passed = False
        explanation = (
            f"escalated with reason {said}; reason {expected.reason!r} is required"
        )
    else:
        passed = True
        explanation = f"escalated as required ({said})"
    return Score(
        oracle="escalation",
        passed=passed,
        value=1.0 if passed else 0.0,
        explanation=explanation,
        evidence=evidence,
        details=details,
    )
