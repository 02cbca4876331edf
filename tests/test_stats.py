from __future__ import annotations

import itertools
import math

import pytest

from harness.stats import (
    Alternative,
    Interval,
    Significance,
    fisher_one_sided,
    mann_whitney_one_sided,
    mcnemar_exact_one_sided,
    newcombe_interval,
    wilcoxon_one_sided,
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


def test_mcnemar_is_the_binomial_tail_of_the_discordant_pairs() -> None:
    # 3 of 15 discordant pairs favour the candidate: P(X <= 3), X ~ Bin(15, 1/2),
    # is (1 + 15 + 105 + 455) / 2**15.
    result = mcnemar_exact_one_sided(3, 12, alternative=Alternative.LOWER)
    assert result.p_value == pytest.approx(576 / 2**15)
    assert result.statistic == 0.25


def test_mcnemar_in_the_other_direction_is_the_mirror_tail() -> None:
    result = mcnemar_exact_one_sided(12, 3, alternative=Alternative.HIGHER)
    assert result.p_value == pytest.approx(576 / 2**15)
    assert mcnemar_exact_one_sided(
        3, 12, alternative=Alternative.HIGHER
    ).p_value == pytest.approx(1 - 121 / 2**15)


def test_mcnemar_matches_scipys_binomial_test() -> None:
    from scipy.stats import binomtest  # type: ignore[import-untyped]

    for cand_only, base_only in [(0, 1), (0, 40), (7, 9), (20, 5), (31, 29)]:
        n = cand_only + base_only
        for alternative, side in [
            (Alternative.LOWER, "less"),
            (Alternative.HIGHER, "greater"),
        ]:
            expected = binomtest(cand_only, n, 0.5, alternative=side).pvalue
            result = mcnemar_exact_one_sided(
                cand_only, base_only, alternative=alternative
            )
            assert result.p_value == pytest.approx(expected, rel=1e-12)


def test_mcnemar_with_only_concordant_pairs_is_no_evidence() -> None:
    result = mcnemar_exact_one_sided(0, 0, alternative=Alternative.LOWER)
    assert result == Significance(p_value=1.0, statistic=None)


def test_mcnemar_with_every_discordant_pair_for_the_candidate_has_no_finite_ratio() -> (
    None
):
    result = mcnemar_exact_one_sided(6, 0, alternative=Alternative.HIGHER)
    assert result.p_value == pytest.approx(1 / 64)
    assert result.statistic is None


def test_mcnemar_rejects_a_negative_count() -> None:
    with pytest.raises(
        ValueError, match=r"need non-negative discordant pair counts, got -1 and 3"
    ):
        mcnemar_exact_one_sided(-1, 3, alternative=Alternative.LOWER)


def test_wilcoxon_of_five_positive_differences_is_one_in_thirty_two() -> None:
    result = wilcoxon_one_sided(
        [0] * 5, [1, 2, 3, 4, 5], alternative=Alternative.HIGHER
    )
    assert result.p_value == pytest.approx(1 / 32)
    assert result.statistic == 15.0


def test_wilcoxon_with_the_smallest_difference_negative_is_two_in_thirty_two() -> None:
    # W+ = 14: only the all-positive signing (15) and this one reach it.
    result = wilcoxon_one_sided(
        [0] * 5, [-1, 2, 3, 4, 5], alternative=Alternative.HIGHER
    )
    assert result.p_value == pytest.approx(2 / 32)
    assert result.statistic == 14.0


def test_wilcoxon_drops_zero_differences() -> None:
    result = wilcoxon_one_sided(
        [3, 3, 0, 0, 0, 0, 0], [3, 3, 1, 2, 3, 4, 5], alternative=Alternative.HIGHER
    )
    assert result.p_value == pytest.approx(1 / 32)


def test_wilcoxon_with_ties_is_an_exhaustive_permutation_test() -> None:
    base = [3, 5, 2, 8, 6, 4, 7, 5, 5, 9, 1, 2, 6, 6, 3, 4]
    cand = [4, 7, 2, 9, 9, 4, 8, 6, 4, 12, 3, 2, 8, 7, 3, 6]
    differences = [c - b for b, c in zip(base, cand, strict=True) if c != b]
    magnitudes = sorted(abs(d) for d in differences)
    ranks = {m: magnitudes.index(m) + (magnitudes.count(m) + 1) / 2 for m in magnitudes}
    observed = sum(ranks[abs(d)] for d in differences if d > 0)
    signings = list(itertools.product((0, 1), repeat=len(differences)))
    at_least = sum(
        1
        for signs in signings
        if sum(ranks[abs(d)] * s for d, s in zip(differences, signs, strict=True))
        >= observed
    )
    result = wilcoxon_one_sided(base, cand, alternative=Alternative.HIGHER)
    assert result.statistic == observed == 74.5
    assert result.p_value == pytest.approx(at_least / len(signings))


def test_wilcoxon_of_many_tied_differences_is_the_tie_corrected_normal_tail() -> None:
    # 20 differences of +1: W+ = 210 against a mean of 105 and a variance of
    # 20*21*41/24 - (20**3 - 20)/48 = 551.25.
    result = wilcoxon_one_sided([0] * 20, [1] * 20, alternative=Alternative.HIGHER)
    z = 105 / math.sqrt(551.25)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)) / 2, rel=1e-9)


def test_wilcoxon_matches_scipy_without_zeros_or_ties() -> None:
    from scipy.stats import wilcoxon

    base = [float(i) for i in range(60)]
    cand = [b + (i % 7) - 2.5 + i / 100 for i, b in enumerate(base)]
    for alternative, side in [
        (Alternative.LOWER, "less"),
        (Alternative.HIGHER, "greater"),
    ]:
        expected = wilcoxon(cand, base, alternative=side)
        result = wilcoxon_one_sided(base, cand, alternative=alternative)
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
        assert result.statistic == expected.statistic


def test_wilcoxon_of_equal_pairs_is_no_evidence() -> None:
    result = wilcoxon_one_sided([1, 2, 3], [1, 2, 3], alternative=Alternative.HIGHER)
    assert result == Significance(p_value=1.0, statistic=None)
    assert wilcoxon_one_sided([], [], alternative=Alternative.LOWER) == result


def test_wilcoxon_rejects_samples_of_different_lengths() -> None:
    with pytest.raises(
        ValueError,
        match=r"paired samples need the same length, got 2 base and 3 candidate values",
    ):
        wilcoxon_one_sided([1, 2], [1, 2, 3], alternative=Alternative.HIGHER)
