"""Publish: build the reports database as a new file, check it, swap it in atomically; export CSVs.

Readers of the published file are never blocked and never see a half-made state: the new file is
written beside the old one under a temporary name, every data check in sql/checks must pass, the
exports are written from it (a run never opens the live published file with DuckDB, at most it
copies its bytes, so an analyst holding that open, even for writing, cannot make a run fail), and
only then does `go_live` put the database, the exports and the report in place, all or nothing
(each an atomic rename on POSIX, the old files kept as hard links under a journal until the run is
logged). A reader that had the old file open keeps reading the old file; the next reader opens the
new one. A failed run leaves the old files as they were.

A run that changed few reviews builds the new file from a copy of the live one (`build` with `delta`):
only those reviews' rows of `reviews`, and the rows of their titles in the per-title tables, are
replaced and the other, small, tables rebuilt, instead of writing every review's text again. Texts
are stored ZSTD-compressed (a quarter of their size), which also makes that copy cheap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from reviewpipe import hooks, schema
from reviewpipe.errors import ReviewpipeError
from reviewpipe.files import atomic_write, fsync_path
from reviewpipe.schema import PUBLISHED_TABLES, STORED_ORDER
from reviewpipe.settings import SqlSettings
from reviewpipe.warehouse import (
    quote_identifier,
    read_model,
    rows,
    scalar,
    sql_dir,
    sql_literal,
    transaction,
)

log = logging.getLogger(__name__)

# The tables whose rows each belong to one title and depend on its reviews alone (the rows of
# agg_sentiment_agreement without a title, its overall rows, are replaced with the changed titles'),
# with the order their models give. In a copy, the changed titles' rows are replaced at the end of
# the table: the exports write them in this order.
PER_TITLE_TABLES = {
    "agg_rating_distribution": "title_id, rating",
    "agg_top_helpful_reviews": "title_id, ranked_by, rank",
    "agg_sentiment_agreement": "scope desc, title_id, rating_scale",
    "agg_helpfulness": "title_id",
    "agg_monthly_trends": "title_id, month",
    "agg_title_languages": "title_id, review_count desc, review_language",
}
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
    "metric_title_languages",
    # the trust tests' frames (reviewpipe.trust), always of the whole warehouse
    "metric_trust_tests",
    "metric_trust_flagged",
    "metric_title_trust",
    # the distinctive terms (reviewpipe.terms), always of the whole warehouse
    "metric_title_terms",
)


# DuckDB compresses a text column with ZSTD only when its strings average 4,096 characters or more;
# reviews are much shorter, which it stores uncompressed (several times the size of the file with
# ZSTD, which writes it no slower).
ZSTD_MIN_STRING_LENGTH = 64


class CheckFailed(ReviewpipeError):
    """A data check in sql/checks returned rows: the new tables are wrong and were not published."""


def build(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pl.DataFrame],
    new_db: Path,
    table_notes: dict[str, str] | None = None,
    *,
    delta: bool = False,
) -> dict[str, int]:
    """Build every published table into the new file new_db and run the checks; rows per table.

    `con` is the warehouse connection (for stg_ and quarantine tables); `frames` maps each name in
    METRIC_FRAMES to its frame; `table_notes` are appended to those tables' comments (e.g. the
    parameters a run used). With `delta`, new_db is already a copy of the live published database
    (`copy_if_unchanged`, built from the same settings and code) and only the reviews in the
    warehouse's publish_pending are replaced in `reviews`; when `frames` has "touched_titles", the
    metric frames of PER_TITLE_TABLES hold those titles' rows alone (stages.metrics_stage), which
    replace theirs in the copy. Every other table is rebuilt whole.
    Nobody else knows new_db yet: `go_live` puts it in place.
    """
    missing = sorted(set(METRIC_FRAMES) - set(frames))
    if missing:
        raise ValueError(f"publish needs the frames {missing}")
    by_title = "touched_titles" in frames
    if by_title and not delta:
        raise ValueError("frames of the touched titles alone need a copy of the live database (delta)")
    new_db.parent.mkdir(parents=True, exist_ok=True)
    if not delta:
        new_db.unlink(missing_ok=True)
    home = scalar(con, "select current_database()")
    names = [*METRIC_FRAMES, "touched_titles"] if by_title else METRIC_FRAMES
    for name in names:
        con.register(name, frames[name])
    con.execute(f"set zstd_min_string_length = {ZSTD_MIN_STRING_LENGTH}")
    con.execute(f"attach {sql_literal(new_db)} as pub")
    try:
        for table in PUBLISHED_TABLES:
            model = read_model(f"published/{table}.sql")
            if delta and table == "reviews":
                _replace_pending_reviews(con, model)
            elif by_title and table in PER_TITLE_TABLES:
                con.execute(f"delete from pub.{table} "
                            "where title_id in (select title_id from touched_titles) or title_id is null")
                con.execute(f"insert into pub.{table} by name\n{model}")
            else:
                if table in STORED_ORDER:
                    model = f"select * from (\n{model}\n) order by {STORED_ORDER[table]}"
                con.execute(f"create or replace table pub.{table} as\n{model}")
        con.execute("use pub")
        # one transaction: 279 statements each committing alone took 107 ms, together 47-70 ms
        with transaction(con):
            con.execute(schema.comment_statements())
        for table, note in (table_notes or {}).items():
            comment = scalar(
                con,
                "select comment from duckdb_tables() where database_name = 'pub' and table_name = ?",
                [table],
            )
            text = f"{comment or ''} {note}".strip()
            con.execute(f"comment on table {table} is {sql_literal(text)}")
        run_checks(con)
        counts = {t: scalar(con, f"select count(*) from {t}") for t in PUBLISHED_TABLES}
        con.execute(f"use {home}")
        con.execute("checkpoint pub")
        con.execute("detach pub")
    except BaseException:
        con.execute(f"use {home}")
        if scalar(con, "select count(*) from duckdb_databases() where database_name = 'pub'"):
            con.execute("detach pub")
        new_db.unlink(missing_ok=True)
        raise
    finally:
        con.execute("reset zstd_min_string_length")
        for name in names:
            con.unregister(name)
    return counts


def file_signature(path: Path) -> str:
    """Size, modification and change times and inode: what changes when anything writes, replaces
    or touches the file (a change time cannot be set back, so an edit that restores the modification
    time shows too)."""
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def file_digest(path: Path) -> str:
    """The sha256 of the file's bytes, in hex."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def digest_ahead(path: Path) -> Future[str]:
    """file_digest(path), taken on a thread of its own: for a file nothing writes any more, whose
    digest go_live needs later (hashlib lets go of the GIL). A run's new database (472 MB at
    1,000,000 bench reviews, 0.3 s to hash) is hashed while its exports and report are written."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="reviewpipe-digest")
    try:
        return pool.submit(file_digest, path)
    finally:
        pool.shutdown(wait=False)  # (the thread ends with its work)


def wal_path(database: Path) -> Path:
    """Where DuckDB keeps the write-ahead log of database: writes wait there until a checkpoint."""
    return database.with_name(database.name + ".wal")


def copy_if_unchanged(live: Path, new_db: Path, signature: str) -> bool:
    """Copy the live published database to new_db if its signature is `signature` before and after
    the copy (nothing wrote to it since it went live, nor while it was copied) and no write-ahead log
    lies beside it (a session wrote to it without a checkpoint: the file alone is not what readers
    see); whether it did."""
    if file_signature(live) != signature or wal_path(live).exists():
        return False
    new_db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(live, new_db)
    with new_db.open("rb") as copied:  # on disk now, so the build's checkpoint writes only its own
        os.fsync(copied.fileno())
    if file_signature(live) != signature or wal_path(live).exists():
        new_db.unlink()
        return False
    return True


def _replace_pending_reviews(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """In the copied `reviews`, replace the rows of the review ids in publish_pending by the model's."""
    pending = "select review_id from publish_pending"
    con.execute(f"delete from pub.reviews where review_id in ({pending})")
    con.execute(
        f"insert into pub.reviews by name select * from (\n{model}\n) where review_id in ({pending}) "
        f"order by {STORED_ORDER['reviews']}"
    )


