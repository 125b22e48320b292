"""Ingest and the staging models: golden rows in, exact rows out, quarantine with reasons, incremental loads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from conftest import write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reviewpipe.errors import ReviewpipeError
from reviewpipe.ingest import FileBeingWritten, ensure_typed_reviews, ingest, load_file, stage
from reviewpipe.warehouse import open_warehouse, rows

HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"


def load(settings, run_id: str = "r1", **kwargs):
    with open_warehouse(settings.warehouse_path) as con:
        report = ingest(con, settings, run_id, **kwargs)
        counts = stage(con)
    return report, counts


@contextmanager
def growing(path: Path, line: Callable[[int], str]) -> Iterator[None]:
    """An upload still in progress: a line appended to the file every millisecond while inside."""
    stop = threading.Event()

    def keep_writing() -> None:
        with path.open("a") as fh:
            i = 0
            while not stop.is_set():
                fh.write(line(i))
                fh.flush()
                i += 1
                time.sleep(0.001)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def reads_apart(monkeypatch, min_bytes: int, max_bytes: int = 1 << 30) -> list[tuple[str, str]]:
    """With files of min_bytes to max_bytes read ahead: (thread, file name) of each file read apart."""
    from reviewpipe.ingest import reading

    reads: list[tuple[str, str]] = []
    read_file_apart = reading.read_file_apart

    def noting_the_thread(job):
        reads.append((threading.current_thread().name, job[1].name))
        return read_file_apart(job)

    monkeypatch.setattr(reading, "read_file_apart", noting_the_thread)
    monkeypatch.setattr(reading, "READ_AHEAD_MIN_BYTES", min_bytes)
    monkeypatch.setattr(reading, "READ_AHEAD_MAX_BYTES", max_bytes)
    return reads


def query(settings, sql: str, params=()):
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        return rows(con, sql, params)


def test_stg_reviews_golden_rows(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "in" / "r.csv", HEADER
          + 'tt1,Zoë,2002-09-03,9,41,57,Reflections,"Good.<br /><br />Very &amp; good."\n'
          + "tt1,bob,3 September 2002,,0,0,,Fine film\n"
          + "tt2, carol ,2010-01-01,2,,,Meh,\n")
    s = make_settings({"name": "rev", "path": str(tmp_path / "in" / "*.csv")})
    load(s)
    got = query(s, """select title_id, author, review_date, rating, review_title, review_text,
                             helpful_votes, total_votes, rating_scale, source, row_number
                      from stg_reviews order by row_number""")
    assert got == [
        # HTML breaks become a paragraph break and &amp; decodes; votes are counts
        ("tt1", "Zoë", date(2002, 9, 3), 9.0, "Reflections", "Good.\n\nVery & good.", 41, 57, 10, "rev", 1),
        # a long-form date parses; a missing rating stays null and 0 of 0 is kept as counts
        ("tt1", "bob", date(2002, 9, 3), None, None, "Fine film", 0, 0, 10, "rev", 2),
        # a rating without text is usable; the author's padding is trimmed; unknown votes stay null
        ("tt2", "carol", date(2010, 1, 1), 2.0, "Meh", None, None, None, 10, "rev", 3),
    ]
    ids = query(s, "select review_id, text_hash from stg_reviews order by row_number")
    # no review_id column: each id is an md5 (32 hex), distinct, and stable across loads
    assert len({i for i, _ in ids}) == 3 and all(len(i) == 32 for i, _ in ids)
    assert ids[2][1] is None  # no text, nothing to score


def test_bad_rows_are_quarantined_with_file_row_column_value_and_reason(tmp_path: Path, make_settings) -> None:
    path = write(tmp_path / "in" / "r.csv", HEADER
                 + "tt1,a,2020-01-01,ten,1,2,t,x\n"       # 1: rating not a number
                 + "tt1,b,2020-01-01,11,1,2,t,x\n"        # 2: outside 1..10
                 + "tt1,c,2020-01-01,5,7,4,t,x\n"         # 3: helpful > total
                 + "tt1,d,2020-01-01,5,1,-2,t,x\n"        # 4: negative total (and helpful > total)
                 + "tt1,e,2020-01-01,,0,0,t,\n"           # 5: neither text nor rating
                 + "tt1,f,2021-02-30,5,0,0,t,x\n"         # 6: not a real day
                 + ",g,2020-01-01,5,0,0,t,x\n"            # 7: no title
                 + "tt1,h,2020-01-01,5,0,0,t,ok\n"        # 8: good
                 + "tt1,h,2020-01-01,5,0,0,t,ok\n")       # 9: looks like 8, but is a record of its own
    s = make_settings({"name": "rev", "path": str(path)})
    _, counts = load(s)
    got = query(s, "select row_number, column_name, raw_value, reason from quarantine order by row_number, reason")
    assert got == [
        (1, "rating", "ten", "rating is not a number"),
        (2, "rating", "11", "rating is outside 1..10 (the source's rating_scale)"),
        (3, "helpful_votes", "7 of 4", "helpful_votes is greater than total_votes"),
        (4, "helpful_votes", "1 of -2", "helpful_votes is greater than total_votes"),
        (4, "total_votes", "-2", "total_votes is negative"),
        (5, "review_text", None, "the review has neither text nor rating"),
        (6, "review_date", "2021-02-30", "review_date is not a date (expected e.g. 2002-09-03 or 3 September 2002)"),
        (7, "title_id", None, "title_id is empty; every review needs the title it belongs to"),
    ]
    # the file is named on every entry; 7 distinct rows are out, two rows are in, none vanished
    # (without an id of their own, two records of one file are two reviews: no duplicate)
    assert {r[0] for r in query(s, "select distinct file_path from quarantine")} == {str(path)}
    assert counts == {"stg_reviews": 2, "stg_titles": 0, "quarantine": 7}


def test_config_expressions_map_columns_and_a_failing_expression_quarantines_its_row(
    tmp_path: Path, make_settings
) -> None:
    write(tmp_path / "Film A" / "movieReviews.csv",
          "Date of Review,User,Usefulness Vote,Total Votes,User's Rating out of 10,Review Title,Review\r\n"
          "13 March 2003,ann,3,4,10,Great,Loved it\r\n"
          "31 Marchh 2003,ben,1,1,2,Bad,Hated it\r\n")
    s = make_settings({
        "name": "imdb", "path": str(tmp_path / "*" / "movieReviews.csv"),
        "columns": {
            "title_id": "regexp_extract(filename, '([^/]+)/movieReviews.csv', 1)",
            "review_date": "strptime(\"Date of Review\", '%d %B %Y')::date",
            "helpful_votes": "Usefulness Vote", "total_votes": "Total Votes", "author": "User",
            "rating": "User's Rating out of 10", "review_title": "Review Title", "review_text": "Review",
        },
    })
    load(s)
    assert query(s, "select title_id, author, review_date, rating, helpful_votes, total_votes from stg_reviews") == [
        ("Film A", "ann", date(2003, 3, 13), 10.0, 3, 4)]
    # strptime raised on row 2; the row is kept in quarantine rather than failing the whole file
    assert query(s, "select row_number, column_name, reason from quarantine") == [
        (2, "review_date", "the configured expression for review_date raised an error on this row; "
                           "fix the value or the expression")]


def test_reader_rejects_are_quarantined_with_their_line(tmp_path: Path, make_settings) -> None:
    path = write(tmp_path / "t.tsv", "tconst\taverageRating\tnumVotes\ntt1\t8.1\t34370\ntt2\t5.0\t10\ntt00")
    s = make_settings({"name": "ratings", "kind": "titles", "format": "tsv", "path": str(path),
                       "columns": {"title_id": "tconst", "site_rating": "averageRating", "site_votes": "numVotes"}})
    report, counts = load(s)
    assert [(f.records, f.lines_rejected) for f in report.files] == [(2, 1)]
    assert query(s, "select title_id, site_rating, site_votes from stg_titles order by 1") == [
        ("tt1", 8.1, 34370), ("tt2", 5.0, 10)]
    # the partial last line (line 4 of the file) is kept with the reader's reason
    (line, raw, reason), = query(s, "select line_number, raw_value, reason from quarantine")
    assert (line, raw) == (4, "tt00") and reason.startswith("MISSING COLUMNS")


def test_unreadable_file_is_logged_and_quarantined_while_others_load(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "a.json", '[{"title_id": "tt1", "review_text": "fine", "rating": 7}]')
    bad = write(tmp_path / "b.json", '{"title_id": "tt1", ')
    s = make_settings({"name": "js", "format": "json", "path": str(tmp_path / "*.json")})
    report, counts = load(s)
    assert [f.status for f in report.files] == ["loaded", "unreadable"]
    assert counts["stg_reviews"] == 1
    (file_path, reason), = query(s, "select file_path, reason from quarantine")
    assert file_path == str(bad) and reason.startswith("unreadable as json")
    assert query(s, "select status from load_log order by file_path") == [("loaded",), ("unreadable",)]


def test_unchanged_files_are_skipped_and_a_changed_file_replaces_its_own_rows(tmp_path: Path, make_settings) -> None:
    a = write(tmp_path / "in" / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\n")
    write(tmp_path / "in" / "b.csv", HEADER + "tt2,bob,2020-01-01,3,0,0,t,two\n")
    s = make_settings({"name": "rev", "path": str(tmp_path / "in" / "*.csv")})
    report, _ = load(s, "r1")
    assert [f.status for f in report.files] == ["loaded", "loaded"]
    before = query(s, "select * exclude (run_id) from raw_reviews order by file_path")

    report, _ = load(s, "r2")
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    assert query(s, "select * exclude (run_id) from raw_reviews order by file_path") == before

    write(a, HEADER + "tt1,ann,2020-01-01,9,1,2,t,one (edited)\ntt1,cid,2020-01-02,7,0,0,t,new\n")
    report, counts = load(s, "r3")
    assert [f.status for f in report.files] == ["loaded", "skipped"]
    assert query(s, "select author, rating, review_text from stg_reviews order by author") == [
        ("ann", 9.0, "one (edited)"), ("bob", 3.0, "two"), ("cid", 7.0, "new")]


def test_a_file_is_hashed_again_only_when_its_state_changes(tmp_path: Path, make_settings, monkeypatch) -> None:
    """Size, times and inode say a file is unchanged without reading it; a rewrite that keeps the size
    and puts the old modification time back still changes the inode's change time, so it reloads."""
    import os

    from reviewpipe.ingest import reading

    hashed: list[str] = []
    real = reading.fingerprint
    monkeypatch.setattr(reading, "fingerprint", lambda path, source: hashed.append(path.name) or real(path, source))
    a = write(tmp_path / "in" / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\n")
    s = make_settings({"name": "rev", "path": str(tmp_path / "in" / "*.csv")})
    load(s, "r1")
    assert hashed == ["a.csv"]
    report, _ = load(s, "r2")
    assert report.files[0].status == "skipped" and hashed == ["a.csv"]  # not read again

    os.utime(a)  # touched, same bytes: hashed once, skipped, and its new state logged
    report, _ = load(s, "r3")
    assert report.files[0].status == "skipped" and hashed == ["a.csv"] * 2
    load(s, "r4")
    assert hashed == ["a.csv"] * 2

    st = a.stat()
    write(a, HEADER + "tt1,ann,2020-01-01,9,1,2,t,one\n")  # same size, other bytes, old mtime put back
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    report, _ = load(s, "r5")
    assert report.files[0].status == "loaded" and hashed == ["a.csv"] * 3
    assert query(s, "select rating from stg_reviews") == [(9.0,)]


def test_a_changed_mapping_reloads_an_unchanged_file(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "a.csv", "film,stars,text\ntt1,4,nice\n")
    s = make_settings({"name": "rev", "path": str(tmp_path / "a.csv"), "rating_scale": 5,
                       "columns": {"title_id": "film", "rating": "stars", "review_text": "text"}})
    load(s)
    s2 = make_settings({"name": "rev", "path": str(tmp_path / "a.csv"), "rating_scale": 5,
                        "columns": {"title_id": "upper(film)", "rating": "stars", "review_text": "text"}})
    report, _ = load(s2)
    assert report.files[0].status == "loaded"
    assert query(s2, "select title_id, rating from stg_reviews") == [("TT1", 4.0)]



def test_stg_reviews_shows_what_was_last_staged_until_staging_runs_again(tmp_path: Path, make_settings) -> None:
    """stg_reviews is a view of the typed rows staging marked: rows loaded since (a run that stopped
    between ingest and staging) stay out of it, even a second copy of a staged review, until the
    next staging ranks them; then it holds one row per review."""
    landing = tmp_path / "in"
    write(landing / "a.csv", "review_id," + HEADER + "r1,tt1,ann,2020-01-01,8,1,2,t,one\n")
    s = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    load(s)
    # a newer file with another copy of r1 (it wins: newer) and a new review, loaded but not staged
    write(landing / "b.csv", "review_id," + HEADER + "r1,tt2,ann,2020-01-01,3,1,2,t,one again\n"
          + "r2,tt1,bob,2020-02-01,5,0,0,t,two\n")
    with open_warehouse(s.warehouse_path) as con:
        ingest(con, s, "r2")
    assert query(s, "select review_id, title_id, review_text from stg_reviews") == [("r1", "tt1", "one")]
    with open_warehouse(s.warehouse_path) as con:
        stage(con)
    assert query(s, "select review_id, title_id, review_text from stg_reviews order by review_id") == [
        ("r1", "tt2", "one again"), ("r2", "tt1", "two")]

@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"title_id": "no_such_column"}, r"no_such_column.*The file's columns are: film, stars, text, filename"),
        ({"title_id": "film ) ; drop table raw_reviews; --"}, "neither a column of the file nor a valid DuckDB expression"),
        ({"title_id": "(select 1)"}, "single expression"),
    ],
)
def test_a_mapping_that_does_not_fit_is_one_clear_error_and_changes_nothing(
    tmp_path: Path, make_settings, columns: dict[str, str], message: str
) -> None:
    good = write(tmp_path / "good" / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\n")
    write(tmp_path / "bad" / "a.csv", "film,stars,text\ntt1,4,nice\n")
    s = make_settings({"name": "good", "path": str(good)})
    load(s)
    before = query(s, "select * from stg_reviews")
    s_bad = make_settings({"name": "good", "path": str(good)},
                          {"name": "bad", "path": str(tmp_path / "bad" / "a.csv"), "columns": columns})
    with pytest.raises(ReviewpipeError, match=message) as info:
        load(s_bad)
    assert "source 'bad'" in str(info.value)
    # the failing file is checked before anything of it is written: nothing of it remains
    assert query(s, "select * from stg_reviews") == before
    assert query(s, "select count(*) from load_log") == [(1,)]


def test_a_glob_that_matches_nothing_is_a_clear_error(tmp_path: Path, make_settings) -> None:
    s = make_settings({"name": "rev", "path": str(tmp_path / "nowhere" / "*.csv")})
    with pytest.raises(ReviewpipeError, match=r"source 'rev'.*matches no files"):
        load(s)


def test_full_refresh_reloads_everything(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\n")
    s = make_settings({"name": "rev", "path": str(tmp_path / "a.csv")})
    load(s)
    report, _ = load(s, full_refresh=True)
    assert [f.status for f in report.files] == ["loaded"]
    assert query(s, "select count(*) from raw_reviews") == [(1,)]


def test_stg_titles_golden_rows_and_title_quarantine(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "meta.json", """[
      {"id": "tt1", "name": "Zerkalo", "published": "1975-03-07", "rating": 8.1, "votes": "34,370",
       "users": "2.9K", "critics": "70", "genres": ["Biography", "Drama"], "directors": ["A. T."]},
      {"id": "tt2", "name": "Bad", "published": "soon", "rating": 11, "votes": "many",
       "users": null, "critics": null, "genres": [], "directors": []}
    ]""")
    s = make_settings({"name": "meta", "kind": "titles", "format": "json", "path": str(tmp_path / "meta.json"),
                       "columns": {"title_id": "id", "title": "name", "year": "published",
                                   "site_rating": "rating", "site_votes": "votes", "user_review_count": "users",
                                   "critic_review_count": "critics"}})
    load(s)
    assert query(s, """select title_id, title, year, site_rating, site_votes, user_review_count,
                              critic_review_count, genres, directors from stg_titles""") == [
        # the year is taken from a date; "34,370" and "2.9K" are counts; JSON lists become text
        ("tt1", "Zerkalo", 1975, 8.1, 34370, 2900, 70, "Biography, Drama", "A. T."),
    ]
    assert query(s, "select row_number, column_name, raw_value, reason from quarantine order by column_name") == [
        # JSON numbers arrive typed: the column holds doubles (8.1, 11), so 11 reads back as "11.0"
        (2, "site_rating", "11.0", "site_rating is outside 0..10 (the source's rating_scale)"),
        (2, "site_votes", "many", "site_votes is not a count"),
        (2, "year", "soon", "year is not a year"),
    ]


def page_text(votes: str, reviews: list[tuple[str, str, str, str, str | None]]) -> str:
    """An invented IMDb title page as saved text: rating block, title line, user reviews."""
    blocks = []
    for title, date_text, author, body, helpful in reviews:
        block = f"{title}\n{date_text} | by {author}See all my reviews\n\n{body}\n\n"
        if helpful:
            block += f"{helpful} people found this review helpful.  Was this review helpful to you? | Report this\n"
        blocks.append(block)
    return (f"7.4/10\n{votes}\n12 user 3 critic\n\nLanterns of Tallinn (1988)\n\nA ferryman keeps a light.\n\n"
            "Director:\n\nMari Kask\n\nUser Reviews\n\n" + "\n".join(blocks)
            + "Review this title | See all 12 user reviews »\n")


def test_saved_pages_load_titles_and_reviews_and_a_later_save_updates_them(
    tmp_path: Path, make_settings
) -> None:
    import os

    old = write(tmp_path / "pages" / "lanterns_2019.txt", page_text("1,200", [
        ("Quietly luminous", "3 May 2001", "Zoë", "A gentle, beautiful film.", "4 of 5"),
    ]))
    s = make_settings({"name": "pages", "format": "imdb_page", "path": str(tmp_path / "pages" / "*.txt")})
    os.utime(old, (1_500_000_000, 1_500_000_000))
    load(s)
    assert query(s, "select title_id, title, year, site_rating, site_votes, user_review_count, "
                    "critic_review_count, directors from stg_titles") == [
        ("Lanterns of Tallinn (1988)", "Lanterns of Tallinn", 1988, 7.4, 1200, 12, 3, "Mari Kask")]
    assert query(s, "select author, review_date, review_title, rating, helpful_votes, total_votes "
                    "from stg_reviews") == [("Zoë", date(2001, 5, 3), "Quietly luminous", None, 4, 5)]

    # the same page loaded again is skipped
    report, _ = load(s)
    assert [f.status for f in report.files] == ["skipped"]

    # a later save (its name sorts later; its file time is older, and decides nothing): more votes,
    # the same review with more helpful votes, and a new review without votes
    new = write(tmp_path / "pages" / "lanterns_2024.txt", page_text("1,250", [
        ("Quietly luminous", "3 May 2001", "Zoë", "A gentle, beautiful film.", "9 of 11"),
        ("Too slow", "1 June 2020", "Łukasz", "I fell asleep twice.", None),
    ]))
    os.utime(new, (1_400_000_000, 1_400_000_000))
    load(s)
    with open_warehouse(s.warehouse_path) as con:
        from reviewpipe.metrics import merged_titles
        titles = merged_titles(con.sql("select * from stg_titles").pl().lazy()).collect()
    # the title's figures come from the later save
    assert titles.select("title_id", "site_votes").rows() == [("Lanterns of Tallinn (1988)", 1250)]
    # the review is matched by author, date and review title: one copy, with the later save's votes
    assert query(s, "select author, helpful_votes, total_votes, file_path from stg_reviews order by author") == [
        ("Zoë", 9, 11, str(new)), ("Łukasz", None, None, str(new))]
    (reason,), = query(s, "select reason from quarantine")
    assert reason.startswith(f"duplicate of the review in {new}")


def test_a_file_that_is_not_a_title_page_is_quarantined_naming_the_file(tmp_path: Path, make_settings) -> None:
    bad = write(tmp_path / "pages" / "notes.html", "<html><body><p>Shopping list: tea, bread.</p></body></html>")
    s = make_settings({"name": "pages", "format": "imdb_page", "path": str(tmp_path / "pages" / "*.html")})
    report, _ = load(s)
    assert [f.status for f in report.files] == ["unreadable"]
    (file_path, reason), = query(s, "select file_path, reason from quarantine")
    assert file_path == str(bad) and reason.startswith("unreadable as imdb_page") and "notes.html" in reason


def test_a_file_that_changes_while_it_is_read_is_left_for_a_retry(tmp_path: Path, make_settings) -> None:
    body = "".join(f"r{i},t1,{i % 10 + 1},A review of some length number {i}.\n" for i in range(100_000))
    path = write(tmp_path / "landing" / "reviews.csv", "review_id,title_id,rating,review_text\n" + body)
    settings = make_settings({"name": "shop", "kind": "reviews", "path": str(path), "format": "csv"})
    with growing(path, lambda i: f"x{i},t1,5,More text.\n"), \
            pytest.raises(FileBeingWritten, match=r"reviews.csv changed while it was read .*retries"):
        load(settings)
    # nothing of it was written; once the upload is done, the file loads whole
    assert query(settings, "select count(*) from raw_reviews") == [(0,)]
    assert query(settings, "select count(*) from load_log") == [(0,)]
    report, _ = load(settings, "r2")
    lines = path.read_text().count("\n") - 1
    assert report.count("loaded") == 1 and report.records == lines > 100_000


def test_files_read_ahead_while_others_are_written_load_what_one_at_a_time_loads(
    tmp_path: Path, make_settings, monkeypatch
) -> None:
    """Several changed files are read in a thread, each while the one before it is written; the
    warehouse holds what loading them one by one through the warehouse connection gives."""
    read_in = reads_apart(monkeypatch, min_bytes=0)  # these files are tiny
    landing = tmp_path / "in"
    write(landing / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\ntt1,bob,2020-01-02,x,0,0,t,two\n")
    write(landing / "b.csv", HEADER + "tt2,cy,2020-01-03,3,0,0,t,three\ntt2,dee,2020-01-04,4,0,0,t,a,b,c\n")
    write(landing / "c.csv", HEADER + "tt3,eve,2020-01-05,9,2,2,t,five &amp; six<br/>seven\n")
    ahead = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    report, _ = load(ahead)
    assert [f.status for f in report.files] == ["loaded"] * 3
    assert [name for _, name in read_in] == ["a.csv", "b.csv", "c.csv"]
    assert all(thread.startswith("reviewpipe-read") for thread, _ in read_in)
    apart = ahead.model_copy(update={"paths": ahead.paths.model_copy(
        update={"warehouse": tmp_path / "one_by_one.duckdb"})})
    with open_warehouse(apart.warehouse_path) as con:
        ensure_typed_reviews(con)
        for path in sorted(landing.glob("*.csv")):
            load_file(con, apart.sources[0], path, "r1")
        stage(con)
    for table in ("raw_reviews", "int_reviews_typed", "raw_rejects", "stg_reviews", "quarantine"):
        everything = f"select * exclude (run_id) from {table} order by all" if table.startswith("raw") \
            else f"select * from {table} order by all"
        assert query(ahead, everything) == query(apart, everything), table
    assert query(ahead, "select count(*) from raw_rejects") == [(1,)]  # b.csv's line with too many fields


def test_only_files_between_the_read_ahead_sizes_are_read_ahead(tmp_path: Path, make_settings, monkeypatch) -> None:
    # smaller files cost more to read apart than the overlap saves; bigger ones would sit in memory
    read_in = reads_apart(monkeypatch, min_bytes=len(HEADER) + 100, max_bytes=len(HEADER) + 300)
    landing = tmp_path / "in"
    write(landing / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,small\n")
    write(landing / "b.csv", HEADER + "tt1,bob,2020-01-02,7,0,0,t,middle\n" * 4)
    write(landing / "c.csv", HEADER + "tt1,cy,2020-01-03,6,0,0,t,big\n" * 40)
    report, _ = load(make_settings({"name": "rev", "path": str(landing / "*.csv")}))
    assert [f.status for f in report.files] == ["loaded"] * 3 and report.records == 45
    assert [name for _, name in read_in] == ["b.csv"]


def test_a_file_that_changes_while_it_is_read_ahead_stops_ingest_after_the_files_before_it(
    tmp_path: Path, make_settings, monkeypatch
) -> None:
    read_in = reads_apart(monkeypatch, min_bytes=1 << 20)  # b.csv (5 MB) is read ahead, a.csv not
    landing = tmp_path / "in"
    write(landing / "a.csv", HEADER + "tt1,ann,2020-01-01,8,1,2,t,one\n")
    second = write(landing / "b.csv", HEADER + "".join(
        f"tt2,u{i},2020-01-03,3,0,0,t,A review of some length number {i}.\n" for i in range(100_000)))
    settings = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    with growing(second, lambda i: f"tt2,late{i},2020-01-04,5,0,0,t,More text.\n"), \
            pytest.raises(FileBeingWritten, match=r"b.csv changed while it was read"):
        load(settings)
    assert [name for _, name in read_in] == ["b.csv"] and read_in[0][0].startswith("reviewpipe-read")
    # a.csv was written in its own transaction before b.csv's read failed; nothing of b.csv was
    assert query(settings, "select file_path, status from load_log") == [(str(landing / "a.csv"), "loaded")]
    assert query(settings, "select count(*) from raw_reviews") == [(1,)]


def test_staging_a_new_or_replaced_file_equals_a_full_rebuild(tmp_path: Path, make_settings) -> None:
    """stg_reviews and quarantine are rebuilt only for the review ids whose rows changed; the result is
    the full rebuild's."""
    head = "review_id," + HEADER
    landing = tmp_path / "in"
    write(landing / "a.csv", head + "r1,tt1,ann,2020-01-01,9,1,2,A,Good.\n"
          + "r2,tt1,bob,2020-01-02,eleven,0,0,B,Bad rating.\n"  # quarantined
          + "r3,tt2,cy,2020-01-03,5,0,0,C,Gone later.\n")
    s = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    load(s)
    # a second file with a newer copy of r1 and a new review; then a.csv replaced (r2 fixed, r3 gone)
    write(landing / "b.csv", head + "r1,tt1,ann,2020-01-01,8,5,6,A,Edited.\n"
          + "r4,tt2,dee,2020-01-04,7,0,0,D,New.\n"
          + "r6,tt2,fay,2020-01-06,7,0,0,F,Too,many,columns.\n")  # a reader reject
    load(s, "r2")
    write(landing / "a.csv", head + "r1,tt1,ann,2020-01-01,9,1,2,A,Good.\n"
          + "r2,tt1,bob,2020-01-02,3,0,0,B,Fixed rating.\n"
          + "r5,tt2,eve,2020-01-05,6,0,0,E,Added.\n")
    load(s, "r3")
    everything = "select * exclude (file_path) from {} order by all"
    incremental = query(s, everything.format("stg_reviews")), query(s, everything.format("quarantine"))
    with open_warehouse(s.warehouse_path) as con:
        # the loads of b.csv and of the new a.csv were staged incrementally, and consumed what they touched
        assert rows(con, "select count(*) from staging_state where model = 'stg_reviews'") == [(1,)]
        assert rows(con, "select count(*) from staging_touched") == [(0,)]
        con.execute("delete from staging_state where model = 'stg_reviews'")  # the next stage: whole
        stage(con)
    full = query(s, everything.format("stg_reviews")), query(s, everything.format("quarantine"))
    assert incremental == full
    # in quarantine: a.csv's copy of r1 (a duplicate) and the reader's reject; r2 was fixed
    assert [r[2:5] for r in incremental[1]] == [(1, None, "review_id"), (None, 4, None)]
    staged = {r[0]: r for r in query(s, "select review_id, review_text, file_path from stg_reviews")}
    assert sorted(staged) == ["r1", "r2", "r4", "r5"]
    # the copy in the file whose path sorts last, though a.csv was written after it
    assert staged["r1"][1:] == ("Edited.", str(landing / "b.csv"))
    assert staged["r2"][1] == "Fixed rating."


@pytest.mark.parametrize("order", [("b", "a", "c"), ("c", "a", "b"), ("a", "c", "b")])
def test_a_new_order_of_the_sources_ranks_copies_as_a_whole_build_does(
    tmp_path: Path, make_settings, order: tuple[str, ...]
) -> None:
    """The first source in the config wins, as the config is now: sources reordered without a file
    changing re-rank their copies (their files are not reloaded), as a whole build would."""
    head = "review_id," + HEADER
    sources = {}
    for name, votes in (("a", 1), ("b", 2), ("c", 3)):
        write(tmp_path / name / "x.csv", head + f"r1,tt1,ann,2020-01-01,8,{votes},9,A,Copy {name}.\n"
              + f"r{name},tt1,bob,2020-01-02,7,0,0,B,Only {name}.\n")
        write(tmp_path / name / "t.csv", f"title_id,title,site_votes\ntt1,Title {name},{votes}\n")
        sources[name] = [{"name": name, "path": str(tmp_path / name / "x.csv")},
                         {"name": f"{name}_titles", "kind": "titles", "path": str(tmp_path / name / "t.csv")}]
    load(make_settings(*sources["a"], *sources["b"], *sources["c"]))
    s = make_settings(*[source for name in order for source in sources[name]])
    report, _ = load(s, "r2")
    assert {f.status for f in report.files} == {"skipped"}
    everything = "select * from {} order by all"
    incremental = [query(s, everything.format(t)) for t in ("stg_reviews", "stg_titles", "quarantine")]
    assert query(s, "select review_text from stg_reviews where review_id = 'r1'") == [(f"Copy {order[0]}.",)]
    with open_warehouse(s.warehouse_path) as con:
        con.execute("delete from staging_state where model = 'stg_reviews'")  # the next stage: whole
        stage(con)
    assert [query(s, everything.format(t)) for t in ("stg_reviews", "stg_titles", "quarantine")] == incremental
    # the titles, merged: the source last in the config overrides
    with open_warehouse(s.warehouse_path) as con:
        from reviewpipe.metrics import merged_titles
        titles = merged_titles(con.sql("select * from stg_titles").pl().lazy()).collect()
    assert titles.select("title", "site_votes").rows() == [(f"Title {order[-1]}", "abc".index(order[-1]) + 1)]


# Characters DuckDB's and Polars' readers take for a pattern (`* ? [ ] { }`), an escape (`\`) or the
# home folder (`~`), that break naive quoting (quotes, spaces, a tab, a newline), non-ASCII ones, and
# the punctuation read as plain; "a" and "b" so that a name can be a pattern matching the plain
# files a.<ext> and b.<ext> beside it.
NAME_CHARS = "ab[]*?{},'\"\\ \t\n~%:=@+-é漢"
_REVIEW = {"title_id": "tt1", "rating": "5", "review_title": "", "review_text": "fine"}


def _review_file(fmt: str, marker: str) -> bytes:
    """A file of one review in the format, its review_title the marker."""
    import gzip
    import io
    import json

    import polars as pl

    review = {**_REVIEW, "review_title": marker}
    table = ",".join(review) + "\n" + ",".join(review.values()) + "\n"
    if fmt == "csv":
        return table.encode()
    if fmt == "csv_gz":
        return gzip.compress(table.encode())
    if fmt == "csv_cr":  # lines ending some in CRLF, some in LF: DuckDB gives up, Polars reads it
        return table.replace("fine\n", "fine\r\n").encode()
    if fmt == "tsv":
        return table.replace(",", "\t").encode()
    if fmt == "json":
        return json.dumps([review]).encode()
    if fmt == "jsonl":
        return (json.dumps(review) + "\n").encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        pl.DataFrame([review]).write_parquet(buffer)
        return buffer.getvalue()
    return page_text("1,200", [(marker, "3 May 2005", "ann", "A fine film.", None)]).encode()


# format -> (configured format, extension)
LITERAL_FORMATS = {
    "csv": ("csv", ".csv"), "csv_gz": ("csv", ".csv.gz"), "csv_cr": ("csv", ".csv"), "tsv": ("tsv", ".tsv"),
    "json": ("json", ".json"), "jsonl": ("jsonl", ".jsonl"), "parquet": ("parquet", ".parquet"),
    "imdb_page": ("imdb_page", ".txt"),
}


def _write_beside_a_and_b(folder: Path, names: list[str]) -> dict[str, str]:
    """Each format's files in folder/<format>: a, b and `names`; each file's path -> its marker."""
    expected: dict[str, str] = {}
    for fmt, (_, ext) in LITERAL_FORMATS.items():
        (folder / fmt).mkdir(parents=True, exist_ok=True)
        for name, marker in [("a", "plain a"), ("b", "plain b"), *((n, f"file {i}") for i, n in enumerate(names))]:
            (folder / fmt / (name + ext)).write_bytes(_review_file(fmt, marker))
            expected[str(folder / fmt / (name + ext))] = marker
    return expected


def _literal_sources(folder: Path) -> list[dict]:
    """A source per format over folder/<format>/*, `filename` mapped onto author."""
    return [{"name": fmt, "path": str(folder / fmt / "*"), "format": configured, "columns": {"author": "filename"}}
            for fmt, (configured, _) in LITERAL_FORMATS.items()]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(NAME_CHARS, min_size=1, max_size=5).filter(lambda n: n not in ("a", "b")),
                      min_size=1, max_size=3, unique=True))
@example(names=["[ab]", "*", "?"])
def test_every_file_is_read_as_the_literal_path_matched_whatever_its_name_holds(
    tmp_path: Path, make_settings, names: list[str]
) -> None:
    # a name like [ab], * or ? is a pattern matching the plain files a and b beside it: every file
    # must give its own row, and `filename` (mapped onto author) must be its path
    import tempfile

    from reviewpipe.ingest import prepare_file
    from reviewpipe.warehouse import connect

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    expected = _write_beside_a_and_b(folder, names)
    s = make_settings(*_literal_sources(folder))
    got = {}
    con = connect()  # ingest's reading, without the warehouse's writing (the test below does both)
    try:
        for source in s.sources:
            for path in [Path(p) for p in expected if Path(p).parent.name == source.name]:
                file = prepare_file(con, source, path)
                assert file.status == "loaded", file.message
                got[str(path)] = rows(con, f"select review_title, author from {file.tables['reviews']}")
    finally:
        con.close()
    assert got == {p: [(marker, p)] for p, marker in expected.items()}


@pytest.mark.parametrize("names", [["[ab]"], ["*", "?"]])
def test_a_file_named_like_a_pattern_loads_its_own_rows_in_every_format(
    tmp_path: Path, make_settings, names: list[str]
) -> None:
    # the case: [ab].json beside a.json and b.json was logged loaded with their rows, its own
    # nowhere, not even in quarantine; a CSV named with * or [ was logged unreadable
    expected = _write_beside_a_and_b(tmp_path, names)
    s = make_settings(*_literal_sources(tmp_path))
    report, _ = load(s)
    assert sorted((f.path, f.status) for f in report.files) == sorted((p, "loaded") for p in expected)
    got = query(s, "select file_path, review_title, author from raw_reviews")
    assert sorted(got) == sorted((p, marker, p) for p, marker in expected.items())


@pytest.mark.parametrize("name", ["[ab].json", "*.json", "it's a \"b\".json"])
def test_a_file_named_like_a_pattern_that_cannot_be_read_is_logged_under_its_own_name(
    tmp_path: Path, make_settings, name: str
) -> None:
    import tempfile

    write(tmp_path / "in" / "a.json", '[{"title_id": "tt1"}]')
    write(tmp_path / "in" / name, '{"title_id": [1,\n')
    s = make_settings({"name": "rev", "path": str(tmp_path / "in" / "*.json"), "format": "json"})
    before = set(Path(tempfile.gettempdir()).glob("reviewpipe-read-*"))
    load(s)
    # the reader's message names the file, not the link it was read through, which is gone
    [(status, message)] = query(s, "select status, message from load_log where file_path = ?",
                                [str(tmp_path / "in" / name)])
    assert status == "unreadable" and f'"{tmp_path / "in" / name}"' in message
    assert set(Path(tempfile.gettempdir()).glob("reviewpipe-read-*")) <= before


def _ingest_within(s, seconds: float):
    """ingest's report, or a failure when it has not ended within `seconds` (a glob walking a loop)."""
    done: list = []

    def run() -> None:
        with open_warehouse(s.warehouse_path) as con:
            done.append(ingest(con, s, "r1"))

    # a daemon thread: a walk that never ends fails the test instead of hanging the suite
    walker = threading.Thread(target=run, daemon=True)
    walker.start()
    walker.join(seconds)
    assert done, f"ingest did not end within {seconds} s"
    return done[0]


@pytest.mark.parametrize("loops", [1, 2])
def test_a_glob_over_symlink_loops_ends_and_loads_each_real_file_once_by_its_own_name(
    tmp_path: Path, make_settings, loops: int
) -> None:
    # landing/sub/up -> landing (and landing/down -> landing/sub): glob.glob walked landing/sub/up/sub/up/...
    # to the system's 40 links: 41 copies of a.csv with one loop, 400,000+ paths with two
    write(tmp_path / "landing" / "a.csv", HEADER + "tt1,ann,2020-01-01,5,,,A,fine\n")
    write(tmp_path / "landing" / "sub" / "b.csv", HEADER + "tt2,bob,2020-01-01,4,,,B,good\n")
    (tmp_path / "landing" / "sub" / "up").symlink_to(tmp_path / "landing")
    if loops == 2:
        (tmp_path / "landing" / "down").symlink_to("sub")  # relative, as ln -s sub landing/down
    s = make_settings({"name": "rev", "path": str(tmp_path / "landing" / "**" / "*.csv")})
    started = time.monotonic()
    report = _ingest_within(s, 30)
    assert time.monotonic() - started < 10
    # each real file once, under the name it has in the folder (the path through no link)
    assert sorted((f.path, f.status) for f in report.files) == [
        (str(tmp_path / "landing" / "a.csv"), "loaded"), (str(tmp_path / "landing" / "sub" / "b.csv"), "loaded")]
    assert query(s, "select file_path, title_id from raw_reviews order by all") == [
        (str(tmp_path / "landing" / "a.csv"), "tt1"), (str(tmp_path / "landing" / "sub" / "b.csv"), "tt2")]


def test_the_two_loop_walk_itself_takes_well_under_a_second(tmp_path: Path) -> None:
    from reviewpipe.ingest import matched_files

    write(tmp_path / "landing" / "sub" / "b.csv", "x\n")
    (tmp_path / "landing" / "sub" / "up").symlink_to(tmp_path / "landing")
    (tmp_path / "landing" / "down").symlink_to("sub")
    started = time.monotonic()
    files, refused = matched_files(str(tmp_path / "landing" / "**" / "*.csv"))
    assert time.monotonic() - started < 0.5
    assert (files, refused) == ([tmp_path / "landing" / "sub" / "b.csv"], [])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parents=st.lists(st.integers(0, 4), max_size=4),  # folder k+1 lies in folder parents[k] (clamped)
    files=st.lists(st.integers(0, 4), min_size=1, max_size=4),  # the folder of each real file
    links=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["dir", "file", "outdir", "outfile"]),
                             st.integers(0, 4), st.booleans()), max_size=5),
)
def test_any_layout_of_symlinks_loads_each_real_file_inside_once_and_refuses_those_leading_outside(
    tmp_path: Path, make_settings, parents: list[int], files: list[int], links: list[tuple[int, str, int, bool]]
) -> None:
    import os
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh layout for each example
    landing, outside = root / "landing", root / "outside"
    folders = [landing]
    for k, parent in enumerate(parents):
        folders.append(folders[min(parent, len(folders) - 1)] / f"d{k}")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    real_files = [write(folders[min(f, len(folders) - 1)] / f"f{n}.csv", HEADER + f"tt{n},ann,2020-01-01,5,,,x,y\n")
                  for n, f in enumerate(files)]
    write(outside / "secret.csv", HEADER + "tt_secret,root,2020-01-01,5,,,x,y\n")
    outside_links = set()
    for m, (where, kind, to, relative) in enumerate(links):
        folder = folders[min(where, len(folders) - 1)]
        target = {"dir": folders[min(to, len(folders) - 1)], "file": real_files[min(to, len(real_files) - 1)],
                  "outdir": outside, "outfile": outside / "secret.csv"}[kind]
        link = folder / (f"l{m}.csv" if kind.endswith("file") else f"l{m}")
        link.symlink_to(os.path.relpath(target, folder) if relative else target)
        if kind.startswith("out"):
            outside_links.add((str(folder), link.name))
    s = make_settings({"name": f"rev_{root.name}", "path": str(landing / "**" / "*.csv")})
    try:
        report = _ingest_within(s, 30)
        loaded = [f.path for f in report.files if f.status == "loaded"]
        # every real file once, under its own name: each has one through no symlink
        assert sorted(loaded) == sorted(str(f) for f in real_files)
        # every link leading outside refused once, naming it and where it leads
        refused = [f for f in report.files if f.status == "unreadable"]
        assert sorted((os.path.realpath(Path(f.path).parent), Path(f.path).name) for f in refused) \
            == sorted(outside_links)
        for f in refused:
            assert f.message.startswith(f"refused: {f.path} is a symlink to {outside}")
        assert query(s, "select count(*) from raw_reviews where title_id = 'tt_secret'") == [(0,)]
    finally:
        shutil.rmtree(root)


