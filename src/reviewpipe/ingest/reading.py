"""Reading: one file through DuckDB's own reader (compressed, UTF-16 and saved pages included) into
rows mapped onto the pipeline's fields (a PreparedFile), on the warehouse's connection, on a
connection of its own (`read_file_apart`, what a Dask worker runs), or one file ahead in a thread
(`read_ahead`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from reviewpipe import sources as readers
from reviewpipe.errors import TransientError
from reviewpipe.files import in_order
from reviewpipe.ingest.discovery import RefusedLink, file_state, fingerprint, last_load
from reviewpipe.ingest.mapping import MappingMisfit, first_line, mapping_select
from reviewpipe.settings import Source
from reviewpipe.warehouse import connect, quote_identifier, rows, scalar, table_exists

_SOURCE_ROWS = "_source_rows"

# An ordered map, `map`-like: fn applied to each item, results in the items' order. The Prefect flow
# passes one that runs fn on a Dask cluster (reviewpipe.flow); None means "here, in this process".
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


FileStatus = Literal["loaded", "skipped", "unreadable"]


class FileBeingWritten(TransientError):
    """A source file changed while it was read."""


class FileVanished(TransientError):
    """A source file the glob matched was gone when it was read (a landing folder being cleaned)."""


@dataclass
class PreparedFile:
    """One file read and mapped onto the pipeline's fields, not written yet.

    `tables` holds, per kind of row, the mapped rows (row_number, the kind's fields as text,
    failed_fields): the name of a temp table of the reading connection, or an Arrow table when the
    file was read elsewhere. `rejects` likewise holds the reader's rejected lines, if any.
    """

    path: Path
    fingerprint: str
    size: int
    modified_at: datetime
    status: FileStatus
    state: str | None = None  # file_state when it was read
    tables: dict[str, str | pa.Table] = field(default_factory=dict)
    rejects: str | pa.Table | None = None
    records: int = 0
    rejected: int = 0
    message: str | None = None
    misfit: bool = False  # unreadable because its columns do not fit the mapping


def prepare_file(
    con: duckdb.DuckDBPyConnection, source: Source, path: Path, known: tuple[str, str | None] | None = None
) -> PreparedFile:
    """Read one file into temp tables of `con`, mapped onto the kind's fields, unless it is unchanged
    since its last load: `known` is the (fingerprint, file_state) logged then; an equal state, or
    else an equal fingerprint, means unchanged.

    A file that changes while it is read raises FileBeingWritten (transient: the flow retries later).
    A file the reader cannot parse comes back 'unreadable' with the reason; it must not stop the load
    of the others.
    """
    try:
        before = _file_state(path)
        state = file_state(path, source)
        fp = known[0] if known and known[1] == state else fingerprint(path, source)
    except FileNotFoundError:
        raise FileVanished(
            f"{path} was matched by source {source.name!r} but was gone when it was read (moved or "
            "deleted meanwhile); the run retries without it"
        ) from None
    modified_at = datetime.fromtimestamp(before[1] / 1e9, UTC).replace(tzinfo=None)
    file = PreparedFile(path, fp, before[0], modified_at, "skipped", state)
    if known and fp == known[0]:
        return file
    try:
        tables = _read_file(con, source, str(path))
    except (duckdb.Error, readers.UnreadableFile) as exc:
        file.status, file.message = "unreadable", f"unreadable as {source.format}: {first_line(exc)}"
        return file
    file.status = "loaded"
    for kind, table in tables.items():
        numbered = _numbered(con, table)
        if _holds_no_records(con, numbered):
            # nothing to map (a 0-byte file has one column, `column0`, that no mapping names)
            con.execute(f"drop view {numbered}; drop table {table}")
            continue
        try:
            select = mapping_select(con, source, kind, numbered, str(path))
        except MappingMisfit as exc:
            # this file is not like the source's others: recorded, and the run goes on (ingest
            # makes it a configuration error when no file of the source fits)
            con.execute(f"drop view {numbered}; drop table {table}")
            file.status, file.message, file.misfit = "unreadable", str(exc), True
            return file
        prepared = f"_prepared_{kind}"
        con.execute(
            f"create or replace temp table {prepared} as "
            f"select file_row as row_number, {select} from {numbered} order by file_row"
        )
        con.execute(f"drop view {numbered}; drop table {table}")
        file.tables[kind] = prepared
        file.records += scalar(con, f"select count(*) from {prepared}")
    if table_exists(con, readers.REJECTS_TABLE):
        con.execute(f"create or replace temp table _prepared_rejects as {readers.rejects_sql()}")
        file.rejects = "_prepared_rejects"
        file.rejected = scalar(con, "select count(*) from _prepared_rejects")
    if file.records == 0 and file.rejected and not scalar(
            con, "select count(*) from _prepared_rejects where trim(raw_value, chr(9) || chr(10) "
                 "|| chr(13) || ' ') <> ''"):
        # a file of blank lines whose line ends the reader would not take (a lone "\t \r\n")
        con.execute("drop table _prepared_rejects")
        file.rejects, file.rejected = None, 0
    if file.records == 0 and file.rejected == 0:
        file.message = EMPTY_FILE
    elif file.records == 0:  # random bytes, another encoding: its lines are in quarantine
        file.status = "unreadable"
        file.message = (f"unreadable as {source.format}: none of its lines could be read "
                        f"({file.rejected} rejected, each in quarantine with the reader's reason)")
    if _file_state(path) != before:
        raise FileBeingWritten(
            f"{path} changed while it was read (it is still being written); the run retries it "
            "later. Write files into the landing folder under another name and rename them when done."
        )
    return file


# load_log's message for a file without records: 0 bytes, only whitespace, only a header line, `[]`.
# It is logged 'loaded' with 0 records, so that, unchanged, it is skipped as any loaded file is.
EMPTY_FILE = "empty: the file holds no records, so nothing was loaded from it"


def _numbered(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A view of a file's rows with `file_row`, each record's 1-based position in the file (replacing
    a column of that name the file has), for the column mapping; the view's name."""
    # rowids of a temp table are contiguous in file order but need not start at 0
    first_rowid = int(scalar(con, f"select coalesce(min(rowid), 0) from {table}"))
    has_own = "file_row" in {r[0] for r in rows(con, f"describe {table}")}
    position = f"rowid - {first_rowid} + 1"
    columns = f"* replace ({position} as file_row)" if has_own else f"*, {position} as file_row"
    view = f"{table}_numbered"
    con.execute(f"create or replace temp view {view} as select {columns} from {table}")
    return view


