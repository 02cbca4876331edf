"""The scenario, as the rest of the harness sees it: frozen values, no YAML.

Strings may hold record references (``$charge.id``), resolved against the named
world records when a run starts (see :mod:`harness.scenario.refs`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.faults.kind import Commit as Commit
from harness.faults.spec import FaultKind as FaultKind
from harness.faults.spec import FaultMatch as FaultMatch
from harness.faults.spec import FaultSpec as FaultSpec
from harness.faults.spec import FaultWhen as FaultWhen
from harness.policy.model import ApprovalRule as ApprovalRule
from harness.policy.model import PolicyPack
from harness.policy.model import PolicySpec as PolicySpec


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


class Decision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    IGNORE = "ignore"


class EscalationRule(StrEnum):
    REQUIRED = "required"
    FORBIDDEN = "forbidden"
    OPTIONAL = "optional"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSpec:
    instructions: str
    input: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSpec:
    """A named record created on top of the seeded world."""

    service: str
    kind: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorldSpec:
    seed: int | None = None
    scale: str = "small"
    records: Mapping[str, RecordSpec] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproverSpec:
    decision: Decision
    after: float  # simulated seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class HumansSpec:
    approver: ApproverSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyExpectation:
    key: str
    max_effects: int = 1
    min_effects: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationExpectation:
    rule: EscalationRule
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeAssertion:
    """Count records of ``kind`` matching ``where``, or read ``field`` of ``id``."""

    service: str
    kind: str
    where: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    field: str | None = None
    equals: Any = None
    at_least: int | None = None
    at_most: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrajectoryExpectation:
    """Tools the agent must use, must avoid, their order, and their arguments."""

    uses: tuple[str, ...] = ()
    avoids: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    args: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectations:
    idempotency: tuple[IdempotencyExpectation, ...] = ()
    escalation: EscalationExpectation | None = None
    outcome: tuple[OutcomeAssertion, ...] = ()
    trajectory: TrajectoryExpectation | None = None
    #: The only collections (``service.collection``) the run may change.
    changes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PassHatK:
    """pass^k must be at least ``min``: k runs drawn from those made all pass."""

    k: int
    min: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdVerdict:
    met: bool
    #: ``pass rate 0.80 >= 0.80; pass^3 0.40 < 0.50``
    explanation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """What a scenario must reach over its runs to pass as a whole.

    Without thresholds every run must pass. With them, a scenario whose runs meet
    every threshold passes the session although some runs failed (an agent that is
    right 9 times in 10 may be good enough to ship; the failed runs stay visible).
    """

    pass_rate: float | None = None
    pass_hat_k: PassHatK | None = None

    def judge(self, runs: int, passed: int) -> ThresholdVerdict:
        """Whether ``passed`` of ``runs`` meets every threshold, and why."""
        parts: list[str] = []
        met = True
        if self.pass_rate is not None:
            rate = passed / runs if runs else 0.0
            ok = runs > 0 and rate >= self.pass_rate
            met &= ok
            parts.append(
                f"pass rate {rate:.2f} {'>=' if ok else '<'} {self.pass_rate:.2f}"
            )
        if self.pass_hat_k is not None:
            k = self.pass_hat_k.k
            if k > runs:
                met = False
                parts.append(f"pass^{k} needs {k} runs, only {runs} made")
            else:
                value = math.comb(passed, k) / math.comb(runs, k)
                ok = value >= self.pass_hat_k.min
                met &= ok
                sign = ">=" if ok else "<"
                parts.append(f"pass^{k} {value:.2f} {sign} {self.pass_hat_k.min:.2f}")
        return ThresholdVerdict(met=met, explanation="; ".join(parts))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.pass_rate is not None:
            out["pass_rate"] = self.pass_rate
        if self.pass_hat_k is not None:
            out["pass_hat_k"] = {"k": self.pass_hat_k.k, "min": self.pass_hat_k.min}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Thresholds | None:
        if not data:
            return None
        hat = data.get("pass_hat_k")
        return cls(
            pass_rate=None
            if data.get("pass_rate") is None
            else float(data["pass_rate"]),
            pass_hat_k=None
            if hat is None
            else PassHatK(k=int(hat["k"]), min=float(hat["min"])),
        )


class DecisionOutcome(StrEnum):
    """How a run ended, as shadow mode compares decisions."""

    DONE = "done"
    ESCALATED = "escalated"  # handed to a human through ops
    FAILED = "failed"  # crashed, stopped by the harness, or gave up


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceAction:
    """A write the reference makes: its operation and business key.

    ``key`` may hold record references (``refund:$charge.id``) and ``*`` for any
    text (``comment:$ticket.id:*``: a comment whatever its wording).
    """

    operation: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceDecision:
    """What a correct agent decides in a scenario (shadow mode's reference)."""

    outcome: DecisionOutcome
    #: The escalation's reason code; None: no escalation.
    escalation: str | None = None
    actions: tuple[ReferenceAction, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowSpec:
    """A scenario's shadow-mode settings: the reference decision."""

    reference: ReferenceDecision


class Mode(StrEnum):
    SIM = "sim"
    SHADOW = "shadow"
    CANARY = "canary"


@dataclass(frozen=True, slots=True, kw_only=True)
class Variation:
    """One value a canary case draws: from ``[low, high]`` or from ``choices``."""

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()

    def draw(self, rng: random.Random) -> Any:
        if self.choices:
            return rng.choice(self.choices)
        # the schema requires both bounds when there are no choices
        assert self.low is not None
        assert self.high is not None
        if float(self.low).is_integer() and float(self.high).is_integer():
            return rng.randint(int(self.low), int(self.high))
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True, slots=True, kw_only=True)
class CanarySpec:
    """How canary cases vary a template: ``input.<key>`` or
    ``records.<name>.<field>`` to a drawn value."""

    vary: Mapping[str, Variation] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """A scenario's ``model:``: its scripted model and where its cassettes are."""

    #: ``MODULE:CALLABLE``: a scripted model (imported when a run needs it).
    script: str | None = None
    #: A scripted model written as data (checked when the scenario loads).
    turns: tuple[Mapping[str, Any], ...] | None = None
    #: The cassettes' folder as written (relative to the scenario file).
    cassettes: str | None = None
    #: Where ``model:`` is written (``file:line``), for errors found later.
    at: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A validated scenario: task, world, faults, policy, humans, expectations."""

    name: str
    rationale: str
    task: TaskSpec
    tags: tuple[str, ...] = ()
    severity: Severity = Severity.BLOCK
    #: Severity per oracle, where it differs from ``severity``.
    severities: Mapping[str, Severity] = field(default_factory=dict)
    #: Runs per session, each with its own derived seed (``--aqe-seeds`` wins).
    seeds: int = 1
    #: What its runs must reach together; None: every run must pass.
    thresholds: Thresholds | None = None
    #: The scenario's own mode (``--aqe-mode`` wins); None: sim.
    mode: Mode | None = None
    canary: CanarySpec | None = None
    world: WorldSpec = field(default_factory=WorldSpec)
    faults: tuple[FaultSpec, ...] = ()
    policy: PolicyPack = field(default_factory=PolicyPack)
    humans: HumansSpec = field(default_factory=HumansSpec)
    expect: Expectations = field(default_factory=Expectations)
    #: Shadow mode's reference decision; None: compare with a reference agent.
    shadow: ShadowSpec | None = None
    #: The scenario's model (``--aqe-model`` wins); None: none of its own.
    model: ModelSpec | None = None
    path: Path | None = None
    source_sha256: str | None = None

    def with_faults(self, faults: Iterable[FaultSpec]) -> Scenario:
        """This scenario with ``faults`` as its fault plan (instead of its own)."""
        return replace(self, faults=tuple(faults))
