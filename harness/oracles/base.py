"""Scores, evidence, and the oracle protocol with its registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.scenario.model import Severity
from harness.world.clock import format_offset

if TYPE_CHECKING:
    from harness.runtime.env import AgentResult
    from harness.scenario.model import Expectations, PolicySpec
    from harness.world.history import HistoryEntry
    from harness.world.ledger import LedgerEntry
    from harness.world.world import World


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """A pointer into the trace: ``ledger#2`` or ``history#14``, with its time."""

    ref: str
    time: float
    text: str

    def render(self) -> str:
        return f"{self.ref:<11} t={format_offset(self.time):<11} {self.text}"

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "time": round(self.time, 6), "text": self.text}


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """One oracle's verdict on a run."""

    oracle: str
    passed: bool
    value: float | None
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    severity: Severity = Severity.BLOCK
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "oracle": self.oracle,
            "passed": self.passed,
            "value": self.value,
            "severity": str(self.severity),
            "explanation": self.explanation,
            "evidence": [e.to_json() for e in self.evidence],
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunView:
    """What an oracle may look at: the final world and the resolved expectations."""

    world: World
    expect: Expectations
    policy: PolicySpec
    agent_result: AgentResult | None


class Oracle(Protocol):
    """Turns a finished run into a Score."""

    def __call__(self, run: RunView) -> Score: ...


ORACLES: dict[str, Oracle] = {}


def oracle(name: str) -> Callable[[Oracle], Oracle]:
    """Register an oracle under ``name`` (built-ins and users' own alike)."""

    def register(func: Oracle) -> Oracle:
        ORACLES[name] = func
        return func

    return register


def history_evidence(entry: HistoryEntry, text: str) -> Evidence:
    """Evidence pointing at one history entry."""
    return Evidence(ref=f"history#{entry.index}", time=entry.time, text=text)


def not_applicable(oracle: str, why: str) -> Score:
    """The score of an oracle with nothing to judge in a run (shown as ``-``)."""
    return Score(oracle=oracle, passed=True, value=None, explanation=why)


def ledger_evidence(entry: LedgerEntry) -> Evidence:
    params = ", ".join([f"{k}: {v}" for k, v in sorted(entry.params.items())])
    call = f" (call #{entry.call})" if entry.call is not None else ""
    return Evidence(
        ref=f"ledger#{entry.seq}",
        time=entry.time,
        text=f"{entry.service}.{entry.operation} {entry.business_key} {{{params}}} "
        f"-> {entry.ref}{call}",
    )