def test_a_symlink_to_a_file_outside_is_quarantined_naming_it_and_a_path_without_wildcards_is_followed(
    tmp_path: Path, make_settings
) -> None:
    # ln -s /etc/passwd landing/p.csv put a line of /etc/passwd into the published quarantine
    write(tmp_path / "etc" / "passwd", "root:x:0:0:root:/root:/bin/bash\n")
    write(tmp_path / "landing" / "a.csv", HEADER + "tt1,ann,2020-01-01,5,,,A,fine\n")
    link = tmp_path / "landing" / "p.csv"
    link.symlink_to(tmp_path / "etc" / "passwd")
    s = make_settings({"name": "rev", "path": str(tmp_path / "landing" / "*.csv")})
    load(s)
    message = (f"refused: {link} is a symlink to {tmp_path / 'etc' / 'passwd'}, outside the source's "
               f"folder {tmp_path / 'landing'}, so it is not read; if it is meant to be, copy what it "
               "leads to into that folder (or name the file in [[sources]] path, without wildcards)")
    assert query(s, "select file_path, status, message from load_log order by file_path") == [
        (str(tmp_path / "landing" / "a.csv"), "loaded", None), (str(link), "unreadable", message)]
    assert query(s, "select file_path, raw_value, reason from quarantine") == [(str(link), None, message)]
    assert query(s, "select count(*) from raw_rejects where raw_value like '%root:x%'") == [(0,)]

    # named without wildcards, the link is the user's own choice: followed, loaded under its name
    (tmp_path / "etc" / "reviews.csv").write_text(HEADER + "tt9,eve,2020-01-01,5,,,E,kept\n")
    named = tmp_path / "landing" / "named.csv"
    named.symlink_to(tmp_path / "etc" / "reviews.csv")
    s = make_settings({"name": "rev", "path": str(named)})
    load(s, "r2")
    assert query(s, "select file_path, title_id from raw_reviews where title_id = 'tt9'") == [(str(named), "tt9")]


