"""The canary judge's values: cases, metric specs, thresholds and judgements.

Plain frozen data with its validation and JSON form; the judging itself is in
``harness.modes.judge``, which re-exports every name here.
"""

from __future__ import annotations

import difflib
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.errors import HarnessError

__all__ = [
    "DEFAULT_METRICS",
    "Arm",
    "CaseOutcome",
    "Classification",
    "Direction",
    "JudgeConfig",
    "Judgement",
    "MetricKind",
    "MetricResult",
    "MetricSpec",
    "MinEffect",
    "StatTest",
    "Summary",
    "Verdict",
]


class Arm(StrEnum):
    """Which side of the canary a case ran on."""

    CANDIDATE = "candidate"
    CONTROL = "control"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseOutcome:
    """One generated case run on one arm, as the canary runner records it.

    ``metrics`` holds "pass", "tool_calls", "simulated_seconds", "side_effects",
    "escalated" and "oracle.<name>" (1.0/0.0, None: not judged); ``critical`` the
    case's critical findings, e.g. "duplicated side effect refund:ch_x".
    """

    case_id: str
    template: str
    seed: int
    arm: Arm
    passed: bool
    metrics: Mapping[str, float | None]
    critical: tuple[str, ...]
    side_effects: int
    started: float
    duration: float

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "template": self.template,
            "seed": self.seed,
            "arm": str(self.arm),
            "passed": self.passed,
            "metrics": dict(self.metrics),
            "critical": list(self.critical),
            "side_effects": self.side_effects,
            "started": self.started,
            "duration": self.duration,
        }


class MetricKind(StrEnum):
    """Binary metrics are 0.0/1.0 per case (a rate); continuous ones any number."""

    BINARY = "binary"
    CONTINUOUS = "continuous"


class Direction(StrEnum):
    """Which change of a metric is bad (Kayenta's metric direction)."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class Classification(StrEnum):
    """What the judge made of one metric."""

    PASS = "pass"
    HIGH = "high"
    LOW = "low"
    NODATA = "nodata"


class Verdict(StrEnum):
    """The canary's outcome (Argo Rollouts' analysis phases)."""

    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


class StatTest(StrEnum):
    """The test behind a metric's classification; ``none`` for nodata."""

    MCNEMAR = "mcnemar_exact"
    WILCOXON = "wilcoxon_signed_rank"
    FISHER = "fisher_exact"
    MANN_WHITNEY = "mann_whitney_u"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class MinEffect:
    """The smallest change of a metric's mean that matters in practice.

    A change must exceed both ``absolute`` (in the metric's units: a rate for a
    binary metric) and ``relative`` x |control mean| to be high or low. The
    default, 5% of the control's mean, is a rough practical floor for a metric
    without one of its own; ``MinEffect(absolute=0, relative=0)`` counts any
    significant change.
    """

    absolute: float = 0.0
    relative: float = 0.05

    def __post_init__(self) -> None:
        for name, value in (("absolute", self.absolute), ("relative", self.relative)):
            if not (math.isfinite(value) and value >= 0):
                raise HarnessError(
                    f"MinEffect.{name} must be a finite number >= 0, got {value!r}"
                    "\n    fix: 0 means any significant change counts"
                )

    def threshold(self, control_mean: float) -> float:
        """The change of the mean, in the metric's units, that must be exceeded."""
        return max(self.absolute, self.relative * abs(control_mean))


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSpec:
    """One metric the judge compares: its kind, bad direction and weight.

    A ``critical`` metric that fails fails the canary at once, whatever the score
    (Kayenta's critical metrics); one without data keeps it from succeeding.
    ``weight`` is its share of the score (0: reported only).
    """

    name: str
    kind: MetricKind
    direction: Direction
    critical: bool = False
    weight: float = 1.0
    min_effect: MinEffect = field(default_factory=MinEffect)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise HarnessError(
                f"metric {self.name!r}: weight must be a finite number >= 0,"
                f" got {self.weight!r}\n    fix: 1.0 is the usual weight, 0 reports"
                " the metric without scoring it"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "direction": str(self.direction),
            "critical": self.critical,
            "weight": self.weight,
            "min_effect": {
                "absolute": self.min_effect.absolute,
                "relative": self.min_effect.relative,
            },
        }


