from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.reporting.baseline import (
    Baseline,
    MeanMetric,
    Metric,
    RateMetric,
    ScenarioBaseline,
    load_baseline,
    save_baseline,
)
from harness.reporting.compare import (
    GRAMMAR,
    CompareRule,
    Comparison,
    MetricComparison,
    Status,
    compare,
    gate_comparison,
    parse_rule,
    render_comparison_text,
    rule_for,
)
from tests.reporting.test_baseline import baselines

SHA = "e1862da" + "0" * 33


def rate(successes: int, n: int) -> RateMetric:
    return RateMetric(successes=successes, n=n)


def mean(*values: float) -> MeanMetric:
    return MeanMetric(values=values)


def side(run_id: str = "base", **scenarios: dict[str, Metric]) -> Baseline:
    return Baseline(
        harness="0.1",
        created="2026-12-01T08:15:09Z",
        run_id=run_id,
        git_sha=SHA,
        agent="m:agent",
        scenarios={
            name: ScenarioBaseline(path=f"scenarios/{name}.yaml", metrics=metrics)
            for name, metrics in scenarios.items()
        },
    )


def rules(*texts: str) -> list[CompareRule]:
    return [parse_rule(t) for t in texts]


def metric_of(comparison: Comparison, scenario: str, metric: str) -> MetricComparison:
    (found,) = (
        m
        for s in comparison.scenarios
        if s.scenario == scenario
        for m in s.metrics
        if m.metric == metric
    )
    return found


def status_of(comparison: Comparison, scenario: str) -> Status:
    (found,) = (s.status for s in comparison.scenarios if s.scenario == scenario)
    return found


# -- parse_rule -------------------------------------------------------------------


def test_parse_rule_reads_an_absolute_delta() -> None:
    assert parse_rule("pass_rate:0.1") == CompareRule(metric="pass_rate", delta=0.1)


def test_parse_rule_reads_a_percentage_of_the_baseline() -> None:
    assert parse_rule(" tool_calls : 10% ") == CompareRule(
        metric="tool_calls", delta=10.0, percent=True
    )


def test_parse_rule_reads_a_scenario_specific_rule() -> None:
    rule = parse_rule("refund_ok/idempotency:0")
    assert rule == CompareRule(metric="idempotency", delta=0.0, scenario="refund_ok")
    assert str(rule) == "refund_ok/idempotency:0"


def test_a_rule_prints_as_it_is_written() -> None:
    assert [str(r) for r in rules("pass_rate:0", "tool_calls:12.5%", "a/b:0.25")] == [
        "pass_rate:0",
        "tool_calls:12.5%",
        "a/b:0.25",
    ]


def test_a_percentage_threshold_scales_with_the_baseline_value() -> None:
    assert parse_rule("tool_calls:25%").threshold(8.0) == 2.0
    assert parse_rule("tool_calls:2").threshold(8.0) == 2.0


def test_parse_rule_accepts_a_known_metric_and_scenario() -> None:
    rule = parse_rule("a/policy:0", metrics={"policy"}, scenarios={"a"})
    assert rule == CompareRule(metric="policy", delta=0.0, scenario="a")


def rule_error(text: str, **known: set[str]) -> str:
    with pytest.raises(HarnessError) as info:
        parse_rule(text, **known)
    return str(info.value)


def test_the_grammar_is_spelt_out() -> None:
    assert GRAMMAR == (
        "a rule is [SCENARIO/]METRIC:DELTA, METRIC pass_rate, an oracle name,"
        " tool_calls, simulated_seconds, model_tokens or model_cost, DELTA how much"
        " worse it may get: an absolute number (0.1) or a percentage of the"
        " baseline value (10%), e.g. pass_rate:0, refund_ok/tool_calls:10% or"
        " model_tokens:20%"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty rule"),
        ("pass_rate", "no ':DELTA' after the metric"),
        ("pass_rate:", "no DELTA after ':'"),
        ("/pass_rate:0", "no scenario name before '/'"),
        ("refund ok/pass_rate:0", "'refund ok' is not a scenario name"),
        (":0", "no METRIC before ':'"),
        ("a/:0", "no METRIC before ':'"),
        ("pass rate:0", "'pass rate' is not a metric name"),
        ("a/b/pass_rate:0", "'b/pass_rate' is not a metric name"),
        ("pass_rate:lots", "DELTA 'lots' is not a number or a percentage"),
        ("pass_rate:5%%", "DELTA '5%%' is not a number or a percentage"),
        ("pass_rate:nan", "DELTA 'nan' is not a finite number"),
        ("tool_calls:inf%", "DELTA 'inf%' is not a finite number"),
    ],
)
def test_a_malformed_rule_says_what_is_wrong_and_the_grammar(
    text: str, problem: str
) -> None:
    assert rule_error(text) == (
        f"--aqe-compare-fail {text!r}: {problem}\n    fix: {GRAMMAR}"
    )


