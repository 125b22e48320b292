"""Staging: the staging models (sql/staging) built from the raw tables, kept up to date per review id.

int_reviews_typed is typed file by file as files load; the review ids whose rows changed are noted
in staging_touched, and `stage` restages those alone, marks the rows stg_reviews shows (the
`staged` flag) and hands the ids and their titles on to publishing (publish_pending).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import duckdb

from reviewpipe import hooks, state
from reviewpipe.warehouse import (
    build_model,
    quote_identifier,
    read_model,
    scalar,
    table_exists,
    transaction,
)

# int_reviews_typed is kept up to date file by file as files load (see type_reviews); these are
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
            and table_exists(con, "quarantine")
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
    A flag costs little to set, where a table of the staged rows stored every text once more (a
    sizeable share of a cold ingest)."""
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
    ranking window, which then ranked all the typed rows to restage a few of them.
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
            and table_exists(con, "int_reviews_typed"):
        return
    with transaction(con):
        con.execute("create or replace temp view raw_reviews_batch as select * from raw_reviews")
        build_model(con, TYPED_REVIEWS)
        con.execute("delete from staging_state where model = 'stg_reviews'")  # rebuilt whole
        con.execute("insert or replace into staging_state values ('int_reviews_typed', ?)", [version])


def type_reviews(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    """Add one file's raw reviews (the view raw_reviews_batch) to int_reviews_typed, typed and
    cleaned (loading's _forget_file has removed the file's old rows)."""
    con.execute(f"insert into int_reviews_typed by name {read_model(TYPED_REVIEWS)}")
    touch_file(con, source, file_path)


def touch_file(con: duckdb.DuckDBPyConnection, source: str, file_path: str) -> None:
    """Note the review ids of a file's typed rows in staging_touched (before and after they change),
    with the title of those stg_reviews shows (before: the titles a reload or removal takes away)."""
    con.execute(
        "insert into staging_touched select distinct review_id, case when staged then title_id end "
        "from int_reviews_typed "
        "where source = ? and file_path = ?", [source, file_path])
