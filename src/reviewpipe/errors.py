"""The exception types for failures a user can cause and fix, and for those that clear by themselves."""

from __future__ import annotations

import errno
import re

import duckdb


class ReviewpipeError(Exception):
    """A user-caused failure: the message says what was wrong, where, and what to do.

    The CLI prints the message without a traceback and exits non-zero; the Prefect flow fails at once
    without retries.
    """


class TransientError(ReviewpipeError):
    """A failure that may clear by itself: the warehouse locked by another process, a source file
    still being written. The Prefect flow retries the stage with backoff ([schedule] retries); when
    retries run out, the message says what to do like any ReviewpipeError.
    """


# What to do about the operating-system errors a user fixes on their side: a full disk or quota, a
# read-only or forbidden path. Any other OSError is a defect of ours and keeps its traceback.
_ADVICE = {
    errno.ENOSPC: "free space on that disk, or point [paths] in the config at a disk with room",
    errno.EDQUOT: "free space in your disk quota, or point [paths] in the config at a disk with room",
    errno.EROFS: "the file system is mounted read-only: point [paths] in the config at a writable folder",
    errno.EACCES: "give this user access to it and its folder, or point [paths] in the config elsewhere",
    errno.EPERM: "give this user access to it and its folder, or point [paths] in the config elsewhere",
}
# DuckDB reports the same failures as text in its own exceptions (IOException, TransactionException)
_DUCKDB_PHRASES = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
    "Operation not permitted": errno.EPERM,
}
_QUOTED_PATH = re.compile(r'"([^"]*/[^"]*)"')


def as_user_error(exc: BaseException) -> ReviewpipeError | None:
    """exc as the error a user can act on: itself, or a message for a full disk or an unwritable
    path naming the file (from a Python OSError or a DuckDB error); None for anything else."""
    if isinstance(exc, ReviewpipeError):
        return exc
    if isinstance(exc, OSError) and exc.errno in _ADVICE:
        # a copy's error names both files; the second is the one written
        return _os_error(exc.errno, exc.filename2 or exc.filename, exc.strerror or str(exc))
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        for phrase, code in _DUCKDB_PHRASES.items():
            if phrase in text:
                paths = _QUOTED_PATH.findall(text)  # the last quoted path is the file written
                return _os_error(code, paths[-1] if paths else None, phrase)
    return None


def _os_error(code: int, filename: object, reason: str) -> ReviewpipeError:
    where = str(filename) if filename else "a file (the error does not say which)"
    return ReviewpipeError(f"{where}: {reason}; {_ADVICE[code]}, then run again")
