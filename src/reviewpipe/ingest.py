"""Ingest: configured files -> raw_ tables (as text, with the file's rejects) -> staged stg_ tables.

Every file is read by DuckDB's own reader, mapped onto the pipeline's fields by the source's
`[sources.columns]`, and logged in `load_log` with a fingerprint so unchanged files are skipped and a
changed file replaces only its own rows. Validation happens in the staging models (sql/staging), which
send every unusable row to `quarantine` with its reason.
"""

from __future__ import annotations

import fnmatch
import hashlib
import heapq
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from reviewpipe import hooks, state
from reviewpipe import sources as readers
from reviewpipe.errors import ReviewpipeError, TransientError
from reviewpipe.settings import FIELDS_BY_KIND, Settings, Source
from reviewpipe.warehouse import (
    build_model,
    connect,
    quote_identifier,
    read_model,
    rows,
    scalar,
    transaction,
)

FileStatus = Literal["loaded", "skipped", "unreadable"]

# int_reviews_typed is kept up to date file by file as files load (see _type_reviews); these are
# rebuilt after each load, in one transaction (stg_reviews, a view of the typed rows staging marks,
# and quarantine's review rows only for the review ids that changed).
TYPED_REVIEWS = "staging/int_reviews_typed.sql"
STAGING_MODELS = (
    "staging/int_reviews_validated.sql",
    "staging/stg_reviews.sql",
    "staging/int_titles_validated.sql",
    "staging/stg_titles.sql",
    "staging/quarantine.sql",
)
# what stg_reviews is made from: when one of these changes, it is rebuilt whole
_STG_REVIEWS_MODELS = (TYPED_REVIEWS, "schema/macros.sql", "staging/int_reviews_validated.sql",
                       "staging/stg_reviews.sql", "staging/quarantine.sql")
# staging models built as views: int_reviews_validated only ranks copies of a review; stg_reviews
# shows the typed rows staging marked, so that the warehouse stores each text twice (as it arrived,
# and cleaned), not three times
_VIEWS = ("staging/int_reviews_validated.sql", "staging/stg_reviews.sql")
_SOURCE_ROWS = "_source_rows"

# An ordered map, `map`-like: fn applied to each item, results in the items' order. The Prefect flow
# passes one that runs fn on a Dask cluster (flows/pipeline.py); None means "here, in this process".
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


class FileBeingWritten(TransientError):
    """A source file changed while it was read."""


class FileVanished(TransientError):
    """A source file the glob matched was gone when it was read (a landing folder being cleaned)."""


@dataclass(frozen=True)
class FileLoad:
    """What happened to one file in one run."""

    source: str
    path: str
    status: FileStatus
    records: int = 0
    lines_rejected: int = 0
    message: str | None = None


@dataclass
class IngestReport:
    """What ingest did in one run: one entry per file considered."""

    files: list[FileLoad] = field(default_factory=list)

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files if f.status == "loaded")


@dataclass(frozen=True)
class RefusedLink:
    """A symlink the source's glob reached that leads outside the source's folder: not read."""

    path: Path
    target: str
    folder: Path

    @property
    def message(self) -> str:
        """What load_log and quarantine say of it."""
        return (f"refused: {self.path} is a symlink to {self.target}, outside the source's folder "
                f"{self.folder}, so it is not read; if it is meant to be, copy what it leads to "
                "into that folder (or name the file in [[sources]] path, without wildcards)")


def source_files(settings: Settings, source: Source) -> tuple[list[Path], list[RefusedLink]]:
    """The files the source's glob matches now, sorted so loads are deterministic, and the symlinks
    it reached that lead outside the source's folder (see matched_files)."""
    pattern = str(settings.resolve(source.path))
    files, refused = matched_files(pattern)
    if not files and not refused:
        raise ReviewpipeError(
            f"source {source.name!r}: path {source.path!r} (resolved to {pattern}) matches no files; "
            "fix [[sources]] path in the config or put the files there"
        )
    return files, refused


_WILDCARD = re.compile(r"[*?[]")  # what glob.glob takes for a wildcard


