"""Per title: its merged fields, its figures from the merged partial aggregates (title_stats), the
title summary, the monthly trends per title and month, and its reviews' languages.

Sentiment figures count only the scored reviews: those an analyzer read ([sentiment] languages);
the others have null scores, are left out of every mean and share, and are counted apart
(scored_review_count against the reviews with a text)."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.helpfulness import helpful_ratio, known_vote_sums
from reviewpipe.metrics.units import COMPOUND_UNIT, SCORE_UNIT, mean_from_units, std_from_units
from reviewpipe.schema import TITLE_FIELDS
from reviewpipe.settings import RATING_UNIT


def merged_titles(titles: pl.LazyFrame) -> pl.LazyFrame:
    """One row per title_id: for each field the last non-null value in load order.

    grain: one row per title_id. Load order is the source's position in the config, then file path
    and row, so a later source, or a save whose path sorts later (e.g. dated names), fills in and
    overrides what earlier ones gave. File times play no part: the result is a function of the
    current files alone, the same for an incremental run as for a whole build.
    """
    fields = [f for f in TITLE_FIELDS if f != "title_id"]
    return (
        titles.sort("source_order", "file_path", "row_number", nulls_last=False)
        .group_by("title_id", maintain_order=True)
        .agg([pl.col(f).drop_nulls().last().alias(f) for f in fields])
        .sort("title_id")
    )


# The columns of the title summary made of a title's reviews alone (title_stats), in its order.
TITLE_STATS_COLUMNS = (
    "review_count", "rated_review_count", "rating_mean", "rating_median", "rating_stddev",
    "helpful_votes", "total_votes", "sentiment_mean", "positive_share", "neutral_share",
    "negative_share", "scored_review_count", "scored_share", "whole_text_sentiment_mean", "sentence_sentiment_mean", "first_review_date",
    "last_review_date", "helpful_only_votes",
)


def title_stats(sums: pl.LazyFrame, histogram: pl.LazyFrame) -> pl.LazyFrame:
    """Per title with reviews: title_id and TITLE_STATS_COLUMNS, from merged partial aggregates.

    grain: one row per title_id of `sums`. A title's row depends on its own reviews alone, so the
    rows of titles whose reviews did not change can be kept from an earlier run.
    """
    # the median of the ratings themselves, rebuilt from the histogram: the same values, same result
    medians = (
        histogram.select("title_id", pl.col("rating").repeat_by("review_count"))
        .explode("rating")
        .group_by("title_id")
        .agg(rating_median=pl.col("rating").median())
    )
    per_title = (
        sums.join(medians, on="title_id", how="left")
        .with_columns(
            rating_mean=mean_from_units("rating_units", "rated_review_count", RATING_UNIT),
            rating_stddev=std_from_units("rating_units", "rating_units_sq", "rated_review_count", RATING_UNIT),
            sentiment_mean=mean_from_units("sentiment_units", "sentiment_n", SCORE_UNIT),
            whole_text_sentiment_mean=mean_from_units("compound_units", "compound_n", COMPOUND_UNIT),
            sentence_sentiment_mean=mean_from_units("sentence_units", "sentence_n", SCORE_UNIT),
            scored_review_count=pl.col("scored"),
            scored_share=pl.when(pl.col("text_reviews") > 0).then(pl.col("scored") / pl.col("text_reviews")),
        )
        .with_columns(
            *known_vote_sums(),
            *[
                pl.when(pl.col("scored") > 0).then(pl.col(c) / pl.col("scored")).alias(f"{c}_share")
                for c in ("positive", "neutral", "negative")
            ],
        )
    )
    return per_title.select("title_id", *TITLE_STATS_COLUMNS)


def title_summary_from_stats(stats: pl.LazyFrame, titles: pl.LazyFrame) -> pl.LazyFrame:
    """Per title: review and rating counts, rating mean/median/stddev, votes, sentiment shares; from
    title_stats and merged_titles.

    grain: one row per title_id known from either (a title without reviews has review_count 0 and
    null review statistics and scored_review_count 0). sentiment_mean is the mean of each scored
    review's sentiment_score (the configured measure, sentence mean by default: it ranks titles
    closer to their stars); the shares count sentiment_label, the whole-text label, which agrees
    with the stars' classes more often (docs/sentiment.md), over the scored reviews.
    """
    return (
        titles.select("title_id", "title", "site_rating", "site_votes")
        .join(stats, on="title_id", how="full", coalesce=True)
        .with_columns(pl.col("review_count", "rated_review_count", "scored_review_count").fill_null(0))
        .select(
            "title_id",
            "title",
            "review_count",
            "rated_review_count",
            "rating_mean",
            "rating_median",
            "rating_stddev",
            "site_rating",
            "site_votes",
            "helpful_votes",
            "total_votes",
            "sentiment_mean",
            "positive_share",
            "neutral_share",
            "negative_share",
            "scored_review_count",
            "scored_share",
            "whole_text_sentiment_mean",
            "sentence_sentiment_mean",
            "first_review_date",
            "last_review_date",
            "helpful_only_votes",
        )
        .sort("title_id")
    )


def monthly_trends_from_partials(sums: pl.LazyFrame) -> pl.LazyFrame:
    """Per title and calendar month of review_date: counts, rating and sentiment means, helpfulness;
    from merged partial aggregates per (title_id, month).

    grain: one row per (title_id, month) with reviews; month is the first day of the month; reviews
    without a date are not in any month. sentiment_mean is over the month's scored reviews
    (scored_review_count).
    """
    return (
        sums.with_columns(known_vote_sums())
        .with_columns(
            rating_mean=mean_from_units("rating_units", "rated_review_count", RATING_UNIT),
            sentiment_mean=mean_from_units("sentiment_units", "sentiment_n", SCORE_UNIT),
            scored_review_count=pl.col("scored"),
            helpful_ratio=helpful_ratio(pl.col("helpful_votes"), pl.col("total_votes")),
        )
        .select(
            "title_id", "month", "review_count", "rated_review_count", "rating_mean",
            "sentiment_mean", "scored_review_count", "helpful_votes", "total_votes", "helpful_ratio", "helpful_only_votes",
        )
        .sort("title_id", "month")
    )


def title_languages(sums: pl.LazyFrame) -> pl.LazyFrame:
    """Per title and review_language: review_count (reviews with a text in it), review_share (of the
    title's reviews with a text) and scored_review_count; from merged partial aggregates per
    (title_id, review_language) (partials.language_sums).

    grain: one row per (title_id, review_language) with a text review; a title's shares sum to 1.
    Ordered by title_id, the most common language first, then review_language.
    """
    return (
        sums.with_columns(
            review_share=pl.col("review_count") / pl.col("review_count").sum().over("title_id"),
            scored_review_count=pl.col("scored"),
        )
        .select("title_id", "review_language", "review_count", "review_share", "scored_review_count")
        .sort(["title_id", "review_count", "review_language"], descending=[False, True, False],
              nulls_last=True)
    )
