"""Tests for reviewpipe.metrics: hand-worked expected frames for each function, then invariants.

Expected values are worked out by hand in the comments (or by an independent formula), never by
calling the function under test, so a wrong formula cannot confirm itself.
"""

from __future__ import annotations

from datetime import datetime

from statistics import NormalDist
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from reviewpipe.metrics import (
    Z_95,
    helpful_ratio,
    merged_titles,
    rating_distribution,
    review_metrics,
    sentiment_label,
    title_summary,
    top_helpful_reviews,
    wilson_lower_bound,
)

# Column types as the staged tables arrive from DuckDB through Arrow (sql/schema, sql/staging).
REVIEWS_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "title_id": pl.String,
    "rating": pl.Float64,
    "rating_scale": pl.Int32,
    "helpful_votes": pl.Int64,
    "total_votes": pl.Int64,
    "text_hash": pl.String,
}
SCORES_SCHEMA: dict[str, Any] = {
    "text_hash": pl.String,
    "sentiment_compound": pl.Float64,
    "sentiment_pos": pl.Float64,
    "sentiment_neu": pl.Float64,
    "sentiment_neg": pl.Float64,
}
TITLES_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "title": pl.String,
    "year": pl.Int64,
    "site_rating": pl.Float64,
    "site_votes": pl.Int64,
    "user_review_count": pl.Int64,
    "critic_review_count": pl.Int64,
    "genres": pl.String,
    "directors": pl.String,
    "source": pl.String,
    "file_path": pl.String,
    "row_number": pl.Int64,
    "source_order": pl.Int32,
}
PAGE_FIELDS = ["writers", "stars", "country", "language", "runtime_minutes", "popularity",
               "related_to_title_id"]


def with_page_fields(titles: pl.DataFrame) -> pl.DataFrame:
    """Staged title rows as stg_titles has them: the page-only fields null, one file time for all."""
    return titles.with_columns(
        *[pl.lit(None, dtype=pl.Int64 if f in ("runtime_minutes", "popularity") else pl.String).alias(f)
          for f in PAGE_FIELDS],
        file_modified_at=pl.lit(datetime(2024, 1, 1)),
    )


# What title_summary reads of review_metrics' output, and of merged_titles' output.
SUMMARY_SCORES_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "sentiment_compound": pl.Float64,
    "sentiment_label": pl.String,
}
SUMMARY_TITLES_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "title": pl.String,
    "site_rating": pl.Float64,
    "site_votes": pl.Int64,
}
FLOAT_TOL = {"rel_tol": 0.0, "abs_tol": 1e-6}  # hand-worked values below are given to 6 decimals


def reviews_frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """Staged reviews from rows of
    (review_id, title_id, rating, rating_scale, helpful_votes, total_votes, text_hash)."""
    return pl.DataFrame(rows, schema=REVIEWS_SCHEMA, orient="row")


def wilson(
    helpful: list[int | None], total: list[int | None], z: float = Z_95
) -> list[float | None]:
    """Wilson lower bounds computed by the function under test, as a Python list."""
    frame = pl.DataFrame({"h": helpful, "n": total}, schema={"h": pl.Int64, "n": pl.Int64})
    return frame.select(wilson_lower_bound(pl.col("h"), pl.col("n"), z)).to_series().to_list()


# --- helpful_ratio and wilson_lower_bound ---------------------------------------------------------


