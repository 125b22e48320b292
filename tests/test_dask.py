"""Scale-out: the flow on a real Dask cluster (2 worker processes) publishes what a local run publishes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import published_rows
from distributed import Client, LocalCluster, get_task_stream

from reviewpipe import pipeline
from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import load_settings


@pytest.mark.slow
def test_a_run_on_a_dask_cluster_publishes_the_same_tables_as_a_local_run(
        flow_module, prefect_server, tmp_path: Path) -> None:
    # two configurations over the same generated sample, each with its own warehouse
    for name, extra in (
        # the local run: one process, one aggregate partition
        ("local", "[sentiment]\nworkers = 1\n"),
        # the Dask run: small partitions, so scoring and the partial aggregates are split many ways
        ("dask", "[sentiment]\nbatch_size = 400\n[runner]\npartition_rows = 250\n"),
    ):
        (tmp_path / f"{name}.toml").write_text(
            f'[paths]\nwarehouse = "{name}/warehouse.duckdb"\npublished = "{name}/reports.duckdb"\n'
            f'exports = "{name}/exports"\nsamples = "samples"\n' + extra
        )
    pipeline.run(load_settings(tmp_path / "local.toml"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream:
            state = flow_module.reviewpipe_pipeline(
                config_path=str(tmp_path / "dask.toml"), dask_address=cluster.scheduler_address,
                return_state=True,
            )
        assert state.is_completed(), state.message
    summary = state.result()
    assert summary.texts_scored > 2800
    # what ran on the cluster's workers, by task: every file, every batch of texts, every partition
    ran = Counter(t["key"].rsplit("-", 1)[0] for t in stream.data)
    workers = {t["worker"] for t in stream.data}
    assert ran["read_file"] == summary.ingest.report.count("loaded") == 9, ran
    assert ran["analyze_texts"] == -(-summary.texts_scored // 400), ran
    assert ran["aggregate_reviews"] == -(-summary.published["reviews"] // 250), ran
    assert len(workers) == 2

    ours = published_rows(tmp_path / "local" / "reports.duckdb")
    theirs = published_rows(tmp_path / "dask" / "reports.duckdb")
    assert ours.keys() == theirs.keys() and len(ours["reviews"]) > 2900
    for table in ours:
        assert theirs[table] == ours[table], table
    for name in ("local", "dask"):
        assert sorted(p.name for p in (tmp_path / name / "exports").iterdir())
    for csv in (tmp_path / "local" / "exports").glob("*.csv"):
        assert (tmp_path / "dask" / "exports" / csv.name).read_bytes() == csv.read_bytes(), csv.name


def test_a_dask_address_nobody_listens_at_is_one_clear_error(flow_module, tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "reviewpipe.toml").write_text("[sentiment]\nworkers = 1\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "reviewpipe"), "run", "--config", "reviewpipe.toml",
         "--dask-address", f"tcp://127.0.0.1:{port}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    # the command checks the address before it starts Prefect's temporary server (seconds)
    assert "Starting temporary server" not in done.stdout + done.stderr
    assert not (tmp_path / "data" / "reports.duckdb").exists()
    # a deployment's run (no command line) is stopped by the flow's own check, with the same words
    settings = pipeline.with_runner(load_settings(tmp_path / "reviewpipe.toml"), None, f"tcp://127.0.0.1:{port}")
    with pytest.raises(ReviewpipeError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        flow_module.on_dask(settings)
