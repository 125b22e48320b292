"""The reviewpipe Prefect flow: pipeline.STAGES walked by pipeline.run_stages, each stage a task
named after it, which calls the stage and says in the run's log what it did.

Run it with `reviewpipe run --prefect` (`reviewpipe run` does, too, when PREFECT_API_URL is set);
prefect.yaml deploys it through flows/pipeline.py, which imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import TaskRun
from prefect.futures import PrefectFuture
from prefect.states import State
from prefect.tasks import exponential_backoff

from reviewpipe import pipeline
from reviewpipe.errors import TransientError
from reviewpipe.ingest import Mapper
from reviewpipe.pipeline import Run, Stage
from reviewpipe.quality import Quality, QualityFailed, quality_lines
from reviewpipe.runlog import new_run_id, unchanged_message
from reviewpipe.scaleout import check_scheduler, dask_map
from reviewpipe.settings import Settings, load_settings


def is_transient(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry only what may clear by itself (a locked warehouse, a file still being written)."""
    error = state.data if isinstance(state.data, BaseException) else None
    return isinstance(error, TransientError)


def run_stage(stage: Stage, run: Run) -> tuple[Any, float]:
    """A stage as a task: its result and seconds (pipeline.timed), and what it did in the run's log."""
    try:
        result, seconds = pipeline.timed(stage, run)
    except QualityFailed as exc:
        say_quality(run, exc.quality, 0.0)  # the reasons, each with its count and example, in the log
        raise
    SAYS[stage.name](run, result, seconds)
    return result, seconds


# One task per stage, named after it.
TASKS: dict[str, Task] = {
    stage.name: task(run_stage, name=stage.name, cache_policy=NO_CACHE) for stage in pipeline.STAGES
}


# What each stage's task says in the run's log once the stage is done: its figures and seconds.


def say_begin(run: Run, result: None, seconds: float) -> None:
    get_run_logger().info("run %s: writing %s", run.summary.run_id, run.settings.warehouse_path)


def say_ingest(run: Run, result: Any, seconds: float) -> None:
    r = result.report
    get_run_logger().info(
        "ingest: %d files loaded, %d unchanged, %d unreadable; %d records in; %d reviews, %d title "
        "rows staged, %d rows quarantined; %.2f s",
        r.count("loaded"), r.count("skipped"), r.count("unreadable"), r.records,
        result.staged["stg_reviews"], result.staged["stg_titles"], result.staged["quarantine"], seconds,
    )
    for f in r.files:
        if f.status == "unreadable":
            get_run_logger().warning("%s: %s", f.path, f.message)


def say_score(run: Run, scored: Any, seconds: float) -> None:
    get_run_logger().info("score: %d new texts, %d scored, %d in other languages unscored; %.2f s",
                          scored.texts, scored.scored, scored.unscored, seconds)


def say_metrics(run: Run, frames: dict[str, Any], seconds: float) -> None:
    get_run_logger().info(
        "metrics: %s; %.2f s", ", ".join(f"{k} {v.height} rows" for k, v in frames.items()), seconds)


def say_trust(run: Run, frames: dict[str, Any], seconds: float) -> None:
    tests = frames["metric_trust_tests"]
    get_run_logger().info(
        "trust: %d titles tested, %d tests failing, %d reviews flagged; %.2f s",
        tests["title_id"].n_unique(), (tests["verdict"] == "fail").sum(),
        frames["metric_trust_flagged"]["review_id"].n_unique(), seconds)


def say_terms(run: Run, frames: dict[str, Any], seconds: float) -> None:
    terms = frames["metric_title_terms"]
    get_run_logger().info("terms: %d titles with distinctive terms, %d rows; %.2f s",
                          terms["title_id"].n_unique(), terms.height, seconds)


def say_quality(run: Run, quality: Quality, seconds: float) -> None:
    # each reason with its count and example, passed or not (the command prints the same lines)
    for line in quality_lines(quality):
        get_run_logger().info("%s", line)


def say_publish(run: Run, published: Any, seconds: float) -> None:
    how = ("whole" if published.reviews_replaced is None
           else f"from the live one, {published.reviews_replaced} reviews replaced")
    get_run_logger().info(
        "publish: built (%s) and checked %s; %.2f s", how,
        ", ".join(f"{k} {v}" for k, v in published.counts.items()), seconds,
    )


def say_export(run: Run, files: list, seconds: float) -> None:
    get_run_logger().info("export: %d files written; %.2f s", len(files), seconds)


def say_report(run: Run, files: list, seconds: float) -> None:
    get_run_logger().info("report: %s written; %.2f s", files[0][1], seconds)


