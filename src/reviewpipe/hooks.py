"""A test hook: pause a run at a named point so that a test can kill it there (tests/test_crash.py).

With REVIEWPIPE_PAUSE_AT=<point> in the environment, a run that reaches that point says so on stderr
and sleeps until it is killed. Points: ingest (one file committed, others not), staging (inside the
staging transaction), score (one batch of scores committed), metrics, trust (the trust tests' kept
signatures written), publish (the new database
built, not checked), export (exports written under temporary names), go-live (the new database in
place, the exports not yet). Without the variable, `pause` does nothing.
"""

from __future__ import annotations

import os
import sys
import time

POINTS = ("ingest", "staging", "score", "metrics", "trust", "publish", "export", "go-live")


def pause(point: str) -> None:
    if os.environ.get("REVIEWPIPE_PAUSE_AT") == point:
        # written, not print()ed: a Prefect task's print becomes a log line (log_prints), which the
        # terminal may not show
        sys.stderr.write(f"reviewpipe: paused at {point}\n")
        sys.stderr.flush()
        time.sleep(3600)