def go_live(moves: list[tuple[Path | None, Path]], journal: Path | None = None,
            tag: str = "tmp", digests: Mapping[Path, Future[str]] | None = None) -> list[Path]:
    """Put each finished temporary file in place over its final name, all or nothing; the final paths
    of the files put in place.

    A move (None, final) takes final away (a stale write-ahead log). Before anything changes, every
    move is checked possible (a ReviewpipeError names the path in the way otherwise), each new
    file's sha256 is taken, each old file is kept as a hard link `.<name>.<tag>.bak` beside it, and
    all of it is written to `journal` (when given). Then each rename is atomic: a reader that opens a
    final name gets the old whole file or the new whole file, and one that has the old file open
    keeps reading it. A failure in the middle puts every old file back before it is raised; after
    a kill, `roll_back(journal)` does; `finish(journal)` drops the backups once the run is logged.
    `digests`: the sha256 of temporary files, taken ahead (digest_ahead) since they were last written.
    """
    entries = _plan(moves, tag, digests or {})
    if journal is not None:
        _write_journal(journal, entries)
    try:
        for entry in entries:
            if entry["backup"]:
                backup = Path(entry["backup"])
                backup.unlink(missing_ok=True)  # left by a killed export_tables (no journal)
                os.link(entry["final"], backup)
        for folder in _folders(entries):
            fsync_path(folder)
        paused = False
        for entry in entries:
            final = Path(entry["final"])
            if entry["tmp"] is None:
                final.unlink(missing_ok=True)
                continue
            os.replace(entry["tmp"], final)
            if not paused:  # tests/test_crash.py kills a run here: the database live, the rest not
                hooks.pause("go-live")
                paused = True
        for folder in _folders(entries):
            fsync_path(folder)
    except BaseException as exc:
        _restore(entries)
        if journal is not None:
            journal.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ReviewpipeError(
                f"could not put {exc.filename or 'the new outputs'} in place: {exc.strerror}. Nothing "
                "was published (the previous outputs are back as they were); fix that and run again."
            ) from exc
        raise
    return [Path(e["final"]) for e in entries if e["tmp"] is not None]


