from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu  # type: ignore[import-untyped]

from harness.errors import HarnessError
from harness.modes.judge import (
    DEFAULT_METRICS,
    Arm,
    CaseOutcome,
    Classification,
    Direction,
    JudgeConfig,
    MetricKind,
    MetricSpec,
    MinEffect,
    StatTest,
    Verdict,
    _pair,
    case_critical,
    critical_failures,
    judge,
)


def case(
    index: int,
    arm: Arm = Arm.CANDIDATE,
    *,
    seed: int | None = None,
    template: str = "refund",
    passed: bool = True,
    side_effects: int = 1,
    tool_calls: float = 6.0,
    seconds: float = 30.0,
    escalated: bool | None = False,
    critical: tuple[str, ...] = (),
) -> CaseOutcome:
    return CaseOutcome(
        case_id=f"c{index:06d}",
        template=template,
        seed=index if seed is None else seed,
        arm=arm,
        passed=passed,
        metrics={
            "pass": 1.0 if passed else 0.0,
            "side_effects": float(side_effects),
            "tool_calls": tool_calls,
            "simulated_seconds": seconds,
            "escalated": None if escalated is None else float(escalated),
        },
        critical=critical,
        side_effects=side_effects,
        started=30.0 * index,
        duration=seconds,
    )


def varied(index: int, arm: Arm = Arm.CANDIDATE, **overrides: object) -> CaseOutcome:
    """A case whose metrics vary with its index, as real cases do."""
    values: dict[str, object] = {
        "side_effects": index % 3,
        "tool_calls": 4.0 + index % 5,
        "seconds": 20.0 + (index * 7) % 13,
        "escalated": index % 4 == 0,
    }
    values.update(overrides)
    return case(index, arm, **values)  # type: ignore[arg-type]


def twin(outcome: CaseOutcome, **changes: object) -> CaseOutcome:
    """The control twin of a candidate case: same template and seed."""
    return replace(outcome, arm=Arm.CONTROL, **changes)  # type: ignore[arg-type]


def arms(n: int) -> tuple[list[CaseOutcome], list[CaseOutcome]]:
    candidate = [varied(i) for i in range(n)]
    return candidate, [twin(outcome) for outcome in candidate]


def classes(
    cases: Sequence[CaseOutcome], other: Sequence[CaseOutcome]
) -> dict[str, str]:
    judgement = judge(cases, other)
    return {result.name: str(result.classification) for result in judgement.metrics}


def test_identical_arms_are_successful_with_every_metric_passing() -> None:
    candidate, control = arms(200)
    judgement = judge(candidate, control)
    assert judgement.verdict is Verdict.SUCCESSFUL
    assert judgement.score == 100.0
    assert judgement.pairs == 200
    assert judgement.critical == ()
    for result in judgement.metrics:
        assert result.classification is Classification.PASS, result.name
        assert result.paired
        assert result.pairs == 200
        # Every difference is zero: no evidence at all.
        assert result.p_value == 1.0
    assert [result.test for result in judgement.metrics] == [
        StatTest.MCNEMAR,
        StatTest.WILCOXON,
        StatTest.WILCOXON,
        StatTest.WILCOXON,
        StatTest.MCNEMAR,
    ]
    assert judgement.reasons == (
        "score 100.0 (pass 95, marginal 75)",
        "successful: score 100.0 over 200 candidate and 200 control cases",
    )


metric_values = st.fixed_dictionaries(
    {
        "passed": st.booleans(),
        "side_effects": st.integers(min_value=0, max_value=4),
        "tool_calls": st.integers(min_value=0, max_value=30).map(float),
        "seconds": st.floats(min_value=0, max_value=600, allow_nan=False),
        "escalated": st.booleans(),
    }
)


def expected_verdict(n: int) -> Verdict:
    config = JudgeConfig()
    return Verdict.SUCCESSFUL if n >= config.min_cases else Verdict.INCONCLUSIVE