def _holds_no_records(con: duckdb.DuckDBPyConnection, numbered: str) -> bool:
    """True when a file's rows hold no record: none at all, or (a file of blank lines, which DuckDB's
    CSV reader reads as one column) nothing but whitespace."""
    columns = [r[0] for r in rows(con, f"describe {numbered}") if r[0] not in ("filename", "file_row")]
    if len(columns) != 1:
        return not scalar(con, f"select count(*) from {numbered}")
    column = quote_identifier(columns[0])
    return not scalar(con, f"select count(*) from {numbered} where trim({column}::varchar) <> ''")


def _file_state(path: Path) -> tuple[int, int]:
    """The file's size and modification time (ns): what changes while it is being written."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _read_file(con: duckdb.DuckDBPyConnection, source: Source, file_path: str) -> dict[str, str]:
    """Read one file into temp tables, one per kind of row it yields; the table name per kind."""
    con.execute(f"drop table if exists {readers.REJECTS_TABLE}")
    if source.format == "imdb_page":
        tables = {}
        for kind, frame in readers.read_imdb_page(Path(file_path)).items():
            table = f"{_SOURCE_ROWS}_{kind}"
            con.register("_page_rows", frame)
            con.execute(f"create or replace temp table {table} as select * from _page_rows")
            con.unregister("_page_rows")
            tables[kind] = table
        return tables
    try:
        # DuckDB reads the file by a name it cannot take as a pattern; `filename` is the file's own
        # (in UTF-8: a UTF-16 file is converted first)
        with readers.readable_path(Path(file_path)) as readable:
            dialect = readers.csv_dialect(con, source, readable) if source.format == "csv" else {}
            call, params = readers.reader_sql(source, {**readers.csv_buffer(source, readable), **dialect})
            con.execute(
                f"create or replace temp table {_SOURCE_ROWS} as "
                f"select * replace (?::varchar as filename) from {call}",
                [file_path, readable, *params],
            )
    except duckdb.InvalidInputException as exc:
        if source.format != "csv" or not readers.sniffer_gave_up_on_carriage_return(exc, Path(file_path)):
            raise
        # valid CSV that DuckDB cannot parse (a lone carriage return inside a quoted field)
        con.execute(f"drop table if exists {readers.REJECTS_TABLE}")
        con.register("_csv_rows", readers.read_csv_exactly(Path(file_path), source))
        con.execute(f"create or replace temp table {_SOURCE_ROWS} as select * from _csv_rows")
        con.unregister("_csv_rows")
    return {source.kind: _SOURCE_ROWS}


def refused_file(link: RefusedLink) -> PreparedFile:
    """A refused symlink as an unreadable file (no rows, so no modification time is stored); its
    fingerprint is its message's, so that a run sees it change only when the link's target does."""
    return PreparedFile(link.path, hashlib.sha256(link.message.encode()).hexdigest(), 0,
                        datetime.now(UTC).replace(tzinfo=None), "unreadable", message=link.message)


# A changed file of this size is read in a thread while the one before it is written. A smaller one
# is read in line: reading apart costs a connection of its own and an Arrow copy of the rows, more
# than it overlaps on small files (bench/README.md, "Figures behind the code"). So is a bigger one:
# its rows would be held in memory whole (in line, DuckDB spills them to disk beyond memory_limit).
READ_AHEAD_MIN_BYTES = 8 << 20
READ_AHEAD_MAX_BYTES = 512 << 20


def read_ahead(con: duckdb.DuckDBPyConnection, jobs: list[tuple[Source, Path]]) -> Iterator[PreparedFile]:
    """Each job's file prepared, in order. When several files changed, each changed file of
    READ_AHEAD_MIN_BYTES to READ_AHEAD_MAX_BYTES is read by `read_file_apart` in a thread while the
    files before it are written: DuckDB runs most of a file's statements on one core (it gives a
    thread to each 122,880 rows, more than a file of 100,000 reviews holds), so the read takes the
    other. Other files are read through `con` (files unchanged by their logged state are not read at
    all). The first file read apart is read when ingest reaches it, the next while it is written."""
    known = [last_load(con, source, path) for source, path in jobs]
    changed = [i for i, ((source, path), k) in enumerate(zip(jobs, known, strict=True))
               if not (k and _logged_state_holds(path, source, k[1]))]
    ahead = [i for i in changed if READ_AHEAD_MIN_BYTES <= _size(jobs[i][1]) <= READ_AHEAD_MAX_BYTES]
    if len(changed) < 2 or not ahead:
        for (source, path), k in zip(jobs, known, strict=True):
            yield prepare_file(con, source, path, k)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewpipe-read") as reader:
        # two in flight: the file being written and the next one, read meanwhile
        reads = in_order(lambda i: reader.submit(read_file_apart, (*jobs[i], known[i])), ahead, 2)
        to_read = set(ahead)
        for i, ((source, path), k) in enumerate(zip(jobs, known, strict=True)):
            yield next(reads) if i in to_read else prepare_file(con, source, path, k)


def _logged_state_holds(path: Path, source: Source, state: str | None) -> bool:
    """True when the file's state is the one logged at its last load (it is not read again)."""
    try:
        return file_state(path, source) == state
    except FileNotFoundError:
        return False  # prepare_file says so


