"""The canary judge: compare a candidate's cases with a control's, metric by metric.

In the manner of Kayenta and Argo Rollouts:

* Each metric is classified ``pass``, ``high``, ``low`` or ``nodata``. It is
  ``nodata`` when either side has fewer than ``JudgeConfig.min_values`` values;
  else ``high`` (``low``) when a two-sided test finds the candidate higher (lower)
  at ``alpha`` *and* the change of the means exceeds the metric's ``MinEffect``;
  else ``pass``. A significant but tiny change is a pass.
* Cases pair when they share (template, seed) across the arms. With at least
  ``min_values`` pairs holding a metric, only the pairs are tested: McNemar's exact
  test for binary metrics, Wilcoxon's signed-rank test for continuous ones. Else
  every value is tested unpaired: Fisher's exact test, Mann-Whitney's U. The
  two-sided p is twice the smaller one-sided p (at most 1).
* ``Direction`` is Kayenta's: a ``high`` fails an ``increase`` metric, a ``low``
  fails a ``decrease`` metric, both fail an ``either`` metric; the other one is an
  improvement and passes. ``nodata`` never passes.
* The score is the weighted share of passing metrics, x 100. The verdict is
  ``failed`` on any critical finding of a candidate case (a duplicated side
  effect, a blocking policy violation), on a failing critical metric, or when the
  score is below ``marginal_score`` and some metric failed (a score that is low
  only for want of data is ``inconclusive``, not a failure); ``successful`` when
  the score reaches ``pass_score`` with at least ``min_cases`` candidate cases
  and data for every critical metric; else ``inconclusive``.

Pure functions and no randomness: the same cases give the same judgement.
"""

from __future__ import annotations

import difflib
import math
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from harness.errors import HarnessError
from harness.reporting.stats import (
    Alternative,
    Significance,
    fisher_one_sided,
    mann_whitney_one_sided,
    mcnemar_exact_one_sided,
    wilcoxon_one_sided,
)


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


_TEST_LABELS = {
    StatTest.MCNEMAR: "McNemar exact",
    StatTest.WILCOXON: "Wilcoxon signed-rank",
    StatTest.FISHER: "Fisher exact",
    StatTest.MANN_WHITNEY: "Mann-Whitney U",
}


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


def case_critical(case: CaseOutcome) -> tuple[str, ...]:
    """A candidate case's critical findings, each naming the case; () for control.

    The kill switch calls this after every candidate case: it looks at one case.
    """
    if case.arm != Arm.CANDIDATE:
        return ()
    where = f"{case.case_id} ({case.template}, seed {case.seed})"
    return tuple(f"{where}: {finding}" for finding in case.critical)


def critical_failures(cases: Iterable[CaseOutcome]) -> tuple[str, ...]:
    """Every critical finding of the candidate cases, in case order."""
    return tuple(finding for case in cases for finding in case_critical(case))


