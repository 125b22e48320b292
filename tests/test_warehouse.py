"""The warehouse helpers and the SQL macros every staging model uses (sql/schema/macros.sql)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.errors import ReviewpipeError
from reviewpipe.warehouse import _CATALOG, connect, open_warehouse, read_model, rows, scalar


@pytest.fixture(scope="module")
def con():
    c = connect()
    yield c
    c.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # <br /> in any spelling becomes a newline; two make a paragraph break
        ("Good.<br /><br />Bad.", "Good.\n\nBad."),
        ("a<BR>b<br/>c", "a\nb\nc"),
        # named and numeric entities decode; &nbsp; becomes a plain space
        ("Tom &amp; Jerry &#39;96 &quot;x&quot; &#x27;y&#x27;", "Tom & Jerry '96 \"x\" 'y'"),
        ("a&nbsp;&nbsp;b", "a b"),
        # CRLF, tabs and runs of spaces collapse; more than one blank line becomes one
        ("  one\r\ntwo\t\tthree  \n\n\n\nfour ", "one\ntwo three\n\nfour"),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_text(con, raw: str | None, expected: str | None) -> None:
    assert scalar(con, "select clean_text(?)", [raw]) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("34,370", 34370), ("2.9K", 2900), ("1.2M", 1200000), ("57", 57), (" 0 ", 0), ("-3", -3),
     ("ten", None), ("", None), ("1,23", None), ("4.5", None)],
)
def test_parse_count(con, raw: str, expected: int | None) -> None:
    # "1,23" is not a thousands-separated number and "4.5" is not a whole count: both stay unparsed
    assert scalar(con, "select parse_count(?)", [raw]) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("8", (8.0, None)), ("8.1", (8.1, None)), ("8.1/10", (8.1, 10.0)), (" 4 / 5 ", (4.0, 5.0)), ("0", (0.0, None)),
     ("5/0", (5.0, 0.0)), ("4/5/6", (None, None)),
     ("\n   Was this review helpful?  Sign in to vote.\n   ", (None, None)), ("ten", (None, None)), ("", (None, None))],
)
def test_parse_rating(con, raw: str, expected: tuple[float | None, float | None]) -> None:
    # the rating as given and the scale it is written out of; rescale_rating turns the two into a rating
    assert scalar(con, "select parse_rating(?)", [raw]) == dict(zip(("given", "out_of"), expected, strict=True))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2002-09-03", date(2002, 9, 3)), ("3 September 2002", date(2002, 9, 3)),
     ("September 3, 2002", date(2002, 9, 3)), ("3 Sep 2002", date(2002, 9, 3)),
     ("2015-08-31 10:11:12", date(2015, 8, 31)),
     ("2021-02-30", None), ("yesterday", None), ("", None)],
)
def test_parse_date(con, raw: str, expected: date | None) -> None:
    # 2021-02-30 is shaped like a date but is not a day: it must not parse
    assert scalar(con, "select parse_date(?)", [raw]) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Drama | War", "Drama, War"), ("Drama,Romance", "Drama, Romance"),
     ("[Action, Adventure]", "Action, Adventure"), ("", None)],
)
def test_clean_list(con, raw: str, expected: str | None) -> None:
    assert scalar(con, "select clean_list(?)", [raw]) == expected


# texts made of what the cleaning rules look at: every kind of whitespace, entities, tags, non-ASCII
_CLEANING_TEXTS = st.lists(st.sampled_from(
    ["a", "Zoë", "word", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\xa0", "\u2003", "&amp;", "&nbsp;",
     "&#10;", "<br />", "&", ";"]), max_size=30).map("".join)
_SPACE_SEPARATORS = "".join(chr(i) for i in range(0x3001) if unicodedata.category(chr(i)) == "Zs")


@settings(max_examples=300, deadline=None)
@given(raw=_CLEANING_TEXTS)
def test_clean_line_collapses_whitespace_as_the_rule_says(con, raw: str) -> None:
    """clean_line takes its regular expression only where it would change something: the same as
    decoding entities, collapsing runs of tab, line feed, form feed, carriage return and space
    (the \\s of DuckDB's regular expressions) to one space and trimming the ends (DuckDB's trim
    takes every space separator, no-break spaces too), everywhere."""
    decoded = html.unescape(raw) if "&" in raw else raw
    expected = re.sub(r"[\t\n\x0c\r ]+", " ", decoded).strip(_SPACE_SEPARATORS) or None
    assert scalar(con, "select clean_line(?)", [raw]) == expected


@settings(max_examples=300, deadline=None)
@given(raw=_CLEANING_TEXTS)
def test_word_count_counts_the_runs_between_spaces_and_line_breaks_of_a_cleaned_text(con, raw: str) -> None:
    cleaned = scalar(con, "select clean_text(?)", [raw])
    expected = len(re.split(r"[ \n]+", cleaned)) if cleaned is not None else 0
    assert scalar(con, "select word_count(clean_text(?))", [raw]) == expected


def test_a_locked_warehouse_fails_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with open_warehouse(db):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ReviewpipeError, match=rf"locked by another process .*PID {holder.pid}"):
            connect(db, wait=1.0)
    finally:
        holder.kill()
        holder.wait()


def test_open_warehouse_creates_the_schema(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as c:
        tables = {r[0] for r in rows(c, "select table_name from duckdb_tables()")}
    assert {"raw_reviews", "raw_titles", "raw_rejects", "load_log", "sentiment_scores", "runs"} <= tables


def _catalog(path: Path) -> list[tuple]:
    with connect(path, read_only=True) as c:
        return rows(c, "select table_name, column_name, data_type from duckdb_columns() "
                       "where database_name = current_database() and schema_name = 'main' "
                       "order by table_name, column_index")


@pytest.fixture(scope="module")
def schema_template(tmp_path_factory) -> Path:
    """A new warehouse: the schema script's catalog, stamped."""
    path = tmp_path_factory.mktemp("template") / "w.duckdb"
    with open_warehouse(path):
        pass
    return path


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_schema_script_skipped_when_current_changes_nothing_the_script_would(
    tmp_path_factory, schema_template: Path, data
) -> None:
    """open_warehouse skips the schema script while the catalog is what it made (ensure_schema).
    After tables or columns are dropped or other tables made, the catalog an open leaves is the one
    running the script itself leaves, and it is stamped so the next open skips the script."""
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "w.duckdb"
    shutil.copy(schema_template, path)
    whole = _catalog(schema_template)
    tables = sorted({t for t, _, _ in whole})
    with connect(path) as c:
        for _ in range(data.draw(st.integers(0, 3), label="changes")):
            table = data.draw(st.sampled_from(tables), label="table")
            change = data.draw(st.sampled_from(["drop table", "drop column", "other table"]), label="change")
            try:
                if change == "drop table":
                    c.execute(f"drop table if exists {table}")
                elif change == "drop column":
                    column = data.draw(st.sampled_from([col for t, col, _ in whole if t == table]), label="column")
                    c.execute(f"alter table if exists {table} drop column if exists {column}")
                else:
                    c.execute(f"create table if not exists other_{table} (x integer)")
            except duckdb.CatalogException:
                pass  # a key's column, a table's last one
    shutil.copy(path, folder / "script.duckdb")
    with connect(folder / "script.duckdb") as c:  # what running the script makes of this catalog
        try:
            c.execute(read_model("schema/warehouse.sql"))
        except duckdb.Error as exc:  # a catalog the script itself cannot take (a column it names dropped)
            with pytest.raises(type(exc)), open_warehouse(path):
                pass
            return
    with open_warehouse(path):
        pass
    assert _catalog(path) == _catalog(folder / "script.duckdb")
    with connect(path, read_only=True) as c:
        try:
            kept = scalar(c, "select version from staging_state where model = 'warehouse_schema'")
        except duckdb.Error:  # staging_state itself broken: no stamp, the script runs at every open
            return
        assert kept.split(" ")[1] == scalar(c, _CATALOG)
    with open_warehouse(path) as c:  # nothing changed since: the stamp stays, the script is skipped
        assert scalar(c, "select version from staging_state where model = 'warehouse_schema'") == kept


