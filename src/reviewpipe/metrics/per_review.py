"""The per-review metrics: each review's helpfulness, sentiment labels, score and mismatch flag."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.agreement import rating_sentiment_mismatch, sentiment_label
from reviewpipe.metrics.helpfulness import helpful_ratio, wilson_lower_bound
from reviewpipe.settings import Z_95

# The per-review metrics that are published (metric_reviews), in their order.
REVIEW_METRIC_COLUMNS = (
    "review_id",
    "review_language",  # as the reviews carry them (the metrics stage: declared, else detected)
    "language_confidence",
    "helpful_ratio",
    "helpful_wilson_lb",
    "sentiment_compound",
    "sentiment_pos",
    "sentiment_neu",
    "sentiment_neg",
    "sentiment_label",
    "sentence_compound_mean",
    "sentence_count",
    "positive_sentence_share",
    "negative_sentence_share",
    "sentence_sentiment_label",
    "sentiment_score",
    "rating_sentiment_mismatch",
)


def with_review_metrics(
    reviews: pl.LazyFrame,
    *,
    z: float = Z_95,
    threshold: float = 0.05,
    measure: str = "sentence",
    mismatch_threshold: float = 0.5,
) -> pl.LazyFrame:
    """The reviews, which carry their text's scores (the sentiment cache's columns), with the
    per-review metrics added: helpfulness, labels, sentiment_score and the mismatch flag.

    grain: as `reviews`, in its order. sentiment_score is the measure that stands for the review in
    per-title figures: the sentence mean ("sentence") or the whole-text compound ("whole"). An
    unscored review (no text, or a language no analyzer reads: null scores) gets null labels, score
    and flag here; the published reviews label the latter 'unscored' (sql/published/reviews.sql).
    """
    score = pl.col("sentence_compound_mean" if measure == "sentence" else "sentiment_compound")
    minimum = pl.col("rating_min") if "rating_min" in reviews.collect_schema().names() else None
    return reviews.with_columns(
        helpful_ratio=helpful_ratio(pl.col("helpful_votes"), pl.col("total_votes")),
        helpful_wilson_lb=wilson_lower_bound(pl.col("helpful_votes"), pl.col("total_votes"), z),
        sentiment_label=sentiment_label(pl.col("sentiment_compound"), threshold),
        sentence_sentiment_label=sentiment_label(pl.col("sentence_compound_mean"), threshold),
        sentiment_score=score,
        rating_sentiment_mismatch=rating_sentiment_mismatch(
            pl.col("rating"), pl.col("rating_scale"), score, mismatch_threshold, minimum
        ),
    )
