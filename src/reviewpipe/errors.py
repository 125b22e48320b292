"""The one exception type for failures a user can cause and fix."""


class ReviewpipeError(Exception):
    """A user-caused failure: the message says what was wrong, where, and what to do.

    The CLI prints the message without a traceback and exits non-zero; the Prefect flow fails at once
    without retries.
    """
