"""Outcome: assertions on the final state of the simulated systems."""

from __future__ import annotations

from typing import Any

from harness.oracles.base import Evidence, RunView, Score, not_applicable, oracle
from harness.scenario.model import OutcomeAssertion


@oracle("outcome")
def outcome(run: RunView) -> Score:
    failures: list[str] = []
    checked = 0
    for assertion in run.expect.outcome:
        checked += 1
        problem = _check(run, assertion)
        if problem is not None:
            failures.append(problem)
    failed = len(failures)
    if run.expect.changes is not None:
        checked += 1
        unexpected = _unexpected_changes(run, run.expect.changes)
        failures.extend(unexpected)
        failed += bool(unexpected)
    if not checked:
        return not_applicable("outcome", "no outcome assertions")
    return Score(
        oracle="outcome",
        passed=not failures,
        value=(checked - failed) / checked,
        explanation="; ".join(failures) or f"all {checked} outcome assertion(s) hold",
        evidence=tuple(
            Evidence(ref="state", time=run.world.clock.now, text=f) for f in failures
        ),
    )


def _check(run: RunView, a: OutcomeAssertion) -> str | None:
    service = run.world.service(a.service)
    if a.id is not None:
        record = service.records(a.kind).get(str(a.id))
        label = f"{a.service}.{a.kind}[{a.id}].{a.field}"
        if record is None:
            return f"{a.service}.{a.kind} has no record {a.id!r}"
        actual: Any = record.get(a.field or "")
        if a.equals is not None and actual != a.equals:
            return f"expected {label} == {a.equals!r}, found {actual!r}"
        return None
    count = len(service.query(a.kind, a.where))
    where = ", ".join(f"{k}: {v}" for k, v in a.where.items())
    label = (
        f"{a.service}.{a.kind} where {{{where}}}" if where else f"{a.service}.{a.kind}"
    )
    if a.equals is not None and count != a.equals:
        return f"expected count of {label} == {a.equals}, found {count}"
    if a.at_least is not None and count < a.at_least:
        return f"expected count of {label} >= {a.at_least}, found {count}"
    if a.at_most is not None and count > a.at_most:
        return f"expected count of {label} <= {a.at_most}, found {count}"
    return None


def _unexpected_changes(run: RunView, allowed: tuple[str, ...]) -> list[str]:
    """Changes outside the collections the scenario allows (other writers' aside)."""
    others = {
        str(h.value.get("record"))
        for h in run.world.history.by_process("nemesis")
        if h.f == "external_write"
    }
    agent_refs = {str(e.ref) for e in run.world.ledger}
    problems = []
    for name, service in run.world.services.items():
        for collection, table in service.state.items():
            if f"{name}.{collection}" in allowed:
                continue
            changed = [
                k
                for k in table.changed_since_start()
                if k not in others or k in agent_refs
            ]
            if changed:
                shown = ", ".join(sorted(changed)[:3])
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                problems.append(
                    f"unexpected change to {name}.{collection} ({shown}{more});"
                    f" the scenario allows changes to {', '.join(allowed) or 'nothing'}"
                )
    return problems
