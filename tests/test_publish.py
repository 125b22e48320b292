"""Publishing: the published models' exact rows, the data checks, the atomic swap, the CSV exports."""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import published_rows, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe import pipeline, runlog, stages
from reviewpipe.errors import ReviewpipeError
from reviewpipe.publish import CheckFailed, export_tables, query_published
from reviewpipe.schema import PUBLISHED_TABLES
from reviewpipe.settings import SqlSettings
from reviewpipe.warehouse import quote_identifier


def publish_live(settings, frames, run_id: str) -> None:
    """Build, check and put in place a published database, without exports."""
    from reviewpipe import publish

    stages.publish_stage(settings, frames, run_id)
    stages.go_live_stage(settings, run_id, [])
    publish.finish(runlog.go_live_journal(settings, run_id))  # no run log to write: done


HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"


@pytest.fixture
def staged(tmp_path: Path, make_settings):
    """A warehouse with two titles from two sources and three reviews, staged and scored."""
    write(tmp_path / "t1.csv", "title_id,title,year,site_rating,site_votes\ntt1,Old Name,1975,8.0,100\ntt2,Two,,,\n")
    write(tmp_path / "t2.csv", "title_id,title,site_votes,genres\ntt1,New Name,,Drama | War\n")
    write(tmp_path / "r.csv", HEADER
          + "tt1,ann,2020-01-01,9,41,57,A,I loved it.\n"
          + "tt1,bob,2020-02-01,3,0,0,B,It was awful.\n"
          + "tt2,cy,2020-03-01,,1,3,C,It was a film.\n")
    s = make_settings(
        {"name": "t_first", "kind": "titles", "path": str(tmp_path / "t1.csv")},
        {"name": "t_second", "kind": "titles", "path": str(tmp_path / "t2.csv")},
        {"name": "rev", "path": str(tmp_path / "r.csv")},
    )
    stages.ingest_stage(s, "r1")
    stages.score_stage(s)
    return s


def test_published_titles_merge_sources_in_load_order(staged) -> None:
    frames = stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged)
    publish_live(staged, frames, "r1")
    con = duckdb.connect(str(staged.published_path), read_only=True)
    got = con.execute("select title_id, title, year, site_rating, site_votes, user_review_count, "
                      "critic_review_count, genres, directors from titles order by title_id").fetchall()
    # the second source overrides the title and adds genres; its empty site_votes does not erase 100
    assert got == [("tt1", "New Name", 1975, 8.0, 100, None, None, "Drama, War", None),
                   ("tt2", "Two", None, None, None, None, None, None, None)]
    reviews = con.execute("select author, helpful_ratio, helpful_wilson_lb, sentiment_label "
                          "from reviews order by author").fetchall()
    # 41 of 57 -> 0.7193 with a Wilson bound below it; 0 of 0 -> no ratio, bound 0
    assert reviews[0][0] == "ann" and reviews[0][1] == pytest.approx(41 / 57) and 0 < reviews[0][2] < reviews[0][1]
    assert reviews[1] == ("bob", None, 0.0, "negative")
    assert reviews[2][3] == "neutral"
    summary = con.execute("select title_id, review_count, rated_review_count, rating_mean, helpful_votes, "
                          "total_votes from agg_title_summary order by title_id").fetchall()
    assert summary == [("tt1", 2, 2, 6.0, 41, 57), ("tt2", 1, 0, None, 1, 3)]
    comment = con.execute("select comment from duckdb_tables() where table_name = 'reviews'").fetchall()
    assert comment[0][0].startswith("One row per usable review")
    con.close()


