"""The whole pipeline without Prefect: STAGES, the one declared list of a run's stages, and
run_stages, the one walk over it. `run` walks it calling each stage here; the Prefect flow
(reviewpipe.flow) walks the same list with each stage as a task.

The stages themselves are in reviewpipe.stages (one function each), the run log in
reviewpipe.runlog, the [quality] gate in reviewpipe.quality, what a run says in reviewpipe.summary.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from reviewpipe import metrics, publish, quality, runlog, sentiment, stages
from reviewpipe.errors import ReviewpipeError
from reviewpipe.ingest import FileLoad, Mapper
from reviewpipe.runlog import new_database_path, new_run_id, warehouse
from reviewpipe.settings import Settings
from reviewpipe.summary import current_outputs, summary_markdown, title_leaderboard, title_preview
from reviewpipe.warehouse import RunInProgress, rows, run_lock, scalar, sql_dir, sql_literal


@dataclass
class RunSummary:
    """What one run did, for the CLI, the run log and the Prefect artifact."""

    run_id: str
    ingest: stages.IngestSummary | None = None
    texts_scored: int = 0
    published: dict[str, int] = field(default_factory=dict)
    reviews_replaced: int | None = None  # a delta publish: reviews replaced in a copy of the live file
    published_path: Path | None = None
    exports: list[Path] = field(default_factory=list)
    preview: tuple[list[str], list[tuple]] = ([], [])
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
    live_copy: LiveCopy | None = None
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    exported: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final) each
    drawn: list[tuple[Path, Path]] = field(default_factory=list)  # the report, (temporary, final)

    def __getstate__(self) -> dict[str, Any]:
        """The run as a stage run in another process gets it (the report, on a Dask worker): without
        what only this process can use (the pool, the copy's thread, the progress display) or that
        stage does not read (the frames)."""
        return self.__dict__ | {"progress": None, "ahead": None, "live_copy": None, "frames": {}}


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
        run.live_copy = LiveCopy(run.settings, run.summary.run_id)


def _score(run: Run) -> int:
    return stages.score_stage(run.settings, run.mapper, run.ahead, run.progress and run.progress.scored)


def _keep_score(run: Run, scored: int) -> None:
    run.summary.texts_scored = scored


def _metrics(run: Run) -> dict[str, pl.DataFrame]:
    return stages.metrics_stage(run.settings, run.mapper, run.live_copy)


def _keep_metrics(run: Run, frames: dict[str, pl.DataFrame]) -> None:
    run.frames = frames


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


def _report(run: Run) -> list[tuple[Path, Path]]:
    return stages.report_stage(run.settings, run.summary.run_id)


def _keep_report(run: Run, files: list[tuple[Path, Path]]) -> None:
    run.drawn = files


def _export(run: Run) -> list[tuple[Path, Path]]:
    return stages.export_stage(run.settings, run.summary.run_id)


def _keep_export(run: Run, files: list[tuple[Path, Path]]) -> None:
    run.exported = files
    run.summary.preview = title_preview(new_database_path(run.settings, run.summary.run_id))


def _artifacts(run: Run) -> tuple[str, tuple[list[str], list[tuple]]]:
    """The run's summary (markdown) and the titles by weighted rating, for the Prefect UI."""
    return (summary_markdown(run.summary),
            title_leaderboard(new_database_path(run.settings, run.summary.run_id)))


def _go_live(run: Run) -> list[Path]:
    return stages.go_live_stage(run.settings, run.summary.run_id, run.exported + run.drawn)


def _keep_go_live(run: Run, live: list[Path]) -> None:
    *run.summary.exports, run.summary.report = live


STAGES: tuple[Stage, ...] = (
    Stage("begin", _begin, opens_run=True, timed=False),
    Stage("ingest", _ingest, _keep_ingest, uses_pool_ahead=True),
    Stage("score", _score, _keep_score, uses_pool_ahead=True),
    Stage("metrics", _metrics, _keep_metrics),
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
    """
    settings, summary = run.settings, run.summary
    # on Dask (a mapper) the workers score, not a pool here
    run.ahead = sentiment.PoolAhead(
        sentiment.worker_count(settings.sentiment.workers) if run.mapper is None else 1,
        settings.sentiment.batch_size)
    last_with_pool = max(i for i, stage in enumerate(STAGES) if stage.uses_pool_ahead)
    opened = False
    try:
        with ExitStack() as pool_ahead:
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


# The incremental state: what the outputs are made from, whether they are current, the live copy
# a delta publish builds on. reviewpipe.state will hold it.


def inputs_state(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """A hash of what the outputs are made from: every loaded file's fingerprint, the settings that
    shape the outputs, and this reviewpipe's code and SQL. Equal hashes give equal outputs."""
    digest = hashlib.sha256()
    for row in rows(con, "select source, kind, file_path, fingerprint, status from load_log order by all"):
        digest.update(repr(row).encode())
    digest.update(publish_basis(settings).encode())
    return digest.hexdigest()


def publish_basis(settings: Settings) -> str:
    """A hash of how data becomes outputs: the settings that shape them and this code and SQL."""
    digest = hashlib.sha256(settings.model_dump_json(
        include={"sources", "sentiment", "metrics", "exports", "paths"}).encode())
    digest.update(_code_hash().encode())
    return digest.hexdigest()


@cache
def _code_hash() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.rglob("*.py"), *sql_dir().rglob("*.sql")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def output_paths(settings: Settings) -> list[Path]:
    """Every file a run puts live: the published database, each export and the report."""
    fmt = settings.exports.format
    return [settings.published_path, settings.exports_path / "report.html",
            *(settings.exports_path / f"{t}.{fmt}" for t in publish.PUBLISHED_TABLES
              if t.startswith("agg_"))]


def outputs_current(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether every output holds exactly the bytes the last run that went live put there.

    Each file's stat signature (publish.file_signature) is compared first, so a run with nothing
    new reads no output; only a file whose signature changed is hashed, and one with the same bytes
    (copied back, or put back by a rolled-back go-live) gets its new signature stored. A write-ahead
    log beside the published database means a session wrote to it: not current.
    """
    recorded = {Path(path): (stat, digest) for path, stat, digest in
                rows(con, "select path, stat, sha256 from output_signatures")}
    if set(recorded) != set(output_paths(settings)) or publish.wal_path(settings.published_path).exists():
        return False
    for path, (stat, digest) in recorded.items():
        now = publish.file_signature(path) if path.is_file() else None
        if now == stat:
            continue
        if now is None or publish.file_digest(path) != digest:
            return False
        con.execute("update output_signatures set stat = ? where path = ?", [now, str(path)])
        if path == settings.published_path:  # the same bytes: still a base for a delta publish
            con.execute("update published_state set file_signature = ?", [now])
    return True


_SHAPE_COLUMNS = ("rating_entropy", "extreme_share", "bimodality_coefficient", "rating_skewness",
                  "is_polarized")


def _untouched_titles_rows(con: duckdb.DuckDBPyConnection, base: Path) -> dict[str, pl.DataFrame]:
    """From the copy of the live published database: the touched titles (publish_pending's), and
    the rows of every other title that the figures spanning titles need (see metrics_stage)."""
    untouched = "title_id not in (select title_id from _touched_titles)"
    con.execute("create or replace temp table _touched_titles as select distinct title_id "
                "from publish_pending where title_id is not null")
    con.execute(f"attach {sql_literal(base)} as live_copy (read_only)")
    try:
        return {
            "touched": con.sql("select title_id from _touched_titles order by title_id").pl(),
            "stats": con.sql(
                f"select title_id, {', '.join(metrics.TITLE_STATS_COLUMNS)}, "
                f"{', '.join(metrics.SCALE_COLUMNS)} "
                f"from live_copy.agg_title_summary where review_count > 0 and {untouched}").pl(),
            "shape": con.sql(
                f"select title_id, {', '.join(_SHAPE_COLUMNS)} from live_copy.agg_title_summary "
                f"where rated_review_count > 0 and {untouched}").pl(),
            "reviews": con.sql(
                f"select {', '.join(metrics.AGREEMENT_INPUTS)} from live_copy.reviews "
                # a review's scale is its title's (metrics.title_scales)
                "left join (select title_id, rating_min from live_copy.agg_title_summary) using (title_id) "
                f"where {untouched}").pl(),
            "mismatches": con.sql(
                f"select {', '.join(metrics.MISMATCH_COLUMNS)} from live_copy.agg_rating_sentiment_mismatches "
                f"where {untouched}").pl(),
        }
    finally:
        con.execute("detach live_copy")
        con.execute("drop table _touched_titles")


# A delta publish replaces at most this share of the reviews; beyond it, writing the file whole is
# about as fast and leaves no deleted rows behind.
DELTA_MAX_SHARE = 0.2


class LiveCopy:
    """The live published database copied to a run's new database in a thread, started once
    ingest knows which reviews changed (delta_base), so that the copy (0.15-0.9 s for the 0.45 GB
    of a million reviews, and the disk's write-back of it) runs while the run scores and computes
    metrics. The metrics stage reads the copy (base) to compute only the titles that changed;
    publish_stage takes it once: a retried publish must not build on a copy the failed attempt has
    changed, and builds anew.
    """

    def __init__(self, settings: Settings, run_id: str) -> None:
        with warehouse(settings) as con:
            signature, self.replaced = delta_base(con, settings)
        self._copied: Future[bool] | None = None
        self._path = new_database_path(settings, run_id)
        if signature is not None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewpipe-copy")
            self._copied = pool.submit(publish.copy_if_unchanged, settings.published_path,
                                       self._path, signature)
            pool.shutdown(wait=False)  # its thread ends with the copy

    def base(self) -> Path | None:
        """The copy, once made, while no publish has taken it; None when publish will build whole."""
        if self._copied is None or not self._copied.result():
            return None
        return self._path

    def take(self) -> tuple[bool, int | None]:
        """Whether the new database is a copy of the live one (the first call only), and the number
        of reviews to replace in it."""
        copied, self._copied = self._copied, None
        return copied is not None and copied.result(), self.replaced

    def wait(self) -> None:
        """Wait for the copy to end (before a failed run's files are removed)."""
        if self._copied is not None:
            wait([self._copied])


def delta_base(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[str | None, int | None]:
    """The live published database's file signature and the number of reviews to replace in a copy
    of it, or (None, None) when the new one must be built whole: there is none, it was built from
    other settings or code, it changed since it went live, staging was rebuilt whole, or more than
    DELTA_MAX_SHARE of the reviews changed."""
    live = settings.published_path
    state = rows(con, "select basis, file_signature from published_state")
    if not live.exists() or state != [(publish_basis(settings), publish.file_signature(live))]:
        return None, None
    pending, everything = pending_reviews(con)
    if everything or pending > DELTA_MAX_SHARE * scalar(con, "select count(*) from stg_reviews"):
        return None, None
    return state[0][1], pending


def pending_reviews(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """The review ids staged since the last publish, and whether staging was rebuilt whole since."""
    count, everything = rows(
        con, "select count(distinct review_id), count(*) filter (where review_id is null) "
             "from publish_pending")[0]
    return count, everything > 0