@settings(max_examples=60, deadline=None)
@given(st.lists(metric_values, max_size=80))
def test_identical_paired_case_streams_never_fail(
    values: list[dict[str, object]],
) -> None:
    candidate = [case(i, **v) for i, v in enumerate(values)]  # type: ignore[arg-type]
    control = [twin(outcome) for outcome in candidate]
    judgement = judge(candidate, control)
    assert judgement.verdict is expected_verdict(len(values))
    assert not any(result.failed for result in judgement.metrics)


@settings(max_examples=60, deadline=None)
@given(st.lists(metric_values, max_size=80))
def test_identically_distributed_unpaired_arms_never_fail(
    values: list[dict[str, object]],
) -> None:
    candidate = [case(i, **v) for i, v in enumerate(values)]  # type: ignore[arg-type]
    # The same values on other seeds, in another order: nothing pairs.
    control = [
        twin(outcome, seed=outcome.seed + 10**6, case_id=f"x{outcome.case_id}")
        for outcome in reversed(candidate)
    ]
    judgement = judge(candidate, control)
    assert judgement.pairs == 0
    assert judgement.verdict is expected_verdict(len(values))
    assert not any(result.failed for result in judgement.metrics)


def test_cases_pair_by_template_and_seed_not_by_position() -> None:
    candidate, control = arms(60)
    judgement = judge(candidate, list(reversed(control)))
    assert judgement.pairs == 60
    assert judgement.metric("tool_calls").test is StatTest.WILCOXON
    assert judgement.metric("tool_calls").p_value == 1.0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 5)), max_size=30),
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 7)), max_size=60),
)
def test_each_candidate_case_pairs_with_the_first_unpaired_control_twin(
    cand_keys: list[tuple[str, int]], ctrl_keys: list[tuple[str, int]]
) -> None:
    candidate = [case(i, template=t, seed=s) for i, (t, s) in enumerate(cand_keys)]
    control = [
        case(1000 + i, Arm.CONTROL, template=t, seed=s)
        for i, (t, s) in enumerate(ctrl_keys)
    ]
    expected, used = [], set()
    for cand in candidate:
        ctrl = next(
            (
                c
                for c in control
                if id(c) not in used
                and (c.template, c.seed) == (cand.template, cand.seed)
            ),
            None,
        )
        if ctrl is not None:
            used.add(id(ctrl))
            expected.append((cand.case_id, ctrl.case_id))
    pairs = _pair(candidate, control)
    assert [(p.candidate.case_id, p.control.case_id) for p in pairs] == expected
    assert judge(candidate, control).pairs == len(expected)


def test_a_pass_rate_drop_from_100_to_80_percent_over_200_pairs_fails() -> None:
    candidate = [varied(i, passed=i % 5 != 0) for i in range(200)]
    control = [
        twin(outcome, metrics={**outcome.metrics, "pass": 1.0}) for outcome in candidate
    ]
    judgement = judge(candidate, control)
    result = judgement.metric("pass")
    assert result.classification is Classification.LOW
    assert result.failed
    assert result.test is StatTest.MCNEMAR
    assert result.paired
    assert result.pairs == 200
    # 40 discordant pairs, all against the candidate: two-sided p = 2 * (1/2)**40.
    assert result.p_value == pytest.approx(2 * 0.5**40)
    assert result.candidate.mean == pytest.approx(0.8)
    assert result.control.mean == 1.0
    assert result.effect == pytest.approx(-0.2)
    assert judgement.score == 60.0
    assert judgement.verdict is Verdict.FAILED
    assert judgement.reasons == (
        "pass is low: candidate rate 0.800 vs control rate 1.000"
        " (McNemar exact, 200 pairs, p = 1.82e-12)",
        "score 60.0 (pass 95, marginal 75)",
        "failed: score 60.0 is below the marginal 75",
    )


def test_two_extra_side_effects_per_case_fail() -> None:
    control = [twin(varied(i)) for i in range(200)]
    candidate = [
        varied(i, side_effects=outcome.side_effects + 2)
        for i, outcome in enumerate(control)
    ]
    judgement = judge(candidate, control)
    result = judgement.metric("side_effects")
    assert result.classification is Classification.HIGH
    assert result.failed
    assert result.test is StatTest.WILCOXON
    assert result.effect == pytest.approx(2.0)
    # Every difference is +2, one tie group of 200: W+ = 20100 against a mean of
    # 10050 and a tie-corrected variance of n(n+1)(2n+1)/24 - (n**3 - n)/48.
    variance = 200 * 201 * 401 / 24 - (200**3 - 200) / 48
    z = (20100 - 10050) / math.sqrt(variance)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert judgement.score == 70.0
    assert judgement.verdict is Verdict.FAILED


