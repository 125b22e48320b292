"""Writing files so that a reader never sees half of one, and running work ahead in order."""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def atomic_write(path: Path, *, temp: Path | None = None, newline: str | None = None,
                 durable: bool = False) -> Iterator[TextIO]:
    """A UTF-8 text file that replaces `path` whole when the block ends without error, readable by
    all (0644): written under `temp` (default: a fresh hidden name beside it), then renamed. With
    `durable`, the file and then its folder are synced to disk, so that the rename survives a crash.
    On error the temporary file is removed and `path` is as it was."""
    if temp is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        handle = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        temp = Path(name)
    else:
        handle = open(temp, "w", encoding="utf-8", newline=newline)  # noqa: SIM115 (closed below)
    try:
        with handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(temp, path)
        if durable:
            fsync_path(path.parent)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(temp)  # a write through the descriptor (a full disk) names no file
        raise


def fsync_path(path: Path) -> None:
    """Sync a file's or a folder's entry and contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def in_order(submit: Callable[[T], Future[R]], items: Iterable[T], in_flight: int) -> Iterator[R]:
    """submit(item) for each item, and each result yielded in the items' order, with at most
    `in_flight` submitted and not yet yielded (so that a large input is never held at once)."""
    pending: deque[Future[R]] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
