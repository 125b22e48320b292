"""Broken inputs: each file either loads its good rows (the bad ones quarantined with file, line and
reason) or, when nothing of it can be read, is recorded in the load log as unreadable with the reason.
Nothing is lost without a record: rows loaded + rows quarantined = the file's data lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewpipe.errors import TransientError
from reviewpipe.ingest import FileVanished, ingest, prepare_file, stage
from reviewpipe.settings import Source
from reviewpipe.warehouse import connect, open_warehouse, rows

HEADER = "review_id,title_id,rating,review_text\n"

# name -> (bytes, format, expected load_log status, rows staged, rows quarantined, words in the reason)
CASES: dict[str, tuple[bytes, str, str, int, int, str]] = {
    "empty.csv": (b"", "csv", "loaded", 0, 0, "the file holds no records"),
    "header_only.csv": (HEADER.encode(), "csv", "loaded", 0, 0, "the file holds no records"),
    # DuckDB's sniffer finds the delimiter the file uses
    "semicolons.csv": (b"review_id;title_id;rating;review_text\nr1;t1;8;Good film\nr2;t1;3;Bad film\n",
                       "csv", "loaded", 2, 0, ""),
    # a line with bytes that are not UTF-8 (a Latin-1 "é", stray bytes) is quarantined; the rest loads
    "invalid_utf8.csv": ((HEADER + "r1,t1,8,Good\nr2,t1,7,Caf").encode() + b"\xe9 \xff\xfe\n"
                         + b"r3,t1,6,Fine\n", "csv", "loaded", 2, 1, "INVALID ENCODING"),
    "bom.csv": (b"\xef\xbb\xbf" + (HEADER + "r1,t1,8,Good\n").encode(), "csv", "loaded", 1, 0, ""),
    "crlf.csv": ((HEADER + "r1,t1,8,Good\nr2,t1,7,Fine\n").replace("\n", "\r\n").encode(), "csv",
                 "loaded", 2, 0, ""),
    # the last line cut off inside a quoted field: the row keeps what there is of its text
    "truncated.csv": ((HEADER + 'r1,t1,8,Good\nr2,t1,7,"Cut off in the mi').encode(), "csv",
                      "loaded", 2, 0, ""),
    "multiline.csv": ((HEADER + 'r1,t1,8,"Line one\nLine two, with a comma"\nr2,t1,5,Plain\n').encode(),
                      "csv", "loaded", 2, 0, ""),
    # a lone carriage return inside a quoted field: valid CSV DuckDB 2.0 cannot parse (read by Polars);
    # the text keeps it until cleaning turns it into a space
    "carriage_return.csv": ((HEADER + 'r1,t1,8,"Good\rfilm"\nr2,t1,5,Plain\n').encode(), "csv",
                            "loaded", 2, 0, ""),
    # a row with a bad rating is quarantined naming its column; the good row loads
    "bad_value.csv": ((HEADER + "r1,t1,eight,Good\nr2,t1,5,Plain\n").encode(), "csv", "loaded", 1, 1,
                      "rating is not a number"),
    # one 50 MB field (10 million words): the row loads whole
    "huge_field.csv": ((HEADER + "r1,t1,8," + "word " * 10_000_000 + "\nr2,t1,5,Plain\n").encode(),
                       "csv", "loaded", 2, 0, ""),
    "not_gzip.csv.gz": ((HEADER + "r1,t1,8,Good\n").encode(), "csv", "unreadable", 0, 1,
                        "not a GZIP stream"),
    "not_json.jsonl": (b"{this is not json\n", "jsonl", "unreadable", 0, 1, "Malformed JSON"),
    "not_json.json": (b"<html>nope</html>", "json", "unreadable", 0, 1, "unreadable as json"),
    "not_a_page.html": (b"<html><body><p>Shopping list: eggs</p></body></html>", "imdb_page",
                        "unreadable", 0, 1, "not an IMDb title page"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_broken_file_loads_what_it_can_and_records_the_rest(name: str, tmp_path: Path, make_settings) -> None:
    data, fmt, status, staged, quarantined, reason = CASES[name]
    path = tmp_path / "landing" / name
    path.parent.mkdir()
    path.write_bytes(data)
    settings = make_settings({"name": "src", "kind": "reviews", "path": str(path), "format": fmt,
                              "rating_scale": 10})
    with open_warehouse(settings.warehouse_path) as con:
        ingest(con, settings, "r1")
        counts = stage(con)
        log = rows(con, "select status, coalesce(message, '') from load_log where file_path = ?", [str(path)])
        reasons = rows(con, "select file_path, reason from quarantine")
    assert log and log[0][0] == status, log
    assert counts["stg_reviews"] == staged and counts["quarantine"] == quarantined, counts
    if status == "unreadable":  # the reason is in the load log and in quarantine, naming the file
        assert reason.lower() in log[0][1].lower()
        assert reasons and reasons[0][0] == str(path)
    elif quarantined:
        assert all(p == str(path) for p, _ in reasons) and any(reason in r for _, r in reasons)
    else:
        assert reason in log[0][1]


def test_a_file_that_vanishes_before_it_is_read_is_left_for_a_retry(tmp_path: Path) -> None:
    gone = tmp_path / "landing" / "moved_away.csv"
    source = Source(name="src", kind="reviews", path=str(tmp_path / "landing" / "*.csv"), format="csv")
    con = connect()
    try:
        with pytest.raises(FileVanished, match=r"moved_away.csv was matched by source 'src' but was gone"):
            prepare_file(con, source, gone)
    finally:
        con.close()
    assert issubclass(FileVanished, TransientError)  # the Prefect flow retries it


def test_values_and_file_names_that_look_like_sql_or_formulas_stay_data(tmp_path: Path, make_settings) -> None:
    """Other people's words never run as SQL (values are bound, file names quoted) and never as a
    spreadsheet formula (neutralised in CSV)."""
    import csv

    from reviewpipe import pipeline

    sql = "x'); drop table raw_reviews; --"
    formula = '=HYPERLINK("http://example.invalid","click")'
    landing = tmp_path / "landing"
    landing.mkdir()
    path = landing / "o'brien; drop table stg_reviews; --.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["review_id", "title_id", "rating", "review_title", "review_text"])
        writer.writerow(["r1", sql, "8", formula, f"Great. {sql}"])
        writer.writerow(["r2", formula, "3", "t", "Dull."])
        writer.writerow(["r3", "+1 cmd|' /C calc'!A0", "5", "t", "Fine."])
    settings = make_settings({"name": "src", "kind": "reviews", "path": str(landing / "*.csv"),
                              "format": "csv", "rating_scale": 10})
    summary = pipeline.run(settings)
    assert summary.published["reviews"] == 3 and summary.ingest.staged["quarantine"] == 0
    con = connect(settings.published_path, read_only=True)
    try:
        got = rows(con, "select title_id, review_title, review_text, file_path from reviews order by review_id")
    finally:
        con.close()
    assert got[0] == (sql, formula, f"Great. {sql}", str(path))
    with (settings.exports_path / "agg_title_summary.csv").open(newline="", encoding="utf-8") as fh:
        exported = {row["title_id"] for row in csv.DictReader(fh)}
    # an apostrophe is not a formula: kept as it is; a formula's first character is neutralised
    assert exported == {sql, "'" + formula, "'+1 cmd|' /C calc'!A0"}


@pytest.mark.slow
def test_a_50_mb_review_is_read_scored_and_published_whole(tmp_path: Path, make_settings) -> None:
    """A 50 MB review in a quoted field with commas (DuckDB's sniffer alone takes minutes on such a
    field when it stores rejects; reviewpipe sniffs first) is loaded, scored sentence by sentence in
    linear time, and published whole; the report shows an excerpt of it."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reviewpipe import pipeline

    good, bad = "A wonderful film.", "A dull, tedious plot."
    pairs = 50_000_000 // len(f"{good} {bad} ")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "long.csv").write_text(
        f'review_id,title_id,rating,review_text\nr1,t1,8,"{f"{good} {bad} " * pairs}"\nr2,t1,5,Plain\n')
    settings = make_settings({"name": "src", "kind": "reviews", "path": str(landing / "*.csv"),
                              "format": "csv", "rating_scale": 10})
    summary = pipeline.run(settings)
    con = connect(settings.published_path, read_only=True)
    try:
        [got] = rows(con, "select length(review_text), review_word_count, sentence_count, "
                          "sentence_compound_mean, positive_sentence_share, negative_sentence_share "
                          "from reviews where review_id = 'r1'")
    finally:
        con.close()
    vader = SentimentIntensityAnalyzer()
    compounds = vader.polarity_scores(good)["compound"], vader.polarity_scores(bad)["compound"]
    assert summary.published["reviews"] == 2
    assert got[:3] == (pairs * len(f"{good} {bad} ") - 1, pairs * 7, pairs * 2)
    assert got[3] == pytest.approx(sum(compounds) / 2) and got[4:] == (0.5, 0.5)
    report = (settings.exports_path / "report.html").read_text()
    assert report.count(good) < 100  # an excerpt, not the whole text
