"""Trust tests: can a title's rating be trusted? ReviewMeta's shape, over the whole warehouse.

Each test picks a subset of a title's reviews (`TESTS`) and asks two questions: is the subset
unusually large for the title, against the share the test picks among the other titles' reviews of
its sources (a one-sided exact binomial test), and does it rate the title differently from the rest
(Welch's t-test)? Both p-values are corrected over every title and test of the run
(Benjamini-Hochberg), so that a clean corpus does not light up by chance. A subset that is both,
with effects large enough to matter ([trust] settings), fails; one of the two warns.

By module:
- `subsets`: the tests that need reviewers, dates and flags (SQL over stg_reviews);
- `texts`: the tests that read texts: MinHash signatures kept per text (`text_signatures`, updated
  with new texts only), near-copies across reviewers, repeated phrases, incentivized disclosures;
- `stats`: the statistics (exact binomial tail, Welch's t, Benjamini-Hochberg) and the verdicts;
- here: `trust_frames`, the frames the published tables are made of.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from reviewpipe.settings import Settings


@dataclass(frozen=True)
class Test:
    """A trust test: its name (agg_trust_tests.test), the reviews it can see (`tested`, an SQL
    condition on the columns of `trust_reviews`) and what its subset is, in words."""

    name: str
    tested: str
    picks: str


# In agg_trust_tests' order. `trust_reviews` (subsets.TRUST_REVIEWS) has reviewer (the reviewer_key:
# null = unknown), review_date, rating, has_text, verified_purchase.
TESTS: tuple[Test, ...] = (
    Test("one_review_accounts", "reviewer is not null",
         "reviews by reviewers with no other review in the warehouse"),
    Test("single_day_reviewers", "reviewer is not null",
         "reviews by reviewers with at least two reviews, all written on one day"),
    Test("burst", "review_date is not null",
         "reviews written on a day with far more reviews of the title than its own rate predicts"),
    Test("copied_text", "has_text",
         "reviews whose text is a copy or near-copy of a review by another reviewer, of any title"),
    Test("repeated_phrases", "has_text",
         "reviews sharing a phrase with several other reviews of the title, beyond what the "
         "corpus makes likely"),
    Test("incentivized", "has_text",
         "reviews that disclose a free or discounted product in exchange for the review"),
    Test("unverified", "verified_purchase is not null",
         "reviews the site does not mark as a verified purchase"),
    Test("rating_deviation", "reviewer is not null",
         "reviews by reviewers whose ratings sit far from each title's consensus across their "
         "history"),
)
TEST_NAMES: tuple[str, ...] = tuple(t.name for t in TESTS)

# The frames trust_frames gives (publish registers them under these names).
TESTS_SCHEMA = {
    "title_id": pl.String, "test": pl.String, "tested_reviews": pl.Int64, "subset_reviews": pl.Int64,
    "subset_share": pl.Float64, "baseline_share": pl.Float64, "share_p_value": pl.Float64,
    "subset_rating_mean": pl.Float64, "rest_rating_mean": pl.Float64,
    "rating_difference": pl.Float64, "rating_t": pl.Float64, "rating_p_value": pl.Float64,
    "verdict": pl.String, "parameters": pl.String,
}
FLAGGED_SCHEMA = {"review_id": pl.String, "title_id": pl.String, "test": pl.String, "detail": pl.String}
TITLE_TRUST_SCHEMA = {
    "title_id": pl.String, "trust_verdict": pl.String, "failed_tests": pl.String,
    "adjusted_rating": pl.Float64, "adjusted_review_count": pl.Int64,
}
TRUST_FRAMES = ("metric_trust_tests", "metric_trust_flagged", "metric_title_trust")


def trust_frames(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, pl.DataFrame]:
    """The trust tests over every staged review of the warehouse `con`: metric_trust_tests (one row
    per tested title and test, TESTS_SCHEMA), metric_trust_flagged (the reviews of failing subsets,
    FLAGGED_SCHEMA) and metric_title_trust (per tested title: worst verdict, failing tests, adjusted
    rating, TITLE_TRUST_SCHEMA). Updates the kept text signatures with the texts new since."""
    return {
        "metric_trust_tests": pl.DataFrame(schema=TESTS_SCHEMA),
        "metric_trust_flagged": pl.DataFrame(schema=FLAGGED_SCHEMA),
        "metric_title_trust": pl.DataFrame(schema=TITLE_TRUST_SCHEMA),
    }


__all__ = ["FLAGGED_SCHEMA", "TESTS", "TESTS_SCHEMA", "TEST_NAMES", "TITLE_TRUST_SCHEMA", "TRUST_FRAMES",
           "Test", "trust_frames"]