# --- a corrupt warehouse, the run lock's holder, the warehouse's owner (issue 21, items 12-14) ---

@pytest.fixture(scope="module")
def filled_warehouse(tmp_path_factory) -> Path:
    """A small warehouse holding rows in the tables a run reads first."""
    path = tmp_path_factory.mktemp("filled") / "w.duckdb"
    with open_warehouse(path) as c:
        c.execute("insert into load_log select 's', 'reviews', 'f' || i, 'x', 1, 'loaded', 1, 0, null, "
                  "'r', now(), null from range(20000) t(i)")
        c.execute("insert into runs (run_id, started_at, status) select 'r' || i, now(), 'succeeded' "
                  "from range(20000) t(i)")
    return path


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_corrupt_warehouse_is_one_error_naming_it_and_how_to_rebuild(tmp_path_factory, filled_warehouse,
                                                                        data) -> None:
    """Garbage bytes over any part of a warehouse, or a file that never was one: opening it and
    reading every table either works (the garbage fell on unused space) or raises the one error
    that names the file and says how to rebuild it, never a bare DuckDB error."""
    path = tmp_path_factory.mktemp("corrupt") / "w.duckdb"
    whole = filled_warehouse.read_bytes()
    if data.draw(st.booleans(), label="never a DuckDB file"):
        path.write_bytes(data.draw(st.binary(min_size=1, max_size=20000), label="bytes"))
    else:
        start = data.draw(st.integers(0, len(whole) - 1), label="start")
        length = data.draw(st.integers(1, 300_000), label="length")
        garbage = data.draw(st.randoms(use_true_random=False), label="random").randbytes(length)
        path.write_bytes(whole[:start] + garbage + whole[start + length:])
    try:
        with open_warehouse(path, wait=0) as c:
            for (table,) in rows(c, "select table_name from duckdb_tables()"):
                rows(c, f"select * from {table}")
    except ReviewpipeError as exc:
        assert f"the warehouse {path} is corrupt" in str(exc) and "--full-refresh" in str(exc)


