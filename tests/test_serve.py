"""`reviewpipe serve` against a real Prefect server: the deployment is served, a run completes, Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


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


@pytest.mark.slow
def test_serve_runs_the_scheduled_deployment_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    config = tmp_path / "reviewpipe.toml"
    config.write_text('[sentiment]\nworkers = 1\n[schedule]\ncron = "0 3 * * *"\ntimezone = "Europe/Paris"\n')
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = None
    try:
        def healthy() -> bool:
            try:
                return urllib.request.urlopen(f"{api}/health", timeout=2).read() == b"true"
            except OSError:
                return False

        wait_for(healthy, 90, "the Prefect server")
        serve = subprocess.Popen([str(BIN / "reviewpipe"), "serve", "--config", str(config)], env=env,
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # a run of the served deployment, started the way an operator would, completes
        trigger = (
            "import time; from prefect.deployments import run_deployment\n"
            "from prefect.exceptions import ObjectNotFound\n"
            "for _ in range(120):  # until serve has registered the deployment\n"
            "    try:\n"
            "        run = run_deployment('reviewpipe/reviewpipe-scheduled', timeout=240); break\n"
            "    except ObjectNotFound:\n"
            "        time.sleep(1)\n"
            "from prefect.client.orchestration import get_client\n"
            "with get_client(sync_client=True) as c:\n"
            "    d = c.read_deployment_by_name('reviewpipe/reviewpipe-scheduled')\n"
            "    print(run.state.type.value, d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone)\n"
        )
        done = subprocess.run([sys.executable, "-c", trigger], env=env, capture_output=True, text=True,
                              timeout=400)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == ["COMPLETED", "0", "3", "*", "*", "*", "Europe/Paris"]
        assert (tmp_path / "data" / "reports.duckdb").exists()
        # Ctrl-C stops serving cleanly
        serve.send_signal(signal.SIGINT)
        out, _ = serve.communicate(timeout=60)
        assert serve.returncode in (0, -signal.SIGINT, 130), out[-2000:]
        assert "Traceback" not in out, out[-3000:]
    finally:
        for proc in (serve, server):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