def _plan(moves: list[tuple[Path | None, Path]], tag: str,
          digests: Mapping[Path, Future[str]]) -> list[dict[str, Any]]:
    """Each move as a journal entry: final, temporary file, backup of the old file, the new file's
    inode and sha256 (from `digests` when taken ahead). Raises ReviewpipeError, changing nothing,
    when a move is not possible."""
    entries = []
    for tmp, final in moves:
        if final.is_dir() and not final.is_symlink():
            raise ReviewpipeError(
                f"{final} is a directory, where a run puts its file: move or remove that directory and "
                "run again. Nothing was published; the previous outputs are unchanged."
            )
        folder = final.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ReviewpipeError(
                f"cannot write in {folder}, where a run puts {final.name}: make the folder writable "
                "and run again. Nothing was published; the previous outputs are unchanged."
            )
        if tmp is None and not os.path.lexists(final):
            continue  # nothing to take away
        entry: dict[str, Any] = {"final": str(final), "tmp": None, "backup": None, "inode": None,
                                 "sha256": None}
        if tmp is not None:
            st = tmp.stat()
            if st.st_dev != folder.stat().st_dev:  # os.replace cannot move a file across filesystems
                raise ReviewpipeError(f"{tmp} and {folder} are on different filesystems; "
                                      "keep each output's folder on one filesystem and run again.")
            fsync_path(tmp)
            ahead = digests.get(tmp)
            entry.update(tmp=str(tmp), inode=st.st_ino, sha256=ahead.result() if ahead else file_digest(tmp))
        if os.path.lexists(final):
            entry["backup"] = str(final.with_name(f".{final.name}.{tag}.bak"))
        entries.append(entry)
    return entries


def _write_journal(journal: Path, entries: list[dict[str, Any]]) -> None:
    """Write the go-live journal durably, whole or not at all (written aside, then renamed)."""
    with atomic_write(journal, temp=journal.with_name(journal.name + ".part"), durable=True) as f:
        f.write(json.dumps(entries))


