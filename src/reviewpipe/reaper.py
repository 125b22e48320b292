"""Processes that die with the run: a watcher that ends what a killed `reviewpipe run` left behind.

A run starts processes it does not fully control: Prefect's temporary API server (a uvicorn
subprocess Prefect starts and stops itself), multiprocessing's resource tracker, a Dask
LocalCluster's workers. Killed with SIGKILL, a run cannot stop them, and they are re-parented and
live on. `start()` starts a small watcher process (this file, run as a script) that reads a pipe
whose write end only the run holds. The kernel closes it when the run ends, however it ends; the
watcher then ends every process that still carries the run's mark: a random value in the
environment variable MARK, set in the run after the watcher started, so that the run's children
and their children inherit it and nothing else has it (not the watcher, not the run's parent).
Linux only (it reads /proc and uses pidfds); elsewhere `start()` does nothing.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import sys
import time

MARK = "REVIEWPIPE_RUN_MARK"
# SIGTERM first (uvicorn shuts down cleanly on it), SIGKILL after this long. The resource tracker
# ignores SIGTERM; it exits by itself once the processes that hold its pipe are gone.
GRACE_SECONDS = 3.0

_started = False


def start() -> None:
    """Start, once per process, a watcher that ends the processes this one started when it ends."""
    global _started
    if _started or not sys.platform.startswith("linux"):
        return
    read, write = os.pipe()  # neither end is inherited by a process the run starts (PEP 446)
    mark = secrets.token_hex(16)
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        # -I: only the standard library, whatever the environment says; the watcher's stdin is the
        # pipe, its stdout and stderr /dev/null (a caller reading the run's output to its end must
        # not wait for the watcher); its own session, so a Ctrl-C or a signal to the run's process
        # group does not end it before it has done its work
        os.posix_spawn(
            sys.executable, [sys.executable, "-I", "-S", __file__, mark], os.environ,
            file_actions=[(os.POSIX_SPAWN_DUP2, read, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                          (os.POSIX_SPAWN_DUP2, devnull, 2)],
            setsid=True,
        )
    finally:
        os.close(read)
        os.close(devnull)
    # the write end stays open, unused, until this process ends. A child forked without exec would
    # hold it too (and delay the watcher until it ends): the run starts none, only spawned ones
    os.environ[MARK] = mark
    _started = True


def _marked(mark: str) -> list[int]:
    """Pidfds of the live processes whose environment holds MARK=mark (a pidfd, unlike a process
    id, cannot come to name another process that reuses the number)."""
    entry = f"{MARK}={mark}".encode()
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            pidfd = os.pidfd_open(int(name))
        except OSError:  # gone already
            continue
        try:
            # read after the pidfd is open: the environment is that of the process it names
            with open(f"/proc/{name}/environ", "rb") as environ:
                if entry in environ.read().split(b"\0"):
                    found.append(pidfd)
                    continue
        except OSError:  # another user's process, or gone
            pass
        os.close(pidfd)
    return found


def _send(pidfds: list[int], sig: signal.Signals) -> None:
    """Send sig to each process of pidfds that has not ended yet."""
    for pidfd in pidfds:
        try:
            signal.pidfd_send_signal(pidfd, sig)
        except ProcessLookupError:  # ended meanwhile
            pass


def _watch(mark: str) -> None:
    """Wait until the run has ended (EOF on stdin), then end the processes carrying its mark."""
    while os.read(0, 4096):
        pass
    living = _marked(mark)
    _send(living, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while living and (left := deadline - time.monotonic()) > 0:
        # a pidfd reads as ready once its process has ended (a zombie too)
        ended, _, _ = select.select(living, [], [], left)
        living = [pidfd for pidfd in living if pidfd not in ended]
    _send(living, signal.SIGKILL)


if __name__ == "__main__":
    _watch(sys.argv[1])
