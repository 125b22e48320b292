"""Fuzzing the readers: generated review exports (CSV, JSON lines, Parquet) and saved title pages, well
formed or cut short, never crash the load and never lose a row without a record (each row is staged
or quarantined with a reason, or the whole file is recorded unreadable with the reader's reason)."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe.ingest import ingest, stage
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.warehouse import open_warehouse, rows

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80)
ROW = st.tuples(
    st.sampled_from(["t1", "t2", "", " ", "t'3"]),
    st.sampled_from(["8", "10", "1", "", "abc", "11", "-1", "7.5", "9/10"]),
    st.sampled_from(["3", "0", "", "x", "-2"]),
    st.sampled_from(["5", "3", "", "0"]),
    TEXT,
)


def one_file_settings(folder: Path, name: str, fmt: str) -> Settings:
    """Settings that load folder/name as the only reviews source, everything else in folder."""
    return Settings(paths=Paths(warehouse=folder / "w.duckdb", published=folder / "p.duckdb",
                                exports=folder / "e", samples=folder / "s"),
                    sources=[Source(name="src", kind="reviews", path=str(folder / name), format=fmt,
                                    rating_scale=10)])


@dataclass
class Loaded:
    """What became of one loaded file: its load_log status and message, and its rows by row_number."""

    status: str
    message: str
    raw: set[int]
    staged: set[int]
    quarantined: set[int]
    rejected_lines: int
    unexplained: int  # quarantine entries without a reason (must be none)


def load_one(data: bytes, name: str, fmt: str) -> Loaded:
    """Ingest and stage one file holding `data` into a fresh warehouse; what became of it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / name).write_bytes(data)
        s = one_file_settings(folder, name, fmt)
        with open_warehouse(s.warehouse_path) as con:
            ingest(con, s, "run")
            stage(con)
            [(status, message)] = rows(con, "select status, coalesce(message, '') from load_log")
            return Loaded(
                status, message,
                raw={n for (n,) in rows(con, "select row_number from raw_reviews")},
                staged={n for (n,) in rows(con, "select row_number from stg_reviews")},
                quarantined={n for (n,) in rows(
                    con, "select row_number from quarantine where row_number is not null")},
                rejected_lines=rows(con, "select count(*) from quarantine where line_number is not null")[0][0],
                unexplained=rows(con, "select count(*) from quarantine where coalesce(reason, '') = ''")[0][0],
            )


def assert_nothing_lost(loaded: Loaded, expected_rows: int) -> None:
    """Every row of the file is staged or quarantined (not both), and every quarantine entry says why."""
    assert loaded.unexplained == 0
    assert not loaded.staged & loaded.quarantined
    assert loaded.staged | loaded.quarantined == loaded.raw == set(range(1, expected_rows + 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=12), st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_every_generated_row_is_staged_or_quarantined(rows_in: list[tuple], cut: bool, newline: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(["review_id", "title_id", "rating", "helpful_votes", "total_votes", "review_text"])
    for i, (title, rating, helpful, total, text) in enumerate(rows_in, start=1):
        writer.writerow([f"r{i}", title, rating, helpful, total, text])
    data = buffer.getvalue().encode("utf-8")
    if cut:  # an export cut off part-way through its last row
        data = data[: max(len(data) - 3, data.index(b"\n") + 1)]
    loaded = load_one(data, "reviews.csv", "csv")
    assert loaded.unexplained == 0  # every quarantined row says why
    # what csv.writer writes whole is readable (a lone carriage return in a quoted field included)
    assert cut or loaded.status == "loaded", (loaded.status, loaded.message)
    if loaded.status == "unreadable":
        assert loaded.message  # with the reader's reason
        return
    assert not loaded.staged & loaded.quarantined
    # rows the reader could not split (a cut-off last row) are kept as rejected lines, with their text
    missing = set(range(1, len(rows_in) + 1)) - loaded.staged - loaded.quarantined
    assert len(missing) <= loaded.rejected_lines, (missing, loaded.rejected_lines)


JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(allow_nan=False, width=32),
                       TEXT, st.lists(st.integers(0, 3), max_size=2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({"title_id": JSON_VALUE, "rating": JSON_VALUE,
                                       "helpful_votes": JSON_VALUE, "total_votes": JSON_VALUE,
                                       "review_text": JSON_VALUE}), min_size=1, max_size=10),
       st.booleans())
def test_every_generated_json_line_is_staged_or_quarantined(records: list[dict], cut: bool) -> None:
    import json

    lines = [json.dumps({"review_id": f"r{i}", **r}) for i, r in enumerate(records, start=1)]
    data = ("\n".join(lines) + "\n").encode()
    if cut:  # the last object cut off: the file is either unreadable (and says so) or loses nothing
        data = data[:-3]
    loaded = load_one(data, "reviews.jsonl", "jsonl")
    # whole JSON lines always load, whatever the values
    assert cut or loaded.status == "loaded", (loaded.status, loaded.message)
    if loaded.status == "unreadable":
        assert loaded.message.startswith("unreadable as jsonl")
        return
    assert_nothing_lost(loaded, len(records))


LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40).filter(
    lambda s: s.strip())
