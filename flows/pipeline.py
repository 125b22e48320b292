"""The reviewpipe Prefect flow: one task per stage, each a thin wrapper over reviewpipe.pipeline.

Run it with `reviewpipe run --prefect` (`reviewpipe run` does, too, when PREFECT_API_URL is set), or
`python flows/pipeline.py --config reviewpipe.toml`; prefect.yaml deploys it as
`flows/pipeline.py:reviewpipe_pipeline`.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import polars as pl
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from reviewpipe import pipeline
from reviewpipe.errors import TransientError
from reviewpipe.ingest import Mapper
from reviewpipe.scaleout import check_scheduler, dask_map
from reviewpipe.sentiment import PoolAhead, worker_count
from reviewpipe.settings import Settings, load_settings
from reviewpipe.warehouse import RunInProgress, run_lock


def is_transient(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry only what may clear by itself (a locked warehouse, a file still being written)."""
    error = state.data if isinstance(state.data, BaseException) else None
    return isinstance(error, TransientError)


@task(name="begin", cache_policy=NO_CACHE)
def begin(settings: Settings, run_id: str) -> None:
    pipeline.record_run_start(settings, run_id)
    get_run_logger().info("run %s: writing %s", run_id, settings.warehouse_path)


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(settings: Settings, run_id: str, sources: list[str] | None, full_refresh: bool,
           mapper: Mapper | None = None, ahead: PoolAhead | None = None) -> pipeline.IngestSummary:
    t = time.perf_counter()
    result = pipeline.ingest_stage(settings, run_id, only=sources, full_refresh=full_refresh,
                                   mapper=mapper, on_load=ahead.loaded if ahead else None)
    r = result.report
    get_run_logger().info(
        "ingest: %d files loaded, %d unchanged, %d unreadable; %d records in; %d reviews, %d title "
        "rows staged, %d rows quarantined; %.2f s",
        r.count("loaded"), r.count("skipped"), r.count("unreadable"), r.records,
        result.staged["stg_reviews"], result.staged["stg_titles"], result.staged["quarantine"],
        time.perf_counter() - t,
    )
    for f in r.files:
        if f.status == "unreadable":
            get_run_logger().warning("%s: %s", f.path, f.message)
    return result


@task(name="score", cache_policy=NO_CACHE)
def score(settings: Settings, mapper: Mapper | None = None, ahead: PoolAhead | None = None) -> int:
    t = time.perf_counter()
    scored = pipeline.score_stage(settings, mapper, ahead)
    get_run_logger().info("score: %d new texts scored; %.2f s", scored, time.perf_counter() - t)
    return scored


@task(name="metrics", cache_policy=NO_CACHE)
def compute_metrics(settings: Settings, mapper: Mapper | None = None,
                    live_copy: pipeline.LiveCopy | None = None) -> dict[str, pl.DataFrame]:
    t = time.perf_counter()
    frames = pipeline.metrics_stage(settings, mapper, live_copy)
    get_run_logger().info(
        "metrics: %s; %.2f s",
        ", ".join(f"{k} {v.height} rows" for k, v in frames.items()), time.perf_counter() - t,
    )
    return frames


@task(name="quality", cache_policy=NO_CACHE)
def quality(settings: Settings, summary: pipeline.RunSummary) -> pipeline.Quality:
    """The [quality] gate: past a limit it fails the run before anything new is published."""
    try:
        return pipeline.quality_stage(settings, summary)
    finally:
        # each reason with its count and example in the run's log, passed or not (quality_stage
        # fills in summary.quality before it raises; the command prints the same lines)
        for line in pipeline.quality_lines(summary.quality) if summary.quality else ():
            get_run_logger().info("%s", line)


@task(name="publish", cache_policy=NO_CACHE)
def publish(settings: Settings, frames: dict[str, pl.DataFrame], run_id: str,
            live_copy: pipeline.LiveCopy | None = None) -> pipeline.Published:
    t = time.perf_counter()
    published = pipeline.publish_stage(settings, frames, run_id, live_copy)
    how = ("whole" if published.reviews_replaced is None
           else f"from the live one, {published.reviews_replaced} reviews replaced")
    get_run_logger().info(
        "publish: built (%s) and checked %s; %.2f s", how,
        ", ".join(f"{k} {v}" for k, v in published.counts.items()), time.perf_counter() - t,
    )
    return published


@task(name="export", cache_policy=NO_CACHE)
def export(settings: Settings, run_id: str) -> list[tuple[Path, Path]]:
    t = time.perf_counter()
    files = pipeline.export_stage(settings, run_id)
    get_run_logger().info("export: %d files written; %.2f s", len(files), time.perf_counter() - t)
    return files