#: The outcome metrics weigh most: a regression of ``pass`` (weight 4 of 10) or of
#: ``side_effects`` (3 of 10) fails the canary alone; one cost regression (tool
#: calls, simulated time, escalation rate) leaves 90, marginal: inconclusive.
#: The minimum effects: 2 percentage points of a rate; 0.05 side effects a case
#: or 5% of the control's mean; half a tool call or 10%; a simulated second or 10%.
DEFAULT_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name="pass",
        kind=MetricKind.BINARY,
        direction=Direction.DECREASE,
        weight=4.0,
        min_effect=MinEffect(absolute=0.02, relative=0.0),
    ),
    MetricSpec(
        name="side_effects",
        kind=MetricKind.CONTINUOUS,
        direction=Direction.INCREASE,
        weight=3.0,
        min_effect=MinEffect(absolute=0.05, relative=0.05),
    ),
    MetricSpec(
        name="tool_calls",
        kind=MetricKind.CONTINUOUS,
        direction=Direction.INCREASE,
        min_effect=MinEffect(absolute=0.5, relative=0.10),
    ),
    MetricSpec(
        name="simulated_seconds",
        kind=MetricKind.CONTINUOUS,
        direction=Direction.INCREASE,
        min_effect=MinEffect(absolute=1.0, relative=0.10),
    ),
    MetricSpec(
        name="escalated",
        kind=MetricKind.BINARY,
        direction=Direction.EITHER,
        min_effect=MinEffect(absolute=0.02, relative=0.0),
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgeConfig:
    """The judge's thresholds.

    ``pass_score`` and ``marginal_score`` are Kayenta's defaults. ``min_cases``
    follows Spinnaker's advice of at least 50 data points per metric before a pass
    is trusted. ``min_values`` is the fewest values (or pairs) a side needs for a
    metric to be tested at all: below about 6 no two-sided test at 0.05 can reject.
    """

    alpha: float = 0.05
    pass_score: float = 95.0
    marginal_score: float = 75.0
    min_cases: int = 50
    min_values: int = 10

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise HarnessError(
                f"JudgeConfig.alpha must be between 0 and 1, got {self.alpha!r}"
                "\n    fix: 0.05 is the usual significance level"
            )
        if not 0.0 <= self.marginal_score <= self.pass_score <= 100.0:
            raise HarnessError(
                "JudgeConfig needs 0 <= marginal_score <= pass_score <= 100,"
                f" got marginal {self.marginal_score!r} and pass {self.pass_score!r}"
                "\n    fix: Kayenta's defaults are marginal 75 and pass 95"
            )
        if self.min_cases < 0 or self.min_values < 1:
            raise HarnessError(
                "JudgeConfig needs min_cases >= 0 and min_values >= 1,"
                f" got {self.min_cases!r} and {self.min_values!r}"
                "\n    fix: the defaults are min_cases 50 and min_values 10"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "pass_score": self.pass_score,
            "marginal_score": self.marginal_score,
            "min_cases": self.min_cases,
            "min_values": self.min_values,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """One side's values of a metric: how many, their mean (a rate) and median."""

    n: int
    mean: float | None
    median: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            return cls(n=0, mean=None, median=None)
        return cls(
            n=len(values),
            mean=math.fsum(values) / len(values),
            median=float(statistics.median(values)),
        )

    def describe(self, kind: MetricKind) -> str:
        if self.mean is None or self.median is None:
            return "no values"
        if kind is MetricKind.BINARY:
            return f"rate {self.mean:.3f}"
        return f"mean {_number(self.mean)}, median {_number(self.median)}"

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "median": self.median}


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricResult:
    """How one metric compared: classification, the test behind it, both sides.

    ``effect`` is candidate mean - control mean over the values tested, and
    ``threshold`` the change it had to exceed; ``failed`` says the classification
    is a bad one for the metric's direction. ``pairs`` is 0 when unpaired.
    """

    spec: MetricSpec
    classification: Classification
    failed: bool
    test: StatTest
    p_value: float | None
    paired: bool
    pairs: int
    candidate: Summary
    control: Summary
    effect: float | None
    threshold: float | None
    explanation: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def passed(self) -> bool:
        """A pass, or an improvement; never nodata."""
        return self.classification is not Classification.NODATA and not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            **self.spec.to_json(),
            "classification": str(self.classification),
            "passed": self.passed,
            "failed": self.failed,
            "test": str(self.test),
            "p_value": self.p_value,
            "paired": self.paired,
            "pairs": self.pairs,
            "candidate": self.candidate.to_json(),
            "control": self.control.to_json(),
            "effect": self.effect,
            "threshold": self.threshold,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """The canary's verdict, its score, and the evidence for both."""

    verdict: Verdict
    score: float
    metrics: tuple[MetricResult, ...]
    critical: tuple[str, ...]
    reasons: tuple[str, ...]
    candidate_cases: int
    control_cases: int
    pairs: int
    config: JudgeConfig

    def metric(self, name: str) -> MetricResult:
        """The result of the metric called ``name``."""
        for result in self.metrics:
            if result.name == name:
                return result
        known = [result.name for result in self.metrics]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"judged: {', '.join(known)}"
        raise KeyError(f"no metric {name!r} was judged; {hint}")

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "score": self.score,
            "candidate_cases": self.candidate_cases,
            "control_cases": self.control_cases,
            "pairs": self.pairs,
            "critical": list(self.critical),
            "reasons": list(self.reasons),
            "metrics": [result.to_json() for result in self.metrics],
            "config": self.config.to_json(),
        }


def _number(value: float, *, sign: bool = False) -> str:
    """``value`` to three decimals at most, without trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return f"+{text}" if sign and not text.startswith("-") else text
