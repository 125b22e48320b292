"""reviewpipe.trust.stats: the statistics of the trust tests against scipy's one-row tests, and the
Benjamini-Hochberg correction and the verdicts by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from reviewpipe.trust import stats

ratings = st.lists(st.integers(1, 5).map(float), min_size=2, max_size=40)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 300), data=st.data(), p0=st.floats(0.001, 0.999))
def test_the_binomial_tail_is_scipys_one_sided_exact_test(n: int, data, p0: float) -> None:
    x = data.draw(st.integers(0, n))
    expected = sps.binomtest(x, n, p0, alternative="greater").pvalue
    assert stats.binomial_tail([x], [n], [p0])[0] == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_the_binomial_tail_at_its_edges() -> None:
    # x = 0: nothing to explain; p0 = 0 with x > 0: what never happens elsewhere; no baseline: NaN
    p = stats.binomial_tail([0, 3, 0, 2], [10, 10, 10, 10], [0.5, 0.0, 0.0, float("nan")])
    assert p[0] == 1.0 and p[1] == 0.0 and p[2] == 1.0 and math.isnan(p[3])


@pytest.mark.filterwarnings("ignore:Precision loss")  # scipy's, on nearly unanimous samples
@settings(max_examples=200, deadline=None)
@given(a=ratings, b=ratings)
def test_welch_t_from_counts_means_and_variances_is_scipys(a: list[float], b: list[float]) -> None:
    t, p = stats.welch_t([len(a)], [np.mean(a)], [np.var(a, ddof=1)],
                         [len(b)], [np.mean(b)], [np.var(b, ddof=1)])
    expected = sps.ttest_ind(a, b, equal_var=False)
    if np.var(a) == 0 and np.var(b) == 0:
        # scipy says nothing (NaN); here a difference of unanimous sides is certain, none is nothing
        same = np.mean(a) == np.mean(b)
        assert p[0] == (1.0 if same else 0.0) and (t[0] == 0 if same else math.isinf(t[0]))
    else:
        assert t[0] == pytest.approx(expected.statistic, rel=1e-9)
        assert p[0] == pytest.approx(expected.pvalue, rel=1e-7, abs=1e-300)


def test_welch_t_needs_two_reviews_a_side() -> None:
    t, p = stats.welch_t([1, 2], [5.0, 5.0], [float("nan"), 0.5], [10, 1], [3.0, 3.0], [1.0, float("nan")])
    assert np.isnan(t).all() and np.isnan(p).all()


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5 known values, sorted 0.01 0.02 0.03 0.04 0.20: scaled by m / rank 0.05 0.05 0.05 0.05 0.20,
    # each the smallest at or above its rank; NaN is left out of m and stays NaN
    p = [0.04, 0.01, float("nan"), 0.20, 0.03, 0.02]
    adjusted = stats.benjamini_hochberg(p)
    assert adjusted[[0, 1, 3, 4, 5]] == pytest.approx([0.05, 0.05, 0.20, 0.05, 0.05])
    assert math.isnan(adjusted[2])
    # a step up: 0.01 0.04 with m = 2 scale to 0.02 and 0.04
    assert stats.benjamini_hochberg([0.04, 0.01]) == pytest.approx([0.04, 0.02])
    assert stats.benjamini_hochberg([]).size == 0


@settings(max_examples=200, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_benjamini_hochberg_is_monotone_at_least_p_at_most_1(p: list[float]) -> None:
    adjusted = stats.benjamini_hochberg(p)
    assert (adjusted >= np.asarray(p)).all() and (adjusted <= 1).all()
    order = np.argsort(p, kind="stable")
    assert (np.diff(adjusted[order]) >= 0).all()
    assert adjusted == pytest.approx(sps.false_discovery_control(p, method="bh"))


RULE = {"alpha": 0.01, "min_share_ratio": 2.0, "min_subset_reviews": 5, "min_rating_effect": 0.1}


@settings(max_examples=300, deadline=None)
@given(share_p=st.floats(0, 1), share=st.floats(0, 1), base=st.floats(0, 1), x=st.integers(0, 50),
       rating_p=st.one_of(st.just(float("nan")), st.floats(0, 1)), diff=st.floats(-4, 4),
       span=st.sampled_from([1.0, 4.0, 9.0]))
def test_a_failing_row_is_significant_with_both_effects(share_p, share, base, x, rating_p, diff, span) -> None:
    verdict = stats.verdicts([share_p], [share], [base], [x], [rating_p], [diff], [span], **RULE)[0]
    share_q = share_p < 0.01 and share >= 2 * base and x >= 5
    rating_q = rating_p < 0.01 and abs(diff) >= 0.1 * span
    assert verdict == ("fail" if share_q and rating_q else "warn" if share_q or rating_q else "pass")
    if verdict == "fail":
        assert share_p < 0.01 and rating_p < 0.01 and share >= 2 * base and abs(diff) >= 0.1 * span