def test_helpful_ratio_is_helpful_over_total_and_null_when_nobody_voted() -> None:
    votes = pl.DataFrame(
        {"h": [41, 0, 5, 0, 3, None], "n": [57, 5, 5, 0, None, 4]},
        schema={"h": pl.Int64, "n": pl.Int64},
    )
    got = votes.select(ratio=helpful_ratio(pl.col("h"), pl.col("n")))
    # 41/57 = 0.719298; 0/5 = 0; 5/5 = 1; 0 of 0 is not 0% helpful but unknown -> null;
    # an unknown total -> null; an unknown helpful count with 4 votes -> null (null / 4).
    expected = pl.DataFrame({"ratio": [0.719298, 0.0, 1.0, None, None, None]})
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_wilson_lower_bound_matches_hand_worked_values() -> None:
    # lb = (p + z²/2n - z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = h/n;
    # here z = 1.96, z² = 3.8416.
    # 41 of 57: p = 0.719298; z²/2n = 3.8416/114 = 0.033698 -> numerator head 0.752996;
    #   p(1-p)/n = 0.719298·0.280702/57 = 0.0035423; z²/4n² = 3.8416/12996 = 0.0002956;
    #   sqrt(0.0038379) = 0.061950; ·1.96 = 0.121423; 0.752996 - 0.121423 = 0.631574;
    #   1 + 3.8416/57 = 1.067396; 0.631574 / 1.067396 = 0.591696.
    # 5 of 5: p = 1; head 1 + 0.38416 = 1.38416; sqrt(0 + 3.8416/100) = 0.196; ·1.96 = 0.38416;
    #   (1.38416 - 0.38416) / (1 + 0.76832) = 1 / 1.76832 = 0.565509.
    # 0 of 5: p = 0; head 0.38416; sqrt(3.8416/100)·1.96 = 0.38416; 0 / 1.76832 = 0.
    # 1 of 2: p = 0.5; head 0.5 + 0.9604 = 1.4604; sqrt(0.125 + 0.2401) = 0.604235;
    #   ·1.96 = 1.184301; (1.4604 - 1.184301) / 2.9208 = 0.094529.
    # 9 of 10: p = 0.9; head 0.9 + 0.19208 = 1.09208; sqrt(0.009 + 0.009604) = 0.136396;
    #   ·1.96 = 0.267337; (1.09208 - 0.267337) / 1.38416 = 0.595844.
    # 0 of 0: nobody voted, the bound is 0 by definition; an unknown total or helpful count -> null.
    got = wilson([41, 5, 0, 1, 9, 0, 2, None], [57, 5, 5, 2, 10, 0, None, 4], z=1.96)
    expected = [0.591696, 0.565509, 0.0, 0.094529, 0.595844, 0.0, None, None]
    assert_frame_equal(
        pl.DataFrame({"lb": got}, schema={"lb": pl.Float64}),
        pl.DataFrame({"lb": expected}, schema={"lb": pl.Float64}),
        **FLOAT_TOL,
    )


def test_wilson_lower_bound_of_zero_helpful_is_zero_and_never_negative() -> None:
    # With h = 0 the numerator is z²/2n - z·sqrt(z²/4n²) = 0 in exact arithmetic, but floating
    # point lands a hair either side (-3e-17 for n = 5, +4.9e-17 for n = 3 at z = 1.96), so the
    # bound is set to exactly 0: two zero-helpful reviews then tie on it for real.
    totals = list(range(1, 201))
    for z in (1.96, Z_95):
        bounds = wilson([0] * len(totals), totals, z=z)
        assert all(b == 0.0 for b in bounds), bounds


def test_default_z_is_the_two_sided_95_percent_normal_quantile() -> None:
    # Φ⁻¹(0.975) from the standard library, not from the constant under test
    assert Z_95 == pytest.approx(NormalDist().inv_cdf(0.975), abs=1e-12)


# --- sentiment_label ------------------------------------------------------------------------------


def test_sentiment_label_follows_vaders_thresholds_inclusive() -> None:
    compounds = pl.DataFrame(
        {"c": [0.05, 0.0499999, -0.05, -0.0499999, 0.0, 0.97, -0.97, None]},
        schema={"c": pl.Float64},
    )
    got = compounds.select(label=sentiment_label(pl.col("c")))
    # VADER: compound >= 0.05 positive, <= -0.05 negative, strictly between neutral; both
    # boundaries are inclusive, so exactly ±0.05 is not neutral; no score -> no label.
    labels = ["positive", "neutral", "negative", "neutral", "neutral", "positive", "negative", None]
    expected = pl.DataFrame({"label": labels})
    assert_frame_equal(got, expected)


def test_sentiment_label_uses_the_given_threshold() -> None:
    compounds = pl.DataFrame({"c": [0.3, 0.5, -0.5, -0.3]})
    got = compounds.select(label=sentiment_label(pl.col("c"), threshold=0.5))
    # at threshold 0.5 the default-positive 0.3 is neutral; ±0.5 sit on the inclusive boundary
    expected = pl.DataFrame({"label": ["neutral", "positive", "negative", "neutral"]})
    assert_frame_equal(got, expected)


# --- review_metrics -------------------------------------------------------------------------------


