"""Mapping: a source's `[sources.columns]` (a column of the file, or a DuckDB expression over its
columns) onto the pipeline's fields, as the select list that reads a file's rows as text; and the
checks that refuse an expression that is not one value of each record."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from reviewpipe import sources as readers
from reviewpipe.errors import ReviewpipeError
from reviewpipe.schema import FIELDS_BY_KIND
from reviewpipe.settings import Source
from reviewpipe.warehouse import quote_identifier, rows, scalar


class MappingMisfit(ReviewpipeError):
    """A file whose columns do not fit the source's [sources.columns]."""


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
            f"{_misfits(con, table, exprs, configured_columns) or first_line(exc)}. "
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
            missing.append(f"{name} = {configured.get(name, name)!r} ({first_line(exc)})")
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


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
