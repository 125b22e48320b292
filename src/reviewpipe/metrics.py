"""Metrics: pure Polars functions from staged frames to the frames that get published.

No I/O and no globals: every function takes frames (lazy or eager) and parameters, and returns a new
lazy frame. The grain of each result is in its docstring.
"""

from __future__ import annotations

import polars as pl

from reviewpipe.settings import TITLE_FIELDS

Z_95 = 1.959963984540054  # two-sided 95% normal quantile

# Means and deviations are summed as whole multiples of these units, exactly, so they come out the
# same in every run whatever order Polars' threads add them in (float sums would differ in the last
# bit between re-runs). VADER rounds compound to 4 decimals; ratings are taken to 3 decimals.
COMPOUND_UNIT = 1e-4
RATING_UNIT = 1e-3


def _units(x: pl.Expr, unit: float) -> pl.Expr:
    return (x / unit).round(0).cast(pl.Int64)


def exact_mean(x: pl.Expr, unit: float) -> pl.Expr:
    """Mean of x (nulls ignored) from an exact integer sum of x in units; null when x is all null."""
    return pl.when(x.count() > 0).then(_units(x, unit).sum() / x.count() * unit).otherwise(None)


def exact_std(x: pl.Expr, unit: float) -> pl.Expr:
    """Sample standard deviation (n - 1) of x from exact integer sums; null for fewer than 2 values."""
    n = x.count()
    s1 = _units(x, unit).sum().cast(pl.Float64)
    s2 = (_units(x, unit).cast(pl.Float64) ** 2).sum()
    var = ((s2 - s1 * s1 / n) / (n - 1)).clip(lower_bound=0.0)
    return pl.when(n > 1).then(var.sqrt() * unit).otherwise(None)


def helpful_ratio(helpful: pl.Expr, total: pl.Expr) -> pl.Expr:
    """helpful / total; null when nobody voted (total is 0 or unknown)."""
    return pl.when(total > 0).then(helpful / total).otherwise(None)


def wilson_lower_bound(helpful: pl.Expr, total: pl.Expr, z: float = Z_95) -> pl.Expr:
    """Lower bound of the Wilson score interval for helpful of total; 0 when total is 0, null if unknown.

    (p + z²/2n - z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), with p = helpful/n, n = total.
    """
    n = total.cast(pl.Float64)
    p = helpful.cast(pl.Float64) / n
    z2 = z * z
    bound = (p + z2 / (2 * n) - z * ((p * (1 - p) / n + z2 / (4 * n * n)).sqrt())) / (1 + z2 / n)
    # with helpful = 0 the formula is 0 in exact arithmetic but lands a hair off it in floating
    # point; ties on the bound must be real ties, so 0 is set exactly
    return (
        pl.when(total.is_null() | helpful.is_null())
        .then(None)
        .when((total == 0) | (helpful == 0))
        .then(0.0)
        .otherwise(bound.clip(lower_bound=0.0))
    )


def sentiment_label(compound: pl.Expr, threshold: float = 0.05) -> pl.Expr:
    """'positive' at compound >= threshold, 'negative' at <= -threshold, else 'neutral' (VADER's rule)."""
    return (
        pl.when(compound.is_null())
        .then(None)
        .when(compound >= threshold)
        .then(pl.lit("positive"))
        .when(compound <= -threshold)
        .then(pl.lit("negative"))
        .otherwise(pl.lit("neutral"))
    )


def review_metrics(
    reviews: pl.LazyFrame,
    scores: pl.LazyFrame,
    *,
    z: float = Z_95,
    threshold: float = 0.05,
) -> pl.LazyFrame:
    """Per review: helpful_ratio, helpful_wilson_lb, VADER's four scores and sentiment_label.

    grain: one row per review_id. `reviews` needs review_id, helpful_votes, total_votes, text_hash;
    `scores` is the sentiment cache keyed by text_hash.
    """
    return (
        reviews.join(scores, on="text_hash", how="left", maintain_order="left")
        .with_columns(
            helpful_ratio=helpful_ratio(pl.col("helpful_votes"), pl.col("total_votes")),
            helpful_wilson_lb=wilson_lower_bound(pl.col("helpful_votes"), pl.col("total_votes"), z),
            sentiment_label=sentiment_label(pl.col("sentiment_compound"), threshold),
        )
        .select(
            "review_id",
            "helpful_ratio",
            "helpful_wilson_lb",
            "sentiment_compound",
            "sentiment_pos",
            "sentiment_neu",
            "sentiment_neg",
            "sentiment_label",
        )
    )