def make_artifacts(run: Run, made: tuple[str, tuple[list[str], list[tuple]]], seconds: float) -> None:
    """The run's summary (markdown) and the title summary (table), visible in the Prefect UI."""
    markdown, (columns, rows) = made
    create_markdown_artifact(
        key="reviewpipe-run", markdown=markdown,
        description="What this run loaded, quarantined and published",
    )
    create_table_artifact(
        key="reviewpipe-title-summary", table=[dict(zip(columns, r)) for r in rows],
        description="agg_title_summary: titles by weighted rating",
    )


def say_go_live(run: Run, live: list, seconds: float) -> None:
    get_run_logger().info(
        "go-live: %s and %d files in %s", run.settings.published_path, len(live), run.settings.exports_path
    )


# What each stage's task says in the run's log (the artifacts task makes the artifacts).
SAYS: dict[str, Callable[[Run, Any, float], None]] = {
    "begin": say_begin, "ingest": say_ingest, "score": say_score, "metrics": say_metrics,
    "trust": say_trust, "terms": say_terms, "quality": say_quality, "publish": say_publish, "report": say_report, "export": say_export,
    "artifacts": make_artifacts, "go-live": say_go_live,
}


class AsTasks:
    """The Caller of the flow's walk: each stage as its task, retried on TransientError as
    [schedule] says when the stage allows it; the stage beside the next one submitted to the flow's
    task runner."""

    in_flow = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def task(self, stage: Stage) -> Task:
        """The stage's task, with its retries."""
        if not stage.retried:
            return TASKS[stage.name]
        s = self.settings.schedule
        return TASKS[stage.name].with_options(
            retries=s.retries, retry_delay_seconds=exponential_backoff(s.retry_delay_seconds),
            retry_condition_fn=is_transient,
        )

    def call(self, stage: Stage, run: Run) -> tuple[Any, float]:
        return self.task(stage)(stage, run)

    def start(self, stage: Stage, run: Run) -> PrefectFuture:
        return self.task(stage).submit(stage, run)

    def nothing_new(self, run: Run) -> None:
        get_run_logger().info("%s", unchanged_message(run.summary))


@flow(name="reviewpipe", log_prints=True)
def reviewpipe_pipeline(
    config_path: str | None = None,
    sources: list[str] | None = None,
    full_refresh: bool = False,
    runner: str | None = None,
    dask_address: str | None = None,
) -> pipeline.RunSummary:
    """Ingest, score, compute metrics, publish and export, for the given config file.

    `runner` and `dask_address` override the config's [runner]: "dask" runs the stages in a subflow
    on a Dask cluster (a LocalCluster when no address is given).
    """
    settings = pipeline.with_runner(load_settings(config_path), runner, dask_address)
    summary = pipeline.locked(settings, lambda: (
        on_dask(settings)(settings, sources, full_refresh) if settings.runner.kind == "dask"
        else walk(settings, sources, full_refresh)))
    if summary.skipped:
        get_run_logger().info("%s", summary.skipped)
    return summary


def on_dask(settings: Settings) -> Any:
    """The stages as a subflow whose tasks run on the configured Dask cluster through prefect-dask."""
    from prefect_dask import DaskTaskRunner

    # the cluster's start-up and shutdown chatter (INFO) would drown the run's own log
    logging.getLogger("distributed").setLevel(logging.WARNING)
    r = settings.runner
    if r.dask_address:
        check_scheduler(r.dask_address)
        runner = DaskTaskRunner(address=r.dask_address)
    else:
        # the workers report their task runs to this flow's Prefect API (without it, each would
        # start a temporary server of its own)
        api_url = str(get_client().api_url)
        runner = DaskTaskRunner(
            cluster_kwargs={"n_workers": r.dask_workers or None, "threads_per_worker": 1,
                            "processes": True, "dashboard_address": None,
                            "env": {"PREFECT_API_URL": api_url}}
        )
    return dask_stages.with_options(task_runner=runner)


@flow(name="reviewpipe-on-dask", validate_parameters=False)
def dask_stages(settings: Settings, sources: list[str] | None, full_refresh: bool) -> pipeline.RunSummary:
    """The stages with their partitioned work (reading files, scoring, partial aggregates) on Dask."""
    return walk(settings, sources, full_refresh, dask_map)


def walk(settings: Settings, sources: list[str] | None, full_refresh: bool,
         mapper: Mapper | None = None) -> pipeline.RunSummary:
    """A run of pipeline.STAGES with each stage as its task."""
    run = Run(settings, pipeline.RunSummary(new_run_id()), only=sources, full_refresh=full_refresh,
              mapper=mapper)
    return pipeline.run_stages(run, AsTasks(settings))