@task(name="report", cache_policy=NO_CACHE)
def report(settings: Settings, run_id: str) -> list[tuple[Path, Path]]:
    t = time.perf_counter()
    files = pipeline.report_stage(settings, run_id)
    get_run_logger().info("report: %s written; %.2f s", files[0][1], time.perf_counter() - t)
    return files


@task(name="go-live", cache_policy=NO_CACHE)
def go_live(settings: Settings, run_id: str, files: list[tuple[Path, Path]]) -> list[Path]:
    live = pipeline.go_live_stage(settings, run_id, files)
    get_run_logger().info(
        "go-live: %s and %d files in %s", settings.published_path, len(live), settings.exports_path
    )
    return live


@task(name="artifacts", cache_policy=NO_CACHE)
def artifacts(settings: Settings, summary: pipeline.RunSummary) -> None:
    """The run's summary (markdown) and the title summary (table), visible in the Prefect UI."""
    create_markdown_artifact(
        key="reviewpipe-run", markdown=pipeline.summary_markdown(summary),
        description="What this run loaded, quarantined and published",
    )
    columns, rows = pipeline.title_leaderboard(pipeline.new_database_path(settings, summary.run_id))
    create_table_artifact(
        key="reviewpipe-title-summary", table=[dict(zip(columns, r)) for r in rows],
        description="agg_title_summary: titles by weighted rating",
    )


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
    try:
        with run_lock(settings.warehouse_path, wait=pipeline.overlap_wait(settings)):
            if settings.runner.kind == "dask":
                return on_dask(settings)(settings, sources, full_refresh)
            return _stages(settings, sources, full_refresh)
    except RunInProgress as exc:
        summary = pipeline.skipped_run(settings, exc)
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
    return _stages(settings, sources, full_refresh, dask_map)


def _retrying(stage: Task, settings: Settings) -> Task:
    s = settings.schedule
    return stage.with_options(
        retries=s.retries, retry_delay_seconds=exponential_backoff(s.retry_delay_seconds),
        retry_condition_fn=is_transient,
    )


def _stages(settings: Settings, sources: list[str] | None, full_refresh: bool,
            mapper: Mapper | None = None) -> pipeline.RunSummary:
    summary = pipeline.RunSummary(pipeline.new_run_id())
    _retrying(begin, settings)(settings, summary.run_id)
    live_copy: pipeline.LiveCopy | None = None
    # scoring processes started once ingest has loaded more than a batch (not on Dask: its workers score)
    ahead = PoolAhead(worker_count(settings.sentiment.workers) if mapper is None else 1,
                      settings.sentiment.batch_size)
    try:
        with ahead:
            summary.ingest = _retrying(ingest, settings)(
                settings, summary.run_id, sources, full_refresh, mapper, ahead
            )
            if summary.ingest.unchanged_since:
                get_run_logger().info("%s", pipeline.unchanged_message(summary))
                summary.quality = quality(settings, summary)
                pipeline.record_run_end(settings, pipeline.current_outputs(settings, summary))
                return summary
            # the live published database is copied while the run scores (see pipeline.LiveCopy)
            live_copy = pipeline.LiveCopy(settings, summary.run_id)
            summary.texts_scored = _retrying(score, settings)(settings, mapper, ahead)
        frames = _retrying(compute_metrics, settings)(settings, mapper, live_copy)
        # past a [quality] limit the run stops here: nothing new is published
        summary.quality = quality(settings, summary)
        published = _retrying(publish, settings)(settings, frames, summary.run_id, live_copy)
        summary.published, summary.reviews_replaced = published.counts, published.reviews_replaced
        summary.published_path = settings.published_path
        # the report is drawn (a task of its own, in the task runner) while the exports are written
        drawn = _retrying(report, settings).submit(settings, summary.run_id)
        files = _retrying(export, settings)(settings, summary.run_id)
        report_files = drawn.result()
        summary.preview = pipeline.title_preview(pipeline.new_database_path(settings, summary.run_id))
        artifacts(settings, summary)
        # the database, exports and report go live in one step (pipeline.go_live_stage)
        *summary.exports, summary.report = go_live(settings, summary.run_id, files + report_files)
    except BaseException as exc:
        pipeline.abandon_run(settings, summary, exc, live_copy)
        raise
    pipeline.record_run_end(settings, summary)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--runner", choices=["local", "dask"], default=None)
    parser.add_argument("--dask-address", default=None)
    args = parser.parse_args()
    reviewpipe_pipeline(config_path=args.config, full_refresh=args.full_refresh, runner=args.runner,
                        dask_address=args.dask_address)