def rating_distribution(reviews: pl.LazyFrame) -> pl.LazyFrame:
    """Per title and rating point: review_count and share of the title's rated reviews.

    grain: one row per (title_id, rating). Every whole point of the title's scale is listed, with 0
    where nobody gave it, so a histogram needs no gaps filled; shares of a title sum to 1. Titles with
    no rated review have no rows.
    """
    rated = reviews.filter(pl.col("rating").is_not_null())
    observed = rated.group_by("title_id", "rating").agg(review_count=pl.len().cast(pl.Int64))
    points = (
        rated.group_by("title_id")
        .agg(scale=pl.col("rating_scale").max())
        .with_columns(rating=pl.int_ranges(1, pl.col("scale") + 1).cast(pl.List(pl.Float64)))
        .explode("rating")
        .select("title_id", "rating")
    )
    return (
        pl.concat([points, observed.select("title_id", "rating")])
        .unique()
        .join(observed, on=["title_id", "rating"], how="left")
        .with_columns(pl.col("review_count").fill_null(0))
        .with_columns(share=pl.col("review_count") / pl.col("review_count").sum().over("title_id"))
        .sort("title_id", "rating")
    )


def merged_titles(titles: pl.LazyFrame) -> pl.LazyFrame:
    """One row per title_id: for each field the last non-null value in load order.

    grain: one row per title_id. Load order is the source's position in the config, then the file's
    modification time, then file path and row, so a later source or a newer save of a page fills in
    and overrides what earlier ones gave.
    """
    fields = [f for f in TITLE_FIELDS if f != "title_id"]
    return (
        titles.sort("source_order", "file_modified_at", "file_path", "row_number", nulls_last=False)
        .group_by("title_id", maintain_order=True)
        .agg([pl.col(f).drop_nulls().last().alias(f) for f in fields])
        .sort("title_id")
    )


def title_summary(
    reviews: pl.LazyFrame, review_scores: pl.LazyFrame, titles: pl.LazyFrame
) -> pl.LazyFrame:
    """Per title: review and rating counts, rating mean/median/stddev, votes, sentiment shares.

    grain: one row per title_id known from reviews or titles (a title without reviews has
    review_count 0 and null review statistics). `reviews` are staged reviews, `review_scores` the
    output of review_metrics, `titles` the output of merged_titles.
    """
    per_title = (
        reviews.join(review_scores, on="review_id", how="left", maintain_order="left")
        .group_by("title_id")
        .agg(
            review_count=pl.len().cast(pl.Int64),
            rated_review_count=pl.col("rating").count().cast(pl.Int64),
            rating_mean=exact_mean(pl.col("rating"), RATING_UNIT),
            rating_median=pl.col("rating").median(),
            rating_stddev=exact_std(pl.col("rating"), RATING_UNIT),
            helpful_votes=pl.col("helpful_votes").sum(),
            total_votes=pl.col("total_votes").sum(),
            sentiment_mean=exact_mean(pl.col("sentiment_compound"), COMPOUND_UNIT),
            scored=pl.col("sentiment_label").count(),
            positive=(pl.col("sentiment_label") == "positive").sum(),
            neutral=(pl.col("sentiment_label") == "neutral").sum(),
            negative=(pl.col("sentiment_label") == "negative").sum(),
        )
        .with_columns(
            [
                pl.when(pl.col("scored") > 0).then(pl.col(c) / pl.col("scored")).alias(f"{c}_share")
                for c in ("positive", "neutral", "negative")
            ]
        )
    )
    return (
        titles.select("title_id", "title", "site_rating", "site_votes")
        .join(per_title, on="title_id", how="full", coalesce=True)
        .with_columns(pl.col("review_count", "rated_review_count").fill_null(0))
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
        )
        .sort("title_id")
    )


def top_helpful_reviews(
    reviews: pl.LazyFrame, review_scores: pl.LazyFrame, n: int = 10
) -> pl.LazyFrame:
    """The n most helpful reviews per title by Wilson lower bound, ranked 1..n.

    grain: one row per (title_id, rank). Only reviews someone voted on count; ties go to more helpful
    votes, then more total votes, then review_id so the ranking is deterministic.
    """
    return (
        reviews.join(review_scores, on="review_id", how="inner", maintain_order="left")
        # only reviews someone voted on, with a known helpful count, can be ranked
        .filter((pl.col("total_votes") > 0) & pl.col("helpful_wilson_lb").is_not_null())
        .sort(
            ["title_id", "helpful_wilson_lb", "helpful_votes", "total_votes", "review_id"],
            descending=[False, True, True, True, False],
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("title_id").cast(pl.Int64))
        .filter(pl.col("rank") <= n)
        .select(
            "title_id",
            "rank",
            "review_id",
            "helpful_votes",
            "total_votes",
            "helpful_ratio",
            "helpful_wilson_lb",
        )
    )
