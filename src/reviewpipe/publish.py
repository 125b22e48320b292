"""Publish: build the reports database as a new file, check it, swap it in atomically; export CSVs.

Readers of the published file are never blocked and never see a half-made state: the new file is
written beside the old one under a temporary name, every data check in sql/checks must pass, and only
then does `os.replace` put it in place (an atomic rename on POSIX). A reader that had the old file open
keeps reading the old file; the next reader opens the new one. A failed run leaves the old file as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.warehouse import connect, read_model, rows, scalar, sql_dir

PUBLISHED_TABLES = (
    "titles",
    "reviews",
    "agg_title_summary",
    "agg_rating_distribution",
    "agg_top_helpful_reviews",
    "agg_sentiment_agreement",
    "agg_rating_sentiment_mismatches",
    "agg_helpfulness",
    "agg_monthly_trends",
    "quarantine",
    "load_log",
)
# The frames each published model reads, registered under these names.
METRIC_FRAMES = (
    "metric_titles",
    "metric_reviews",
    "metric_title_summary",
    "metric_comparable_ratings",
    "metric_rating_shape",
    "metric_rating_distribution",
    "metric_top_helpful_reviews",
    "metric_sentiment_agreement",
    "metric_rating_sentiment_mismatches",
    "metric_helpfulness",
    "metric_monthly_trends",
)


class CheckFailed(ReviewpipeError):
    """A data check in sql/checks returned rows: the new tables are wrong and were not published."""


def sql_literal(path: Path) -> str:
    """path as a quoted SQL string literal (ATTACH and COPY take no bind parameters for paths)."""
    return "'" + str(path).replace("'", "''") + "'"


def publish(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pl.DataFrame],
    published: Path,
    run_id: str,
    table_notes: dict[str, str] | None = None,
) -> dict[str, int]:
    """Build every published table into a new file, run the checks, swap it in; row counts per table.

    `con` is the warehouse connection (for stg_ and quarantine tables); `frames` maps each name in
    METRIC_FRAMES to its frame; `table_notes` are appended to those tables' comments (e.g. the
    parameters a run used).
    """
    missing = sorted(set(METRIC_FRAMES) - set(frames))
    if missing:
        raise ValueError(f"publish needs the frames {missing}")
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{run_id}.tmp")
    tmp.unlink(missing_ok=True)
    home = scalar(con, "select current_database()")
    for name in METRIC_FRAMES:
        con.register(name, frames[name])
    con.execute(f"attach {sql_literal(tmp)} as pub")
    try:
        for table in PUBLISHED_TABLES:
            con.execute(f"create table pub.{table} as\n{read_model(f'published/{table}.sql')}")
        con.execute("use pub")
        con.execute(read_model("published/comments.sql"))
        for table, note in (table_notes or {}).items():
            comment = scalar(
                con,
                "select comment from duckdb_tables() where database_name = 'pub' and table_name = ?",
                [table],
            )
            text = f"{comment or ''} {note}".strip().replace("'", "''")
            con.execute(f"comment on table {table} is '{text}'")
        run_checks(con)
        counts = {t: scalar(con, f"select count(*) from {t}") for t in PUBLISHED_TABLES}
        con.execute(f"use {home}")
        con.execute("checkpoint pub")
        con.execute("detach pub")
    except BaseException:
        con.execute(f"use {home}")
        if scalar(con, "select count(*) from duckdb_databases() where database_name = 'pub'"):
            con.execute("detach pub")
        tmp.unlink(missing_ok=True)
        raise
    finally:
        for name in METRIC_FRAMES:
            con.unregister(name)
    _fsync(tmp)
    os.replace(tmp, published)
    _fsync(published.parent)
    return counts


def run_checks(con: duckdb.DuckDBPyConnection) -> None:
    """Run every query in sql/checks against the current database; raise CheckFailed if one returns rows."""
    for check in sorted((sql_dir() / "checks").glob("*.sql")):
        offending = rows(con, check.read_text(encoding="utf-8") + "\nlimit 5")
        if offending:
            raise CheckFailed(
                f"data check {check.stem} failed (sql/checks/{check.name}); first offending rows: "
                f"{offending}. Nothing was published; the previous reports database is unchanged."
            )


def export_tables(published: Path, out_dir: Path, tables: list[str] | None = None) -> list[Path]:
    """Write each published agg_ table (or the named tables) to out_dir/<table>.csv; the files written.

    Each file is written under a temporary name and renamed into place, so a colleague opening the CSV
    never gets half a file.
    """
    if not published.exists():
        raise ReviewpipeError(f"no published database at {published}; run `reviewpipe run` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    con = connect()
    try:
        con.execute(f"attach {sql_literal(published)} as pub (read_only)")
        available = [
            r[0]
            for r in rows(
                con,
                "select table_name from duckdb_tables() where database_name = 'pub' order by 1",
            )
        ]
        wanted = tables or [t for t in available if t.startswith("agg_")]
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise ReviewpipeError(
                f"no published table named {', '.join(unknown)}; published tables: {', '.join(available)}"
            )
        written = []
        for table in wanted:
            target = out_dir / f"{table}.csv"
            tmp = out_dir / f".{table}.csv.tmp"
            con.execute(
                f"copy (select * from pub.{table}) to {sql_literal(tmp)} (header, delimiter ',')"
            )
            os.replace(tmp, target)
            written.append(target)
        return written
    finally:
        con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
