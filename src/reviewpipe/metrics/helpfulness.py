"""Helpfulness: each review's share of helpful votes and its Wilson bound, the vote sums of a group,
the most helpful reviews of each title, and who votes per title."""

from __future__ import annotations

import polars as pl

from reviewpipe.metrics.correlation import spearman
from reviewpipe.settings import Z_95


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
    # made partial_aggregates much slower: bench/README.md, "Figures behind the code")
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


def top_helpful_reviews(scored: pl.LazyFrame, n: int = 10) -> pl.LazyFrame:
    """The n most helpful reviews per title and ranking, ranked 1..n, from reviews with their
    per-review metrics (with_review_metrics' output).

    grain: one row per (title_id, ranked_by, rank). Two rankings, never mixed, as a Wilson bound and
    a bare count do not compare:
    - 'helpful_ratio': reviews with a known total that someone voted on, by Wilson lower bound; ties
      go to more helpful votes, then more total votes, then review_id;
    - 'helpful_votes': reviews whose source gives helpful votes alone, with at least one (nobody
      found a review with 0 helpful), by helpful votes, then review_id; their total_votes,
      helpful_ratio and helpful_wilson_lb are null.
    """
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


def helpfulness(scored: pl.LazyFrame) -> pl.LazyFrame:
    """Per title: who votes and what they find helpful, from reviews with their per-review metrics
    (with_review_metrics' output).

    grain: one row per title_id with reviews. Every share is over the reviews with both counts known
    (reviews_with_total), so a source that gives helpful votes alone never inflates one:
    voted_share = share of them with any vote; helpful_share = helpful_votes / total_votes; the
    Spearman correlations of a review's helpful_ratio with its rating and with its length in words,
    over reviews with votes (negative with rating: harsher reviews are found more helpful). The
    helpful-only reviews are counted apart (helpful_only_reviews, helpful_only_votes).
    """
    voted = scored.filter(pl.col("total_votes") > 0)
    return (
        scored.group_by("title_id")
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
