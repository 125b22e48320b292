"""The reviews as the trust tests see them, with their reviewers' histories, kept in the warehouse
(update_kept_reviews), and the tests that need reviewers, dates and flags: which staged reviews
each picks (SQL over them, sql/trust/)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl

from reviewpipe.settings import Settings
from reviewpipe.trust import stats
from reviewpipe.warehouse import read_model, scalar, sql_literal, table_exists, transaction

# The frame of subset members: one row per review in a test's subset (as texts.MEMBERS_SCHEMA).
MEMBERS_SCHEMA = {"review_id": pl.String, "test": pl.String, "detail": pl.String}
# The tests of this module, each a model sql/trust/<name>.sql over trust_reviews.
SUBSET_TESTS = ("one_review_accounts", "single_day_reviewers", "burst", "unverified", "rating_deviation",
                "review_ring")


def create_trust_reviews(con: duckdb.DuckDBPyConnection, settings: Settings, tested: Sequence[str]) -> None:
    """Bring trust_reviews_kept up to date (update_kept_reviews) and create the temporary view
    trust_reviews over it: every staged review as the tests see it (sql/trust/trust_reviews.sql), one
    row per review, with tested_mask: bit i set when the SQL condition tested[i] holds (the tests
    that can see it)."""
    update_kept_reviews(con, settings)
    # the conditions are reviewpipe.trust.TESTS' own SQL, never configuration
    mask = " | ".join(f"(case when {cond} then {1 << i} else 0 end)" for i, cond in enumerate(tested)) or "0"
    con.execute(f"create or replace temp view trust_reviews as select *, ({mask})::bigint as tested_mask "
                "from trust_reviews_kept")


# The models trust_reviews_kept is made of, and the macros they call (reviewer_key): its version is
# theirs and [trust] anonymous_names.
_KEPT_MODELS = ("trust/trust_review_rows.sql", "trust/trust_reviewer_history.sql", "trust/trust_reviews.sql",
                "schema/macros.sql")


def update_kept_reviews(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """Make trust_reviews_kept hold every staged review as the tests see it, with its reviewer's
    history (sql/trust/trust_reviews.sql), in one transaction; "whole" or "touched": how.

    The review ids staging touched since (trust_pending, written with publish_pending: a null is
    every review) are made again alone, and the histories of the reviewers they had and have now:
    a run of new reviews reads theirs and their reviewers', not the whole warehouse (0.8 s of the
    1% bench run). Whole when the models, the macros or [trust] anonymous_names changed (staging_state's
    'trust_reviews'), staging was rebuilt whole, or the kept rows are not as many as the staged
    reviews (a count, the one check that costs nothing: kept rows out of step are made again).
    row_id and reviewer_no stay a review's and a reviewer's (new ones numbered on)."""
    anonymous = "[" + ", ".join(sql_literal(name) for name in settings.trust.anonymous_names) + "]::varchar[]"
    version = hashlib.md5(json.dumps([*(read_model(m) for m in _KEPT_MODELS), anonymous]).encode()).hexdigest()
    # the per-review model as a view (a view takes no bind parameter: the names are quoted in)
    con.execute("create or replace temp view trust_review_rows as\n"
                + read_model("trust/trust_review_rows.sql").replace("$anonymous", anonymous))
    with transaction(con):
        whole = (
            scalar(con, "select version from staging_state where model = 'trust_reviews'") != version
            or not table_exists(con, "trust_reviews_kept")
            or scalar(con, "select count(*) filter (where review_id is null) from trust_pending") > 0
        )
        if not whole:
            _update_touched(con)
            whole = scalar(con, "select count(*) from trust_reviews_kept") != scalar(
                con, "select count(*) from stg_reviews")
        if whole:
            # the models as one query: every staged review read once (a materialized CTE), for the
            # rows and the histories, and numbered there (1.0 s at 1,000,000 bench reviews; through
            # views reading them twice, 1.9 s; numbered after the join, 1.9-2.2 s)
            con.execute(
                "create or replace table trust_reviews_kept as\n"
                "with trust_history_rows as materialized (\n"
                "    select row_number() over () as row_id, * from trust_review_rows),\n"
                f"trust_reviewer_history as (\n{read_model('trust/trust_reviewer_history.sql')}\n)\n"
                f"select * from (\n{read_model('trust/trust_reviews.sql')}\n)")
        con.execute("delete from trust_pending")
        con.execute("insert or replace into staging_state values ('trust_reviews', ?)", [version])
    return "whole" if whole else "touched"


def forget_kept_reviews(con: duckdb.DuckDBPyConnection) -> None:
    """With the tests off: drop trust_reviews_kept and empty trust_pending (staging goes on noting
    the touched ids), so that nothing is kept for them and the next run with them builds whole."""
    with transaction(con):
        con.execute("drop table if exists trust_reviews_kept")
        con.execute("delete from trust_pending")
        con.execute("delete from staging_state where model = 'trust_reviews'")


def _update_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Make the rows of trust_pending's review ids again in trust_reviews_kept (none when no longer
    staged), then the histories and numbers of the reviewers they had and have."""
    con.execute("create or replace temp table _trust_touched as select distinct review_id from trust_pending")
    con.execute("""
        create or replace temp table _trust_affected as
        select distinct reviewer from trust_reviews_kept
        where reviewer is not null and review_id in (select review_id from _trust_touched)
    """)
    con.execute("delete from trust_reviews_kept where review_id in (select review_id from _trust_touched)")
    con.execute("""
        insert into trust_reviews_kept by name
        select rows.*,
               (select coalesce(max(row_id), 0) from trust_reviews_kept)
                   + row_number() over (order by rows.review_id) as row_id
        from trust_review_rows as rows
        where rows.review_id in (select review_id from _trust_touched)
    """)
    con.execute("""
        insert into _trust_affected
        select distinct reviewer from trust_review_rows
        where reviewer is not null and review_id in (select review_id from _trust_touched)
    """)
    # the affected reviewers' histories from their kept rows; a new reviewer numbered on
    con.execute("""
        create or replace temp view trust_history_rows as
        select * from trust_reviews_kept where reviewer in (select reviewer from _trust_affected)
    """)
    con.execute("""
        create or replace temp table _trust_histories as
        with history as (
""" + read_model("trust/trust_reviewer_history.sql") + """
        ),
        numbers as (
            select reviewer, min(reviewer_no) as reviewer_no from trust_history_rows group by reviewer
        )
        select history.*,
               coalesce(numbers.reviewer_no,
                        (select coalesce(max(reviewer_no), 0) from trust_reviews_kept)
                        + row_number() over (partition by numbers.reviewer_no is null order by history.reviewer))
                   as reviewer_no
        from history
        join numbers using (reviewer)
    """)
    con.execute("""
        update trust_reviews_kept as kept
        set reviewer_no = h.reviewer_no, reviewer_rated = h.reviewer_rated,
            has_one_writing = h.has_one_writing, is_one_day = h.is_one_day
        from _trust_histories as h
        where kept.reviewer = h.reviewer
    """)
    for table in ("_trust_touched", "_trust_affected", "_trust_histories"):
        con.execute(f"drop table {table}")
    con.execute("drop view temp.main.trust_history_rows")