def test_files_named_on_the_command_line_load_each_real_file_once(tmp_path: Path, make_settings) -> None:
    # `reviewpipe ingest a.csv a.csv link.csv`, link.csv -> a.csv: one load of a.csv, by its real path
    real = write(tmp_path / "in" / "a.csv", HEADER + "tt1,ann,2020-01-01,5,,,A,fine\n")
    link = tmp_path / "in" / "link.csv"
    link.symlink_to(real)
    s = make_settings({"name": "rev", "path": str(tmp_path / "in" / "*.csv")})
    report, _ = load(s, only=["rev"], paths=[real, real, link])
    assert [(f.path, f.status) for f in report.files] == [(str(real), "loaded")]


# Issue 21, items 2, 3 and 7: values that are numbers or dates of any size, and ratings written x/y.
TITLES_HEADER = ("title_id,title,site_rating,site_votes,user_review_count,critic_review_count,"
                 "runtime_minutes,popularity\n")
MAX_COUNT = 2**31 - 1  # the largest count staging keeps (sql/schema/macros.sql, max_count)


def problems_by_row(settings, kind: str) -> dict[int, list[tuple[str, str, str]]]:
    """Quarantine's (column, raw value, reason) of each row of the kind."""
    found: dict[int, list[tuple[str, str, str]]] = {}
    for row, column, raw, reason in query(
            settings, "select row_number, column_name, raw_value, reason from quarantine where kind = ?", [kind]):
        found.setdefault(row, []).append((column, raw, reason))
    return found


