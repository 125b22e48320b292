"""reviewpipe.trust.stats: the statistics of the trust tests against scipy's one-row tests, and the
Benjamini-Hochberg correction and the verdicts by hand."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from reviewpipe.settings import RATING_UNIT, Settings
from reviewpipe.trust import stats, title_counts, title_tests

# a rating in units, as trust_reviews has it (thousandths of a point)
RATING_UNITS_PER_POINT = round(1 / RATING_UNIT)

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


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 400), data=st.data(), p0=st.floats(0.0, 1.0))
def test_the_binomial_tail_is_scipy_stats_binom_sf_to_the_bit(n: int, data, p0: float) -> None:
    # scipy.special's incomplete beta, not scipy.stats (its import costs every process 0.5 s)
    x = data.draw(st.integers(0, n))
    assert stats.binomial_tail([x], [n], [p0])[0] == (1.0 if x == 0 else sps.binom.sf(x - 1, n, p0))


@settings(max_examples=300, deadline=None)
@given(count=st.integers(0, 500), mean=st.floats(1e-6, 300.0), spread=st.floats(1.0001, 50.0))
def test_the_count_tails_are_scipy_stats(count: int, mean: float, spread: float) -> None:
    # P(X >= count), Poisson to the bit (scipy.stats.poisson.sf calls the same pdtrc); negative
    # binomial of the mean and variance mean * spread, to 1e-12 (scipy.stats uses Boost's)
    assert stats.poisson_tail([count], [mean])[0] == (1.0 if count == 0 else sps.poisson.sf(count - 1, mean))
    variance = mean * spread
    n, p = mean * mean / (variance - mean), mean / variance
    expected = 1.0 if count == 0 else sps.nbinom.sf(count - 1, n, p)
    assert stats.negative_binomial_tail([count], [n], [p])[0] == pytest.approx(expected, rel=1e-12, abs=1e-300)


# ratings as points of a scale, with heavy ties: 1..5 stars, 1..10, thumbs (0/1)
scales = st.sampled_from([(1, 5), (1, 10), (0, 1)])


@st.composite
def two_samples(draw, min_size: int = 1) -> tuple[list[float], list[float]]:
    """Two samples of one scale's points, each side often on a few points only."""
    low, high = draw(scales)
    points = draw(st.lists(st.integers(low, high), min_size=1, max_size=high - low + 1, unique=True))
    side = st.lists(st.sampled_from(points).map(float), min_size=min_size, max_size=60)
    return draw(side), draw(side)


def _u_and_ties(a: list[float], b: list[float]) -> tuple[float, float]:
    """(U of a against b by counting pairs, Σ (t³ - t) over the values of both): by hand."""
    x, y = np.asarray(a)[:, None], np.asarray(b)[None, :]
    u = float((x > y).sum() + 0.5 * (x == y).sum())
    _, t = np.unique(np.concatenate([a, b]), return_counts=True)
    return u, float((t.astype(float) ** 3 - t).sum())


@settings(max_examples=300, deadline=None)
@given(samples=two_samples())
def test_mann_whitney_from_u_and_ties_is_scipys(samples: tuple[list[float], list[float]]) -> None:
    a, b = samples
    u, ties = _u_and_ties(a, b)
    z, p = stats.mann_whitney([len(a)], [len(b)], [u], [ties])
    if len(set(a) | set(b)) == 1:
        # scipy says nothing (NaN: s is 0); every rating on one point tells the sides apart not at all
        assert z[0] == 0.0 and p[0] == 1.0
        return
    expected = sps.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
    assert expected.statistic == u
    assert p[0] == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)
    # z: scipy's standardized max(U1, U2) (less 0.5), signed as the subset's side, never past 0
    mu = len(a) * len(b) / 2
    assert z[0] * np.sign(u - mu) >= 0 and (u != mu or z[0] == 0)
    one_sided = sps.mannwhitneyu(a, b, method="asymptotic", use_continuity=True,
                                 alternative="greater" if u > mu else "less")
    if abs(u - mu) > 0.5:
        assert sps.norm.sf(abs(z[0])) == pytest.approx(one_sided.pvalue, rel=1e-9, abs=1e-300)