def burst_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """Per title and day: the days with at least burst_min_reviews reviews that both the title's
    own daily rate and the days around it make less likely than burst_p: title_id, review_date,
    day_reviews, daily_rate (the rate the day is judged against), day_p. Needs trust_reviews.

    The expected count is the larger of the title's whole-life rate and the mean of its days within
    burst_neighbourhood_days (sql/trust/burst_days.sql: the day and the days next to it left out);
    when those days' counts vary more than their mean (a release fortnight: opening days of 80
    among days of 20), the count is negative binomial with their variance, else Poisson. Reviews
    come in waves (a film's release, a product's launch, news): a day is a burst when it stands out
    of its own fortnight, not only of the title's whole life, and a wave's peak is not a campaign."""
    trust = settings.trust
    days = con.sql(read_model("trust/burst_days.sql"),
                   params={"burst_min_reviews": trust.burst_min_reviews,
                           "burst_neighbourhood_days": trust.burst_neighbourhood_days}).pl()
    count = days["day_reviews"].to_numpy()
    mean = np.maximum(days["daily_rate"].to_numpy(), days["near_mean"].to_numpy())
    variance = np.maximum(days["near_variance"].to_numpy(), mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        # negative binomial of that mean and variance: n = mean² / (variance - mean), p = mean / variance
        spread = stats.negative_binomial_tail(count, mean * mean / (variance - mean), mean / variance)
    tail = np.where(variance > mean, spread, stats.poisson_tail(count, mean))
    return days.select(
        "title_id", "review_date", "day_reviews",
        daily_rate=pl.Series(mean, dtype=pl.Float64), day_p=pl.Series(tail, dtype=pl.Float64),
    ).filter(pl.col("day_p") < trust.burst_p)


def ring_pairs(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """The ring pairs: per pair of titles and windows with at least ring_min_reviewers co-reviewers
    (sql/trust/ring_pairs.sql), those whose count independence makes less likely than ring_p
    (Poisson tail P(X >= c)): title_a, window_a, title_b, window_b, co_reviewers, expected, pair_p.
    Needs trust_ring_titles."""
    trust = settings.trust
    pairs = con.sql(read_model("trust/ring_pairs.sql"),
                    params=_ring_params(settings, "ring_days", "ring_min_reviewers")).pl()
    tail = stats.poisson_tail(pairs["co_reviewers"].to_numpy(), pairs["expected"].to_numpy())
    return pairs.with_columns(pair_p=pl.Series(tail, dtype=pl.Float64)).filter(pl.col("pair_p") < trust.ring_p)


def _ring_params(settings: Settings, *names: str) -> dict[str, int]:
    """The [trust] ring_ settings the ring models bind, by name (all when none named)."""
    trust = settings.trust
    params = {"ring_days": trust.ring_days, "ring_min_reviewers": trust.ring_min_reviewers,
              "ring_max_titles": trust.ring_max_titles}
    return {k: v for k, v in params.items() if not names or k in names}


def create_members(con: duckdb.DuckDBPyConnection, settings: Settings, tests: Sequence[str]) -> None:
    """Create the temporary table trust_members (row_id of trust_reviews, test_index: the test's
    place in `tests`, detail) with the subsets of SUBSET_TESTS; needs trust_reviews. Kept in DuckDB:
    at a million reviews a third of them are one-review accounts."""
    trust = settings.trust
    params = {"rating_deviation": {"deviation_min_reviews": trust.deviation_min_reviews,
                                   "deviation_threshold": trust.deviation_threshold},
              "review_ring": _ring_params(settings, "ring_days")}
    con.execute("create or replace temp table trust_members "
                "(row_id bigint not null, test_index integer not null, detail varchar)")
    con.register("trust_burst_days", burst_days(con, settings))
    # review_ring: each reviewer's titles, read by both of its models
    con.execute(f"create or replace temp table trust_ring_titles as\n{read_model('trust/ring_titles.sql')}",
                _ring_params(settings, "ring_days", "ring_max_titles"))
    con.register("trust_ring_pairs", ring_pairs(con, settings))
    try:
        for name in SUBSET_TESTS:
            query = read_model(f"trust/{name}.sql")
            con.execute(f"insert into trust_members select row_id, {tests.index(name)}, detail from (\n{query}\n)",
                        params.get(name))
    finally:
        con.unregister("trust_burst_days")
        con.unregister("trust_ring_pairs")
    create_baseline_excluded(con, tests)


def create_baseline_excluded(con: duckdb.DuckDBPyConnection, tests: Sequence[str]) -> None:
    """Create the temporary table trust_baseline_excluded (title_id, test_index, other_title_id):
    the titles left out of a title's baseline for a test, read by trust_title_tests.sql. Today
    review_ring's: a ring title's other ring titles (sql/trust/ring_baseline_excluded.sql). Needs
    trust_members with SUBSET_TESTS' subsets."""
    con.execute("create or replace temp table trust_baseline_excluded as\n"
                + read_model("trust/ring_baseline_excluded.sql"),
                {"ring_test_index": tests.index("review_ring")})


def add_members(con: duckdb.DuckDBPyConnection, members: pl.DataFrame, tests: Sequence[str]) -> None:
    """Add to trust_members the subsets of another module (`members`: review_id, test, detail, as
    MEMBERS_SCHEMA), by review_id."""
    con.register("trust_more_members", members.with_columns(
        test_index=pl.col("test").replace_strict({t: i for i, t in enumerate(tests)}, return_dtype=pl.Int32)))
    try:
        con.execute("insert into trust_members select reviews.row_id, more.test_index, more.detail "
                    "from trust_more_members as more join trust_reviews as reviews using (review_id)")
    finally:
        con.unregister("trust_more_members")


def members_frame(con: duckdb.DuckDBPyConnection, tests: Sequence[str]) -> pl.DataFrame:
    """trust_members as MEMBERS_SCHEMA (review_id, test, detail), sorted."""
    return con.sql(
        "select reviews.review_id, members.test_index, members.detail "
        "from trust_members as members join trust_reviews as reviews using (row_id)"
    ).pl().select(
        "review_id", pl.col("test_index").replace_strict(dict(enumerate(tests)), return_dtype=pl.String).alias("test"),
        "detail",
    ).sort(pl.all())