def matched_files(pattern: str) -> tuple[list[Path], list[RefusedLink]]:
    """The files an absolute glob (`**` any folders, as glob.glob's recursive=True) matches, sorted,
    each real file once; and the symlinks refused because they lead outside the source's folder.

    The source's folder is the pattern's part before its first wildcard. The folders below it are
    walked, symlinks to folders followed, but each real folder once per position in the pattern,
    so that symlink loops end (glob.glob walks a loop until the system's 40 links, and two loops
    make that millions of paths). A file or folder the wildcards reach whose real path is outside
    the folder's is refused, not read. A real file reached by several paths is listed once, under
    the matched path through the fewest symlinks, then the fewest folders, then the first by name:
    a file reached without symlinks keeps its own name, however many links lead to it too (a link
    added later does not rename a loaded file, whose name keys its rows). A pattern without
    wildcards names one file, which is read wherever a symlink there leads (the user named it).
    """
    parts = Path(pattern).parts
    first = next((i for i, part in enumerate(parts) if _WILDCARD.search(part)), None)
    if first is None:
        return ([Path(pattern)] if Path(pattern).is_file() else []), []
    folder, rest = Path(*parts[:first]), parts[first:]
    root = os.path.realpath(folder)
    found: dict[str, Path] = {}
    refused: dict[Path, RefusedLink] = {}
    walked: set[tuple[str, int]] = set()
    # (symlinks followed, folders below `folder`, their names, position in `rest`, real path,
    # "dir"/"file"/"" or None if not known yet), popped in that order: each (real folder, position)
    # is first reached by the path its files are listed under
    todo: list[tuple[int, int, tuple[str, ...], int, str, str | None]] = [(0, 0, (), 0, root, None)]
    while todo:
        links, depth, names, i, real, kind = heapq.heappop(todo)
        if i < len(rest) and rest[i] == "**":
            heapq.heappush(todo, (links, depth, names, i + 1, real, kind))  # `**` as no folder
        if kind is None:
            kind = "dir" if os.path.isdir(real) else "file" if os.path.isfile(real) else ""
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            # refused where the pattern would read it: a file it ends at, a folder it goes into
            if kind == ("file" if i == len(rest) else "dir"):
                path = folder.joinpath(*names)
                refused.setdefault(path, RefusedLink(path, real, folder))
            continue
        if i == len(rest):
            if kind == "file":
                found.setdefault(real, folder.joinpath(*names))
            continue
        if kind != "dir" or (real, i) in walked:
            continue
        walked.add((real, i))
        part = rest[i]
        if part == "**":
            step = i
        elif _WILDCARD.search(part):
            step = i + 1
        else:
            below = os.path.join(real, part)
            heapq.heappush(todo, (links + os.path.islink(below), depth + 1, (*names, part), i + 1,
                                  os.path.realpath(below), None))
            continue
        try:
            with os.scandir(real) as listing:
                entries = {entry.name: entry for entry in listing}
        except OSError:
            continue  # an unreadable folder: glob.glob skips it too
        # as glob.glob: a wildcard matches a name starting with "." only if it starts with "." too
        for name in fnmatch.filter(entries, "*" if part == "**" else part):
            if name.startswith(".") and not part.startswith("."):
                continue
            entry = entries[name]
            if entry.is_symlink():  # followed: where it leads decides
                heapq.heappush(todo, (links + 1, depth + 1, (*names, name), step,
                                      os.path.realpath(entry.path), None))
            else:
                kind = "dir" if entry.is_dir() else "file" if entry.is_file() else ""
                heapq.heappush(todo, (links, depth + 1, (*names, name), step, entry.path, kind))
    return sorted(found.values()), sorted(refused.values(), key=lambda link: link.path)


def fingerprint(path: Path, source: Source) -> str:
    """sha256 over the file's bytes and the source's configuration (a new mapping reloads the file)."""
    digest = hashlib.sha256(_source_config(source))
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_state(path: Path, source: Source) -> str:
    """What says a file is unchanged without reading it, as git and make do: size, modification and
    change times, inode, and the source's configuration. A file whose state equals the one logged at
    its load is not hashed again; any write, copy, move or touch changes the state, and then the
    fingerprint decides."""
    st = path.stat()
    config = hashlib.sha256(_source_config(source)).hexdigest()[:16]
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{config}"


def _source_config(source: Source) -> bytes:
    return source.model_dump_json(exclude={"name", "path"}).encode()