def test_mann_whitney_edges() -> None:
    # an empty side: nothing; one point on both sides (7 ratings: 7³ - 7): no evidence
    z, p = stats.mann_whitney([0, 5, 3], [4, 0, 4], [0, 0, 6], [0, 0, 336])
    assert np.isnan(z[:2]).all() and np.isnan(p[:2]).all()
    assert (z[2], p[2]) == (0.0, 1.0)
    # one review against one: the continuity correction takes the whole difference (z 0, p 1);
    # two fives against a one: the subset rates higher, z > 0
    z, p = stats.mann_whitney([1, 2], [1, 1], [1, 2], [0, 6])
    assert (z[0], p[0]) == (0.0, 1.0)
    assert z[1] > 0 and p[1] == pytest.approx(sps.mannwhitneyu([5, 5], [1], method="asymptotic").pvalue)


def test_a_campaign_against_a_small_rest_is_significant() -> None:
    # the case: 76 five-star reviews against the title's 8 real ones (mean 3.4); Welch's t
    # could not reject on ~7 degrees of freedom, the ranks can
    rest = [5.0, 4.0, 4.0, 4.0, 3.0, 2.0, 3.0, 2.0]
    u, ties = _u_and_ties([5.0] * 76, rest)
    z, p = stats.mann_whitney([76], [8], [u], [ties])
    assert z[0] > 0 and p[0] < 1e-6


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


RULE = {"alpha": 0.01, "min_share_ratio": 2.0, "min_subset_reviews": 5, "min_rating_effect": 0.1,
        "dominant_share": 0.5, "dominant_min_reviews": 20}


@settings(max_examples=300, deadline=None)
@given(share_p=st.floats(0, 1), share=st.floats(0, 1), base=st.floats(0, 1), x=st.integers(0, 50),
       rating_p=st.one_of(st.just(float("nan")), st.floats(0, 1)), diff=st.floats(-4, 4),
       span=st.sampled_from([1.0, 4.0, 9.0]))
def test_a_failing_row_is_unusually_large_and_rates_differently_or_dominates(share_p, share, base, x, rating_p, diff, span) -> None:
    verdict = stats.verdicts([share_p], [share], [base], [x], [rating_p], [diff], [span], **RULE)[0]
    share_q = share_p < 0.01 and share >= 2 * base and x >= 5
    rating_q = rating_p < 0.01 and abs(diff) >= (0.1 - 1e-9) * span
    dominant = share_q and share >= 0.5 and x >= 20
    assert verdict == ("fail" if (share_q and rating_q) or dominant else "warn" if share_q or rating_q else "pass")
    if verdict == "fail":
        # unusually large, and either rating differently or most of the title's tested reviews
        assert share_p < 0.01 and share >= 2 * base and x >= 5
        assert (rating_p < 0.01 and abs(diff) >= (0.1 - 1e-9) * span) or (share >= 0.5 and x >= 20)
    # a dominant_share of 1 leaves only a subset of every tested review dominant
    strict = stats.verdicts([share_p], [share], [base], [x], [rating_p], [diff], [span],
                            **RULE | {"dominant_share": 1.0})[0]
    assert strict == ("fail" if (share_q and rating_q) or (share_q and share >= 1.0 and x >= 20)
                      else "warn" if share_q or rating_q else "pass")