PAGE_REVIEW = st.fixed_dictionaries({
    "review_title": LINE,
    "date": st.sampled_from(["12 March 2004", "1 April 2005", "31 February 2004", "September 3, 2002"]),
    "author": st.sampled_from(["nightowl", "Zoë K.", "lumi_ja", "o'brien; drop table x"]),
    "rating": st.sampled_from([None, "8/10", "10/10", "1/10", "0/10", "11/10"]),
    "body": st.lists(LINE, min_size=1, max_size=3),
    "votes": st.one_of(st.none(), st.tuples(st.integers(0, 2000), st.integers(0, 2000))),
})


def page_text(title: str, reviews: list[dict]) -> str:
    """A saved title page (text), laid out as tests/test_imdb_page.py's pages are, with these reviews."""
    parts = ["7.4/10\n1,205\n12 user 3 critic\n", f"{title} (1988)\n", "A keeper builds a harp.\n",
             "Genres:\n\nDrama\n", "User Reviews\n"]
    for r in reviews:
        block = [*([r["rating"]] if r["rating"] else []), r["review_title"],
                 f"{r['date']} | by {r['author']}See all my reviews", "", *r["body"], "", ""]
        if r["votes"]:
            block.append(f"{r['votes'][0]:,} of {r['votes'][1]:,} people found this review helpful.\u00a0 "
                         "Was this review helpful to you? | Report this")
        else:
            block.append("Was this review helpful to you? | Report this")
        parts.append("\n".join(block))
    parts.append("Review this title | See all 12 user reviews\u00a0»\n")
    return "\n".join(parts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["Die Glasharfe", "Zerkalo", "<script>alert(1)</script>"]),
       st.lists(PAGE_REVIEW, min_size=1, max_size=6), st.sampled_from(["utf-8", "cp1252"]))
def test_every_review_of_a_generated_page_is_staged_or_quarantined(title: str, reviews: list[dict],
                                                                   encoding: str) -> None:
    from reviewpipe.sources.imdb_page import parse_page

    data = page_text(title, reviews).encode(encoding, errors="replace")
    parsed = parse_page(data, "page.txt")
    loaded = load_one(data, "page.txt", "imdb_page")
    assert loaded.status == "loaded", (loaded.status, loaded.message)
    # each generated review is one review of the page, and each is staged or quarantined with a reason
    assert len(parsed.reviews) == len(reviews), (parsed.reviews, reviews)
    assert_nothing_lost(loaded, len(reviews))


# a Parquet column is one type throughout: each field gets a generated type, then values of it
PARQUET_COLUMN = st.sampled_from([
    (None, st.none()), ("int", st.one_of(st.none(), st.integers(-5, 2**40))),
    ("float", st.one_of(st.none(), st.floats(allow_nan=True))), ("str", st.one_of(st.none(), TEXT)),
    ("bool", st.one_of(st.none(), st.booleans())), ("list", st.lists(st.integers(0, 3), max_size=2)),
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 10))
def test_every_row_of_a_generated_parquet_file_is_staged_or_quarantined(data: st.DataObject, n: int) -> None:
    import polars as pl

    columns: dict[str, list] = {"review_id": [f"r{i}" for i in range(1, n + 1)]}
    for field in ("title_id", "rating", "helpful_votes", "total_votes", "review_text", "review_date"):
        kind, values = data.draw(PARQUET_COLUMN, label=field)
        if kind is not None:
            columns[field] = data.draw(st.lists(values, min_size=n, max_size=n), label=f"{field} values")
    buffer = io.BytesIO()
    pl.DataFrame(columns, strict=False).write_parquet(buffer)
    loaded = load_one(buffer.getvalue(), "reviews.parquet", "parquet")
    assert loaded.status == "loaded", (loaded.status, loaded.message)  # any column types map onto text
    assert_nothing_lost(loaded, n)
