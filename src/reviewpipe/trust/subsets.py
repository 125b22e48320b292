"""The trust tests that need reviewers, dates and flags: which staged reviews each picks (SQL over
stg_reviews, sql/trust/)."""

from __future__ import annotations

import duckdb
import polars as pl
from scipy import stats as sps

from reviewpipe.settings import Settings
from reviewpipe.warehouse import read_model

# The frame of subset members: one row per review in a test's subset (as texts.MEMBERS_SCHEMA).
MEMBERS_SCHEMA = {"review_id": pl.String, "test": pl.String, "detail": pl.String}
# The tests of this module, each a model sql/trust/<name>.sql over trust_reviews.
SUBSET_TESTS = ("one_review_accounts", "single_day_reviewers", "burst", "unverified", "rating_deviation")


def create_trust_reviews(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Create the temporary table trust_reviews (sql/trust/trust_reviews.sql): every staged review
    as the tests see it, one row per review."""
    con.execute(f"create or replace temp table trust_reviews as\n{read_model('trust/trust_reviews.sql')}",
                {"anonymous": list(settings.trust.anonymous_names)})


def burst_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """Per title and day: the days with at least burst_min_reviews reviews that the title's own
    daily rate makes less likely than burst_p (Poisson tail P(X >= c)): title_id, review_date,
    day_reviews, daily_rate, day_p."""
    days = con.sql(read_model("trust/burst_days.sql"),
                   params={"burst_min_reviews": settings.trust.burst_min_reviews}).pl()
    tail = sps.poisson.sf(days["day_reviews"].to_numpy() - 1, days["daily_rate"].to_numpy())
    return days.with_columns(day_p=pl.Series(tail, dtype=pl.Float64)).filter(
        pl.col("day_p") < settings.trust.burst_p)


def subset_members(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """The reviews in the subsets of SUBSET_TESTS (MEMBERS_SCHEMA); needs create_trust_reviews."""
    trust = settings.trust
    params = {
        "one_review_accounts": {},
        "single_day_reviewers": {},
        "burst": {},
        "unverified": {},
        "rating_deviation": {"deviation_min_reviews": trust.deviation_min_reviews,
                             "deviation_threshold": trust.deviation_threshold},
    }
    con.register("trust_burst_days", burst_days(con, settings))
    try:
        frames = [con.sql(read_model(f"trust/{name}.sql"), params=params[name] or None).pl()
                  for name in SUBSET_TESTS]
    finally:
        con.unregister("trust_burst_days")
    return pl.concat([f.cast(MEMBERS_SCHEMA) for f in frames]) if frames else pl.DataFrame(schema=MEMBERS_SCHEMA)
