"""The assembly production runs: every metric frame the published models read, from the staged
reviews (each with its text's scores) and the staged titles."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from reviewpipe.metrics.agreement import (
    AGREEMENT_INPUTS,
    rating_sentiment_mismatches,
    sentiment_agreement,
    with_read_order,
)
from reviewpipe.metrics.comparable import comparable_ratings, weighted_rating_parameters
from reviewpipe.metrics.helpfulness import helpfulness, top_helpful_reviews
from reviewpipe.metrics.per_review import REVIEW_METRIC_COLUMNS, with_review_metrics
from reviewpipe.metrics.ratings import (
    SCALE_COLUMNS,
    distribution_from_histogram,
    rating_shape,
    title_scales,
)
from reviewpipe.metrics.titles import (
    merged_titles,
    monthly_trends_from_partials,
    title_languages,
    title_stats,
    title_summary_from_stats,
)
from reviewpipe.settings import MetricsSettings, SentimentSettings

# scored reviews -> their partial aggregates, merged (merge_partials' output)
MergedPartials = Callable[[pl.DataFrame], dict[str, pl.DataFrame]]


def metric_frames(
    reviews: pl.DataFrame,
    staged_titles: pl.DataFrame,
    metrics_settings: MetricsSettings,
    sentiment_settings: SentimentSettings,
    *,
    merged_partials: MergedPartials,
    kept: dict[str, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Every metric frame the published models read, by name (metric_*), from the staged reviews and
    titles.

    `reviews`: review_id, title_id, review_date, rating, rating_scale, rating_min, rating_step,
    helpful_votes, total_votes, review_word_count, review_language (declared, else detected) and the
    sentiment cache's columns (null scores where no analyzer read the text), one row per review in
    review_id order; `staged_titles`: stg_titles' rows. `merged_partials` gives the scored
    reviews' partial aggregates, merged (merge_partials of partial_aggregates, per partition wherever
    the caller runs them).

    `kept` is given on a delta run, when `reviews` holds only the touched titles' reviews: the
    untouched titles' rows of the live tables, "touched" (the touched title_ids), "stats" (title_id,
    TITLE_STATS_COLUMNS, SCALE_COLUMNS), "shape" (title_id and rating_shape's columns), "reviews"
    (AGREEMENT_INPUTS of their reviews) and "mismatches" (MISMATCH_COLUMNS). Every per-title figure
    depends on the title's reviews alone, so the frames then hold the touched titles' rows, and
    frames["touched_titles"] names them; the frames whose figures span titles (the title summary
    with its weighted-rating parameters, the overall agreement, the mismatches' read order) are
    whole, made with the kept rows.
    """
    m, st = metrics_settings, sentiment_settings
    scored = with_review_metrics(
        reviews.lazy(), z=m.wilson_z, threshold=st.threshold, measure=st.title_measure,
        mismatch_threshold=st.mismatch_threshold,
    ).collect()
    titles = merged_titles(staged_titles.lazy()).collect()
    partials = merged_partials(scored)
    distribution = distribution_from_histogram(partials["histogram"].lazy()).collect()
    stats = (
        title_stats(partials["titles"].lazy(), partials["histogram"].lazy())
        .join(title_scales(distribution.lazy()), on="title_id", how="left")
        .collect()
    )
    shape = rating_shape(
        distribution.lazy(), min_ratings=m.polarized_min_ratings,
        bimodality=m.polarized_bimodality, end_share=m.polarized_end_share,
    ).collect()
    everyone = scored.select(AGREEMENT_INPUTS)
    if kept is not None:
        everyone = pl.concat([everyone, kept["reviews"].cast(everyone.schema)])
    # computed together: Polars runs them side by side
    top, by_title, overall, mismatches, per_title_helpfulness = pl.collect_all([
        top_helpful_reviews(scored.lazy(), m.top_helpful_per_title),
        sentiment_agreement(scored.lazy(), scopes=("title",)),
        sentiment_agreement(everyone.lazy(), scopes=("overall",)),
        rating_sentiment_mismatches(scored.lazy()),
        helpfulness(scored.lazy()),
    ])
    frames = {}
    if kept is not None:
        frames["touched_titles"] = kept["touched"]
        stats = pl.concat([stats, kept["stats"].select(stats.columns).cast(stats.schema)])
        shape = pl.concat([shape, kept["shape"].select(shape.columns).cast(shape.schema)])
        mismatches = with_read_order(pl.concat(
            [mismatches.drop("read_order"), kept["mismatches"]], how="vertical_relaxed").lazy()
        ).collect()
    summary = (
        title_summary_from_stats(stats.drop(SCALE_COLUMNS).lazy(), titles.lazy())
        .join(stats.lazy().select("title_id", *SCALE_COLUMNS), on="title_id", how="left",
              maintain_order="left")
        .collect()
    )
    parameters = weighted_rating_parameters(
        summary.lazy(), quantile=m.weighted_quantile, m=m.weighted_m, c=m.weighted_c
    ).collect()
    return frames | {
        "metric_titles": titles,
        "metric_reviews": scored.select(REVIEW_METRIC_COLUMNS),
        "metric_title_summary": summary,
        "metric_comparable_ratings": comparable_ratings(
            summary.lazy(), parameters.lazy(), prior_per_star=m.bayesian_prior_per_star,
            z=m.confidence_z,
        ).collect(),
        "metric_rating_shape": shape,
        "metric_weighted_rating_parameters": parameters,
        "metric_rating_distribution": distribution,
        "metric_monthly_trends": monthly_trends_from_partials(partials["months"].lazy()).collect(),
        "metric_title_languages": title_languages(partials["languages"].lazy()).collect(),
        "metric_top_helpful_reviews": top,
        "metric_sentiment_agreement": pl.concat([by_title, overall]).sort(
            "scope", "title_id", "rating_scale", nulls_last=True),
        "metric_rating_sentiment_mismatches": mismatches,
        "metric_helpfulness": per_title_helpfulness,
    }