def test_a_negative_delta_asks_for_a_positive_amount() -> None:
    assert rule_error("pass_rate:-0.1") == (
        "--aqe-compare-fail 'pass_rate:-0.1': DELTA '-0.1' is negative\n"
        "    fix: write how much worse the metric may get as a positive amount; "
        + GRAMMAR
    )


def test_a_rate_delta_above_one_suggests_points_or_a_percentage() -> None:
    assert rule_error("idempotency:5") == (
        "--aqe-compare-fail 'idempotency:5': DELTA 5 is more than a rate can change"
        " (rates are 0..1)\n"
        "    fix: write 0.05 for 5 points, or 5% for 5% of the baseline value; "
        + GRAMMAR
    )


def test_a_mean_delta_above_one_is_fine() -> None:
    assert parse_rule("simulated_seconds:30").delta == 30.0


def test_a_misspelt_metric_gets_a_did_you_mean() -> None:
    known = {"pass_rate", "idempotency", "tool_calls", "simulated_seconds"}
    assert rule_error("pass_rat:0", metrics=known) == (
        "--aqe-compare-fail 'pass_rat:0': unknown metric 'pass_rat'\n"
        "    fix: did you mean 'pass_rate'? " + GRAMMAR
    )


def test_an_unknown_metric_lists_the_known_ones() -> None:
    assert rule_error("latency:0", metrics={"pass_rate", "policy"}) == (
        "--aqe-compare-fail 'latency:0': unknown metric 'latency'\n"
        "    fix: the metrics here are pass_rate, policy; " + GRAMMAR
    )


def test_a_misspelt_scenario_gets_a_did_you_mean() -> None:
    assert rule_error("refund_okk/pass_rate:0", scenarios={"refund_ok", "b"}) == (
        "--aqe-compare-fail 'refund_okk/pass_rate:0': unknown scenario 'refund_okk'\n"
        "    fix: did you mean 'refund_ok'? " + GRAMMAR
    )


def test_the_rule_error_is_a_harness_error_for_the_plugin_to_show() -> None:
    with pytest.raises(HarnessError):
        parse_rule("nonsense")


def test_a_scenario_specific_rule_wins_over_a_general_one_in_any_order() -> None:
    specific, general = parse_rule("a/tool_calls:3"), parse_rule("tool_calls:1")
    assert rule_for([specific, general], "a", "tool_calls") is specific
    assert rule_for([general, specific], "a", "tool_calls") is specific
    assert rule_for([general, specific], "b", "tool_calls") is general
    assert rule_for([general, specific], "a", "pass_rate") is None


def test_among_equal_rules_the_last_one_wins() -> None:
    first, last = parse_rule("pass_rate:0"), parse_rule("pass_rate:0.2")
    assert rule_for([first, last], "a", "pass_rate") is last


# -- compare: rates ---------------------------------------------------------------


def test_five_passes_to_none_is_regressed_with_fisher_support() -> None:
    result = compare(
        side(a={"pass_rate": rate(5, 5)}),
        side(a={"pass_rate": rate(0, 5)}),
        rules("pass_rate:0"),
    )
    metric = metric_of(result, "a", "pass_rate")
    assert metric.status is Status.REGRESSED
    assert metric.p_value == pytest.approx(1 / 252)
    assert metric.p_value == pytest.approx(0.004, abs=5e-4)
    assert metric.interval is not None
    assert metric.interval.low == -1.0
    assert metric.interval.high == pytest.approx(-0.3855, abs=1e-4)
    assert status_of(result, "a") is Status.REGRESSED
    assert result.regressions == [
        "a: pass_rate 1.00 -> 0.00 (-1.00, 95% CI [-1.00, -0.39], p=0.004, n=5/5)"
    ]
    assert result.gate_failures == result.regressions