def ingest(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    *,
    only: list[str] | None = None,
    paths: list[Path] | None = None,
    full_refresh: bool = False,
    read_map: Mapper | None = None,
    on_load: Callable[[FileLoad], object] | None = None,
) -> IngestReport:
    """Load every new or changed file of the selected sources into the raw_ tables and log it.

    With `paths`, only those files are loaded (for `reviewpipe ingest`), each under the single source
    named in `only`. Each file is loaded in its own transaction, so a failure (a mapping that does not
    fit, a crash) leaves every file either fully loaded or as it was before. With `read_map` (an
    ordered map, e.g. over a Dask cluster) the files are read by `read_file_apart` wherever it runs
    and only written here; without it they are read here, one file ahead of the one being written
    when several changed (`_read_ahead`).
    """
    selected = [settings.source(name) for name in only] if only else settings.sources
    if not selected:
        raise ReviewpipeError("no sources are configured; add [[sources]] to the config file")
    order = {s.name: i for i, s in enumerate(settings.sources)}
    ensure_typed_reviews(con)
    _renumber_sources(con, order)
    jobs: list[tuple[Source, Path]] = []
    refusals: list[tuple[Source, RefusedLink]] = []
    for source in selected:
        if full_refresh:
            forget_source(con, source.name)
        if paths is not None:  # named on the command line: a missing one is the user's mistake
            for path in paths:
                if not path.is_file():
                    raise ReviewpipeError(f"{path}: no such file; check the path and run again")
            # each real file once, as a glob lists it (a name given twice, or a link beside its file)
            files, refused = list(dict.fromkeys(p.resolve() for p in paths)), []
        else:
            files, refused = source_files(settings, source)
        jobs.extend((source, path) for path in files)
        refusals.extend((source, link) for link in refused)
    if read_map is None:
        prepared: Iterable[PreparedFile] = _read_ahead(con, jobs)
    else:
        prepared = read_map(
            read_file_apart, [(s, p, _known(con, s, p)) for s, p in jobs]
        )
    report = IngestReport()
    for source, link in refusals:  # logged and quarantined as unreadable, never read
        refused_file = _refused_file(link)
        report.files.append(write_file(con, source, refused_file, run_id, order.get(source.name, 0)))
    # files whose columns do not fit their source's mapping are held until the source's last file:
    # recorded unreadable if another file of the source fits, else a configuration error
    left = Counter(source.name for source, _ in jobs)
    misfits: dict[str, list[PreparedFile]] = {}
    fitting: set[str] = set()
    for (source, _), file in zip(jobs, prepared, strict=True):
        left[source.name] -= 1
        if file.misfit:
            misfits.setdefault(source.name, []).append(file)
        else:
            report.files.append(write_file(con, source, file, run_id, order.get(source.name, 0)))
            if _fits(con, source, file):
                fitting.add(source.name)
            if file.status == "loaded":
                if on_load is not None:
                    on_load(report.files[-1])
                hooks.pause("ingest")
        if left[source.name] == 0 and source.name in misfits:
            held = misfits.pop(source.name)
            if source.name not in fitting:
                raise ReviewpipeError(
                    f"{held[0].message} No file of source {source.name!r} fits the mapping "
                    f"({len(held)} with records do not), so it is taken for a mistake of the "
                    "configuration and none of them was loaded"
                )
            for file in held:
                report.files.append(write_file(con, source, file, run_id, order.get(source.name, 0)))
    return report


def _fits(con: duckdb.DuckDBPyConnection, source: Source, file: PreparedFile) -> bool:
    """True when a file just written shows that the source's mapping fits its files: it loaded
    records now, or, unchanged since, when it loaded (under the same configuration: the fingerprint)."""
    if file.status == "loaded":
        return file.records > 0
    return file.status == "skipped" and bool(scalar(
        con, "select count(*) from load_log where source = ? and file_path = ? and records_read > 0",
        [source.name, str(file.path)]))


def load_file(
    con: duckdb.DuckDBPyConnection, source: Source, path: Path, run_id: str, source_order: int = 0
) -> FileLoad:
    """Load one file of a source unless the log shows it unchanged; its old rows are replaced."""
    if not path.is_file():
        raise ReviewpipeError(f"{path}: no such file; check the path and run again")
    prepared = prepare_file(con, source, path, _known(con, source, path))
    if prepared.misfit:  # its source's only file here
        raise ReviewpipeError(prepared.message or "")
    return write_file(con, source, prepared, run_id, source_order)


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
        file.status, file.message = "unreadable", f"unreadable as {source.format}: {_first_line(exc)}"
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
    if _table_exists(con, readers.REJECTS_TABLE):
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


