"""Shadow mode: the candidate acts on a fork of the shared world, never on it.

The shared (production) world is prepared once and only read. The candidate runs
on a fork with identical state (a second :func:`prepare_run` with the same
scenario and seed: worlds are deterministic copy-on-write views of one cached
snapshot, and the fork's state digest is checked to equal the shared world's).
Its writes land in the fork, so the answers it gets stay realistic, and are
captured as proposed actions. Its decision is compared with the scenario's
reference decision, or with a reference agent run twice on two more forks to
measure noise (see :mod:`harness.modes.shadow_diff`); the oracles, evaluated on
the fork, say what the candidate would have done. The shared world's ledger and
state digest prove it untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.errors import HarnessError
from harness.modes.shadow_diff import (
    DEFAULT_THRESHOLDS,
    Decision,
    DecisionAction,
    FieldDiff,
    ShadowSummary,
    ShadowThresholds,
    agreement,
    compare,
)
from harness.oracles.base import Score
from harness.run import RunResult, prepare_run, resolve_agent, run_scenario
from harness.runtime.session import Isolation, agent_name
from harness.scenario.model import DecisionOutcome, ReferenceDecision, Scenario
from harness.scenario.refs import resolve_refs
from harness.world.ledger import LedgerEntry
from harness.world.secrets import Secrets
from harness.world.world import World

__all__ = [
    "Decision",
    "DecisionAction",
    "FieldDiff",
    "ProposedAction",
    "ReferenceSource",
    "ShadowResult",
    "ShadowSummary",
    "ShadowThresholds",
    "SharedState",
    "agreement",
    "consequences",
    "decision_of",
    "reference_decision",
    "run_shadow",
    "state_digest",
]

#: Past tense of writes a would-have line names (others read ``ran <operation>``).
_DONE = {
    "create_refund": "refunded",
    "create_charge": "charged",
    "pay_invoice": "paid",
    "add_ticket_comment": "commented on",
}


class ReferenceSource(StrEnum):
    """Where the reference decisions came from."""

    SCENARIO = "scenario"  # the scenario's ``shadow: reference:``
    AGENT = "agent"  # a reference agent, run twice


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposedAction:
    """A write the candidate made on its fork: what it would have done."""

    service: str
    operation: str
    business_key: str
    params: Mapping[str, Any]
    reversible: bool | None
    time: float

    @classmethod
    def of(cls, entry: LedgerEntry) -> ProposedAction:
        return cls(
            service=entry.service,
            operation=entry.operation,
            business_key=entry.business_key,
            params=dict(entry.params),
            reversible=entry.reversible,
            time=entry.time,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "business_key": self.business_key,
            "params": dict(self.params),
            "reversible": self.reversible,
            "time": round(self.time, 6),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedState:
    """Evidence that shadow mode left the shared world as it found it."""

    #: Digest of every table of the shared world, before and after the runs.
    digest_before: str
    digest_after: str
    #: Digest of the candidate's fork before it acted (equal to digest_before).
    fork_digest: str
    #: Effects committed to the shared world, and its history, after the runs.
    ledger_entries: int
    history_before: int
    history_after: int

    @property
    def untouched(self) -> bool:
        return (
            self.digest_before == self.digest_after
            and self.ledger_entries == 0
            and self.history_before == self.history_after
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "untouched": self.untouched,
            "digest_before": self.digest_before,
            "digest_after": self.digest_after,
            "fork_digest": self.fork_digest,
            "ledger_entries": self.ledger_entries,
            "history_before": self.history_before,
            "history_after": self.history_after,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowResult:
    """One shadow case: the decisions compared, what the candidate would have
    done, and the proof that the shared world was not touched."""

    scenario: Scenario
    seed: int
    candidate_agent: str
    candidate: Decision
    #: One from the scenario; two (primary, secondary) from a reference agent.
    references: tuple[Decision, ...]
    reference_source: ReferenceSource
    reference_agent: str | None
    #: Every field where the candidate differs from the primary reference.
    diffs: tuple[FieldDiff, ...]
    #: Fields the reference runs disagree on: reported, not counted.
    noisy: tuple[str, ...]
    agreed: bool
    proposed: tuple[ProposedAction, ...]
    #: The oracles on the candidate's fork, as ``run_scenario`` scores a run.
    would_have: tuple[Score, ...]
    #: One line per failed oracle: ``would have refunded ch_x twice (...)``.
    consequences: tuple[str, ...]
    shared: SharedState
    thresholds: ShadowThresholds
    #: The candidate's run on its fork (its world, trace and scores).
    run: RunResult
    #: The secrets of the candidate's run, then of the reference runs: what
    #: :meth:`to_json` shows as aliases (the candidate's as in its trace).
    secrets: Secrets = field(default_factory=Secrets)

    @property
    def shared_untouched(self) -> bool:
        return self.shared.untouched

    @property
    def passed(self) -> bool:
        """Whether the case passes the gate (always, when not gating)."""
        return self.thresholds.gate(1.0 if self.agreed else 0.0)

    def to_json(self) -> dict[str, Any]:
        """The case as JSON, every secret of its runs replaced by its alias."""
        return self.secrets.redact_json(self._json())

    def _json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "candidate_agent": self.candidate_agent,
            "reference_source": str(self.reference_source),
            "reference_agent": self.reference_agent,
            "agreed": self.agreed,
            "passed": self.passed,
            "candidate": self.candidate.to_json(),
            "references": [r.to_json() for r in self.references],
            "diffs": [d.to_json() for d in self.diffs],
            "noisy": list(self.noisy),
            "proposed": [a.to_json() for a in self.proposed],
            "would_have": [s.to_json() for s in self.would_have],
            "consequences": list(self.consequences),
            "shared_untouched": self.shared_untouched,
            "shared": self.shared.to_json(),
            "thresholds": self.thresholds.to_json(),
        }


def _records(model: Any) -> bool:
    return getattr(model, "mode", None) in ("record", "live")


def run_shadow(
    scenario: Scenario,
    candidate: Callable[..., Any] | str,
    *,
    seed: int,
    reference_agent: Callable[..., Any] | str | None = None,
    thresholds: ShadowThresholds = DEFAULT_THRESHOLDS,
    wall_timeout: float | None = 60.0,
    isolation: Isolation | None = None,
    model: Any = None,
) -> ShadowResult:
    """Run ``candidate`` in shadow on ``scenario`` with ``seed``.

    The reference is ``reference_agent`` when given (run twice, for noise), else
    the scenario's ``shadow: reference:``. Never raises for agent failures.
    Either agent: a callable or a spec (see :func:`harness.run.resolve_agent`).
    """
    candidate = resolve_agent(candidate, isolation)
    if reference_agent is not None:
        reference_agent = resolve_agent(reference_agent, isolation)
    if reference_agent is None:
        _written_reference(scenario)  # before anything runs: is there one?
    shared = prepare_run(scenario, seed=seed).world
    before, history_before = state_digest(shared), len(shared.history)
    fork = prepare_run(scenario, seed=seed, model=model)
    fork_digest = state_digest(fork.world)
    if fork_digest != before:
        raise HarnessError(
            f"scenario {scenario.name!r}: the candidate's fork differs from the"
            f" shared world (state {fork_digest[:12]} != {before[:12]})\n"
            "    fix: a harness bug (the same scenario and seed must build the same"
            f" world); report it with the scenario and seed {seed}"
        )
    run = run_scenario(
        scenario,
        candidate,
        seed=seed,
        wall_timeout=wall_timeout,
        setup=fork,
        isolation=isolation,
    )
    mine = decision_of(run)
    secrets = Secrets()
    secrets.absorb(run.world.secrets)
    references: tuple[Decision, ...]
    if reference_agent is None:
        written = _written_reference(scenario)
        references = (reference_decision(written, run.world),)
        source = ReferenceSource.SCENARIO
    else:
        reference_runs = [
            run_scenario(
                scenario,
                reference_agent,
                seed=seed,
                wall_timeout=wall_timeout,
                isolation=isolation,
                model=None if _records(model) else model,  # one cassette a run
            )
            for _ in range(2)
        ]
        for reference_run in reference_runs:
            secrets.absorb(reference_run.world.secrets)
        references = tuple(decision_of(r) for r in reference_runs)
        source = ReferenceSource.AGENT
    comparison = compare(
        mine,
        references,
        thresholds=thresholds,
        wildcards=source is ReferenceSource.SCENARIO,
    )
    reference_name = None if reference_agent is None else agent_name(reference_agent)
    evidence = SharedState(
        digest_before=before,
        digest_after=state_digest(shared),
        fork_digest=fork_digest,
        ledger_entries=len(shared.ledger),
        history_before=history_before,
        history_after=len(shared.history),
    )
    return ShadowResult(
        scenario=scenario,
        seed=seed,
        candidate_agent=agent_name(candidate),
        candidate=mine,
        references=references,
        reference_source=source,
        reference_agent=reference_name,
        diffs=comparison.diffs,
        noisy=comparison.noisy,
        agreed=comparison.agreed,
        proposed=tuple(ProposedAction.of(e) for e in run.world.ledger),
        would_have=run.scores,
        consequences=consequences(run),
        shared=evidence,
        thresholds=thresholds,
        run=run,
        secrets=secrets,
    )


def _written_reference(scenario: Scenario) -> ReferenceDecision:
    """The scenario's reference decision, or the error saying how to give one."""
    if scenario.shadow is None:
        raise HarnessError(
            f"scenario {scenario.name!r}: shadow mode has nothing to compare the"
            " candidate with\n    fix: add 'shadow: reference: {outcome: done,"
            " escalation: none, actions: [...]}' to the scenario, or pass"
            " --aqe-reference-agent MODULE:CALLABLE"
        )
    return scenario.shadow.reference