def test_one_failure_in_five_is_flaky_not_regressed() -> None:
    result = compare(
        side(a={"pass_rate": rate(5, 5)}),
        side(a={"pass_rate": rate(4, 5)}),
        rules("pass_rate:0"),
    )
    metric = metric_of(result, "a", "pass_rate")
    assert metric.status is Status.FLAKY
    assert metric.p_value == pytest.approx(0.5)
    assert status_of(result, "a") is Status.FLAKY
    assert result.regressions == []
    assert result.gate_failures == []


def test_a_single_seed_that_stops_passing_is_regressed_on_its_delta() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1)}),
        side(a={"pass_rate": rate(0, 1)}),
        rules("pass_rate:0"),
    )
    metric = metric_of(result, "a", "pass_rate")
    assert metric.status is Status.REGRESSED
    assert metric.p_value is None
    assert metric.interval is None
    assert result.regressions == ["a: pass_rate 1.00 -> 0.00 (-1.00, n=1/1)"]


def test_an_unsupported_change_without_mixed_outcomes_is_unchanged() -> None:
    # 1/1 -> 0/2: beyond the rule, Fisher p = 1/3, and neither side is mixed.
    result = compare(
        side(a={"pass_rate": rate(1, 1)}),
        side(a={"pass_rate": rate(0, 2)}),
        rules("pass_rate:0"),
    )
    metric = metric_of(result, "a", "pass_rate")
    assert metric.p_value == pytest.approx(1 / 3)
    assert metric.status is Status.UNCHANGED


def test_a_drop_within_the_rule_is_unchanged_however_significant() -> None:
    result = compare(
        side(a={"pass_rate": rate(20, 20)}),
        side(a={"pass_rate": rate(10, 20)}),
        rules("pass_rate:0.5"),
    )
    assert metric_of(result, "a", "pass_rate").status is Status.UNCHANGED


def test_a_percentage_rule_allows_that_share_of_the_baseline_value() -> None:
    base = side(a={"pass_rate": rate(20, 20)})
    within = compare(base, side(a={"pass_rate": rate(12, 20)}), rules("pass_rate:40%"))
    beyond = compare(base, side(a={"pass_rate": rate(11, 20)}), rules("pass_rate:40%"))
    assert metric_of(within, "a", "pass_rate").status is Status.UNCHANGED
    assert metric_of(beyond, "a", "pass_rate").status is Status.REGRESSED


def test_a_recovery_with_support_is_improved_and_never_gates() -> None:
    result = compare(
        side(a={"pass_rate": rate(0, 5)}),
        side(a={"pass_rate": rate(5, 5)}),
        rules("pass_rate:0"),
    )
    assert metric_of(result, "a", "pass_rate").status is Status.IMPROVED
    assert metric_of(result, "a", "pass_rate").p_value == pytest.approx(1 / 252)
    assert status_of(result, "a") is Status.IMPROVED
    assert result.regressions == []
    assert result.gate_failures == []


def test_an_oracle_rate_is_compared_like_the_pass_rate() -> None:
    result = compare(
        side(a={"pass_rate": rate(5, 5), "idempotency": rate(5, 5)}),
        side(a={"pass_rate": rate(5, 5), "idempotency": rate(0, 5)}),
        rules("idempotency:0"),
    )
    assert metric_of(result, "a", "idempotency").status is Status.REGRESSED
    assert metric_of(result, "a", "pass_rate").status is Status.UNCHANGED
    assert result.gate_failures == [
        "a: idempotency 1.00 -> 0.00 (-1.00, 95% CI [-1.00, -0.39], p=0.004, n=5/5)"
    ]


# -- compare: means ---------------------------------------------------------------


def test_more_tool_calls_in_every_run_is_regressed_with_mann_whitney_support() -> None:
    result = compare(
        side(a={"pass_rate": rate(5, 5), "tool_calls": mean(4, 4, 4, 4, 4)}),
        side(a={"pass_rate": rate(5, 5), "tool_calls": mean(8, 8, 8, 8, 8)}),
        rules("tool_calls:10%"),
    )
    metric = metric_of(result, "a", "tool_calls")
    assert metric.status is Status.REGRESSED
    assert metric.p_value is not None
    assert metric.p_value < 0.01
    assert metric.interval is None
    assert result.regressions == ["a: tool_calls 4.00 -> 8.00 (+4.00, p=0.002, n=5/5)"]