def test_a_failing_check_publishes_nothing_and_keeps_the_old_file(staged) -> None:
    frames = stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged)
    publish_live(staged, frames, "r1")
    digest = hashlib.sha256(staged.published_path.read_bytes()).hexdigest()
    broken = dict(frames)
    # a share that does not sum to 1 must be caught by sql/checks/agg_rating_distribution_shares.sql
    broken["metric_rating_distribution"] = frames["metric_rating_distribution"].with_columns(
        share=pl.col("share") * 2)
    with pytest.raises(CheckFailed, match="agg_rating_distribution_shares"):
        stages.publish_stage(staged, broken, "r2")
    assert hashlib.sha256(staged.published_path.read_bytes()).hexdigest() == digest
    assert not list(staged.published_path.parent.glob(".*.tmp"))


def test_exports_are_whole_csv_files_of_the_agg_tables(staged, tmp_path: Path) -> None:
    publish_live(staged, stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged), "r1")
    out = tmp_path / "out"
    written = export_tables(staged.published_path, out)
    assert sorted(p.name for p in written) == sorted(
        f"{t}.csv" for t in PUBLISHED_TABLES if t.startswith("agg_"))
    with (out / "agg_rating_distribution.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    # tt1 has ratings 9 and 3 on a 10-point scale: 10 rows, two of them with one review each
    tt1 = [r for r in rows if r["title_id"] == "tt1"]
    assert len(tt1) == 10 and sorted(r["review_count"] for r in tt1 if r["review_count"] != "0") == ["1", "1"]
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_export_file_names_come_only_from_published_tables(staged, tmp_path: Path) -> None:
    """A table name that is a path (or not published) is refused; nothing is written anywhere."""
    from reviewpipe.errors import ReviewpipeError

    publish_live(staged, stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged), "r1")
    out = tmp_path / "deep" / "out"
    before = sorted(tmp_path.rglob("*"))
    for name in ("../../escaped", "/tmp/escaped", "agg_title_summary/../../escaped", "reviews; --"):
        with pytest.raises(ReviewpipeError, match="no published table named"):
            export_tables(staged.published_path, out, [name])
    assert sorted(tmp_path.rglob("*")) == before and not Path("/tmp/escaped.csv").exists()
    written = export_tables(staged.published_path, out, ["agg_title_summary"])
    assert [p.parent for p in written] == [out]