_SCALES = st.sampled_from([2, 5, 7, 10, 100])
_RATING_NUMBERS = st.one_of(st.integers(0, 120), st.decimals(0, 120, places=1).map(float)).map(
    lambda x: int(x) if x == int(x) else x)
_OUT_OF = st.one_of(st.none(), st.sampled_from([0, 1, 2, 3, 5, 7, 10, 100, 1000]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=_SCALES, ratings=st.lists(st.tuples(_RATING_NUMBERS, _OUT_OF), min_size=1, max_size=30))
def test_a_rating_written_x_of_y_is_rescaled_to_the_source_scale_or_quarantined_naming_it(
    tmp_path: Path, make_settings, scale: int, ratings: list[tuple[float, int | None]]
) -> None:
    """x/y is x * scale / y when y is the source's scale, 5, 10 or 100, then range-checked; any other y
    (0, 7, 1000) is quarantined naming the value. Reviews (1..scale) and titles' site_rating (0..scale)
    alike."""
    texts = [f"{x}/{y}" if y is not None else str(x) for x, y in ratings]
    write(tmp_path / "r.csv", "review_id," + HEADER
          + "".join(f"r{i},tt1,a,2020-01-01,{t},0,0,t,text {i}\n" for i, t in enumerate(texts, 1)))
    write(tmp_path / "t.csv", TITLES_HEADER + "".join(f"tt{i},T,{t},,,,,\n" for i, t in enumerate(texts, 1)))
    s = make_settings({"name": "rev", "path": str(tmp_path / "r.csv"), "rating_scale": scale},
                      {"name": "meta", "kind": "titles", "path": str(tmp_path / "t.csv"), "rating_scale": scale})
    load(s)
    reviews = dict(query(s, "select row_number, rating from stg_reviews"))
    titles = dict(query(s, "select row_number, site_rating from stg_titles"))
    problems = {"reviews": problems_by_row(s, "reviews"), "titles": problems_by_row(s, "titles")}
    for i, ((x, y), text) in enumerate(zip(ratings, texts, strict=True), 1):
        rescaled = x if y in (None, scale) else x * scale / y if y in (5, 10, 100) else None
        for kind, staged, column, low in (("reviews", reviews, "rating", 1), ("titles", titles, "site_rating", 0)):
            # a review's rating must be a point of the scale (whole stars here); a site rating is a mean
            on_point = rescaled is not None and (kind == "titles" or abs(rescaled - round(rescaled)) < 1e-9)
            if on_point and low <= rescaled <= scale:
                expected = rescaled if kind == "titles" else round(rescaled, 3)
                assert staged.get(i) == expected and i not in problems[kind], (kind, text)
                continue
            assert i not in staged, (kind, text)
            [(col, raw, reason)] = problems[kind][i]
            assert (col, raw) == (column, text)
            if rescaled is None:  # the reason names the value whose scale is not known
                assert f"{column} {text} is not out of a known scale" in reason
            elif low <= rescaled <= scale:  # within the range, between two points
                assert f"is not a point of the scale {low}..{scale} in steps of 1" in reason, reason
            else:  # outside the range, once rescaled: the reason says what it came to
                assert reason.startswith(f"{column} is outside {low}..{scale}")
                assert y in (None, scale) or f": {text} is {float(rescaled)} on that scale" in reason


def _written(n: int, form: str) -> tuple[str, int]:
    """A count n written plainly, with thousands separators or in thousands ("57K"); what it stands for."""
    return {"plain": (str(n), n), "commas": (f"{n:,}", n), "thousands": (f"{n}K", n * 1000)}[form]


_COUNTS = st.tuples(
    st.one_of(st.integers(0, 10**25), st.integers(MAX_COUNT - 3, MAX_COUNT + 3), st.integers(0, 10**4)),
    st.sampled_from(["plain", "commas", "thousands"]),
).map(lambda c: _written(*c))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts=st.lists(_COUNTS, min_size=1, max_size=30))
def test_counts_up_to_2_31_are_staged_exactly_and_larger_ones_are_quarantined(
    tmp_path: Path, make_settings, counts: list[tuple[str, int]]
) -> None:
    """Every count column of reviews and titles: a count of at most 2^31 - 1 is staged as written
    (sums of 4 billion of them fit an Int64), a larger one (4611686018427387904, 99999999999999999999K)
    is quarantined with the reason, not summed into a wrapped total nor failing staging."""
    title_counts = ["site_votes", "user_review_count", "critic_review_count", "runtime_minutes", "popularity"]
    write(tmp_path / "r.csv", "review_id," + HEADER + "".join(
        f'r{i},tt1,a,2020-01-01,5,"{text}","{text}",t,text {i}\n' for i, (text, _) in enumerate(counts, 1)))
    write(tmp_path / "t.csv", TITLES_HEADER + "".join(
        f'tt{i},T,5,"{text}","{text}","{text}","{text}","{text}"\n' for i, (text, _) in enumerate(counts, 1)))
    s = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")},
                      {"name": "meta", "kind": "titles", "path": str(tmp_path / "t.csv")})
    load(s)
    reviews = {r[0]: r[1:] for r in query(s, "select row_number, helpful_votes, total_votes from stg_reviews")}
    titles = {r[0]: r[1:] for r in query(s, f"select row_number, {', '.join(title_counts)} from stg_titles")}
    problems = {"reviews": problems_by_row(s, "reviews"), "titles": problems_by_row(s, "titles")}
    for i, (text, n) in enumerate(counts, 1):
        for kind, staged, columns in (("reviews", reviews, ["helpful_votes", "total_votes"]),
                                      ("titles", titles, title_counts)):
            expected = [(c, text, f"{c} is larger than 2147483647, the largest count kept "
                         "(so that sums of counts stay exact)") for c in columns if n > MAX_COUNT]
            if kind == "titles" and text.endswith("K"):  # minutes are digits, with "min" at most
                expected = [p for p in expected if p[0] != "runtime_minutes"] + [
                    ("runtime_minutes", text, "runtime_minutes is not a number of minutes")]
            if expected:
                assert i not in staged and sorted(problems[kind][i]) == sorted(expected), (kind, text)
            else:
                assert staged[i] == (n,) * len(columns) and i not in problems[kind], (kind, text)


