"""Loading: each new or changed file of the selected sources written into the raw_ tables in its own
transaction (its old rows replaced, its reader's rejects and a refused or unreadable file kept for
quarantine), logged in load_log, and its reviews typed for staging."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from reviewpipe import hooks
from reviewpipe.errors import ReviewpipeError
from reviewpipe.ingest.discovery import RefusedLink, last_load, source_files
from reviewpipe.ingest.reading import (
    FileStatus,
    Mapper,
    PreparedFile,
    in_batches,
    prepare_file,
    read_ahead,
    read_file_apart,
    refused_file,
)
from reviewpipe.ingest.staging import ensure_typed_reviews, touch_file, type_reviews
from reviewpipe.schema import FIELDS_BY_KIND
from reviewpipe.settings import Settings, Source
from reviewpipe.warehouse import scalar, sql_literal, transaction


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
        """How many files got that status."""
        return sum(1 for f in self.files if f.status == status)

    @property
    def records(self) -> int:
        """Records read from the files loaded."""
        return sum(f.records for f in self.files if f.status == "loaded")


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
    when several changed (`read_ahead`).
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
        prepared: Iterable[PreparedFile] = read_ahead(con, jobs)
    else:
        prepared = read_map(
            read_file_apart, [(s, p, last_load(con, s, p)) for s, p in jobs]
        )
    report = IngestReport()
    for source, link in refusals:  # logged and quarantined as unreadable, never read
        report.files.append(write_file(con, source, refused_file(link), run_id, order.get(source.name, 0)))
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
    prepared = prepare_file(con, source, path, last_load(con, source, path))
    if prepared.misfit:  # its source's only file here
        raise ReviewpipeError(prepared.message or "")
    return write_file(con, source, prepared, run_id, source_order)


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
    relations = {kind: _relation(con, f"_arrow_{kind}", in_batches(con, file, t))
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
                # and its declared language (validated: two letters, settings.Source)
                language = sql_literal(source.language) + "::varchar" if source.language else "null::varchar"
                points = (f"{float(source.rating_min or 0)!r} as rating_min, "
                          f"{float(source.rating_step or 1)!r} as rating_step, "
                          f"{language} as source_language, " if kind == "reviews" else "")
                con.execute(
                    f"""
                    create or replace temp view raw_{kind}_batch as
                    select {sql_literal(source.name)} as source, {sql_literal(print_path)} as file_path,
                        row_number, {int(source.scale_top)} as rating_scale, {points}{fields}, failed_fields,
                        {int(source_order)} as source_order,
                        {sql_literal(file.modified_at.isoformat())}::timestamp as file_modified_at,
                        {sql_literal(run_id)} as run_id
                    from {relation}
                    """
                )
                con.execute(f"insert into raw_{kind} by name select * from raw_{kind}_batch order by row_number")
            if "reviews" in relations:
                type_reviews(con, source.name, print_path)
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


def _relation(con: duckdb.DuckDBPyConnection, name: str, table: str | pa.Table) -> str:
    """The name to select a prepared table by: a temp table's own, or an Arrow table registered as name."""
    if isinstance(table, str):
        return table
    con.register(name, table)
    return name


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
            con.execute(  # the review ids re-ranked, as touch_file notes them
                "insert into staging_touched select distinct review_id, case when staged then title_id end "
                "from int_reviews_typed where source = ? and source_order <> ?", [name, position])
            for table in ("raw_reviews", "raw_titles", "int_reviews_typed"):
                con.execute(f"update {table} set source_order = ? where source = ? and source_order <> ?",
                            [position, name, position])


def forget_source(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Remove everything a source loaded (its raw, typed and logged rows): it is loaded anew."""
    with transaction(con):
        con.execute("delete from staging_state where model = 'stg_reviews'")  # rebuilt whole
        for table in ("raw_reviews", "raw_titles", "raw_rejects", "load_log", "int_reviews_typed"):
            con.execute(f"delete from {table} where source = ?", [name])


def _forget_file(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    """Remove a file's raw, rejected and typed rows (its review ids noted as touched first)."""
    touch_file(con, source, file_path)
    for table in ("raw_reviews", "raw_titles", "raw_rejects", "int_reviews_typed"):
        con.execute(f"delete from {table} where source = ? and file_path = ?", [source, file_path])


def _log(con: duckdb.DuckDBPyConnection, source: Source, file: PreparedFile, run_id: str) -> None:
    """Record a file's load in load_log (one row per source and file, replaced at each load)."""
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
