"""The trust tests' statistics, vectorized over every (title, test) row of a run: the share question
(one-sided exact binomial tail), the rating question (Welch's t-test from each side's count, mean and
sample variance), Benjamini-Hochberg correction and the verdicts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

Floats = npt.NDArray[np.float64]


def binomial_tail(x: npt.ArrayLike, n: npt.ArrayLike, p0: npt.ArrayLike) -> Floats:
    """P(X >= x) for X ~ Binomial(n, p0), row by row; 1 where x is 0 (nothing to explain), 0 where
    p0 is 0 and x > 0 (the subset holds what never happens elsewhere); NaN where p0 is NaN."""
    x, n, p0 = (np.asarray(a, dtype=np.float64) for a in (x, n, p0))
    with np.errstate(invalid="ignore"):
        p = sps.binom.sf(x - 1, n, p0)
    p = np.where(x <= 0, 1.0, p)
    return np.where(np.isnan(p0), np.nan, p)


def welch_t(n1: npt.ArrayLike, mean1: npt.ArrayLike, var1: npt.ArrayLike,
            n2: npt.ArrayLike, mean2: npt.ArrayLike, var2: npt.ArrayLike) -> tuple[Floats, Floats]:
    """(t, two-sided p) of Welch's t-test of side 1 against side 2, row by row, from each side's
    count, mean and sample variance (n - 1), with Welch-Satterthwaite degrees of freedom.

    NaN for both with fewer than 2 values on a side. Both variances 0 (each side unanimous): a
    difference is certain (t = ±inf, p = 0), none is no evidence (t = 0, p = 1)."""
    n1, m1, v1, n2, m2, v2 = (np.asarray(a, dtype=np.float64) for a in (n1, mean1, var1, n2, mean2, var2))
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        diff = m1 - m2
        t = diff / se
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        p = 2.0 * sps.t.sf(np.abs(t), df)
    flat = se == 0
    t = np.where(flat, np.where(diff == 0, 0.0, np.copysign(np.inf, diff)), t)
    p = np.where(flat, np.where(diff == 0, 1.0, 0.0), p)
    too_few = (n1 < 2) | (n2 < 2) | np.isnan(v1) | np.isnan(v2)
    return np.where(too_few, np.nan, t), np.where(too_few, np.nan, np.minimum(p, 1.0))


def benjamini_hochberg(p: npt.ArrayLike) -> Floats:
    """The Benjamini-Hochberg adjusted p-values of p (over its non-NaN values; NaN stays NaN):
    min over k >= rank of p_(k) * m / k, at most 1."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    known = np.flatnonzero(~np.isnan(p))
    m = known.size
    if m == 0:
        return out
    order = known[np.argsort(p[known], kind="stable")]
    # times m / k, not times m then over k: m / k >= 1, so no value comes out below its p
    scaled = p[order] * (m / np.arange(1, m + 1))
    # the step-up rule: each rank takes the smallest scaled value at or above it
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.minimum(adjusted, 1.0)
    return out


def verdicts(share_p: npt.ArrayLike, subset_share: npt.ArrayLike, baseline_share: npt.ArrayLike,
             subset_reviews: npt.ArrayLike, rating_p: npt.ArrayLike, rating_difference: npt.ArrayLike,
             span: npt.ArrayLike, *, alpha: float, min_share_ratio: float, min_subset_reviews: int,
             min_rating_effect: float) -> npt.NDArray[np.str_]:
    """'fail', 'warn' or 'pass' per row: fail when both the share question (corrected p < alpha, the
    subset at least min_share_ratio times the baseline share and min_subset_reviews reviews) and the
    rating question (corrected p < alpha, |difference| at least min_rating_effect of the span) hold;
    warn when one does; pass otherwise (a NaN input answers no)."""
    share_p, share, base, x, rating_p, diff, span = (
        np.asarray(a, dtype=np.float64)
        for a in (share_p, subset_share, baseline_share, subset_reviews, rating_p, rating_difference, span))
    with np.errstate(invalid="ignore"):
        share_q = (share_p < alpha) & (share >= min_share_ratio * base) & (x >= min_subset_reviews)
        rating_q = (rating_p < alpha) & (np.abs(diff) >= min_rating_effect * span)
    return np.where(share_q & rating_q, "fail", np.where(share_q | rating_q, "warn", "pass"))