def _read_journal(journal: Path) -> list[dict[str, Any]]:
    return json.loads(journal.read_text(encoding="utf-8")) if journal.exists() else []


def _restore(entries: list[dict[str, Any]]) -> None:
    """Put back each old file a go-live replaced or took away, and take away each new file that had
    no old one, whatever part of the go-live was done (none, some, all): each new file is under
    its temporary name again, as before the go-live."""
    for entry in reversed(entries):
        final, backup, tmp = Path(entry["final"]), entry["backup"], entry["tmp"]
        is_new = tmp is not None and final.is_file() and final.stat().st_ino == entry["inode"]
        if is_new and not os.path.lexists(tmp):
            os.link(final, tmp)
        if backup and os.path.lexists(backup):
            if os.path.lexists(final) and os.path.samefile(final, backup):
                os.unlink(backup)  # never replaced (os.replace of two names of one file does nothing)
            else:
                os.replace(backup, final)
        elif is_new:
            final.unlink()
    for folder in _folders(entries):
        fsync_path(folder)


def _folders(entries: list[dict[str, Any]]) -> set[Path]:
    return {Path(e["final"]).parent for e in entries}


def roll_back(journal: Path) -> None:
    """Undo the go-live `journal` records (a run killed or failed after it began): every output is
    the old one again. Nothing to do without a journal."""
    _restore(_read_journal(journal))
    journal.unlink(missing_ok=True)


def finish(journal: Path) -> None:
    """Drop the backups of the go-live `journal` records, and the journal: the new outputs stay."""
    for entry in _read_journal(journal):
        if entry["backup"]:
            Path(entry["backup"]).unlink(missing_ok=True)
    journal.unlink(missing_ok=True)


def journal_digests(journal: Path) -> dict[Path, str]:
    """The sha256 of each file the go-live `journal` records put in place, by final path."""
    return {Path(e["final"]): e["sha256"] for e in _read_journal(journal) if e["tmp"] is not None}


def run_checks(con: duckdb.DuckDBPyConnection) -> None:
    """Run every data check against the current database; raise CheckFailed if one returns rows.

    The checks are each published table's key check ("<table>_key", made from reviewpipe.schema)
    and every query in sql/checks, in name order; a file named like a key check holds further rules
    of that check and runs after it, under its name. The message names the check, says what it
    checks (its first comment line) and shows the first offending rows with their column names, on
    one line.
    """
    checks = [(name, 0, "reviewpipe.schema", text) for name, text in schema.key_checks().items()]
    checks += [(f.stem, 1, f"sql/checks/{f.name}", f.read_text(encoding="utf-8"))
               for f in (sql_dir() / "checks").glob("*.sql")]
    for name, _, where, text in sorted(checks):
        result = con.execute(text + "\nlimit 5")
        offending = result.fetchall()
        if offending:
            names = [d[0] for d in result.description]
            shown = "; ".join(
                "(" + ", ".join(f"{n} = {v!r}" for n, v in zip(names, row, strict=True)) + ")"
                for row in offending
            )
            says = text.splitlines()[0].removeprefix("--").strip() if text.startswith("--") else ""
            raise CheckFailed(
                f"data check {name} failed ({f'{says}; ' if says else ''}{where}); "
                f"first offending rows: {shown}. Nothing was published; the previous reports "
                "database is unchanged. The staged data passed every staging check, so this is a "
                "case reviewpipe does not handle: report it with this message."
            )


# A table name that is safe as a file name in any exports folder: no separators, dots, quotes,
# spaces or non-ASCII letters. Published files can be written to by analysts, so their names are
# not ours to trust.
EXPORT_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# A text cell a spreadsheet would take for a formula (OWASP, "CSV Injection").
_FORMULA_START = "^[=+\\-@\\t\\r]"


def export_tables(
    published: Path,
    out_dir: Path,
    tables: list[str] | None = None,
    *,
    fmt: str = "csv",
    neutralize_formulas: bool = True,
) -> list[Path]:
    """Write each published agg_ table (or the named tables) to out_dir/<table>.<fmt>; the files written.

    Each file is written under a temporary name and renamed into place, so a colleague opening it
    never gets half a file.
    """
    return go_live(
        export_files(published, out_dir, tables, fmt=fmt, neutralize_formulas=neutralize_formulas)
    )


