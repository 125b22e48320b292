"""Trust tests: can a title's rating be trusted? ReviewMeta's shape, over the whole warehouse.

Each test picks a subset of a title's reviews (`TESTS`) and asks two questions: is the subset
unusually large for the title, against the share the test picks among the other titles' reviews of
its sources (a one-sided exact binomial test), and does it rate the title differently from the rest
(the Mann-Whitney U test)? Both p-values are corrected over every title and test of the run
(Benjamini-Hochberg), so that a clean corpus does not light up by chance. A subset that is both,
with effects large enough to matter ([trust] settings), fails; one of the two warns.

By module:
- `subsets`: the reviews as the tests see them with their reviewers' histories, kept in the
  warehouse (`trust_reviews_kept`, made again for the reviews a run touches), and the tests that
  need reviewers, dates and flags (SQL over them);
- `texts`: the tests that read texts: MinHash signatures kept per text (`text_signatures`, updated
  with new texts only), near-copies across reviewers, repeated phrases, incentivized disclosures;
- `stats`: the statistics (exact binomial tail, Mann-Whitney U, Benjamini-Hochberg) and the verdicts;
- here: `trust_frames`, the frames the published tables are made of.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from reviewpipe.metrics.units import mean_from_units
from reviewpipe.settings import RATING_UNIT, Settings
from reviewpipe.trust import sketch, stats, subsets, texts
from reviewpipe.warehouse import read_model


@dataclass(frozen=True)
class Test:
    """A trust test: its name (agg_trust_tests.test), the reviews it can see (`tested`, an SQL
    condition on the columns of `trust_reviews`) and what its subset is, in words."""

    name: str
    tested: str
    picks: str


# In agg_trust_tests' order. `trust_reviews` (sql/trust/trust_reviews.sql, made by
# subsets.create_trust_reviews) has reviewer (the reviewer_key: null = unknown), review_date, rating,
# has_text, verified_purchase.
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
    Test("review_ring", "reviewer is not null",
         "reviews by accounts of a ring: reviewers who reviewed at least three titles together with "
         "more reviewers, close in time, than chance allows"),
)
TEST_NAMES: tuple[str, ...] = tuple(t.name for t in TESTS)

# The frames trust_frames gives (publish registers them under these names).
TESTS_SCHEMA = {
    "title_id": pl.String, "test": pl.String, "tested_reviews": pl.Int64, "subset_reviews": pl.Int64,
    "subset_share": pl.Float64, "baseline_share": pl.Float64, "share_p_value": pl.Float64,
    "subset_rating_mean": pl.Float64, "rest_rating_mean": pl.Float64,
    "rating_difference": pl.Float64, "rating_z": pl.Float64, "rating_auc": pl.Float64,
    "rating_p_value": pl.Float64,
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
    prepared = sketch.prepare()  # the text tests' compiled pass loads while the SQL below runs
    subsets.create_trust_reviews(con, settings, [t.tested for t in TESTS])
    subsets.create_members(con, settings, TEST_NAMES)
    prepared.join()
    texts.update_signatures(con, settings, pairs=False)
    pairs = texts.start_copy_pairs(con, settings)  # extended while the phrases are counted
    subsets.add_members(con, texts.text_members(con, settings, of_trust_reviews=True, pairs=pairs), TEST_NAMES)
    counts = title_counts(con, settings, len(TESTS))
    tests = title_tests(counts, settings)
    failing = tests.filter(pl.col("verdict") == "fail").select(
        "title_id", test_index=pl.col("test").replace_strict(
            {t: i for i, t in enumerate(TEST_NAMES)}, return_dtype=pl.Int32))
    con.register("trust_failing", failing)
    con.register("trust_burst_sides", burst_sides(counts, tests, settings))
    try:
        # a failing test's subset: the reviews it can see (rated or not) that it picks
        con.execute(
            """
            create or replace temp table trust_flagged as
            select members.row_id, members.test_index, min(members.detail) as detail
            from trust_members as members
            join trust_reviews as reviews using (row_id)
            join trust_failing as failing
                on failing.title_id = reviews.title_id and failing.test_index = members.test_index
            where (reviews.tested_mask >> members.test_index) & 1 = 1
            group by members.row_id, members.test_index
            """
        )
        # burst: the days leaning against their failing subset's difference are not flagged
        unflag_days_against(con)
    finally:
        con.unregister("trust_failing")
        con.unregister("trust_burst_sides")
    flagged = con.sql(
        "select reviews.review_id, reviews.title_id, flagged.test_index, flagged.detail "
        "from trust_flagged as flagged join trust_reviews as reviews using (row_id)"
    ).pl().select(
        "review_id", "title_id",
        pl.col("test_index").replace_strict(dict(enumerate(TEST_NAMES)), return_dtype=pl.String).alias("test"),
        "detail",
    )
    kept = con.sql(
        """
        select title_id, count(*) as adjusted_review_count, sum(rating_units)::bigint as rating_units
        from trust_reviews
        anti join (select distinct row_id from trust_flagged) using (row_id)
        where rating_units is not null
        group by title_id
        """
    ).pl()
    return {
        "metric_trust_tests": tests,
        "metric_trust_flagged": flagged.cast(FLAGGED_SCHEMA).select(list(FLAGGED_SCHEMA))
        .sort("title_id", "review_id", "test"),
        "metric_title_trust": title_trust(tests, kept),
    }


def empty_frames() -> dict[str, pl.DataFrame]:
    """trust_frames' frames with no row: what a run with [trust] enabled = false publishes."""
    return {"metric_trust_tests": pl.DataFrame(schema=TESTS_SCHEMA),
            "metric_trust_flagged": pl.DataFrame(schema=FLAGGED_SCHEMA),
            "metric_title_trust": pl.DataFrame(schema=TITLE_TRUST_SCHEMA)}


