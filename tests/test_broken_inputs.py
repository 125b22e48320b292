"""Broken inputs: each file either loads its good rows (the bad ones quarantined with file, line and
reason) or, when nothing of it can be read, is recorded in the load log as unreadable with the reason.
Nothing is lost without a record: rows loaded + rows quarantined = the file's data lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe.errors import TransientError
from reviewpipe.ingest import FileVanished, ingest, prepare_file, stage
from reviewpipe.settings import Source
from reviewpipe.warehouse import connect, open_warehouse, rows

HEADER = "review_id,title_id,rating,review_text\n"

# name -> (bytes, format, expected load_log status, rows staged, rows quarantined, words in the reason)
CASES: dict[str, tuple[bytes, str, str, int, int, str]] = {
    "empty.csv": (b"", "csv", "loaded", 0, 0, "empty: the file holds no records"),
    "header_only.csv": (HEADER.encode(), "csv", "loaded", 0, 0, "empty: the file holds no records"),
    "blank_lines.csv": (b"  \n\n\t \r\n", "csv", "loaded", 0, 0, "empty: the file holds no records"),
    "empty.jsonl": (b"", "jsonl", "loaded", 0, 0, "empty: the file holds no records"),
    "empty_array.json": (b"[]", "json", "loaded", 0, 0, "empty: the file holds no records"),
    # every line rejected (not UTF-8): nothing of it could be read
    "latin1.csv": (HEADER.encode() + b"r1,t1,8,Caf\xe9\n", "csv", "unreadable", 0, 2, "none of its lines"),
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


# Issue 22, item 5: one bad file never stops the others. A source mapped onto named columns, with a
# good file beside any of these; each is recorded, the good rows publish.
MAPPING = {"title_id": "film", "rating": "stars", "review_text": "text"}
BESIDE = {
    "empty.csv": b"",
    "blank.csv": b" \n\n",
    "header_only.csv": b"film,stars,text\n",
    "other_columns.csv": b"product,score,body\np1,5,great\n",
}
EMPTY = {"empty.csv", "blank.csv", "header_only.csv"}


def _random_lines(draw_lines: list[bytes]) -> bytes:
    return b"\n".join(draw_lines) + b"\n"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.booleans(), beside=st.sets(st.sampled_from(sorted(BESIDE)), min_size=1),
       noise=st.one_of(st.none(), st.lists(st.binary(min_size=1, max_size=40).filter(bytes.strip),
                                           min_size=2, max_size=4)))
def test_a_landing_folder_with_empty_misfit_and_random_files_loads_the_good_one_and_records_the_rest(
    tmp_path: Path, make_settings, good: bool, beside: set[str], noise: list[bytes] | None
) -> None:
    import tempfile

    from reviewpipe.errors import ReviewpipeError
    from reviewpipe.ingest import EMPTY_FILE

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    files = {name: BESIDE[name] for name in beside}
    if good:
        files["good.csv"] = b"film,stars,text\ntt1,4,nice\ntt2,2,bad\n"
        if noise is not None:
            files["random.csv"] = _random_lines(noise)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    settings_ = make_settings({"name": "src", "path": str(folder / "*.csv"), "rating_scale": 5,
                               "columns": MAPPING})
    settings_ = settings_.model_copy(update={"paths": settings_.paths.model_copy(
        update={"warehouse": folder / "warehouse.duckdb"})})
    with open_warehouse(settings_.warehouse_path) as con:
        if not good and "other_columns.csv" in files:  # no file fits: the mapping is wrong
            with pytest.raises(ReviewpipeError, match=r"other_columns.csv.*title_id = 'film'.*No file of "
                                                      r"source 'src' fits the mapping"):
                ingest(con, settings_, "r1")
            assert rows(con, "select count(*) from load_log where status = 'unreadable'") == [(0,)]
            return
        ingest(con, settings_, "r1")
        stage(con)
        log = {Path(p).name: (status, n, message) for p, status, n, message in rows(
            con, "select file_path, status, records_read, message from load_log")}
        staged = rows(con, "select title_id, rating, review_text from stg_reviews order by title_id")
        quarantined = {Path(p).name for (p,) in rows(con, "select distinct file_path from quarantine")}
    assert set(log) == set(files)  # every file recorded
    assert staged == ([("tt1", 4.0, "nice"), ("tt2", 2.0, "bad")] if good else [])
    for name in files.keys() & EMPTY:
        assert log[name] == ("loaded", 0, EMPTY_FILE)
    if "other_columns.csv" in files:  # unreadable, naming the columns it lacks, in quarantine too
        status, _, message = log["other_columns.csv"]
        assert status == "unreadable" and all(f"{k} = '{v}'" in message for k, v in MAPPING.items())
        assert "The file's columns are: product, score, body" in message
        assert "other_columns.csv" in quarantined
    if "random.csv" in files:  # unreadable and quarantined, or (one line: a header alone) empty
        status, n, message = log["random.csv"]
        assert (status == "unreadable" and "random.csv" in quarantined) or (status, n) == ("loaded", 0), log
    assert quarantined <= {"other_columns.csv", "random.csv"}


# Issue 22, item 4: compressed and awkward files load as their plain versions do.
def _zstd(data: bytes, folder: Path) -> bytes:
    """data zstd-compressed by DuckDB (Python has no zstd before 3.14); DuckDB ends it with a newline."""
    text = data.decode("utf-8")
    out = folder / "out.zst"
    con = connect()
    try:
        con.execute("copy (select ? as t) to '" + str(out) + "' (header false, quote '', escape '', delim '\x01',"
                    " compression zstd)", [text.removesuffix("\n")])
    finally:
        con.close()
    return out.read_bytes()


def _variant(data: bytes, encoding: str, compression: str, folder: Path) -> bytes:
    """The file's bytes in another encoding (with its byte order mark) and compression."""
    import gzip

    if encoding != "utf-8":
        data = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] + data.decode("utf-8").encode(encoding)
    if compression == "gz":
        return gzip.compress(data)
    return _zstd(data, folder) if compression == "zst" else data


