"""Crash safety: real runs killed with SIGKILL at every stage lose nothing and publish nothing wrong.

One project, one round per pause point (eight). Each round a new review file arrives, a `reviewpipe run --no-prefect` is
paused at one point (hooks.py) and killed there with SIGKILL; the published database and the exports
must be exactly as the last good run left them (the go-live round: the database may be the new one,
each file whole and readable). Then a run without the hook must complete and publish exactly what an
uninterrupted run publishes: the run of a clean project over the same files, never killed; after the
last round, also a run from an empty warehouse over all of them.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import published_rows

from reviewpipe import pipeline
from reviewpipe.hooks import POINTS
from reviewpipe.settings import load_settings

BIN = Path(sys.executable).parent
HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"


def config(root: Path, name: str) -> Path:
    path = root / f"{name}.toml"
    path.write_text(
        f'[paths]\nwarehouse = "{name}/warehouse.duckdb"\npublished = "{name}/reports.duckdb"\n'
        f'exports = "{name}/exports"\nsamples = "samples"\n'
        # batches of 500 texts: the score point falls after the first of several batches
        "[sentiment]\nworkers = 1\nbatch_size = 500\n"
    )
    return path


def digests(folder: Path) -> dict[str, str]:
    """What a person sees in the exports folder (a killed run's hidden temporary files aside)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if not p.name.startswith(".")}


@pytest.mark.slow
def test_runs_killed_at_every_stage_lose_nothing_and_the_next_run_recovers(tmp_path: Path) -> None:
    crash, clean = config(tmp_path, "crash"), config(tmp_path, "clean")
    settings = load_settings(crash)
    pipeline.run(settings)  # the last good run before the first crash
    pipeline.run(load_settings(clean))
    killed = 0
    for round_number, point in enumerate(POINTS, start=1):
        # new reviews arrive: 700 of them, so that scoring takes more than one batch
        (tmp_path / "samples" / f"reviews_new_{round_number}.csv").write_text(HEADER + "".join(
            f"tt900000{1 + i % 9},crash{round_number}_{i},2024-0{1 + i % 9}-1{i % 10},{1 + i % 10},"
            f"{i % 4},{i % 4 + 2},Round {round_number},Review {i} of round {round_number} was "
            f"{'wonderful and moving' if i % 3 else 'a dull and tiresome mess'}.\n" for i in range(700)))
        published_before = published_rows(settings.published_path)
        db_before = hashlib.sha256(settings.published_path.read_bytes()).hexdigest()
        exports_before = digests(settings.exports_path)

        run = subprocess.Popen(
            [str(BIN / "reviewpipe"), "run", "--no-prefect", "--config", str(crash)],
            env={**os.environ, "REVIEWPIPE_PAUSE_AT": point}, cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            line = run.stderr.readline()
            assert line.strip() == f"reviewpipe: paused at {point}", line
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=30)
            killed += 1
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == -signal.SIGKILL

        # what readers see is what the last good run published, whole and readable
        if point == "go-live":  # killed between the database's rename and the exports'
            assert digests(settings.exports_path) == exports_before
            assert published_rows(settings.published_path)["reviews"] != published_before["reviews"]
        else:
            assert hashlib.sha256(settings.published_path.read_bytes()).hexdigest() == db_before
            assert published_rows(settings.published_path) == published_before
            assert digests(settings.exports_path) == exports_before

        # the next run completes and publishes what an uninterrupted run publishes
        recovered = pipeline.run(settings)
        assert recovered.ingest.unchanged_since is None
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            statuses = [s for (s,) in con.execute("select status from runs order by started_at").fetchall()]
        assert statuses[-2:] == ["interrupted", "succeeded"], statuses
        pipeline.run(load_settings(clean))  # the clean project's run of this round, never killed
        assert_published_alike(settings, tmp_path / "clean", point)
        # no temporary file of the killed run is left behind
        leftovers = [p.name for p in (tmp_path / "crash").rglob(".*tmp*")]
        assert leftovers == [], leftovers
    assert killed == len(POINTS) == 8
    # and all of it is what a run from an empty warehouse over the same files publishes
    shutil_rmtree(tmp_path / "clean")
    pipeline.run(load_settings(clean))
    assert_published_alike(settings, tmp_path / "clean", "whole build")
    # the sample's 3,000 rows less 8 bad ones (its exact_duplicate, without an id, is a review)
    assert len(published_rows(settings.published_path)["reviews"]) == 2992 + len(POINTS) * 700


def assert_published_alike(settings, clean: Path, point: str) -> None:
    """The crash project's published tables and exports are the clean project's (the report too, but
    for the run it names and when it was made)."""
    assert published_rows(settings.published_path) == published_rows(clean / "reports.duckdb"), point
    ours, theirs = digests(settings.exports_path), digests(clean / "exports")
    assert ours.pop("report.html") and theirs.pop("report.html")
    assert ours == theirs, point


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
