"""The statistics a baseline comparison needs, each safe at n = 0 and n = 1.

* ``fisher_one_sided``: is the candidate's pass count lower (or higher) than the
  baseline's? Fisher's exact test on the 2x2 table, one-sided.
* ``newcombe_interval``: a 95% interval for the difference of two proportions
  (candidate - baseline), Newcombe's hybrid of two Wilson score intervals (his
  method 10), which behaves at 0/n and n/n where the Wald interval collapses.
* ``mann_whitney_one_sided``: are the candidate's values larger (or smaller) than
  the baseline's? For means such as tool calls, which need not be normal.
* ``mcnemar_exact_one_sided`` and ``wilcoxon_one_sided``: the paired versions, for
  cases run on both sides with the same seed. McNemar's exact test is the binomial
  test on the discordant pairs; Wilcoxon's signed-rank test ranks the differences
  and drops the zero ones (Wilcoxon's own convention, scipy's ``"wilcox"``).

scipy is imported inside the functions: importing it costs most of a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist


class Alternative(StrEnum):
    """The one-sided alternative: the candidate is lower, or higher, than the base."""

    LOWER = "lower"
    HIGHER = "higher"


@dataclass(frozen=True, slots=True, kw_only=True)
class Significance:
    """A one-sided test's p-value, and its statistic when it has a finite one.

    ``statistic`` is the sample odds ratio for Fisher's test, U (of the candidate)
    for Mann-Whitney, the matched-pairs odds ratio (candidate-only over base-only
    successes) for McNemar's test and W+ (the rank sum of the positive differences,
    candidate - base) for Wilcoxon's; None when there was nothing to test.
    """

    p_value: float
    statistic: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A confidence interval ``[low, high]``."""

    low: float
    high: float

    def to_json(self) -> list[float]:
        return [self.low, self.high]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def _check_count(successes: int, n: int) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of ``successes / n``; ``[0, 1]`` when n is 0."""
    _check_count(successes, n)
    if n == 0:
        return Interval(low=0.0, high=1.0)
    z = _z(confidence)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0/n and n/n one bound is exactly 0 or 1; rounding must not move it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low=low, high=high)


def newcombe_interval(
    base_successes: int,
    base_n: int,
    cand_successes: int,
    cand_n: int,
    *,
    confidence: float = 0.95,
) -> Interval:
    """An interval for ``cand rate - base rate`` (Newcombe's hybrid score method).

    When either side has no runs nothing is known, and the interval is ``[-1, 1]``.
    """
    _check_count(base_successes, base_n)
    _check_count(cand_successes, cand_n)
    if base_n == 0 or cand_n == 0:
        return Interval(low=-1.0, high=1.0)
    base, cand = base_successes / base_n, cand_successes / cand_n
    b = wilson_interval(base_successes, base_n, confidence=confidence)
    c = wilson_interval(cand_successes, cand_n, confidence=confidence)
    delta = cand - base
    low = delta - math.hypot(cand - c.low, b.high - base)
    high = delta + math.hypot(c.high - cand, base - b.low)
    return Interval(low=max(-1.0, low), high=min(1.0, high))


def fisher_one_sided(
    base_successes: int,
    base_n: int,
    cand_successes: int,
    cand_n: int,
    *,
    alternative: Alternative,
) -> Significance:
    """Fisher's exact test that the candidate's pass rate is lower (or higher).

    With no runs on either side there is no evidence: p = 1.
    """
    _check_count(base_successes, base_n)
    _check_count(cand_successes, cand_n)
    if base_n == 0 or cand_n == 0:
        return Significance(p_value=1.0, statistic=None)
    from scipy.stats import fisher_exact  # type: ignore[import-untyped]

    table = [
        [cand_successes, cand_n - cand_successes],
        [base_successes, base_n - base_successes],
    ]
    side = "less" if alternative is Alternative.LOWER else "greater"
    result = fisher_exact(table, alternative=side)
    return Significance(
        p_value=min(1.0, float(result.pvalue)),
        statistic=_finite(float(result.statistic)),
    )


def mann_whitney_one_sided(
    base: Sequence[float], cand: Sequence[float], *, alternative: Alternative
) -> Significance:
    """The Mann-Whitney U test that the candidate's values are lower (or higher).

    An empty side, or every value equal across both sides, is no evidence: p = 1.
    """
    if not base or not cand or len({*base, *cand}) == 1:
        return Significance(p_value=1.0, statistic=None)
    from scipy.stats import mannwhitneyu

    side = "less" if alternative is Alternative.LOWER else "greater"
    result = mannwhitneyu(list(cand), list(base), alternative=side)
    return Significance(
        p_value=min(1.0, float(result.pvalue)),
        statistic=_finite(float(result.statistic)),
    )


def mcnemar_exact_one_sided(
    cand_only: int, base_only: int, *, alternative: Alternative
) -> Significance:
    """McNemar's exact test that the candidate's paired pass rate is lower (or higher).

    ``cand_only`` counts the pairs where only the candidate succeeded, ``base_only``
    those where only the baseline did; pairs that agree carry no evidence. Under
    the null each discordant pair goes either way with probability 1/2, so
    ``cand_only`` is Binomial(cand_only + base_only, 1/2). No discordant pair: p = 1.
    """
    if cand_only < 0 or base_only < 0:
        raise ValueError(
            f"need non-negative discordant pair counts, got {cand_only} and {base_only}"
        )
    discordant = cand_only + base_only
    if discordant == 0:
        return Significance(p_value=1.0, statistic=None)
    from scipy.stats import binom

    if alternative is Alternative.LOWER:
        p_value = float(binom.cdf(cand_only, discordant, 0.5))
    else:
        p_value = float(binom.sf(cand_only - 1, discordant, 0.5))
    ratio = cand_only / base_only if base_only else math.inf
    return Significance(p_value=min(1.0, p_value), statistic=_finite(ratio))


def wilcoxon_one_sided(
    base: Sequence[float], cand: Sequence[float], *, alternative: Alternative
) -> Significance:
    """Wilcoxon's signed-rank test that the paired ``cand - base`` lean low (or high).

    ``base[i]`` and ``cand[i]`` are one pair. Zero differences are dropped; with
    none left (no pairs, or every pair equal) there is no evidence: p = 1. scipy
    computes the null distribution exactly up to 50 distinct nonzero differences,
    by exhaustive permutation up to 13 with ties, and with the tie-corrected
    normal approximation beyond.
    """
    if len(base) != len(cand):
        raise ValueError(
            f"paired samples need the same length, got {len(base)} base"
            f" and {len(cand)} candidate values"
        )
    differences = [c - b for b, c in zip(base, cand, strict=True) if c != b]
    if not differences:
        return Significance(p_value=1.0, statistic=None)
    from scipy.stats import wilcoxon

    side = "less" if alternative is Alternative.LOWER else "greater"
    result = wilcoxon(differences, alternative=side)
    return Significance(
        p_value=min(1.0, float(result.pvalue)),
        statistic=_finite(float(result.statistic)),
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
