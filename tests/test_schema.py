"""The schema vocabulary: what a run publishes and stages is what reviewpipe.schema declares."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import write

from reviewpipe import pipeline, schema
from reviewpipe.publish import CheckFailed, run_checks
from reviewpipe.settings import Paths, Settings, Source


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Settings:
    """Settings of a finished run over a titles and a reviews source, with a row in every published
    table (ann's 9 with hateful words is a rating-sentiment mismatch; bob's rating is no number)."""
    root = tmp_path_factory.mktemp("schema")
    write(root / "t.csv", "title_id,title,year,genres\ntt1,One,1975,Drama | War\n")
    write(root / "r.csv", "title_id,author,review_date,rating,helpful_votes,total_votes,review_text\n"
                          "tt1,ann,2020-01-01,9,1,2,Awful. Horrible. I hated every minute.\n"
                          "tt1,bob,2020-02-01,x,0,1,Lovely.\n"
                          "tt1,cy,2020-02-03,8,3,4,Lovely and wonderful.\n")
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "p.duckdb", exports=root / "x"),
        sources=[Source(name="t", kind="titles", path=str(root / "t.csv")),
                 Source(name="r", path=str(root / "r.csv"))],
        sentiment={"workers": 1},
        quality={"max_quarantined_share": 1},  # bob's rating is quarantined, by design
    )
    pipeline.run(settings)
    return settings


def columns(database: Path) -> dict[str, list[str]]:
    """Table (or view) -> its column names in order, of a database."""
    with duckdb.connect(str(database), read_only=True) as con:
        found: dict[str, list[str]] = {}
        for table, column in con.execute("select table_name, column_name from duckdb_columns() "
                                         "where not internal order by table_name, column_index").fetchall():
            found.setdefault(table, []).append(column)
        return found


def test_every_published_model_gives_the_schemas_columns_in_order(run) -> None:
    """A column added to a model without its description here fails (and one described, not made)."""
    published = columns(run.published_path)
    assert list(published) == sorted(schema.PUBLISHED_TABLES)
    for table in schema.TABLES:
        assert published[table.name] == list(table.column_names), table.name


def test_the_published_comments_are_the_schemas_words(run) -> None:
    with duckdb.connect(str(run.published_path), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        described = {(t, c): text for t, c, text in con.execute(
            "select table_name, column_name, comment from duckdb_columns() where not internal").fetchall()}
    for table in schema.TABLES:
        # a run appends its parameters to some tables' comments (agg_title_summary: C and m)
        assert tables[table.name] == table.description or tables[table.name].startswith(
            table.description + " "), table.name
        for column in table.columns:
            assert described[table.name, column.name] == column.description, (table.name, column.name)
    assert "C = " in tables["agg_title_summary"]  # the run's note is there, after the description


@pytest.mark.parametrize(("table", "kind", "in_order"), [
    ("raw_reviews", "reviews", True), ("int_reviews_typed", "reviews", False),
    ("int_reviews_validated", "reviews", False), ("stg_reviews", "reviews", True),
    ("raw_titles", "titles", True), ("int_titles_validated", "titles", True), ("stg_titles", "titles", True),
])
def test_the_warehouse_and_staging_models_hold_every_field(run, table: str, kind: str, in_order: bool) -> None:
    """The SQL keeps its own lists (each field cast and cleaned its own way); they are the schema's,
    in its order where a model lists them together (int_reviews_typed derives review_id last)."""
    # staging keeps the review's review_language as the language it declares (declared_language)
    staged_as = {"review_language": "declared_language"} if table not in ("raw_reviews", "raw_titles") else {}
    fields = [staged_as.get(f, f) for f in schema.FIELDS_BY_KIND[kind]]
    found = [c for c in columns(run.warehouse_path)[table] if c in fields]
    assert (found if in_order else sorted(found)) == list(fields if in_order else sorted(fields)), table


def test_the_declarations_name_their_own_columns() -> None:
    for table in schema.TABLES:
        names = table.column_names
        assert len(set(names)) == len(names), table.name
        assert set(table.key) <= set(names) and set(table.nullable_key) <= set(table.key), table.name
        assert set(re.findall(r"\w+", table.stored_order or "")) <= set(names), table.name
    assert schema.FIELDS_BY_KIND == {"reviews": schema.REVIEW_FIELDS, "titles": schema.TITLE_FIELDS}
    # the review fields come first in reviews (but review_language, beside source); titles
    # publishes nothing but its fields
    assert schema.REVIEWS.column_names[:len(schema.REVIEW_FIELDS) - 3] == schema.REVIEW_FIELDS[:-3]
    assert [c for c in schema.REVIEWS.column_names if c in schema.REVIEW_FIELDS] == list(schema.REVIEW_FIELDS)
    assert schema.TITLES.column_names == schema.TITLE_FIELDS


def test_each_key_check_finds_a_repeated_or_missing_key(run, tmp_path: Path) -> None:
    """Every published table but quarantine (no key) has one; a run's tables pass them all."""
    checks = schema.key_checks()
    assert set(checks) == {f"{t.name}_key" for t in schema.TABLES if t.name != "quarantine"}
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(run.published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        for table in schema.TABLES:
            if not table.key:
                continue
            check = checks[f"{table.name}_key"]
            assert con.execute(check).fetchall() == [], table.name
            if not con.execute(f"select count(*) from {table.name}").fetchone()[0]:
                # a table this small run leaves empty (the trust tables: no title has [trust]
                # min_title_reviews) gets one row of its key alone, which the checks below repeat
                # and null; checked first as a row of its own
                con.execute(f"insert into {table.name} ({', '.join(table.key)}) "
                            f"values ({', '.join('?' for _ in table.key)})", ["1"] * len(table.key))
                assert con.execute(check).fetchall() == [], table.name
            con.execute("begin")
            con.execute(f"insert into {table.name} select * from {table.name} limit 1")
            assert con.execute(check).fetchall(), f"{table.name}: a repeated key"
            con.execute("rollback")
            for column in table.key:
                con.execute("begin")
                con.execute(f"update {table.name} set {column} = null where rowid = 0")
                if column in table.nullable_key:
                    # agg_sentiment_agreement's overall rows have no title: a null alone is no repeat
                    assert con.execute(check).fetchall() == [], f"{table.name}.{column}"
                else:
                    assert con.execute(check).fetchall(), f"{table.name}.{column}: a missing key"
                con.execute("rollback")


def test_a_repeated_key_fails_the_run_naming_its_check(run, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(run.published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        run_checks(con)
        con.execute("insert into titles select * from titles")
        with pytest.raises(CheckFailed) as failed:
            run_checks(con)
    assert str(failed.value).startswith(
        "data check titles_key failed (titles: title_id is present and unique; reviewpipe.schema); "
        "first offending rows: (title_id = 'tt1', n = 2). Nothing was published;")


def test_the_schema_prints_the_readmes_tables() -> None:
    import subprocess
    import sys

    printed = subprocess.run([sys.executable, "-m", "reviewpipe.schema"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == schema.tables_markdown()
