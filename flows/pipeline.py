"""The reviewpipe Prefect flow: one task per stage, each a thin wrapper over reviewpipe.pipeline.

Run it with `reviewpipe run` (or `python flows/pipeline.py --config reviewpipe.toml`); prefect.yaml
deploys it as `flows/pipeline.py:reviewpipe_pipeline`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from reviewpipe import pipeline
from reviewpipe.publish import go_live as go_live_files
from reviewpipe.settings import Settings, load_settings
from reviewpipe.warehouse import RunInProgress, run_lock


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(settings: Settings, run_id: str, sources: list[str] | None, full_refresh: bool
           ) -> pipeline.IngestSummary:
    t = time.perf_counter()
    result = pipeline.ingest_stage(settings, run_id, only=sources, full_refresh=full_refresh)
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
def score(settings: Settings) -> int:
    t = time.perf_counter()
    scored = pipeline.score_stage(settings)
    get_run_logger().info("score: %d new texts scored; %.2f s", scored, time.perf_counter() - t)
    return scored


@task(name="metrics", cache_policy=NO_CACHE)
def compute_metrics(settings: Settings) -> dict[str, pl.DataFrame]:
    t = time.perf_counter()
    frames = pipeline.metrics_stage(settings)
    get_run_logger().info(
        "metrics: %s; %.2f s",
        ", ".join(f"{k} {v.height} rows" for k, v in frames.items()), time.perf_counter() - t,
    )
    return frames


@task(name="publish", cache_policy=NO_CACHE)
def publish(settings: Settings, frames: dict[str, pl.DataFrame], run_id: str) -> dict[str, int]:
    t = time.perf_counter()
    counts = pipeline.publish_stage(settings, frames, run_id)
    get_run_logger().info(
        "publish: built and checked %s; %.2f s",
        ", ".join(f"{k} {v}" for k, v in counts.items()), time.perf_counter() - t,
    )
    return counts


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
        "go-live: %s and %d exports in %s", settings.published_path, len(live), settings.exports_path
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
) -> pipeline.RunSummary:
    """Ingest, score, compute metrics, publish and export, for the given config file."""
    settings = load_settings(config_path)
    try:
        with run_lock(settings.warehouse_path, wait=pipeline.overlap_wait(settings)):
            return _stages(settings, sources, full_refresh)
    except RunInProgress as exc:
        summary = pipeline.skipped_run(settings, exc)
        get_run_logger().info("%s", summary.skipped)
        return summary


def _stages(settings: Settings, sources: list[str] | None, full_refresh: bool) -> pipeline.RunSummary:
    summary = pipeline.RunSummary(pipeline.new_run_id())
    pipeline.record_run_start(settings, summary.run_id)
    try:
        summary.ingest = ingest(settings, summary.run_id, sources, full_refresh)
        summary.texts_scored = score(settings)
        frames = compute_metrics(settings)
        summary.published = publish(settings, frames, summary.run_id)
        summary.published_path = settings.published_path
        files = export(settings, summary.run_id)
        report_files = report(settings, summary.run_id)
        summary.preview = pipeline.title_preview(pipeline.new_database_path(settings, summary.run_id))
        artifacts(settings, summary)
        summary.exports = go_live(settings, summary.run_id, files)
        summary.report = go_live_files(report_files)[0]
    except BaseException as exc:
        pipeline.discard_run_files(settings, summary.run_id)
        pipeline.record_run_end(settings, summary, exc)
        raise
    pipeline.record_run_end(settings, summary)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--full-refresh", action="store_true")
    args = parser.parse_args()
    reviewpipe_pipeline(config_path=args.config, full_refresh=args.full_refresh)