_DATES = st.one_of(
    st.tuples(st.integers(-300_000, 300_000), st.integers(1, 12), st.integers(1, 28), st.sampled_from(
        ["", " 23:59:59", " (BC)"])).map(
        lambda d: (f"{'-' if d[0] < 0 else ''}{abs(d[0]):04d}-{d[1]:02d}-{d[2]:02d}{d[3]}",
                   date(d[0], d[1], d[2]) if 1 <= d[0] <= 9999 and d[3] != " (BC)" else None)),
    st.sampled_from([("infinity", None), ("-infinity", None), ("epoch", date(1970, 1, 1)),
                     ("9999-12-31", date(9999, 12, 31)), ("0001-01-01", date(1, 1, 1)), ("10000-01-01", None)]),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dates=st.lists(_DATES, min_size=1, max_size=30))
def test_dates_outside_0001_to_9999_are_quarantined_at_staging(
    tmp_path: Path, make_settings, dates: list[tuple[str, date | None]]
) -> None:
    """A date DuckDB accepts but Python (the report) or Polars (month trends) cannot hold, infinity,
    BC dates and years of 5 or 6 digits, is quarantined with its reason; a date of 0001..9999 is staged
    (DuckDB's "epoch" too: 1970-01-01)."""
    write(tmp_path / "r.csv", "review_id," + HEADER + "".join(
        f"r{i},tt1,a,{text},5,0,0,t,text {i}\n" for i, (text, _) in enumerate(dates, 1)))
    s = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")})
    load(s)
    staged = dict(query(s, "select row_number, review_date from stg_reviews"))
    problems = problems_by_row(s, "reviews")
    for i, (text, day) in enumerate(dates, 1):
        if day is not None:
            assert staged[i] == day and i not in problems, text
        else:
            assert i not in staged and [(c, raw) for c, raw, _ in problems[i]] == [("review_date", text)], text


