"""Deployments against a real Prefect server: `reviewpipe serve` runs the scheduled deployment, keeps
overlapping runs apart with Prefect's deployment concurrency limit, stops on Ctrl-C; prefect.yaml
deploys with the config's schedule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A real `prefect server start` for the module; the environment that points at it."""
    home = tmp_path_factory.mktemp("prefect")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           # an enqueued run looks for a free slot again after 1 s (default 30 s), served
           # deployments poll for runs every 2 s (default 10 s): the tests need not wait
           "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        try:
            return urllib.request.urlopen(f"{api}/health", timeout=2).read() == b"true"
        except OSError:
            return False

    try:
        wait_for(healthy, 90, "the Prefect server")
        yield env
    finally:
        stop(server)


# Starts two runs of a served deployment at once and prints, per run: its final state, whether it
# waited for a concurrency slot, its state message; then the deployment's cron and timezone.
TWO_RUNS = """
import sys, time
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
name = sys.argv[1]
for _ in range(120):  # until serve has registered the deployment
    try:
        runs = [run_deployment(name, timeout=0) for _ in range(2)]
        break
    except ObjectNotFound:
        time.sleep(1)
with get_client(sync_client=True) as c:
    for _ in range(400):
        states = [c.read_flow_run(r.id).state for r in runs]
        if all(s.is_final() for s in states):
            break
        time.sleep(1)
    for r, s in zip(runs, states):
        waited = any(h.name == "AwaitingConcurrencySlot" for h in c.read_flow_run_states(r.id))
        print(s.type.value, waited, repr(s.message))
    d = c.read_deployment_by_name(name)
    print(d.schedules[0].schedule.cron, "|", d.schedules[0].schedule.timezone)
"""


def serve_two_runs(server_env: dict[str, str], project: Path, config: str, deployment: str
                   ) -> tuple[list[str], str]:
    """Serve the config's deployment, start two runs at once, stop serving with Ctrl-C."""
    (project / "reviewpipe.toml").write_text(config)
    serve = subprocess.Popen([str(BIN / "reviewpipe"), "serve", "--config", "reviewpipe.toml"],
                             env=server_env, cwd=project, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        done = subprocess.run([sys.executable, "-c", TWO_RUNS, f"reviewpipe/{deployment}"],
                              env=server_env, capture_output=True, text=True, timeout=500)
        assert done.returncode == 0, done.stderr[-2000:]
        # Ctrl-C stops serving cleanly
        serve.send_signal(signal.SIGINT)
        out, _ = serve.communicate(timeout=60)
        assert serve.returncode in (0, -signal.SIGINT, 130), out[-2000:]
        assert "Traceback" not in out, out[-3000:]
    finally:
        stop(serve)
    *runs, schedule = done.stdout.strip().splitlines()
    return runs, schedule


def run_log(project: Path) -> list[tuple]:
    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select status, started_at, finished_at from runs order by started_at").fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_serve_runs_the_deployment_one_run_at_a_time_and_stops_cleanly(server_env, tmp_path: Path) -> None:
    runs, schedule = serve_two_runs(
        server_env, tmp_path,
        '[sentiment]\nworkers = 1\n[schedule]\ncron = "0 3 * * *"\ntimezone = "Europe/Paris"\n',
        "reviewpipe-scheduled",
    )
    assert schedule == "0 3 * * * | Europe/Paris"
    # both runs completed; Prefect held one back until the other had finished (overlap = "wait")
    assert [r.split()[0] for r in runs] == ["COMPLETED", "COMPLETED"], runs
    assert sorted(r.split()[1] for r in runs) == ["False", "True"], runs
    log = run_log(tmp_path)
    assert [status for status, *_ in log] == ["succeeded", "succeeded"]
    assert log[0][2] <= log[1][1], "the second run started before the first had finished"
    assert (tmp_path / "data" / "reports.duckdb").exists()


@pytest.mark.slow
def test_with_overlap_skip_prefect_cancels_the_second_run(server_env, tmp_path: Path) -> None:
    runs, _ = serve_two_runs(
        server_env, tmp_path,
        '[sentiment]\nworkers = 1\n[schedule]\noverlap = "skip"\ndeployment = "reviewpipe-skip"\n',
        "reviewpipe-skip",
    )
    assert sorted(r.split()[0] for r in runs) == ["CANCELLED", "COMPLETED"], runs
    assert any("CANCELLED" in r and "concurrency limit" in r for r in runs), runs
    assert [status for status, *_ in run_log(tmp_path)] == ["succeeded"]


@pytest.mark.slow
def test_prefect_yaml_deploys_with_the_configs_schedule_and_limit(server_env, tmp_path: Path) -> None:
    (tmp_path / "reviewpipe.toml").write_text(
        '[schedule]\ncron = "30 4 * * 1-5"\ntimezone = "America/New_York"\noverlap = "skip"\n'
        'deployment = "weekday-mornings"\n')
    subprocess.run([str(BIN / "reviewpipe"), "prefect-yaml", "--config", "reviewpipe.toml"],
                   cwd=tmp_path, env=server_env, check=True, capture_output=True)
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", "reviewpipe-local", "--type", "process"],
                   env=server_env, check=True, capture_output=True)
    deployed = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", "deploy", "--all",
         "--prefect-file", str(tmp_path / "prefect.yaml")],
        cwd=REPO, env=server_env, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout[-2000:] + deployed.stderr[-2000:]
    read = subprocess.run([sys.executable, "-c", (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        "    d = c.read_deployment_by_name('reviewpipe/weekday-mornings')\n"
        "    s = d.schedules[0].schedule\n"
        "    print(s.cron, '|', s.timezone, '|', d.global_concurrency_limit.limit, '|',\n"
        "          d.concurrency_options.collision_strategy.value, '|', d.parameters['config_path'],\n"
        "          '|', d.work_pool_name)\n")], env=server_env, capture_output=True, text=True, timeout=60)
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.strip() == (
        "30 4 * * 1-5 | America/New_York | 1 | CANCEL_NEW | reviewpipe.toml | reviewpipe-local")