def export_files(
    database: Path,
    out_dir: Path,
    tables: list[str] | None = None,
    *,
    fmt: str = "csv",
    neutralize_formulas: bool = True,
    tag: str = "tmp",
) -> list[tuple[Path, Path]]:
    """Write each agg_ table (or the named tables) of database to a temporary file in out_dir.

    Returns (temporary file, final name) pairs for `go_live`. In CSV, a text cell that starts with
    = + - @ tab or carriage return gets a leading ' (unless neutralize_formulas is off) so a
    spreadsheet shows it instead of running it; numeric columns are written as they are.
    """
    if fmt not in ("csv", "parquet"):
        raise ReviewpipeError(f"export format {fmt!r} is not one of csv, parquet")
    with published_connection(database) as con:
        available = [r[0] for r in rows(
            con, "select table_name from duckdb_tables() where schema_name = 'main' order by 1")]
        unknown = sorted(set(tables or []) - set(available))
        if unknown:
            raise ReviewpipeError(
                f"no published table named {', '.join(unknown)}; "
                f"published tables: {', '.join(available)}"
            )
        unsafe = [t for t in tables or [] if not EXPORT_NAME.fullmatch(t)]
        if unsafe:
            raise ReviewpipeError(
                f"published table {unsafe[0]!r} cannot be exported: a table's name is its file's name, "
                f"so it must match {EXPORT_NAME.pattern} (lowercase letters, digits, _); rename the table"
            )
        wanted = tables or [t for t in available if t.startswith("agg_") and _exportable(t)]
        out_dir.mkdir(parents=True, exist_ok=True)
        root = out_dir.resolve()
        moves = []
        for table in wanted:
            target = out_dir / f"{table}.{fmt}"
            tmp = out_dir / f".{table}.{fmt}.{tag}"
            # the name check makes this hold; checked again, as a file written elsewhere is for good
            # (the files themselves are not resolved: a rename replaces a link, never follows it)
            if {target.parent.resolve(), tmp.parent.resolve()} != {root}:
                raise ReviewpipeError(f"published table {table!r} would be exported outside {out_dir}")
            select = _export_select(con, table, neutralize_formulas and fmt == "csv")
            if table in PER_TITLE_TABLES:
                select += f" order by {PER_TITLE_TABLES[table]}"
            options = "format parquet" if fmt == "parquet" else "header, delimiter ','"
            con.execute(f"copy ({select}) to {sql_literal(tmp)} ({options})")
            moves.append((tmp, target))
        return moves


def _exportable(table: str) -> bool:
    """Whether a published table's name can be its export's file name; logs a warning if not."""
    if EXPORT_NAME.fullmatch(table):
        return True
    log.warning("published table %r not exported: its name does not match %s; rename it to export it",
                table, EXPORT_NAME.pattern)
    return False


def _export_select(con: duckdb.DuckDBPyConnection, table: str, neutralize: bool) -> str:
    """A select of the table's columns, text columns neutralised against formulas when asked."""
    columns = rows(
        con,
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = 'main' and table_name = ? order by column_index",
        [table],
    )
    quote = "''''"  # a SQL literal holding one single quote
    parts = []
    for name, data_type in columns:
        col = quote_identifier(name)
        if neutralize and data_type == "VARCHAR":
            parts.append(
                f"case when regexp_matches({col}, '{_FORMULA_START}') then {quote} || {col} "
                f"else {col} end as {col}"
            )
        else:
            parts.append(col)
    return f"select {', '.join(parts)} from {quote_identifier(table)}"