def _own_warehouse(settings, folder: Path):
    """The settings with a warehouse in `folder`: each hypothesis example starts from an empty one."""
    paths = settings.paths.model_copy(update={"warehouse": folder / "warehouse.duckdb"})
    return settings.model_copy(update={"paths": paths})


# Issue 22, item 3: records without an id of their own. A small pool of contents (rating-only
# reviews of one title on one day among them) so that records repeat within and across files.
_CONTENTS = st.sampled_from([
    ("tt1", "", "2024-01-01", "5", ""), ("tt1", "", "2024-01-01", "1", ""), ("tt1", "", "2024-01-01", "5", "good"),
    ("tt1", "A Google user", "2024-01-01", "5", ""), ("tt2", "", "", "", "Early Access Review"),
    ("tt2", "ann", "2024-01-02", "3", "Early Access Review"),
])


def _record_lines(records: list[tuple[str, ...]]) -> str:
    return "title_id,author,review_date,rating,review_text\n" + "".join(",".join(r) + "\n" for r in records)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(_CONTENTS, min_size=1, max_size=12), overlap=st.integers(0, 12),
       new=st.lists(_CONTENTS, max_size=6))
def test_records_without_an_id_stay_distinct_within_a_file_and_match_across_overlapping_exports(
    tmp_path: Path, make_settings, first: list[tuple[str, ...]], overlap: int, new: list[tuple[str, ...]]
) -> None:
    """Two identical-looking records of one file are two reviews; a later export that repeats the
    end of the first (and adds new records) is recognised record for record: of a content given
    a times in one file and b times in the other, max(a, b) reviews are published and min(a, b)
    copies quarantined as duplicates."""
    import tempfile
    from collections import Counter

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    second = first[len(first) - min(overlap, len(first)):] + new
    write(folder / "export_1.csv", _record_lines(first))
    write(folder / "export_2.csv", _record_lines(second))
    s = _own_warehouse(make_settings({"name": "play", "path": str(folder / "*.csv"), "rating_scale": 5}), folder)
    with open_warehouse(s.warehouse_path) as con:
        ingest(con, s, "r1")
        stage(con)
        staged = Counter(tuple("" if v is None else str(v) for v in r) for r in rows(
            con, "select title_id, author, review_date, rating, review_text from stg_reviews"))
        duplicates = rows(con, "select count(*) from quarantine where column_name = 'review_id' "
                               "and starts_with(reason, 'duplicate of the review in')")[0][0]
        others = rows(con, "select count(*) from quarantine where column_name <> 'review_id'")[0][0]
    a, b = Counter(first), Counter(second)

    def typed(c: tuple[str, ...]) -> tuple[str, ...]:  # as staged: a date, a double
        return (c[0], c[1], c[2], f"{float(c[3])}" if c[3] else "", c[4])

    assert others == 0
    assert staged == Counter({typed(c): max(a[c], b[c]) for c in a | b})
    assert duplicates == sum(min(a[c], b[c]) for c in a | b)


