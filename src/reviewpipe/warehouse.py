"""The DuckDB warehouse: connections, schema, SQL models and the few helpers every stage shares."""

from __future__ import annotations

import fcntl
import html
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from reviewpipe.errors import ReviewpipeError, TransientError

# A locked warehouse is usually another run finishing; wait this long before giving up.
LOCK_WAIT_SECONDS = 30.0
_LOCK_POLL_SECONDS = 0.5


@cache
def sql_dir() -> Path:
    """The folder of SQL models: packaged beside the code in a wheel, at the repo root in a checkout."""
    for candidate in (Path(__file__).parent / "sql", Path(__file__).resolve().parents[2] / "sql"):
        if (candidate / "schema").is_dir():
            return candidate
    raise ReviewpipeError("the SQL models folder (sql/) is missing from the installation; reinstall")


@cache
def read_model(relative: str) -> str:
    """The text of one SQL file under sql/, e.g. 'staging/stg_reviews.sql'."""
    return (sql_dir() / relative).read_text(encoding="utf-8")


def _register_functions(con: duckdb.DuckDBPyConnection) -> None:
    # The inet extension has an html_unescape, but it cannot be downloaded on air-gapped machines;
    # the standard library's decoder knows every HTML5 named and numeric entity.
    try:
        con.create_function(
            "decode_html_entities", html.unescape, ["VARCHAR"], "VARCHAR", side_effects=False
        )
    except duckdb.CatalogException:
        pass  # another open connection of this process to the same file registered it already
    con.execute(read_model("schema/macros.sql"))


class WarehouseLocked(TransientError):
    """Another process holds the DuckDB file open (an ad-hoc session, a run on another machine)."""


def connect(
    path: Path | str = ":memory:", *, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection with the project's functions; waits for a lock held by another process, then fails.

    `memory_limit` caps DuckDB's memory (its default is 80% of RAM, most of it cache); beyond it
    DuckDB spills to a temporary folder beside the database file.
    """
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=dict(config))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise ReviewpipeError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                holder = str(exc).split("Conflicting lock is held in", 1)[-1].split(". See")[0]
                raise WarehouseLocked(
                    f"{path} is locked by another process ({holder.strip()}); waited {wait:.0f} s. "
                    "Close that DuckDB session or wait for that run to finish, then run again."
                ) from exc
            time.sleep(_LOCK_POLL_SECONDS)
    _register_functions(con)
    return con


@contextmanager
def open_warehouse(
    path: Path, *, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse connection, with the schema created, closed on exit; see `connect`."""
    if read_only and not path.exists():
        raise ReviewpipeError(f"no warehouse at {path} yet; run `reviewpipe run` first")
    con = connect(path, read_only=read_only, wait=wait, memory_limit=memory_limit)
    try:
        if not read_only:
            con.execute(read_model("schema/warehouse.sql"))
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit on success, roll back on any exception so the warehouse stays as it was."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def build_model(
    con: duckdb.DuckDBPyConnection, relative: str, table: str | None = None, *, view: bool = False
) -> None:
    """Build the table (or view) a model file names (sql/staging/stg_reviews.sql builds stg_reviews)."""
    name = table or Path(relative).stem
    kind = "view" if view else "table"
    other = "table" if view else "view"
    if scalar(con, f"select count(*) from duckdb_{other}s() where {other}_name = ? and not internal",
              [name]):
        con.execute(f"drop {other} {name}")  # the model changed kind since this warehouse was built
    con.execute(f"create or replace {kind} {name} as\n{read_model(relative)}")


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """All rows of a query; the result is consumed so the connection is free for the next statement."""
    return con.execute(sql, list(params)).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row of a query, or None."""
    result = rows(con, sql, params)
    return result[0][0] if result else None


def quote_identifier(name: str) -> str:
    """name as a DuckDB identifier, quoted so any column name from a file is safe to use."""
    return '"' + name.replace('"', '""') + '"'


class RunInProgress(ReviewpipeError):
    """Another run holds the warehouse's run lock."""


@contextmanager
def run_lock(warehouse: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the warehouse's run lock for a whole run, so two runs never interleave their writes.

    Each stage opens and closes the DuckDB file, so DuckDB's own lock would let a second run slip in
    between two stages of the first; this lock file is held from the first stage to the last. A
    second run waits up to `wait` seconds, then fails naming the run that holds it. The operating
    system releases the lock when the holding process ends, even if it is killed.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    path = warehouse.with_name(warehouse.name + ".run.lock")
    fh = path.open("a+")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise RunInProgress(
                        f"another reviewpipe run is writing {warehouse} ({holder}); waited "
                        f"{wait:.0f} s. Let it finish (see `reviewpipe status`) and run again."
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        yield
    finally:
        fh.close()  # closing the file releases the lock