def test_fewer_simulated_seconds_is_improved() -> None:
    result = compare(
        side(a={"simulated_seconds": mean(30, 31, 32, 33, 34)}),
        side(a={"simulated_seconds": mean(10, 11, 12, 13, 14)}),
        rules("simulated_seconds:0"),
    )
    assert metric_of(result, "a", "simulated_seconds").status is Status.IMPROVED


def test_a_single_seed_mean_change_is_decided_by_the_rule() -> None:
    base = side(a={"tool_calls": mean(4)})
    within = compare(base, side(a={"tool_calls": mean(6)}), rules("tool_calls:50%"))
    beyond = compare(base, side(a={"tool_calls": mean(7)}), rules("tool_calls:50%"))
    assert metric_of(within, "a", "tool_calls").status is Status.UNCHANGED
    assert metric_of(beyond, "a", "tool_calls").status is Status.REGRESSED
    assert beyond.regressions == ["a: tool_calls 4.00 -> 7.00 (+3.00, n=1/1)"]


def test_an_unsupported_mean_change_is_flaky_only_when_passes_are_mixed() -> None:
    base_calls, cand_calls = mean(4, 5, 4, 5, 4), mean(5, 4, 5, 5, 4)
    steady = compare(
        side(a={"pass_rate": rate(5, 5), "tool_calls": base_calls}),
        side(a={"pass_rate": rate(5, 5), "tool_calls": cand_calls}),
        [],
    )
    mixed = compare(
        side(a={"pass_rate": rate(4, 5), "tool_calls": base_calls}),
        side(a={"pass_rate": rate(4, 5), "tool_calls": cand_calls}),
        [],
    )
    assert metric_of(steady, "a", "tool_calls").status is Status.UNCHANGED
    assert metric_of(mixed, "a", "tool_calls").status is Status.FLAKY


# -- rules and gating -------------------------------------------------------------


def test_a_per_scenario_rule_beats_the_general_one() -> None:
    base = side(a={"tool_calls": mean(4)}, b={"tool_calls": mean(4)})
    cand = side(a={"tool_calls": mean(6)}, b={"tool_calls": mean(6)})
    result = compare(base, cand, rules("a/tool_calls:3", "tool_calls:1"))
    assert metric_of(result, "a", "tool_calls").status is Status.UNCHANGED
    assert str(metric_of(result, "a", "tool_calls").rule) == "a/tool_calls:3"
    assert metric_of(result, "b", "tool_calls").status is Status.REGRESSED
    assert result.gate_failures == ["b: tool_calls 4.00 -> 6.00 (+2.00, n=1/1)"]


def test_metrics_without_a_rule_are_reported_but_do_not_gate() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "escalation": rate(1, 1)}),
        side(a={"pass_rate": rate(1, 1), "escalation": rate(0, 1)}),
        rules("pass_rate:0"),
    )
    metric = metric_of(result, "a", "escalation")
    assert metric.status is Status.REGRESSED
    assert metric.rule is None
    assert result.regressions == ["a: escalation 1.00 -> 0.00 (-1.00, n=1/1)"]
    assert result.gate_failures == []


def test_without_rules_nothing_gates() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1)}, gone={"pass_rate": rate(1, 1)}),
        side(a={"pass_rate": rate(0, 1)}),
        [],
    )
    assert result.regressions == ["a: pass_rate 1.00 -> 0.00 (-1.00, n=1/1)"]
    assert result.gate_failures == []


def test_new_and_missing_scenarios_are_listed_and_counted() -> None:
    result = compare(
        side(kept={"pass_rate": rate(1, 1)}, gone={"pass_rate": rate(1, 1)}),
        side(kept={"pass_rate": rate(1, 1)}, fresh={"pass_rate": rate(0, 1)}),
        [],
    )
    assert [(s.scenario, s.status) for s in result.scenarios] == [
        ("fresh", Status.NEW),
        ("gone", Status.MISSING),
        ("kept", Status.UNCHANGED),
    ]
    assert result.counts == {
        "regressed": 0,
        "improved": 0,
        "unchanged": 1,
        "changed": 0,
        "new": 1,
        "missing": 1,
        "flaky": 0,
    }
    (gone,) = (s for s in result.scenarios if s.scenario == "gone")
    assert [(m.metric, m.base, m.cand, m.status) for m in gone.metrics] == [
        ("pass_rate", 1.0, None, Status.MISSING)
    ]


