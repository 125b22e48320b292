"""Tests for reviewpipe.metrics: hand-worked expected frames for each function, then invariants.

Expected values are worked out by hand in the comments (or by an independent formula), never by
calling the function under test, so a wrong formula cannot confirm itself. Where a test goes from
reviews to a table, it takes the path production takes (see the helpers below: per_review,
partials_of, distribution_of, stats_of, summary_of, monthly_of), never a shortcut of its own.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime
from statistics import NormalDist
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from reviewpipe.errors import ReviewpipeError
from reviewpipe.metrics import (
    REVIEW_METRIC_COLUMNS,
    SCORE_UNIT,
    comparable_ratings,
    distribution_from_histogram,
    helpful_ratio,
    helpfulness,
    merge_partials,
    merged_titles,
    metric_frames,
    monthly_trends_from_partials,
    partial_aggregates,
    rating_class,
    rating_class_of,
    rating_sentiment_mismatch,
    rating_sentiment_mismatches,
    rating_shape,
    sentiment_agreement,
    sentiment_label,
    spearman,
    title_stats,
    title_summary_from_stats,
    top_helpful_reviews,
    weighted_rating,
    weighted_rating_parameters,
    wilson_lower_bound,
    with_review_metrics,
)
from reviewpipe.sentiment import SCORE_SCHEMA
from reviewpipe.settings import Z_95, MetricsSettings, SentimentSettings

# Column types as the staged tables arrive from DuckDB through Arrow (sql/schema, sql/staging), in
# the order the metrics stage selects them.
REVIEWS_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "title_id": pl.String,
    "review_date": pl.Date,
    "rating": pl.Float64,
    "rating_scale": pl.Int32,
    "helpful_votes": pl.Int64,
    "total_votes": pl.Int64,
    "text_hash": pl.String,
    "review_word_count": pl.Int64,
    "review_language": pl.String,  # declared, else detected (the cache's review_language)
}
# The sentiment cache: text_hash, then reviewpipe.sentiment.SCORE_COLUMNS (whole-text compound,
# pos, neu, neg; sentence_compound_mean, sentence_count, positive/negative_sentence_share).
SCORES_SCHEMA: dict[str, Any] = {"text_hash": pl.String, **SCORE_SCHEMA}
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
# The per-review metrics published (REVIEW_METRIC_COLUMNS), column by column.
REVIEW_METRICS_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "helpful_ratio": pl.Float64,
    "helpful_wilson_lb": pl.Float64,
    "sentiment_compound": pl.Float64,
    "sentiment_pos": pl.Float64,
    "sentiment_neu": pl.Float64,
    "sentiment_neg": pl.Float64,
    "sentiment_label": pl.String,
    "sentence_compound_mean": pl.Float64,
    "sentence_count": pl.Int64,
    "positive_sentence_share": pl.Float64,
    "negative_sentence_share": pl.Float64,
    "sentence_sentiment_label": pl.String,
    "sentiment_score": pl.Float64,
    "rating_sentiment_mismatch": pl.Boolean,
}


def with_page_fields(titles: pl.DataFrame) -> pl.DataFrame:
    """Staged title rows as stg_titles has them: the page-only fields null, one file time for all."""
    return titles.with_columns(
        *[pl.lit(None, dtype=pl.Int64 if f in ("runtime_minutes", "popularity") else pl.String).alias(f)
          for f in PAGE_FIELDS],
        file_modified_at=pl.lit(datetime(2024, 1, 1)),
    )


# What the title summary reads of the per-review metrics, and of merged_titles' output.
SUMMARY_SCORES_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "sentiment_compound": pl.Float64,
    "sentiment_label": pl.String,
    "sentence_compound_mean": pl.Float64,
    "sentiment_score": pl.Float64,
}
SUMMARY_TITLES_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "title": pl.String,
    "site_rating": pl.Float64,
    "site_votes": pl.Int64,
}
FLOAT_TOL = {"rel_tol": 0.0, "abs_tol": 1e-6}  # hand-worked values below are given to 6 decimals


def reviews_frame(
    rows: list[tuple[Any, ...]],
    *,
    dates: list[date | None] | None = None,
    words: list[int] | None = None,
    languages: list[str | None] | None = None,
) -> pl.DataFrame:
    """Staged reviews from rows of
    (review_id, title_id, rating, rating_scale, helpful_votes, total_votes, text_hash);
    review_date and review_language are null and review_word_count 0 unless given, one per row."""
    given = ("review_date", "review_word_count", "review_language")
    base = {k: v for k, v in REVIEWS_SCHEMA.items() if k not in given}
    frame = pl.DataFrame(rows, schema=base, orient="row")
    n = frame.height
    return frame.with_columns(
        review_date=pl.Series(dates if dates is not None else [None] * n, dtype=pl.Date),
        review_word_count=pl.Series(words if words is not None else [0] * n, dtype=pl.Int64),
        review_language=pl.Series(languages if languages is not None else [None] * n, dtype=pl.String),
    ).select(list(REVIEWS_SCHEMA))


def scores_frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """The sentiment cache from rows of (text_hash, compound, pos, neu, neg,
    sentence_compound_mean, sentence_count, positive_sentence_share, negative_sentence_share)."""
    return pl.DataFrame(rows, schema=SCORES_SCHEMA, orient="row")


NO_SCORES = pl.DataFrame(schema=SCORES_SCHEMA)  # a sentiment cache that has scored no text yet


def per_review(reviews: pl.DataFrame, scores: pl.DataFrame, **options: Any) -> pl.LazyFrame:
    """The reviews with their text's scores (the sentiment cache joined on text_hash, as
    metrics_stage reads them) and with_review_metrics' columns; `options` are with_review_metrics'."""
    return with_review_metrics(
        reviews.lazy().join(scores.lazy(), on="text_hash", how="left", maintain_order="left"), **options
    )


def with_scores(reviews: pl.DataFrame, review_scores: pl.DataFrame) -> pl.LazyFrame:
    """The reviews with per-review figures given by hand (review_scores, keyed by review_id)."""
    return reviews.lazy().join(review_scores.lazy(), on="review_id", how="inner", maintain_order="left")


def partials_of(scored: pl.DataFrame | pl.LazyFrame) -> dict[str, pl.DataFrame]:
    """The merged partial aggregates of the scored reviews in one partition, as metrics_stage makes
    them without a mapper."""
    return merge_partials([partial_aggregates(scored.lazy().collect())])


def distribution_of(reviews: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The rating distribution of the reviews, made as production makes it: from their histogram."""
    return distribution_from_histogram(partials_of(reviews)["histogram"].lazy())