class MappingMisfit(ReviewpipeError):
    """A file whose columns do not fit the source's [sources.columns]."""


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


def _refused_file(link: RefusedLink) -> PreparedFile:
    """A refused symlink as an unreadable file (no rows, so no modification time is stored); its
    fingerprint is its message's, so that a run sees it change only when the link's target does."""
    return PreparedFile(link.path, hashlib.sha256(link.message.encode()).hexdigest(), 0,
                        datetime.now(UTC).replace(tzinfo=None), "unreadable", message=link.message)


# A changed file of this size is read in a thread while the one before it is written. A smaller one
# is read in line: reading apart costs a connection of its own and an Arrow copy of the rows (20-40
# ms a file), more than it overlaps (the sample's 9 files of 70-220 KB: ingest 0.59-0.77 s in
# line, 0.77-1.41 s read ahead). So is a bigger one: its rows would be held in memory whole (in
# line, DuckDB spills them to disk beyond memory_limit).
READ_AHEAD_MIN_BYTES = 8 << 20
READ_AHEAD_MAX_BYTES = 512 << 20


def _read_ahead(con: duckdb.DuckDBPyConnection, jobs: list[tuple[Source, Path]]) -> Iterator[PreparedFile]:
    """Each job's file prepared, in order. When several files changed, each changed file of
    READ_AHEAD_MIN_BYTES to READ_AHEAD_MAX_BYTES is read by `read_file_apart` in a thread while the
    files before it are written: DuckDB runs most of a file's statements on one core (it gives a
    thread to each 122,880 rows, more than a file of 100,000 reviews holds), so the read takes the
    other (300,000 reviews in 3 files: ingest 15.0-16.6 -> 11.5-12.1 s). Other files are read
    through `con` (files unchanged by their logged state are not read at all)."""
    known = [_known(con, source, path) for source, path in jobs]
    changed = [i for i, ((source, path), k) in enumerate(zip(jobs, known, strict=True))
               if not (k and _logged_state_holds(path, source, k[1]))]
    ahead = [i for i in changed if READ_AHEAD_MIN_BYTES <= _size(jobs[i][1]) <= READ_AHEAD_MAX_BYTES]
    if len(changed) < 2 or not ahead:
        for (source, path), k in zip(jobs, known, strict=True):
            yield prepare_file(con, source, path, k)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewpipe-read") as reader:
        reads: dict[int, Future[PreparedFile]] = {}
        upcoming = iter(ahead)

        def read_next() -> None:
            i = next(upcoming, None)
            if i is not None:
                reads[i] = reader.submit(read_file_apart, (*jobs[i], known[i]))

        read_next()
        to_read = set(ahead)
        for i, ((source, path), k) in enumerate(zip(jobs, known, strict=True)):
            if i not in to_read:
                yield prepare_file(con, source, path, k)
                continue
            file = reads.pop(i).result()
            read_next()  # read while this one is written
            yield file


def _logged_state_holds(path: Path, source: Source, state: str | None) -> bool:
    try:
        return file_state(path, source) == state
    except FileNotFoundError:
        return False  # prepare_file says so


def _size(path: Path) -> int:
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


