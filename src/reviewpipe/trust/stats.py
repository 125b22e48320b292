"""The trust tests' statistics, vectorized over every (title, test) row of a run: the share question
(one-sided exact binomial tail), the rating question (the Mann-Whitney U test, from counts per
rating point), Benjamini-Hochberg correction and the verdicts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def binomial_tail(x: npt.ArrayLike, n: npt.ArrayLike, p0: npt.ArrayLike) -> Floats:
    """P(X >= x) for X ~ Binomial(n, p0), row by row; 1 where x is 0 (nothing to explain), 0 where
    p0 is 0 and x > 0 (the subset holds what never happens elsewhere); NaN where p0 is NaN."""
    # scipy.special, not scipy.stats: importing scipy.stats cost every process running the trust
    # tests 0.5 s more (0.69 against 0.22 s here), paid by each of the suite's `reviewpipe run`s.
    # The regularized incomplete beta I_p0(x, n - x + 1) is what scipy.stats.binom.sf(x - 1, n, p0)
    # computes, to the bit (tests/test_trust_stats.py holds it to scipy's binomtest).
    from scipy import special

    x, n, p0 = (np.asarray(a, dtype=np.float64) for a in (x, n, p0))
    with np.errstate(invalid="ignore"):
        p = np.where(x > n, 0.0, special.betainc(np.maximum(x, 1.0), np.maximum(n - x + 1, 1.0), p0))
    p = np.where(x <= 0, 1.0, p)
    return np.where(np.isnan(p0), np.nan, p)


def poisson_tail(count: npt.ArrayLike, mean: npt.ArrayLike) -> Floats:
    """P(X >= count) for X ~ Poisson(mean), row by row (1 where count <= 0): scipy.special's pdtrc,
    the function scipy.stats.poisson.sf calls."""
    from scipy import special

    count, mean = np.asarray(count, dtype=np.float64), np.asarray(mean, dtype=np.float64)
    return np.where(count <= 0, 1.0, special.pdtrc(np.maximum(count - 1, 0.0), mean))


def negative_binomial_tail(count: npt.ArrayLike, n: npt.ArrayLike, p: npt.ArrayLike) -> Floats:
    """P(X >= count) for X ~ NegativeBinomial(n, p) (failures before the n-th success, n real),
    row by row (1 where count <= 0): the regularized incomplete beta I_{1-p}(count, n), as
    scipy.stats.nbinom.sf(count - 1, n, p) is (equal to 1e-12 relative; tests/test_trust_stats.py)."""
    from scipy import special

    count, n, p = (np.asarray(a, dtype=np.float64) for a in (count, n, p))
    with np.errstate(invalid="ignore"):
        return np.where(count <= 0, 1.0, special.betainc(np.maximum(count, 1.0), n, 1.0 - p))


def rank_counts(point_title: npt.ArrayLike, subset: npt.ArrayLike, rest: npt.ArrayLike,
                titles: int) -> tuple[Floats, Floats]:
    """(2·U, tie sum) per title 0..titles-1 from each side's count per rating point: U = Σ_k s_k·(rest
    below k + r_k / 2), the pairs the subset wins, ties half (doubled: a whole number), and
    Σ_k (t_k³ - t_k), t_k = s_k + r_k. The points are sorted by title (point_title, from 0 up,
    every title with a point), then by rating."""
    point_title = np.asarray(point_title, dtype=np.int64)
    s, r = np.asarray(subset, dtype=np.float64), np.asarray(rest, dtype=np.float64)
    # the rest before each point over all titles, less what the title's earlier titles hold
    # (whole numbers below 2^53: exact)
    before = np.cumsum(r) - r
    first = np.searchsorted(point_title, np.arange(titles))
    below = before - before[first][point_title]
    u_twice = np.bincount(point_title, weights=s * (2.0 * below + r), minlength=titles)
    t = s + r
    return u_twice, np.bincount(point_title, weights=t * t * t - t, minlength=titles)


def mann_whitney(n1: npt.ArrayLike, n2: npt.ArrayLike, u1: npt.ArrayLike,
                 tie_sum: npt.ArrayLike) -> tuple[Floats, Floats]:
    """(z, two-sided p) of the Mann-Whitney U test of side 1 against side 2, row by row, from each
    side's count, side 1's U (pairs it wins, ties counting half) and the tie sum Σ (t³ - t) over the
    tied groups of both sides together: the normal approximation with tie and continuity
    corrections, as scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True) gives.

    z is positive when side 1 rates higher, moved 0.5 towards 0 (the continuity correction; 0 when
    that crosses it). NaN for both with an empty side; every value on one point: z = 0, p = 1."""
    # imported here, not with the module: scipy costs every command's start
    from scipy import special

    n1, n2, u1, ties = (np.asarray(a, dtype=np.float64) for a in (n1, n2, u1, tie_sum))
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        # scipy's form, operation for operation, so that p agrees with it (the tests: to 1e-12)
        spread = (n + 1) - ties / (n * (n - 1))
        s = np.sqrt(n1 * n2 / 12 * spread)
        centred = u1 - n1 * n2 / 2
        # two-sided: scipy takes max(U1, U2) - mu = |U1 - mu|, less 0.5, over s
        z_abs = (np.abs(centred) - 0.5) / s
        p = np.minimum(2.0 * special.ndtr(-z_abs), 1.0)
        z = np.copysign(np.maximum(z_abs, 0.0), centred)
    # one point on both sides: spread is 0 (up to rounding: n³ passes 2^53) and nothing tells the
    # sides apart; with two points or more it is at least 3 (all but one review on one point)
    flat = spread < 1
    z, p = np.where(flat, 0.0, z), np.where(flat, 1.0, p)
    empty = (n1 < 1) | (n2 < 1)
    return np.where(empty, np.nan, z), np.where(empty, np.nan, p)


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


# How far below min_rating_effect x span a difference still counts as reaching it (floating point).
EFFECT_TOLERANCE = 1e-9


def verdicts(share_p: npt.ArrayLike, subset_share: npt.ArrayLike, baseline_share: npt.ArrayLike,
             subset_reviews: npt.ArrayLike, rating_p: npt.ArrayLike, rating_difference: npt.ArrayLike,
             span: npt.ArrayLike, *, alpha: float, min_share_ratio: float, min_subset_reviews: int,
             min_rating_effect: float, dominant_share: float = 1.0, dominant_min_reviews: int = 0
             ) -> npt.NDArray[np.str_]:
    """'fail', 'warn' or 'pass' per row: fail when both the share question (corrected p < alpha, the
    subset at least min_share_ratio times the baseline share and min_subset_reviews reviews) and the
    rating question (corrected p < alpha, |difference| at least min_rating_effect of the span) hold,
    or when the share question holds for a `dominant` subset; warn when one question holds
    otherwise; pass when neither does (a NaN input answers no)."""
    share_p, share, base, x, rating_p, diff, span = (
        np.asarray(a, dtype=np.float64)
        for a in (share_p, subset_share, baseline_share, subset_reviews, rating_p, rating_difference, span))
    with np.errstate(invalid="ignore"):
        # the means are floating point: 1.4 - 1.0 is 0.3999999999999999, so a difference at the floor
        # is read within EFFECT_TOLERANCE of the span (no real difference of means is that close to it)
        share_q = (share_p < alpha) & (share >= min_share_ratio * base) & (x >= min_subset_reviews)
        rating_q = (rating_p < alpha) & (np.abs(diff) >= (min_rating_effect - EFFECT_TOLERANCE) * span)
        dominating = share_q & dominant(share, x, dominant_share=dominant_share,
                                        dominant_min_reviews=dominant_min_reviews)
    return np.where((share_q & rating_q) | dominating, "fail", np.where(share_q | rating_q, "warn", "pass"))


def dominant(subset_share: npt.ArrayLike, subset_reviews: npt.ArrayLike, *, dominant_share: float,
             dominant_min_reviews: int) -> npt.NDArray[np.bool_]:
    """Whether a subset is most of its title: at least dominant_min_reviews reviews and
    dominant_share of the title's tested reviews (the rating is then mostly the subset's, and the
    few other reviews cannot vouch for it)."""
    share, x = np.asarray(subset_share, dtype=np.float64), np.asarray(subset_reviews, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (share >= dominant_share) & (x >= dominant_min_reviews)