def stats_of(scored: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """title_stats of the scored reviews, from their partial aggregates."""
    partials = partials_of(scored)
    return title_stats(partials["titles"].lazy(), partials["histogram"].lazy())


def summary_of(scored: pl.DataFrame | pl.LazyFrame, titles: pl.DataFrame) -> pl.LazyFrame:
    """The title summary of the scored reviews and merged titles (as metric_frames makes it, but
    for the scale columns it joins on)."""
    return title_summary_from_stats(stats_of(scored), titles.lazy())


def monthly_of(scored: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The monthly trends of the scored reviews, from their partial aggregates."""
    return monthly_trends_from_partials(partials_of(scored)["months"].lazy())


def wilson(
    helpful: list[int | None], total: list[int | None], z: float = Z_95
) -> list[float | None]:
    """Wilson lower bounds computed by the function under test, as a Python list."""
    frame = pl.DataFrame({"h": helpful, "n": total}, schema={"h": pl.Int64, "n": pl.Int64})
    return frame.select(wilson_lower_bound(pl.col("h"), pl.col("n"), z)).to_series().to_list()


# --- exact means and deviations (units) -----------------------------------------------------------


def test_means_and_deviations_are_taken_from_integer_units() -> None:
    ratings = {"a": [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], "b": [0.1234, None], "c": [None]}
    reviews = reviews_frame([(f"{t}{i}", t, r, 10, 0, 0, None)
                             for t, rs in ratings.items() for i, r in enumerate(rs)])
    got = stats_of(reviews).select("title_id", mean="rating_mean", std="rating_stddev").sort("title_id")
    # a: 2+4+4+4+5+5+7+9 = 40, mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32,
    #    sample variance 32/7 = 4.571429, stddev sqrt(4.571429) = 2.138090.
    # b: one known value 0.1234 taken in units of 0.001 -> 123 units -> mean 0.123 (nulls ignored,
    #    and the value is rounded to the unit); one value has no sample stddev -> null.
    # c: nothing known -> both null, not NaN (0 units / 0 values).
    expected = pl.DataFrame(
        {"title_id": ["a", "b", "c"], "mean": [5.0, 0.123, None], "std": [2.138090, None, None]}
    )
    assert_frame_equal(got.collect(), expected, **FLOAT_TOL)


def test_a_mean_is_exact_where_a_float_sum_is_not() -> None:
    # ten compounds of 0.1: a float sum gives 0.9999999999999999, so its mean is 0.09999999999999999;
    # in units of 1e-4 (COMPOUND_UNIT) the sum is 10 · 1000 = 10000 exactly, 10000 / 10 = 1000,
    # · 1e-4 = 0.1.
    reviews = reviews_frame([(f"r{i}", "t1", None, 10, 0, 0, "h") for i in range(10)])
    scores = scores_frame([("h", 0.1, 0.2, 0.8, 0.0, 0.1, 1, 1.0, 0.0)])
    assert sum([0.1] * 10) / 10 != 0.1  # the float route really is off
    got = stats_of(per_review(reviews, scores)).collect()["whole_text_sentiment_mean"].item()
    assert got == 0.1


def test_a_value_half_a_unit_from_two_is_taken_the_same_way_in_every_plan() -> None:
    # a review's sentence mean in the generated sample, -0.32463749999999997, lies within rounding
    # error of half a millionth (SCORE_UNIT) between -0.324637 and -0.324638. Divided by the unit,
    # an eager and a lazy group-by of Polars took it to different units (a Dask run published
    # another monthly mean than a local run); it must come out the same in both: the double times
    # 10^6 is -324637.49999999994, 324637 units. Here: the whole in one partition, and one
    # partition per review merged (what a Dask run does); c holds all three values.
    x = -0.32463749999999997
    reviews = reviews_frame([("r1", "a", None, 10, 0, 0, "hx"), ("r2", "a", None, 10, 0, 0, "h5"),
                             ("r3", "b", None, 10, 0, 0, "hx"), ("r4", "c", None, 10, 0, 0, "hx"),
                             ("r5", "c", None, 10, 0, 0, "h5"), ("r6", "c", None, 10, 0, 0, "hx")])
    scores = scores_frame([("hx", 0.0, 0.0, 1.0, 0.0, x, 1, 0.0, 1.0),
                           ("h5", 0.0, 0.0, 1.0, 0.0, 0.5, 1, 1.0, 0.0)])
    scored = per_review(reviews, scores).collect()
    whole = partials_of(scored)["titles"]
    parts = merge_partials([partial_aggregates(scored.slice(i, 1)) for i in range(scored.height)])["titles"]
    for partials in (whole, parts):
        units = dict(partials.select("title_id", "sentence_units").iter_rows())
        assert units == {"a": -324637 + 500000, "b": -324637, "c": -324637 * 2 + 500000}
    stats = stats_of(scored).collect().sort("title_id")
    assert stats["sentence_sentiment_mean"].to_list() == [
        (-324637 + 500000) / 2 * SCORE_UNIT, -0.324637, (-324637 * 2 + 500000) / 3 * SCORE_UNIT]


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
    # the one constant is the default of both settings that give a z
    assert MetricsSettings().wilson_z == MetricsSettings().confidence_z == Z_95


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


# --- rating_class and rating_sentiment_mismatch ---------------------------------------------------


def test_rating_class_edges_on_every_kind_of_scale() -> None:
    # (rating, top, rating_min, expected): the class is the rating's position p from rating_min
    # (0) to the top (1): p < 2/5 negative, p > 3/5 positive, 2/5..3/5 (both ends) middle
    cases = [
        # 1..10: p = (r - 1) / 9: 4 -> 0.33, 5 -> 0.44, 6 -> 0.56, 7 -> 0.67 (the classes as before)
        (1.0, 10, 1.0, "negative"), (4.0, 10, 1.0, "negative"), (5.0, 10, 1.0, "middle"),
        (6.0, 10, 1.0, "middle"), (7.0, 10, 1.0, "positive"), (10.0, 10, 1.0, "positive"),
        # 1..5: p = (r - 1) / 4: 2 -> 0.25, 3 -> 0.5, 4 -> 0.75 (as before)
        (1.0, 5, 1.0, "negative"), (2.0, 5, 1.0, "negative"), (3.0, 5, 1.0, "middle"),
        (4.0, 5, 1.0, "positive"), (5.0, 5, 1.0, "positive"),
        # 0..10 in tenths: 4.0 and 6.0 are exactly 2/5 and 3/5, the middle's ends, in whole units
        # (4.0 / 10 in floating point must not fall below 0.4); 3.9 and 6.1 are outside it
        (3.9, 10, 0.0, "negative"), (4.0, 10, 0.0, "middle"), (6.0, 10, 0.0, "middle"),
        (6.1, 10, 0.0, "positive"),
        # half stars 0.5..5: p = (r - 0.5) / 4.5: 2 -> 0.33, 2.5 -> 0.44, 3 -> 0.56, 3.5 -> 0.67
        (2.0, 5, 0.5, "negative"), (2.5, 5, 0.5, "middle"), (3.0, 5, 0.5, "middle"),
        (3.5, 5, 0.5, "positive"),
        # thumbs (top 1, from 0): not recommended negative, recommended positive
        (0.0, 1, 0.0, "negative"), (1.0, 1, 0.0, "positive"),
        # 1..2: the two points are the two ends
        (1.0, 2, 1.0, "negative"), (2.0, 2, 1.0, "positive"),
        (None, 10, 1.0, None),  # no rating -> no class
    ]
    frame = pl.DataFrame(
        [c[:3] for c in cases], schema={"rating": pl.Float64, "scale": pl.Int32, "low": pl.Float64},
        orient="row",
    )
    got = frame.select(cls=rating_class(pl.col("rating"), pl.col("scale"), pl.col("low")))
    assert got["cls"].to_list() == [c[3] for c in cases]
    # the report's scalar form says the same, with rating_min's default (1; 0 on thumbs) when none
    assert [rating_class_of(r, k, low) for r, k, low, _ in cases[:-1]] == [c[3] for c in cases[:-1]]
    assert rating_class_of(4.0, 10) == "negative" and rating_class_of(0.0, 1) == "negative"
    default = pl.DataFrame({"rating": [1.0, 0.0], "scale": [10, 1]})
    assert default.select(c=rating_class(pl.col("rating"), pl.col("scale")))["c"].to_list() == [
        "negative", "negative"]


def test_rating_sentiment_mismatch_flags_strong_disagreement_only() -> None:
    frame = pl.DataFrame(
        [
            (9.0, 10, -0.6),  # positive class, words <= -0.5 -> True
            (9.0, 10, -0.4),  # positive class, words only mildly negative -> False
            (9.0, 10, -0.5),  # on the threshold: inclusive -> True
            (2.0, 10, 0.7),  # negative class, words >= 0.5 -> True
            (2.0, 10, 0.4),  # negative class, mildly positive words -> False
            (5.0, 10, -0.9),  # middle of the scale never mismatches -> False
            (6.0, 10, 0.9),  # middle -> False
            (4.0, 5, -0.6),  # 4 of 5 is positive -> True
            (3.0, 5, 0.9),  # 3 of 5 is the middle -> False
            (None, 10, -0.9),  # no rating -> False (not null)
            (9.0, 10, None),  # no score -> False (not null)
        ],
        schema={"rating": pl.Float64, "scale": pl.Int32, "score": pl.Float64},
        orient="row",
    )
    got = frame.select(
        flag=rating_sentiment_mismatch(pl.col("rating"), pl.col("scale"), pl.col("score"))
    )
    expected = pl.DataFrame(
        {"flag": [True, False, True, True, False, False, False, True, False, False, False]}
    )
    assert_frame_equal(got, expected)
    # a higher threshold: -0.6 and +0.7 no longer reach 0.8
    stricter = frame.select(
        flag=rating_sentiment_mismatch(pl.col("rating"), pl.col("scale"), pl.col("score"), 0.8)
    )
    assert stricter["flag"].to_list() == [False] * 11


# --- with_review_metrics --------------------------------------------------------------------------


def test_with_review_metrics_of_reviews_with_their_texts_scores() -> None:
    reviews = reviews_frame(
        [
            ("r1", "t1", 8.0, 10, 41, 57, "h_good"),
            ("r2", "t1", 2.0, 10, 0, 0, "h_bad"),
            ("r3", "t1", 7.0, 10, 5, 5, None),  # no text: nothing to score
            ("r4", "t2", 9.0, 10, 0, 5, "h_good"),  # same text as r1: same scores
            ("r5", "t2", None, 10, None, None, "h_unscored"),  # text not in the cache yet
        ]
    )
    scores = scores_frame(
        [
            # whole text: compound, pos, neu, neg; sentences: mean, count, positive/negative share
            ("h_good", 0.8, 0.6, 0.4, 0.0, 0.55, 2, 1.0, 0.0),
            ("h_bad", -0.05, 0.1, 0.7, 0.2, 0.6, 2, 1.0, 0.0),
            ("h_unused", 0.0, 0.0, 1.0, 0.0, 0.0, 1, 0.0, 0.0),
        ]
    )
    got = per_review(reviews, scores, z=1.96).select(REVIEW_METRIC_COLUMNS).collect().sort("review_id")
    # ratios: 41/57 = 0.719298, 0 of 0 -> null, 5/5 = 1, 0/5 = 0, unknown -> null.
    # bounds at z = 1.96 (worked out in test_wilson_lower_bound_matches_hand_worked_values):
    # 41/57 -> 0.591696, 0 of 0 -> 0, 5/5 -> 0.565509, 0/5 -> 0, unknown -> null.
    # whole-text labels: 0.8 >= 0.05 positive; -0.05 <= -0.05 negative. Sentence labels: 0.55 and
    # 0.6 positive. sentiment_score is the sentence mean (the default measure).
    # mismatch: r1 8/10 and r4 9/10 are positive class with score 0.55 -> no; r2 2/10 is negative
    # class with sentence mean 0.6 >= 0.5 -> True (its whole-text -0.05 would not flag it).
    # r3 has no text_hash and r5's hash has no score: both keep null scores, null labels and
    # mismatch False rather than dropping out.
    expected = pl.DataFrame(
        [
            ("r1", 0.719298, 0.591696, 0.8, 0.6, 0.4, 0.0, "positive",
             0.55, 2, 1.0, 0.0, "positive", 0.55, False),
            ("r2", None, 0.0, -0.05, 0.1, 0.7, 0.2, "negative",
             0.6, 2, 1.0, 0.0, "positive", 0.6, True),
            ("r3", 1.0, 0.565509, None, None, None, None, None,
             None, None, None, None, None, None, False),
            ("r4", 0.0, 0.0, 0.8, 0.6, 0.4, 0.0, "positive",
             0.55, 2, 1.0, 0.0, "positive", 0.55, False),
            ("r5", None, None, None, None, None, None, None,
             None, None, None, None, None, None, False),
        ],
        schema=REVIEW_METRICS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_with_review_metrics_whole_measure_scores_by_the_whole_text() -> None:
    reviews = reviews_frame(
        [("r1", "t1", 2.0, 10, 0, 0, "h_bad"), ("r2", "t1", 9.0, 10, 0, 0, "h_mixed")]
    )
    scores = scores_frame(
        [
            ("h_bad", -0.05, 0.1, 0.7, 0.2, 0.6, 2, 1.0, 0.0),
            ("h_mixed", -0.7, 0.1, 0.3, 0.6, 0.2, 3, 2 / 3, 1 / 3),
        ]
    )
    got = (
        per_review(reviews, scores, measure="whole")
        .collect()
        .select("review_id", "sentiment_score", "rating_sentiment_mismatch")
    )
    # measure "whole": sentiment_score is the whole-text compound. r1: a 2/10 with words at -0.05
    # is no mismatch (by its sentence mean 0.6 it was). r2: 9/10 with -0.7 <= -0.5 -> mismatch
    # (by its sentence mean 0.2 it would not be).
    expected = pl.DataFrame(
        {
            "review_id": ["r1", "r2"],
            "sentiment_score": [-0.05, -0.7],
            "rating_sentiment_mismatch": [False, True],
        }
    )
    assert_frame_equal(got, expected)


def test_with_review_metrics_passes_its_thresholds_to_the_labels_and_the_flag() -> None:
    reviews = reviews_frame([("r1", "t1", 8.0, 10, 1, 2, "h"), ("r2", "t1", 1.0, 10, 0, 0, "g")])
    scores = scores_frame(
        [("h", 0.3, 0.3, 0.7, 0.0, -0.3, 2, 0.0, 0.5), ("g", 0.6, 0.5, 0.5, 0.0, 0.6, 1, 1.0, 0.0)]
    )
    got = per_review(reviews, scores, threshold=0.5, mismatch_threshold=0.7).collect()
    # 0.3 / -0.3 would be positive / negative at the default 0.05, but lie inside the configured
    # ±0.5; 0.6 is beyond it. r2's 1/10 with 0.6 would mismatch at the default 0.5, not at 0.7.
    assert got["sentiment_label"].to_list() == ["neutral", "positive"]
    assert got["sentence_sentiment_label"].to_list() == ["neutral", "positive"]
    assert got["rating_sentiment_mismatch"].to_list() == [False, False]


# --- distribution_from_histogram ------------------------------------------------------------------


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
    got = distribution_of(reviews).collect()
    # t10 sorts before t5 (string order). t10 lists 1..10 plus its own 4.5 row between 4 and 5
    # (11 rows): 1 of 4 rated -> 0.25, three 8s -> 0.75, the rest 0. t5 lists exactly 1..5 and
    # leaves the unrated review out of the denominator: 1 of 3 -> 1/3, 2 of 3 -> 2/3. t_none has
    # no rated review, so no rows at all. Every row carries its title's scale: whole stars from 1.
    t10 = [(float(p), 0, 0.0, 10) for p in range(1, 11)]
    t10[7] = (8.0, 3, 0.75, 10)  # index 7 is rating 8
    t10.insert(4, (4.5, 1, 0.25, 10))  # after 4.0
    t5 = [(1.0, 0, 0.0, 5), (2.0, 0, 0.0, 5), (3.0, 0, 0.0, 5), (4.0, 1, 1 / 3, 5),
          (5.0, 2, 2 / 3, 5)]
    expected = pl.DataFrame(
        [("t10", *row) for row in t10] + [("t5", *row) for row in t5],
        schema={
            "title_id": pl.String,
            "rating": pl.Float64,
            "review_count": pl.Int64,
            "share": pl.Float64,
            "rating_scale": pl.Int32,
        },
        orient="row",
    ).with_columns(rating_min=pl.lit(1.0), rating_step=pl.lit(1.0), rating_kind=pl.lit("stars"))
    assert_frame_equal(got, expected)
    assert got.filter(pl.col("title_id") == "t5").height == 5
    assert got.filter(pl.col("title_id") == "t10").height == 11


def test_rating_distribution_shares_sum_to_one_per_title() -> None:
    reviews = reviews_frame(
        [("x1", "t1", 3.0, 5, 0, 0, None), ("x2", "t1", 1.0, 5, 0, 0, None),
         ("x3", "t1", 3.0, 5, 0, 0, None), ("y1", "t2", 10.0, 10, 0, 0, None)]
    )
    totals = (
        distribution_of(reviews)
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


def test_merged_titles_the_file_whose_path_sorts_last_wins_whatever_its_time() -> None:
    # Two saves of one page in one source: the file whose path sorts last overrides the other,
    # even though its modification time is older (file times decide nothing).
    rows = [
        ("t1", "Zerkalo", 1975, 8.0, 30000, None, None, None, None, "pages", "a_2020.txt", 1, 0),
        ("t1", "Zerkalo", 1975, 8.1, 34370, None, None, None, None, "pages", "b_2024.txt", 1, 0),
    ]
    titles = with_page_fields(pl.DataFrame(rows, schema=TITLES_SCHEMA, orient="row")).with_columns(
        file_modified_at=pl.Series([datetime(2024, 1, 1), datetime(2020, 1, 1)]))
    got = merged_titles(titles.lazy()).collect()
    assert got.select("site_rating", "site_votes").row(0) == (8.1, 34370)


# --- the title summary: title_stats and title_summary_from_stats ---------------------------------


def test_title_summary_counts_statistics_votes_and_sentiment_shares() -> None:
    reviews = reviews_frame(
        [
            ("r1", "t1", 8.0, 10, 3, 4, "h1"),
            ("r2", "t1", 6.0, 10, 0, 2, "h2"),
            ("r3", "t1", 10.0, 10, 5, 5, "h3"),
            ("r4", "t1", None, 10, 1, 1, "h4"),
            ("r5", "t1", 8.0, 10, 0, 0, None),
            ("r6", "t3", 7.0, 10, 0, 0, None),
        ],
        dates=[date(2024, 3, 5), date(2023, 12, 31), None, date(2024, 1, 15), date(2024, 2, 1),
               None],
        words=[5, 5, 5, 5, 0, 0],
    )
    # the per-review metrics (sentence measure), reduced to what the title summary reads
    review_scores = pl.DataFrame(
        [
            # review_id, whole-text compound, its label, sentence mean, sentiment_score
            ("r1", 0.6, "positive", 0.5, 0.5),
            ("r2", -0.4, "negative", -0.3, -0.3),
            ("r3", 0.2, "positive", 0.03, 0.03),  # the sentence mean alone would be neutral
            ("r4", 0.0, "neutral", 0.0, 0.0),
            ("r5", None, None, None, None),
            ("r6", None, None, None, None),
        ],
        schema=SUMMARY_SCORES_SCHEMA,
        orient="row",
    )
    titles = pl.DataFrame(
        [("t1", "Alpha", 7.5, 1000), ("t2", "Beta", 6.0, 20)],
        schema=SUMMARY_TITLES_SCHEMA,
        orient="row",
    )
    got = summary_of(with_scores(reviews, review_scores), titles).collect()
    # t1: 5 reviews, 4 rated (8, 6, 10, 8): mean 32/4 = 8; median of 6, 8, 8, 10 = 8;
    #   sample stddev sqrt((0 + 4 + 4 + 0) / (4 - 1)) = sqrt(8/3) = 1.632993;
    #   helpful 3+0+5+1+0 = 9, total 4+2+5+1+0 = 12;
    #   4 reviews with a text, all 4 scored (scored_share 1);
    #   sentiment_mean over the 4 scored sentiment_scores (0.5 - 0.3 + 0.03 + 0) / 4 = 0.0575;
    #   shares count the whole-text sentiment_label among the 4 labelled (r5 has none): positive
    #   2/4 = 0.5, neutral 1/4 = 0.25, negative 1/4 = 0.25 (labels of the sentence means would give
    #   .25/.5/.25, and over 5 reviews they would be .4/.2/.2);
    #   whole_text_sentiment_mean (0.6 - 0.4 + 0.2 + 0) / 4 = 0.1; sentence_sentiment_mean 0.0575;
    #   review dates: earliest 2023-12-31 (r2), latest 2024-03-05 (r1); r3's missing date is skipped.
    # t2: only in titles -> review_count 0, rated 0, scored 0, every review statistic null.
    # t3: only in reviews -> null title and site figures; one rating 7: mean = median = 7, stddev of
    #   one value (n - 1 = 0) is null; no text: 0 scored of none, scored_share null; no labelled
    #   review -> null shares, not 0; no date -> null.
    expected = pl.DataFrame(
        [
            ("t1", "Alpha", 5, 4, 8.0, 8.0, 1.632993, 7.5, 1000, 9, 12, 0.0575, 0.5, 0.25, 0.25, 4,
             1.0, 0.1, 0.0575, date(2023, 12, 31), date(2024, 3, 5), None),
            ("t2", "Beta", 0, 0, None, None, None, 6.0, 20, None, None, None, None, None, None, 0,
             None, None, None, None, None, None),
            ("t3", None, 1, 1, 7.0, 7.0, None, None, None, 0, 0, None, None, None, None, 0, None,
             None, None, None, None, None),
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
            "scored_review_count": pl.Int64,
            "scored_share": pl.Float64,
            "whole_text_sentiment_mean": pl.Float64,
            "sentence_sentiment_mean": pl.Float64,
            "first_review_date": pl.Date,
            "last_review_date": pl.Date,
            # no review without a total: null, the sum of no votes
            "helpful_only_votes": pl.Int64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


@pytest.mark.parametrize(
    ("measure", "sentiment_mean"),
    [
        ("whole", 0.2),  # compounds 0.6 and -0.2 -> (0.6 - 0.2) / 2 = 0.2
        ("sentence", -0.19),  # sentence means 0.02 and -0.4 -> (0.02 - 0.4) / 2 = -0.19
    ],
)
def test_title_summary_sentiment_mean_follows_the_configured_measure(
    measure: str, sentiment_mean: float
) -> None:
    reviews = reviews_frame([("r1", "t1", 8.0, 10, 0, 0, "h1"), ("r2", "t1", 3.0, 10, 0, 0, "h2")])
    scores = scores_frame(
        [("h1", 0.6, 0.4, 0.6, 0.0, 0.02, 2, 0.5, 0.5), ("h2", -0.2, 0.1, 0.6, 0.3, -0.4, 1, 0.0, 1.0)]
    )
    got = summary_of(per_review(reviews, scores, measure=measure), pl.DataFrame(schema=SUMMARY_TITLES_SCHEMA))
    row = got.collect().row(0, named=True)
    assert row["sentiment_mean"] == pytest.approx(sentiment_mean, abs=1e-9)
    # the shares count the whole-text labels whatever the measure: positive (0.6) and negative
    # (-0.2) -> 0.5 / 0 / 0.5 (the sentence labels, neutral and negative, would give 0 / 0.5 / 0.5)
    assert (row["positive_share"], row["neutral_share"], row["negative_share"]) == (0.5, 0.0, 0.5)
    # both measures are published whatever the choice: (0.6 - 0.2)/2 = 0.2, (0.02 - 0.4)/2 = -0.19
    assert row["whole_text_sentiment_mean"] == pytest.approx(0.2, abs=1e-9)
    assert row["sentence_sentiment_mean"] == pytest.approx(-0.19, abs=1e-9)


def test_title_summary_means_are_null_when_there_is_nothing_to_average() -> None:
    # u1 has votes but neither a rating nor a sentiment score nor a date (staging allows a review
    # with text that is not scored yet, or a rating alone; this one shows all gaps at once)
    reviews = reviews_frame([("u1", "t1", None, 10, 1, 2, None)])
    review_scores = pl.DataFrame(
        [("u1", None, None, None, None)], schema=SUMMARY_SCORES_SCHEMA, orient="row"
    )
    titles = pl.DataFrame(schema=SUMMARY_TITLES_SCHEMA)
    got = summary_of(with_scores(reviews, review_scores), titles).collect()
    # a mean of no values is unknown: null, as Polars' mean() gives and as the stddev is, not the
    # NaN of an exact unit sum 0 divided by a count of 0, which DuckDB and the CSV would carry as
    # a number
    columns = ["rating_mean", "rating_stddev", "sentiment_mean", "whole_text_sentiment_mean",
               "sentence_sentiment_mean"]
    expected = pl.DataFrame(
        {c: [None] for c in columns}, schema={c: pl.Float64 for c in columns}
    ).with_columns(
        first_review_date=pl.lit(None, dtype=pl.Date), last_review_date=pl.lit(None, dtype=pl.Date)
    )
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
    "ranked_by": pl.String,
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
    got = top_helpful_reviews(with_scores(reviews, review_scores), n=4).collect()
    # t1: r5 has the highest bound -> 1; among the 0.30 ties r2, r3, r4 have more helpful votes (3)
    # than r1 (2); of those r3 and r4 have more total votes (7) than r2 (6); r3 and r4 tie on
    # everything, so review_id decides: r3, r4, r2. n = 4 cuts r1. r6 had no votes -> never ranked.
    # t2: only an unvoted review -> no rows. t3: one voted review -> rank 1 only.
    expected = pl.DataFrame(
        [
            ("t1", 1, "r5", 1, 1, 1.0, 0.60, "helpful_ratio"),
            ("t1", 2, "r3", 3, 7, 3 / 7, 0.30, "helpful_ratio"),
            ("t1", 3, "r4", 3, 7, 3 / 7, 0.30, "helpful_ratio"),
            ("t1", 4, "r2", 3, 6, 0.5, 0.30, "helpful_ratio"),
            ("t3", 1, "u1", 1, 3, 1 / 3, 0.05, "helpful_ratio"),
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
    got = top_helpful_reviews(per_review(reviews, NO_SCORES, z=1.96), n=10).collect()
    # bounds at z = 1.96 (hand-worked above, 1 of 1: (1 + 1.9208 - 1.9208) / 4.8416 = 0.206543):
    # 9/10 -> 0.595844 > 41/57 -> 0.591696 > 5/5 -> 0.565509 > 1/1 -> 0.206543, while by ratio
    # the order would be a, d (1.0) then c (0.9), b (0.72).
    expected = pl.DataFrame(
        [
            ("t1", 1, "c", 9, 10, 0.9, 0.595844, "helpful_ratio"),
            ("t1", 2, "b", 41, 57, 41 / 57, 0.591696, "helpful_ratio"),
            ("t1", 3, "a", 5, 5, 1.0, 0.565509, "helpful_ratio"),
            ("t1", 4, "d", 1, 1, 1.0, 0.206543, "helpful_ratio"),
        ],
        schema=TOP_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_top_helpful_reviews_does_not_rank_an_unknown_bound_first() -> None:
    # Staging lets this row through: blank helpful_votes with total_votes given (only the reverse,
    # helpful without total, is quarantined), so with_review_metrics gives it a null bound.
    reviews = reviews_frame(
        [
            ("a", "t1", None, 10, None, 5, None),
            ("b", "t1", None, 10, 9, 10, None),
            ("c", "t1", None, 10, 1, 1, None),
        ]
    )
    got = top_helpful_reviews(per_review(reviews, NO_SCORES), n=2).collect()
    # the two reviews with a known bound (9/10 -> 0.5958, 1/1 -> 0.2065) are the two most helpful;
    # a review whose helpfulness is unknown must not push one of them out
    assert got["review_id"].to_list() == ["b", "c"]


def test_top_helpful_reviews_zero_helpful_ties_go_to_more_total_votes() -> None:
    reviews = reviews_frame(
        [("a", "t1", None, 10, 0, 3, None), ("b", "t1", None, 10, 0, 5, None)]
    )
    got = top_helpful_reviews(per_review(reviews, NO_SCORES), n=10).collect()
    # 0 of 3 and 0 of 5 both have bound 0 (p = 0 makes the numerator z²/2n - z·z/2n = 0) and the
    # same helpful votes (0), so the next tie-break decides: more total votes first -> b, then a
    assert got["review_id"].to_list() == ["b", "a"]


# --- weighted_rating_parameters, weighted_rating, comparable_ratings ------------------------------

# What weighted_rating_parameters and comparable_ratings read: the title summary joined with the
# title's rating_scale (metrics.metric_frames).
COMPARABLE_SUMMARY_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "rating_scale": pl.Int32,
    "rated_review_count": pl.Int64,
    "rating_mean": pl.Float64,
    "rating_stddev": pl.Float64,
    "site_rating": pl.Float64,
    "site_votes": pl.Int64,
}
PARAMETERS_SCHEMA: dict[str, Any] = {
    "basis": pl.String,
    "rating_scale": pl.Int32,
    "c": pl.Float64,
    "m": pl.Float64,
    "titles": pl.UInt32,
}
PARAMETER_SUMMARY = pl.DataFrame(
    [
        # title, scale, rated reviews, mean, stddev, site rating, site votes
        ("a", 10, 4, 8.0, 2.0, 7.5, 1000),
        ("b", 10, 1, 6.0, None, None, None),
        ("c", 10, 10, 7.0, 1.0, 8.0, 3000),
        ("d", 5, 2, 4.0, 1.0, 6.0, 0),  # site rating without votes: no evidence
        ("e", 5, 6, 3.0, 1.5, None, None),
        ("f", None, 0, None, None, 9.0, 500),  # no rated review, but a site rating
    ],
    schema=COMPARABLE_SUMMARY_SCHEMA,
    orient="row",
)


def sorted_parameters(frame: pl.LazyFrame) -> pl.DataFrame:
    """The parameters by basis and scale; the scales here are whole points from 1 (null for site
    ratings), checked and dropped so that the expected frames name the scale by its top alone."""
    got = frame.collect().sort("basis", "rating_scale", nulls_last=True)
    reviews = got["basis"] == "reviews"
    assert got.filter(reviews)["rating_min"].to_list() == [1.0] * reviews.sum()
    assert got.filter(reviews)["rating_step"].to_list() == [1.0] * reviews.sum()
    assert got.filter(~reviews).select("rating_min", "rating_step").null_count().sum_horizontal().item() \
        == 2 * (~reviews).sum()
    return got.drop("rating_min", "rating_step")


def test_weighted_rating_parameters_per_scale_and_for_site_ratings() -> None:
    got = sorted_parameters(weighted_rating_parameters(PARAMETER_SUMMARY.lazy()))
    # reviews on 10 points: titles a, b, c (f has no rated review): C = (8 + 6 + 7) / 3 = 7,
    #   m = median of rated_review_count 4, 1, 10 -> 4.
    # reviews on 5 points: d, e: C = (4 + 3) / 2 = 3.5, m = median of 2, 6 = (2 + 6) / 2 = 4.
    # site: titles with a site rating and at least one vote: a (7.5, 1000), c (8.0, 3000),
    #   f (9.0, 500); d has 0 votes, b and e none: C = (7.5 + 8 + 9) / 3 = 8.166667,
    #   m = median of 1000, 3000, 500 = 1000.
    expected = pl.DataFrame(
        [
            ("reviews", 5, 3.5, 4.0, 2),
            ("reviews", 10, 7.0, 4.0, 3),
            ("site", None, 8.166667, 1000.0, 3),
        ],
        schema=PARAMETERS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_weighted_rating_parameters_quantile_and_fixed_values() -> None:
    # quantile 0.75 with linear interpolation: 10 points, sorted counts 1, 4, 10: position
    #   0.75 · (3 - 1) = 1.5 -> 4 + 0.5 · (10 - 4) = 7; 5 points, 2, 6: position 0.75 -> 2 + 0.75 · 4
    #   = 5; site 500, 1000, 3000: position 1.5 -> 1000 + 0.5 · 2000 = 2000. C is unchanged.
    got = sorted_parameters(weighted_rating_parameters(PARAMETER_SUMMARY.lazy(), quantile=0.75))
    assert got["m"].to_list() == [5.0, 7.0, 2000.0]
    assert got["c"].to_list() == pytest.approx([3.5, 7.0, 24.5 / 3], abs=1e-12)
    # fixed m and C: every basis takes them as given; the title counts still describe the data
    fixed = sorted_parameters(weighted_rating_parameters(PARAMETER_SUMMARY.lazy(), m=100.0, c=6.5))
    expected = pl.DataFrame(
        [("reviews", 5, 6.5, 100.0, 2), ("reviews", 10, 6.5, 100.0, 3), ("site", None, 6.5, 100.0, 3)],
        schema=PARAMETERS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(fixed, expected)


def test_weighted_rating_parameters_without_site_ratings_has_no_site_row() -> None:
    # a site basis needs at least one title with a site rating and votes; here none has
    summary = PARAMETER_SUMMARY.filter(pl.col("title_id").is_in(["b", "e"]))
    got = sorted_parameters(weighted_rating_parameters(summary.lazy()))
    # b alone on 10 points: C = 6, m = 1; e alone on 5 points: C = 3, m = 6
    expected = pl.DataFrame(
        [("reviews", 5, 3.0, 6.0, 1), ("reviews", 10, 6.0, 1.0, 1)],
        schema=PARAMETERS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected)


def test_weighted_rating_is_imdbs_formula_and_null_without_votes() -> None:
    frame = pl.DataFrame(
        {"v": [4, 0, None, 1, 4], "r": [8.0, 8.0, 8.0, 2.0, None]},
        schema={"v": pl.Int64, "r": pl.Float64},
    )
    got = frame.select(wr=weighted_rating(pl.col("v"), pl.col("r"), pl.lit(4.0), pl.lit(7.0)))
    # m = 4, C = 7: v = 4 -> 4/8 · 8 + 4/8 · 7 = 7.5; v = 0 or unknown -> null (nothing to weigh);
    # v = 1 -> 1/5 · 2 + 4/5 · 7 = 0.4 + 5.6 = 6.0; no rating -> null
    expected = pl.DataFrame({"wr": [7.5, None, None, 6.0, None]})
    assert_frame_equal(got, expected, **FLOAT_TOL)


COMPARABLE_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "weighted_rating": pl.Float64,
    "weighted_site_rating": pl.Float64,
    "bayesian_rating": pl.Float64,
    "rating_ci_low": pl.Float64,
    "rating_ci_high": pl.Float64,
}
RECOMMENDED_COLUMNS = ("recommended_share", "recommended_share_low", "recommended_share_high")


def without_recommended(got: pl.DataFrame) -> pl.DataFrame:
    """comparable_ratings' output of star-rated titles, whose recommended_share columns are null."""
    assert got.select(RECOMMENDED_COLUMNS).null_count().row(0) == (got.height,) * 3
    return got.drop(RECOMMENDED_COLUMNS)


COMPARABLE_SUMMARY = pl.DataFrame(
    [
        ("a", 10, 4, 8.0, 2.0, 7.5, 1000),
        ("b", 5, 2, 4.5, 0.707107, None, None),  # ratings 4 and 5: s = sqrt(0.5)
        ("c", 10, 1, 2.0, None, 3.0, 10),
        ("d", 10, 0, None, None, 6.0, 0),
        ("e", 10, 3, 1.5, 0.866025, None, None),  # ratings 1, 1, 2.5: s = sqrt(0.75)
    ],
    schema=COMPARABLE_SUMMARY_SCHEMA,
    orient="row",
)
# Parameters set by hand, so these tests do not lean on weighted_rating_parameters.
COMPARABLE_PARAMETERS = pl.DataFrame(
    [("reviews", 5, 3.5, 4.0, 2), ("reviews", 10, 7.0, 4.0, 3), ("site", None, 8.0, 1000.0, 3)],
    schema=PARAMETERS_SCHEMA,
    orient="row",
)


def test_comparable_ratings_by_hand() -> None:
    got = (
        comparable_ratings(COMPARABLE_SUMMARY.lazy(), COMPARABLE_PARAMETERS.lazy(), z=1.96)
        .collect()
        .sort("title_id")
    )
    # WR = v/(v+m)·R + m/(v+m)·C; bayesian (n·R + K(K+1)/2) / (n + K) (one pseudo-rating per
    # star); CI R ± 1.96·s/√n within [1, K].
    # a (10 pts, C 7, m 4): WR 4/8·8 + 4/8·7 = 7.5; site (C 8, m 1000) 1000/2000·7.5 + ½·8 = 7.75;
    #   bayesian (4·8 + 55) / (4 + 10) = 87/14 = 6.214286; CI 8 ± 1.96·2/2 = 8 ± 1.96 -> 6.04, 9.96.
    # b (5 pts, C 3.5, m 4): WR 2/6·4.5 + 4/6·3.5 = 1.5 + 2.333333 = 3.833333; no site rating;
    #   bayesian (2·4.5 + 15) / (2 + 5) = 24/7 = 3.428571;
    #   CI 4.5 ± 1.96·0.707107/1.414214 = 4.5 ± 0.98 -> 3.52, 5.48 clipped to K = 5.
    # c: WR 1/5·2 + 4/5·7 = 6.0; site 10/1010·3 + 1000/1010·8 = 8030/1010 = 7.950495;
    #   bayesian (2 + 55) / 11 = 5.181818; one rating: no stddev, no interval.
    # d: no rated review and 0 site votes: v = 0 gives no WR, and nothing else either.
    # e: WR 3/7·1.5 + 4/7·7 = 32.5/7 = 4.642857; bayesian (4.5 + 55) / 13 = 4.576923;
    #   CI 1.5 ± 1.96·0.866025/1.732051 = 1.5 ± 0.98 -> 0.52 clipped to 1, and 2.48.
    expected = pl.DataFrame(
        [
            ("a", 7.5, 7.75, 6.214286, 6.04, 9.96),
            ("b", 3.833333, None, 3.428571, 3.52, 5.0),
            ("c", 6.0, 7.950495, 5.181818, None, None),
            ("d", None, None, None, None, None),
            ("e", 4.642857, None, 4.576923, 1.0, 2.48),
        ],
        schema=COMPARABLE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(without_recommended(got), expected, **FLOAT_TOL)


def test_comparable_ratings_prior_per_star_weighs_the_midpoint() -> None:
    got = comparable_ratings(
        COMPARABLE_SUMMARY.lazy(), COMPARABLE_PARAMETERS.lazy(), prior_per_star=2.0
    ).collect().sort("title_id")
    # two pseudo-ratings per star on a: (4·8 + 2·55) / (4 + 2·10) = 142/24 = 5.916667; on b:
    # (9 + 2·15) / (2 + 10) = 39/12 = 3.25
    assert got["bayesian_rating"].to_list()[:2] == pytest.approx([142 / 24, 39 / 12], abs=1e-12)


def test_comparable_ratings_without_any_site_rating_keeps_every_title() -> None:
    # (a cross join with the site parameters once gave no rows at all when there was no 'site' row)
    summary = COMPARABLE_SUMMARY.filter(pl.col("title_id").is_in(["b", "e"]))  # no site ratings
    parameters = COMPARABLE_PARAMETERS.filter(pl.col("basis") == "reviews")
    got = comparable_ratings(summary.lazy(), parameters.lazy(), z=1.96).collect().sort("title_id")
    # the review-based figures do not depend on site ratings (see test_comparable_ratings_by_hand):
    # b: WR 3.833333, bayesian 3.428571, CI 3.52..5; e: WR 4.642857, bayesian 4.576923, CI 1..2.48
    expected = pl.DataFrame(
        [("b", 3.833333, None, 3.428571, 3.52, 5.0), ("e", 4.642857, None, 4.576923, 1.0, 2.48)],
        schema=COMPARABLE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(without_recommended(got), expected, **FLOAT_TOL)


def test_comparable_ratings_keeps_the_summary_row_order() -> None:
    # titles on both scales, each with its own parameters row
    titles = [f"t{i:02d}" for i in range(12)]
    summary = pl.DataFrame(
        [(t, 5 if i % 2 else 10, 3, 4.0, 1.0, 7.0, 100) for i, t in enumerate(titles)],
        schema=COMPARABLE_SUMMARY_SCHEMA,
        orient="row",
    )
    # one row per title of the summary, in the summary's order, on every one of 200 runs (with a
    # cross join after the join on rating_scale, about half the runs on two threads came out in
    # another order: the plan dropped the join's maintain_order)
    orders = {
        tuple(comparable_ratings(summary.lazy(), COMPARABLE_PARAMETERS.lazy()).collect()["title_id"])
        for _ in range(200)
    }
    assert orders == {tuple(titles)}


# --- rating_shape ---------------------------------------------------------------------------------

DISTRIBUTION_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "rating": pl.Float64,
    "review_count": pl.Int64,
    "share": pl.Float64,
    "rating_scale": pl.Int32,
}
SHAPE_SCHEMA: dict[str, Any] = {
    "title_id": pl.String,
    "rating_entropy": pl.Float64,
    "extreme_share": pl.Float64,
    "bimodality_coefficient": pl.Float64,
    "rating_skewness": pl.Float64,
    "is_polarized": pl.Boolean,
}


def distribution(titles: dict[str, tuple[int, dict[int, int]]]) -> pl.DataFrame:
    """distribution_from_histogram's output for {title: (scale, {point: count})}: every point 1..scale."""
    rows = []
    for title, (scale, counts) in titles.items():
        n = sum(counts.values())
        for point in range(1, scale + 1):
            c = counts.get(point, 0)
            rows.append((title, float(point), c, c / n, scale))
    return pl.DataFrame(rows, schema=DISTRIBUTION_SCHEMA, orient="row")


def test_rating_shape_by_hand() -> None:
    dist = distribution(
        {
            "one": (10, {8: 5}),
            "skewed": (10, {2: 1, 8: 1, 9: 2, 10: 2}),
            "uniform5": (5, {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}),
            "uniform10": (10, {p: 2 for p in range(1, 11)}),
        }
    )
    got = rating_shape(dist.lazy()).collect().sort("title_id")
    # (no scipy in the venv, so each figure is worked out by hand)
    # one: all 5 ratings on 8 -> one share of 1, entropy -1·ln 1 / ln 10 = 0; 8 is not among
    #   1, 2, 9, 10 -> extreme_share 0; no spread (m2 = 0) -> no skewness, no bimodality.
    # skewed: 2, 8, 9, 9, 10, 10 (n = 6), mean 48/6 = 8, deviations -6, 0, 1, 1, 2, 2:
    #   m2 = (36+0+1+1+4+4)/6 = 46/6 = 7.666667; m3 = (-216+0+1+1+8+8)/6 = -198/6 = -33;
    #   m4 = (1296+0+1+1+16+16)/6 = 1330/6 = 221.666667;
    #   g1 = m3 / m2^1.5 = -33 / 21.228044 = -1.554548;
    #   G1 = g1·√(6·5)/(6-2) = -1.554548 · 5.477226 / 4 = -2.128652 (scipy skew(bias=False));
    #   g2 = m4/m2² - 3 = 221.666667 / 58.777778 - 3 = 0.771267;
    #   G2 = ((n+1)·g2 + 6)·(n-1)/((n-2)(n-3)) = (7·0.771267 + 6)·5/12 = 4.749527
    #   (scipy kurtosis(bias=False)); b = (G1² + 1) / (G2 + 3·5²/(4·3)) = (4.531160 + 1) /
    #   (4.749527 + 6.25) = 0.502854;
    #   entropy: shares 1/6, 1/6, 1/3, 1/3 -> H = 2·(1/6)·ln 6 + 2·(1/3)·ln 3 = 0.597253 + 0.732408
    #   = 1.329661, / ln 10 = 2.302585 -> 0.577465; extreme: 2 (low), 9, 9, 10, 10 (high) -> 5/6.
    # uniform5: 1..5 once each: shares 1/5 -> H = ln 5 -> entropy 1; extreme: 1, 2, 4, 5 -> 4/5;
    #   symmetric -> G1 = 0; m2 = (4+1+0+1+4)/5 = 2, m4 = (16+1+0+1+16)/5 = 6.8, g2 = 6.8/4 - 3
    #   = -1.3, G2 = (6·(-1.3) + 6)·4/(3·2) = -1.2; b = 1 / (-1.2 + 3·16/6) = 1/6.8 = 0.147059.
    # uniform10: 2 on each of 1..10 -> entropy 1; extreme 8/20 = 0.4; G1 = 0 (symmetric);
    #   n = 20, mean 5.5, deviations ±0.5, ±1.5, ±2.5, ±3.5, ±4.5, 4 ratings each:
    #   m2 = 4·(0.25+2.25+6.25+12.25+20.25)/20 = 8.25, m4 = 4·(0.0625+5.0625+39.0625+150.0625
    #   +410.0625)/20 = 120.8625, g2 = 120.8625/68.0625 - 3 = -1.224242,
    #   G2 = (21·(-1.224242) + 6)·19/(18·17) = -19.709091·19/306 = -1.223767;
    #   b = 1 / (-1.223767 + 3·361/306) = 1 / (-1.223767 + 3.539216) = 1 / 2.315449 = 0.431882. None is polarized: all have fewer than 10 ratings, or
    #   (uniform10) b below 5/9.
    expected = pl.DataFrame(
        [
            ("one", 0.0, 0.0, None, None, False),
            ("skewed", 0.577465, 5 / 6, 0.502854, -2.128652, False),
            ("uniform10", 1.0, 0.4, 0.431882, 0.0, False),
            ("uniform5", 1.0, 0.8, 0.147059, 0.0, False),
        ],
        schema=SHAPE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_rating_shape_polarized_needs_two_ends_bimodality_and_enough_ratings() -> None:
    dist = distribution(
        {
            "u_shape": (10, {1: 6, 10: 6}),
            "unimodal": (10, {5: 2, 6: 8, 7: 2}),
        }
    )
    got = rating_shape(dist.lazy()).collect().sort("title_id")
    # u_shape: 12 ratings, half on 1 and half on 10: mean 5.5, every deviation ±4.5:
    #   m2 = 20.25, m3 = 0, m4 = 410.0625 -> g2 = 410.0625/410.0625 - 3 = -2, G1 = 0;
    #   G2 = (13·(-2) + 6)·11/(10·9) = -220/90 = -2.444444; 3·11²/90 = 4.033333;
    #   b = 1 / (4.033333 - 2.444444) = 0.629371 > 5/9 = 0.555556; 6/12 = 0.5 >= 0.2 on each end;
    #   n = 12 >= 10 -> polarized. Two equal shares -> entropy ln 2 / ln 10 = 0.301030;
    #   every rating is extreme -> 1.
    # unimodal: 5, 5, 6 ×8, 7, 7: mean 6, m2 = (1+1+1+1)/12 = 1/3, m4 = 4/12 = 1/3, g2 = (1/3)/(1/9)
    #   - 3 = 0, G2 = (0 + 6)·11/90 = 0.733333; b = 1 / (0.733333 + 4.033333) = 0.209790;
    #   no rating at an end -> not polarized; entropy: shares 1/6, 2/3, 1/6 ->
    #   (2·(1/6)·ln 6 + (2/3)·ln 1.5) / ln 10 = (0.597253 + 0.270310) / 2.302585 = 0.376778.
    expected = pl.DataFrame(
        [
            ("u_shape", 0.301030, 1.0, 0.629371, 0.0, True),
            ("unimodal", 0.376778, 0.0, 0.209790, 0.0, False),
        ],
        schema=SHAPE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)
    # the same U with min_ratings 13 (more than its 12 ratings) is not polarized; everything else
    # holds, so the count alone decides
    few = rating_shape(dist.lazy(), min_ratings=13).collect().sort("title_id")
    assert few["is_polarized"].to_list() == [False, False]
    # and an end share of 0.6 asks more than the 0.5 on each end
    assert rating_shape(dist.lazy(), end_share=0.6).collect().sort("title_id")[
        "is_polarized"
    ].to_list() == [False, False]


# --- spearman -------------------------------------------------------------------------------------


def test_spearman_with_ties_uses_average_ranks() -> None:
    frame = pl.DataFrame(
        [
            # ties: x = 1, 2, 2, 3, 4 and y = 2, 1, 3, 3, 5
            ("ties", 1.0, 2.0), ("ties", 2.0, 1.0), ("ties", 2.0, 3.0), ("ties", 3.0, 3.0),
            ("ties", 4.0, 5.0),
            ("mono", 1.0, 10.0), ("mono", 2.0, 20.0), ("mono", 3.0, 25.0), ("mono", 4.0, 40.0),
            ("rev", 1.0, 3.0), ("rev", 2.0, 2.5), ("rev", 5.0, 1.0), ("rev", 7.0, -4.0),
            ("const", 1.0, 5.0), ("const", 2.0, 5.0), ("const", 3.0, 5.0),
            ("two", 1.0, 1.0), ("two", 2.0, 2.0), ("two", None, 3.0),  # 2 complete pairs
            ("none", None, 1.0), ("none", 2.0, None),  # no complete pair
        ],
        schema={"g": pl.String, "x": pl.Float64, "y": pl.Float64},
        orient="row",
    )
    got = spearman(frame.lazy(), ["g"], "x", "y", "rho").collect().sort("g")
    # ties: x ranks 1, 2.5, 2.5, 4, 5; y ranks 2, 1, 3.5, 3.5, 5 (the two 3s share places 3, 4);
    #   both average 3; deviations dx -2, -0.5, -0.5, 1, 2 and dy -1, -2, 0.5, 0.5, 2;
    #   Σdx·dy = 2 + 1 - 0.25 + 0.5 + 4 = 7.25; Σdx² = 4 + .25 + .25 + 1 + 4 = 9.5 = Σdy²;
    #   rho = 7.25 / 9.5 = 0.763158 (scipy.stats.spearmanr gives the same: Pearson on average ranks).
    # mono: strictly increasing together -> 1; rev: y falls as x rises -> -1;
    # const: y has no spread -> null; two: only 2 complete pairs -> null; none: no pair -> no row.
    expected = pl.DataFrame(
        {"g": ["const", "mono", "rev", "ties", "two"], "rho": [None, 1.0, -1.0, 0.763158, None]}
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_spearman_of_millions_of_pairs_is_exact() -> None:
    """Twice the ranks of 2.2 million pairs square to sums past 2**63 (about 1.4e19): summed in 64
    bits they wrap around. A rating scale of a large warehouse has that many reviews."""
    n = 2_200_000
    i = pl.int_range(n, eager=True)
    frame = pl.DataFrame({"g": pl.repeat("same", n, eager=True), "x": i // 220_000, "y": i}).vstack(
        pl.DataFrame({"g": pl.repeat("opposite", n, eager=True), "x": i // 220_000, "y": -i}))
    got = dict(spearman(frame.lazy(), ["g"], "x", "y", "rho").collect().iter_rows())
    # x has 10 tied values of 220,000 rows each, in y's order: Pearson of the average ranks is
    # sqrt(1 - 1/k²) for k equal tied blocks of a ranking, 0.99499 for k = 10
    assert got["same"] == pytest.approx(math.sqrt(1 - 1 / 100), abs=1e-9)
    assert got["opposite"] == pytest.approx(-math.sqrt(1 - 1 / 100), abs=1e-9)


# --- sentiment_agreement --------------------------------------------------------------------------

AGREEMENT_SCORES_SCHEMA: dict[str, Any] = {
    "review_id": pl.String,
    "sentiment_compound": pl.Float64,
    "sentiment_label": pl.String,
    "sentence_compound_mean": pl.Float64,
    "sentence_sentiment_label": pl.String,
}


def test_sentiment_agreement_per_title_and_overall() -> None:
    reviews = reviews_frame(
        [
            ("a", "t1", 9.0, 10, 0, 0, "h"),
            ("b", "t1", 8.0, 10, 0, 0, "h"),
            ("c", "t1", 2.0, 10, 0, 0, "h"),
            ("d", "t1", 5.0, 10, 0, 0, "h"),
            ("e", "t1", 1.0, 10, 0, 0, "h"),
            ("f", "t1", None, 10, 0, 0, "h"),
            ("g", "t2", 5.0, 5, 0, 0, "h"),
            ("h", "t2", 3.0, 5, 0, 0, "h"),
            ("i", "t2", 4.0, 5, 0, 0, "h"),
            ("j", "t3", 6.0, 10, 0, 0, "h"),
        ]
    )
    review_scores = pl.DataFrame(
        [
            ("a", 0.8, "positive", 0.6, "positive"),  # 9/10 positive: both agree
            ("b", -0.3, "negative", 0.02, "neutral"),  # 8/10: both disagree (neutral too)
            ("c", -0.7, "negative", -0.5, "negative"),  # 2/10 negative: both agree
            ("d", 0.9, "positive", 0.9, "positive"),  # 5/10 middle: left out
            ("e", 0.01, "neutral", -0.2, "negative"),  # 1/10: whole disagrees, sentence agrees
            ("f", 0.5, "positive", 0.5, "positive"),  # no rating: left out of everything
            ("g", 0.4, "positive", 0.3, "positive"),  # 5/5 positive: both agree
            ("h", -0.9, "negative", -0.9, "negative"),  # 3/5 middle: left out
            ("i", None, None, None, None),  # unscored: left out
            ("j", 0.5, "positive", 0.1, "positive"),  # 6/10 middle
        ],
        schema=AGREEMENT_SCORES_SCHEMA,
        orient="row",
    )
    got = sentiment_agreement(with_scores(reviews, review_scores)).collect()
    # t1: compared (rating and compound known) a, b, c, d, e = 5. In a class: a, b, c, e.
    #   whole labels agree on a, c -> 2/4 = 0.5; sentence labels on a, c, e -> 3/4 = 0.75.
    #   Spearman, no ties: rating ranks a5 b4 c2 d3 e1; compound ranks a4 b2 c1 d5 e3;
    #   d = 1, 2, 1, -2, -2 -> Σd² = 14 -> 1 - 6·14/(5·24) = 0.3. Sentence ranks a4 b3 c1 d5 e2:
    #   d = 1, 1, 1, -2, -1 -> Σd² = 8 -> 1 - 48/120 = 0.6.
    # t2: compared g, h = 2; in a class: g only -> 1/1 both; 2 pairs -> no Spearman.
    # t3: one middle rating -> compared 1, no review in a class -> null agreement, no Spearman.
    # overall, 10 points = t1 + t3: compared 6; agreement as t1 (j is middle): 0.5, 0.75;
    #   rating ranks a6 b5 c2 d3 e1 j4; compound ranks c1 b2 e3 j4 a5 d6: d = 1, 3, 1, -3, -2, 0,
    #   Σd² = 24 -> 1 - 6·24/(6·35) = 0.314286; sentence ranks c1 e2 b3 j4 a5 d6: d = 1, 2, 1, -3,
    #   -1, 0, Σd² = 16 -> 1 - 96/210 = 0.542857.
    # overall, 5 points = t2. Rows: 'overall' before 'title', then by title_id / rating_scale.
    expected = pl.DataFrame(
        [
            ("overall", None, 5, 2, None, None, 1.0, 1.0),
            ("overall", None, 10, 6, 0.314286, 0.542857, 0.5, 0.75),
            ("title", "t1", 10, 5, 0.3, 0.6, 0.5, 0.75),
            ("title", "t2", 5, 2, None, None, 1.0, 1.0),
            ("title", "t3", 10, 1, None, None, None, None),
        ],
        schema={
            "scope": pl.String,
            "title_id": pl.String,
            "rating_scale": pl.Int32,
            "compared_reviews": pl.Int64,
            "spearman_whole": pl.Float64,
            "spearman_sentence": pl.Float64,
            "label_agreement_whole": pl.Float64,
            "label_agreement_sentence": pl.Float64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


# --- rating_sentiment_mismatches ------------------------------------------------------------------


def test_rating_sentiment_mismatches_ranks_by_strength_then_helpfulness_then_id() -> None:
    reviews = reviews_frame(
        [
            ("m1", "t1", 9.0, 10, 0, 0, "h"),
            ("m2", "t1", 2.0, 10, 0, 0, "h"),
            ("m3", "t1", 10.0, 10, 0, 0, "h"),
            ("m4", "t1", 1.0, 10, 0, 0, "h"),
            ("m5", "t1", 5.0, 10, 0, 0, "h"),
            ("n1", "t2", 4.0, 5, 0, 0, "h"),
            ("n2", "t2", 1.0, 5, 0, 0, "h"),
            ("n3", "t2", 2.0, 5, 0, 0, "h"),
        ]
    )
    review_scores = pl.DataFrame(
        [
            ("m1", -0.8, True, 0.1),
            ("m2", 0.8, True, 0.3),
            ("m3", -0.6, True, None),  # unknown helpfulness sorts after any known one
            ("m4", 0.6, True, 0.2),
            ("m5", -0.9, False, 0.9),  # middle rating: not flagged, not listed
            ("n1", -0.7, True, 0.0),
            ("n2", 0.8, True, 0.0),
            ("n3", 0.7, True, 0.0),
        ],
        schema={
            "review_id": pl.String,
            "sentiment_score": pl.Float64,
            "rating_sentiment_mismatch": pl.Boolean,
            "helpful_wilson_lb": pl.Float64,
        },
        orient="row",
    )
    got = rating_sentiment_mismatches(with_scores(reviews, review_scores)).collect()
    # strength = |score|. All flagged, strongest first:
    #   0.8: m2 (lb 0.3), m1 (0.1), n2 (0.0) -> read_order 1, 2, 3;
    #   0.7: n1 and n3 tie on strength and lb 0.0 -> review_id: n1 4, n3 5;
    #   0.6: m4 (lb 0.2) 6, m3 (lb unknown, last) 7.
    # within t1: m2 1, m1 2, m4 3, m3 4; within t2: n2 1, n1 2, n3 3.
    # negative words with a high rating read "high rating, negative words", and the reverse.
    high, low = "high rating, negative words", "low rating, positive words"
    expected = pl.DataFrame(
        [
            ("t1", 1, "m2", 2.0, 10, 0.8, low, 0.8, 0.3, 1),
            ("t1", 2, "m1", 9.0, 10, -0.8, high, 0.8, 0.1, 2),
            ("t1", 3, "m4", 1.0, 10, 0.6, low, 0.6, 0.2, 6),
            ("t1", 4, "m3", 10.0, 10, -0.6, high, 0.6, None, 7),
            ("t2", 1, "n2", 1.0, 5, 0.8, low, 0.8, 0.0, 3),
            ("t2", 2, "n1", 4.0, 5, -0.7, high, 0.7, 0.0, 4),
            ("t2", 3, "n3", 2.0, 5, 0.7, low, 0.7, 0.0, 5),
        ],
        schema={
            "title_id": pl.String,
            "rank": pl.Int64,
            "review_id": pl.String,
            "rating": pl.Float64,
            "rating_scale": pl.Int32,
            "sentiment_score": pl.Float64,
            "mismatch": pl.String,
            "strength": pl.Float64,
            "helpful_wilson_lb": pl.Float64,
            "read_order": pl.Int64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected)


# --- helpfulness ----------------------------------------------------------------------------------

# agg_helpfulness' columns as metrics.helpfulness gives them
HELPFULNESS_SCHEMA = {
    "title_id": pl.String,
    "review_count": pl.Int64,
    "voted_reviews": pl.Int64,
    "voted_share": pl.Float64,
    "helpful_votes": pl.Int64,
    "total_votes": pl.Int64,
    "helpful_share": pl.Float64,
    "helpfulness_rating_spearman": pl.Float64,
    "helpfulness_length_spearman": pl.Float64,
    "reviews_with_total": pl.Int64,
    "helpful_only_reviews": pl.Int64,
    "helpful_only_votes": pl.Int64,
}


def test_helpfulness_shares_and_spearman_by_hand() -> None:
    reviews = reviews_frame(
        [
            ("a", "t1", 9.0, 10, 8, 10, None),
            ("b", "t1", 2.0, 10, 1, 4, None),
            ("c", "t1", 6.0, 10, 3, 5, None),
            ("d", "t1", 10.0, 10, 0, 0, None),
            ("e", "t1", 7.0, 10, 1, 1, None),
            ("f", "t1", None, 10, 2, 2, None),
            ("g", "t2", 5.0, 10, 0, 0, None),
            ("h", "t3", 8.0, 10, 1, 2, None),
            ("i", "t3", 3.0, 10, 0, 3, None),
        ],
        words=[300, 50, 120, 20, 10, 80, 40, 100, 200],
    )
    review_scores = pl.DataFrame(
        {
            "review_id": list("abcdefghi"),
            # helpful / total as with_review_metrics gives it: d and g had no votes
            "helpful_ratio": [0.8, 0.25, 0.6, None, 1.0, 1.0, None, 0.5, 0.0],
        }
    )
    got = helpfulness(with_scores(reviews, review_scores)).collect()
    # t1: 6 reviews, 5 with votes (not d) -> 5/6 = 0.833333; helpful 8+1+3+0+1+2 = 15 of
    #   10+4+5+0+1+2 = 22 votes -> 0.681818.
    #   helpful_ratio vs rating over voted reviews with a rating (a, b, c, e; f has none):
    #   ratio ranks b1 c2 a3 e4, rating ranks b1 c2 e3 a4 -> d = 0,0,-1,1 -> 1 - 6·2/(4·15) = 0.8.
    #   helpful_ratio vs words over a, b, c, e, f: ratio ranks a3 b1 c2 e4.5 f4.5 (e and f tie at
    #   1.0); words 300, 50, 120, 10, 80 -> a5 b2 c4 e1 f3; both average 3:
    #   dx 0, -2, -1, 1.5, 1.5; dy 2, -1, 1, -2, 0; Σdx·dy = 0 + 2 - 1 - 3 + 0 = -2;
    #   Σdx² = 0 + 4 + 1 + 2.25 + 2.25 = 9.5; Σdy² = 4 + 1 + 1 + 4 + 0 = 10;
    #   rho = -2 / √95 = -0.205196.
    # t2: nobody voted -> voted_share 0, helpful_share null (0 of 0), no Spearman.
    # t3: both voted -> 1; 1 of 5 votes -> 0.2; two pairs -> no Spearman.
    expected = pl.DataFrame(
        [
            ("t1", 6, 5, 5 / 6, 15, 22, 15 / 22, 0.8, -0.205196, 6, 0, None),
            ("t2", 1, 0, 0.0, 0, 0, None, None, None, 1, 0, None),
            ("t3", 2, 2, 1.0, 1, 5, 0.2, None, None, 2, 0, None),
        ],
        schema=HELPFULNESS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


# --- monthly_trends_from_partials -----------------------------------------------------------------


def test_monthly_trends_by_calendar_month() -> None:
    reviews = reviews_frame(
        [
            ("a", "t1", 8.0, 10, 2, 4, None),
            ("b", "t1", 6.0, 10, 0, 0, None),
            ("c", "t1", None, 10, 0, 0, None),
            ("d", "t1", 10.0, 10, 5, 5, None),
            ("e", "t1", 7.0, 10, 1, 3, None),
            ("f", "t2", 4.0, 5, 0, 0, None),
        ],
        dates=[date(2024, 1, 5), date(2024, 1, 31), date(2024, 2, 1), None, date(2023, 12, 15),
               date(2024, 1, 20)],
    )
    # the label says which reviews an analyzer scored (c: none)
    review_scores = pl.DataFrame(
        {"review_id": list("abcdef"), "sentiment_score": [0.5, -0.1, None, 0.9, 0.2, 0.3],
         "sentiment_label": ["positive", "negative", None, "positive", "positive", "positive"]}
    )
    got = monthly_of(with_scores(reviews, review_scores)).collect()
    # months are the first day: 2023-12-15 -> 2023-12-01; 2024-01-05 and 2024-01-31 -> 2024-01-01;
    # 2024-02-01 stays. d has no date and counts nowhere (its 10 and 5 votes would show).
    # t1 2023-12: e: 1 review, rating 7, 1 scored, score 0.2, 1 of 3 helpful -> 1/3.
    # t1 2024-01: a, b: ratings (8 + 6)/2 = 7, 2 scored, scores (0.5 - 0.1)/2 = 0.2, 2 of 4 -> 0.5.
    # t1 2024-02: c: no rating, no score (0 scored) -> null means; 0 votes -> helpful_ratio null.
    # t2 2024-01: f: rating 4, 1 scored, score 0.3, no votes -> null ratio.
    expected = pl.DataFrame(
        [
            ("t1", date(2023, 12, 1), 1, 1, 7.0, 0.2, 1, 1, 3, 1 / 3, None),
            ("t1", date(2024, 1, 1), 2, 2, 7.0, 0.2, 2, 2, 4, 0.5, None),
            ("t1", date(2024, 2, 1), 1, 0, None, None, 0, 0, 0, None, None),
            ("t2", date(2024, 1, 1), 1, 1, 4.0, 0.3, 1, 0, 0, None, None),
        ],
        schema={
            "title_id": pl.String,
            "month": pl.Date,
            "review_count": pl.Int64,
            "rated_review_count": pl.Int64,
            "rating_mean": pl.Float64,
            "sentiment_mean": pl.Float64,
            "scored_review_count": pl.Int64,
            "helpful_votes": pl.Int64,
            "total_votes": pl.Int64,
            "helpful_ratio": pl.Float64,
            "helpful_only_votes": pl.Int64,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


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
    assert all(a < b for a, b in itertools.pairwise(bounds)), bounds
    assert 0.0 <= bounds[0] < 1e-15 and bounds[-1] < 1.0


@st.composite
def review_votes(draw: st.DrawFn) -> tuple[int | None, int | None]:
    """A staged review's (helpful, total): helpful of a known total (0 of 0 included), helpful votes
    alone (a source that counts one side: Yelp, Steam), or no votes at all."""
    return draw(st.one_of(vote_counts(), st.tuples(st.integers(0, 100_000), st.none()),
                          st.just((None, None))))


TITLE_IDS = ["t1", "t2", "t3", "t4"]
HASHES = ["h0", "h1", "h2", "h3", "h4", "h5"]


@st.composite
def rating_scales(draw: st.DrawFn) -> tuple[int, float, float]:
    """A scale as settings.Source allows it, (top, rating_min, rating_step): thumbs (1, 0, 1), or
    from 0, 0.5 or 1 to a top of 2..100 in whole steps (2..10 in steps of 0.5, 0.25 or 0.1)."""
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return (1, 0.0, 1.0)
    step = draw(st.sampled_from([1.0, 0.5, 0.25, 0.1]))
    low = draw(st.sampled_from([m for m in (0.0, 0.5, 1.0) if round(m / step, 9).is_integer()]))
    # fine steps on short scales: a histogram of a few hundred points adds nothing but time
    top = draw(st.sampled_from([2, 3, 5, 10]) | st.integers(min_value=2, max_value=100 if step >= 1 else 10))
    return (top, low, step)


def scale_points(top: int, low: float, step: float) -> list[float]:
    """The points of a scale as staging stages them: decimals to 3 places (9.6, not 0 + 96 × 0.1)."""
    return [round(low + i * step, 3) for i in range(round((top - low) / step) + 1)]


@st.composite
def review_frames(draw: st.DrawFn) -> pl.DataFrame:
    """Staged reviews as validation lets them through: each title on a scale of its own (thumbs,
    whole, half, quarter or tenth steps, from 0, 0.5 or 1), ratings points of it or none, votes as
    review_votes gives them, dates over five months or none, word counts."""
    scale_of = {t: draw(rating_scales()) for t in TITLE_IDS}
    rows, dates, words, languages = [], [], [], []
    for i in range(draw(st.integers(min_value=0, max_value=40))):
        title = draw(st.sampled_from(TITLE_IDS))
        scale = scale_of[title]
        rating = draw(st.none() | st.sampled_from(scale_points(*scale)))
        helpful, total = draw(review_votes())
        text_hash = draw(st.sampled_from([None, *HASHES, "h_unscored"]))
        rows.append((f"r{i:03d}", title, rating, scale[0], helpful, total, text_hash))
        dates.append(draw(st.none() | st.dates(date(2023, 11, 1), date(2024, 3, 31))))
        words.append(0 if text_hash is None else draw(st.integers(min_value=1, max_value=500)))
        # a text's language (declared or detected); a source may declare one for a review without
        # a text too
        languages.append(draw(st.sampled_from(["en", "de", "und"] if text_hash else [None, "es"])))
    frame = reviews_frame(rows, dates=dates, words=words, languages=languages)
    return frame.with_columns(
        rating_min=pl.col("title_id").replace_strict({t: s[1] for t, s in scale_of.items()},
                                                     return_dtype=pl.Float64),
        rating_step=pl.col("title_id").replace_strict({t: s[2] for t, s in scale_of.items()},
                                                      return_dtype=pl.Float64),
    )


@st.composite
def score_frames(draw: st.DrawFn) -> pl.DataFrame:
    """A sentiment cache for HASHES: compounds to VADER's 4 decimals, sentence means to 6 decimals
    (null with no sentence), shares in whole sentences."""
    rows = []
    for text_hash in HASHES:
        compound = draw(st.integers(min_value=-10_000, max_value=10_000)) / 10_000
        count = draw(st.integers(min_value=0, max_value=6))
        if count:
            mean = draw(st.integers(min_value=-1_000_000, max_value=1_000_000)) / 1_000_000
            positive = draw(st.integers(min_value=0, max_value=count))
            negative = draw(st.integers(min_value=0, max_value=count - positive))
            shares: tuple[float | None, ...] = (mean, count, positive / count, negative / count)
        else:
            shares = (None, 0, None, None)
        rows.append((text_hash, compound, 0.2, 0.6, 0.2, *shares))
    return scores_frame(rows)


SCORES = scores_frame(
    [
        ("h0", 0.7, 0.5, 0.5, 0.0, 0.45, 2, 1.0, 0.0),
        ("h1", 0.0, 0.0, 1.0, 0.0, 0.0, 1, 0.0, 0.0),
        ("h2", -0.6, 0.0, 0.4, 0.6, -0.55, 3, 0.0, 2 / 3),
    ]
)


@settings(max_examples=100, deadline=None)
@given(review_frames())
def test_rating_distribution_shares_sum_to_one_and_counts_to_rated_reviews(
    reviews: pl.DataFrame,
) -> None:
    dist = distribution_of(reviews).collect()
    rated = reviews.filter(pl.col("rating").is_not_null())
    by_title = dist.group_by("title_id").agg(
        share=pl.col("share").sum(),
        review_count=pl.col("review_count").sum(),
        points=pl.col("rating"),
        scales=pl.col("rating_scale").unique(),
    )
    expected_counts = dict(rated.group_by("title_id").len().iter_rows())
    # exactly the titles with a rated review have rows
    assert set(by_title["title_id"]) == set(expected_counts)
    for title, share, count, points, scales in by_title.iter_rows():
        assert share == pytest.approx(1.0, abs=1e-9)
        assert count == expected_counts[title]
        scale = rated.filter(pl.col("title_id") == title).select(
            "rating_scale", "rating_min", "rating_step").row(0)
        assert scales == [scale[0]]
        # exactly every point of the scale, once each, in order: none missing, none extra
        assert points == scale_points(*scale)


@settings(max_examples=100, deadline=None)
@given(review_frames(), st.integers(min_value=1, max_value=5))
def test_top_helpful_reviews_ranks_are_gapless_and_at_most_n(reviews: pl.DataFrame, n: int) -> None:
    top = top_helpful_reviews(per_review(reviews, SCORES), n).collect()
    voted = dict(reviews.filter(pl.col("total_votes") > 0).group_by("title_id").len().iter_rows())
    # the ranking by bound; the one by helpful votes alone is test_helpful_only_votes_...'s
    top = top.filter(pl.col("ranked_by") == "helpful_ratio")
    got = {t: g for (t,), g in top.group_by("title_id")}
    assert set(got) == set(voted)
    for title, group in got.items():
        # ranks 1..k with k = min(n, reviews with votes), bounds non-increasing down the ranks
        assert group["rank"].to_list() == list(range(1, min(n, voted[title]) + 1))
        lbs = group["helpful_wilson_lb"].to_list()
        assert all(a >= b for a, b in itertools.pairwise(lbs))


def with_text_scores(reviews: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Each review with its text's scores, as metrics_stage reads them (the cache joined on text_hash)."""
    return reviews.join(scores, on="text_hash", how="left", maintain_order="left")


def all_metrics(
    reviews: pl.DataFrame, scores: pl.DataFrame, titles: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Every metric frame as production makes it (metric_frames, the top 3 helpful reviews per
    title), plus a bare spearman."""
    frames = metric_frames(with_text_scores(reviews, scores), titles,
                           MetricsSettings(top_helpful_per_title=3), SentimentSettings(),
                           merged_partials=partials_of)
    joined = with_text_scores(reviews, scores).lazy().join(
        frames["metric_reviews"].lazy().select("review_id", "sentiment_score"), on="review_id")
    # spearman promises one row per group, in no particular order (a group_by): sorted here
    return frames | {"spearman": spearman(joined, ["title_id"], "rating", "sentiment_score", "rho")
                     .collect().sort("title_id")}


TITLES = with_page_fields(pl.DataFrame(
    [
        ("t1", "One", 2001, 7.0, 10, None, None, "Drama", None, "s", "f.csv", 1, 0),
        ("t1", None, None, 7.5, None, 4, None, None, "X", "s", "f.csv", 2, 0),
        ("t2", "Two", None, 4.5, 300, None, None, None, None, "s", "f.csv", 3, 0),
        ("t9", "Nine", None, None, None, None, None, None, None, "s", "f.csv", 4, 0),
    ],
    schema=TITLES_SCHEMA,
    orient="row",
))


def assert_identical(name: str, left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Bit-identical frames, values and row order; the failure names the metric."""
    try:
        assert_frame_equal(left, right, check_exact=True)
    except AssertionError as exc:
        raise AssertionError(f"{name}: {exc}") from None


EPS = 1e-9  # floating point slack for bounds that hold exactly in real arithmetic


def between(x: float, a: float, b: float) -> bool:
    return min(a, b) - EPS <= x <= max(a, b) + EPS


# the per-title (and overall) aggregates, and the columns that identify a row of each
ROW_KEYS = {
    "metric_titles": ["title_id"],
    "metric_reviews": ["review_id"],
    "metric_rating_distribution": ["title_id", "rating"],
    "metric_title_summary": ["title_id"],
    "metric_weighted_rating_parameters": ["basis", "rating_scale", "rating_min", "rating_step"],
    "metric_comparable_ratings": ["title_id"],
    "metric_rating_shape": ["title_id"],
    "metric_sentiment_agreement": ["scope", "title_id", "rating_scale"],
    "metric_rating_sentiment_mismatches": ["title_id", "rank"],
    "metric_top_helpful_reviews": ["title_id", "ranked_by", "rank"],
    "metric_helpfulness": ["title_id"],
    "metric_monthly_trends": ["title_id", "month"],
    "metric_title_languages": ["title_id", "review_language"],
    "spearman": ["title_id"],
}


# The invariants of the chained metrics share one test, to keep the file fast: all_metrics is the
# costly part, and each example needs it three times.
@settings(max_examples=50, deadline=None)
@given(review_frames(), score_frames(), st.randoms(use_true_random=False))
def test_chained_metrics_bounds_and_identical_reruns_in_any_row_order(
    reviews: pl.DataFrame, scores: pl.DataFrame, rnd: Any
) -> None:
    reviews_before, scores_before, titles_before = reviews.clone(), scores.clone(), TITLES.clone()
    first = all_metrics(reviews, scores, TITLES)
    # every figure within its bounds
    check_comparable_ratings_ranges(reviews, first)
    check_agreement_helpfulness_and_trend_ranges(reviews, first)
    # inputs are exactly as they were, values and order
    assert_frame_equal(reviews, reviews_before, check_exact=True)
    assert_frame_equal(scores, scores_before, check_exact=True)
    assert_frame_equal(TITLES, titles_before, check_exact=True)
    # a re-run gives identical tables, bit for bit and row for row (Polars' own grouped mean/std can
    # differ in the last bit between runs; the module sums exact integer units or ordered lists)
    second = all_metrics(reviews, scores, TITLES)
    for name, frame in first.items():
        assert_identical(name, second[name], frame)
    # one row per review, none lost or duplicated by the join
    assert sorted(first["metric_reviews"]["review_id"]) == sorted(reviews["review_id"])
    # the same reviews and cache in another row order: every aggregate is bit-identical once both
    # are sorted by their key (a float sum in arrival order would differ in the last bit)
    order, score_order = list(range(reviews.height)), list(range(scores.height))
    rnd.shuffle(order)
    rnd.shuffle(score_order)
    shuffled = all_metrics(reviews[order], scores[score_order], TITLES)
    for name, keys in ROW_KEYS.items():
        assert_identical(
            f"{name} (shuffled)",
            shuffled[name].sort(keys, nulls_last=True),
            first[name].sort(keys, nulls_last=True),
        )


def check_comparable_ratings_ranges(
    reviews: pl.DataFrame, frames: dict[str, pl.DataFrame]
) -> None:
    """bayesian_rating and weighted_rating on L..K between the title's mean and the midpoint / C;
    the interval around the mean; on thumbs the share recommended, counted, within its interval."""
    params = frames["metric_weighted_rating_parameters"]
    c_of = {(p["rating_scale"], p["rating_min"], p["rating_step"]): p["c"]
            for p in params.iter_rows(named=True) if p["basis"] == "reviews"}
    site = params.filter(pl.col("basis") == "site")
    summary = frames["metric_title_summary"]
    rows = summary.join(frames["metric_comparable_ratings"], on="title_id", how="left")
    # one comparable row per title
    assert rows.height == frames["metric_comparable_ratings"].height == summary.height
    ratings_of: dict[str, list[float]] = {}
    for title, rating in reviews.select("title_id", "rating").iter_rows():
        if rating is not None:
            ratings_of.setdefault(title, []).append(rating)
    for row in rows.iter_rows(named=True):
        n, k, r = row["rated_review_count"], row["rating_scale"], row["rating_mean"]
        low, step = row["rating_min"], row["rating_step"]
        if n == 0:
            assert row["weighted_rating"] is None and row["bayesian_rating"] is None
            assert row["rating_ci_low"] is None and row["rating_ci_high"] is None
            continue
        ratings = ratings_of[row["title_id"]]
        # the mean is the plain mean of the ratings given
        assert r == pytest.approx(math.fsum(ratings) / n, abs=1e-12)
        # bayesian: a weighted average of the mean (weight n) and the midpoint (L+K)/2 (weight P,
        # the scale's points); independently from the raw ratings: (Σ ratings + Σ points) / (n + P)
        points = scale_points(k, low, step)
        bayes = row["bayesian_rating"]
        assert low - EPS <= bayes <= k + EPS
        assert between(bayes, r, (low + k) / 2)
        assert bayes == pytest.approx(
            (math.fsum(ratings) + math.fsum(points)) / (n + len(points)), abs=1e-9)
        # WR: a weighted average of the title's mean and C (itself a mean of means on L..K)
        wr = row["weighted_rating"]
        assert low - EPS <= wr <= k + EPS
        assert between(wr, r, c_of[(k, low, step)])
        # on thumbs: the share recommended, as counted, inside its Wilson interval; else none
        if row["rating_kind"] == "thumbs":
            assert row["recommended_share"] == sum(ratings) / n
            assert 0 <= row["recommended_share_low"] <= row["recommended_share"] \
                <= row["recommended_share_high"] <= 1
        else:
            assert row["recommended_share"] is None and row["recommended_share_low"] is None
        # the interval holds the mean, within the scale; none from a single rating
        if n >= 2:
            assert low <= row["rating_ci_low"] <= r + EPS
            assert r - EPS <= row["rating_ci_high"] <= k
        else:
            assert row["rating_ci_low"] is None and row["rating_ci_high"] is None
    for row in rows.filter(pl.col("site_votes") > 0).iter_rows(named=True):
        assert between(row["weighted_site_rating"], row["site_rating"], site["c"].item())


@settings(max_examples=100, deadline=None)
@given(review_frames())
def test_rating_shape_figures_lie_in_their_ranges(reviews: pl.DataFrame) -> None:
    shape = rating_shape(distribution_of(reviews)).collect()
    rated = reviews.filter(pl.col("rating").is_not_null())
    assert sorted(shape["title_id"]) == sorted(rated["title_id"].unique())
    for row in shape.iter_rows(named=True):
        ratings = rated.filter(pl.col("title_id") == row["title_id"])
        values = ratings["rating"].to_list()
        k, low, step = ratings.select("rating_scale", "rating_min", "rating_step").row(0)
        points = scale_points(k, low, step)
        # entropy over the scale's points: the shares' -Σ p ln p / ln(points), from the counts
        shares = [values.count(p) / len(values) for p in points]
        entropy = -math.fsum(p * math.log(p) for p in shares if p > 0) / math.log(len(points))
        assert row["rating_entropy"] == pytest.approx(entropy, abs=1e-9)
        assert 0.0 <= row["rating_entropy"] <= 1.0
        # entropy is 0 exactly when every rating is the same point
        assert (row["rating_entropy"] < 1e-12) == (len(set(values)) == 1)
        assert row["is_polarized"] is not None
        if k == 1:  # thumbs: both points are ends, and two points have no two modes
            assert row["extreme_share"] is None and row["bimodality_coefficient"] is None
            assert row["is_polarized"] is False
            continue
        assert 0.0 <= row["extreme_share"] <= 1.0
        # independently: the share of ratings on the two lowest or the two highest points
        ends_low, ends_high = set(points[:2]), set(points[-2:])
        extreme = sum(v in ends_low or v in ends_high for v in values) / len(values)
        assert row["extreme_share"] == pytest.approx(extreme, abs=1e-12)
        if row["is_polarized"]:
            assert len(values) >= 10 and row["bimodality_coefficient"] > 5 / 9
            assert sum(v in ends_low for v in values) >= 0.2 * len(values)
            assert sum(v in ends_high for v in values) >= 0.2 * len(values)
        if row["bimodality_coefficient"] is not None:
            assert row["bimodality_coefficient"] > 0 and len(values) >= 4


def average_ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing the average of their places (what scipy.stats.rankdata does)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(a: list[float], b: list[float]) -> float | None:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    if saa == 0 or sbb == 0:
        return None
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / math.sqrt(saa * sbb)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["g1", "g2", "g3"]),
            st.none() | st.integers(min_value=0, max_value=6),
            st.none() | st.integers(min_value=-3, max_value=3),
        ),
        max_size=40,
    )
)
def test_spearman_is_pearson_on_average_ranks_and_within_bounds(
    rows: list[tuple[str, int | None, int | None]],
) -> None:
    frame = pl.DataFrame(
        rows, schema={"g": pl.String, "x": pl.Float64, "y": pl.Int64}, orient="row"
    )
    got = dict(spearman(frame.lazy(), ["g"], "x", "y", "rho").collect().iter_rows())
    pairs: dict[str, list[tuple[int, int]]] = {}
    for g, x, y in rows:
        if x is not None and y is not None:
            pairs.setdefault(g, []).append((x, y))
    # a row for each group with a complete pair, none for the others
    assert set(got) == set(pairs)
    for g, xy in pairs.items():
        want = (
            pearson(average_ranks([x for x, _ in xy]), average_ranks([y for _, y in xy]))
            if len(xy) >= 3
            else None
        )
        if want is None:
            assert got[g] is None
        else:
            assert -1.0 <= got[g] <= 1.0
            assert got[g] == pytest.approx(want, abs=1e-9)


def check_agreement_helpfulness_and_trend_ranges(
    reviews: pl.DataFrame, frames: dict[str, pl.DataFrame]
) -> None:
    """Label agreements, voted/helpful shares and ratios in [0, 1], Spearman values in [-1, 1]."""
    agreement = frames["metric_sentiment_agreement"]
    for column in ("spearman_whole", "spearman_sentence"):
        assert agreement[column].drop_nulls().is_between(-1.0, 1.0).all()
    for column in ("label_agreement_whole", "label_agreement_sentence"):
        assert agreement[column].drop_nulls().is_between(0.0, 1.0).all()
    # the overall rows count every compared review of their scale once
    overall = agreement.filter(pl.col("scope") == "overall")["compared_reviews"].sum()
    per_title = agreement.filter(pl.col("scope") == "title")["compared_reviews"].sum()
    assert overall == per_title
    helpful = frames["metric_helpfulness"]
    for column in ("voted_share", "helpful_share"):
        assert helpful[column].drop_nulls().is_between(0.0, 1.0).all()
    for column in ("helpfulness_rating_spearman", "helpfulness_length_spearman"):
        assert helpful[column].drop_nulls().is_between(-1.0, 1.0).all()
    trends = frames["metric_monthly_trends"]
    assert trends["helpful_ratio"].drop_nulls().is_between(0.0, 1.0).all()
    assert (trends["month"].dt.day() == 1).all()
    # every dated review is in exactly one month of its title
    dated = reviews.filter(pl.col("review_date").is_not_null())
    assert trends["review_count"].sum() == dated.height
    # mismatches are exactly the flagged reviews, read_order 1..k
    flagged = frames["metric_reviews"].filter(pl.col("rating_sentiment_mismatch"))
    mismatches = frames["metric_rating_sentiment_mismatches"]
    assert sorted(mismatches["review_id"]) == sorted(flagged["review_id"])
    assert sorted(mismatches["read_order"]) == list(range(1, flagged.height + 1))


@settings(max_examples=50, deadline=None)
@given(review_frames(), score_frames(), st.lists(st.integers(0, 40), max_size=5))
def test_partial_aggregates_of_any_partitioning_merge_into_those_of_the_whole(
    reviews: pl.DataFrame, scores: pl.DataFrame, cuts: list[int]
) -> None:
    """What runs on Dask workers: sums per partition, merged, are exactly the sums of the whole."""
    scored = per_review(reviews, scores).collect()
    bounds = sorted({0, scored.height, *(min(c, scored.height) for c in cuts)})
    parts = [scored.slice(a, b - a) for a, b in zip(bounds, bounds[1:])] or [scored]
    whole = merge_partials([partial_aggregates(scored)])
    merged = merge_partials([partial_aggregates(p) for p in parts])
    for name in whole:
        assert_frame_equal(merged[name], whole[name], check_row_order=False)


# --- helpful votes without a total (issue 22, item 1) ----------------------------------------------


def test_top_helpful_reviews_ranks_helpful_only_reviews_apart_by_helpful_votes() -> None:
    # t1 has reviews from a source that gives both counts (IMDb: "9 of 10") and from one that counts
    # helpful votes alone (Yelp's useful: total null)
    reviews = reviews_frame(
        [
            ("imdb-a", "t1", None, 10, 9, 10, None),
            ("imdb-b", "t1", None, 10, 1, 1, None),
            ("imdb-c", "t1", None, 10, 0, 0, None),
            ("yelp-a", "t1", None, 10, 12, None, None),
            ("yelp-b", "t1", None, 10, 30, None, None),
            ("yelp-c", "t1", None, 10, 12, None, None),
            ("yelp-d", "t1", None, 10, 0, None, None),
            ("yelp-e", "t2", None, 10, 0, None, None),
            ("yelp-f", "t3", None, 10, 2, None, None),
            ("none-a", "t3", None, 10, None, None, None),
        ]
    )
    got = top_helpful_reviews(per_review(reviews, NO_SCORES, z=1.96), n=2).collect()
    # t1 by ratio (z = 1.96, as worked out above): 9/10 (bound 0.5958) before 1/1 (0.2065); 0 of 0 nobody voted on -> unranked.
    # t1 by helpful votes: 30 first; yelp-a and yelp-c tie on 12 and review_id decides, and n = 2
    #   cuts yelp-c; yelp-d has 0 helpful votes (nobody found it helpful) -> unranked. The Yelp
    #   reviews have no total, ratio or bound: 30 helpful is not "30 of 30".
    # t2: only a helpful-only review with 0 votes -> no rows. t3: yelp-f alone; none-a has no votes.
    expected = pl.DataFrame(
        [
            ("t1", 1, "imdb-a", 9, 10, 0.9, 0.595844, "helpful_ratio"),
            ("t1", 2, "imdb-b", 1, 1, 1.0, 0.206543, "helpful_ratio"),
            ("t1", 1, "yelp-b", 30, None, None, None, "helpful_votes"),
            ("t1", 2, "yelp-a", 12, None, None, None, "helpful_votes"),
            ("t3", 1, "yelp-f", 2, None, None, None, "helpful_votes"),
        ],
        schema=TOP_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)


def test_helpfulness_shares_leave_helpful_only_reviews_out_and_count_them_apart() -> None:
    reviews = reviews_frame(
        [
            ("a", "t1", 9.0, 10, 3, 4, None),
            ("b", "t1", 2.0, 10, 0, 0, None),
            ("c", "t1", 8.0, 10, 40, None, None),
            ("d", "t1", 7.0, 10, 0, None, None),
            ("e", "t1", 5.0, 10, None, None, None),
            ("f", "t2", 4.0, 10, 5, None, None),
            ("g", "t3", 6.0, 10, None, None, None),
        ]
    )
    got = helpfulness(per_review(reviews, NO_SCORES)).collect()
    # t1: the shares are over a and b, the reviews with a total: 1 of 2 voted on -> 0.5; 3 of 4
    #   votes helpful -> 0.75 (c's 40 helpful votes of an unknown total would make it 43 of 4);
    #   c and d count helpful votes alone: 2 reviews, 40 votes; e has no votes and is in neither.
    # t2: only a helpful-only review: no share, helpful_votes and total_votes null (a sum over no
    #   review with a total), 5 helpful-only votes.
    # t3: no votes at all: every vote figure null, both counts 0.
    expected = pl.DataFrame(
        [
            ("t1", 5, 1, 0.5, 3, 4, 0.75, None, None, 2, 2, 40),
            ("t2", 1, 0, None, None, None, None, None, None, 0, 1, 5),
            ("t3", 1, 0, None, None, None, None, None, None, 0, 0, None),
        ],
        schema=HELPFULNESS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected)


VOTE_DATES = [None, date(2024, 1, 5), date(2024, 1, 20), date(2024, 2, 10)]


@st.composite
def mixed_vote_reviews(draw: st.DrawFn) -> pl.DataFrame:
    """Reviews of three titles from up to four sources, each of one kind: both counts (totals of 0
    included), helpful votes alone (0 included) or no votes. Few distinct counts, so ties are common."""
    kinds = draw(st.lists(st.sampled_from(["both", "helpful_only", "none"]), min_size=1, max_size=4))
    rows, dates, words = [], [], []
    for i in range(draw(st.integers(min_value=0, max_value=40))):
        source = draw(st.integers(min_value=0, max_value=len(kinds) - 1))
        helpful: int | None = None
        total: int | None = None
        if kinds[source] == "both":
            total = draw(st.integers(min_value=0, max_value=6))
            helpful = draw(st.integers(min_value=0, max_value=total))
        elif kinds[source] == "helpful_only":
            helpful = draw(st.integers(min_value=0, max_value=6))
        rating = draw(st.none() | st.integers(min_value=1, max_value=5).map(float))
        title = draw(st.sampled_from(["t1", "t2", "t3"]))
        rows.append((f"s{source}-{i:02d}", title, rating, 5, helpful, total, None))
        dates.append(draw(st.sampled_from(VOTE_DATES)))
        words.append(draw(st.integers(min_value=1, max_value=300)))
    return reviews_frame(rows, dates=dates, words=words)


def plain_vote_sums(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The vote figures of a group of reviews, recomputed in plain Python: the pair over reviews with
    both counts, helpful-only votes apart, None for a sum over no reviews."""
    both = [r for r in rows if r["helpful_votes"] is not None and r["total_votes"] is not None]
    only = [r for r in rows if r["helpful_votes"] is not None and r["total_votes"] is None]
    return {
        "helpful_votes": sum(r["helpful_votes"] for r in both) if both else None,
        "total_votes": sum(r["total_votes"] for r in both) if both else None,
        "helpful_only_votes": sum(r["helpful_votes"] for r in only) if only else None,
        "reviews_with_total": len(both),
        "helpful_only_reviews": len(only),
        "voted_reviews": sum(r["total_votes"] > 0 for r in both),
    }


@settings(max_examples=60, deadline=None)
@given(mixed_vote_reviews(), st.integers(min_value=1, max_value=4))
def test_helpful_only_votes_have_no_ratio_rank_apart_and_never_enter_a_share(
    reviews: pl.DataFrame, n: int
) -> None:
    """Any mix of reviews with a known total (0 included), helpful votes alone (0 included) and no
    votes, from several sources per title: no ratio or bound without a total, two rankings that never
    mix, and every sum and share exactly what a plain recomputation over the reviews gives."""
    scored = per_review(reviews, NO_SCORES).collect()
    rows = scored.to_dicts()
    for r in rows:
        h, t = r["helpful_votes"], r["total_votes"]
        if t is None:  # never 0, never "12 of 12"
            assert r["helpful_ratio"] is None and r["helpful_wilson_lb"] is None, r
        elif t == 0:
            assert r["helpful_ratio"] is None and r["helpful_wilson_lb"] == 0.0, r
        else:
            assert r["helpful_ratio"] == h / t and 0 <= r["helpful_wilson_lb"] <= h / t + 1e-12, r

    # the rankings, recomputed: by bound among reviews someone voted on, by helpful votes among
    # helpful-only reviews with at least one
    expected = []
    for title in sorted({r["title_id"] for r in rows}):
        mine = [r for r in rows if r["title_id"] == title]
        by_ratio = sorted((r for r in mine if (r["total_votes"] or 0) > 0), key=lambda r: (
            -r["helpful_wilson_lb"], -r["helpful_votes"], -r["total_votes"], r["review_id"]))
        by_votes = sorted((r for r in mine if r["total_votes"] is None and (r["helpful_votes"] or 0) > 0),
                          key=lambda r: (-r["helpful_votes"], r["review_id"]))
        for ranked_by, ranking in (("helpful_ratio", by_ratio), ("helpful_votes", by_votes)):
            expected += [(title, rank, r["review_id"], r["helpful_votes"], r["total_votes"],
                          r["helpful_ratio"], r["helpful_wilson_lb"], ranked_by)
                         for rank, r in enumerate(ranking[:n], start=1)]
    top = top_helpful_reviews(scored.lazy(), n).collect()
    assert top.rows() == expected

    # per title and per month, the sums are the plain sums; the shares are over known totals alone
    by_title = {t: [r for r in rows if r["title_id"] == t] for t in {r["title_id"] for r in rows}}
    summary = summary_of(scored, pl.DataFrame(schema=SUMMARY_TITLES_SCHEMA)).collect()
    helpful = helpfulness(scored.lazy()).collect()
    assert sorted(summary["title_id"]) == sorted(helpful["title_id"]) == sorted(by_title)
    for got in summary.iter_rows(named=True):
        plain = plain_vote_sums(by_title[got["title_id"]])
        for column in ("helpful_votes", "total_votes", "helpful_only_votes"):
            assert got[column] == plain[column], (column, got)
    for got in helpful.iter_rows(named=True):
        plain = plain_vote_sums(by_title[got["title_id"]])
        for column in plain:
            assert got[column] == plain[column], (column, got)
        assert got["voted_share"] == (plain["voted_reviews"] / plain["reviews_with_total"]
                                      if plain["reviews_with_total"] else None)
        assert got["helpful_share"] == (plain["helpful_votes"] / plain["total_votes"]
                                        if plain["total_votes"] else None)
    months = monthly_of(scored).collect()
    for got in months.iter_rows(named=True):
        mine = [r for r in by_title[got["title_id"]]
                if r["review_date"] is not None and r["review_date"].replace(day=1) == got["month"]]
        plain = plain_vote_sums(mine)
        for column in ("helpful_votes", "total_votes", "helpful_only_votes"):
            assert got[column] == plain[column], (column, got)
        assert got["helpful_ratio"] == (plain["helpful_votes"] / plain["total_votes"]
                                        if plain["total_votes"] else None)
    # a helpful-only source changes no share or correlation: the title's figures are those of its
    # reviews without the helpful-only ones
    kept = scored.filter(~(pl.col("helpful_votes").is_not_null() & pl.col("total_votes").is_null()))
    without = helpfulness(kept.lazy()).collect()
    shared = ["title_id", "voted_reviews", "voted_share", "helpful_votes", "total_votes",
              "helpful_share", "helpfulness_rating_spearman", "helpfulness_length_spearman",
              "reviews_with_total"]
    assert_frame_equal(helpful.filter(pl.col("title_id").is_in(without["title_id"].to_list()))
                       .select(shared), without.select(shared))


# --- a title on two scales --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.lists(rating_scales(), min_size=2, max_size=4, unique=True))
def test_a_title_rated_on_two_scales_is_refused_naming_the_title_and_its_scales(
    scales: list[tuple[int, float, float]],
) -> None:
    """Each title's histogram, mean and shape need one scale: reviews of one title from sources of
    different scales stop the run with one message naming the title and the scales, never a
    histogram that mixes them (it took the largest scale's top and listed the other's points on it)."""
    rows = [(f"r{i}", "t1", scale_points(*s)[0], s[0], 0, 0, None) for i, s in enumerate(scales)]
    rows.append(("other", "t2", 1.0, 5, 0, 0, None))  # another title, on its own scale: fine
    frame = reviews_frame(rows).with_columns(
        rating_min=pl.Series([s[1] for s in scales] + [1.0]),
        rating_step=pl.Series([s[2] for s in scales] + [1.0]),
    )
    with pytest.raises(ReviewpipeError) as raised:
        distribution_of(frame).collect()
    message = str(raised.value)
    assert message.startswith("title_id 't1' has reviews on more than one rating scale (")
    for top, low, step in scales:
        assert ("thumbs" if top == 1 else f"{low:g}..{top} in steps of {step:g}") in message
    assert "t2" not in message and "\n" not in message
    # one scale per title is fine, whatever the scales of other titles
    distribution_of(frame.filter(pl.col("review_id").is_in(["r0", "other"]))).collect()


# --- unscored reviews (issue 24): sentiment counts only the reviews an analyzer read -----------------

# the sentiment figures of each frame, after its key; the count of scored reviews first, 0 (not
# null) where the scored reviews alone have no row
SENTIMENT_FIGURES = {
    "metric_title_summary": (["title_id"], [
        "scored_review_count", "sentiment_mean", "positive_share", "neutral_share", "negative_share",
        "whole_text_sentiment_mean", "sentence_sentiment_mean"]),
    "metric_monthly_trends": (["title_id", "month"], ["scored_review_count", "sentiment_mean"]),
    "metric_sentiment_agreement": (["scope", "title_id", "rating_scale"], [
        "compared_reviews", "spearman_whole", "spearman_sentence", "label_agreement_whole",
        "label_agreement_sentence"]),
}


@settings(max_examples=40, deadline=None)
@given(review_frames(), score_frames())
def test_a_review_no_analyzer_read_counts_in_no_sentiment_figure(
    reviews: pl.DataFrame, scores: pl.DataFrame
) -> None:
    """Reviews whose text no analyzer read (h_unscored: null scores, as a text in a language outside
    [sentiment] languages has) change no sentiment figure: every per-title and monthly sentiment
    figure, the agreement and the mismatch list are those of the scored reviews alone. They count
    among the reviews with a text (scored_share, the languages) and nowhere else."""
    full = all_metrics(reviews, scores, TITLES)
    scored_only = reviews.join(scores.select("text_hash"), on="text_hash", how="semi", maintain_order="left")
    alone = all_metrics(scored_only, scores, TITLES)
    for name, (keys, figures) in SENTIMENT_FIGURES.items():
        got = full[name].select(*keys, *figures).sort(keys, nulls_last=True)
        # the scored reviews' figures; a row they do not have is a row of no scored review: 0, nulls
        want = (
            got.select(keys)
            .join(alone[name].select(*keys, *figures), on=keys, how="left", nulls_equal=True,
                  maintain_order="left")
            .with_columns(pl.col(figures[0]).fill_null(0))
        )
        assert_identical(f"{name}: unscored reviews left out", got, want)
    assert_identical("mismatches: unscored reviews left out", full["metric_rating_sentiment_mismatches"],
                     alone["metric_rating_sentiment_mismatches"])
    # the summary says how much sentiment covers: scored of the reviews with a text
    texts = reviews.filter(pl.col("review_word_count") > 0)
    summary = full["metric_title_summary"]
    for title_id, scored, share in summary.select("title_id", "scored_review_count", "scored_share").iter_rows():
        mine = texts.filter(pl.col("title_id") == title_id)
        assert scored == scored_only.filter(pl.col("title_id") == title_id).height
        assert share == (scored / mine.height if mine.height else None)
    # the languages: each text review once, in its language; shares of a title sum to 1; the
    # scored ones add up to the summary's
    languages = full["metric_title_languages"]
    assert sorted(languages.select("title_id", "review_language", "review_count").rows(),
                  key=repr) == sorted(texts.group_by("title_id", "review_language").len().rows(), key=repr)
    per_title = languages.group_by("title_id").agg(pl.col("review_share").sum(),
                                                   pl.col("scored_review_count").sum())
    for title_id, share_sum, scored in per_title.iter_rows():
        assert share_sum == pytest.approx(1.0, abs=1e-12)
        assert scored == summary.filter(pl.col("title_id") == title_id)["scored_review_count"].item()
    assert languages["review_share"].is_between(0.0, 1.0).all()
    # the most common language of a title first, ties by language
    assert_identical("languages order", languages, languages.sort(
        ["title_id", "review_count", "review_language"], descending=[False, True, False]))
