"""Ingest: configured files -> raw_ tables (as text, with the file's rejects) -> staged stg_ tables.

Every file is read by DuckDB's own reader, mapped onto the pipeline's fields by the source's
`[sources.columns]`, and logged in `load_log` with a fingerprint so unchanged files are skipped and a
changed file replaces only its own rows. Validation happens in the staging models (sql/staging), which
send every unusable row to `quarantine` with its reason.
"""

from __future__ import annotations

import glob
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb

from reviewpipe import sources as readers
from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import FIELDS_BY_KIND, Settings, Source
from reviewpipe.warehouse import build_model, quote_identifier, rows, scalar, transaction

FileStatus = Literal["loaded", "skipped", "unreadable"]

STAGING_MODELS = (
    "staging/int_reviews_validated.sql",
    "staging/stg_reviews.sql",
    "staging/int_titles_validated.sql",
    "staging/stg_titles.sql",
    "staging/quarantine.sql",
)
_SOURCE_ROWS = "_source_rows"


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


def source_files(settings: Settings, source: Source) -> list[Path]:
    """The files the source's glob matches now, sorted so loads are deterministic."""
    pattern = str(settings.resolve(source.path))
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not matches:
        raise ReviewpipeError(
            f"source {source.name!r}: path {source.path!r} (resolved to {pattern}) matches no files; "
            "fix [[sources]] path in the config or put the files there"
        )
    return matches


def fingerprint(path: Path, source: Source) -> str:
    """sha256 over the file's bytes and the source's configuration (a new mapping reloads the file)."""
    digest = hashlib.sha256(source.model_dump_json(exclude={"name", "path"}).encode())
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    *,
    only: list[str] | None = None,
    paths: list[Path] | None = None,
    full_refresh: bool = False,
) -> IngestReport:
    """Load every new or changed file of the selected sources into the raw_ tables and log it.

    With `paths`, only those files are loaded (for `reviewpipe ingest`), each under the single source
    named in `only`. Each file is loaded in its own transaction, so a failure (a mapping that does not
    fit, a crash) leaves every file either fully loaded or as it was before.
    """
    selected = [settings.source(name) for name in only] if only else settings.sources
    if not selected:
        raise ReviewpipeError("no sources are configured; add [[sources]] to the config file")
    report = IngestReport()
    order = {s.name: i for i, s in enumerate(settings.sources)}
    for source in selected:
        if full_refresh:
            _forget_source(con, source.name)
        files = [p.resolve() for p in paths] if paths is not None else source_files(settings, source)
        for path in files:
            report.files.append(load_file(con, source, path, run_id, order.get(source.name, 0)))
    return report


