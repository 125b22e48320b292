"""Ratings that can be compared across titles: IMDb's weighted rating and its parameters, a Bayesian
rating, the mean's confidence interval and, on thumbs, the share recommended with its Wilson interval."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.ratings import THUMBS_SCALE, with_scale_points
from reviewpipe.settings import Z_95


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