def write_file(
    con: duckdb.DuckDBPyConnection, source: Source, file: PreparedFile, run_id: str, source_order: int
) -> FileLoad:
    """Write a prepared file in one transaction: its old rows are replaced, the load is logged."""
    print_path = str(file.path)
    if file.status == "skipped":
        # unchanged bytes under a new state (touched, copied back): log the state, not to hash again
        con.execute(
            "update load_log set file_state = ? where source = ? and file_path = ? "
            "and file_state is distinct from ?", [file.state, source.name, print_path, file.state])
        return FileLoad(source.name, print_path, "skipped")
    relations = {kind: _relation(con, f"_arrow_{kind}", _in_batches(con, file, t))
                 for kind, t in file.tables.items()}
    rejects = _relation(con, "_arrow_rejects", file.rejects) if file.rejects is not None else None
    try:
        with transaction(con):
            _forget_file(con, source.name, print_path)
            if file.status == "unreadable":
                con.execute(
                    "insert into raw_rejects values (?, ?, ?, null, null, null, ?, ?)",
                    [source.name, source.kind, print_path, file.message, run_id],
                )
            for kind, relation in relations.items():
                # the file's rows as raw_{kind} holds them; typing reads them from here too, not
                # back from raw_{kind}, so that it scans the prepared rows in parallel
                fields = ", ".join(FIELDS_BY_KIND[kind])
                # the scale's points, validated numbers (settings.Source): a review's rating is one
                points = (f"{float(source.rating_min or 0)!r} as rating_min, "
                          f"{float(source.rating_step or 1)!r} as rating_step, " if kind == "reviews" else "")
                con.execute(
                    f"""
                    create or replace temp view raw_{kind}_batch as
                    select {_literal(source.name)} as source, {_literal(print_path)} as file_path,
                        row_number, {int(source.scale_top)} as rating_scale, {points}{fields}, failed_fields,
                        {int(source_order)} as source_order,
                        {_literal(file.modified_at.isoformat())}::timestamp as file_modified_at,
                        {_literal(run_id)} as run_id
                    from {relation}
                    """
                )
                con.execute(f"insert into raw_{kind} by name select * from raw_{kind}_batch order by row_number")
            if "reviews" in relations:
                _type_reviews(con, source.name, print_path)
            if rejects:
                con.execute(
                    f"""
                    insert into raw_rejects
                    select ?, ?, ?, line_number, column_name, raw_value, reason, ?
                    from {rejects}
                    """,
                    [source.name, source.kind, print_path, run_id],
                )
            _log(con, source, file, run_id)
    finally:
        for relation in [*relations.values(), rejects]:
            if relation and relation.startswith("_arrow_"):
                con.unregister(relation)
            elif relation:
                con.execute(f"drop table if exists {relation}")
    return FileLoad(source.name, print_path, file.status, file.records, file.rejected, file.message)


# Prepared rows are written from Arrow record batches of this many rows: DuckDB gives a thread to each
# batch, where a temp table gives one to each 122,880 rows, so typing a file of 100,000 reviews ran
# on one core (300,000 rows in 3 files: ingest 9.9-10.6 -> 8.9-9.2 s).
ARROW_BATCH_ROWS = 16_384


def _in_batches(con: duckdb.DuckDBPyConnection, file: PreparedFile, table: str | pa.Table) -> str | pa.Table:
    """A prepared temp table of more than one batch as Arrow batches (the temp table dropped); other
    tables as they are: a file too big to read ahead stays in the temp table, which DuckDB can spill."""
    if not isinstance(table, str) or file.size > READ_AHEAD_MAX_BYTES \
            or scalar(con, f"select count(*) from {table}") <= ARROW_BATCH_ROWS:
        return table
    batches = con.sql(f"select * from {table} order by row_number").to_arrow_table(ARROW_BATCH_ROWS)
    con.execute(f"drop table {table}")
    return batches


def _relation(con: duckdb.DuckDBPyConnection, name: str, table: str | pa.Table) -> str:
    """The name to select a prepared table by: a temp table's own, or an Arrow table registered as name."""
    if isinstance(table, str):
        return table
    con.register(name, table)
    return name