def test_a_missing_scenario_fails_the_gate_under_any_rule() -> None:
    result = compare(
        side(kept={"pass_rate": rate(1, 1)}, gone={"pass_rate": rate(1, 1)}),
        side(kept={"pass_rate": rate(1, 1)}),
        rules("kept/tool_calls:10%"),
    )
    assert result.gate_failures == ["gone: missing (in the baseline, not in this run)"]


def test_a_new_scenario_never_fails_the_gate() -> None:
    result = compare(
        side(),
        side(fresh={"pass_rate": rate(0, 1)}),
        rules("pass_rate:0"),
    )
    assert result.gate_failures == []


def test_a_metric_only_one_side_has_is_listed_without_changing_the_scenario() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "escalation": rate(1, 1)}),
        side(a={"pass_rate": rate(1, 1), "injection": rate(0, 1)}),
        rules("escalation:0"),
    )
    assert metric_of(result, "a", "escalation").status is Status.MISSING
    assert metric_of(result, "a", "injection").status is Status.NEW
    assert status_of(result, "a") is Status.UNCHANGED
    assert result.gate_failures == []


def test_metrics_are_in_report_order() -> None:
    metrics: dict[str, Metric] = {
        "simulated_seconds": mean(1),
        "tool_calls": mean(1),
        "policy": rate(1, 1),
        "idempotency": rate(1, 1),
        "pass_rate": rate(1, 1),
    }
    result = compare(side(a=metrics), side(a=metrics), [])
    assert [m.metric for m in result.scenarios[0].metrics] == [
        "pass_rate",
        "idempotency",
        "policy",
        "tool_calls",
        "simulated_seconds",
    ]


def test_a_regressed_metric_outranks_an_improved_one() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "escalation": rate(0, 1)}),
        side(a={"pass_rate": rate(0, 1), "escalation": rate(1, 1)}),
        [],
    )
    assert metric_of(result, "a", "escalation").status is Status.IMPROVED
    assert status_of(result, "a") is Status.REGRESSED


def test_compare_refuses_an_alpha_outside_zero_and_one() -> None:
    with pytest.raises(ValueError, match=r"alpha must be between 0 and 1, got 1\.5"):
        compare(side(), side(), [], alpha=1.5)


def test_a_metric_cannot_be_a_rate_on_one_side_and_a_mean_on_the_other() -> None:
    with pytest.raises(ValueError, match="'x' is a rate in the baseline and a mean"):
        compare(side(a={"x": rate(1, 1)}), side(a={"x": mean(1)}), [])


@settings(deadline=None)  # the first example may pay for importing scipy
@given(baselines(), st.lists(st.sampled_from(["pass_rate:0", "tool_calls:10%"])))
def test_a_baseline_compared_with_itself_is_all_unchanged(
    baseline: Baseline, texts: list[str]
) -> None:
    result = compare(baseline, baseline, rules(*texts))
    assert all(s.status is Status.UNCHANGED for s in result.scenarios)
    assert all(
        m.status is Status.UNCHANGED for s in result.scenarios for m in s.metrics
    )
    assert result.counts["unchanged"] == len(baseline.scenarios)
    assert result.regressions == []
    assert result.gate_failures == []


# -- output -----------------------------------------------------------------------