def test_unpaired_arms_use_mann_whitney_and_fisher() -> None:
    control = [varied(i, Arm.CONTROL) for i in range(100)]
    candidate = [varied(i, seed=1000 + i, tool_calls=9.0 + i % 5) for i in range(100)]
    judgement = judge(candidate, control)
    assert judgement.pairs == 0
    tests = {result.name: result.test for result in judgement.metrics}
    assert tests == {
        "pass": StatTest.FISHER,
        "side_effects": StatTest.MANN_WHITNEY,
        "tool_calls": StatTest.MANN_WHITNEY,
        "simulated_seconds": StatTest.MANN_WHITNEY,
        "escalated": StatTest.FISHER,
    }
    tool_calls = judgement.metric("tool_calls")
    assert not tool_calls.paired
    assert tool_calls.pairs == 0
    assert (tool_calls.candidate.n, tool_calls.control.n) == (100, 100)
    assert tool_calls.classification is Classification.HIGH
    # Twice the one-sided p is scipy's two-sided p.
    two_sided = mannwhitneyu(
        [outcome.metrics["tool_calls"] for outcome in candidate],
        [outcome.metrics["tool_calls"] for outcome in control],
        alternative="two-sided",
    )
    assert tool_calls.p_value == pytest.approx(two_sided.pvalue)
    assert judgement.metric("pass").p_value == 1.0
    # One cost regression of five metrics leaves 90: marginal, not failed.
    assert judgement.score == 90.0
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.reasons == (
        "tool_calls is high: candidate mean 11, median 11 vs control mean 6, median 6"
        " (Mann-Whitney U, 100 candidate and 100 control cases, p = 1.2e-34)",
        "score 90.0 (pass 95, marginal 75)",
        "inconclusive: score 90.0 is below the pass 95",
    )


def test_a_critical_finding_fails_at_once_even_with_a_perfect_score() -> None:
    candidate, control = arms(200)
    candidate[7] = replace(
        candidate[7], critical=("duplicated side effect refund:ch_x",)
    )
    judgement = judge(candidate, control)
    assert judgement.score == 100.0
    assert judgement.verdict is Verdict.FAILED
    assert judgement.critical == (
        "c000007 (refund, seed 7): duplicated side effect refund:ch_x",
    )
    assert judgement.reasons == (
        "critical: c000007 (refund, seed 7): duplicated side effect refund:ch_x",
        "score 100.0 (pass 95, marginal 75)",
        "failed: 1 critical finding(s) in candidate cases",
    )


def test_case_critical_names_the_case_and_ignores_control_cases() -> None:
    findings = (
        "duplicated side effect refund:ch_x",
        "blocking policy violation: payments.refund",
    )
    candidate = case(42, seed=9, template="refund_timeout", critical=findings)
    assert case_critical(candidate) == (
        "c000042 (refund_timeout, seed 9): duplicated side effect refund:ch_x",
        "c000042 (refund_timeout, seed 9): blocking policy violation: payments.refund",
    )
    assert case_critical(twin(candidate)) == ()
    assert critical_failures([case(1), candidate, twin(candidate)]) == case_critical(
        candidate
    )


def test_critical_findings_of_control_cases_do_not_fail_the_candidate() -> None:
    candidate, control = arms(200)
    control[3] = replace(control[3], critical=("duplicated side effect refund:ch_y",))
    assert judge(candidate, control).verdict is Verdict.SUCCESSFUL