def test_records_with_the_same_given_id_stay_one_review_and_the_other_copies_are_duplicates(
    tmp_path: Path, make_settings
) -> None:
    # Google Play repeats reviewIds: the same id is the same review, whatever else differs
    path = write(tmp_path / "play.csv", "reviewId,title_id,rating,review_text\n"
                 "r1,app,5,Great\nr1,app,5,Great\nr1,app,4,Great (edited)\nr2,app,1,Bad\n")
    s = make_settings({"name": "play", "path": str(path), "rating_scale": 5,
                       "columns": {"review_id": "reviewId"}})
    _, counts = load(s)
    assert query(s, "select review_id, rating from stg_reviews order by review_id") == [("r1", 5.0), ("r2", 1.0)]
    assert query(s, "select row_number, reason from quarantine order by row_number") == [
        (2, f"duplicate of the review in {path} row 1"), (3, f"duplicate of the review in {path} row 1")]


def test_file_row_numbers_records_for_an_id_built_in_the_mapping(tmp_path: Path, make_settings) -> None:
    # Steam gives no id: the file and the record's position make one; file_row is 1 for the first
    # data row, in every format, and a file's own column of that name gives way to it
    write(tmp_path / "a.csv", "game,text\ng,good game\ng,good game\ng,nice\n")
    write(tmp_path / "b.jsonl", '{"game": "g", "text": "x", "file_row": 99}\n{"game": "g", "text": "y"}\n')
    columns = {"review_id": "regexp_extract(filename, '[^/]+$') || '#' || file_row", "title_id": "game",
               "review_text": "text"}
    s = make_settings({"name": "csv", "path": str(tmp_path / "a.csv"), "columns": columns},
                      {"name": "json", "format": "jsonl", "path": str(tmp_path / "b.jsonl"), "columns": columns})
    load(s)
    assert query(s, "select review_id, review_text from stg_reviews order by review_id") == [
        ("a.csv#1", "good game"), ("a.csv#2", "good game"), ("a.csv#3", "nice"),
        ("b.jsonl#1", "x"), ("b.jsonl#2", "y")]