def test_review_metrics_joins_scores_by_text_hash() -> None:
    reviews = reviews_frame(
        [
            ("r1", "t1", 8.0, 10, 41, 57, "h_good"),
            ("r2", "t1", 2.0, 10, 0, 0, "h_bad"),
            ("r3", "t1", 7.0, 10, 5, 5, None),  # no text: nothing to score
            ("r4", "t2", 9.0, 10, 0, 5, "h_good"),  # same text as r1: same scores
            ("r5", "t2", None, 10, None, None, "h_unscored"),  # text not in the cache yet
        ]
    )
    scores = pl.DataFrame(
        [
            ("h_good", 0.8, 0.6, 0.4, 0.0),
            ("h_bad", -0.05, 0.1, 0.7, 0.2),
            ("h_unused", 0.0, 0.0, 1.0, 0.0),
        ],
        schema=SCORES_SCHEMA,
        orient="row",
    )
    got = review_metrics(reviews.lazy(), scores.lazy(), z=1.96).collect().sort("review_id")
    # ratios: 41/57 = 0.719298, 0 of 0 -> null, 5/5 = 1, 0/5 = 0, unknown -> null.
    # bounds at z = 1.96 (worked out in test_wilson_lower_bound_matches_hand_worked_values):
    # 41/57 -> 0.591696, 0 of 0 -> 0, 5/5 -> 0.565509, 0/5 -> 0, unknown -> null.
    # labels: 0.8 >= 0.05 positive; -0.05 <= -0.05 negative; r3 has no text_hash and r5's hash has
    # no score, so both keep null scores and a null label rather than dropping out.
    expected = pl.DataFrame(
        [
            ("r1", 0.719298, 0.591696, 0.8, 0.6, 0.4, 0.0, "positive"),
            ("r2", None, 0.0, -0.05, 0.1, 0.7, 0.2, "negative"),
            ("r3", 1.0, 0.565509, None, None, None, None, None),
            ("r4", 0.0, 0.0, 0.8, 0.6, 0.4, 0.0, "positive"),
            ("r5", None, None, None, None, None, None, None),
        ],
        schema={
            "review_id": pl.String,
            "helpful_ratio": pl.Float64,
            "helpful_wilson_lb": pl.Float64,
            "sentiment_compound": pl.Float64,
            "sentiment_pos": pl.Float64,
            "sentiment_neu": pl.Float64,
            "sentiment_neg": pl.Float64,
            "sentiment_label": pl.String,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_review_metrics_passes_its_threshold_to_the_label() -> None:
    reviews = reviews_frame([("r1", "t1", 8.0, 10, 1, 2, "h")])
    scores = pl.DataFrame([("h", 0.3, 0.3, 0.7, 0.0)], schema=SCORES_SCHEMA, orient="row")
    got = review_metrics(reviews.lazy(), scores.lazy(), threshold=0.5).collect()
    # 0.3 would be positive at the default 0.05, but is below the configured 0.5
    assert got["sentiment_label"].to_list() == ["neutral"]


# --- rating_distribution --------------------------------------------------------------------------


def test_rating_distribution_lists_every_point_of_the_scale() -> None:
    reviews = reviews_frame(
        [
            # t5: 5-point scale, ratings 5, 5, 4 and one unrated review
            ("a1", "t5", 5.0, 5, 0, 0, None),
            ("a2", "t5", 5.0, 5, 0, 0, None),
            ("a3", "t5", 4.0, 5, 0, 0, None),
            ("a4", "t5", None, 5, 0, 0, "h"),
            # t10: 10-point scale, one half-point rating and three 8s
            ("b1", "t10", 4.5, 10, 0, 0, None),
            ("b2", "t10", 8.0, 10, 0, 0, None),
            ("b3", "t10", 8.0, 10, 0, 0, None),
            ("b4", "t10", 8.0, 10, 0, 0, None),
            # t_none: reviews but no rating at all
            ("c1", "t_none", None, 10, 0, 0, "h"),
        ]
    )
    got = rating_distribution(reviews.lazy()).collect()
    # t10 sorts before t5 (string order). t10 lists 1..10 plus its own 4.5 row between 4 and 5
    # (11 rows): 1 of 4 rated -> 0.25, three 8s -> 0.75, the rest 0. t5 lists exactly 1..5 and
    # leaves the unrated review out of the denominator: 1 of 3 -> 1/3, 2 of 3 -> 2/3. t_none has
    # no rated review, so no rows at all.
    t10 = [(float(p), 0, 0.0) for p in range(1, 11)]
    t10[7] = (8.0, 3, 0.75)  # index 7 is rating 8
    t10.insert(4, (4.5, 1, 0.25))  # after 4.0
    t5 = [(1.0, 0, 0.0), (2.0, 0, 0.0), (3.0, 0, 0.0), (4.0, 1, 1 / 3), (5.0, 2, 2 / 3)]
    expected = pl.DataFrame(
        [("t10", *row) for row in t10] + [("t5", *row) for row in t5],
        schema={
            "title_id": pl.String,
            "rating": pl.Float64,
            "review_count": pl.Int64,
            "share": pl.Float64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected)
    assert got.filter(pl.col("title_id") == "t5").height == 5
    assert got.filter(pl.col("title_id") == "t10").height == 11


def test_rating_distribution_shares_sum_to_one_per_title() -> None:
    reviews = reviews_frame(
        [("x1", "t1", 3.0, 5, 0, 0, None), ("x2", "t1", 1.0, 5, 0, 0, None),
         ("x3", "t1", 3.0, 5, 0, 0, None), ("y1", "t2", 10.0, 10, 0, 0, None)]
    )
    totals = (
        rating_distribution(reviews.lazy())
        .group_by("title_id")
        .agg(share=pl.col("share").sum(), review_count=pl.col("review_count").sum())
        .sort("title_id")
        .collect()
    )
    # shares are each title's counts over its rated reviews: 1/3 + 2/3 = 1 and 1/1 = 1
    expected = pl.DataFrame(
        {"title_id": ["t1", "t2"], "share": [1.0, 1.0], "review_count": [3, 1]},
        schema={"title_id": pl.String, "share": pl.Float64, "review_count": pl.Int64},
    )
    assert_frame_equal(totals, expected)


# --- merged_titles --------------------------------------------------------------------------------


def test_merged_titles_later_rows_override_and_nulls_do_not_erase() -> None:
    # Given out of load order on purpose. Load order (source_order, file_path, row_number) of t1:
    #   R2 (0, data/2019.csv, 7) < R4 (0, data/2020.csv, 2) < R3 (0, data/2020.csv, 10)
    #   < R1 (1, a/titles.csv, 1): R1's path sorts first, but its source comes later in the config;
    #   R4 beats R2 on file despite a lower row number; R3 beats R4 numerically (10 > 2).
    cols = list(TITLES_SCHEMA)
    rows = [
        # title_id, title, year, site_rating, site_votes, user_review_count, critic_review_count,
        # genres, directors, source, file_path, row_number, source_order
        ("t1", "Final", None, 8.5, None, None, None, None, None,
         "extra", "a/titles.csv", 1, 1),  # R1
        ("t1", "Draft", 1999, 7.0, 100, 10, None, "Drama", "A. Smith",
         "main", "data/2019.csv", 7, 0),  # R2
        ("t1", "Second", None, None, 250, None, 3, None, None,
         "main", "data/2020.csv", 10, 0),  # R3
        ("t1", None, 2000, None, 200, None, None, None, None,
         "main", "data/2020.csv", 2, 0),  # R4
        ("t0", None, None, None, None, None, None, None, None,
         "main", "data/2019.csv", 1, 0),
    ]
    titles = with_page_fields(pl.DataFrame(rows, schema=TITLES_SCHEMA, orient="row"))
    got = merged_titles(titles.lazy()).collect()
    # t1, each field's last non-null value in load order:
    #   title "Final" (R1), year 2000 (R4; R3 and R1 are null), site_rating 8.5 (R1),
    #   site_votes 250 (R3 over R4's 200), user_review_count 10 (only R2 has it; the later nulls
    #   do not erase it),
    #   critic_review_count 3 (R3), genres "Drama" and directors "A. Smith" (R2).
    # t0 has only nulls and still gets its row; rows come sorted by title_id.
    expected = pl.DataFrame(
        [
            ("t0", None, None, None, None, None, None, None, None),
            ("t1", "Final", 2000, 8.5, 250, 10, 3, "Drama", "A. Smith"),
        ],
        schema={c: TITLES_SCHEMA[c] for c in cols[:9]},
        orient="row",
    )
    assert_frame_equal(got.select(cols[:9]), expected)
    # the fields only saved pages carry stay null when no row has them
    assert got.select(PAGE_FIELDS).null_count().row(0) == tuple([2] * len(PAGE_FIELDS))


def test_merged_titles_a_newer_file_of_the_same_source_wins() -> None:
    # Two saves of one page in one source: the newer file (by modification time) overrides the
    # older one even though its path sorts first.
    rows = [
        ("t1", "Zerkalo", 1975, 8.0, 30000, None, None, None, None, "pages", "b_old.txt", 1, 0),
        ("t1", "Zerkalo", 1975, 8.1, 34370, None, None, None, None, "pages", "a_new.txt", 1, 0),
    ]
    titles = with_page_fields(pl.DataFrame(rows, schema=TITLES_SCHEMA, orient="row")).with_columns(
        file_modified_at=pl.Series([datetime(2020, 1, 1), datetime(2024, 1, 1)]))
    got = merged_titles(titles.lazy()).collect()
    assert got.select("site_rating", "site_votes").row(0) == (8.1, 34370)


# --- title_summary --------------------------------------------------------------------------------


def test_title_summary_counts_statistics_votes_and_sentiment_shares() -> None:
    reviews = reviews_frame(
        [
            ("r1", "t1", 8.0, 10, 3, 4, "h1"),
            ("r2", "t1", 6.0, 10, 0, 2, "h2"),
            ("r3", "t1", 10.0, 10, 5, 5, "h3"),
            ("r4", "t1", None, 10, 1, 1, "h4"),
            ("r5", "t1", 8.0, 10, 0, 0, None),
            ("r6", "t3", 7.0, 10, 0, 0, None),
        ]
    )
    # the output of review_metrics, reduced to what title_summary reads
    review_scores = pl.DataFrame(
        [
            ("r1", 0.6, "positive"),
            ("r2", -0.4, "negative"),
            ("r3", 0.2, "positive"),
            ("r4", 0.0, "neutral"),
            ("r5", None, None),
            ("r6", None, None),
        ],
        schema=SUMMARY_SCORES_SCHEMA,
        orient="row",
    )
    titles = pl.DataFrame(
        [("t1", "Alpha", 7.5, 1000), ("t2", "Beta", 6.0, 20)],
        schema=SUMMARY_TITLES_SCHEMA,
        orient="row",
    )
    got = title_summary(reviews.lazy(), review_scores.lazy(), titles.lazy()).collect()
    # t1: 5 reviews, 4 rated (8, 6, 10, 8): mean 32/4 = 8; median of 6, 8, 8, 10 = 8;
    #   sample stddev sqrt((0 + 4 + 4 + 0) / (4 - 1)) = sqrt(8/3) = 1.632993;
    #   helpful 3+0+5+1+0 = 9, total 4+2+5+1+0 = 12; compound mean over the 4 scored
    #   (0.6 - 0.4 + 0.2 + 0) / 4 = 0.1; shares among the 4 labelled (r5 has none):
    #   positive 2/4 = 0.5, neutral 1/4 = 0.25, negative 1/4 = 0.25 (over 5 they would be .4/.2/.2).
    # t2: only in titles -> review_count 0, rated 0, every review statistic null.
    # t3: only in reviews -> null title and site figures; one rating 7: mean = median = 7, stddev of
    #   one value (n - 1 = 0) is null; no labelled review -> null shares, not 0.
    expected = pl.DataFrame(
        [
            ("t1", "Alpha", 5, 4, 8.0, 8.0, 1.632993, 7.5, 1000, 9, 12, 0.1, 0.5, 0.25, 0.25),
            ("t2", "Beta", 0, 0, None, None, None, 6.0, 20, None, None, None, None, None, None),
            ("t3", None, 1, 1, 7.0, 7.0, None, None, None, 0, 0, None, None, None, None),
        ],
        schema={
            "title_id": pl.String,
            "title": pl.String,
            "review_count": pl.Int64,
            "rated_review_count": pl.Int64,
            "rating_mean": pl.Float64,
            "rating_median": pl.Float64,
            "rating_stddev": pl.Float64,
            "site_rating": pl.Float64,
            "site_votes": pl.Int64,
            "helpful_votes": pl.Int64,
            "total_votes": pl.Int64,
            "sentiment_mean": pl.Float64,
            "positive_share": pl.Float64,
            "neutral_share": pl.Float64,
            "negative_share": pl.Float64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_title_summary_means_are_null_when_there_is_nothing_to_average() -> None:
    # u1 has votes but neither a rating nor a sentiment score (staging allows a review with text
    # that is not scored yet, or a rating alone; this one shows both gaps at once)
    reviews = reviews_frame([("u1", "t1", None, 10, 1, 2, None)])
    review_scores = pl.DataFrame(
        [("u1", None, None)], schema=SUMMARY_SCORES_SCHEMA, orient="row"
    )
    titles = pl.DataFrame(schema=SUMMARY_TITLES_SCHEMA)
    got = title_summary(reviews.lazy(), review_scores.lazy(), titles.lazy()).collect()
    # a mean of no values is unknown: null, as Polars' mean() gives and as the stddev is, not the
    # NaN of an exact unit sum 0 divided by a count of 0, which DuckDB and the CSV would carry as
    # a number
    columns = ["rating_mean", "rating_stddev", "sentiment_mean"]
    expected = pl.DataFrame({c: [None] for c in columns}, schema={c: pl.Float64 for c in columns})
    assert_frame_equal(got.select(expected.columns), expected)


# --- top_helpful_reviews --------------------------------------------------------------------------

TOP_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "rank": pl.Int64,
    "review_id": pl.String,
    "helpful_votes": pl.Int64,
    "total_votes": pl.Int64,
    "helpful_ratio": pl.Float64,
    "helpful_wilson_lb": pl.Float64,
}


def test_top_helpful_reviews_breaks_ties_by_helpful_then_total_then_review_id() -> None:
    reviews = reviews_frame(
        [
            ("r1", "t1", None, 10, 2, 4, None),
            ("r2", "t1", None, 10, 3, 6, None),
            ("r3", "t1", None, 10, 3, 7, None),
            ("r4", "t1", None, 10, 3, 7, None),
            ("r5", "t1", None, 10, 1, 1, None),
            ("r6", "t1", None, 10, 0, 0, None),
            ("s1", "t2", None, 10, 0, 0, None),
            ("u1", "t3", None, 10, 1, 3, None),
        ]
    )
    # Bounds set by hand (not computed) so that r1..r4 tie exactly on the bound and the tie-breaks
    # are what decides; the real bounds are tested above.
    review_scores = pl.DataFrame(
        [
            ("r1", 0.5, 0.30), ("r2", 0.5, 0.30), ("r3", 3 / 7, 0.30), ("r4", 3 / 7, 0.30),
            ("r5", 1.0, 0.60), ("r6", None, 0.0), ("s1", None, 0.0), ("u1", 1 / 3, 0.05),
        ],
        schema={
            "review_id": pl.String,
            "helpful_ratio": pl.Float64,
            "helpful_wilson_lb": pl.Float64,
        },
        orient="row",
    )
    got = top_helpful_reviews(reviews.lazy(), review_scores.lazy(), n=4).collect()
    # t1: r5 has the highest bound -> 1; among the 0.30 ties r2, r3, r4 have more helpful votes (3)
    # than r1 (2); of those r3 and r4 have more total votes (7) than r2 (6); r3 and r4 tie on
    # everything, so review_id decides: r3, r4, r2. n = 4 cuts r1. r6 had no votes -> never ranked.
    # t2: only an unvoted review -> no rows. t3: one voted review -> rank 1 only.
    expected = pl.DataFrame(
        [
            ("t1", 1, "r5", 1, 1, 1.0, 0.60),
            ("t1", 2, "r3", 3, 7, 3 / 7, 0.30),
            ("t1", 3, "r4", 3, 7, 3 / 7, 0.30),
            ("t1", 4, "r2", 3, 6, 0.5, 0.30),
            ("t3", 1, "u1", 1, 3, 1 / 3, 0.05),
        ],
        schema=TOP_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected)


def test_top_helpful_reviews_ranks_by_wilson_bound_not_by_ratio() -> None:
    reviews = reviews_frame(
        [
            ("a", "t1", None, 10, 5, 5, None),
            ("b", "t1", None, 10, 41, 57, None),
            ("c", "t1", None, 10, 9, 10, None),
            ("d", "t1", None, 10, 1, 1, None),
        ]
    )
    scores = pl.DataFrame(schema=SCORES_SCHEMA)
    per_review = review_metrics(reviews.lazy(), scores.lazy(), z=1.96)
    got = top_helpful_reviews(reviews.lazy(), per_review, n=10).collect()
    # bounds at z = 1.96 (hand-worked above, 1 of 1: (1 + 1.9208 - 1.9208) / 4.8416 = 0.206543):
    # 9/10 -> 0.595844 > 41/57 -> 0.591696 > 5/5 -> 0.565509 > 1/1 -> 0.206543, while by ratio
    # the order would be a, d (1.0) then c (0.9), b (0.72).
    expected = pl.DataFrame(
        [
            ("t1", 1, "c", 9, 10, 0.9, 0.595844),
            ("t1", 2, "b", 41, 57, 41 / 57, 0.591696),
            ("t1", 3, "a", 5, 5, 1.0, 0.565509),
            ("t1", 4, "d", 1, 1, 1.0, 0.206543),
        ],
        schema=TOP_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_top_helpful_reviews_does_not_rank_an_unknown_bound_first() -> None:
    # Staging lets this row through: blank helpful_votes with total_votes given (only the reverse,
    # helpful without total, is quarantined), so review_metrics gives it a null bound.
    reviews = reviews_frame(
        [
            ("a", "t1", None, 10, None, 5, None),
            ("b", "t1", None, 10, 9, 10, None),
            ("c", "t1", None, 10, 1, 1, None),
        ]
    )
    per_review = review_metrics(reviews.lazy(), pl.LazyFrame(schema=SCORES_SCHEMA))
    got = top_helpful_reviews(reviews.lazy(), per_review, n=2).collect()
    # the two reviews with a known bound (9/10 -> 0.5958, 1/1 -> 0.2065) are the two most helpful;
    # a review whose helpfulness is unknown must not push one of them out
    assert got["review_id"].to_list() == ["b", "c"]


def test_top_helpful_reviews_zero_helpful_ties_go_to_more_total_votes() -> None:
    reviews = reviews_frame(
        [("a", "t1", None, 10, 0, 3, None), ("b", "t1", None, 10, 0, 5, None)]
    )
    per_review = review_metrics(reviews.lazy(), pl.LazyFrame(schema=SCORES_SCHEMA))
    got = top_helpful_reviews(reviews.lazy(), per_review, n=10).collect()
    # 0 of 3 and 0 of 5 both have bound 0 (p = 0 makes the numerator z²/2n - z·z/2n = 0) and the
    # same helpful votes (0), so the next tie-break decides: more total votes first -> b, then a
    assert got["review_id"].to_list() == ["b", "a"]


# --- properties -----------------------------------------------------------------------------------


@st.composite
def vote_counts(draw: st.DrawFn) -> tuple[int, int]:
    """A (helpful, total) pair with 0 <= helpful <= total."""
    total = draw(st.integers(min_value=0, max_value=100_000))
    helpful = draw(st.integers(min_value=0, max_value=total))
    return helpful, total


@settings(max_examples=200, deadline=None)
@given(st.lists(vote_counts(), min_size=1, max_size=50))
def test_wilson_bound_lies_between_zero_and_the_ratio(pairs: list[tuple[int, int]]) -> None:
    helpful = [h for h, _ in pairs]
    total = [n for _, n in pairs]
    frame = pl.DataFrame({"h": helpful, "n": total}, schema={"h": pl.Int64, "n": pl.Int64})
    got = frame.select(
        ratio=helpful_ratio(pl.col("h"), pl.col("n")),
        lb=wilson_lower_bound(pl.col("h"), pl.col("n")),
    )
    for (h, n), ratio, lb in zip(pairs, got["ratio"], got["lb"], strict=True):
        if n == 0:
            assert ratio is None and lb == 0.0
            continue
        assert 0.0 <= lb <= ratio + 1e-12 and ratio <= 1.0
        # independent check: the Wilson interval's ends are the roots in π of
        # n·(p - π)² = z²·π·(1 - π); the lower bound is the root at or below p
        p = h / n
        assert n * (p - lb) ** 2 == pytest.approx(Z_95**2 * lb * (1 - lb), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5_000))
def test_wilson_bound_rises_with_each_more_helpful_vote(total: int) -> None:
    bounds = wilson(list(range(total + 1)), [total] * (total + 1))
    # h = 0, 1, ..., total at fixed total: every extra helpful vote strictly raises the bound,
    # and even total of total stays below 1 (certainty needs infinitely many votes)
    assert all(a < b for a, b in zip(bounds, bounds[1:])), bounds
    assert 0.0 <= bounds[0] < 1e-15 and bounds[-1] < 1.0


TITLE_IDS = ["t1", "t2", "t3", "t4"]


@st.composite
def review_frames(draw: st.DrawFn) -> pl.DataFrame:
    """Staged reviews as validation lets them through: ratings 1..scale in half points, h <= n."""
    scale_of = {t: draw(st.sampled_from([5, 10])) for t in TITLE_IDS}
    rows = []
    for i in range(draw(st.integers(min_value=0, max_value=40))):
        title = draw(st.sampled_from(TITLE_IDS))
        scale = scale_of[title]
        halves = draw(st.none() | st.integers(min_value=2, max_value=2 * scale))
        helpful, total = draw(vote_counts())
        text_hash = draw(st.sampled_from([None, "h_pos", "h_neu", "h_neg", "h_unscored"]))
        rating = None if halves is None else halves / 2
        rows.append((f"r{i:03d}", title, rating, scale, helpful, total, text_hash))
    return reviews_frame(rows)


SCORES = pl.DataFrame(
    [("h_pos", 0.7, 0.5, 0.5, 0.0), ("h_neu", 0.0, 0.0, 1.0, 0.0), ("h_neg", -0.6, 0.0, 0.4, 0.6)],
    schema=SCORES_SCHEMA,
    orient="row",
)


@settings(max_examples=200, deadline=None)
@given(review_frames())
def test_rating_distribution_shares_sum_to_one_and_counts_to_rated_reviews(
    reviews: pl.DataFrame,
) -> None:
    dist = rating_distribution(reviews.lazy()).collect()
    rated = reviews.filter(pl.col("rating").is_not_null())
    by_title = dist.group_by("title_id").agg(
        share=pl.col("share").sum(),
        review_count=pl.col("review_count").sum(),
        points=pl.col("rating"),
    )
    expected_counts = dict(rated.group_by("title_id").len().iter_rows())
    # exactly the titles with a rated review have rows
    assert set(by_title["title_id"]) == set(expected_counts)
    for title, share, count, points in by_title.iter_rows():
        assert share == pytest.approx(1.0, abs=1e-9)
        assert count == expected_counts[title]
        scale = rated.filter(pl.col("title_id") == title)["rating_scale"].max()
        assert set(range(1, scale + 1)) <= set(points)
        assert len(points) == len(set(points))  # one row per (title, rating)


@settings(max_examples=200, deadline=None)
@given(review_frames(), st.integers(min_value=1, max_value=5))
def test_top_helpful_reviews_ranks_are_gapless_and_at_most_n(reviews: pl.DataFrame, n: int) -> None:
    per_review = review_metrics(reviews.lazy(), SCORES.lazy()).collect()
    top = top_helpful_reviews(reviews.lazy(), per_review.lazy(), n).collect()
    voted = dict(reviews.filter(pl.col("total_votes") > 0).group_by("title_id").len().iter_rows())
    got = {t: g for (t,), g in top.group_by("title_id")}
    assert set(got) == set(voted)
    for title, group in got.items():
        # ranks 1..k with k = min(n, reviews with votes), bounds non-increasing down the ranks
        assert group["rank"].to_list() == list(range(1, min(n, voted[title]) + 1))
        lbs = group["helpful_wilson_lb"].to_list()
        assert all(a >= b for a, b in zip(lbs, lbs[1:]))


def all_metrics(reviews: pl.DataFrame, titles: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Every metric frame, computed from the given inputs the way the pipeline chains them."""
    per_review = review_metrics(reviews.lazy(), SCORES.lazy()).collect()
    merged = merged_titles(titles.lazy()).collect()
    return {
        "review_metrics": per_review,
        "merged_titles": merged,
        "title_summary": title_summary(reviews.lazy(), per_review.lazy(), merged.lazy()).collect(),
        "rating_distribution": rating_distribution(reviews.lazy()).collect(),
        "top_helpful_reviews": top_helpful_reviews(reviews.lazy(), per_review.lazy(), 3).collect(),
    }


TITLES = with_page_fields(pl.DataFrame(
    [
        ("t1", "One", 2001, 7.0, 10, None, None, "Drama", None, "s", "f.csv", 1, 0),
        ("t1", None, None, 7.5, None, 4, None, None, "X", "s", "f.csv", 2, 0),
        ("t9", "Nine", None, None, None, None, None, None, None, "s", "f.csv", 3, 0),
    ],
    schema=TITLES_SCHEMA,
    orient="row",
))


@settings(max_examples=200, deadline=None)
@given(review_frames())
def test_metrics_do_not_mutate_inputs_and_rerun_identically(reviews: pl.DataFrame) -> None:
    reviews_before, scores_before, titles_before = reviews.clone(), SCORES.clone(), TITLES.clone()
    first = all_metrics(reviews, TITLES)
    # inputs are exactly as they were, values and order
    assert_frame_equal(reviews, reviews_before, check_exact=True)
    assert_frame_equal(SCORES, scores_before, check_exact=True)
    assert_frame_equal(TITLES, titles_before, check_exact=True)
    # a re-run gives identical tables, bit for bit and row for row (Polars' own grouped mean/std can
    # differ in the last bit between runs; title_summary sums exact integer units to avoid that)
    second = all_metrics(reviews, TITLES)
    for name, frame in first.items():
        assert_frame_equal(second[name], frame, check_exact=True)
    # one row per review, none lost or duplicated by the join
    assert sorted(first["review_metrics"]["review_id"]) == sorted(reviews["review_id"])