def _prepared_rows(source: Source, path: Path) -> list[tuple]:
    """The file's records as ingest maps them (no warehouse), read under a 2 GB memory limit as runs are."""
    con = connect(memory_limit="2GB")
    try:
        file = prepare_file(con, source, path)
        assert file.status == "loaded", file.message
        return rows(con, f"select * exclude (row_number) from {file.tables['reviews']} order by row_number")
    finally:
        con.close()


_TEXTS = st.text("ab é☕,\"'\n", min_size=1, max_size=12)
_VARIANTS = st.sampled_from([(e, c) for e in ("utf-8", "utf-16-le", "utf-16-be") for c in ("", "gz", "zst")
                             if not (e != "utf-8" and c == "zst")])  # UTF-16 in zstd is not converted


@settings(max_examples=80, deadline=None)
@given(records=st.lists(st.tuples(st.sampled_from(["t1", "t 2"]), st.integers(1, 10),
                                  st.text("a '\",\n", min_size=1, max_size=10)), min_size=1, max_size=4))
def test_apostrophes_never_read_as_quotes_in_a_csv_quoted_as_rfc_4180_says(
    records: list[tuple[str, int, str]], tmp_path_factory
) -> None:
    """DuckDB's sniffer takes ' for the quote of a file whose fields start and end with it (a
    review of '' read as empty, 'Tis ... it's' losing both): every value of a CSV written with "
    quoting, the usual CSV, is read as written."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([("title_id", "rating", "review_text"), *records])
    path = tmp_path_factory.mktemp("quotes") / "reviews.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    got = _prepared_rows(Source(name="s", path=str(path), format="csv"), path)
    assert [(t, r, x) for _, t, _, _, r, _, x, *_ in got] == [(t, str(r), x) for t, r, x in records]


@settings(max_examples=10, deadline=None)
@given(fmt=st.sampled_from(["csv", "tsv", "jsonl", "json"]), variant=_VARIANTS,
       records=st.lists(st.tuples(st.sampled_from(["t1", "t 2"]), st.integers(1, 10), _TEXTS), min_size=1, max_size=5),
       crlf=st.booleans())
def test_every_compression_and_encoding_loads_the_records_of_the_plain_file(
    fmt: str, variant: tuple[str, str], records: list[tuple[str, int, str]], crlf: bool
) -> None:
    import csv
    import io
    import json
    import tempfile

    encoding, compression = variant
    end = "\r\n" if crlf else "\n"
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator=end).writerows([("title_id", "rating", "review_text"), *records])
        text = out.getvalue()
    elif fmt == "tsv":  # TSV has no quoting: no tabs or line breaks in a value
        records = [(t, r, x.replace("\n", " ")) for t, r, x in records]
        text = "title_id\trating\treview_text" + end + "".join(f"{t}\t{r}\t{x}{end}" for t, r, x in records)
    else:
        objects = [json.dumps({"title_id": t, "rating": r, "review_text": x}, ensure_ascii=len(x) % 2 == 0)
                   for t, r, x in records]
        text = end.join(objects) + end if fmt == "jsonl" else "[" + ("," + end).join(objects) + "]"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (f"reviews.{fmt}" + (f".{compression}" if compression else ""))
        path.write_bytes(_variant(text.encode("utf-8"), encoding, compression, Path(folder)))
        got = _prepared_rows(Source(name="s", path=str(path), format=fmt), path)
    assert [(t, r, x) for _, t, _, _, r, _, x, *_ in got] == [(t, str(r), x) for t, r, x in records]


# The real exports' quirks: CRLF (yelp), no final newline (google play), \u escapes (Spanish Amazon),
# CRLF between records and LF inside texts (op_spam); each must also load gzipped, in zstd and in
# UTF-16 (both byte orders) as it loads plain.
REAL = {
    "yelp": ("yelp_open_dataset/review_sample.json", "jsonl",
             {"title_id": "business_id", "rating": "stars", "review_text": "text"}, 5000),
    "google_play": ("google_play_netflix/netflix_reviews.csv", "csv",
                    {"review_id": "reviewId", "title_id": "'netflix'", "rating": "score", "review_text": "content"},
                    5999),
    "amazon_es": ("amazon_reviews_multi_es/dataset_es_dev.json", "jsonl",
                  {"title_id": "product_id", "rating": "stars", "review_text": "review_body"}, 5000),
    "op_spam": ("op_spam_deceptive_hotel/deceptive-opinion.csv", "csv",
                {"title_id": "hotel", "review_text": "text"}, 1600),
}


@pytest.mark.parametrize("name", list(REAL))
def test_a_real_export_loads_the_same_records_compressed_and_in_utf16(name: str, tmp_path: Path) -> None:
    from conftest import SHARED_DATA

    relative, fmt, columns, records = REAL[name]
    plain = SHARED_DATA / relative
    if not plain.exists():
        pytest.skip(f"{plain} is absent (the real corpora live in ../shared/data)")
    source = Source(name=name, path=str(plain), format=fmt, columns=columns)
    expected = _prepared_rows(source, plain)
    assert len(expected) == records
    texts = [r[6] for r in expected]
    if name in ("yelp", "amazon_es"):  # CRLF after each record (yelp), \u escapes (amazon_es):
        import json  # the texts are what a JSON parser reads, line by line

        field = columns["review_text"]
        assert texts == [json.loads(line)[field] for line in plain.read_bytes().splitlines() if line.strip()]
        # every accent of the Spanish file is \u-escaped, and decoded in the records
        assert name == "yelp" or (b"\\u00f3" in plain.read_bytes() and sum("ó" in t for t in texts) > 100)
    elif name == "google_play":  # the last record, without a final newline, is whole
        import csv

        with plain.open(newline="", encoding="utf-8") as fh:
            last = list(csv.reader(fh))[-1]
        assert plain.read_bytes()[-1:] != b"\n" and (expected[-1][0], expected[-1][6]) == (last[0], last[2])
    elif name == "op_spam":  # LF inside quoted texts stays; the CRLF between records does not
        assert sum(t.endswith("\n") for t in texts) == 1599 and not any("\r" in t for t in texts)
    data = plain.read_bytes()
    for encoding, compression in [("utf-8", "gz"), ("utf-8", "zst"), ("utf-16-le", ""), ("utf-16-be", "gz")]:
        path = tmp_path / f"{encoding}{plain.suffix}{'.' + compression if compression else ''}"
        path.write_bytes(_variant(data, encoding, compression, tmp_path))
        assert _prepared_rows(source, path) == expected, (encoding, compression)