def test_a_failing_critical_metric_fails_at_once() -> None:
    control = [twin(varied(i)) for i in range(200)]
    candidate = [varied(i, tool_calls=12.0 + i % 5) for i in range(200)]
    metrics = tuple(
        replace(spec, critical=True) if spec.name == "tool_calls" else spec
        for spec in DEFAULT_METRICS
    )
    assert judge(candidate, control).verdict is Verdict.INCONCLUSIVE
    judgement = judge(candidate, control, metrics=metrics)
    assert judgement.score == 90.0
    assert judgement.verdict is Verdict.FAILED
    assert judgement.reasons[-1] == "failed: critical metric tool_calls failed"


def test_too_few_cases_are_inconclusive_and_nodata_never_passes() -> None:
    candidate, control = arms(5)
    judgement = judge(candidate, control)
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.score == 0.0
    for result in judgement.metrics:
        assert result.classification is Classification.NODATA
        assert result.test is StatTest.NONE
        assert result.p_value is None
        assert not result.passed
        assert not result.failed
    assert judgement.reasons == (
        "pass is nodata: 5 candidate and 5 control values, need 10 on each side",
        "side_effects is nodata: 5 candidate and 5 control values, need 10 on each side",
        "tool_calls is nodata: 5 candidate and 5 control values, need 10 on each side",
        "simulated_seconds is nodata: 5 candidate and 5 control values, need 10 on each"
        " side",
        "escalated is nodata: 5 candidate and 5 control values, need 10 on each side",
        "score 0.0 (pass 95, marginal 75)",
        "inconclusive: 5 candidate cases, fewer than the 50 a successful verdict needs",
    )


def test_enough_values_to_test_but_too_few_cases_to_trust_a_pass_is_inconclusive() -> (
    None
):
    candidate, control = arms(20)
    judgement = judge(candidate, control)
    assert judgement.score == 100.0
    assert judgement.verdict is Verdict.INCONCLUSIVE


def test_a_metric_without_data_keeps_a_long_canary_from_succeeding() -> None:
    candidate, control = arms(200)
    candidate = [
        replace(outcome, metrics={**outcome.metrics, "escalated": None})
        for outcome in candidate
    ]
    judgement = judge(candidate, control)
    escalated = judgement.metric("escalated")
    assert escalated.classification is Classification.NODATA
    assert not escalated.passed
    assert judgement.score == 90.0
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.reasons[0] == (
        "escalated is nodata: 0 candidate and 200 control values, need 10 on each side"
    )


def test_a_metric_no_case_reports_suggests_a_close_name() -> None:
    candidate, control = arms(60)
    spec = MetricSpec(
        name="passes", kind=MetricKind.BINARY, direction=Direction.DECREASE
    )
    judgement = judge(candidate, control, metrics=(spec,))
    assert judgement.metric("passes").explanation == (
        "passes is nodata: no case reports it (did you mean 'pass'?)"
    )
    assert judgement.verdict is Verdict.INCONCLUSIVE


def test_a_tiny_but_significant_change_within_min_effect_passes() -> None:
    candidate = [varied(i, passed=i % 100 not in (0, 1, 2)) for i in range(500)]
    control = [
        twin(outcome, metrics={**outcome.metrics, "pass": 1.0}) for outcome in candidate
    ]
    judgement = judge(candidate, control)
    result = judgement.metric("pass")
    # A drop of 3 points (15 discordant pairs, all one way) exceeds the minimum
    # effect of 2 points: low.
    assert result.p_value == pytest.approx(2 * 0.5**15)
    assert result.classification is Classification.LOW

    # A drop of 1 point over 1000 pairs is as significant, and within it: pass.
    candidate = [varied(i, passed=i % 100 != 0) for i in range(1000)]
    control = [
        twin(outcome, metrics={**outcome.metrics, "pass": 1.0}) for outcome in candidate
    ]
    judgement = judge(candidate, control)
    result = judgement.metric("pass")
    assert result.p_value == pytest.approx(2 * 0.5**10)
    assert result.p_value < 0.05
    assert result.effect == pytest.approx(-0.01)
    assert result.classification is Classification.PASS
    assert judgement.verdict is Verdict.SUCCESSFUL
    assert result.explanation == (
        "pass is pass: candidate rate 0.990 vs control rate 1.000 (McNemar exact,"
        " 1000 pairs, p = 0.00195, change -0.01 within the minimum effect 0.02)"
    )

    any_change = tuple(
        replace(spec, min_effect=MinEffect(absolute=0.0, relative=0.0))
        for spec in DEFAULT_METRICS
    )
    strict = judge(candidate, control, metrics=any_change)
    assert strict.metric("pass").classification is Classification.LOW