def burst_sides(counts: pl.DataFrame, tests: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Per title whose burst test fails on both questions (not for being dominant): title_id, side
    (1 when its burst days rate it higher than the rest, -1 lower) and the rest's rating units and
    count. Of its burst days, only those whose own mean rating lies on that side of the rest's are
    flagged (and left out of adjusted_rating): a film's release-day praise beside a one-star
    bombing day is a burst too, but not the one that moves the rating. A dominant subset is most of
    the title: all of its days are flagged."""
    trust = settings.trust
    burst = TEST_NAMES.index("burst")
    rows = counts.filter(pl.col("test_index") == burst).join(
        tests.filter(pl.col("test") == "burst", pl.col("verdict") == "fail").select("title_id", "subset_share"),
        on="title_id")
    rest_n = pl.col("tested_reviews") - pl.col("subset_reviews")
    dominating = stats.dominant(rows["subset_share"], rows["subset_reviews"], dominant_share=trust.dominant_share,
                                dominant_min_reviews=trust.dominant_min_reviews)
    return rows.filter(pl.Series(~dominating)).select(
        "title_id",
        # exact: the subset's mean against the rest's, cross-multiplied in whole rating units
        side=(pl.col("subset_units") * rest_n - pl.col("rest_units") * pl.col("subset_reviews")).sign().cast(pl.Int64),
        rest_units=pl.col("rest_units").cast(pl.Int64), rest_n=rest_n.cast(pl.Int64),
    ).filter(pl.col("side") != 0)  # (no difference: the rating question did not hold; kept whole)


def unflag_days_against(con: duckdb.DuckDBPyConnection) -> None:
    """Take out of trust_flagged the burst reviews of the days leaning against their title's side
    (trust_burst_sides, burst_sides): a day whose rated reviews' mean lies on the other side of the
    rest's mean, or on it (compared exactly, cross-multiplied in rating units). A day without a
    rated review stays flagged. Needs trust_flagged, trust_reviews and trust_burst_sides."""
    con.execute(
        """
        delete from trust_flagged
        where test_index = $burst and row_id in (
            with days as (
                select reviews.title_id, reviews.review_date, sides.side, sides.rest_units, sides.rest_n,
                       sum(reviews.rating_units) as day_units, count(reviews.rating_units) as day_n
                from trust_flagged as flagged
                join trust_reviews as reviews using (row_id)
                join trust_burst_sides as sides using (title_id)
                where flagged.test_index = $burst
                group by all
            ),
            against as (
                select title_id, review_date from days
                where day_n > 0 and sign(day_units * rest_n - rest_units * day_n) <> side
            )
            select flagged.row_id
            from trust_flagged as flagged
            join trust_reviews as reviews using (row_id)
            join against using (title_id, review_date)
            where flagged.test_index = $burst
        )
        """,
        {"burst": TEST_NAMES.index("burst")},
    )


def title_counts(con: duckdb.DuckDBPyConnection, settings: Settings, test_count: int) -> pl.DataFrame:
    """Per title and test (test_index < test_count) with enough tested rated reviews: the counts,
    rating sums and baseline of trust_title_tests.sql, with subset_u_twice (2·U of the subset's
    ratings against the rest's) and tie_sum (Σ (t³ - t) over the rating points), sorted by title and
    test. Reads trust_reviews and trust_members."""
    con.execute("create or replace temp table trust_rating_groups as\n"
                + read_model("trust/trust_rating_groups.sql"))
    # the titles left out of baselines (subsets.create_baseline_excluded): none unless made
    con.execute("create temp table if not exists trust_baseline_excluded "
                "(title_id varchar, test_index integer, other_title_id varchar)")
    counts = con.sql(read_model("trust/trust_title_tests.sql"),
                     params={"min_title_reviews": settings.trust.min_title_reviews,
                             "test_count": test_count}).pl()
    return (counts.join(rating_ranks(con, test_count), on=["title_id", "test_index"], how="left")
            .sort("title_id", "test_index"))


def rating_ranks(con: duckdb.DuckDBPyConnection, test_count: int) -> pl.DataFrame:
    """Per title of trust_rating_groups and test: title_id, test_index, subset_u_twice and tie_sum
    (stats.rank_counts) from each side's count per rating point."""
    groups = con.sql("select title_id, rating_units, tested_mask, picked_mask, n from trust_rating_groups "
                     "order by title_id, rating_units").pl()
    title_id = groups["title_id"]
    new_title = (title_id != title_id.shift(1)).fill_null(True).to_numpy()
    new_point = new_title | (groups["rating_units"] != groups["rating_units"].shift(1)).fill_null(True).to_numpy()
    # a point is a (title, rating) of the groups, sorted: its number for each group, its title's
    point = np.cumsum(new_point) - 1
    point_title = (np.cumsum(new_title) - 1)[new_point]
    titles = int(new_title.sum())
    tested_mask, picked_mask = groups["tested_mask"].to_numpy(), groups["picked_mask"].to_numpy()
    n = groups["n"].to_numpy().astype(np.float64)
    frames = []
    # a loop over the tests, not the rows: each a few numpy passes over the groups
    for i in range(test_count):
        seen = n * ((tested_mask >> i) & 1)
        picked = seen * ((picked_mask >> i) & 1)
        subset = np.bincount(point, weights=picked, minlength=point_title.size)
        rest = np.bincount(point, weights=seen - picked, minlength=point_title.size)
        u_twice, ties = stats.rank_counts(point_title, subset, rest, titles)
        frames.append(pl.DataFrame({"title_id": title_id.filter(pl.Series(new_title)),
                                    "test_index": pl.Series([i] * titles, dtype=pl.Int32),
                                    "subset_u_twice": u_twice, "tie_sum": ties}))
    schema = {"title_id": pl.String, "test_index": pl.Int32, "subset_u_twice": pl.Float64, "tie_sum": pl.Float64}
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def parameters_by_test(settings: Settings) -> dict[str, str]:
    """Per test, the parameters it runs with as agg_trust_tests.parameters shows them
    ("alpha=0.01;min_title_reviews=10;..."). incentivized names its pattern list by its length and
    the first 8 hex digits of its md5 (texts.disclosure_version, the one text_signatures keeps):
    "disclosure_patterns=15:1a2b3c4d", so that an edited list shows in the table."""
    trust = settings.trust
    common = ("alpha", "min_title_reviews", "min_subset_reviews", "min_share_ratio", "min_rating_effect",
              "dominant_share", "dominant_min_reviews")
    own = {
        "burst": ("burst_min_reviews", "burst_p", "burst_neighbourhood_days"),
        "copied_text": ("copy_similarity", "copy_min_words"),
        "repeated_phrases": ("phrase_words", "phrase_min_reviews", "phrase_p"),
        "rating_deviation": ("deviation_min_reviews", "deviation_threshold"),
        "review_ring": ("ring_days", "ring_min_reviewers", "ring_p", "ring_max_titles"),
    }
    named = {t.name: [f"{key}={_number(getattr(trust, key))}" for key in (*common, *own.get(t.name, ()))]
             for t in TESTS}
    patterns = trust.disclosure_patterns
    named["incentivized"].append(
        f"disclosure_patterns={len(patterns)}:{texts.disclosure_version(patterns)[:8]}")
    return {name: ";".join(pairs) for name, pairs in named.items()}


def _number(value: float) -> str:
    """value as short as reads back to the same double (2, 0.01, 1e-06): the data check
    agg_trust_tests_bounds reads the parameters back."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def title_tests(counts: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """agg_trust_tests' rows (TESTS_SCHEMA) from title_counts' counts, sums and U: the means, both
    questions' statistics, their Benjamini-Hochberg correction over every row, the verdicts; sorted
    by title and TESTS order."""
    trust = settings.trust
    n, x = counts["tested_reviews"].to_numpy().astype(float), counts["subset_reviews"].to_numpy().astype(float)
    rest = n - x
    s1 = counts["subset_units"].to_numpy().astype(float)
    r1 = counts["rest_units"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # means as metrics makes rating_mean: the exact sum in units over the count, times the unit
        subset_mean = np.where(x > 0, s1 / x * RATING_UNIT, np.nan)
        rest_mean = np.where(rest > 0, r1 / rest * RATING_UNIT, np.nan)
        u1 = counts["subset_u_twice"].to_numpy() / 2
        # the effect: the chance that a subset rating beats a rest rating, ties half
        auc = u1 / (x * rest)
    baseline = counts["baseline_share"].to_numpy().astype(float)
    z, rating_p = stats.mann_whitney(x, rest, u1, counts["tie_sum"].to_numpy())
    share_p = stats.benjamini_hochberg(stats.binomial_tail(x, n, baseline))
    rating_p = stats.benjamini_hochberg(rating_p)
    share = x / n
    diff = subset_mean - rest_mean
    verdict = stats.verdicts(
        share_p, share, baseline, x, rating_p, diff, counts["rating_span"].to_numpy().astype(float),
        alpha=trust.alpha, min_share_ratio=trust.min_share_ratio,
        min_subset_reviews=trust.min_subset_reviews, min_rating_effect=trust.min_rating_effect,
        dominant_share=trust.dominant_share, dominant_min_reviews=trust.dominant_min_reviews)
    order = {name: i for i, name in enumerate(TEST_NAMES)}
    parameters = parameters_by_test(settings)
    return (
        pl.DataFrame({
            "title_id": counts["title_id"],
            "test": counts["test_index"].replace_strict(dict(enumerate(TEST_NAMES)), return_dtype=pl.String),
            "tested_reviews": counts["tested_reviews"], "subset_reviews": counts["subset_reviews"],
            "subset_share": share, "baseline_share": baseline, "share_p_value": share_p,
            "subset_rating_mean": subset_mean, "rest_rating_mean": rest_mean, "rating_difference": diff,
            "rating_z": z, "rating_auc": auc, "rating_p_value": rating_p,
            "verdict": verdict,
        }, nan_to_null=True)
        .with_columns(parameters=pl.col("test").replace_strict(parameters, return_dtype=pl.String))
        .cast(TESTS_SCHEMA)
        .select(list(TESTS_SCHEMA))
        .sort("title_id", pl.col("test").replace_strict(order, return_dtype=pl.Int32))
    )


def title_trust(tests: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Per title with a row in `tests`: its worst verdict, its failing tests (TESTS order,
    comma-separated; null when none) and the mean rating of its rated reviews in no failing subset
    (`kept`: title_id, adjusted_review_count, rating_units), made as metrics makes rating_mean
    (TITLE_TRUST_SCHEMA), sorted by title."""
    rank = {"pass": 0, "warn": 1, "fail": 2}
    worst = (
        tests.group_by("title_id")
        .agg(
            pl.col("verdict").replace_strict(rank, return_dtype=pl.Int8).max().alias("_worst"),
            # `tests` is in TESTS order within a title, and Polars keeps the rows' order within a group
            pl.col("test").filter(pl.col("verdict") == "fail").str.join(",").alias("failed_tests"),
        )
        .with_columns(
            trust_verdict=pl.col("_worst").replace_strict({v: k for k, v in rank.items()}, return_dtype=pl.String),
            failed_tests=pl.when(pl.col("failed_tests") != "").then(pl.col("failed_tests")),
        )
    )
    return (
        worst.join(kept, on="title_id", how="left")
        .with_columns(adjusted_review_count=pl.col("adjusted_review_count").fill_null(0))
        .with_columns(adjusted_rating=mean_from_units("rating_units", "adjusted_review_count", RATING_UNIT))
        .cast(TITLE_TRUST_SCHEMA)
        .select(list(TITLE_TRUST_SCHEMA))
        .sort("title_id")
    )


__all__ = ["FLAGGED_SCHEMA", "TESTS", "TESTS_SCHEMA", "TEST_NAMES", "TITLE_TRUST_SCHEMA", "TRUST_FRAMES",
           "Test", "burst_sides", "empty_frames", "parameters_by_test", "rating_ranks", "title_counts", "title_tests", "title_trust",
           "trust_frames", "unflag_days_against"]