def test_run_holder_names_the_process_holding_the_run_lock(tmp_path: Path) -> None:
    import getpass
    import socket

    from reviewpipe.warehouse import describe_holder, run_holder

    db = tmp_path / "w.duckdb"
    assert run_holder(db) is None  # no lock file yet
    holder = subprocess.Popen(
        [sys.executable, "-c",
         ("import sys; from pathlib import Path; from reviewpipe.warehouse import note_run_id, run_lock\n"
          "with run_lock(Path(sys.argv[1])):\n    note_run_id(Path(sys.argv[1]), 'r-1')\n"
          "    print('ready', flush=True); sys.stdin.read()"), str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        found = run_holder(db)
        assert {k: found[k] for k in ("pid", "user", "host", "run_id")} == {
            "pid": holder.pid, "user": getpass.getuser(), "host": socket.gethostname(), "run_id": "r-1"}
        assert describe_holder(found).startswith(f"pid {holder.pid}, user {getpass.getuser()} on host ")
        assert run_holder(db) == found  # looking does not take or change the lock
    finally:
        holder.communicate("")  # ends the holder normally: the lock is released
    assert run_holder(db) is None  # the file stays, with its last holder, but nobody holds it


@pytest.fixture(scope="module")
def owned(tmp_path_factory):
    path = tmp_path_factory.mktemp("owned") / "w.duckdb"
    with open_warehouse(path) as c:
        yield path, c


@settings(max_examples=50, deadline=None)
@given(first=st.text(min_size=1, max_size=80), second=st.text(min_size=1, max_size=80))
def test_a_warehouse_takes_runs_of_its_own_configuration_only(owned, first: str, second: str) -> None:
    from reviewpipe.warehouse import WarehouseOwned, claim_warehouse

    path, c = owned
    c.execute("delete from warehouse_owner")
    claim_warehouse(c, path, first)  # a warehouse without an owner takes the first configuration
    claim_warehouse(c, path, first)  # and its runs, again and again
    if second != first:
        with pytest.raises(WarehouseOwned) as refused:
            claim_warehouse(c, path, second)
        assert all(s in str(refused.value) for s in (str(path), first, second, "--take-over-warehouse"))
        assert rows(c, "select configuration from warehouse_owner") == [(first,)]
    claim_warehouse(c, path, second, take_over=True)
    assert rows(c, "select configuration from warehouse_owner") == [(second,)]


def test_a_configuration_is_its_config_file_however_it_is_named(tmp_path: Path, monkeypatch) -> None:
    from reviewpipe.warehouse import configuration_name

    config = tmp_path / "project" / "reviewpipe.toml"
    config.parent.mkdir()
    config.write_text("[sentiment]\nworkers = 1\n")
    (tmp_path / "link.toml").symlink_to(config)
    monkeypatch.chdir(tmp_path)
    name = configuration_name(config)
    spellings = [Path("project/reviewpipe.toml"), Path("project/../project/./reviewpipe.toml"),
                 Path("link.toml"), tmp_path / "link.toml"]
    assert [configuration_name(s) for s in spellings] == [name] * len(spellings)
    config.write_text("[sentiment]\nworkers = 2\n")  # an edited file is the same configuration
    assert configuration_name(config) == name
    assert configuration_name(None) != name and str(tmp_path) in configuration_name(None)
    assert configuration_name(tmp_path / "other.toml") != name


_MACROS = """
    select function_name, parameters, macro_definition from duckdb_functions()
    where function_type = 'macro' and schema_name = 'main' and database_name = ?
    order by all
"""


def test_the_warehouse_keeps_the_macros_its_writable_connections_use(tmp_path: Path, monkeypatch) -> None:
    """open_warehouse's writable connections make no macros: the warehouse keeps them
    (ensure_schema), each as sql/schema/macros.sql defines it; after macros.sql or the kept
    macros change, the next writable open makes them again."""
    path = tmp_path / "w.duckdb"
    with connect() as memory:  # the macros as a connection makes them for itself
        defined = rows(memory, _MACROS, ["temp"])
    names = re.findall(r"create or replace temp macro (\w+)", read_model("schema/macros.sql"))
    assert sorted({n for n, _, _ in defined}) == sorted(set(names)) and len(names) >= 30
    with open_warehouse(path) as con:
        assert rows(con, _MACROS, ["temp"]) == []  # none made for it
        assert rows(con, _MACROS, ["w"]) == defined
        assert scalar(con, "select clean_text('  a&amp;b  ')") == "a&b"
    # a macro dropped and another's body changed by hand, with the stamp changed (as a new
    # release's macros.sql changes it): the next writable open puts them back
    with connect(path, macros=False) as con:
        con.execute("drop macro clean_text")
        con.execute("create or replace macro is_blank(t) as false")
        con.execute("update staging_state set version = 'older' where model = 'warehouse_schema'")
    with open_warehouse(path) as con:
        assert rows(con, _MACROS, ["w"]) == defined
        assert scalar(con, "select is_blank('  ')") is True
    # another macros.sql (a new release's) is made at the next writable open: its text is stamped
    from reviewpipe import warehouse

    kept = warehouse.persistent_macros()
    monkeypatch.setattr(warehouse, "persistent_macros", lambda: kept + "\ncreate or replace macro added_later() as 7;")
    with open_warehouse(path) as con:
        assert scalar(con, "select added_later()") == 7
    monkeypatch.undo()
    # read-only connections make their own, as before (a warehouse from before kept none)
    with connect(path, macros=False) as con:
        for (name,) in rows(con, "select distinct function_name from duckdb_functions() "
                                 "where function_type = 'macro' and database_name = 'w'"):
            con.execute(f"drop macro {name}")
    with open_warehouse(path, read_only=True) as con:
        assert scalar(con, "select clean_text('  a&amp;b  ')") == "a&b"
