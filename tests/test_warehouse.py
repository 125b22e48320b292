"""The warehouse helpers and the SQL macros every staging model uses (sql/schema/macros.sql)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.errors import ReviewpipeError
from reviewpipe.warehouse import connect, open_warehouse, rows, scalar


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
