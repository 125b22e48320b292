"""Ratings on their scales: scale points, rating classes, the rating histogram and distribution of
each title, and its shape (entropy, extremes, skewness, bimodality)."""

from __future__ import annotations

from typing import Any

import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.metrics.units import in_units, with_share
from reviewpipe.settings import RATING_UNIT

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
    `minimum` defaults to default_rating_min (rating_class_of is the same rule for one rating)."""
    low = in_units(default_rating_min(scale) if minimum is None else minimum, RATING_UNIT)
    negative, positive = _class_sides(
        in_units(rating, RATING_UNIT) - low, in_units(scale.cast(pl.Float64), RATING_UNIT) - low
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


def title_scales(histogram: pl.LazyFrame) -> pl.LazyFrame:
    """Per title with a rated review: its scale, SCALE_COLUMNS; from a rating_histogram or a
    distribution_from_histogram. Raises ReviewpipeError for a title rated on more than one scale."""
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
    """Per title and rating point: review_count and share of the title's rated reviews; from a
    (merged) rating_histogram.

    grain: one row per (title_id, rating). Every point of the title's scale (rating_min to
    rating_scale in steps of rating_step; 0 and 1 on thumbs) is listed, with 0 where nobody gave it,
    so a histogram needs no gaps filled; shares of a title sum to 1. Titles with no rated review
    have no rows. Each row carries its title's scale (SCALE_COLUMNS).
    """
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
        .pipe(with_share, "review_count", ["title_id"], "share")
        .select("title_id", "rating", "review_count", "share", *SCALE_COLUMNS)
        .sort("title_id", "rating")
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

    grain: one row per title_id with rated reviews. From the output of distribution_from_histogram,
    which lists every point of the title's scale:
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
