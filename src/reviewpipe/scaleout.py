"""Scale-out: the partitioned work of a run as Prefect tasks, for prefect-dask's DaskTaskRunner.

Three pieces of a run split into independent partitions: reading one source file, detecting and
scoring one batch of texts, summing one partition of reviews (metrics.partial_aggregates).
`dask_map` runs them as Prefect tasks on the task runner of the flow that calls it; under the
`reviewpipe-on-dask` subflow (reviewpipe.flow) that is a Dask cluster. Everything else, and every
write to DuckDB, stays in the flow's process. The tasks are defined here, in an importable module,
so Dask workers unpickle them by reference: workers need reviewpipe installed and the source files
at the same paths.
"""

from __future__ import annotations

import functools
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from reviewpipe import ingest, metrics, sentiment
from reviewpipe.errors import ReviewpipeError

# Partitions submitted to the cluster at once: the flow's process holds at most this many results
# (texts' scores, files read) that it has not written yet.
IN_FLIGHT = 16


def read_file(job: tuple[Any, Any, str | None]) -> ingest.PreparedFile:
    return ingest.read_file_apart(job)


def analyze_texts(items: list[tuple[str, str | None]], languages: tuple[str, ...],
                  score_undetermined: bool) -> list[sentiment.Analysed]:
    return sentiment.analyze_batch(items, languages, score_undetermined)


def aggregate_reviews(scored_reviews: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return metrics.partial_aggregates(scored_reviews)


# The library function each stage maps, and the task that runs it on the cluster.
TASKS: dict[Callable[[Any], Any], Task] = {
    ingest.read_file_apart: task(read_file, name="read-file", cache_policy=NO_CACHE),
    sentiment.analyze_batch: task(analyze_texts, name="analyze-texts", cache_policy=NO_CACHE),
    metrics.partial_aggregates: task(aggregate_reviews, name="aggregate-reviews", cache_policy=NO_CACHE),
}


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Fail with one clear message when nothing listens at the Dask scheduler address (instead of
    distributed's 30-second timeout and traceback in the middle of ingest)."""
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if not address.startswith("tcp://") or not host or not port.isdigit():
        raise ReviewpipeError(
            f"Dask scheduler address {address!r} is not tcp://HOST:PORT; fix --dask-address or "
            "[runner] dask_address"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ReviewpipeError(
            f"cannot reach the Dask scheduler at {address} ({exc.strerror or exc}); start it "
            "(`dask scheduler`) or fix --dask-address / [runner] dask_address"
        ) from None


def dask_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """ingest.Mapper on the current flow's task runner: fn's task on each item, results in order.
    fn may be a functools.partial of a library function (sentiment.analyzer's): its task is given
    the same keyword arguments."""
    options = fn.keywords if isinstance(fn, functools.partial) else {}
    partition = TASKS[fn.func if isinstance(fn, functools.partial) else fn]
    pending: deque = deque()
    for item in items:
        pending.append(partition.submit(item, **options))
        if len(pending) >= IN_FLIGHT:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
