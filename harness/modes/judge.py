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
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial

from harness.errors import HarnessError
from harness.modes.judge_model import (
    DEFAULT_METRICS,
    Arm,
    CaseOutcome,
    Classification,
    Direction,
    JudgeConfig,
    Judgement,
    MetricKind,
    MetricResult,
    MetricSpec,
    MinEffect,
    StatTest,
    Summary,
    Verdict,
    _number,
)
from harness.stats import (
    Alternative,
    Significance,
    fisher_one_sided,
    mann_whitney_one_sided,
    mcnemar_exact_one_sided,
    wilcoxon_one_sided,
)

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
    "case_critical",
    "critical_failures",
    "judge",
]


#: ``judge``'s default thresholds, one shared frozen value.
_DEFAULT_CONFIG = JudgeConfig()

_TEST_LABELS = {
    StatTest.MCNEMAR: "McNemar exact",
    StatTest.WILCOXON: "Wilcoxon signed-rank",
    StatTest.FISHER: "Fisher exact",
    StatTest.MANN_WHITNEY: "Mann-Whitney U",
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
    config: JudgeConfig = _DEFAULT_CONFIG,
) -> Judgement:
    """Compare the candidate's cases with the control's and give a verdict."""
    _check_arm(candidate, Arm.CANDIDATE, "candidate")
    _check_arm(control, Arm.CONTROL, "control")
    _check_metrics(metrics)
    pairs = _pair(candidate, control)
    # the metric names the cases report: only a nodata explanation reads them
    reported = cache(partial(_reported, candidate, control))
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


def _reported(
    candidate: Sequence[CaseOutcome], control: Sequence[CaseOutcome]
) -> set[str]:
    """Every metric name a case reports."""
    return set().union(*(case.metrics for case in (*candidate, *control)))


def _pair(
    candidate: Sequence[CaseOutcome], control: Sequence[CaseOutcome]
) -> tuple[_Pair, ...]:
    """Candidate and control cases with the same (template, seed), in order.

    Only the control cases a candidate case could pair with are indexed: a
    canary's control runs every case, its candidate a share of them, and the
    stream is judged again and again as it grows."""
    wanted = {(case.template, case.seed) for case in candidate}
    twins: dict[tuple[str, int], deque[CaseOutcome]] = defaultdict(deque)
    for case in control:
        key = (case.template, case.seed)
        if key in wanted:
            twins[key].append(case)
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
    reported: Callable[[], set[str]],
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
    reported: Callable[[], set[str]],
    config: JudgeConfig,
) -> str:
    names = reported()
    if spec.name not in names:
        close = difflib.get_close_matches(spec.name, sorted(names), n=1)
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
