"""The benchmark at a small size, so that it cannot rot: it runs end to end and its checks hold.

Speed is not asserted here (bench/README.md has the figures); what is: the corpus has the rows asked
for, the pipeline's whole-text scores equal the baseline's for every review, a re-run with no new data
loads and scores nothing, and the 1% run loads the one new file and scores only its reviews.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real corpora not present at {DATA} (see ../shared/data)"),
]


def test_the_benchmark_runs_and_its_checks_hold(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--rows", "400", "--baseline-rows", "200",
         "--workdir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    phases = report["phases"]
    assert report["rows"] == 400 and report["slice_rows"] == 200 and report["new_rows"] == 4
    # every review compared; of those scored, none differs; the few the language detector cannot
    # place as English ("Oh boy!", a cast list) are counted apart, and run.py fails above 1%
    assert report["parity"]["compared"] == 200 and report["parity"]["differing"] == 0
    assert 0 <= report["parity"]["unscored"] <= 2
    assert phases["pipeline_slice"]["reviews"] == 200 and phases["pipeline_cold"]["reviews"] == 400
    assert phases["pipeline_cold"]["texts_scored"] == 400  # every text is distinct
    assert phases["pipeline_rerun"]["files_loaded"] == 0 and phases["pipeline_rerun"]["texts_scored"] == 0
    assert phases["pipeline_1pct"]["files_loaded"] == 1 and phases["pipeline_1pct"]["texts_scored"] == 4
    assert phases["pipeline_1pct"]["reviews"] == 404
    assert phases["duckdb_count"]["rows"] == 404
    # the baseline wrote its three CSVs, and the table printed every phase with its figures
    assert sorted(p.name for p in (tmp_path / "work" / "baseline").iterdir()) == [
        "rating_distribution.csv", "review_scores.csv", "title_summary.csv"]
    for phase in phases:
        assert phase in done.stdout
        assert phases[phase]["peak_rss_mb"] > 0 and phases[phase]["seconds"]["total"] > 0
        assert phases[phase]["cpu_seconds"] > 0  # a phase starts a Python process at least
    assert "baseline / pipeline on the same 200 rows" in done.stdout
    unscored = report["parity"]["unscored"]
    assert (f"whole-text scores equal to the baseline's: {200 - unscored} of 200 reviews; {unscored} left "
            "unscored") in done.stdout
