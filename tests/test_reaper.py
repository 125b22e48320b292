"""Processes that die with the run: whatever a killed `reviewpipe run` started ends with it, and
nothing else does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from reviewpipe.reaper import GRACE_SECONDS, MARK

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the watcher needs /proc and pidfds")

# A process that calls reaper.start(), then starts descendants of every kind (one per line of its
# output: their process ids), says "ready" and waits to be killed.
STARTER = """
import multiprocessing, os, subprocess, sys, time
from reviewpipe import reaper

def main():
    reaper.start()
    sleep = ["sleep", "120"]
    started = [
        subprocess.Popen(sleep),                            # a child
        subprocess.Popen(sleep, start_new_session=True),    # a child in a session of its own
        # a child that ignores SIGTERM
        subprocess.Popen([sys.executable, "-c",
                          "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                          "print(flush=True); time.sleep(120)"], stdout=subprocess.PIPE),
    ]
    started[-1].stdout.readline()  # its handler is set
    # a grandchild, and an orphan: a grandchild whose parent has exited already
    shell = subprocess.Popen(["sh", "-c", "sleep 120 & echo $!; wait"], stdout=subprocess.PIPE,
                             text=True)
    orphan = subprocess.run(["sh", "-c", "sleep 120 >/dev/null 2>&1 & echo $!"], capture_output=True,
                            text=True).stdout
    pool = multiprocessing.get_context("spawn").Pool(1)     # a spawned process, a resource tracker
    pool.apply(os.getpid)
    for pid in [p.pid for p in started] + [shell.pid, int(shell.stdout.readline()), int(orphan)]:
        print(pid)
    print("ready", flush=True)
    time.sleep(120)

if __name__ == "__main__":
    main()
"""


def alive(pids: list[int]) -> list[str]:
    """The command lines of those of pids that still run (a zombie has ended)."""
    out = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                out.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            pass
    return out


def descendants(pid: int) -> list[int]:
    return [p.pid for p in psutil.Process(pid).children(recursive=True)]


def wait_until_ended(pids: list[int], seconds: float) -> list[str]:
    """Those of pids still running after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def end(pids: list[int]) -> None:
    """Clean up after a failed test: kill whatever of pids is left."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_killed_process_takes_every_process_it_started_with_it_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "starter.py").write_text(STARTER)
    # bystanders: a process started beside it, one that carries the mark's name with another value
    bystanders = [subprocess.Popen(["sleep", "120"]),
                  subprocess.Popen(["sleep", "120"], env={**os.environ, MARK: "0" * 32})]
    starter = subprocess.Popen([sys.executable, str(tmp_path / "starter.py")], stdout=subprocess.PIPE,
                               text=True, cwd=tmp_path)
    started: list[int] = []
    try:
        for line in starter.stdout:
            if line == "ready\n":
                break
            started.append(int(line))
        started = sorted({*started, *descendants(starter.pid)})
        # the children, grandchild, orphan, pool process, resource tracker and the watcher
        assert len(started) >= 9, started
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        assert wait_until_ended(started, GRACE_SECONDS + 10) == []
        assert [p.poll() for p in bystanders] == [None, None]
    finally:
        end([starter.pid, *started, *(p.pid for p in bystanders)])
        for p in bystanders:
            p.wait()


def paused_run(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], list[int]]:
    """A `reviewpipe run` paused while it scores with two processes, and what it has started."""
    config = tmp_path / "reviewpipe.toml"
    config.write_text(
        '[paths]\nwarehouse = "data/warehouse.duckdb"\npublished = "data/reports.duckdb"\n'
        'exports = "data/exports"\nsamples = "samples"\n'
        # 2,991 sample reviews in batches of 500: the pool is up when the first batch is committed
        "[sentiment]\nworkers = 2\nbatch_size = 500\n"
    )
    run = subprocess.Popen(
        [str(BIN / "reviewpipe"), "run", "--config", str(config), *args],
        # Prefect's temporary server may start slowly on a busy machine (its default: 20 s)
        env={**os.environ, "REVIEWPIPE_PAUSE_AT": "score",
             "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"},
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in run.stderr:
            if "reviewpipe: paused at score" in line:
                break
        return run, descendants(run.pid)
    except BaseException:
        run.kill()
        raise


def command_lines(pids: list[int]) -> str:
    return "\n".join(alive(pids))


def test_a_killed_run_leaves_no_process_behind(tmp_path: Path) -> None:
    run, started = paused_run(tmp_path, "--no-prefect")
    try:
        # two scoring processes, the resource tracker, the watcher
        assert command_lines(started).count("--multiprocessing-fork") == 2, command_lines(started)
        assert "resource_tracker" in command_lines(started)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        assert wait_until_ended(started, GRACE_SECONDS + 10) == []
    finally:
        end([run.pid, *started])


@pytest.mark.slow
def test_a_killed_prefect_run_leaves_neither_its_server_nor_its_workers_behind(tmp_path: Path) -> None:
    run, started = paused_run(tmp_path, "--prefect")
    try:
        assert "prefect.server.api.server:create_app" in command_lines(started)
        assert command_lines(started).count("--multiprocessing-fork") == 2, command_lines(started)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        t = time.monotonic()
        assert wait_until_ended(started, GRACE_SECONDS + 10) == []
        print(f"ended in {time.monotonic() - t:.2f} s")
    finally:
        end([run.pid, *started])
