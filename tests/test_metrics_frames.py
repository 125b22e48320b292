"""Tests for reviewpipe.metrics.frames: metric_frames, the assembly of every metric frame that the
metrics stage runs, on small inline frames; and the delta run's merge with the kept rows.

The inputs are built as in tests/test_metrics.py (its builders and hypothesis strategies).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_metrics import (
    FLOAT_TOL,
    TITLE_IDS,
    TITLES,
    TITLES_SCHEMA,
    assert_identical,
    partials_of,
    review_frames,
    reviews_frame,
    score_frames,
    scores_frame,
    with_page_fields,
    with_text_scores,
)

from reviewpipe.metrics import (
    AGREEMENT_INPUTS,
    MISMATCH_COLUMNS,
    SCALE_COLUMNS,
    TITLE_STATS_COLUMNS,
    merge_partials,
    metric_frames,
    partial_aggregates,
)
from reviewpipe.settings import MetricsSettings, SentimentSettings

METRIC_FRAMES = (
    "metric_titles", "metric_reviews", "metric_title_summary", "metric_comparable_ratings",
    "metric_rating_shape", "metric_weighted_rating_parameters", "metric_rating_distribution",
    "metric_monthly_trends", "metric_top_helpful_reviews", "metric_sentiment_agreement",
    "metric_rating_sentiment_mismatches", "metric_helpfulness", "metric_title_languages",
)


def test_metric_frames_by_hand() -> None:
    # t1: two rated English reviews on 1..10 with votes and texts, and r4, a German 9 of 10 no
    # analyzer read (its cache row has null scores, as for a language outside [sentiment]
    # languages); t2: one 4 of 5 without a text or votes; t3: a title without reviews. Reviews as
    # metrics_stage reads them: with their scale, language and their text's scores.
    reviews = reviews_frame(
        [("r1", "t1", 8.0, 10, 3, 4, "h1"), ("r2", "t1", 6.0, 10, 0, 2, "h2"),
         ("r3", "t2", 4.0, 5, None, None, None), ("r4", "t1", 9.0, 10, None, None, "h4")],
        dates=[date(2024, 1, 5), date(2024, 2, 1), None, date(2024, 2, 20)],
        words=[12, 7, 0, 9],
        languages=["en", "en", None, "de"],
    ).with_columns(rating_min=pl.lit(1.0), rating_step=pl.lit(1.0))
    scores = scores_frame([("h1", 0.6, 0.4, 0.6, 0.0, 0.5, 2, 0.5, 0.0),
                           ("h2", -0.4, 0.0, 0.7, 0.3, -0.2, 2, 0.0, 0.5),
                           ("h4", None, None, None, None, None, None, None, None)])
    titles = with_page_fields(pl.DataFrame(
        [("t1", "Alpha", 2001, 7.5, 1000, None, None, None, None, "s", "f.csv", 1, 0),
         ("t3", "Gamma", None, None, None, None, None, None, None, "s", "f.csv", 2, 0)],
        schema=TITLES_SCHEMA, orient="row"))
    frames = metric_frames(with_text_scores(reviews, scores), titles, MetricsSettings(),
                           SentimentSettings(), merged_partials=partials_of)
    # a whole build names no touched titles; every frame the published models read is there
    assert set(frames) == set(METRIC_FRAMES)
    rows = {name: frame.height for name, frame in frames.items()}
    # titles: t1, t3 (staged); reviews: 4; summary: t1, t2, t3 (from titles or reviews);
    # distribution: 1..10 for t1 and 1..5 for t2; months: t1's January and February (t2 has no
    # date); top helpful: r1 and r2, both voted on; helpfulness and shape: t1, t2; parameters:
    # reviews on 1..5, on 1..10, and site (t1); comparable: one per summary row; agreement: t1,
    # t2 and overall on 5 and 10 points; mismatches: none (8/10 with 0.5 agrees, 6/10 is middle,
    # r4 has no score to disagree with); languages: t1's en and de (t2's review has no text).
    assert rows == {
        "metric_titles": 2, "metric_reviews": 4, "metric_title_summary": 3,
        "metric_comparable_ratings": 3, "metric_rating_shape": 2,
        "metric_weighted_rating_parameters": 3, "metric_rating_distribution": 15,
        "metric_monthly_trends": 2, "metric_top_helpful_reviews": 2, "metric_sentiment_agreement": 4,
        "metric_rating_sentiment_mismatches": 0, "metric_helpfulness": 2,
        "metric_title_languages": 2,
    }
    got = frames["metric_title_summary"].filter(pl.col("title_id") == "t1")
    # t1: 3 reviews rated 8, 6 and 9: mean 23/3 = 7.666667, median 8, sample stddev
    #   sqrt((1/9 + 25/9 + 16/9) / 2) = sqrt(7/3) = 1.527525; site figures from its title row;
    #   helpful 3 + 0 of 4 + 2 (r4 has no votes); 2 scored of 3 with a text: 0.666667. The
    #   sentiment figures are r1's and r2's alone, as if r4 were not there: sentiment_mean is the
    #   sentence mean (the default measure): (0.5 - 0.2) / 2 = 0.15; the shares count the
    #   whole-text labels, 0.6 positive and -0.4 negative; whole-text mean (0.6 - 0.4) / 2 = 0.1;
    #   dates 2024-01-05 .. 2024-02-20; no helpful-only votes -> null; whole points 1..10: stars.
    expected = pl.DataFrame(
        [("t1", "Alpha", 3, 3, 7.666667, 8.0, 1.527525, 7.5, 1000, 3, 6, 0.15, 0.5, 0.0, 0.5, 2,
          0.666667, 0.1, 0.15, date(2024, 1, 5), date(2024, 2, 20), None, 10, 1.0, 1.0, "stars")],
        schema={
            "title_id": pl.String, "title": pl.String, "review_count": pl.Int64,
            "rated_review_count": pl.Int64, "rating_mean": pl.Float64, "rating_median": pl.Float64,
            "rating_stddev": pl.Float64, "site_rating": pl.Float64, "site_votes": pl.Int64,
            "helpful_votes": pl.Int64, "total_votes": pl.Int64, "sentiment_mean": pl.Float64,
            "positive_share": pl.Float64, "neutral_share": pl.Float64, "negative_share": pl.Float64,
            "scored_review_count": pl.Int64, "scored_share": pl.Float64,
            "whole_text_sentiment_mean": pl.Float64, "sentence_sentiment_mean": pl.Float64,
            "first_review_date": pl.Date, "last_review_date": pl.Date, "helpful_only_votes": pl.Int64,
            "rating_scale": pl.Int32, "rating_min": pl.Float64, "rating_step": pl.Float64,
            "rating_kind": pl.String,
        },
        orient="row",
    )
    assert_frame_equal(got, expected, **FLOAT_TOL)
    # t2 has reviews but no title row; t3 a title row but no reviews
    summary = frames["metric_title_summary"]
    assert summary.select("title_id", "title", "review_count").rows() == [
        ("t1", "Alpha", 3), ("t2", None, 1), ("t3", "Gamma", 0)]
    # t2's review has no text, t3 no review: nothing scored, of nothing (share null, not 0)
    assert summary.select("scored_review_count", "scored_share").rows()[1:] == [(0, None), (0, None)]
    # February: r2 and r4, of which r2 alone scored: its -0.2 is the month's sentiment
    assert frames["metric_monthly_trends"].select(
        "month", "review_count", "scored_review_count", pl.col("sentiment_mean").round(6)).rows() == [
        (date(2024, 1, 1), 1, 1, 0.5), (date(2024, 2, 1), 2, 1, -0.2)]
    # agreement: r1 and r2 compared (r4's 9 of 10 has no label to agree or disagree with); r1 is
    # the one in a class (8 of 10, positive) and its labels agree: 1 and 1
    agreement = frames["metric_sentiment_agreement"].filter(pl.col("title_id") == "t1")
    assert agreement.select("compared_reviews", "label_agreement_whole", "label_agreement_sentence").rows() == [
        (2, 1.0, 1.0)]
    # r4 stays unscored per review: null scores and labels, never a mismatch
    r4 = frames["metric_reviews"].filter(pl.col("review_id") == "r4")
    assert r4.select("sentiment_compound", "sentiment_label", "sentiment_score",
                     "rating_sentiment_mismatch").rows() == [(None, None, None, False)]
    # the languages of t1's texts: en 2 of 3 (both scored), de 1 of 3 (none), the commonest first
    assert_frame_equal(frames["metric_title_languages"], pl.DataFrame(
        [("t1", "en", 2, 2 / 3, 2), ("t1", "de", 1, 1 / 3, 0)],
        schema={"title_id": pl.String, "review_language": pl.String, "review_count": pl.Int64,
                "review_share": pl.Float64, "scored_review_count": pl.Int64}, orient="row"))


def partitioned(cuts: list[int]) -> Any:
    """merged_partials that cuts the scored reviews at `cuts` (as a mapper's partitions)."""
    def merged(scored: pl.DataFrame) -> dict[str, pl.DataFrame]:
        bounds = sorted({0, scored.height, *(min(c, scored.height) for c in cuts)})
        parts = [scored.slice(a, b - a) for a, b in zip(bounds, bounds[1:])] or [scored]
        return merge_partials([partial_aggregates(p) for p in parts])
    return merged


def kept_rows(whole: dict[str, pl.DataFrame], reviews: pl.DataFrame, touched: list[str]) -> dict[str, pl.DataFrame]:
    """What a delta run keeps of the untouched titles, taken from a whole build's frames (as
    metrics_stage reads them from the live tables built from those frames)."""
    untouched = ~pl.col("title_id").is_in(touched)
    summary = whole["metric_title_summary"]
    return {
        "touched": pl.DataFrame({"title_id": sorted(touched)}, schema={"title_id": pl.String}),
        "stats": summary.filter(untouched & (pl.col("review_count") > 0))
        .select("title_id", *TITLE_STATS_COLUMNS, *SCALE_COLUMNS),
        "shape": whole["metric_rating_shape"].filter(untouched),
        # a review's agreement inputs: its rating and scale, its published per-review metrics
        "reviews": reviews.filter(untouched).select("review_id", "title_id", "rating", "rating_scale",
                                                    "rating_min")
        .join(whole["metric_reviews"], on="review_id").select(AGREEMENT_INPUTS),
        "mismatches": whole["metric_rating_sentiment_mismatches"].filter(untouched).select(MISMATCH_COLUMNS),
    }


# the frames made of the touched titles' rows alone on a delta run, and their keys
PER_TITLE = {
    "metric_reviews": ["review_id"],
    "metric_rating_distribution": ["title_id", "rating"],
    "metric_monthly_trends": ["title_id", "month"],
    "metric_top_helpful_reviews": ["title_id", "ranked_by", "rank"],
    "metric_helpfulness": ["title_id"],
    "metric_title_languages": ["title_id", "review_language"],
}


@settings(max_examples=30, deadline=None)
@given(review_frames(), score_frames(), st.sets(st.sampled_from(TITLE_IDS)),
       st.lists(st.integers(0, 40), max_size=4))
def test_a_delta_run_with_the_kept_rows_makes_the_frames_of_a_whole_build(
    reviews: pl.DataFrame, scores: pl.DataFrame, touched: set[str], cuts: list[int]
) -> None:
    """metric_frames on the touched titles' reviews, with the untouched titles' rows kept from a
    whole build, gives that whole build's figures, bit for bit: the per-title frames hold the
    touched titles' rows of it, and the frames spanning titles all of it."""
    scored = with_text_scores(reviews, scores).sort("review_id")
    whole = metric_frames(scored, TITLES, MetricsSettings(top_helpful_per_title=3), SentimentSettings(),
                          merged_partials=partials_of)
    ids = sorted(touched)
    mine = pl.col("title_id").is_in(ids)
    delta = metric_frames(scored.filter(mine), TITLES, MetricsSettings(top_helpful_per_title=3),
                          SentimentSettings(), merged_partials=partitioned(cuts),
                          kept=kept_rows(whole, reviews, ids))
    assert delta["touched_titles"]["title_id"].to_list() == ids
    for name, keys in PER_TITLE.items():
        want = whole[name].filter(pl.col("review_id").is_in(scored.filter(mine)["review_id"].to_list())) \
            if name == "metric_reviews" else whole[name].filter(mine)
        assert_identical(f"{name} (delta)", delta[name].sort(keys, nulls_last=True),
                         want.sort(keys, nulls_last=True))
    # the per-title agreement rows are the touched titles', the overall rows are whole
    agreement, whole_agreement = delta["metric_sentiment_agreement"], whole["metric_sentiment_agreement"]
    assert_identical("metric_sentiment_agreement (delta)", agreement,
                     whole_agreement.filter((pl.col("scope") == "overall") | mine))
    # the frames spanning titles are the whole build's, row for row
    for name in ("metric_titles", "metric_title_summary", "metric_weighted_rating_parameters",
                 "metric_comparable_ratings", "metric_rating_sentiment_mismatches"):
        assert_identical(f"{name} (delta)", delta[name], whole[name])
    # shape: the touched titles' rows, then the kept ones: all of them
    assert_identical("metric_rating_shape (delta)", delta["metric_rating_shape"].sort("title_id"),
                     whole["metric_rating_shape"].sort("title_id"))