def test_csv_exports_neutralise_formula_like_text_and_keep_numbers(tmp_path: Path, make_settings) -> None:
    # review titles and authors are other people's words; a spreadsheet would run these as formulas
    # (leading tabs and carriage returns are trimmed away by staging, so they never reach an export)
    hostile = ['=HYPERLINK("http://x","click")', "+1+1", "-2-2", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    with (tmp_path / "r.csv").open("w", newline="") as fh:
        out_csv = csv.writer(fh)
        out_csv.writerow(HEADER.strip().split(","))
        for i, h in enumerate(hostile):
            out_csv.writerow(["tt1", h, f"2020-01-0{i + 1}", i + 1, 0, 0, h, f"Plain text number {i}."])
    settings = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")})
    pipeline.run(settings)
    out = tmp_path / "out"
    export_tables(settings.published_path, out, ["agg_rating_sentiment_mismatches", "reviews"])
    with (out / "reviews.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(hostile)
    for row in rows:
        for column in ("author", "review_title"):
            # every text cell that started with = + - @ tab or CR now starts with a quote
            assert row[column][0] == "'" and row[column][1:] in hostile, row[column]
        # numbers are never altered: ratings and votes read back as the numbers they were
        assert float(row["rating"]) in {1.0, 2.0, 3.0, 4.0, 5.0} and row["total_votes"] == "0"
    # clean text is left alone
    assert all(not r["review_text"].startswith("'") for r in rows)

    plain = tmp_path / "plain"
    export_tables(settings.published_path, plain, ["reviews"], neutralize_formulas=False)
    with (plain / "reviews.csv").open(newline="") as fh:
        assert sorted(r["author"] for r in csv.DictReader(fh)) == sorted(hostile)


def test_parquet_exports_hold_the_published_rows(staged, tmp_path: Path) -> None:
    publish_live(staged, stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged), "r1")
    out = tmp_path / "pq"
    written = export_tables(staged.published_path, out, fmt="parquet")
    assert {p.suffix for p in written} == {".parquet"}
    got = pl.read_parquet(out / "agg_title_summary.parquet").sort("title_id")
    con = duckdb.connect(str(staged.published_path), read_only=True)
    expected = con.sql("select * from agg_title_summary order by title_id").pl()
    con.close()
    assert got.equals(expected)


# --- Building from a copy of the live database ---------------------------------------------------


def _reviews_csv(path: Path, first: int, n: int, *, edit: dict[int, str] | None = None,
                 drop: tuple[int, ...] = (), titles: int = 7, move: dict[int, str] | None = None) -> None:
    """n reviews with ids r<first>.. of titles tt0..tt<titles - 1>; `edit` gives some of them another
    text, `move` another title, `drop` leaves some out."""
    lines = ["review_id," + HEADER]
    for i in range(first, first + n):
        if i in drop:
            continue
        text = (edit or {}).get(i, f"Review {i} was {'a wonderful, moving film' if i % 3 else 'dull'}.")
        lines.append(f"r{i},{(move or {}).get(i, f'tt{i % titles}')},critic{i},2021-{1 + i % 12:02d}-05,{1 + i % 10},{i % 5},{i % 5 + i % 3},"
                     f'Title {i},"{text}"\n')
    write(path, "".join(lines))


def test_a_run_with_few_changes_publishes_exactly_what_a_whole_build_does(tmp_path: Path, make_settings) -> None:
    """Each run below starts from a copy of the live database when few reviews changed, and must
    publish exactly what a clean run over the same files publishes, to the order of the rows (the
    exports are the same bytes), whether or not the changes touch every title; a change of
    settings, or a live database touched by someone else, makes the run build it whole."""
    landing = tmp_path / "landing"
    _reviews_csv(landing / "a.csv", 0, 60)
    _reviews_csv(landing / "b.csv", 100, 60)
    _reviews_csv(landing / "small.csv", 200, 10, titles=2, move={203: "tt6"})
    titles = "title_id,title,site_rating,site_votes\n" + "".join(f"tt{i},Film {i},{5 + i / 2},{100 * i}\n"
                                                               for i in range(7))
    write(tmp_path / "titles.csv", titles)
    settings = make_settings({"name": "rev", "path": str(landing / "*.csv")},
                             {"name": "meta", "kind": "titles", "path": str(tmp_path / "titles.csv")})

    def run_and_compare(settings) -> int | None:
        summary = pipeline.run(settings)
        if summary.reviews_replaced is None:  # built whole, as every other test builds it
            return None
        clean_root = tmp_path / f"clean-{summary.run_id}"
        clean = settings.model_copy(update={"paths": settings.paths.model_copy(update={
            "warehouse": clean_root / "w.duckdb", "published": clean_root / "p.duckdb",
            "exports": clean_root / "exports"})})
        assert pipeline.run(clean).reviews_replaced is None
        published = published_rows(settings.published_path)
        assert published == published_rows(clean.published_path)
        # the per-title tables replaced by title include the languages (issue 24)
        assert published["agg_title_languages"]
        exports = sorted(p.name for p in settings.exports_path.glob("agg_*.csv"))
        assert exports and exports == sorted(p.name for p in clean.exports_path.glob("agg_*.csv"))
        for name in exports:
            assert (settings.exports_path / name).read_bytes() == (clean.exports_path / name).read_bytes()
        return summary.reviews_replaced

    def titles_of(*ids: int) -> set[str]:
        with duckdb.connect(str(settings.published_path), read_only=True) as con:
            return {t for (t,) in con.execute(
                "select distinct title_id from reviews where review_id in (select unnest(?))",
                [[f"r{i}" for i in ids]]).fetchall()}

    assert run_and_compare(settings) is None  # the first build is whole
    # new reviews of one title only: the other titles' rows are kept from the copy; the site's
    # figures of an untouched title change and a title without reviews arrives (title rows only)
    _reviews_csv(landing / "new.csv", 300, 10, titles=1)
    write(tmp_path / "titles.csv", titles.replace("tt4,Film 4,7.0,400", "tt4,Film 4,7.5,90000")
          + "tt9,Film 9,6.0,10\n")
    assert run_and_compare(settings) == 10
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        assert con.execute("select review_count, site_votes from agg_title_summary "
                           "where title_id = 'tt9'").fetchall() == [(0, 10)]
        # tt0's languages now count its 10 new texts too (the copy's rows of it were replaced)
        assert con.execute("select sum(review_count) = (select count(*) from reviews where title_id = 'tt0') "
                           "from agg_title_languages where title_id = 'tt0'").fetchall() == [(True,)]
    # two reviews edited, one gone, one moved from tt6 to a new title: every review of the file is
    # replaced (10), one is deleted; the titles touched are the file's two, and the moved review's
    # old (tt6, which no other changed review has) and new
    _reviews_csv(landing / "small.csv", 200, 10, edit={201: "Now I hate it.", 205: "Changed my mind: superb."},
                 drop=(207,), titles=2, move={203: "tt8"})
    assert run_and_compare(settings) == 10
    assert titles_of(203) == {"tt8"}
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        assert con.execute("select count(*) from reviews").fetchall() == [(139,)]
        assert con.execute("select sentiment_label from reviews where review_id = 'r201'").fetchall() == [
            ("negative",)]
        assert con.execute("select review_count from agg_title_summary where title_id = 'tt8'").fetchall() == [
            (1,)]

    # other settings: every review's helpful_wilson_lb changes, so the database is built whole
    wider = settings.model_copy(update={"metrics": settings.metrics.model_copy(update={"wilson_z": 2.5})})
    _reviews_csv(landing / "new2.csv", 400, 5)
    assert run_and_compare(wider) is None
    # someone wrote into the live database: it is not copied, but built whole (their table is gone)
    _reviews_csv(landing / "new3.csv", 500, 5)
    with duckdb.connect(str(wider.published_path)) as con:
        con.execute("create table scratch as select 1 as x")
    assert run_and_compare(wider) is None
    with duckdb.connect(str(wider.published_path), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'scratch'").fetchall() == [(0,)]
    _reviews_csv(landing / "new4.csv", 600, 5)
    assert run_and_compare(wider) == 5


def test_a_live_database_written_to_before_or_while_it_is_copied_is_not_used(tmp_path: Path, monkeypatch) -> None:
    from reviewpipe import publish

    live, new = tmp_path / "reports.duckdb", tmp_path / ".reports.duckdb.r2.tmp"
    live.write_bytes(b"published by run r1")
    signature = publish.file_signature(live)
    assert publish.copy_if_unchanged(live, new, signature) and new.read_bytes() == live.read_bytes()
    new.unlink()

    real_copy = publish.shutil.copyfile

    def copy_while_someone_writes(src, dst):  # an analyst's session checkpoints during the copy
        real_copy(src, dst)
        live.write_bytes(b"published by run r1, then changed")

    monkeypatch.setattr(publish.shutil, "copyfile", copy_while_someone_writes)
    assert not publish.copy_if_unchanged(live, new, signature) and not new.exists()
    # and once it has changed, it is not copied at all
    monkeypatch.setattr(publish.shutil, "copyfile", real_copy)
    assert not publish.copy_if_unchanged(live, new, signature) and not new.exists()


def test_a_retried_publish_does_not_build_on_the_copy_its_failed_attempt_changed(
        tmp_path: Path, make_settings) -> None:
    """The live database is copied while the run scores (stages.LiveCopy); the first publish
    attempt builds on that copy, a retry (Prefect retries the publish task) builds whole."""
    landing = tmp_path / "landing"
    _reviews_csv(landing / "a.csv", 0, 60)
    settings = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    pipeline.run(settings)
    _reviews_csv(landing / "new.csv", 100, 5, move=dict.fromkeys(range(100, 105), "tt5"))
    stages.ingest_stage(settings, "20260101T000000-abcdef")
    live_copy = stages.LiveCopy(settings, "20260101T000000-abcdef")
    new_db = runlog.new_database_path(settings, "20260101T000000-abcdef")
    stages.score_stage(settings)
    # the metrics of the changed title alone, the others' kept in the copy (read, not changed)
    frames = stages.metrics_stage(settings, live_copy=live_copy) | stages.trust_stage(settings) | stages.terms_stage(settings)
    assert frames["touched_titles"]["title_id"].to_list() == ["tt5"]
    assert set(frames["metric_helpfulness"]["title_id"]) == {"tt5"}
    assert frames["metric_title_summary"].height == 7
    assert live_copy.take() == (True, 5)
    assert new_db.read_bytes() == settings.published_path.read_bytes()
    assert live_copy.take() == (False, 5)
    assert live_copy.base() is None
    # a retry has no copy to put the changed title's rows in: it computes every title's and builds whole
    assert stages.publish_stage(settings, frames, "20260101T000000-abcdef", live_copy).reviews_replaced is None
    with duckdb.connect(str(new_db), read_only=True) as con:
        assert con.execute("select count(*) from agg_helpfulness").fetchall() == [(7,)]


# --- Ad-hoc queries within bounds, exports only under safe names --------------------------------


@pytest.fixture
def published_folder(tmp_path: Path) -> Path:
    """A folder holding only a small published database, written by a real DuckDB session."""
    folder = tmp_path / "published"
    folder.mkdir()
    with duckdb.connect(str(folder / "reports.duckdb")) as con:
        con.execute("create table agg_title_summary as select 'tt1' as title_id, 3 as review_count")
    return folder


def _folder_state(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under folder with its digest and modification time: what any write changes."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# a query for each bound, with bounds tiny enough that it exceeds that one: a list that cannot
# spill (160 MB), a hash table of 2,000,000 strings that spills beyond 50 MB of memory, and a sum
# over 10^11 rows that would run for minutes
LIMIT_CASES = {
    "memory_limit": ({"memory_limit": "20MB"}, "select len(list(i)) from range(20000000) t(i)",
                     "query needs more than 20MB of memory, the limit [sql] memory_limit"),
    "max_temp_directory_size": (
        {"memory_limit": "50MB", "max_temp_directory_size": "2MB"},
        "select count(*) from (select distinct md5(i::varchar) from range(2000000) t(i))",
        "query needs more than 2MB of temporary disk space, the limit [sql] max_temp_directory_size"),
    "timeout_seconds": ({"timeout_seconds": 0.5}, "select sum(hash(i)) from range(100000000000) t(i)",
                        "query stopped after 0.5 s, the time limit [sql] timeout_seconds"),
}


@pytest.mark.parametrize("limit", sorted(LIMIT_CASES))
def test_an_ad_hoc_query_beyond_a_bound_fails_naming_it_and_writes_nothing_in_the_published_folder(
        published_folder: Path, tmp_path: Path, limit: str) -> None:
    bounds, query, message = LIMIT_CASES[limit]
    spill = tmp_path / "spill"
    before = _folder_state(published_folder)
    started = time.monotonic()
    with pytest.raises(ReviewpipeError, match=re.escape(message)) as failed:
        query_published(published_folder / "reports.duckdb", query,
                        SqlSettings(temp_directory=spill, **bounds))
    assert "\n" not in str(failed.value)  # the CLI prints it as one line
    assert f"REVIEWPIPE_SQL__{limit.upper()}" in str(failed.value)  # and says how to raise it
    assert time.monotonic() - started < 30  # stopped, not run until killed
    # the read-only file is not written, DuckDB's default spill folder (reports.duckdb.tmp) not made
    assert _folder_state(published_folder) == before and sorted(published_folder.iterdir()) == [
        published_folder / "reports.duckdb"]
    assert list(spill.iterdir()) == []  # the query's own spill folder is gone with it


def test_an_ad_hoc_query_spills_to_its_temp_directory_with_no_access_to_other_files(
        published_folder: Path, tmp_path: Path) -> None:
    """enable_external_access = false still lets DuckDB spill; and the bounds cannot be lifted."""
    spill = tmp_path / "spill"
    database = published_folder / "reports.duckdb"
    before = _folder_state(published_folder)
    limits = SqlSettings(memory_limit="50MB", temp_directory=spill, timeout_seconds=60)
    # the same hash table as above, within a cap it fits: it spills (over 50 MB) and completes
    assert query_published(database, "select count(*) from (select distinct md5(i::varchar) "
                                     "from range(2000000) t(i))", limits)[1] == [(2000000,)]
    lifts = ["set memory_limit = '10GB'", "pragma memory_limit = '10GB'", "reset memory_limit",
             "set max_temp_directory_size = '1TB'", f"set temp_directory = '{published_folder}'",
             "set enable_external_access = true", "set lock_configuration = false"]
    for statement in lifts:
        with pytest.raises(ReviewpipeError, match="configuration has been locked"):
            query_published(database, statement, limits)
    escapes = [f"copy agg_title_summary to '{published_folder}/out.csv'", "select * from read_csv('/etc/passwd')",
               f"attach '{tmp_path}/other.duckdb'", "install httpfs", "delete from agg_title_summary"]
    for statement in escapes:
        with pytest.raises(ReviewpipeError, match="disabled by configuration|read-only"):
            query_published(database, statement, limits)
    assert _folder_state(published_folder) == before and list(spill.iterdir()) == []
    assert not (tmp_path / "other.duckdb").exists()
    # a spill folder inside the published folder is refused before anything runs
    for inside in (published_folder, published_folder / "spill"):
        with pytest.raises(ReviewpipeError, match=r"is inside the published folder.*REVIEWPIPE_SQL__TEMP_DIRECTORY"):
            query_published(database, "select 1", SqlSettings(temp_directory=inside))
    assert _folder_state(published_folder) == before


# table names an analyst's session can give a table in the published file: path separators,
# parent folders, absolute paths, quotes, newlines, spaces, capitals and non-ASCII letters
hostile_names = st.builds(
    lambda start, parts: start + "".join(parts),
    st.sampled_from(["agg_", "agg_x/", "/", "ABSOLUTE/agg_", "../agg_", ""]),
    st.lists(st.sampled_from(["/", "..", "../", "'", '"', "\n", "\r", " ", "\\", "é", "名", "A", ";",
                              "x", "evil_out", "\t"]), min_size=1, max_size=6),
).filter(lambda name: not re.fullmatch(r"[a-z_][a-z0-9_]*", name))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile_names)
def test_exports_write_only_safely_named_tables_inside_the_exports_folder(tmp_path: Path, caplog, name: str) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    name = name.replace("ABSOLUTE", str(root / "abs"))
    database = root / "reports.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table agg_good as select 1 as n")
        con.execute(f"create table {quote_identifier(name)} as select 2 as n")
    out = root / "a" / "b" / "exports"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reviewpipe.publish"):
        written = export_tables(database, out)
    # every agg_ table whose name is safe, and nothing else anywhere
    assert written == [out / "agg_good.csv"]
    assert sorted(p for p in root.rglob("*") if p.is_file()) == [out / "agg_good.csv", database]
    if name.startswith("agg_"):  # an agg_ table left out is named in a warning
        assert [r.getMessage() for r in caplog.records if repr(name) in r.getMessage()], caplog.text
    # asked for by name, it is an error naming it, and nothing is written
    with pytest.raises(ReviewpipeError, match=re.escape(f"published table {name!r} cannot be exported")):
        export_tables(database, out, ["agg_good", name])
    assert sorted(p for p in root.rglob("*") if p.is_file()) == [out / "agg_good.csv", database]


@pytest.mark.parametrize("session", ["open, writing", "killed after writing", "closed without a checkpoint"])
def test_a_live_database_whose_write_ahead_log_holds_writes_is_not_copied(tmp_path: Path, session: str) -> None:
    """A real DuckDB session writes to the live file, which keeps its signature (the writes wait in
    `.wal`): a delta publish must not copy the file, whose bytes are not what its readers see."""
    from reviewpipe import publish

    live, new = tmp_path / "reports.duckdb", tmp_path / ".reports.duckdb.r2.tmp"
    with duckdb.connect(str(live)) as con:
        con.execute("create table agg_title_summary as select 'tt1' as title_id, 3 as review_count")
    signature = publish.file_signature(live)
    update = "update agg_title_summary set review_count = 999999"
    holder = None
    if session == "closed without a checkpoint":
        with duckdb.connect(str(live)) as con:
            con.execute("pragma disable_checkpoint_on_shutdown")
            con.execute(update)
    else:
        holder = subprocess.Popen([sys.executable, "-c",
                                   "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                                   f"c.execute({update!r}); print('written', flush=True); time.sleep(60)",
                                   str(live)], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "written"
        if session == "killed after writing":
            holder.kill()
            holder.wait(timeout=30)
    try:
        assert publish.file_signature(live) == signature and publish.wal_path(live).exists()
        assert not publish.copy_if_unchanged(live, new, signature) and not new.exists()
    finally:
        if holder is not None:
            holder.kill()
            holder.wait(timeout=30)


def test_the_title_languages_and_scored_counts_are_published_and_checked(staged) -> None:
    """agg_title_languages counts each review with a text once, in its language, with the scored
    ones, as agg_title_summary does; its check (sql/checks/agg_title_languages_shares.sql) fails a
    publish whose shares do not sum to 1, whose scored counts disagree with the summary's, or that
    misses a title's texts."""
    frames = stages.metrics_stage(staged) | stages.trust_stage(staged) | stages.terms_stage(staged)
    publish_live(staged, frames, "r1")
    with duckdb.connect(str(staged.published_path), read_only=True) as con:
        # every text here is read by the English analyzer (or undetermined and scored); whatever
        # language each is given, tt1's two texts and tt2's one are all counted and all scored
        languages = con.execute("select title_id, sum(review_count), sum(review_share), "
                                "sum(scored_review_count) from agg_title_languages "
                                "group by title_id order by title_id").fetchall()
        summary = con.execute("select title_id, scored_review_count, scored_share "
                              "from agg_title_summary order by title_id").fetchall()
        months = con.execute("select title_id, month, review_count, scored_review_count "
                             "from agg_monthly_trends order by title_id, month").fetchall()
    assert languages == [("tt1", 2, pytest.approx(1.0), 2), ("tt2", 1, pytest.approx(1.0), 1)]
    assert summary == [("tt1", 2, 1.0), ("tt2", 1, 1.0)]
    assert [m[2:] for m in months] == [(1, 1), (1, 1), (1, 1)]
    broken = {
        "shares": frames["metric_title_languages"].with_columns(review_share=pl.col("review_share") / 2),
        "scored": frames["metric_title_languages"].with_columns(scored_review_count=pl.lit(0, pl.Int64)),
        "a title missing": frames["metric_title_languages"].filter(pl.col("title_id") != "tt2"),
    }
    for run, (what, rows) in enumerate(broken.items(), start=2):
        with pytest.raises(CheckFailed, match="agg_title_languages_shares"):
            stages.publish_stage(staged, frames | {"metric_title_languages": rows}, f"r{run}")