def test_a_change_in_the_harmless_direction_is_an_improvement_and_passes() -> None:
    control = [twin(varied(i)) for i in range(200)]
    candidate = [varied(i, tool_calls=1.0) for i in range(200)]
    judgement = judge(candidate, control)
    result = judgement.metric("tool_calls")
    assert result.classification is Classification.LOW
    assert not result.failed
    assert result.passed
    assert judgement.score == 100.0
    assert judgement.verdict is Verdict.SUCCESSFUL
    assert result.explanation.startswith("tool_calls is low, an improvement: ")


@pytest.mark.parametrize(
    ("candidate_escalates", "classification"),
    [(True, Classification.HIGH), (False, Classification.LOW)],
)
def test_an_either_metric_fails_in_both_directions(
    candidate_escalates: bool, classification: Classification
) -> None:
    candidate = [varied(i, escalated=candidate_escalates) for i in range(200)]
    control = [twin(varied(i, escalated=not candidate_escalates)) for i in range(200)]
    result = judge(candidate, control).metric("escalated")
    assert result.classification is classification
    assert result.failed


def test_judgement_json_has_the_documented_shape() -> None:
    candidate = [varied(i, passed=i % 5 != 0) for i in range(200)]
    control = [
        twin(outcome, metrics={**outcome.metrics, "pass": 1.0}) for outcome in candidate
    ]
    data = judge(candidate, control).to_json()
    assert json.loads(json.dumps(data)) == data
    assert list(data) == [
        "verdict",
        "score",
        "candidate_cases",
        "control_cases",
        "pairs",
        "critical",
        "reasons",
        "metrics",
        "config",
    ]
    assert data["verdict"] == "failed"
    assert data["config"] == {
        "alpha": 0.05,
        "pass_score": 95.0,
        "marginal_score": 75.0,
        "min_cases": 50,
        "min_values": 10,
    }
    assert [metric["name"] for metric in data["metrics"]] == [
        "pass",
        "side_effects",
        "tool_calls",
        "simulated_seconds",
        "escalated",
    ]
    first = data["metrics"][0]
    assert set(first) == {
        "name",
        "kind",
        "direction",
        "critical",
        "weight",
        "min_effect",
        "classification",
        "passed",
        "failed",
        "test",
        "p_value",
        "paired",
        "pairs",
        "candidate",
        "control",
        "effect",
        "threshold",
        "explanation",
    }
    assert (first["classification"], first["test"], first["kind"]) == (
        "low",
        "mcnemar_exact",
        "binary",
    )
    assert first["candidate"] == {"n": 200, "mean": pytest.approx(0.8), "median": 1.0}


def test_the_same_cases_give_the_same_judgement() -> None:
    candidate = [varied(i, tool_calls=5.0 + i % 7) for i in range(120)]
    control = [varied(i, Arm.CONTROL, seed=i + 7) for i in range(120)]
    assert judge(candidate, control).to_json() == judge(candidate, control).to_json()


def test_case_outcome_json_is_plain() -> None:
    data = case(3, critical=("x",)).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["arm"] == "candidate"
    assert data["metrics"]["pass"] == 1.0


def test_judge_rejects_a_control_case_passed_as_candidate() -> None:
    with pytest.raises(HarnessError) as info:
        judge([case(1, Arm.CONTROL)], [])
    assert str(info.value) == (
        "judge: case c000001 is a control case but was passed as candidate\n"
        "    fix: pass candidate cases as the first argument and control cases as the"
        " second"
    )


def test_judge_rejects_a_binary_metric_that_is_not_0_or_1() -> None:
    bad = replace(case(1), metrics={"pass": 0.5})
    with pytest.raises(HarnessError) as info:
        judge([bad], [])
    assert str(info.value) == (
        "judge: case c000001: binary metric 'pass' must be 0.0 or 1.0, got 0.5\n"
        "    fix: declare it MetricKind.CONTINUOUS, or record 1.0 for yes and 0.0 for no"
    )


