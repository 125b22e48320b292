"""Partial aggregates: exact sums and rating histograms of one partition of the reviews, and their
exact merge into those of all the reviews."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.helpfulness import vote_sums
from reviewpipe.metrics.ratings import rating_histogram
from reviewpipe.metrics.units import COMPOUND_UNIT, SCORE_UNIT, in_units
from reviewpipe.settings import RATING_UNIT

# Per-title and per-month figures are built from sums that add up exactly (counts, integer-unit sums,
# minima and maxima) and rating histograms, so they can be computed per partition of the reviews,
# anywhere (a Dask worker), and merged into exactly the figures of the whole.

_SUM_COLUMNS = (
    "review_count", "rated_review_count", "rating_units", "rating_units_sq", "helpful_votes",
    "total_votes", "reviews_with_total", "helpful_only_reviews", "helpful_only_votes",
    "sentiment_units", "sentiment_n", "compound_units", "compound_n", "sentence_units",
    "sentence_n", "text_reviews", "scored", "positive", "neutral", "negative",
)


def partial_sums(scored_reviews: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Per key: the counts and exact sums title_stats and monthly_trends_from_partials are made of.

    `scored_reviews` are staged reviews with their per-review metrics (with_review_metrics' output:
    rating, review_date, helpful_votes, total_votes, review_word_count, sentiment_score,
    sentiment_compound, sentence_compound_mean, sentiment_label). A review an analyzer did not read
    (its language is not in [sentiment] languages) has null scores and a null label: it counts in
    text_reviews and in no sentiment sum; `scored` counts the reviews an analyzer scored.
    """
    rating = in_units(pl.col("rating"), RATING_UNIT)
    return scored_reviews.group_by(keys).agg(
        review_count=pl.len().cast(pl.Int64),
        rated_review_count=pl.col("rating").count().cast(pl.Int64),
        rating_units=rating.sum(),
        rating_units_sq=(rating * rating).sum(),
        **vote_sums(),
        sentiment_units=in_units(pl.col("sentiment_score"), SCORE_UNIT).sum(),
        sentiment_n=pl.col("sentiment_score").count().cast(pl.Int64),
        compound_units=in_units(pl.col("sentiment_compound"), COMPOUND_UNIT).sum(),
        compound_n=pl.col("sentiment_compound").count().cast(pl.Int64),
        sentence_units=in_units(pl.col("sentence_compound_mean"), SCORE_UNIT).sum(),
        sentence_n=pl.col("sentence_compound_mean").count().cast(pl.Int64),
        # staging makes an empty text null, and a text has at least one word
        text_reviews=(pl.col("review_word_count") > 0).sum().cast(pl.Int64),
        scored=pl.col("sentiment_label").count().cast(pl.Int64),
        positive=(pl.col("sentiment_label") == "positive").sum().cast(pl.Int64),
        neutral=(pl.col("sentiment_label") == "neutral").sum().cast(pl.Int64),
        negative=(pl.col("sentiment_label") == "negative").sum().cast(pl.Int64),
        first_review_date=pl.col("review_date").min(),
        last_review_date=pl.col("review_date").max(),
    )


def language_sums(scored_reviews: pl.LazyFrame) -> pl.LazyFrame:
    """Per title and review_language, over the reviews with a text: review_count, and `scored`, the
    reviews of them an analyzer scored (a partial aggregate, merged by summing).

    grain: one row per (title_id, review_language) with a text review. review_language is the
    effective language (declared, else detected; 'und' when undetermined)."""
    return (
        scored_reviews.filter(pl.col("review_word_count") > 0)
        .group_by("title_id", "review_language")
        .agg(
            review_count=pl.len().cast(pl.Int64),
            scored=pl.col("sentiment_compound").count().cast(pl.Int64),
        )
    )


_MEASURES = {"sentiment_score": pl.Float64, "sentiment_compound": pl.Float64,
             "sentence_compound_mean": pl.Float64, "sentiment_label": pl.String,
             "review_language": pl.String}


def partial_aggregates(scored_reviews: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The partial aggregates of one partition of scored reviews: per title, per title and month,
    per title and language, and the rating histogram. Merge the partitions' with `merge_partials`. Measures the frame lacks
    count as null (a caller may pass only the scores it has)."""
    missing = {c: t for c, t in _MEASURES.items() if c not in scored_reviews.columns}
    lazy = scored_reviews.lazy().with_columns(pl.lit(None, t).alias(c) for c, t in missing.items())
    dated = lazy.filter(pl.col("review_date").is_not_null()).with_columns(
        month=pl.col("review_date").dt.truncate("1mo")
    )
    titles, months, languages, histogram = pl.collect_all([
        partial_sums(lazy, ["title_id"]), partial_sums(dated, ["title_id", "month"]),
        language_sums(lazy), rating_histogram(lazy),
    ])
    return {"titles": titles, "months": months, "languages": languages, "histogram": histogram}


_PARTIAL_KEYS = {"titles": ["title_id"], "months": ["title_id", "month"],
                 "languages": ["title_id", "review_language"],
                 "histogram": ["title_id", "rating", "rating_scale", "rating_min", "rating_step"]}


def merge_partials(partials: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """The partial aggregates of all partitions as those of their union, exactly: one row per key,
    in no particular order (every figure made of them sorts its rows; sorting them here as well cost
    time for nothing: bench/README.md, "Figures behind the code")."""
    merged = {}
    for name, keys in _PARTIAL_KEYS.items():
        frame = pl.concat([p[name] for p in partials], how="vertical")
        if len(partials) == 1:  # one row per key already
            merged[name] = frame
            continue
        merged[name] = (
            frame.group_by(keys)
            .agg(
                *(pl.col(c).sum() for c in frame.columns if c in _SUM_COLUMNS),
                *(pl.col(c).min() for c in ("first_review_date",) if c in frame.columns),
                *(pl.col(c).max() for c in ("last_review_date",) if c in frame.columns),
            )
            .select(frame.columns)
        )
    return merged
