from __future__ import annotations

import pytest

from harness.reporting.stats import (
    Alternative,
    Interval,
    Significance,
    fisher_one_sided,
    mann_whitney_one_sided,
    newcombe_interval,
    wilson_interval,
)

Z2 = 1.959963984540054**2


def test_wilson_interval_of_all_passes_reaches_one_and_not_the_point() -> None:
    interval = wilson_interval(5, 5)
    assert interval.high == 1.0
    assert interval.low == pytest.approx(5 / (5 + Z2))


def test_wilson_interval_of_no_passes_starts_at_zero() -> None:
    interval = wilson_interval(0, 5)
    assert interval.low == 0.0
    assert interval.high == pytest.approx(Z2 / (5 + Z2))


def test_wilson_interval_of_no_runs_is_everything() -> None:
    assert wilson_interval(0, 0) == Interval(low=0.0, high=1.0)


def test_newcombe_interval_matches_newcombes_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80,
    # method 10 gives 0.0524 to 0.3339.
    interval = newcombe_interval(48, 80, 56, 70)
    assert interval.low == pytest.approx(0.0524, abs=5e-5)
    assert interval.high == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_interval_of_a_total_drop_excludes_zero() -> None:
    interval = newcombe_interval(5, 5, 0, 5)
    assert interval.low == -1.0
    assert interval.high == pytest.approx(-1 + (2 * (Z2 / (5 + Z2)) ** 2) ** 0.5)
    assert interval.high < 0


def test_newcombe_interval_of_one_failure_in_five_includes_zero() -> None:
    interval = newcombe_interval(5, 5, 4, 5)
    assert interval.low < -0.2 < 0 < interval.high


def test_newcombe_interval_with_no_runs_on_a_side_is_everything() -> None:
    assert newcombe_interval(0, 0, 3, 5) == Interval(low=-1.0, high=1.0)
    assert newcombe_interval(3, 5, 0, 0) == Interval(low=-1.0, high=1.0)


def test_newcombe_interval_json_is_a_pair() -> None:
    assert Interval(low=-1.0, high=-0.5).to_json() == [-1.0, -0.5]


def test_fisher_finds_five_passes_to_none_significant() -> None:
    result = fisher_one_sided(5, 5, 0, 5, alternative=Alternative.LOWER)
    assert result.p_value == pytest.approx(1 / 252)
    assert result.p_value < 0.05


def test_fisher_in_the_other_direction_finds_no_improvement() -> None:
    result = fisher_one_sided(5, 5, 0, 5, alternative=Alternative.HIGHER)
    assert result.p_value == pytest.approx(1.0)


def test_fisher_does_not_find_one_failure_in_five_significant() -> None:
    result = fisher_one_sided(5, 5, 4, 5, alternative=Alternative.LOWER)
    assert result.p_value == pytest.approx(0.5)


def test_fisher_with_no_runs_on_a_side_is_no_evidence() -> None:
    assert fisher_one_sided(0, 0, 0, 5, alternative=Alternative.LOWER) == (
        Significance(p_value=1.0, statistic=None)
    )


def test_fisher_with_all_passes_on_both_sides_has_no_finite_odds_ratio() -> None:
    result = fisher_one_sided(5, 5, 5, 5, alternative=Alternative.LOWER)
    assert result.p_value == pytest.approx(1.0)
    assert result.statistic is None


def test_fisher_rejects_more_successes_than_runs() -> None:
    with pytest.raises(ValueError, match=r"need 0 <= successes <= n, got 6/5"):
        fisher_one_sided(6, 5, 0, 5, alternative=Alternative.LOWER)


def test_mann_whitney_finds_disjoint_samples_significant() -> None:
    result = mann_whitney_one_sided(
        [1, 2, 3, 4, 5], [6, 7, 8, 9, 10], alternative=Alternative.HIGHER
    )
    assert result.p_value == pytest.approx(1 / 252)
    assert result.statistic == 25.0


def test_mann_whitney_finds_lower_values_in_the_lower_direction() -> None:
    result = mann_whitney_one_sided(
        [6, 7, 8, 9, 10], [1, 2, 3, 4, 5], alternative=Alternative.LOWER
    )
    assert result.p_value == pytest.approx(1 / 252)


def test_mann_whitney_of_constant_but_different_samples_is_significant() -> None:
    result = mann_whitney_one_sided([4] * 5, [8] * 5, alternative=Alternative.HIGHER)
    assert result.p_value < 0.01


def test_mann_whitney_of_all_equal_values_is_no_evidence() -> None:
    result = mann_whitney_one_sided([4, 4, 4], [4, 4], alternative=Alternative.HIGHER)
    assert result == Significance(p_value=1.0, statistic=None)


def test_mann_whitney_with_an_empty_side_is_no_evidence() -> None:
    result = mann_whitney_one_sided([], [4, 5], alternative=Alternative.HIGHER)
    assert result == Significance(p_value=1.0, statistic=None)


def test_mann_whitney_of_one_value_each_cannot_be_significant() -> None:
    result = mann_whitney_one_sided([4], [6], alternative=Alternative.HIGHER)
    assert result.p_value == pytest.approx(0.5)