@pytest.mark.parametrize("expression", [
    "row_number() over ()", "count(*)", "sum(length(text))", "max(text) over (partition by game)",
    "unnest(['a', 'b'])", "upper(string_agg(text, ','))",
])
def test_an_expression_that_is_not_computed_record_by_record_is_one_clear_error(
    tmp_path: Path, make_settings, expression: str
) -> None:
    write(tmp_path / "a.csv", "game,text\ng,good game\ng,nice\n")
    s = make_settings({"name": "steam", "path": str(tmp_path / "a.csv"),
                       "columns": {"review_id": expression, "title_id": "game", "review_text": "text"}})
    with pytest.raises(ReviewpipeError, match=r"source 'steam': \[sources.columns\] review_id = .* uses .*"
                                              r"aggregate or window function.*file_row") as info:
        load(s)
    assert info.value.__cause__ is None  # one message, not a DuckDB traceback under it
    assert query(s, "select count(*) from load_log") == [(0,)]


# Issue 22, item 7: keys with runs of whitespace inside (a real folder name has two spaces)
_KEYS = st.text("ab \t", min_size=1, max_size=8).filter(lambda k: k.strip(" \t"))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(_KEYS, min_size=1, max_size=4, unique_by=lambda k: k.strip(" \t")))
def test_keys_keep_their_inside_as_given_and_only_their_ends_are_trimmed(
    tmp_path: Path, make_settings, keys: list[str]
) -> None:
    import csv
    import io
    import tempfile

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    reviews, titles = io.StringIO(), io.StringIO()
    csv.writer(reviews).writerows([["review_id", "title_id", "author", "rating"]]
                                  + [[f" id  {k}", k, f"x  {k}", "5"] for k in keys])
    csv.writer(titles).writerows([["title_id", "title", "related_to_title_id"]]
                                 + [[k, f"{k}  name", f"{k} "] for k in keys])
    write(folder / "r.csv", reviews.getvalue())
    write(folder / "t.csv", titles.getvalue())
    s = _own_warehouse(make_settings({"name": "r", "path": str(folder / "r.csv"), "rating_scale": 5},
                                     {"name": "t", "kind": "titles", "path": str(folder / "t.csv")}), folder)
    load(s)
    ends = " \t"
    assert sorted(query(s, "select review_id, title_id from stg_reviews")) == sorted(
        (f"id  {k}".strip(ends), k.strip(ends)) for k in keys)
    assert sorted(query(s, "select title_id, related_to_title_id from stg_titles")) == sorted(
        (k.strip(ends), k.strip(ends)) for k in keys)
    # display fields may still collapse whitespace: one space
    assert all("  " not in a and "\t" not in a for (a,) in query(s, "select author from stg_reviews"))


# --- Declared languages (issue 24) -------------------------------------------------------------------


def test_a_review_language_column_wins_over_the_sources_language(tmp_path: Path, make_settings) -> None:
    """Codes as sites write them are the language's ISO 639-1 code; a blank cell falls back to the
    source's `language`; anything else quarantines the row, saying what to do."""
    path = write(tmp_path / "in" / "reviews.csv", "title_id,rating,review_text,lang\n"
                 "t1,5,Muy bueno,es-MX\nt1,4,Muito bom,pt_BR\nt1,3,Good,EN\nt1,2,Gut, \n"
                 "t1,1,Malo,Spanish\nt1,1,Mau,p\n")
    settings = make_settings({"name": "mixed", "path": str(path), "rating_scale": 5, "language": "de",
                              "columns": {"review_language": "lang"}})
    load(settings)
    with open_warehouse(settings.warehouse_path) as con:
        staged = rows(con, "select review_text, declared_language from stg_reviews order by review_text")
        problems = rows(con, "select raw_value, column_name, reason from quarantine order by raw_value")
    assert staged == [("Good", "en"), ("Gut", "de"), ("Muito bom", "pt"), ("Muy bueno", "es")]
    assert [p[:2] for p in problems] == [("Spanish", "review_language"), ("p", "review_language")]
    assert all(p[2].startswith("review_language is not an ISO 639-1 code (e.g. es, en); map ")
               for p in problems)


def test_without_a_declared_language_a_review_has_none(tmp_path: Path, make_settings) -> None:
    path = write(tmp_path / "in" / "reviews.csv", "title_id,rating,review_text\nt1,5,Good\n")
    load(make_settings({"name": "plain", "path": str(path), "rating_scale": 5}))
    with open_warehouse(make_settings().warehouse_path) as con:
        assert rows(con, "select declared_language from stg_reviews") == [(None,)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=2),
    upper=st.lists(st.booleans(), min_size=2, max_size=2),
    region=st.none() | st.tuples(st.sampled_from("-_"), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                                                                  max_size=4)),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_any_code_with_a_region_in_any_case_declares_its_language(
    code: str, upper: list[bool], region: tuple[str, str] | None, pad: str
) -> None:
    """The staging rule (int_reviews_typed) on one typed row, run on an in-memory DuckDB."""
    written = "".join(c.upper() if u else c for c, u in zip(code, upper)) + ("".join(region) if region else "")
    assert _declared(pad + written + pad) == (code, [])


@pytest.mark.parametrize(("value", "source", "expected"), [
    (None, None, None), ("", None, None), ("   ", None, None), (None, "es", "es"), (" ", "es", "es"),
    ("en", "es", "en"),
])
def test_a_blank_review_language_is_the_sources_or_none(value, source, expected) -> None:
    assert _declared(value, source) == (expected, [])


@pytest.mark.parametrize("value", ["Spanish", "spa", "e", "12", "-es", "e s"])
def test_a_review_language_that_is_no_iso_639_1_code_is_a_problem(value: str) -> None:
    _, problems = _declared(value)
    assert [(p["column_name"], p["raw_value"]) for p in problems] == [("review_language", value.strip())]


def _declared(value: str | None, source: str | None = None) -> tuple[str | None, list[dict]]:
    """int_reviews_typed's declared_language and problems for one row with this review_language."""
    from reviewpipe.warehouse import connect, read_model

    with connect() as con:
        con.execute(
            "create temp table raw_reviews_batch as select 's' as source, 'f.csv' as file_path, "
            "1::bigint as row_number, 0 as source_order, null::timestamp as file_modified_at, "
            "5 as rating_scale, 1.0::double as rating_min, 1.0::double as rating_step, "
            "[]::varchar[] as failed_fields, 'r1' as review_id, 't1' as title_id, null as author, "
            "null as review_date, '5' as rating, null as review_title, 'Text' as review_text, "
            "null as helpful_votes, null as total_votes, "
            "?::varchar as review_language, ?::varchar as source_language, "
            "null::varchar as reviewer_id, null::varchar as verified_purchase", [value, source])
        declared, problems = con.execute(
            f"select declared_language, problems from ({read_model('staging/int_reviews_typed.sql')})"
        ).fetchone()
    return (declared if not problems else None), problems