def _known(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> tuple[str, str | None] | None:
    """(fingerprint, file_state) of the file's last load, if it loaded."""
    found = rows(
        con,
        "select fingerprint, file_state from load_log "
        "where source = ? and file_path = ? and status = 'loaded'",
        [source.name, str(path)],
    )
    return found[0] if found else None


def _file_state(path: Path) -> tuple[int, int]:
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


def mapping_select(
    con: duckdb.DuckDBPyConnection, source: Source, kind: str, table: str, file_path: str
) -> str:
    """The select list that turns the file's columns into the kind's fields, as text, plus failed_fields.

    A configured value that names a column of the file is that column; anything else is a DuckDB
    expression over the file's columns, `filename` and `file_row` (`table` is _numbered's view).
    Expressions are wrapped in try() so one bad value does not fail the file; the rows where they
    raised are listed in failed_fields. A mapping the file's columns do not fit raises MappingMisfit.
    """
    columns = [r[0] for r in rows(con, f"describe {table}")]
    configured_columns = {**readers.default_columns(source.format, kind), **source.columns}
    exprs: dict[str, str] = {}
    expression_fields: list[str] = []
    for name in FIELDS_BY_KIND[kind]:
        configured = configured_columns.get(name)
        if configured is None:
            exprs[name] = quote_identifier(name) if name in columns else "null"
        elif configured in columns:
            exprs[name] = quote_identifier(configured)
        else:
            _check_expression(con, source, name, configured)
            exprs[name] = f"({configured})"
            expression_fields.append(name)

    select_list = ", ".join(f"{expr} as {quote_identifier(name)}" for name, expr in exprs.items())
    try:
        types = {r[0]: r[1] for r in rows(con, f"describe select {select_list} from {table}")}
    except duckdb.Error as exc:
        raise MappingMisfit(
            f"source {source.name!r}, file {file_path}: the column mapping does not fit the file: "
            f"{_misfits(con, table, exprs, configured_columns) or _first_line(exc)}. "
            f"The file's columns are: {', '.join(columns)}. "
            "Fix [sources.columns] (a column name, or a DuckDB expression over these columns)."
        ) from exc

    as_text = []
    for name, expr in exprs.items():
        text = f"array_to_string({expr}, ', ')" if types[name].endswith("[]") else f"{expr}::varchar"
        text = f"try({text})" if name in expression_fields else text
        as_text.append(f"{text} as {quote_identifier(name)}")
    failed = ", ".join(
        f"case when try(({exprs[name]}) is null) is null then '{name}' end"
        for name in expression_fields
    )
    failed_list = f"list_filter([{failed}], lambda x: x is not null)" if failed else "[]::varchar[]"
    return ", ".join(as_text) + f", {failed_list} as failed_fields"


def _misfits(con: duckdb.DuckDBPyConnection, table: str, exprs: dict[str, str],
             configured: dict[str, str]) -> str:
    """Each mapped field whose column or expression the file cannot give, with DuckDB's reason."""
    missing = []
    for name, expr in exprs.items():
        try:
            rows(con, f"describe select {expr} from {table}")
        except duckdb.Error as exc:
            missing.append(f"{name} = {configured.get(name, name)!r} ({_first_line(exc)})")
    return "; ".join(missing)


def _check_expression(con: duckdb.DuckDBPyConnection, source: Source, name: str, expr: str) -> None:
    """Reject a configured expression unless it is exactly one plain scalar expression."""
    parsed = json.loads(scalar(con, "select json_serialize_sql(?)", [f"select {expr}"]))
    where = f"source {source.name!r}: [sources.columns] {name} = {expr!r}"
    if parsed.get("error"):
        raise ReviewpipeError(
            f"{where} is neither a column of the file nor a valid DuckDB expression "
            f"({parsed.get('error_message')}); name a column exactly or fix the expression"
        )
    statements = parsed["statements"]
    node = statements[0]["node"] if len(statements) == 1 else {}
    text = json.dumps(statements)
    if (
        len(statements) != 1
        or node.get("type") != "SELECT_NODE"
        or len(node.get("select_list", [])) != 1
        or node.get("from_table", {}).get("type") != "EMPTY"
        or '"SUBQUERY"' in text
    ):
        raise ReviewpipeError(
            f"{where} must be a single expression over the file's columns (no queries or subqueries)"
        )
    per_set = _set_functions(con, node["select_list"][0])
    if per_set:
        # DuckDB would run it over the whole file (one value for all records) or fail on it at
        # read time; either way not a value of each record
        raise ReviewpipeError(
            f"{where} uses {', '.join(per_set)}, which DuckDB computes over many records (an "
            "aggregate or window function); a column expression is computed from one record alone: "
            "use its columns, filename and file_row (its 1-based position in the file)"
        )


def _set_functions(con: duckdb.DuckDBPyConnection, node: Any) -> list[str]:
    """The functions of a parsed expression that are not computed record by record: window functions,
    aggregates (DuckDB's catalog knows which) and unnest (several values per record), by name."""
    found: list[str] = []
    pending = [node]
    aggregates: set[str] | None = None
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        pending.extend(item.values())
        name = item.get("function_name")
        if item.get("class") == "WINDOW":
            found.append(f"{name}() over (...)")
        elif item.get("class") == "FUNCTION" and name:
            if aggregates is None:
                aggregates = {r[0] for r in rows(
                    con, "select distinct function_name from duckdb_functions() "
                         "where function_type = 'aggregate'")}
            if name in aggregates or name == "unnest":
                found.append("count(*)" if name == "count_star" else f"{name}()")
    return sorted(set(found))


def stage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild the staging models from the raw tables in one transaction; stg_ and quarantine row counts.

    stg_reviews' marks (`_mark_staged`) and the review rows of quarantine are redone only for the
    review ids whose rows changed since they were built (staging_touched), unless their models
    changed: a review's rows there depend only on the rows with its id (int_reviews_validated
    ranks copies by id), and reading every row again is most of a small load's time. The ids
    restaged (or, after a whole rebuild, a null meaning all) are added to publish_pending, for
    publishing likewise, with the titles those reviews had before and have after (their per-title
    figures change).
    """
    version = hashlib.sha256("".join(read_model(m) for m in _STG_REVIEWS_MODELS).encode()).hexdigest()
    with transaction(con):
        current = scalar(con, "select version from staging_state where model = 'stg_reviews'") == version \
            and _table_exists(con, "quarantine")
        con.execute("create or replace temp table _touched as select distinct review_id from staging_touched")
        if current:  # the titles the touched reviews had: their published figures change too
            state.note_titles_before_restaging(con)
        for model in STAGING_MODELS:
            if current and model in _RESTAGED:
                _restage_touched(con, model, _RESTAGED[model])
            else:
                build_model(con, model, view=model in _VIEWS)
            if model == "staging/stg_reviews.sql":
                _mark_staged(con, touched_only=current)
            hooks.pause("staging")
        state.note_restaged(con, whole=not current)  # the ids, and the titles they have now
        con.execute("drop table _touched")
        con.execute("delete from staging_touched")
        con.execute("insert or replace into staging_state values ('stg_reviews', ?)", [version])
    return staged_counts(con)


# Models restaged for the touched review ids alone, and which of their table's rows those are:
# quarantine's rows without a review_id (titles' problems, reader rejects) are few and always rebuilt.
_RESTAGED = {
    "staging/quarantine.sql": "review_id is null or review_id in (select review_id from _touched)",
}


def _restage_touched(con: duckdb.DuckDBPyConnection, model: str, rows_of_touched: str) -> None:
    """Replace the model's table's rows of the touched review ids (_touched) by the model's rows."""
    with _touched_rows_only(con):
        table = Path(model).stem
        con.execute(f"delete from {table} where {rows_of_touched}")
        con.execute(f"insert into {table} by name {read_model(model)}")