@contextmanager
def published_connection(
    published: Path, config: dict[str, str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published file, with DuckDB settings `config`; it never blocks
    a run (runs write a new file)."""
    if not published.exists():
        raise ReviewpipeError(f"no published database at {published}; run `reviewpipe run` first")
    try:
        con = duckdb.connect(
            str(published),
            read_only=True,
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                    **(config or {})},
        )
    except duckdb.Error as exc:
        raise ReviewpipeError(
            f"cannot open {published} read-only: {str(exc).splitlines()[0]}. If another program "
            "holds it open for writing, close it (or open it read-only there) and try again."
        ) from exc
    try:
        yield con
    finally:
        con.close()


def published_tables(published: Path) -> list[tuple[str, int, str | None]]:
    """(table, rows, description) of every published table, in name order."""
    with published_connection(published) as con:
        names = rows(con, "select table_name, comment from duckdb_tables() order by table_name")
        return [
            (name, scalar(con, f"select count(*) from {quote_identifier(name)}"), comment)
            for name, comment in names
        ]


def query_published(
    published: Path, sql: str, limits: SqlSettings | None = None
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a read-only query on the published database, within `limits`.

    The connection is read-only and has no access to other files, so an ad-hoc query can neither
    change the published tables nor read or write elsewhere on the machine. It is bounded by
    [sql]: DuckDB's memory_limit, a spill folder of its own (under temp_directory, never the
    published folder, removed afterwards) capped at max_temp_directory_size, and timeout_seconds,
    after which the query is interrupted. The configuration is locked, so the query cannot lift
    any of these with `set` or `pragma`.
    """
    limits = limits or SqlSettings()
    temp_root = (limits.temp_directory or Path(tempfile.gettempdir())).resolve()
    if limits.temp_directory and temp_root.is_relative_to(published.parent.resolve()):
        raise ReviewpipeError(
            f"[sql] temp_directory {temp_root} is inside the published folder {published.parent}; "
            "set [sql] temp_directory (or REVIEWPIPE_SQL__TEMP_DIRECTORY) to a folder elsewhere"
        )
    try:
        temp_root.mkdir(parents=True, exist_ok=True)
        spill = tempfile.TemporaryDirectory(prefix="reviewpipe-sql-", dir=temp_root)
    except OSError as exc:
        raise ReviewpipeError(
            f"cannot create a spill folder in [sql] temp_directory {temp_root}: {exc.strerror}; "
            "set it (or REVIEWPIPE_SQL__TEMP_DIRECTORY) to a writable folder"
        ) from exc
    bounds = {
        "memory_limit": limits.memory_limit,
        "temp_directory": spill.name,
        "max_temp_directory_size": limits.max_temp_directory_size,
    }
    with spill, published_connection(published, bounds) as con:
        # in this order: with external access off, DuckDB refuses to change temp_directory
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            con.interrupt()

        timer = threading.Timer(limits.timeout_seconds, stop)
        timer.start()
        try:
            result = con.execute(sql)
            columns = [d[0] for d in result.description or []]
            return columns, result.fetchall()
        except duckdb.InterruptException as exc:
            if not timed_out.is_set():  # interrupted by the user (Ctrl-C), not by the time limit
                raise ReviewpipeError("query interrupted") from exc
            raise ReviewpipeError(
                f"query stopped after {limits.timeout_seconds:g} s, the time limit [sql] "
                "timeout_seconds; narrow the query or raise the limit (REVIEWPIPE_SQL__TIMEOUT_SECONDS)"
            ) from exc
        except duckdb.OutOfMemoryException as exc:
            if "max_temp_directory_size" in str(exc):
                raise ReviewpipeError(
                    f"query needs more than {limits.max_temp_directory_size} of temporary disk space, "
                    "the limit [sql] max_temp_directory_size; narrow the query or raise the limit "
                    "(REVIEWPIPE_SQL__MAX_TEMP_DIRECTORY_SIZE)"
                ) from exc
            raise ReviewpipeError(
                f"query needs more than {limits.memory_limit} of memory, the limit [sql] "
                "memory_limit; narrow the query or raise the limit (REVIEWPIPE_SQL__MEMORY_LIMIT)"
            ) from exc
        except duckdb.Error as exc:
            raise ReviewpipeError(f"query failed: {str(exc).strip()}") from exc
        except RuntimeError as exc:  # DuckDB's answer to Ctrl-C during a query
            if str(exc) != "Query interrupted":
                raise
            raise ReviewpipeError("query interrupted") from exc
        finally:
            timer.cancel()
