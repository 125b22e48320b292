"""Words against stars: sentiment labels, the per-review mismatch flag, how well labels and
correlations agree with the rating classes, and the mismatched reviews in read order."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.correlation import spearman
from reviewpipe.metrics.ratings import rating_class, with_scale_points


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


def rating_sentiment_mismatch(
    rating: pl.Expr, scale: pl.Expr, score: pl.Expr, threshold: float = 0.5,
    minimum: pl.Expr | None = None,
) -> pl.Expr:
    """True when words and stars disagree strongly: a positive-class rating with score <= -threshold,
    or a negative-class rating with score >= threshold; False when either is unknown."""
    cls = rating_class(rating, scale, minimum)
    return (
        ((cls == "positive") & (score <= -threshold)) | ((cls == "negative") & (score >= threshold))
    ).fill_null(False)


def _agreement(label: str) -> pl.Expr:
    """Share of reviews in a rating class whose sentiment label is that class."""
    in_class = pl.col("_class").is_in(["negative", "positive"]) & pl.col(label).is_not_null()
    agree = in_class & (pl.col(label) == pl.col("_class"))
    return pl.when(in_class.sum() > 0).then(agree.sum() / in_class.sum())


# What the overall sentiment agreement reads of every review.
AGREEMENT_INPUTS = ("rating", "rating_scale", "rating_min", "sentiment_compound", "sentence_compound_mean",
                    "sentiment_label", "sentence_sentiment_label")


def sentiment_agreement(
    scored: pl.LazyFrame, scopes: tuple[str, ...] = ("title", "overall")
) -> pl.LazyFrame:
    """How well words agree with stars, per title and overall per rating scale, for both measures,
    from reviews with their per-review metrics (with_review_metrics' output).

    grain: one row per title (scope 'title') and one per rating scale (scope 'overall', null
    title_id), of the scopes asked for. Spearman correlation of rating with the whole-text compound
    and with the sentence mean; label agreement = share of reviews in a rating class (see
    rating_class; the middle of the scale is left out) whose label (±0.05) names that class, neutral
    counting as disagreement. The overall rows need AGREEMENT_INPUTS of every review.
    """
    classed = with_scale_points(scored).with_columns(
        _class=rating_class(pl.col("rating"), pl.col("rating_scale"), pl.col("rating_min"))
    )
    measures = {
        "compared_reviews": (pl.col("rating").is_not_null() & pl.col("sentiment_compound").is_not_null())
        .sum()
        .cast(pl.Int64),
        "label_agreement_whole": _agreement("sentiment_label"),
        "label_agreement_sentence": _agreement("sentence_sentiment_label"),
    }
    frames = []
    for scope, key in (("title", "title_id"), ("overall", "rating_scale")):
        if scope not in scopes:
            continue
        extra = {"_scale": pl.col("rating_scale").max()} if scope == "title" else {}
        result = (
            classed.group_by(key)
            .agg(**measures, **extra)
            .join(spearman(classed, [key], "rating", "sentiment_compound", "spearman_whole"),
                  on=key, how="left")
            .join(spearman(classed, [key], "rating", "sentence_compound_mean", "spearman_sentence"),
                  on=key, how="left")
        )
        result = (
            result.with_columns(rating_scale=pl.col("_scale"))
            if scope == "title"
            else result.with_columns(title_id=pl.lit(None, dtype=pl.String))
        )
        frames.append(
            result.select(
                pl.lit(scope).alias("scope"), "title_id", pl.col("rating_scale").cast(pl.Int32),
                "compared_reviews", "spearman_whole", "spearman_sentence",
                "label_agreement_whole", "label_agreement_sentence",
            )
        )
    return pl.concat(frames).sort("scope", "title_id", "rating_scale", nulls_last=True)


def rating_sentiment_mismatches(scored: pl.LazyFrame) -> pl.LazyFrame:
    """The reviews whose words and stars disagree strongly, the ones to read first ranked first, from
    reviews with their per-review metrics (with_review_metrics' output).

    grain: one row per flagged review. strength = |sentiment_score|; rank orders a title's mismatches
    and read_order all of them, by strength, then helpful_wilson_lb, then review_id.
    """
    return with_read_order(
        scored.filter(pl.col("rating_sentiment_mismatch"))
        .with_columns(
            strength=pl.col("sentiment_score").abs(),
            mismatch=pl.when(pl.col("sentiment_score") < 0)
            .then(pl.lit("high rating, negative words"))
            .otherwise(pl.lit("low rating, positive words")),
        )
        .sort(_MISMATCH_ORDER, descending=_MISMATCH_DESCENDING, nulls_last=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("title_id").cast(pl.Int64))
    )


_MISMATCH_ORDER = ["strength", "helpful_wilson_lb", "review_id"]
# rating_sentiment_mismatches' columns but read_order
MISMATCH_COLUMNS = ("title_id", "rank", "review_id", "rating", "rating_scale", "sentiment_score",
                    "mismatch", "strength", "helpful_wilson_lb")
_MISMATCH_DESCENDING = [True, True, False]


def with_read_order(mismatches: pl.LazyFrame) -> pl.LazyFrame:
    """rating_sentiment_mismatches' rows (ranked within their title; any read_order is replaced)
    numbered in read_order across all titles: a title's rows depend on its reviews alone, so the
    rows of titles whose reviews did not change can be kept from an earlier run and renumbered."""
    return (
        mismatches.sort(_MISMATCH_ORDER, descending=_MISMATCH_DESCENDING, nulls_last=True)
        .with_columns(read_order=pl.int_range(1, pl.len() + 1).cast(pl.Int64))
        .select(*MISMATCH_COLUMNS, "read_order")
        .sort("title_id", "rank")
    )