def _mark_staged(con: duckdb.DuckDBPyConnection, *, touched_only: bool) -> None:
    """Mark the int_reviews_typed rows that stg_reviews shows: those without a problem that are their
    review's first copy (int_reviews_validated); all rows, or those of the touched review ids.
    A flag costs little to set (0.03 s for 1,000,000 rows) where a table of the staged rows stored
    every text once more (5.5 s of a cold ingest of 1,000,000 reviews, its commit aside)."""
    typed = f"{quote_identifier(scalar(con, 'select current_database()'))}.main.int_reviews_typed"
    scope = "where review_id in (select review_id from _touched)" if touched_only else ""
    with _touched_rows_only(con) if touched_only else nullcontext():
        con.execute(f"update {typed} set staged = len(problems) = 0 {scope}")
        con.execute(
            f"""
            update {typed} as typed set staged = false
            from (select source, file_path, row_number from int_reviews_validated
                  where len(problems) > 0) as unusable
            where typed.staged and typed.source = unusable.source
                and typed.file_path = unusable.file_path and typed.row_number = unusable.row_number
            """
        )


@contextmanager
def _touched_rows_only(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Within, int_reviews_typed and int_reviews_validated name the touched review ids' rows alone.

    Temp views of those names stand in for the warehouse's (DuckDB looks names up in temp first):
    int_reviews_typed's rows of the ids in _touched, and int_reviews_validated's model over them.
    It ranks copies within a review id, so the touched ids' rows are the same as in the whole view.
    A filter on a model's output would not do: through quarantine's unnest of problems DuckDB cannot
    push it down; nor one on int_reviews_validated: DuckDB does not push a semi-join into its
    ranking window, which then ranked all 1M typed rows (0.3 s) to restage 10,000.
    """
    home = quote_identifier(scalar(con, "select current_database()"))
    con.execute(
        "create or replace temp view int_reviews_typed as select * from "
        f"{home}.main.int_reviews_typed where review_id in (select review_id from _touched)")
    con.execute("create or replace temp view int_reviews_validated as "
                + read_model("staging/int_reviews_validated.sql"))
    try:
        yield
    finally:
        con.execute("drop view temp.main.int_reviews_validated")
        con.execute("drop view temp.main.int_reviews_typed")


def staged_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in stg_reviews and stg_titles, and rows quarantined."""
    counts = {table: scalar(con, f"select count(*) from {table}") for table in ("stg_reviews", "stg_titles")}
    # a row with two problems has two quarantine entries but is one row not loaded
    counts["quarantine"] = scalar(
        con,
        "select count(*) from (select distinct source, file_path, row_number, line_number from quarantine)",
    )
    return counts


def ensure_typed_reviews(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild int_reviews_typed from every raw review when it is missing or its model has changed."""
    version = hashlib.sha256(
        (read_model(TYPED_REVIEWS) + read_model("schema/macros.sql")).encode()).hexdigest()
    if scalar(con, "select version from staging_state where model = 'int_reviews_typed'") == version \
            and _table_exists(con, "int_reviews_typed"):
        return
    with transaction(con):
        con.execute("create or replace temp view raw_reviews_batch as select * from raw_reviews")
        build_model(con, TYPED_REVIEWS)
        con.execute("delete from staging_state where model = 'stg_reviews'")  # rebuilt whole
        con.execute("insert or replace into staging_state values ('int_reviews_typed', ?)", [version])


def _type_reviews(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    """Add one file's raw reviews (the view raw_reviews_batch) to int_reviews_typed, typed and
    cleaned (_forget_file has removed the file's old rows)."""
    con.execute(f"insert into int_reviews_typed by name {read_model(TYPED_REVIEWS)}")
    _touch_file(con, source, file_path)


def _touch_file(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    """Note the review ids of a file's typed rows in staging_touched (before and after they change),
    with the title of those stg_reviews shows (before: the titles a reload or removal takes away)."""
    con.execute(
        "insert into staging_touched select distinct review_id, case when staged then title_id end "
        "from int_reviews_typed "
        "where source = ? and file_path = ?", [source, file_path])


def _renumber_sources(con: duckdb.DuckDBPyConnection, order: dict[str, int]) -> None:
    """Give loaded rows their source's position in the config as it is now: the first source wins a
    review's copies, so a reordered config re-ranks (as a whole build would) without a reload.
    The order last given is kept in staging_state, so an unchanged config reads no rows."""
    positions = json.dumps(order)
    if scalar(con, "select version from staging_state where model = 'source_order'") == positions:
        return
    with transaction(con):
        con.execute("insert or replace into staging_state values ('source_order', ?)", [positions])
        for name, position in order.items():
            con.execute(  # the review ids re-ranked, as _touch_file notes them
                "insert into staging_touched select distinct review_id, case when staged then title_id end "
                "from int_reviews_typed where source = ? and source_order <> ?", [name, position])
            for table in ("raw_reviews", "raw_titles", "int_reviews_typed"):
                con.execute(f"update {table} set source_order = ? where source = ? and source_order <> ?",
                            [position, name, position])


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def forget_source(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Remove everything a source loaded (its raw, typed and logged rows): it is loaded anew."""
    with transaction(con):
        con.execute("delete from staging_state where model = 'stg_reviews'")  # rebuilt whole
        for table in ("raw_reviews", "raw_titles", "raw_rejects", "load_log", "int_reviews_typed"):
            con.execute(f"delete from {table} where source = ?", [name])


def _forget_file(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    _touch_file(con, source, file_path)
    for table in ("raw_reviews", "raw_titles", "raw_rejects", "int_reviews_typed"):
        con.execute(f"delete from {table} where source = ? and file_path = ?", [source, file_path])


def _log(con: duckdb.DuckDBPyConnection, source: Source, file: PreparedFile, run_id: str) -> None:
    con.execute(
        """
        insert or replace into load_log
            (source, kind, file_path, fingerprint, file_bytes, status, records_read, lines_rejected,
             message, run_id, loaded_at, file_state)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            source.name, source.kind, str(file.path), file.fingerprint, file.size, file.status,
            file.records, file.rejected, file.message, run_id, datetime.now(UTC).replace(tzinfo=None),
            file.state,
        ],
    )


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(scalar(con, "select count(*) from duckdb_tables() where table_name = ?", [name]))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
