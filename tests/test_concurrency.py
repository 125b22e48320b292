"""Readers never block a run and a run never breaks a reader: real reader processes during real runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import write

from reviewpipe import pipeline

HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"

# A reader as an analyst runs one: queries the published database in a loop and checks that what it
# sees is whole: every title's histogram adds up to its rated reviews, and the reviews table holds
# exactly the reviews the summary counts. "reconnect" opens the file afresh for every query (sees
# each new run); "hold" keeps one session open the whole time (a DuckDB CLI left open);
# "read-write" holds the file open without read_only, as a careless BI tool would.
# DuckDB 2.0.1 reads a file it opens through the path more than once: a session opened at the
# instant a run renames the new file into place can take the old file's header with the new file's
# blocks and fail with "Could not read enough bytes" (reproduced with plain os.replace of two
# complete files, no reviewpipe involved; README, "Reading the results"). Opening again works: the
# reader does so and counts it in "reopened"; any other error fails the test.
READER = r"""
import duckdb, json, os, sys, time
path, stop, mode = sys.argv[1:4]
os.nice(10)  # it takes the CPU the run leaves, never the run's own
done = {"queries": 0, "errors": [], "inconsistent": 0, "reopened": 0}
con = None
while not os.path.exists(stop):
    try:
        if con is None or mode == "reconnect":
            if con is not None:
                con.close()
                con = None
            con = duckdb.connect(path, read_only=(mode != "read-write"))
        bad = con.execute('''
            select count(*) from agg_title_summary s
            left join (select title_id, sum(review_count) as n from agg_rating_distribution
                       group by title_id) d using (title_id)
            where coalesce(d.n, 0) <> s.rated_review_count''').fetchall()[0][0]
        whole = con.execute('''select (select count(*) from reviews)
                                      = (select sum(review_count) from agg_title_summary)''').fetchall()[0][0]
        done["queries"] += 1
        done["inconsistent"] += int(bad != 0 or not whole)
        time.sleep(0.01)  # an analyst's pace, still hundreds of queries a minute: querying without pause took
        # a core even at nice 10, and each of the soak's runs 2.6 s instead of 1.5
    except Exception as exc:
        if mode == "reconnect" and "Could not read enough bytes from file" in str(exc):
            done["reopened"] += 1  # opened while the file was being replaced: open it again
            continue
        done["errors"].append(repr(exc))
        time.sleep(0.01)
print(json.dumps(done))
"""


def hold_run_lock(warehouse: Path) -> subprocess.Popen[str]:
    """Another process holding the warehouse's run lock, as a run in progress does; prints 'ready'."""
    return subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from reviewpipe.warehouse import run_lock\n"
         "with run_lock(Path(sys.argv[1])):\n    print('ready', flush=True); time.sleep(60)",
         str(warehouse)],
        stdout=subprocess.PIPE, text=True)


# the soak test's consecutive incremental runs, each swapping the published file under three readers
# querying it: 10 (20 until 2026-12-05, 55 s of a suite at the 10-minute line; each reader makes 40-100
# queries a run, 370-970 in all)
RUNS = 10