def test_a_difference_at_the_floor_reaches_it_in_floating_point() -> None:
    # 1.4 - 1.0 is 0.3999999999999999 in doubles: a difference of 0.4 on a span of 4 is 0.1 of it
    diff = 1.4 - 1.0
    assert diff < 0.1 * 4
    assert stats.verdicts([1e-9], [0.4], [0.1], [20], [1e-9], [diff], [4.0], **RULE)[0] == "fail"
    assert stats.verdicts([1e-9], [0.4], [0.1], [20], [1e-9], [0.39], [4.0], **RULE)[0] == "warn"


@st.composite
def titles(draw) -> list[tuple[int, int, list[float], list[float]]]:
    """A few titles of one scale: (scale low, high, subset ratings, rest ratings, unseen ratings), at
    least 10 rated reviews seen each (min_title_reviews), either side maybe empty."""
    low, high = draw(scales)
    out = []
    for _ in range(draw(st.integers(1, 6))):
        points = draw(st.lists(st.integers(low, high), min_size=1, max_size=high - low + 1, unique=True))
        side = st.lists(st.sampled_from(points).map(float), max_size=40)
        subset, rest = draw(side), draw(side)
        pad = max(0, 10 - len(subset) - len(rest))
        # and reviews the test cannot see (tested_mask 0), which count on neither side
        out.append((low, high, subset, rest + [float(points[0])] * pad, draw(side)))
    return out


@settings(max_examples=60, deadline=None)
@given(drawn=titles())
def test_the_rating_question_of_the_sql_counts_is_scipys_then_corrected(drawn) -> None:
    # the real SQL (counts per rating point) and numpy (U and ties), and title_tests over
    # trust_reviews and trust_members as the pipeline makes them, one test (index 0) seeing every
    # review
    rows, members = [], []
    for title, (low, high, subset, rest, unseen) in enumerate(drawn):
        for k, rating in enumerate(subset + rest + unseen):
            row_id = len(rows)
            tested = int(k < len(subset) + len(rest))
            rows.append((row_id, f"t{title}", "src", tested, round(rating * RATING_UNITS_PER_POINT),
                         float(high - low)))
            if k < len(subset) or (not tested and k % 2):  # unseen ones picked or not
                members.append((row_id, 0, "picked"))
    con = duckdb.connect()
    con.execute("create temp table trust_reviews (row_id bigint, title_id varchar, source varchar, "
                "tested_mask bigint, rating_units bigint, rating_span double)")
    con.executemany("insert into trust_reviews values (?, ?, ?, ?, ?, ?)", rows)
    con.execute("create temp table trust_members (row_id bigint, test_index integer, detail varchar)")
    if members:
        con.executemany("insert into trust_members values (?, ?, ?)", members)
    config = Settings()
    got = title_tests(title_counts(con, config, 1), config).sort("title_id")
    assert got["title_id"].to_list() == [f"t{i}" for i in range(len(drawn))]
    raw, expected_z_sign, expected_auc = [], [], []
    for _, _, subset, rest, _ in drawn:
        if not subset or not rest:
            raw.append(np.nan), expected_z_sign.append(None), expected_auc.append(None)
            continue
        u, _ = _u_and_ties(subset, rest)
        flat = len(set(subset) | set(rest)) == 1
        raw.append(1.0 if flat else sps.mannwhitneyu(subset, rest, method="asymptotic").pvalue)
        expected_z_sign.append(0.0 if abs(u - len(subset) * len(rest) / 2) <= 0.5
                               else np.sign(u - len(subset) * len(rest) / 2))
        expected_auc.append(u / (len(subset) * len(rest)))
    # BH as before, over every row with a p
    corrected = stats.benjamini_hochberg(raw)
    for row, p, sign, auc in zip(got.iter_rows(named=True), corrected, expected_z_sign, expected_auc):
        if sign is None:
            assert row["rating_p_value"] is None and row["rating_z"] is None and row["rating_auc"] is None
            continue
        assert row["rating_p_value"] == pytest.approx(p, rel=1e-12, abs=1e-300)
        assert np.sign(row["rating_z"]) == sign
        assert row["rating_auc"] == auc