def _size(path: Path) -> int:
    """The file's size in bytes, 0 when it is gone."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0  # read in line, where prepare_file says so


def read_file_apart(job: tuple[Source, Path, tuple[str, str | None] | None]) -> PreparedFile:
    """`prepare_file` on a connection of its own, the rows returned as Arrow tables.

    This is what runs on a Dask worker: it reads the file (which must be reachable at the same path)
    with an in-memory DuckDB and never touches the warehouse.
    """
    source, path, known = job
    con = connect()
    try:
        file = prepare_file(con, source, path, known)
        file.tables = {
            kind: con.sql(f"select * from {name} order by row_number").to_arrow_table(ARROW_BATCH_ROWS)
            for kind, name in file.tables.items()
        }
        if isinstance(file.rejects, str):
            file.rejects = con.sql(f"select * from {file.rejects}").to_arrow_table()
        return file
    finally:
        con.close()


# Prepared rows are written from Arrow record batches of this many rows: DuckDB gives a thread to each
# batch, where a temp table gives one to each 122,880 rows, so typing a file of 100,000 reviews ran
# on one core.
ARROW_BATCH_ROWS = 16_384


def in_batches(con: duckdb.DuckDBPyConnection, file: PreparedFile, table: str | pa.Table) -> str | pa.Table:
    """A prepared temp table of more than one batch as Arrow batches (the temp table dropped); other
    tables as they are: a file too big to read ahead stays in the temp table, which DuckDB can spill."""
    if not isinstance(table, str) or file.size > READ_AHEAD_MAX_BYTES \
            or scalar(con, f"select count(*) from {table}") <= ARROW_BATCH_ROWS:
        return table
    batches = con.sql(f"select * from {table} order by row_number").to_arrow_table(ARROW_BATCH_ROWS)
    con.execute(f"drop table {table}")
    return batches