def decision_of(run: RunResult) -> Decision:
    """The decision a run made: ``escalated`` when it reached a human through
    ops, else ``done`` when the agent said so without crashing, else ``failed``."""
    ledger = list(run.world.ledger)
    escalations = [e for e in ledger if _is_escalation(e)]
    crashed = any(s.oracle == "agent" for s in run.scores)
    if escalations:
        outcome = DecisionOutcome.ESCALATED
    elif not crashed and run.agent_result and run.agent_result.status == "done":
        outcome = DecisionOutcome.DONE
    else:
        outcome = DecisionOutcome.FAILED
    names = _record_names(run.world)
    return Decision(
        outcome=outcome,
        escalation=str(escalations[0].params.get("reason")) if escalations else None,
        actions=tuple(
            sorted(
                DecisionAction(operation=e.operation, key=_named(e.business_key, names))
                for e in ledger
                if not _is_escalation(e)
            )
        ),
    )


def reference_decision(reference: ReferenceDecision, world: World) -> Decision:
    """A scenario's reference decision, its keys in decision form
    (``refund:$charge.id`` -> ``refund:$charge``)."""
    names = _record_names(world)
    return Decision(
        outcome=reference.outcome,
        escalation=reference.escalation,
        actions=tuple(
            sorted(
                DecisionAction(
                    operation=a.operation,
                    key=_named(str(resolve_refs(a.key, world.records)), names),
                )
                for a in reference.actions
            )
        ),
    )