def test_comparison_json_has_the_contract_shape(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    save_baseline(side(refund_ok={"pass_rate": rate(5, 5)}), path)
    result = compare(
        load_baseline(path),
        side("cand", refund_ok={"pass_rate": rate(0, 5)}),
        rules("pass_rate:0"),
    )
    assert result.to_json() == {
        "baseline": {
            "path": str(path),
            "run_id": "base",
            "git_sha": SHA,
            "created": "2026-12-01T08:15:09Z",
        },
        "counts": {
            "regressed": 1,
            "improved": 0,
            "unchanged": 0,
            "changed": 0,
            "new": 0,
            "missing": 0,
            "flaky": 0,
        },
        "not_selected": 0,
        "selection_known": False,
        "scenarios": [
            {
                "scenario": "refund_ok",
                "status": "regressed",
                "metrics": [
                    {
                        "metric": "pass_rate",
                        "base": 1.0,
                        "cand": 0.0,
                        "delta": -1.0,
                        "n_base": 5,
                        "n_cand": 5,
                        "p_value": 0.003968,
                        "interval": [-1.0, -0.385549],
                        "status": "regressed",
                        "rule": "pass_rate:0",
                    }
                ],
            }
        ],
        "regressions": [
            "refund_ok: pass_rate 1.00 -> 0.00"
            " (-1.00, 95% CI [-1.00, -0.39], p=0.004, n=5/5)"
        ],
        "gate_failures": [
            "refund_ok: pass_rate 1.00 -> 0.00"
            " (-1.00, 95% CI [-1.00, -0.39], p=0.004, n=5/5)"
        ],
    }


def test_a_very_small_p_value_is_shown_as_a_bound() -> None:
    result = compare(
        side(a={"pass_rate": rate(20, 20)}),
        side(a={"pass_rate": rate(0, 20)}),
        [],
    )
    assert result.regressions == [
        "a: pass_rate 1.00 -> 0.00 (-1.00, 95% CI [-1.00, -0.77], p<0.001, n=20/20)"
    ]


def test_the_text_report_shows_counts_changes_and_the_gate() -> None:
    result = compare(
        side(
            a={"pass_rate": rate(5, 5), "tool_calls": mean(4, 4, 4, 4, 4)},
            b={"pass_rate": rate(5, 5)},
            gone={"pass_rate": rate(1, 1)},
            same={"pass_rate": rate(1, 1)},
        ),
        side(
            a={"pass_rate": rate(0, 5), "tool_calls": mean(4, 4, 4, 4, 4)},
            b={"pass_rate": rate(4, 5)},
            fresh={"pass_rate": rate(1, 1)},
            same={"pass_rate": rate(1, 1)},
        ),
        rules("pass_rate:0"),
        selected={"a", "b", "fresh", "gone", "same"},
    )
    assert render_comparison_text(result) == (
        "baseline base (e1862da, 2026-12-01T08:15:09Z)\n"
        "1 regressed, 1 unchanged, 1 new, 1 missing, 1 flaky\n"
        "\n"
        "scenario  status     metric     base  cand  delta  p      n\n"
        "a         regressed  pass_rate  1.00  0.00  -1.00  0.004  5/5\n"
        "gone      missing    -          -     -     -      -      -\n"
        "b         flaky      pass_rate  1.00  0.80  -0.20  0.500  5/5\n"
        "fresh     new        -          -     -     -      -      -\n"
        "\n"
        "gate: FAIL (rules: pass_rate:0)\n"
        "  a: pass_rate 1.00 -> 0.00 (-1.00, 95% CI [-1.00, -0.39], p=0.004, n=5/5)\n"
        "  gone: missing (in the baseline, not in this run)\n"
    )


def test_the_text_report_of_no_change_says_so_and_that_nothing_gates() -> None:
    same = side(a={"pass_rate": rate(1, 1)})
    baseline = Baseline(
        harness="0.1",
        created="2026-12-01T08:15:09Z",
        run_id="base",
        git_sha=None,
        agent="m:agent",
        scenarios=same.scenarios,
    )
    assert render_comparison_text(compare(baseline, same, [])) == (
        "baseline base (no git sha, 2026-12-01T08:15:09Z)\n"
        "1 unchanged\n"
        "all 1 scenarios unchanged\n"
        "\n"
        "gate: none (no --aqe-compare-fail rule given)\n"
    )


def test_the_text_report_of_a_passing_gate_names_its_rules() -> None:
    same = side(a={"pass_rate": rate(1, 1)})
    text = render_comparison_text(
        compare(same, same, rules("pass_rate:0", "tool_calls:10%"))
    )
    assert text.endswith("gate: pass (rules: pass_rate:0, tool_calls:10%)\n")


# -- comparing what was selected ---------------------------------------------------


def test_a_baseline_scenario_outside_the_selection_is_counted_not_missing() -> None:
    result = compare(
        side(kept={"pass_rate": rate(1, 1)}, other={"pass_rate": rate(1, 1)}),
        side(kept={"pass_rate": rate(1, 1)}),
        rules("pass_rate:0"),
        selected={"kept"},
    )
    assert [s.scenario for s in result.scenarios] == ["kept"]
    assert result.counts["missing"] == 0
    assert result.not_selected == ("other",)
    assert result.to_json()["not_selected"] == 1
    assert result.gate_failures == []


def test_a_selected_scenario_that_did_not_run_is_missing_and_gates() -> None:
    result = compare(
        side(kept={"pass_rate": rate(1, 1)}, broke={"pass_rate": rate(1, 1)}),
        side(kept={"pass_rate": rate(1, 1)}),
        rules("pass_rate:0"),
        selected={"kept", "broke"},
    )
    assert status_of(result, "broke") is Status.MISSING
    assert result.not_selected == ()
    assert result.gate_failures == ["broke: missing (in the baseline, not in this run)"]


def test_under_the_default_rule_a_missing_scenario_is_listed_but_does_not_gate() -> (
    None
):
    base = side(kept={"pass_rate": rate(1, 1)}, broke={"pass_rate": rate(1, 1)})
    cand = side(kept={"pass_rate": rate(1, 1)})
    result = gate_comparison(base, cand, (), selected={"kept", "broke"})
    assert status_of(result, "broke") is Status.MISSING
    assert result.gate_failures == []
    explicit = gate_comparison(base, cand, ("pass_rate:0",), selected={"kept"})
    assert explicit.gate_failures == []  # "broke" was not selected
    assert explicit.not_selected == ("broke",)


def test_without_a_recorded_selection_every_absent_scenario_is_missing() -> None:
    result = compare(
        side(kept={"pass_rate": rate(1, 1)}, other={"pass_rate": rate(1, 1)}),
        side(kept={"pass_rate": rate(1, 1)}),
        rules("pass_rate:0"),
    )
    assert status_of(result, "other") is Status.MISSING
    assert not result.selection_known
    assert "recorded no selection" in render_comparison_text(result)


def test_fewer_tool_calls_without_a_rule_are_a_change_not_an_improvement() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(8)}),
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(2)}),
        rules("pass_rate:0"),
    )
    assert metric_of(result, "a", "tool_calls").status is Status.CHANGED
    assert status_of(result, "a") is Status.CHANGED
    assert result.counts["improved"] == 0


