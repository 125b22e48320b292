"""The exception types for failures a user can cause and fix, and for those that clear by themselves."""


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