def load_file(
    con: duckdb.DuckDBPyConnection, source: Source, path: Path, run_id: str, source_order: int = 0
) -> FileLoad:
    """Load one file of a source unless the log shows it unchanged; its old rows are replaced."""
    if not path.is_file():
        raise ReviewpipeError(f"{path}: no such file; check the path and run again")
    print_path = str(path)
    fp = fingerprint(path, source)
    previous = scalar(
        con,
        "select fingerprint from load_log where source = ? and file_path = ? and status = 'loaded'",
        [source.name, print_path],
    )
    if previous == fp:
        return FileLoad(source.name, print_path, "skipped")

    # Read outside the transaction: a file that cannot be parsed must not abort the load of the others.
    try:
        tables = _read_file(con, source, print_path)
    except (duckdb.Error, readers.UnreadableFile) as exc:
        reason = f"unreadable as {source.format}: {_first_line(exc)}"
        with transaction(con):
            _forget_file(con, source.name, print_path)
            con.execute(
                "insert into raw_rejects values (?, ?, ?, null, null, null, ?, ?)",
                [source.name, source.kind, print_path, reason, run_id],
            )
            _log(con, source, path, fp, "unreadable", 0, 0, reason, run_id)
        return FileLoad(source.name, print_path, "unreadable", message=reason)

    selects = {kind: mapping_select(con, source, kind, table, print_path) for kind, table in tables.items()}
    records = sum(scalar(con, f"select count(*) from {table}") for table in tables.values())
    has_rejects = _table_exists(con, readers.REJECTS_TABLE)
    rejected = (
        scalar(con, f"select count(distinct line) from {readers.REJECTS_TABLE}") if has_rejects else 0
    )
    modified_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    with transaction(con):
        _forget_file(con, source.name, print_path)
        for kind, table in tables.items():
            fields = FIELDS_BY_KIND[kind]
            # rowids of a temp table are contiguous in file order but need not start at 0
            first_rowid = scalar(con, f"select coalesce(min(rowid), 0) from {table}")
            con.execute(
                f"""
                insert into raw_{kind}
                    (source, file_path, row_number, rating_scale, {', '.join(fields)},
                     failed_fields, source_order, file_modified_at, run_id)
                select ?, ?, rowid - ? + 1, ?, {selects[kind]}, ?, ?, ?
                from {table}
                order by rowid
                """,
                [source.name, print_path, first_rowid, source.rating_scale, source_order,
                 modified_at, run_id],
            )
        if has_rejects:
            con.execute(
                f"""
                insert into raw_rejects
                select ?, ?, ?, line_number, column_name, raw_value, reason, ?
                from ({readers.rejects_sql()})
                """,
                [source.name, source.kind, print_path, run_id],
            )
        message = "the file holds no records" if records == 0 and rejected == 0 else None
        _log(con, source, path, fp, "loaded", records, rejected, message, run_id)
    for table in tables.values():
        con.execute(f"drop table if exists {table}")
    return FileLoad(source.name, print_path, "loaded", records, rejected, message)


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
    call, params = readers.reader_sql(source)
    con.execute(
        f"create or replace temp table {_SOURCE_ROWS} as select * from {call}", [file_path, *params]
    )
    return {source.kind: _SOURCE_ROWS}


def mapping_select(
    con: duckdb.DuckDBPyConnection, source: Source, kind: str, table: str, file_path: str
) -> str:
    """The select list that turns the file's columns into the kind's fields, as text, plus failed_fields.

    A configured value that names a column of the file is that column; anything else is a DuckDB
    expression over the file's columns and `filename`. Expressions are wrapped in try() so one bad
    value does not fail the file; the rows where they raised are listed in failed_fields.
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
        raise ReviewpipeError(
            f"source {source.name!r}, file {file_path}: the column mapping does not fit the file: "
            f"{_first_line(exc)}. The file's columns are: {', '.join(columns)}. "
            "Fix [sources.columns] (a column name, or a DuckDB expression over these columns)."
        ) from exc

    as_text = []
    for name, expr in exprs.items():
        text = f"array_to_string({expr}, ', ')" if types[name].endswith("[]") else f"{expr}::varchar"
        as_text.append(f"try({text})" if name in expression_fields else text)
    failed = ", ".join(
        f"case when try(({exprs[name]}) is null) is null then '{name}' end"
        for name in expression_fields
    )
    failed_list = f"list_filter([{failed}], lambda x: x is not null)" if failed else "[]::varchar[]"
    return ", ".join(as_text) + f", {failed_list}"


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


def stage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild the staging models from the raw tables in one transaction; stg_ and quarantine row counts."""
    with transaction(con):
        for model in STAGING_MODELS:
            build_model(con, model)
    counts = {table: scalar(con, f"select count(*) from {table}") for table in ("stg_reviews", "stg_titles")}
    # a row with two problems has two quarantine entries but is one row not loaded
    counts["quarantine"] = scalar(
        con,
        "select count(*) from (select distinct source, file_path, row_number, line_number from quarantine)",
    )
    return counts


def _forget_source(con: duckdb.DuckDBPyConnection, name: str) -> None:
    with transaction(con):
        for table in ("raw_reviews", "raw_titles", "raw_rejects", "load_log"):
            con.execute(f"delete from {table} where source = ?", [name])


def _forget_file(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    for table in ("raw_reviews", "raw_titles", "raw_rejects"):
        con.execute(f"delete from {table} where source = ? and file_path = ?", [source, file_path])


def _log(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    fp: str,
    status: str,
    records: int,
    rejected: int,
    message: str | None,
    run_id: str,
) -> None:
    con.execute(
        """
        insert or replace into load_log
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            source.name, source.kind, str(path), fp, path.stat().st_size, status, records,
            rejected, message, run_id, datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(scalar(con, "select count(*) from duckdb_tables() where table_name = ?", [name]))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
