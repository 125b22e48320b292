"""The whole pipeline without Prefect: STAGES, the one declared list of a run's stages, and
run_stages, the one walk over it. `run` walks it calling each stage here; the Prefect flow
(reviewpipe.flow) walks the same list with each stage as a task.

The stages themselves are in reviewpipe.stages (one function each), the run log in
reviewpipe.runlog, the [quality] gate in reviewpipe.quality, what a run says in reviewpipe.summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from reviewpipe import publish, quality, runlog, sentiment, stages
from reviewpipe.errors import ReviewpipeError
from reviewpipe.ingest import FileLoad, Mapper
from reviewpipe.runlog import new_database_path, new_run_id
from reviewpipe.settings import Settings
from reviewpipe.summary import (
    current_outputs,
    summary_markdown,
    title_leaderboard,
    title_preview,
    trust_line,
)
from reviewpipe.warehouse import RunInProgress, WarehouseLocked, connect, run_lock


@dataclass
class RunSummary:
    """What one run did, for the CLI, the run log and the Prefect artifact."""

    run_id: str
    ingest: stages.IngestSummary | None = None
    texts_scored: int = 0  # texts new to the sentiment cache (or done again): detected, scored if read
    texts_unscored: int = 0  # of those, texts in languages sentiment does not cover
    published: dict[str, int] = field(default_factory=dict)
    reviews_replaced: int | None = None  # a delta publish: reviews replaced in a copy of the live file
    published_path: Path | None = None
    exports: list[Path] = field(default_factory=list)
    preview: tuple[list[str], list[tuple]] = ([], [])
    trust: str | None = None  # what the trust tests found (summary.trust_line)
    report: Path | None = None
    skipped: str | None = None  # why the run did nothing (another run was writing; overlap = "skip")
    seconds: dict[str, float] = field(default_factory=dict)
    quality: quality.Quality | None = None  # what was quarantined, counted as duplicates, warned about


class Progress(Protocol):
    """Told of a run's long work as it goes (the command shows it: cli.RunProgress)."""

    def loaded(self, file: FileLoad) -> object:
        """A file was loaded."""

    def scored(self, done: int, todo: int) -> object:
        """`done` of the run's `todo` texts are scored."""