def state_digest(world: World) -> str:
    """SHA-256 of every record of every table of ``world``, in a canonical form.

    It reads the shared snapshot under the copy-on-write tables too, so a fake
    that changed a shared record in place would show.
    """
    digest = hashlib.sha256()
    for service in sorted(world.services):
        for collection, table in sorted(world.services[service].state.items()):
            digest.update(f"{service}.{collection}\n".encode())
            records = dict(table.items())
            text = json.dumps(
                records, sort_keys=True, default=repr, separators=(",", ":")
            )
            digest.update(text.encode())
            digest.update(b"\n")
    return digest.hexdigest()


def consequences(run: RunResult) -> tuple[str, ...]:
    """One line per failed oracle of ``run``: what the candidate would have done."""
    lines: list[str] = []
    for score in run.scores:
        if score.passed:
            continue
        if score.oracle == "idempotency" and score.details.get("keys"):
            lines.append(_idempotency_line(run, score.details["keys"]))
        else:
            lines.append(f"would have failed {score.oracle}: {score.explanation}")
    return tuple(lines)


def _idempotency_line(run: RunResult, verdicts: Mapping[str, str]) -> str:
    parts: list[str] = []
    for key, verdict in verdicts.items():
        if verdict in ("ok", "recovered"):
            continue
        entries = run.world.ledger.by_key(key)
        if verdict in ("duplicated", "unexpected") and entries:
            operation = entries[0].operation
            target = key.split(":", 1)[-1]
            done = _DONE.get(operation)
            what = f"{done} {target}" if done else f"ran {operation} on {target}"
            parts.append(f"{what} {_times(len(entries))} ({key}: {verdict})")
        elif verdict == "lost" and entries:
            parts.append(f"committed {key} only {_times(len(entries))} (lost)")
        elif verdict == "lost":
            parts.append(f"never committed {key} (lost)")
        else:
            parts.append(f"committed {key} without learning it had ({verdict})")
    if not parts:
        return "would have failed idempotency"
    return "would have " + "; ".join(parts)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _is_escalation(entry: LedgerEntry) -> bool:
    return entry.service == "ops" and entry.operation == "escalate"


def _record_names(world: World) -> list[tuple[str, str]]:
    """``(record id, $name)`` of the scenario's named records, longest id first."""
    named = [
        (str(record["id"]), f"${name}")
        for name, record in world.records.items()
        if isinstance(record.get("id"), str) and record["id"]
    ]
    return sorted(named, key=lambda pair: (-len(pair[0]), pair[0]))


def _named(key: str, names: list[tuple[str, str]]) -> str:
    for ident, name in names:
        key = key.replace(ident, name)
    return key
