"""Scenario thresholds: what a scenario's runs must reach together."""

from __future__ import annotations

import pytest

from harness import ScenarioError, parse_scenario
from harness.authoring import ScenarioBuilder
from harness.scenario.model import PassHatK, Thresholds

HEAD = """\
name: thresholds
rationale: A scenario whose runs must reach thresholds together.
task: {instructions: Say hello., input: {}}
"""


def test_thresholds_load_into_the_model() -> None:
    scenario = parse_scenario(
        HEAD + "seeds: 5\nthresholds: {pass_rate: 0.8, pass_hat_k: {k: 3, min: 0.5}}\n"
    )
    assert scenario.thresholds == Thresholds(
        pass_rate=0.8, pass_hat_k=PassHatK(k=3, min=0.5)
    )
    assert parse_scenario(HEAD).thresholds is None


def test_a_pass_hat_k_needing_more_runs_than_the_scenario_makes_is_refused() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(
            HEAD + "seeds: 2\nthresholds:\n  pass_hat_k: {k: 3, min: 0.5}\n",
            "t.yaml",
        )
    assert err.value.problems == (
        "t.yaml:6:19: thresholds.pass_hat_k.k: pass^3 needs 3 runs, but the scenario"
        " makes 2\n    fix: set seeds: 3 or more, or lower k to 2 or less",
    )


def test_a_misspelt_threshold_gets_did_you_mean() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(HEAD + "thresholds: {pass_rat: 0.8}\n", "t.yaml")
    assert err.value.problems == (
        "t.yaml:4:14: thresholds: unknown key 'pass_rat'\n"
        "    fix: did you mean 'pass_rate'? valid keys: pass_hat_k, pass_rate",
    )


def test_a_pass_rate_above_one_is_refused() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(HEAD + "thresholds: {pass_rate: 1.5}\n", "t.yaml")
    assert err.value.problems[0].startswith(
        "t.yaml:4:25: thresholds.pass_rate: must be at most 1, got 1.5"
    )


@pytest.mark.parametrize(
    ("runs", "passed", "met", "explanation"),
    [
        (5, 4, False, "pass rate 0.80 >= 0.80; pass^3 0.40 < 0.50"),
        (5, 5, True, "pass rate 1.00 >= 0.80; pass^3 1.00 >= 0.50"),
        (5, 3, False, "pass rate 0.60 < 0.80; pass^3 0.10 < 0.50"),
        (2, 2, False, "pass rate 1.00 >= 0.80; pass^3 needs 3 runs, only 2 made"),
        (0, 0, False, "pass rate 0.00 < 0.80; pass^3 needs 3 runs, only 0 made"),
        (4, 4, True, "pass rate 1.00 >= 0.80; pass^3 1.00 >= 0.50"),
    ],
)
def test_thresholds_judge_runs_and_say_why(
    runs: int, passed: int, met: bool, explanation: str
) -> None:
    thresholds = Thresholds(pass_rate=0.8, pass_hat_k=PassHatK(k=3, min=0.5))
    verdict = thresholds.judge(runs, passed)
    assert (verdict.met, verdict.explanation) == (met, explanation)


def test_the_builder_sets_seeds_and_thresholds() -> None:
    scenario = (
        ScenarioBuilder("built", "A built scenario with thresholds on its runs.")
        .task("Say hello.")
        .seeds(4)
        .thresholds(pass_rate=0.75)
        .build()
    )
    assert scenario.seeds == 4
    assert scenario.thresholds == Thresholds(pass_rate=0.75)