def judge(
    candidate: Sequence[CaseOutcome],
    control: Sequence[CaseOutcome],
    *,
    metrics: Sequence[MetricSpec] = DEFAULT_METRICS,
    config: JudgeConfig = JudgeConfig(),
) -> Judgement:
    """Compare the candidate's cases with the control's and give a verdict."""
    _check_arm(candidate, Arm.CANDIDATE, "candidate")
    _check_arm(control, Arm.CONTROL, "control")
    _check_metrics(metrics)
    pairs = _pair(candidate, control)
    reported = {name for case in (*candidate, *control) for name in case.metrics}
    results = tuple(
        _judge_metric(spec, candidate, control, pairs, reported, config)
        for spec in metrics
    )
    total = math.fsum(result.spec.weight for result in results)
    passing = math.fsum(result.spec.weight for result in results if result.passed)
    score = 100.0 * passing / total
    critical = critical_failures(candidate)
    outcome = _verdict(results, critical, score, len(candidate), len(control), config)
    return Judgement(
        verdict=outcome.verdict,
        score=score,
        metrics=results,
        critical=critical,
        reasons=outcome.reasons,
        candidate_cases=len(candidate),
        control_cases=len(control),
        pairs=len(pairs),
        config=config,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pair:
    candidate: CaseOutcome
    control: CaseOutcome


def _check_arm(cases: Sequence[CaseOutcome], arm: Arm, argument: str) -> None:
    for case in cases:
        if case.arm != arm:
            raise HarnessError(
                f"judge: case {case.case_id} is a {case.arm} case but was passed"
                f" as {argument}\n    fix: pass candidate cases as the first"
                " argument and control cases as the second"
            )


def _check_metrics(metrics: Sequence[MetricSpec]) -> None:
    names = [spec.name for spec in metrics]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise HarnessError(
            f"judge: metric {duplicated[0]!r} is listed more than once"
            "\n    fix: list each metric once"
        )
    if not any(spec.weight > 0 for spec in metrics):
        raise HarnessError(
            "judge: no metric has a positive weight, so there is nothing to score"
            "\n    fix: judge at least one metric with weight > 0, e.g. DEFAULT_METRICS"
        )


def _pair(
    candidate: Sequence[CaseOutcome], control: Sequence[CaseOutcome]
) -> tuple[_Pair, ...]:
    """Candidate and control cases with the same (template, seed), in order."""
    twins: dict[tuple[str, int], deque[CaseOutcome]] = defaultdict(deque)
    for case in control:
        twins[case.template, case.seed].append(case)
    pairs = []
    for case in candidate:
        waiting = twins.get((case.template, case.seed))
        if waiting:
            pairs.append(_Pair(candidate=case, control=waiting.popleft()))
    return tuple(pairs)


def _value(case: CaseOutcome, spec: MetricSpec) -> float | None:
    value = case.metrics.get(spec.name)
    if value is None:
        return None
    value = float(value)
    if spec.kind is MetricKind.BINARY and value not in (0.0, 1.0):
        raise HarnessError(
            f"judge: case {case.case_id}: binary metric {spec.name!r} must be 0.0"
            f" or 1.0, got {value!r}\n    fix: declare it MetricKind.CONTINUOUS,"
            " or record 1.0 for yes and 0.0 for no"
        )
    if not math.isfinite(value):
        raise HarnessError(
            f"judge: case {case.case_id}: metric {spec.name!r} is {value!r}"
            "\n    fix: record None for a metric that was not measured"
        )
    return value


def _values(cases: Sequence[CaseOutcome], spec: MetricSpec) -> list[float]:
    return [v for v in (_value(case, spec) for case in cases) if v is not None]


def _judge_metric(
    spec: MetricSpec,
    candidate: Sequence[CaseOutcome],
    control: Sequence[CaseOutcome],
    pairs: Sequence[_Pair],
    reported: set[str],
    config: JudgeConfig,
) -> MetricResult:
    paired_cand: list[float] = []
    paired_ctrl: list[float] = []
    for pair in pairs:
        cand, ctrl = _value(pair.candidate, spec), _value(pair.control, spec)
        if cand is not None and ctrl is not None:
            paired_cand.append(cand)
            paired_ctrl.append(ctrl)
    paired = len(paired_cand) >= config.min_values
    if paired:
        cand_values, ctrl_values = paired_cand, paired_ctrl
    else:
        cand_values, ctrl_values = _values(candidate, spec), _values(control, spec)
    cand_summary, ctrl_summary = Summary.of(cand_values), Summary.of(ctrl_values)
    if (
        cand_summary.mean is None
        or ctrl_summary.mean is None
        or (min(cand_summary.n, ctrl_summary.n) < config.min_values)
    ):
        return MetricResult(
            spec=spec,
            classification=Classification.NODATA,
            failed=False,
            test=StatTest.NONE,
            p_value=None,
            paired=False,
            pairs=0,
            candidate=cand_summary,
            control=ctrl_summary,
            effect=None,
            threshold=None,
            explanation=_nodata_text(
                spec, cand_summary, ctrl_summary, reported, config
            ),
        )
    tested = _test(spec.kind, paired, cand_values, ctrl_values)
    lower, higher = tested.lower.p_value, tested.higher.p_value
    p_value = min(1.0, 2.0 * min(lower, higher))
    significant = p_value < config.alpha
    effect = cand_summary.mean - ctrl_summary.mean
    threshold = spec.min_effect.threshold(ctrl_summary.mean)
    classification = Classification.PASS
    if significant and higher < lower and effect > threshold:
        classification = Classification.HIGH
    elif significant and lower < higher and -effect > threshold:
        classification = Classification.LOW
    failed = _is_bad(classification, spec.direction)
    sample = (
        f"{cand_summary.n} pairs"
        if paired
        else (f"{cand_summary.n} candidate and {ctrl_summary.n} control cases")
    )
    outcome = str(classification)
    if classification is not Classification.PASS and not failed:
        outcome += ", an improvement"
    explanation = (
        f"{spec.name} is {outcome}: candidate {cand_summary.describe(spec.kind)}"
        f" vs control {ctrl_summary.describe(spec.kind)}"
        f" ({_TEST_LABELS[tested.test]}, {sample}, p = {p_value:.3g}"
    )
    if significant and classification is Classification.PASS:
        explanation += (
            f", change {_number(effect, sign=True)} within the minimum effect"
            f" {_number(threshold)}"
        )
    return MetricResult(
        spec=spec,
        classification=classification,
        failed=failed,
        test=tested.test,
        p_value=p_value,
        paired=paired,
        pairs=cand_summary.n if paired else 0,
        candidate=cand_summary,
        control=ctrl_summary,
        effect=effect,
        threshold=threshold,
        explanation=explanation + ")",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Tested:
    test: StatTest
    lower: Significance
    higher: Significance


def _test(
    kind: MetricKind, paired: bool, cand: Sequence[float], ctrl: Sequence[float]
) -> _Tested:
    """Both one-sided tests of the candidate against the control."""
    run: partial[Significance]
    if kind is MetricKind.BINARY and paired:
        cand_only = sum(1 for c, b in zip(cand, ctrl, strict=True) if c > b)
        ctrl_only = sum(1 for c, b in zip(cand, ctrl, strict=True) if c < b)
        test, run = (
            StatTest.MCNEMAR,
            partial(mcnemar_exact_one_sided, cand_only, ctrl_only),
        )
    elif kind is MetricKind.BINARY:
        counts = (round(sum(ctrl)), len(ctrl), round(sum(cand)), len(cand))
        test, run = StatTest.FISHER, partial(fisher_one_sided, *counts)
    elif paired:
        test, run = StatTest.WILCOXON, partial(wilcoxon_one_sided, ctrl, cand)
    else:
        test, run = StatTest.MANN_WHITNEY, partial(mann_whitney_one_sided, ctrl, cand)
    return _Tested(
        test=test,
        lower=run(alternative=Alternative.LOWER),
        higher=run(alternative=Alternative.HIGHER),
    )


def _number(value: float, *, sign: bool = False) -> str:
    """``value`` to three decimals at most, without trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return f"+{text}" if sign and not text.startswith("-") else text


def _is_bad(classification: Classification, direction: Direction) -> bool:
    if classification is Classification.HIGH:
        return direction in (Direction.INCREASE, Direction.EITHER)
    if classification is Classification.LOW:
        return direction in (Direction.DECREASE, Direction.EITHER)
    return False


def _nodata_text(
    spec: MetricSpec,
    cand: Summary,
    ctrl: Summary,
    reported: set[str],
    config: JudgeConfig,
) -> str:
    if spec.name not in reported:
        close = difflib.get_close_matches(spec.name, sorted(reported), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{spec.name} is nodata: no case reports it{hint}"
    return (
        f"{spec.name} is nodata: {cand.n} candidate and {ctrl.n} control values,"
        f" need {config.min_values} on each side"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:
    verdict: Verdict
    reasons: tuple[str, ...]


def _verdict(
    results: Sequence[MetricResult],
    critical: Sequence[str],
    score: float,
    candidate_cases: int,
    control_cases: int,
    config: JudgeConfig,
) -> _Outcome:
    failing = [result for result in results if result.failed]
    nodata = [r for r in results if r.classification is Classification.NODATA]
    reasons = [f"critical: {finding}" for finding in critical]
    reasons += [result.explanation for result in (*failing, *nodata)]
    reasons.append(
        f"score {score:.1f} (pass {config.pass_score:g},"
        f" marginal {config.marginal_score:g})"
    )

    def done(verdict: Verdict, why: str) -> _Outcome:
        return _Outcome(verdict=verdict, reasons=(*reasons, f"{verdict}: {why}"))

    if critical:
        return done(
            Verdict.FAILED, f"{len(critical)} critical finding(s) in candidate cases"
        )
    critical_failed = [result.name for result in failing if result.spec.critical]
    if critical_failed:
        return done(
            Verdict.FAILED, f"critical metric {', '.join(critical_failed)} failed"
        )
    if failing and score < config.marginal_score:
        return done(
            Verdict.FAILED,
            f"score {score:.1f} is below the marginal {config.marginal_score:g}",
        )
    if candidate_cases < config.min_cases:
        return done(
            Verdict.INCONCLUSIVE,
            f"{candidate_cases} candidate cases, fewer than the {config.min_cases}"
            " a successful verdict needs",
        )
    if score < config.pass_score:
        return done(
            Verdict.INCONCLUSIVE,
            f"score {score:.1f} is below the pass {config.pass_score:g}",
        )
    critical_nodata = [result.name for result in nodata if result.spec.critical]
    if critical_nodata:
        return done(
            Verdict.INCONCLUSIVE,
            f"critical metric {', '.join(critical_nodata)} has no data",
        )
    return done(
        Verdict.SUCCESSFUL,
        f"score {score:.1f} over {candidate_cases} candidate and"
        f" {control_cases} control cases",
    )