def test_judge_rejects_a_metric_listed_twice() -> None:
    with pytest.raises(HarnessError, match=r"metric 'pass' is listed more than once"):
        judge([], [], metrics=(DEFAULT_METRICS[0], DEFAULT_METRICS[0]))


def test_judge_rejects_metrics_that_weigh_nothing() -> None:
    spec = replace(DEFAULT_METRICS[0], weight=0.0)
    with pytest.raises(HarnessError, match=r"no metric has a positive weight"):
        judge([], [], metrics=(spec,))


def test_judge_config_rejects_a_marginal_score_above_the_pass_score() -> None:
    with pytest.raises(HarnessError) as info:
        JudgeConfig(marginal_score=96.0)
    assert str(info.value) == (
        "JudgeConfig needs 0 <= marginal_score <= pass_score <= 100, got marginal 96.0"
        " and pass 95.0\n    fix: Kayenta's defaults are marginal 75 and pass 95"
    )


def test_looking_up_an_unjudged_metric_suggests_a_close_name() -> None:
    judgement = judge(*arms(3))
    with pytest.raises(
        KeyError, match=r"no metric 'tool_call' was judged; did you mean 'tool_calls'\?"
    ):
        judgement.metric("tool_call")


def test_nothing_judged_is_inconclusive() -> None:
    judgement = judge([], [])
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.score == 0.0


def test_a_critical_metric_without_data_keeps_the_canary_from_succeeding() -> None:
    candidate, control = arms(200)
    extra = MetricSpec(
        name="oracle.policy",
        kind=MetricKind.BINARY,
        direction=Direction.DECREASE,
        critical=True,
        weight=0.0,
    )
    judgement = judge(candidate, control, metrics=(*DEFAULT_METRICS, extra))
    assert judgement.score == 100.0
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.reasons[-1] == (
        "inconclusive: critical metric oracle.policy has no data"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: JudgeConfig(alpha=0.0),
            "JudgeConfig.alpha must be between 0 and 1, got 0.0\n"
            "    fix: 0.05 is the usual significance level",
        ),
        (
            lambda: JudgeConfig(min_values=0),
            "JudgeConfig needs min_cases >= 0 and min_values >= 1, got 50 and 0\n"
            "    fix: the defaults are min_cases 50 and min_values 10",
        ),
        (
            lambda: MinEffect(relative=-0.1),
            "MinEffect.relative must be a finite number >= 0, got -0.1\n"
            "    fix: 0 means any significant change counts",
        ),
        (
            lambda: MetricSpec(
                name="x", kind=MetricKind.BINARY, direction=Direction.EITHER, weight=-1
            ),
            "metric 'x': weight must be a finite number >= 0, got -1\n"
            "    fix: 1.0 is the usual weight, 0 reports the metric without scoring it",
        ),
    ],
)
def test_bad_judge_settings_are_rejected_with_a_fix(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(HarnessError) as info:
        build()
    assert str(info.value) == message


def test_a_tiny_but_significant_rise_within_min_effect_passes() -> None:
    control = [twin(varied(i)) for i in range(200)]
    # One extra tool call in every tenth case: a mean rise of 0.1, under half a call.
    candidate = [
        varied(i, tool_calls=outcome.metrics["tool_calls"] + (i % 10 == 0))  # type: ignore[operator]
        for i, outcome in enumerate(control)
    ]
    result = judge(candidate, control).metric("tool_calls")
    assert result.test is StatTest.WILCOXON
    assert result.p_value is not None
    assert result.p_value < 0.05
    assert result.effect == pytest.approx(0.1)
    assert result.classification is Classification.PASS
    assert result.explanation == (
        "tool_calls is pass: candidate mean 6.1, median 6 vs control mean 6, median 6"
        f" (Wilcoxon signed-rank, 200 pairs, p = {result.p_value:.3g}, change +0.1"
        " within the minimum effect 0.6)"
    )