@dataclass
class Run:
    """One run as its stages see it: the settings and the summary being filled in, how the run was
    asked for, and what one stage hands a later one."""

    settings: Settings
    summary: RunSummary
    only: list[str] | None = None  # the sources to run (None: every one)
    full_refresh: bool = False
    mapper: Mapper | None = None  # partitioned work goes through it (scaleout.dask_map); None: here
    progress: Progress | None = None
    # the scoring pool, started during ingest once it has loaded more than a batch (PoolAhead.loaded)
    ahead: sentiment.PoolAhead | None = None
    live_copy: stages.LiveCopy | None = None
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    exported: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final) each
    drawn: list[tuple[Path, Path]] = field(default_factory=list)  # the report, (temporary, final)
    # the new database's sha256, taken while the exports and the report are written
    database_digest: Future[str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The run as a stage run in another process gets it (the report, on a Dask worker): without
        what only this process can use (the pool, the copy's thread, the progress display) or that
        stage does not read (the frames, the digest under way)."""
        return self.__dict__ | {"progress": None, "ahead": None, "live_copy": None, "frames": {},
                                "database_digest": None}


def _ignore(run: Run, result: Any) -> None:
    """Keeps nothing of a stage's result."""


@dataclass(frozen=True)
class Stage:
    """One stage of a run, and what the walk (run_stages) needs to know of it."""

    name: str  # also its Prefect task's name and its key in RunSummary.seconds
    work: Callable[[Run], Any]  # the stage's one call; its result
    keep: Callable[[Run, Any], None] = _ignore  # notes the result in the run, in the walk's process
    opens_run: bool = False  # logs the run as running: a failure after it is cleaned up (abandon_run)
    uses_pool_ahead: bool = False  # runs while the scoring pool started ahead is up
    when_nothing_new: bool = False  # runs also when ingest found nothing new
    beside_next: bool = False  # runs in a thread (the flow: a submitted task) while the next one runs
    timed: bool = True  # its wall seconds go in RunSummary.seconds
    retried: bool = True  # the flow retries it on TransientError ([schedule] retries)
    flow_only: bool = False  # only the flow runs it: what it makes is for the Prefect UI


# Each stage's work (its one call, with what it needs of the run) and keep (what the run notes of
# its result).


def _begin(run: Run) -> None:
    runlog.record_run_start(run.settings, run.summary.run_id)


def _ingest(run: Run) -> stages.IngestSummary:
    return stages.ingest_stage(
        run.settings, run.summary.run_id, only=run.only, full_refresh=run.full_refresh, mapper=run.mapper,
        on_load=_both(run.ahead.loaded, run.progress and run.progress.loaded) if run.ahead else None)


def _keep_ingest(run: Run, ingested: stages.IngestSummary) -> None:
    run.summary.ingest = ingested
    if not ingested.unchanged_since:
        # the live published database is copied while the run scores and computes metrics
        run.live_copy = stages.LiveCopy(run.settings, run.summary.run_id)


def _score(run: Run) -> stages.Scored:
    return stages.score_stage(run.settings, run.mapper, run.ahead, run.progress and run.progress.scored)


def _keep_score(run: Run, scored: stages.Scored) -> None:
    run.summary.texts_scored = scored.texts
    run.summary.texts_unscored = scored.unscored


def _metrics(run: Run) -> dict[str, pl.DataFrame]:
    return stages.metrics_stage(run.settings, run.mapper, run.live_copy)


def _keep_metrics(run: Run, frames: dict[str, pl.DataFrame]) -> None:
    run.frames = frames


def _trust(run: Run) -> dict[str, pl.DataFrame]:
    return stages.trust_stage(run.settings)


def _keep_frames(run: Run, frames: dict[str, pl.DataFrame]) -> None:
    run.frames = {**run.frames, **frames}


def _terms(run: Run) -> dict[str, pl.DataFrame]:
    return stages.terms_stage(run.settings)


def _quality(run: Run) -> quality.Quality:
    return quality.quality_stage(run.settings, run.summary)


def _keep_quality(run: Run, checked: quality.Quality) -> None:
    run.summary.quality = checked


def _publish(run: Run) -> stages.Published:
    return stages.publish_stage(run.settings, run.frames, run.summary.run_id, run.live_copy)


def _keep_publish(run: Run, published: stages.Published) -> None:
    s = run.summary
    s.published, s.reviews_replaced = published.counts, published.reviews_replaced
    s.published_path = run.settings.published_path
    # nothing writes the new database any more: go-live's journal needs its sha256 (0.3 s at
    # 1,000,000 bench reviews), taken beside the exports and the report (bench/README.md, round 12)
    run.database_digest = publish.digest_ahead(new_database_path(run.settings, run.summary.run_id))


def _report(run: Run) -> list[tuple[Path, Path]]:
    return stages.report_stage(run.settings, run.summary.run_id)


def _keep_report(run: Run, files: list[tuple[Path, Path]]) -> None:
    run.drawn = files


def _export(run: Run) -> list[tuple[Path, Path]]:
    return stages.export_stage(run.settings, run.summary.run_id)


def _keep_export(run: Run, files: list[tuple[Path, Path]]) -> None:
    run.exported = files
    database = new_database_path(run.settings, run.summary.run_id)
    run.summary.preview = title_preview(database)
    run.summary.trust = trust_line(database, enabled=run.settings.trust.enabled)


def _artifacts(run: Run) -> tuple[str, tuple[list[str], list[tuple]]]:
    """The run's summary (markdown) and the titles by weighted rating, for the Prefect UI."""
    return (summary_markdown(run.summary),
            title_leaderboard(new_database_path(run.settings, run.summary.run_id)))


def _go_live(run: Run) -> list[Path]:
    return stages.go_live_stage(run.settings, run.summary.run_id, run.exported + run.drawn, run.database_digest)


def _keep_go_live(run: Run, live: list[Path]) -> None:
    *run.summary.exports, run.summary.report = live


STAGES: tuple[Stage, ...] = (
    Stage("begin", _begin, opens_run=True, timed=False),
    Stage("ingest", _ingest, _keep_ingest, uses_pool_ahead=True),
    Stage("score", _score, _keep_score, uses_pool_ahead=True),
    Stage("metrics", _metrics, _keep_metrics),
    Stage("trust", _trust, _keep_frames),
    Stage("terms", _terms, _keep_frames),
    # past a [quality] limit the run stops here: nothing new is published
    Stage("quality", _quality, _keep_quality, when_nothing_new=True, timed=False, retried=False),
    Stage("publish", _publish, _keep_publish),
    # the report (mostly Python drawing charts) is drawn while DuckDB writes the exports
    Stage("report", _report, _keep_report, beside_next=True),
    Stage("export", _export, _keep_export),
    Stage("artifacts", _artifacts, timed=False, retried=False, flow_only=True),
    # the database, exports and report go live in one step (stages.go_live_stage)
    Stage("go-live", _go_live, _keep_go_live, timed=False, retried=False),
)


class Pending(Protocol):
    """A stage running beside the walk."""

    def result(self) -> tuple[Any, float]:
        """The stage's result and its wall seconds, once it is done."""


class Caller(Protocol):
    """How a walk runs each stage: here (pipeline.run) or as a Prefect task (reviewpipe.flow)."""

    in_flow: bool  # whether the flow_only stages run

    def call(self, stage: Stage, run: Run) -> tuple[Any, float]:
        """The stage's result and its wall seconds."""

    def start(self, stage: Stage, run: Run) -> Pending:
        """The stage started beside the walk."""

    def nothing_new(self, run: Run) -> None:
        """Told that ingest found nothing new (the flow says so in its log)."""


def timed(stage: Stage, run: Run) -> tuple[Any, float]:
    """A stage's result for a run and its wall seconds."""
    t = time.perf_counter()
    return stage.work(run), time.perf_counter() - t


class InProcess:
    """The Caller of pipeline.run: each stage called in this process, the one beside in a thread."""

    in_flow = False

    def call(self, stage: Stage, run: Run) -> tuple[Any, float]:
        return timed(stage, run)

    def start(self, stage: Stage, run: Run) -> Future[tuple[Any, float]]:
        beside = ThreadPoolExecutor(max_workers=1)
        try:
            return beside.submit(timed, stage, run)
        finally:
            beside.shutdown(wait=False)  # its thread ends with the stage

    def nothing_new(self, run: Run) -> None:
        pass


def run(
    settings: Settings, *, only: list[str] | None = None, full_refresh: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every stage in order and log the run; raises ReviewpipeError on a user-caused failure.
    `progress` is told of each file loaded and each batch of texts scored."""
    return locked(settings, lambda: run_stages(
        Run(settings, RunSummary(new_run_id()), only=only, full_refresh=full_refresh, progress=progress),
        InProcess()))


def locked(settings: Settings, walk: Callable[[], RunSummary]) -> RunSummary:
    """walk()'s summary, walked holding the run lock; when another run holds it, the summary of a
    skipped run if [schedule] overlap = "skip", else RunInProgress (after waiting, as it says)."""
    try:
        with run_lock(settings.warehouse_path, wait=overlap_wait(settings)):
            return walk()
    except RunInProgress as exc:
        return skipped_run(settings, exc)


def run_stages(run: Run, caller: Caller) -> RunSummary:
    """Walk STAGES for a run, each through `caller`, and log the run; its summary.

    The scoring pool started ahead is up until the last stage that uses it; when ingest found
    nothing new, only the stages marked when_nothing_new run and the outputs in place are the run's;
    a stage marked beside_next runs while the next one does; after a failure the run is abandoned
    (abandon_run: its go-live, if it began one, rolled back, its temporary files removed, the
    failure logged). Each stage's seconds go in summary.seconds.

    Once the run is logged as running, the warehouse is held open until the walk ends: each stage's
    own connection then joins that DuckDB database (no catalog read, no checkpoint at its close:
    one at the end; a run of 40 reviews 1.00-1.10 -> 0.86-0.89 s, the two measured in turn). A
    warehouse another process holds at that moment is not waited for: the stages open it as they
    would alone (and retry as they do).
    """
    settings, summary = run.settings, run.summary
    # on Dask (a mapper) the workers score, not a pool here
    run.ahead = sentiment.PoolAhead(
        sentiment.worker_count(settings.sentiment.workers) if run.mapper is None else 1,
        settings.sentiment.batch_size)
    last_with_pool = max(i for i, stage in enumerate(STAGES) if stage.uses_pool_ahead)
    opened = False
    try:
        with ExitStack() as pool_ahead, ExitStack() as held:
            pool_ahead.enter_context(run.ahead)
            beside: tuple[Stage, Pending] | None = None
            for i, stage in enumerate(STAGES):
                if i > last_with_pool:
                    pool_ahead.close()
                if (stage.flow_only and not caller.in_flow) or (
                        _nothing_new(summary) and not stage.when_nothing_new):
                    continue
                if stage.beside_next:
                    beside = stage, caller.start(stage, run)
                    continue
                done = [(stage, _call(caller, stage, run, beside and beside[1]))]
                if beside is not None:
                    done.append((beside[0], beside[1].result()))
                    beside = None
                knew = _nothing_new(summary)
                for each, (result, seconds) in done:
                    each.keep(run, result)
                    if each.timed:
                        summary.seconds[each.name] = seconds
                opened = opened or stage.opens_run
                if stage.opens_run:
                    with suppress(WarehouseLocked):
                        held.callback(connect(settings.warehouse_path, wait=0, memory_limit=settings.memory_limit).close)
                if _nothing_new(summary) and not knew:
                    caller.nothing_new(run)
        if _nothing_new(summary):
            runlog.record_run_end(settings, current_outputs(settings, summary))
            return summary
    except BaseException as exc:
        if opened:
            runlog.abandon_run(settings, summary, exc, run.live_copy)
        raise
    runlog.record_run_end(settings, summary)
    return summary


def _call(caller: Caller, stage: Stage, run: Run, beside: Pending | None) -> tuple[Any, float]:
    """caller.call(stage, run); when it fails, the stage beside it is waited for first: nothing of
    the run may be written once abandon_run has removed its files."""
    try:
        return caller.call(stage, run)
    except BaseException:
        if beside is not None:
            with suppress(Exception):  # this stage's failure is the one to report
                beside.result()
        raise


def _nothing_new(summary: RunSummary) -> bool:
    """Whether the run's ingest found nothing new (no file changed, nor the settings)."""
    return summary.ingest is not None and summary.ingest.unchanged_since is not None


def with_runner(settings: Settings, kind: str | None, dask_address: str | None) -> Settings:
    """The settings with [runner] overridden from the command line (`--runner`, `--dask-address`)."""
    runner = settings.runner
    if dask_address:
        runner = runner.model_copy(update={"kind": "dask", "dask_address": dask_address})
    if kind:
        if kind not in ("local", "dask"):
            raise ReviewpipeError(f"--runner {kind!r}: use local or dask")
        runner = runner.model_copy(update={"kind": kind})
    return settings.model_copy(update={"runner": runner})


def overlap_wait(settings: Settings) -> float:
    """How long a run waits for another to finish: not at all when overlapping runs are skipped."""
    return 0.0 if settings.schedule.overlap == "skip" else settings.lock_wait_seconds


def skipped_run(settings: Settings, exc: RunInProgress) -> RunSummary:
    """The summary of a run that found another one writing: skipped when so configured, else raise."""
    if settings.schedule.overlap != "skip":
        raise exc
    return RunSummary(new_run_id(), skipped=f"skipped: {exc}")


def _both(first: Callable[[FileLoad], object],
          second: Callable[[FileLoad], object] | None) -> Callable[[FileLoad], object]:
    """A callback that calls first, then second when there is one."""
    if second is None:
        return first
    return lambda file: (first(file), second(file))
