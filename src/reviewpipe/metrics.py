"""Metrics: pure Polars functions from staged frames to the frames that get published.

No I/O and no globals: every function takes frames (lazy or eager) and parameters, and returns a new
lazy frame. The grain of each result is in its docstring.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import RATING_UNIT, TITLE_FIELDS

Z_95 = 1.959963984540054  # two-sided 95% normal quantile

# Means and deviations are summed as whole multiples of these units, exactly, so they come out the
# same in every run whatever order Polars' threads add them in (float sums would differ in the last
# bit between re-runs). VADER rounds compound to 4 decimals; ratings are points of their scale,
# whole multiples of RATING_UNIT (1e-3: settings.Source allows no finer rating_step or rating_min).
COMPOUND_UNIT = 1e-4
SCORE_UNIT = 1e-6  # sentence means are not rounded by VADER; 6 decimals are kept


def _units(x: pl.Expr, unit: float) -> pl.Expr:
    # times the whole number of units in 1, not divided by the unit: Polars divides by a number
    # either exactly or by multiplying by its inverse, depending on the plan, so a value within
    # rounding error of half a unit (a sentence mean, the double -0.32463749999999997) came out
    # -324637 units in one plan and -324638 in another (a Dask run's partitions, a local run)
    return (x * round(1 / unit)).round(0).cast(pl.Int64)


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


def vote_sums() -> dict[str, pl.Expr]:
    """The vote sums of a group of reviews, as aggregations: helpful_votes and total_votes over the
    reviews with both counts known, the only reviews a share of helpful votes can be taken over, and
    helpful_only_votes over the reviews whose source gives helpful votes alone (Yelp's useful,
    Steam's helpful), which never enter a share: 12 helpful of an unknown total is not 12 of 12.

    Sums over no reviews are 0 here; `known_vote_sums` makes them null from the two counts.
    """
    helpful, total = pl.col("helpful_votes"), pl.col("total_votes")
    with_total = helpful.is_not_null() & total.is_not_null()
    helpful_only = helpful.is_not_null() & total.is_null()
    # when/then, not filter: elementwise, so Polars keeps its fast grouped sums (a filter per group
    # doubled the time of partial_aggregates at 1M reviews)
    return {
        "reviews_with_total": with_total.sum().cast(pl.Int64),
        "helpful_votes": pl.when(with_total).then(helpful).sum(),
        "total_votes": pl.when(with_total).then(total).sum(),
        "helpful_only_reviews": helpful_only.sum().cast(pl.Int64),
        "helpful_only_votes": pl.when(helpful_only).then(helpful).sum(),
    }


def known_vote_sums() -> list[pl.Expr]:
    """helpful_votes and total_votes null where no review had both counts, and helpful_only_votes
    null where no review had helpful votes alone: a sum over no reviews is unknown, as SQL's sum."""
    with_total = pl.col("reviews_with_total") > 0
    return [
        pl.when(with_total).then(pl.col("helpful_votes")).alias("helpful_votes"),
        pl.when(with_total).then(pl.col("total_votes")).alias("total_votes"),
        pl.when(pl.col("helpful_only_reviews") > 0)
        .then(pl.col("helpful_only_votes"))
        .alias("helpful_only_votes"),
    ]


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


# --- Rating scales --------------------------------------------------------------------------------
#
# A review's scale is its source's: the points rating_min, rating_min + rating_step, ... up to
# rating_scale (settings.Source). The thumbs scale is staged with rating_scale 1 (points 0 and 1):
# no scale of stars tops at 1, so rating_scale alone tells the two kinds apart.
THUMBS_SCALE = 1
# the columns that describe a title's scale in the published tables, in their order
SCALE_COLUMNS = ("rating_scale", "rating_min", "rating_step", "rating_kind")


def rating_kind(scale: pl.Expr) -> pl.Expr:
    """'thumbs' for the thumbs scale (rating_scale 1), else 'stars'."""
    return pl.when(scale == THUMBS_SCALE).then(pl.lit("thumbs")).otherwise(pl.lit("stars"))


def default_rating_min(scale: pl.Expr) -> pl.Expr:
    """A scale's lowest point when none is given: 0 on thumbs, 1 on stars (settings.Source's defaults)."""
    return pl.when(scale == THUMBS_SCALE).then(0.0).otherwise(1.0)


def with_scale_points(frame: pl.LazyFrame) -> pl.LazyFrame:
    """frame (with rating_scale) with rating_min and rating_step, the defaults where it has none:
    a frame of ratings on whole points 1..rating_scale (0..1 on thumbs) needs no more columns."""
    names = frame.collect_schema().names()
    return frame.with_columns(
        *([] if "rating_min" in names else [default_rating_min(pl.col("rating_scale")).alias("rating_min")]),
        *([] if "rating_step" in names else [pl.lit(1.0).alias("rating_step")]),
    )


def _class_sides(above: Any, span: Any) -> tuple[Any, Any]:
    """(negative, positive) for a rating `above` units over rating_min on a scale `span` units long:
    negative in the lowest two fifths of the scale, positive in the highest two fifths. Whole units
    (ints or integer expressions), so the edges are exact on every scale (0.4 · 10 is 4 exactly)."""
    return 5 * above < 2 * span, 5 * above > 3 * span


def rating_class(rating: pl.Expr, scale: pl.Expr, minimum: pl.Expr | None = None) -> pl.Expr:
    """'negative', 'middle' or 'positive' by the rating's position from rating_min (0) to the top (1):
    below 2/5 negative, above 3/5 positive, else middle (1-4 / 5-6 / 7-10 of 1..10, 1-2 / 3 / 4-5 of
    1..5, 0.5-2 / 2.5-3 / 3.5-5 in half stars, 0 / 1 on thumbs); null without a rating.
    `minimum` defaults to default_rating_min (report.rating_class is rating_class_of: the same rule)."""
    low = _units(default_rating_min(scale) if minimum is None else minimum, RATING_UNIT)
    negative, positive = _class_sides(
        _units(rating, RATING_UNIT) - low, _units(scale.cast(pl.Float64), RATING_UNIT) - low
    )
    return (
        pl.when(rating.is_null())
        .then(None)
        .when(negative)
        .then(pl.lit("negative"))
        .when(positive)
        .then(pl.lit("positive"))
        .otherwise(pl.lit("middle"))
    )


def rating_class_of(rating: float, scale: float, minimum: float | None = None) -> str:
    """rating_class for one rating (the report's colours): the same rule on the same whole units."""
    low = round((minimum if minimum is not None else 0.0 if scale == THUMBS_SCALE else 1.0) / RATING_UNIT)
    negative, positive = _class_sides(round(rating / RATING_UNIT) - low, round(scale / RATING_UNIT) - low)
    return "negative" if negative else "positive" if positive else "middle"


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


REVIEW_METRIC_COLUMNS = (
    "review_id",
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


def review_metrics(reviews: pl.LazyFrame, scores: pl.LazyFrame, **options: Any) -> pl.LazyFrame:
    """Per review: helpfulness, VADER's scores whole and by sentence, labels and the mismatch flag.

    grain: one row per review_id. `reviews` needs review_id, rating, rating_scale, helpful_votes,
    total_votes, text_hash; `scores` is the sentiment cache keyed by text_hash; `options` are
    with_review_metrics' (z, threshold, measure, mismatch_threshold).
    """
    return with_review_metrics(
        reviews.join(scores, on="text_hash", how="left", maintain_order="left"), **options
    ).select(REVIEW_METRIC_COLUMNS)


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
    per-title figures: the sentence mean ("sentence") or the whole-text compound ("whole").
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


def scored_reviews(reviews: pl.LazyFrame, review_scores: pl.LazyFrame | None) -> pl.LazyFrame:
    """Reviews with their per-review metrics (review_metrics' output) joined on review_id; with
    review_scores None, `reviews` already carries them (with_review_metrics' output)."""
    if review_scores is None:
        return reviews
    return reviews.join(review_scores, on="review_id", how="inner", maintain_order="left")


def rating_histogram(reviews: pl.LazyFrame) -> pl.LazyFrame:
    """Per title, rating given and scale (rating_scale, rating_min, rating_step): review_count; a
    partial aggregate.

    grain: one row per (title_id, rating, scale) observed. Histograms of any partition of the
    reviews merge exactly (`merge_partials`) into the histogram of all of them; a title rated on two
    scales shows as two scales (distribution_from_histogram refuses it).
    """
    return (
        with_scale_points(reviews.filter(pl.col("rating").is_not_null()))
        .group_by("title_id", "rating", "rating_scale", "rating_min", "rating_step")
        .agg(review_count=pl.len().cast(pl.Int64))
    )


def rating_distribution(reviews: pl.LazyFrame) -> pl.LazyFrame:
    """Per title and rating point: review_count and share of the title's rated reviews.

    grain: one row per (title_id, rating). Every point of the title's scale (rating_min to
    rating_scale in steps of rating_step; 0 and 1 on thumbs) is listed, with 0 where nobody gave it,
    so a histogram needs no gaps filled; shares of a title sum to 1. Titles with no rated review
    have no rows. Each row carries its title's scale (SCALE_COLUMNS).
    """
    return distribution_from_histogram(rating_histogram(reviews))


def title_scales(histogram: pl.LazyFrame) -> pl.LazyFrame:
    """Per title with a rated review: its scale, SCALE_COLUMNS; from a rating_histogram or a
    rating_distribution. Raises ReviewpipeError for a title rated on more than one scale."""
    scales = histogram.select("title_id", "rating_scale", "rating_min", "rating_step").unique().collect()
    mixed = scales.filter(pl.len().over("title_id") > 1).sort(pl.all())
    if mixed.height:
        title_id = mixed["title_id"][0]
        described = "; ".join(
            "thumbs" if top == THUMBS_SCALE else f"{low:g}..{top} in steps of {step:g}"
            for _, top, low, step in mixed.filter(pl.col("title_id") == title_id).iter_rows()
        )
        others = mixed["title_id"].n_unique() - 1
        raise ReviewpipeError(
            f"title_id {title_id!r} has reviews on more than one rating scale ({described})"
            f"{f', as have {others} other titles' if others else ''}: a title's figures need one scale. "
            "Give its sources the same rating_scale, rating_min and rating_step, or give one source's "
            "titles keys of their own in [sources.columns] (e.g. title_id = \"'steam:' || title\")"
        )
    return scales.lazy().with_columns(rating_kind=rating_kind(pl.col("rating_scale"))).select(
        "title_id", *SCALE_COLUMNS)


def distribution_from_histogram(histogram: pl.LazyFrame) -> pl.LazyFrame:
    """rating_distribution from a (merged) rating_histogram."""
    observed = histogram.select("title_id", "rating", "review_count")
    scales = title_scales(histogram)
    last = ((pl.col("rating_scale") - pl.col("rating_min")) / pl.col("rating_step")).round(0).cast(pl.Int64)
    points = (
        scales.with_columns(_i=pl.int_ranges(0, last + 1))
        .explode("_i")
        # the point as the decimal it is (9.6, not 0 + 96 × 0.1), as staging rounds a rating
        .select("title_id", rating=(pl.col("rating_min") + pl.col("_i") * pl.col("rating_step")).round(3))
    )
    return (
        pl.concat([points, observed.select("title_id", "rating")])
        .unique()
        .join(observed, on=["title_id", "rating"], how="left")
        .join(scales, on="title_id", how="left")
        .with_columns(pl.col("review_count").fill_null(0))
        .with_columns(share=pl.col("review_count") / pl.col("review_count").sum().over("title_id"))
        .select("title_id", "rating", "review_count", "share", *SCALE_COLUMNS)
        .sort("title_id", "rating")
    )


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


# --- Partial aggregates: per partition of the reviews, merged exactly ----------------------------
#
# Per-title and per-month figures are built from sums that add up exactly (counts, integer-unit sums,
# minima and maxima) and rating histograms, so they can be computed per partition of the reviews,
# anywhere (a Dask worker), and merged into exactly the figures of the whole.

_SUM_COLUMNS = (
    "review_count", "rated_review_count", "rating_units", "rating_units_sq", "helpful_votes",
    "total_votes", "reviews_with_total", "helpful_only_reviews", "helpful_only_votes",
    "sentiment_units", "sentiment_n", "compound_units", "compound_n", "sentence_units",
    "sentence_n", "scored", "positive", "neutral", "negative",
)


def partial_sums(scored_reviews: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Per key: the counts and exact sums title_summary and monthly_trends are made of.

    `scored_reviews` are staged reviews joined with review_metrics' output (rating, review_date,
    helpful_votes, total_votes, sentiment_score, sentiment_compound, sentence_compound_mean,
    sentiment_label).
    """
    rating = _units(pl.col("rating"), RATING_UNIT)
    return scored_reviews.group_by(keys).agg(
        review_count=pl.len().cast(pl.Int64),
        rated_review_count=pl.col("rating").count().cast(pl.Int64),
        rating_units=rating.sum(),
        rating_units_sq=(rating * rating).sum(),
        **vote_sums(),
        sentiment_units=_units(pl.col("sentiment_score"), SCORE_UNIT).sum(),
        sentiment_n=pl.col("sentiment_score").count().cast(pl.Int64),
        compound_units=_units(pl.col("sentiment_compound"), COMPOUND_UNIT).sum(),
        compound_n=pl.col("sentiment_compound").count().cast(pl.Int64),
        sentence_units=_units(pl.col("sentence_compound_mean"), SCORE_UNIT).sum(),
        sentence_n=pl.col("sentence_compound_mean").count().cast(pl.Int64),
        scored=pl.col("sentiment_label").count().cast(pl.Int64),
        positive=(pl.col("sentiment_label") == "positive").sum().cast(pl.Int64),
        neutral=(pl.col("sentiment_label") == "neutral").sum().cast(pl.Int64),
        negative=(pl.col("sentiment_label") == "negative").sum().cast(pl.Int64),
        first_review_date=pl.col("review_date").min(),
        last_review_date=pl.col("review_date").max(),
    )


_MEASURES = {"sentiment_score": pl.Float64, "sentiment_compound": pl.Float64,
             "sentence_compound_mean": pl.Float64, "sentiment_label": pl.String}


def partial_aggregates(scored_reviews: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The partial aggregates of one partition of scored reviews: per title, per title and month,
    and the rating histogram. Merge the partitions' with `merge_partials`. Measures the frame lacks
    count as null (a caller may pass only the scores it has)."""
    missing = {c: t for c, t in _MEASURES.items() if c not in scored_reviews.columns}
    lazy = scored_reviews.lazy().with_columns(pl.lit(None, t).alias(c) for c, t in missing.items())
    dated = lazy.filter(pl.col("review_date").is_not_null()).with_columns(
        month=pl.col("review_date").dt.truncate("1mo")
    )
    titles, months, histogram = pl.collect_all([
        partial_sums(lazy, ["title_id"]), partial_sums(dated, ["title_id", "month"]),
        rating_histogram(lazy),
    ])
    return {"titles": titles, "months": months, "histogram": histogram}


_PARTIAL_KEYS = {"titles": ["title_id"], "months": ["title_id", "month"],
                 "histogram": ["title_id", "rating", "rating_scale", "rating_min", "rating_step"]}


def merge_partials(partials: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """The partial aggregates of all partitions as those of their union, exactly: one row per key,
    in no particular order (every figure made of them sorts its rows; sorting the 826,000 months of
    1M reviews here as well cost 0.25 s)."""
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


def _mean(units: str, n: str, unit: float) -> pl.Expr:
    return pl.when(pl.col(n) > 0).then(pl.col(units) / pl.col(n) * unit).otherwise(None)


def _std(units: str, units_sq: str, n: str, unit: float) -> pl.Expr:
    count, s1 = pl.col(n), pl.col(units).cast(pl.Float64)
    var = ((pl.col(units_sq).cast(pl.Float64) - s1 * s1 / count) / (count - 1)).clip(lower_bound=0.0)
    return pl.when(count > 1).then(var.sqrt() * unit).otherwise(None)


def title_summary(
    reviews: pl.LazyFrame, review_scores: pl.LazyFrame, titles: pl.LazyFrame
) -> pl.LazyFrame:
    """Per title: review and rating counts, rating mean/median/stddev, votes, sentiment shares.

    grain: one row per title_id known from reviews or titles (a title without reviews has
    review_count 0 and null review statistics). `reviews` are staged reviews, `review_scores` the
    output of review_metrics, `titles` the output of merged_titles. sentiment_mean is the mean of
    each review's sentiment_score (the configured measure, sentence mean by default: it ranks titles
    closer to their stars); the shares count sentiment_label, the whole-text label, which agrees with
    the stars' classes more often (docs/sentiment.md).
    """
    scored = reviews.join(review_scores, on="review_id", how="left", maintain_order="left")
    partials = merge_partials([partial_aggregates(scored.collect())])
    return title_summary_from_partials(
        partials["titles"].lazy(), partials["histogram"].lazy(), titles
    )


def title_summary_from_partials(
    sums: pl.LazyFrame, histogram: pl.LazyFrame, titles: pl.LazyFrame
) -> pl.LazyFrame:
    """title_summary from merged partial aggregates (per-title sums and the rating histogram)."""
    return title_summary_from_stats(title_stats(sums, histogram), titles)


# The columns of title_summary made of a title's reviews alone (title_stats), in its order.
TITLE_STATS_COLUMNS = (
    "review_count", "rated_review_count", "rating_mean", "rating_median", "rating_stddev",
    "helpful_votes", "total_votes", "sentiment_mean", "positive_share", "neutral_share",
    "negative_share", "whole_text_sentiment_mean", "sentence_sentiment_mean", "first_review_date",
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
            rating_mean=_mean("rating_units", "rated_review_count", RATING_UNIT),
            rating_stddev=_std("rating_units", "rating_units_sq", "rated_review_count", RATING_UNIT),
            sentiment_mean=_mean("sentiment_units", "sentiment_n", SCORE_UNIT),
            whole_text_sentiment_mean=_mean("compound_units", "compound_n", COMPOUND_UNIT),
            sentence_sentiment_mean=_mean("sentence_units", "sentence_n", SCORE_UNIT),
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
    """title_summary from title_stats and merged_titles: every title known from either."""
    return (
        titles.select("title_id", "title", "site_rating", "site_votes")
        .join(stats, on="title_id", how="full", coalesce=True)
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
            "whole_text_sentiment_mean",
            "sentence_sentiment_mean",
            "first_review_date",
            "last_review_date",
            "helpful_only_votes",
        )
        .sort("title_id")
    )


def top_helpful_reviews(
    reviews: pl.LazyFrame, review_scores: pl.LazyFrame | None = None, n: int = 10
) -> pl.LazyFrame:
    """The n most helpful reviews per title and ranking, ranked 1..n.

    grain: one row per (title_id, ranked_by, rank). Two rankings, never mixed, as a Wilson bound and
    a bare count do not compare:
    - 'helpful_ratio': reviews with a known total that someone voted on, by Wilson lower bound; ties
      go to more helpful votes, then more total votes, then review_id;
    - 'helpful_votes': reviews whose source gives helpful votes alone, with at least one (nobody
      found a review with 0 helpful), by helpful votes, then review_id; their total_votes,
      helpful_ratio and helpful_wilson_lb are null.
    """
    scored = scored_reviews(reviews, review_scores)
    # only reviews someone voted on, with a known helpful count, can be ranked by their ratio
    by_ratio = scored.filter(
        (pl.col("total_votes") > 0) & pl.col("helpful_wilson_lb").is_not_null()
    ).sort(
        ["title_id", "helpful_wilson_lb", "helpful_votes", "total_votes", "review_id"],
        descending=[False, True, True, True, False],
    )
    by_votes = (
        # helpful_ratio and helpful_wilson_lb are null here: the total is unknown
        scored.filter(pl.col("total_votes").is_null() & (pl.col("helpful_votes") > 0))
        .sort(["title_id", "helpful_votes", "review_id"], descending=[False, True, False])
    )
    return (
        pl.concat([
            by_ratio.with_columns(ranked_by=pl.lit("helpful_ratio")),
            by_votes.with_columns(ranked_by=pl.lit("helpful_votes")),
        ])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("title_id", "ranked_by").cast(pl.Int64))
        .filter(pl.col("rank") <= n)
        .select(
            "title_id",
            "rank",
            "review_id",
            "helpful_votes",
            "total_votes",
            "helpful_ratio",
            "helpful_wilson_lb",
            "ranked_by",
        )
        .sort("title_id", "ranked_by", "rank")
    )


# --- Ratings that can be compared across titles ----------------------------------------------------


def weighted_rating_parameters(
    summary: pl.LazyFrame,
    *,
    quantile: float = 0.5,
    m: float | None = None,
    c: float | None = None,
) -> pl.LazyFrame:
    """C and m of IMDb's weighted rating, per rating scale of the review ratings and for site ratings.

    grain: one row per basis ('reviews' per scale: rating_scale, rating_min, rating_step; and
    'site' with a null scale). C is the mean of the titles' mean ratings and m the given quantile of
    their vote counts, over titles with at least one vote, unless fixed by the caller. `summary`
    needs rating_scale, rated_review_count, rating_mean, site_rating, site_votes (and rating_min,
    rating_step unless the scales are whole points from 1).
    """
    scale = ["rating_scale", "rating_min", "rating_step"]
    # lists keep each group's values in one ordered piece, so the means are the same every run
    reviews = (
        with_scale_points(summary.filter(pl.col("rated_review_count") > 0))
        .sort(*scale, "title_id")
        .group_by(scale, maintain_order=True)
        .agg(r=pl.col("rating_mean"), v=pl.col("rated_review_count").cast(pl.Float64))
        .select(pl.lit("reviews").alias("basis"), *scale, "r", "v")
    )
    site = (
        summary.filter(pl.col("site_rating").is_not_null() & (pl.col("site_votes") > 0))
        .sort("title_id")
        .select(
            pl.lit("site").alias("basis"),
            pl.lit(None, dtype=pl.Int32).alias("rating_scale"),
            pl.lit(None, dtype=pl.Float64).alias("rating_min"),
            pl.lit(None, dtype=pl.Float64).alias("rating_step"),
            pl.col("site_rating").implode().alias("r"),
            pl.col("site_votes").cast(pl.Float64).implode().alias("v"),
        )
        .filter(pl.col("r").list.len() > 0)
    )
    return pl.concat([reviews.with_columns(pl.col("rating_scale").cast(pl.Int32)), site]).select(
        "basis",
        *scale,
        (pl.lit(c, dtype=pl.Float64) if c is not None else pl.col("r").list.mean()).alias("c"),
        (
            pl.lit(m, dtype=pl.Float64)
            if m is not None
            else pl.col("v").list.eval(pl.element().quantile(quantile, interpolation="linear")).list.first()
        ).alias("m"),
        pl.col("r").list.len().alias("titles"),
    )


def weighted_rating(v: pl.Expr, r: pl.Expr, m: pl.Expr, c: pl.Expr) -> pl.Expr:
    """IMDb's WR = v/(v+m)·R + m/(v+m)·C; null without votes (no evidence to weigh)."""
    v = v.cast(pl.Float64)
    return pl.when((v > 0) & r.is_not_null()).then(v / (v + m) * r + m / (v + m) * c)


def wilson_interval(k: pl.Expr, n: pl.Expr, z: float = Z_95) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval (low, high) of the share k of n; null when n is 0 or unknown.

    (p + z²/2n ∓ z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = k/n; 0 and 1 exactly at the ends.
    """
    n = n.cast(pl.Float64)
    p = k.cast(pl.Float64) / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt() / (1 + z2 / n)
    low = pl.when(n > 0).then(pl.when(k == 0).then(0.0).otherwise((centre - half).clip(0.0, 1.0)))
    high = pl.when(n > 0).then(pl.when(k == n).then(1.0).otherwise((centre + half).clip(0.0, 1.0)))
    return low, high


def comparable_ratings(
    summary: pl.LazyFrame,
    parameters: pl.LazyFrame,
    *,
    prior_per_star: float = 1.0,
    z: float = Z_95,
) -> pl.LazyFrame:
    """Per title: weighted_rating, weighted_site_rating, bayesian_rating, rating_ci_low/high, and on
    the thumbs scale recommended_share with its Wilson interval (recommended_share_low/high).

    grain: one row per title_id of `summary` (needs rating_scale, rated_review_count, rating_mean,
    rating_stddev, site_rating, site_votes; rating_min and rating_step unless whole points from 1).
    bayesian_rating is the posterior mean with prior_per_star pseudo-ratings on each of the P points
    of the scale, L..K: (Σ ratings + a·P·(L+K)/2) / (n + a·P) (P = K on 1..K, 2 on thumbs).
    The interval is mean ± z·s/√n (n >= 2), kept within L..K. On thumbs the mean is the share
    recommended, and recommended_share is that share exactly: recommended / rated reviews.
    """
    scale = ["rating_scale", "rating_min", "rating_step"]
    per_scale = with_scale_points(parameters.filter(pl.col("basis") == "reviews")).select(
        *scale, pl.col("c").alias("c_reviews"), pl.col("m").alias("m_reviews")
    )
    # at most one 'site' row; joined on a constant so titles stay when there is none
    site = parameters.filter(pl.col("basis") == "site").select(
        pl.lit(1).alias("_one"), pl.col("c").alias("c_site"), pl.col("m").alias("m_site")
    )
    n = pl.col("rated_review_count").cast(pl.Float64)
    k, low = pl.col("rating_scale").cast(pl.Float64), pl.col("rating_min")
    points = ((k - low) / pl.col("rating_step")).round(0) + 1
    half_width = z * pl.col("rating_stddev") / n.sqrt()
    # on thumbs the ratings are 0 and 1: their sum, the recommended reviews, from the exact mean
    recommended = (pl.col("rating_mean") * n).round(0)
    share_low, share_high = wilson_interval(recommended, n, z)
    thumbs = pl.col("rating_scale") == THUMBS_SCALE
    return (
        with_scale_points(summary)
        .join(per_scale, on=scale, how="left", maintain_order="left")
        .with_columns(_one=pl.lit(1))
        .join(site, on="_one", how="left", maintain_order="left")
        .select(
            "title_id",
            weighted_rating(
                pl.col("rated_review_count"), pl.col("rating_mean"), pl.col("m_reviews"), pl.col("c_reviews")
            ).alias("weighted_rating"),
            weighted_rating(
                pl.col("site_votes"), pl.col("site_rating"), pl.col("m_site"), pl.col("c_site")
            ).alias("weighted_site_rating"),
            pl.when(n > 0)
            .then(
                (pl.col("rating_mean") * n + prior_per_star * points * (low + k) / 2)
                / (n + prior_per_star * points)
            )
            .alias("bayesian_rating"),
            pl.when(n >= 2)
            .then(pl.max_horizontal(low, pl.col("rating_mean") - half_width))
            .alias("rating_ci_low"),
            pl.when(n >= 2)
            .then(pl.min_horizontal(k, pl.col("rating_mean") + half_width))
            .alias("rating_ci_high"),
            pl.when(thumbs & (n > 0)).then(recommended / n).alias("recommended_share"),
            pl.when(thumbs).then(share_low).alias("recommended_share_low"),
            pl.when(thumbs).then(share_high).alias("recommended_share_high"),
        )
    )


# --- Distribution shape ----------------------------------------------------------------------------


def rating_shape(
    distribution: pl.LazyFrame,
    *,
    min_ratings: int = 10,
    bimodality: float = 5 / 9,
    end_share: float = 0.2,
) -> pl.LazyFrame:
    """Per title: rating_entropy, extreme_share, bimodality_coefficient, rating_skewness, is_polarized.

    grain: one row per title_id with rated reviews. From the output of rating_distribution, which
    lists every point of the title's scale:
    - rating_entropy: Shannon entropy of the shares over the scale's points / ln(number of points),
      0 when every rating is the same point, 1 when all points are equally common;
    - extreme_share: share of ratings on the two lowest and two highest points of the scale (1, 2,
      K-1, K of 1..K; 0.5, 1, 4.5, 5 in half stars); null on thumbs, whose two points are both ends;
    - rating_skewness: sample skewness G1 = g1·√(n(n-1))/(n-2), n >= 3;
    - bimodality_coefficient: Sarle's b = (G1² + 1) / (G2 + 3(n-1)²/((n-2)(n-3))), G2 the sample
      excess kurtosis, n >= 4; above 5/9 (a uniform distribution's value) suggests two modes;
    - is_polarized: n >= min_ratings, b > bimodality and at least end_share of the ratings on each
      end (the two lowest points and the two highest points).
    On thumbs (two points) a distribution has no two modes to tell apart: bimodality_coefficient is
    null and is_polarized false; the share recommended says it all (comparable_ratings).
    """
    # a rating's place on its scale, 0 for rating_min .. last for the top: the ends are exact
    place = ((pl.col("rating") - pl.col("rating_min")) / pl.col("rating_step")).round(0)
    last = ((pl.col("rating_scale") - pl.col("rating_min")) / pl.col("rating_step")).round(0)
    flagged = with_scale_points(distribution).with_columns(
        low=pl.when(place <= 1).then(pl.col("review_count")).otherwise(0),
        # on a scale of 3 points the middle one is among the lowest two, and counted there alone
        high=pl.when((place >= last - 1) & (place > 1)).then(pl.col("review_count")).otherwise(0),
    )
    # one ordered list per title: the float sums below are taken in the same order every run
    lists = (
        flagged.sort("title_id", "rating")
        .group_by("title_id", maintain_order=True)
        .agg(
            r=pl.col("rating"),
            c=pl.col("review_count").cast(pl.Float64),
            low=pl.col("low").sum(),
            high=pl.col("high").sum(),
            thumbs=(pl.col("rating_scale") == THUMBS_SCALE).any(),
        )
        .with_columns(n=pl.col("c").list.sum())
        .with_columns(mean=(pl.col("r") * pl.col("c")).list.sum() / pl.col("n"))
        .with_columns(d=pl.col("r") - pl.col("mean"))
        .with_columns(
            m2=(pl.col("c") * pl.col("d") * pl.col("d")).list.sum() / pl.col("n"),
            m3=(pl.col("c") * pl.col("d") * pl.col("d") * pl.col("d")).list.sum() / pl.col("n"),
            m4=(pl.col("c") * pl.col("d") * pl.col("d") * pl.col("d") * pl.col("d")).list.sum()
            / pl.col("n"),
            plogp=(pl.col("c") / pl.col("n"))
            .list.eval(pl.when(pl.element() > 0).then(pl.element() * pl.element().log()).otherwise(0.0))
            .list.sum(),
            points=pl.col("r").list.len(),
        )
    )
    n = pl.col("n")
    skew = (
        pl.when((n >= 3) & (pl.col("m2") > 0))
        .then(pl.col("m3") / pl.col("m2").pow(1.5) * (n * (n - 1)).sqrt() / (n - 2))
    )
    excess = (
        pl.when((n >= 4) & (pl.col("m2") > 0))
        .then(((n + 1) * (pl.col("m4") / (pl.col("m2") * pl.col("m2")) - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))
    )
    return (
        lists.with_columns(rating_skewness=skew, excess=excess)
        .with_columns(
            bimodality_coefficient=(pl.col("rating_skewness") ** 2 + 1)
            / (pl.col("excess") + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))),
        )
        .select(
            "title_id",
            pl.when(pl.col("points") > 1)
            .then((-pl.col("plogp") / pl.col("points").cast(pl.Float64).log()).clip(0.0, 1.0))
            .alias("rating_entropy"),
            pl.when(~pl.col("thumbs")).then((pl.col("low") + pl.col("high")) / n).alias("extreme_share"),
            pl.when(~pl.col("thumbs")).then(pl.col("bimodality_coefficient")).alias("bimodality_coefficient"),
            "rating_skewness",
            (
                ~pl.col("thumbs")
                & (n >= min_ratings)
                & (pl.col("bimodality_coefficient") > bimodality)
                & (pl.col("low") / n >= end_share)
                & (pl.col("high") / n >= end_share)
            )
            .fill_null(False)
            .alias("is_polarized"),
        )
    )


# --- Words against stars ---------------------------------------------------------------------------


def spearman(frame: pl.LazyFrame, keys: list[str], x: str, y: str, name: str) -> pl.LazyFrame:
    """Spearman's rank correlation of x and y per group of keys, over rows where both are known.

    grain: one row per group with at least one pair; `name` is null with fewer than 3 pairs or a
    constant side. Ranks are averaged on ties and summed as whole numbers (twice the rank, summed in
    128 bits), so the result is exact and the same in every run. y is ranked row by row; x from the
    count of each of its values, so x is best the side with fewer distinct values (a rating).
    """
    wide = pl.Int128
    b, m = pl.col("_b"), pl.col("_m")
    pairs = frame.filter(pl.col(x).is_not_null() & pl.col(y).is_not_null()).select(
        *keys, x, _b=(pl.col(y).rank("average").over(keys) * 2).cast(pl.Int64)
    )
    # per value of x: its rows, and their sums of y's ranks
    by_value = pairs.group_by(*keys, x).agg(
        _m=pl.len().cast(pl.Int64), _sby=b.cast(wide).sum(), _sbby=(b * b).cast(wide).sum()
    )
    # twice the average rank of a value of x: twice the rows before it, plus its rows, plus 1
    a = pl.col("_a")
    sums = (
        by_value.sort(*keys, x)
        .with_columns(_a=(2 * (m.cum_sum().over(keys) - m) + m + 1).cast(wide))
        .group_by(keys)
        .agg(
            _n=m.sum().cast(pl.Float64),
            _sa=(a * m).sum().cast(pl.Float64),
            _sb=pl.col("_sby").sum().cast(pl.Float64),
            _saa=(a * a * m).sum().cast(pl.Float64),
            _sbb=pl.col("_sbby").sum().cast(pl.Float64),
            _sab=(a * pl.col("_sby")).sum().cast(pl.Float64),
        )
    )
    n = pl.col("_n")
    cov = pl.col("_sab") / n - (pl.col("_sa") / n) * (pl.col("_sb") / n)
    var_a = pl.col("_saa") / n - (pl.col("_sa") / n) ** 2
    var_b = pl.col("_sbb") / n - (pl.col("_sb") / n) ** 2
    return sums.select(
        *keys,
        pl.when((n >= 3) & (var_a > 0) & (var_b > 0))
        .then((cov / (var_a * var_b).sqrt()).clip(-1.0, 1.0))
        .alias(name),
    )


def _agreement(label: str) -> pl.Expr:
    """Share of reviews in a rating class whose sentiment label is that class."""
    in_class = pl.col("_class").is_in(["negative", "positive"]) & pl.col(label).is_not_null()
    agree = in_class & (pl.col(label) == pl.col("_class"))
    return pl.when(in_class.sum() > 0).then(agree.sum() / in_class.sum())


def sentiment_agreement(
    reviews: pl.LazyFrame,
    review_scores: pl.LazyFrame | None = None,
    scopes: tuple[str, ...] = ("title", "overall"),
) -> pl.LazyFrame:
    """How well words agree with stars, per title and overall per rating scale, for both measures.

    grain: one row per title (scope 'title') and one per rating scale (scope 'overall', null
    title_id), of the scopes asked for. Spearman correlation of rating with the whole-text compound
    and with the sentence mean; label agreement = share of reviews in a rating class (see
    rating_class; the middle of the scale is left out) whose label (±0.05) names that class, neutral
    counting as disagreement. The overall rows need rating, rating_scale, sentiment_compound,
    sentence_compound_mean and both labels of every review.
    """
    scored = with_scale_points(scored_reviews(reviews, review_scores)).with_columns(
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
            scored.group_by(key)
            .agg(**measures, **extra)
            .join(spearman(scored, [key], "rating", "sentiment_compound", "spearman_whole"),
                  on=key, how="left")
            .join(spearman(scored, [key], "rating", "sentence_compound_mean", "spearman_sentence"),
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


def rating_sentiment_mismatches(
    reviews: pl.LazyFrame, review_scores: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """The reviews whose words and stars disagree strongly, the ones to read first ranked first.

    grain: one row per flagged review. strength = |sentiment_score|; rank orders a title's mismatches
    and read_order all of them, by strength, then helpful_wilson_lb, then review_id.
    """
    return with_read_order(
        scored_reviews(reviews, review_scores)
        .filter(pl.col("rating_sentiment_mismatch"))
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


# --- Helpfulness and time ---------------------------------------------------------------------------


def helpfulness(reviews: pl.LazyFrame, review_scores: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Per title: who votes and what they find helpful.

    grain: one row per title_id with reviews. Every share is over the reviews with both counts known
    (reviews_with_total), so a source that gives helpful votes alone never inflates one:
    voted_share = share of them with any vote; helpful_share = helpful_votes / total_votes; the
    Spearman correlations of a review's helpful_ratio with its rating and with its length in words,
    over reviews with votes (negative with rating: harsher reviews are found more helpful). The
    helpful-only reviews are counted apart (helpful_only_reviews, helpful_only_votes).
    """
    joined = scored_reviews(reviews, review_scores)
    voted = joined.filter(pl.col("total_votes") > 0)
    return (
        joined.group_by("title_id")
        .agg(
            review_count=pl.len().cast(pl.Int64),
            voted_reviews=(pl.col("helpful_votes").is_not_null() & (pl.col("total_votes") > 0))
            .sum()
            .cast(pl.Int64),
            **vote_sums(),
        )
        .with_columns(
            voted_share=pl.when(pl.col("reviews_with_total") > 0).then(
                pl.col("voted_reviews") / pl.col("reviews_with_total")
            ),
            helpful_share=pl.when(pl.col("total_votes") > 0).then(
                pl.col("helpful_votes") / pl.col("total_votes")
            ),
        )
        .with_columns(known_vote_sums())
        .join(spearman(voted, ["title_id"], "rating", "helpful_ratio", "helpfulness_rating_spearman"),
              on="title_id", how="left")
        .join(spearman(voted, ["title_id"], "helpful_ratio", "review_word_count",
                       "helpfulness_length_spearman"), on="title_id", how="left")
        .select(
            "title_id", "review_count", "voted_reviews", "voted_share", "helpful_votes", "total_votes",
            "helpful_share", "helpfulness_rating_spearman", "helpfulness_length_spearman",
            "reviews_with_total", "helpful_only_reviews", "helpful_only_votes",
        )
        .sort("title_id")
    )


def monthly_trends(reviews: pl.LazyFrame, review_scores: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Per title and calendar month of review_date: counts, rating and sentiment means, helpfulness.

    grain: one row per (title_id, month) with reviews; month is the first day of the month; reviews
    without a date are not in any month.
    """
    scored = scored_reviews(reviews, review_scores)
    return monthly_trends_from_partials(merge_partials([partial_aggregates(scored.collect())])["months"].lazy())


def monthly_trends_from_partials(sums: pl.LazyFrame) -> pl.LazyFrame:
    """monthly_trends from merged partial aggregates per (title_id, month)."""
    return (
        sums.with_columns(known_vote_sums())
        .with_columns(
            rating_mean=_mean("rating_units", "rated_review_count", RATING_UNIT),
            sentiment_mean=_mean("sentiment_units", "sentiment_n", SCORE_UNIT),
            helpful_ratio=helpful_ratio(pl.col("helpful_votes"), pl.col("total_votes")),
        )
        .select(
            "title_id", "month", "review_count", "rated_review_count", "rating_mean",
            "sentiment_mean", "helpful_votes", "total_votes", "helpful_ratio", "helpful_only_votes",
        )
        .sort("title_id", "month")
    )