def test_more_tool_calls_in_a_passing_scenario_without_a_rule_do_not_regress() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(14)}),
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(15)}),
        rules("pass_rate:0"),
    )
    assert metric_of(result, "a", "tool_calls").status is Status.CHANGED
    assert status_of(result, "a") is Status.CHANGED
    assert result.regressions == []
    assert result.gate_failures == []


def test_a_failed_run_is_never_improved_by_its_fewer_tool_calls() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(14)}),
        side(a={"pass_rate": rate(0, 1), "tool_calls": mean(1)}),
        rules("pass_rate:0", "tool_calls:10%"),
    )
    assert metric_of(result, "a", "tool_calls").status is Status.CHANGED
    assert status_of(result, "a") is Status.REGRESSED
    unchanged_fail = compare(
        side(b={"pass_rate": rate(0, 1), "simulated_seconds": mean(30)}),
        side(b={"pass_rate": rate(0, 1), "simulated_seconds": mean(1)}),
        rules("simulated_seconds:0"),
    )
    assert status_of(unchanged_fail, "b") is Status.CHANGED


def test_a_rule_naming_an_efficiency_metric_judges_its_direction() -> None:
    result = compare(
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(10)}),
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(15)}),
        rules("pass_rate:0", "tool_calls:10%"),
    )
    assert metric_of(result, "a", "tool_calls").status is Status.REGRESSED
    assert result.gate_failures == ["a: tool_calls 10.00 -> 15.00 (+5.00, n=1/1)"]
    better = compare(
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(15)}),
        side(a={"pass_rate": rate(1, 1), "tool_calls": mean(10)}),
        rules("tool_calls:10%"),
    )
    assert metric_of(better, "a", "tool_calls").status is Status.IMPROVED


def test_the_text_report_counts_what_was_not_selected_and_lists_none_of_it() -> None:
    result = compare(
        side(
            a={"pass_rate": rate(1, 1)},
            **{f"s{i}": {"pass_rate": rate(1, 1)} for i in range(57)},
        ),
        side(a={"pass_rate": rate(1, 1)}),
        rules("pass_rate:0"),
        selected={"a"},
    )
    text = render_comparison_text(result)
    assert text.splitlines()[1] == "1 unchanged, 57 not selected"
    assert "missing" not in text
    assert "s0" not in text