def start_reader(path: Path, stop: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", READER, str(path), str(stop), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_soak_of_incremental_runs_with_three_readers_loses_nothing(tmp_path: Path, make_settings) -> None:
    landing = tmp_path / "landing"
    write(landing / "r0.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely film.\n"
                                       "tt2,bob,2020-01-02,3,0,0,t,Dull and long.\n")
    settings = make_settings({"name": "rev", "path": str(landing / "*.csv")})
    pipeline.run(settings)

    stop = tmp_path / "stop"
    modes = ("reconnect", "reconnect", "hold")
    readers = [start_reader(settings.published_path, stop, mode) for mode in modes]
    try:
        time.sleep(1.0)  # let every reader open the file and start querying
        runs = []
        for i in range(1, RUNS + 1):
            # new reviews arrive between runs, so every run publishes different tables
            write(landing / f"r{i}.csv", HEADER + "".join(
                f"tt{1 + (i + j) % 3},user{i}_{j},2021-0{1 + j % 9}-{1 + i:02d},{1 + (i * j) % 10},{j % 3},"
                f"{j % 3 + 1},t,Review {i}-{j} was {'great' if j % 2 else 'poor'}.\n" for j in range(40)))
            runs.append(pipeline.run(settings))
            time.sleep(0.3)
        stop.touch()
        results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    finally:  # a failed run must not leave the readers querying forever
        stop.touch()
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    print("reader results:", [(m, r["queries"], len(r["errors"]), r["inconsistent"], r["reopened"])
                              for m, r in zip(modes, results)])

    # every run succeeded and published exactly the reviews that had arrived by then, none quarantined
    assert [r.published["reviews"] for r in runs] == [2 + 40 * i for i in range(1, RUNS + 1)]
    assert [r.ingest.staged["quarantine"] for r in runs] == [0] * RUNS
    assert [r.ingest.report.count("loaded") for r in runs] == [1] * RUNS
    for mode, result in zip(modes, results):
        assert result["errors"] == [], (mode, result["errors"][:3])
        assert result["inconsistent"] == 0, mode
        assert result["queries"] > 10, (mode, result)
    # the published file now holds the last run's tables
    con = duckdb.connect(str(settings.published_path), read_only=True)
    assert con.execute("select count(*) from reviews").fetchall() == [(2 + 40 * RUNS,)]
    con.close()


def test_an_analyst_holding_the_published_file_open_for_writing_does_not_stop_a_run(
    tmp_path: Path, make_settings
) -> None:
    # A session opened without read_only locks the file against every other process; a run never
    # opens the live file (it builds, checks and exports a new one, then renames it into place), so
    # it completes, and the analyst's session goes on working on the file it has open.
    write(tmp_path / "r.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely.\n")
    settings = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")})
    pipeline.run(settings)
    stop = tmp_path / "stop"
    analyst = start_reader(settings.published_path, stop, "read-write")
    time.sleep(1.0)
    write(tmp_path / "r.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely.\ntt1,cy,2020-02-01,4,0,1,t,Meh.\n")
    summary = pipeline.run(settings)
    time.sleep(0.3)
    stop.touch()
    result = json.loads(analyst.communicate(timeout=60)[0])
    assert summary.published["reviews"] == 2 and summary.exports
    assert result["errors"] == [] and result["inconsistent"] == 0 and result["queries"] > 5


def test_a_locked_warehouse_makes_the_run_wait_then_fail_naming_the_holder(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "r.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely.\n")
    settings = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")}, lock_wait_seconds=1.0)
    pipeline.run(settings)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(settings.warehouse_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        from reviewpipe.errors import ReviewpipeError
        with pytest.raises(ReviewpipeError, match=rf"locked by another process .*PID {holder.pid}.*waited 1 s"):
            pipeline.run(settings)
        assert time.monotonic() - started >= 1.0  # it waited before giving up
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_waits_for_the_first_then_fails_naming_it(tmp_path: Path, make_settings) -> None:
    # Stages open and close the warehouse one by one; the run lock keeps a second run from slipping
    # in between them. Here another process holds it, as a run in progress would.
    write(tmp_path / "r.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely.\n")
    settings = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")}, lock_wait_seconds=1.0)
    holder = hold_run_lock(settings.warehouse_path)
    try:
        assert holder.stdout.readline().strip() == "ready"
        from reviewpipe.errors import ReviewpipeError
        with pytest.raises(ReviewpipeError, match=rf"another reviewpipe run .*pid {holder.pid}.*waited 1 s"):
            pipeline.run(settings)
        assert not settings.published_path.exists()  # it wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # once the holder is gone (even killed), the lock is free again
    assert pipeline.run(settings).published["reviews"] == 1


def test_with_overlap_skip_a_second_run_exits_cleanly_at_once(tmp_path: Path, make_settings) -> None:
    write(tmp_path / "r.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely.\n")
    settings = make_settings({"name": "rev", "path": str(tmp_path / "r.csv")}, lock_wait_seconds=30.0,
                             schedule={"overlap": "skip"})
    holder = hold_run_lock(settings.warehouse_path)
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        summary = pipeline.run(settings)
        # no waiting, no error: a message saying why, and nothing written
        assert time.monotonic() - started < 10
        assert summary.skipped and f"pid {holder.pid}" in summary.skipped and not summary.published
        assert not settings.published_path.exists()
    finally:
        holder.kill()
        holder.wait()
