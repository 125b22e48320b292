"""The DuckDB warehouse: connections, schema, SQL models and the few helpers every stage shares."""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import html
import json
import os
import shlex
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from reviewpipe.errors import ReviewpipeError, TransientError, as_user_error

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


def _register_functions(con: duckdb.DuckDBPyConnection, macros: bool = True) -> None:
    # The inet extension has an html_unescape, but it cannot be downloaded on air-gapped machines;
    # the standard library's decoder knows every HTML5 named and numeric entity.
    try:
        con.create_function(
            "decode_html_entities", html.unescape, ["VARCHAR"], "VARCHAR", side_effects=False
        )
    except duckdb.CatalogException:
        pass  # another open connection of this process to the same file registered it already
    if macros:
        con.execute(read_model("schema/macros.sql"))


def persistent_macros() -> str:
    """sql/schema/macros.sql with its macros kept in the database, not the connection: what
    ensure_schema runs with the schema script, so that the warehouse's own connections need not
    make them at every open (14 ms each, about ten opens a run)."""
    return read_model("schema/macros.sql").replace("create or replace temp macro ", "create or replace macro ")


class WarehouseLocked(TransientError):
    """Another process holds the DuckDB file open (an ad-hoc session, a run on another machine)."""


def connect(
    path: Path | str = ":memory:", *, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS,
    memory_limit: str | None = None, macros: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A connection with the project's functions; waits for a lock held by another process, then fails.

    `memory_limit` caps DuckDB's memory (its default is 80% of RAM, most of it cache); beyond it
    DuckDB spills to a temporary folder beside the database file. Without `macros`, the macros of
    sql/schema/macros.sql are not made for the connection (open_warehouse's writable connections
    find them kept in the warehouse: ensure_schema).
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
        except duckdb.Error as exc:
            if not isinstance(exc, duckdb.IOException) or "Could not set lock" not in str(exc):
                raise _open_failed(path, exc) from exc
            if time.monotonic() >= deadline:
                holder = str(exc).split("Conflicting lock is held in", 1)[-1].split(". See")[0]
                raise WarehouseLocked(
                    f"{path} is locked by another process ({holder.strip()}); waited {wait:.0f} s. "
                    "Close that DuckDB session or wait for that run to finish, then run again."
                ) from exc
            time.sleep(_LOCK_POLL_SECONDS)
    _register_functions(con, macros)
    return con


# How DuckDB says a file is not a database it can read: garbage from the first byte, or a block whose
# checksum does not match (found when the file is opened, or later when a query reads the block).
_CORRUPT = ("not a valid DuckDB database", "Corrupt database file")


def _open_failed(path: Path | str, exc: duckdb.Error) -> ReviewpipeError:
    """The error for a database file DuckDB cannot open: corrupt, on a full or read-only disk, or other."""
    if isinstance(exc, duckdb.SerializationException) or any(c in str(exc) for c in _CORRUPT):
        return corrupt_warehouse(path, exc, [])
    return as_user_error(exc) or ReviewpipeError(f"cannot open {path}: {str(exc).splitlines()[0]}")


def corrupt_warehouse(
    path: Path | str, exc: BaseException, others: list[str] | None = None
) -> ReviewpipeError:
    """The error for a corrupt warehouse file, saying how to rebuild it from the source files; with
    `others` (the databases attached to it, [] for none, None when they cannot be listed) when the
    corrupt block was met by a query and may be theirs."""
    quoted = shlex.quote(str(path))
    rebuild = (f"Move it aside (mv {quoted} {quoted}.corrupt) and run `reviewpipe run --full-refresh`: "
               "a new warehouse is built from the source files (every text is scored again).")
    detail = str(exc).splitlines()[0]
    if others == []:
        return ReviewpipeError(f"the warehouse {path} is corrupt ({detail}). {rebuild}")
    attached = f" ({', '.join(others)})" if others else ""
    return ReviewpipeError(
        f"the warehouse {path} or a database attached to it{attached} is corrupt ({detail}). Run "
        f"again: the databases a run attaches are rebuilt. If it fails again: {rebuild}"
    )


@contextmanager
def open_warehouse(
    path: Path, *, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse connection, with the schema created, closed on exit; see `connect`.

    A corrupt block found by a query raises the error of a corrupt warehouse too, naming the other
    databases attached at the time (the block may be theirs).
    """
    if read_only and not path.exists():
        raise ReviewpipeError(f"no warehouse at {path} yet; run `reviewpipe run` first")
    # a writable connection's macros are the warehouse's own (ensure_schema keeps them current)
    con = connect(path, read_only=read_only, wait=wait, memory_limit=memory_limit, macros=read_only)
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    except duckdb.Error as exc:
        if not any(c in str(exc) for c in _CORRUPT):
            raise
        raise corrupt_warehouse(path, exc, _attached_others(con)) from exc
    finally:
        con.close()


# The warehouse's catalog as the schema script leaves it: every table and view of the main schema, its
# columns and their types, in order. (Not its macros: listing them through duckdb_functions() took
# 25 ms, more than making them. A macro dropped by hand is made again when the script next runs.)
_CATALOG = """
    select md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' order by table_name, column_index))
    from duckdb_columns() where database_name = current_database() and schema_name = 'main'
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Run sql/schema/warehouse.sql, and make the macros of sql/schema/macros.sql kept in the
    warehouse (persistent_macros), unless the catalog is what they made last time.

    The script only creates what is missing and adds or drops columns that are missing or present,
    so run on a catalog it has just made it changes nothing. staging_state's 'warehouse_schema'
    holds the script's md5 and the catalog's (_CATALOG) as it left them: when both still hold, the
    script is skipped (its 60-odd statements were 20 ms of each of a run's ten connections); any
    change (another script, a table made, dropped or altered since) runs it again.
    """
    # the macros first: the schema's views and defaults may call them
    script = persistent_macros() + "\n" + read_model("schema/warehouse.sql")
    script_md5 = hashlib.md5(script.encode()).hexdigest()
    try:
        kept = scalar(con, "select version from staging_state where model = 'warehouse_schema'")
    except (duckdb.CatalogException, duckdb.BinderException):  # a new warehouse (no staging_state yet),
        kept = None  # or one whose staging_state is not the schema's
    if kept == f"{script_md5} {scalar(con, _CATALOG)}":
        return
    con.execute(script)
    try:
        con.execute("insert or replace into staging_state values ('warehouse_schema', ?)",
                    [f"{script_md5} {scalar(con, _CATALOG)}"])
    except (duckdb.CatalogException, duckdb.BinderException):  # no stamp: the script runs at every
        pass  # open, as it did before the stamp (a corrupt block still raises: open_warehouse names it)


def _attached_others(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """The files of the databases attached besides the warehouse; None when the connection cannot say."""
    try:
        return [p for (p,) in rows(con, "select coalesce(path, database_name) from duckdb_databases() "
                                        "where not internal and database_name <> current_database()")]
    except duckdb.Error:
        return None


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


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when a table of that name exists (in any attached database, temp included)."""
    return bool(scalar(con, "select count(*) from duckdb_tables() where table_name = ?", [name]))


def sql_literal(value: str | Path) -> str:
    """value as a quoted SQL string literal, for the few statements that take no bind parameters
    (ATTACH and COPY paths, comments, the constant columns of a view)."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """name as a DuckDB identifier, quoted so any column name from a file is safe to use."""
    return '"' + name.replace('"', '""') + '"'


class RunInProgress(ReviewpipeError):
    """Another run holds the warehouse's run lock."""


def lock_path(warehouse: Path) -> Path:
    """The warehouse's run lock file: warehouse.duckdb.run.lock beside it."""
    return warehouse.with_name(warehouse.name + ".run.lock")


@contextmanager
def run_lock(warehouse: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the warehouse's run lock for a whole run, so two runs never interleave their writes.

    Each stage opens and closes the DuckDB file, so DuckDB's own lock would let a second run slip in
    between two stages of the first; this lock file is held from the first stage to the last. A
    second run waits up to `wait` seconds, then fails naming the run that holds it. The operating
    system releases the lock when the holding process ends, even if it is killed. The holder writes
    who it is and since when into the file (see `run_holder`), for `reviewpipe status` and for the
    message of a run that finds the lock taken.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    fh = lock_path(warehouse).open("a+")
    # at least one retry: `run_holder` takes the lock for an instant to see whether it is free, and a
    # run starting at that instant (even one that waits 0 s, overlap = "skip") must not give up then
    deadline = time.monotonic() + max(wait, _LOCK_POLL_SECONDS)
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    raise RunInProgress(
                        f"another reviewpipe run is writing {warehouse} "
                        f"({describe_holder(_parse_holder(fh.read()))}); waited {wait:.0f} s. "
                        "Let it finish (see `reviewpipe status`) and run again."
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        _write_holder(fh, {
            "pid": os.getpid(), "user": _user(), "host": socket.gethostname(), "run_id": None,
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
        yield
    finally:
        fh.close()  # closing the file releases the lock


def note_run_id(warehouse: Path, run_id: str) -> None:
    """Add the run id to the run lock file's holder, when this process holds the lock."""
    try:
        with lock_path(warehouse).open("r+") as fh:
            holder = _parse_holder(fh.read())
            if holder.get("pid") == os.getpid():
                _write_holder(fh, {**holder, "run_id": run_id})
    except FileNotFoundError:
        pass  # no run lock: the stage runs on its own (a test, a library call)


def run_holder(warehouse: Path) -> dict[str, Any] | None:
    """Who holds the warehouse's run lock (pid, user, host, run_id, started_at), or None when no run
    does. Answers at once: it never waits for the lock or opens the warehouse."""
    try:
        fh = lock_path(warehouse).open("r")
    except FileNotFoundError:
        return None
    with fh:
        try:
            # a shared lock is refused while a run holds the exclusive one; ours ends with the file
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _parse_holder(fh.read())
    return None


def describe_holder(holder: dict[str, Any]) -> str:
    """A run lock's holder in words: 'pid 12, user ann on host h, run 2026..., since 2026-...Z'."""
    if "pid" not in holder:
        return holder.get("text") or "another process"
    parts = [f"pid {holder['pid']}", f"user {holder.get('user')} on host {holder.get('host')}"]
    if holder.get("run_id"):
        parts.append(f"run {holder['run_id']}")
    parts.append(f"since {holder.get('started_at')}")
    return ", ".join(parts)


def _parse_holder(text: str) -> dict[str, Any]:
    try:
        holder = json.loads(text)
    except ValueError:
        holder = None
    # a lock file written by an older reviewpipe ("pid 12, started ..."), or not yet written
    return holder if isinstance(holder, dict) else {"text": text.strip()} if text.strip() else {}


def _write_holder(fh: Any, holder: dict[str, Any]) -> None:
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps(holder))
    fh.flush()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a name (containers): the number says who
        return str(os.getuid())


class WarehouseOwned(ReviewpipeError):
    """The warehouse belongs to another configuration."""


def configuration_name(config_file: Path | None) -> str:
    """Which configuration a run is of: its config file's resolved path (so an edited file is the same
    configuration), or the built-in defaults of the working folder (their relative paths resolve there)."""
    if config_file is not None:
        return str(Path(config_file).resolve())
    return f"the built-in defaults in {Path.cwd().resolve()}"


def claim_warehouse(
    con: duckdb.DuckDBPyConnection, warehouse: Path, configuration: str, *, take_over: bool = False
) -> None:
    """Record configuration as the warehouse's owner when it has none (or take_over is given);
    raise WarehouseOwned when another configuration owns it, so two never publish each other's data."""
    owner = scalar(con, "select configuration from warehouse_owner")
    if owner == configuration:
        return
    if owner is not None and not take_over:
        raise WarehouseOwned(
            f"the warehouse {warehouse} belongs to the configuration {owner}, and this is "
            f"{configuration}: two configurations sharing a warehouse publish each other's data. Give "
            "this configuration its own warehouse ([paths] warehouse), or, if it is to own this one "
            "from now on, run it once with --take-over-warehouse (reviewpipe run or ingest)."
        )
    with transaction(con):
        con.execute("delete from warehouse_owner")
        con.execute("insert into warehouse_owner values (?, ?)",
                    [configuration, datetime.now(UTC).replace(tzinfo=None)])
