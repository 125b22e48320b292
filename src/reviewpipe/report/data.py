"""The report's data: the small frames the page shows, read from the published database by the
queries of sql/report/ (the aggregation happens in DuckDB, so the page's size does not grow with
the number of reviews)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.publish import published_connection
from reviewpipe.settings import ANONYMOUS_NAMES
from reviewpipe.trust import TEST_NAMES
from reviewpipe.warehouse import read_model

# The terms section's titles: the first of each leaderboard.
TERM_TITLES = 10
# Rows of the review tables (helpful: per source).
HELPFUL_ROWS = 10
MISMATCH_ROWS = 25
# Titles drawn in the monthly trends of each source (by dated reviews), a row of panels each.
TREND_TITLES = 6
# A leaderboard, its histograms and a source's trends hold one group: titles of one source on one
# scale (a title belongs to the source holding most of its reviews).
GROUP_KEY = ["source", "rating_kind", "rating_min", "rating_step", "rating_scale"]
# ReportData's frames, each the rows of sql/report/<name>.sql
FRAMES = ("leaderboard", "distribution", "sentiment_by_rating", "monthly", "monthly_totals",
          "helpful", "mismatches")
# What the report shows of each review it quotes, from `reviews` (sql/report/quoted_reviews.sql).
_QUOTING = {
    "helpful": ["author", "review_title", "review_date", "rating", "rating_scale", "review_text"],
    "mismatches": ["source", "review_text"],
}
# Flagged reviews listed per failing title in the trust section, and what it shows of each.
FLAGGED_ROWS = 5
_QUOTED_FLAGGED = ["author", "reviewer_id", "review_title", "review_date", "rating", "rating_scale",
                   "review_text"]
# The trust section's frames, each the rows of sql/report/trust_<name>.sql
TRUST_FRAMES = ("titles", "tests", "flagged", "inputs")
# Appended to quoted_reviews.sql once per quoted review: why a chain of conditions and not an IN
# list or a join is in that file; the values are bound, never pasted.
_QUOTED_REVIEW = " or (title_id = ? and review_id = ?)"


@dataclass(frozen=True)
class TrustData:
    """The trust section's rows: its header counts (sql/report/trust_counts.sql), the leaderboards'
    titles with their verdicts, their tests (agg_trust_tests), the flagged reviews to read first
    with what the page quotes of them, and what each source's reviews give the tests."""

    counts: dict[str, int] = field(default_factory=dict)
    titles: pl.DataFrame = field(default_factory=pl.DataFrame)
    tests: pl.DataFrame = field(default_factory=pl.DataFrame)
    flagged: pl.DataFrame = field(default_factory=pl.DataFrame)
    inputs: pl.DataFrame = field(default_factory=pl.DataFrame)
    enabled: bool = True  # [trust] enabled: false, no test ran


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read from one published database; frames are small by design."""

    generated_at: datetime
    counts: dict[str, int]
    leaderboard: pl.DataFrame
    distribution: pl.DataFrame
    sentiment_by_rating: pl.DataFrame
    monthly: pl.DataFrame
    monthly_totals: pl.DataFrame
    helpful: pl.DataFrame
    mismatches: pl.DataFrame
    max_titles: int = 50
    # what sentiment covers, from the settings of the run ([sentiment], [report]): the page says it
    languages: tuple[str, ...] = ("en",)
    score_undetermined: bool = True
    min_scored_share: float = 0.8
    trust: TrustData = field(default_factory=TrustData)
    # the terms section's rows (sql/report/title_terms.sql); terms_enabled: [terms] enabled
    terms: pl.DataFrame = field(default_factory=pl.DataFrame)
    terms_enabled: bool = True


def rank_titles(con: duckdb.DuckDBPyConnection, max_titles: int, min_scored_share: float = 0.8) -> None:
    """Build the temporary tables title_sources, title_languages and leaderboard_titles, which the
    frames read."""
    for table, params in (("title_sources", {}),
                          ("title_languages", {"min_scored_share": min_scored_share}),
                          ("leaderboard_titles", {"max_titles": max_titles})):
        con.execute(f"create or replace temp table {table} as\n" + read_model(f"report/{table}.sql"),
                    params)


def report_frame(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, int]) -> pl.DataFrame:
    """The rows of sql/report/<name>.sql, given those of params it names."""
    sql = read_model(f"report/{name}.sql")
    return con.sql(sql, params={k: v for k, v in params.items() if f"${k}" in sql}).pl()


def _quoted(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, columns: list[str], *,
            keep_id: bool = False) -> pl.DataFrame:
    """frame's reviews with columns of each from `reviews`, in frame's order, without review_id
    unless keep_id."""
    keys = frame.select("title_id", "review_id").rows()
    quoted = con.sql(read_model("report/quoted_reviews.sql") + _QUOTED_REVIEW * len(keys),
                     params=[v for key in keys for v in key]).pl()
    return frame.join(
        quoted.select("title_id", "review_id", *columns), on=["title_id", "review_id"], how="left",
        maintain_order="left",
    ).drop([] if keep_id else ["review_id"])


def read_trust_data(con: duckdb.DuckDBPyConnection, anonymous_names: Sequence[str], enabled: bool = True
                    ) -> TrustData:
    """The trust section's rows, read through con once rank_titles has built leaderboard_titles;
    anonymous_names and enabled are the run's [trust] anonymous_names (reviews under them name
    nobody) and enabled."""
    params = {"tests": list(TEST_NAMES), "flagged_rows": FLAGGED_ROWS,
              "anonymous": [name.strip().lower() for name in anonymous_names]}
    frames = {name: report_frame(con, f"trust_{name}", params) for name in TRUST_FRAMES}
    frames["flagged"] = _quoted(con, frames["flagged"], _QUOTED_FLAGGED, keep_id=True)
    counts = report_frame(con, "trust_counts", {}).row(0, named=True)
    return TrustData(counts={k: int(v) for k, v in counts.items()}, enabled=enabled, **frames)


def read_report_data(
    published: Path, max_titles: int, *, generated_at: datetime, languages: Sequence[str] = ("en",),
    score_undetermined: bool = True, min_scored_share: float = 0.8,
    anonymous_names: Sequence[str] = ANONYMOUS_NAMES, trust_enabled: bool = True, terms_enabled: bool = True,
) -> ReportData:
    """The frames the report shows, read from the published database opened read-only; languages,
    score_undetermined and min_scored_share are the run's settings, which the page states, and
    anonymous_names and trust_enabled its [trust] anonymous_names and enabled, terms_enabled its
    [terms] enabled."""
    params = {
        "max_titles": max_titles,
        "trend_titles": TREND_TITLES,
        "helpful_rows": HELPFUL_ROWS,
        "mismatch_rows": MISMATCH_ROWS,
    }
    # Only the fixed queries of sql/report/ run here, so external access stays as it is: turning it
    # off would turn it off for every connection of this process to the file (DuckDB shares one
    # instance per file), such as the run's export, which writes its CSVs while this reads.
    with published_connection(published) as con:
        try:
            rank_titles(con, max_titles, min_scored_share)
            frames = {name: report_frame(con, name, params) for name in FRAMES}
            for name, columns in _QUOTING.items():
                frames[name] = _quoted(con, frames[name], columns)
            counts_frame = report_frame(con, "counts", {})
            trust = read_trust_data(con, anonymous_names, trust_enabled)
            terms = report_frame(con, "title_terms", {"term_titles": TERM_TITLES})
        except duckdb.CatalogException as exc:
            raise ReviewpipeError(
                f"{published} lacks a table or column the report needs "
                f"({str(exc).splitlines()[0]}); it was published by another version of "
                "reviewpipe: run `reviewpipe run` to rebuild it"
            ) from exc
    counts = {k: int(v) for k, v in counts_frame.row(0, named=True).items()}
    return ReportData(
        generated_at=generated_at.replace(microsecond=0),
        counts=counts,
        max_titles=max_titles,
        languages=tuple(languages),
        score_undetermined=score_undetermined,
        min_scored_share=min_scored_share,
        trust=trust,
        terms=terms,
        terms_enabled=terms_enabled,
        **frames,
    )
