"""The `reviewpipe` command: thin wrappers over the library, one clear message on user errors."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewpipe import pipeline, publish, reaper, runlog
from reviewpipe.errors import ReviewpipeError, as_user_error
from reviewpipe.quality import Quality, QualityFailed, quality_lines
from reviewpipe.runlog import new_run_id, unchanged_message
from reviewpipe.settings import Settings, Source, load_settings
from reviewpipe.sources import format_for
from reviewpipe.stages import ingest_stage
from reviewpipe.summary import publish_how, require_published, sentiment_line
from reviewpipe.warehouse import (
    WarehouseLocked,
    configuration_name,
    describe_holder,
    open_warehouse,
    rows,
    run_holder,
    run_lock,
)

# Prefect's telemetry cannot reach the internet at air-gapped sites and logs an ERROR when it fails.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a user error as one line on stderr and exit 1, without a traceback: a ReviewpipeError,
    or a full disk or unwritable path met anywhere below (errors.as_user_error names the file)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            error = as_user_error(exc)
            if error is None:
                raise
            message = Text("reviewpipe: ", style="bold red") + Text(" ".join(str(error).split()))
            err_console.print(message, highlight=False, soft_wrap=True)
            sys.exit(1)

    return wrapper


take_over_option = click.option(
    "--take-over-warehouse", "take_over", is_flag=True,
    help="Make this configuration the owner of a warehouse another configuration owns.",
)

config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $REVIEWPIPE_CONFIG, else ./reviewpipe.toml, else the built-in sample).",
)


@click.group()
@click.version_option(package_name="reviewpipe")
def main() -> None:
    """reviewpipe: review files -> DuckDB warehouse -> Polars metrics -> published tables and CSVs.

    Example: reviewpipe run --config reviewpipe.toml
    """


def load_flow(*, quiet: bool = False) -> Any:
    """The Prefect flow (reviewpipe.flow). `quiet` keeps Prefect's INFO lines (each task's start
    and end) off the terminal, unless PREFECT_LOGGING_LEVEL asks for them; they still reach the
    Prefect server's run log."""
    from prefect.logging.configuration import setup_logging

    from reviewpipe.flow import reviewpipe_pipeline as flow

    setup_logging()
    for name in ("", "prefect", "prefect.task_runs", "prefect.flow_runs"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(_UserErrorWithoutTraceback())
            # the console handler is the root logger's; the server's (api) handlers keep every line
            if name == "":
                handler.setLevel(logging.WARNING if quiet and "PREFECT_LOGGING_LEVEL" not in os.environ
                                 else logging.NOTSET)
    return flow


class _UserErrorWithoutTraceback(logging.Filter):
    """Prefect logs a failed task with its traceback; a user error (errors.as_user_error) needs only
    its message, which the command prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and as_user_error(exc) is not None:
            record.exc_info = None
            record.exc_text = None
        return True


@main.command()
@config_option
@click.option("--source", "only", multiple=True, help="Run only this source (repeatable).")
@click.option("--full-refresh", is_flag=True, help="Reload every file, not just new and changed ones.")
@click.option(
    "--prefect/--no-prefect",
    default=None,
    help="Run through the Prefect flow (a temporary local server unless PREFECT_API_URL is "
         "set). Default: only when PREFECT_API_URL is set or the runner is dask; otherwise the same "
         "stages run in this process.",
)
@click.option("--verbose", "-v", is_flag=True,
              help="Show Prefect's per-task log lines (INFO) on the terminal too.")
@click.option("--runner", type=click.Choice(["local", "dask"]), default=None,
              help="Where partitioned work runs; overrides [runner] kind.")
@click.option("--dask-address", default=None, metavar="TCP_ADDRESS",
              help="Dask scheduler to run on (implies --runner dask); none starts a LocalCluster.")
@take_over_option
@user_errors
def run(config: Path | None, only: tuple[str, ...], full_refresh: bool, prefect: bool | None,
        verbose: bool, runner: str | None, dask_address: str | None, take_over: bool) -> None:
    """Run the whole pipeline: ingest, score, metrics, publish, export.

    Example: reviewpipe run --config examples/shared_corpora.toml --runner dask --dask-address tcp://10.0.0.5:8786
    """
    # Prefect's temporary server and the scoring processes end with this process, even if killed
    reaper.start()
    settings = pipeline.with_runner(load_settings(config), runner, dask_address)
    if take_over:
        with run_lock(settings.warehouse_path, wait=settings.lock_wait_seconds):
            take_over_warehouse(settings)
    try:
        summary = _run(settings, only, full_refresh, uses_prefect(prefect, settings), verbose,
                       runner, dask_address)
    except QualityFailed as exc:
        print_quality(exc.quality)
        raise
    print_run(settings, summary)


def uses_prefect(flag: bool | None, settings: Settings) -> bool:
    """Whether `reviewpipe run` goes through the Prefect flow: as --prefect/--no-prefect says, else
    when a Prefect server is configured (PREFECT_API_URL: its runs belong in its log) or the runner
    is Dask (which runs through prefect-dask). Otherwise the same stages run in this process, with
    no temporary Prefect server to start."""
    if flag is not None:
        return flag
    return bool(os.environ.get("PREFECT_API_URL")) or settings.runner.kind == "dask"


def _run(settings: Settings, only: tuple[str, ...], full_refresh: bool, prefect: bool, verbose: bool,
         runner: str | None, dask_address: str | None) -> pipeline.RunSummary:
    """The run's summary, through the Prefect flow or in this process."""
    if prefect:
        if settings.runner.kind == "dask" and settings.runner.dask_address:
            # before Prefect's temporary server starts: a wrong address fails at once
            from reviewpipe.scaleout import check_scheduler

            check_scheduler(settings.runner.dask_address)
        flow = load_flow(quiet=not verbose)
        return flow(
            config_path=str(settings.config_file) if settings.config_file else None,
            sources=list(only) or None,
            full_refresh=full_refresh,
            runner=runner,
            dask_address=dask_address,
        )
    if settings.runner.kind == "dask":
        raise ReviewpipeError(
            "the Dask runner runs through Prefect (prefect-dask's DaskTaskRunner); drop --no-prefect "
            "or use --runner local"
        )
    with RunProgress() as progress:
        return pipeline.run(settings, only=list(only) or None, full_refresh=full_refresh,
                            progress=progress)


class RunProgress:
    """A run's long work as it goes (pipeline.Progress): files loaded and texts scored, with the
    rate and the time left, as rich progress bars on a terminal, and as plain lines at most every
    PLAIN_EVERY seconds (and at the end) when stdout is a log."""

    PLAIN_EVERY = 10.0

    def __init__(self) -> None:
        self.live = console.is_terminal
        self.files = self.records = 0
        self._said = -self.PLAIN_EVERY  # the first line is said at once
        self._bars: Any = None
        self._files: Any = None
        self._texts: Any = None

    def __enter__(self) -> RunProgress:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                  TextColumn("left"), TimeRemainingColumn(), console=console,
                                  transient=True)
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def loaded(self, file: Any) -> None:
        """One more file loaded (an ingest.FileLoad)."""
        self.files += 1
        self.records += file.records
        if self._bars is not None:
            if self._files is None:
                self._files = self._bars.add_task("files loaded", total=None, rate="")
            self._bars.update(self._files, completed=self.files,
                              rate=f"{self.records:,} records")
        # at most a line every PLAIN_EVERY seconds: a folder of 10,000 pages is not 10,000 lines
        elif time.monotonic() - self._said >= self.PLAIN_EVERY:
            self._said = time.monotonic()
            files = f"{self.files:,} file" + ("s" if self.files != 1 else "")
            console.print(f"loaded {file.path}: {file.records:,} records ({files}, "
                          f"{self.records:,} records so far)", highlight=False, soft_wrap=True)

    def scored(self, done: int, todo: int) -> None:
        """`done` of `todo` texts scored."""
        now = time.monotonic()
        if self._texts is None:
            self._started = now - 1e-9
            if self._bars is not None:
                self._texts = self._bars.add_task("texts scored", total=todo, rate="")
            else:
                self._texts = True
        rate = done / (now - self._started)
        if done == 0:
            return
        if self._bars is not None:
            self._bars.update(self._texts, completed=done, rate=f"{rate:,.0f}/s")
        elif done == todo or now - self._said >= self.PLAIN_EVERY:
            self._said = now
            left = (todo - done) / rate if rate else 0.0
            console.print(f"scored {done:,} of {todo:,} texts, {rate:,.0f}/s, about {left:.0f} s left",
                          highlight=False)


@main.command()
@config_option
@user_errors
def serve(config: Path | None) -> None:
    """Serve the pipeline's deployment on the [schedule] cron from this process, like `flow.serve`.

    Needs a Prefect server (`prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api);
    runs can also be started from its UI or `prefect deployment run reviewpipe/<deployment>`.
    Ctrl-C stops serving.

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api reviewpipe serve --config reviewpipe.toml
    """
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL

    from reviewpipe.deployment import concurrency_limit

    settings = load_settings(config)
    if not PREFECT_API_URL.value():
        raise ReviewpipeError(
            "`reviewpipe serve` schedules runs on a Prefect server: start one with "
            "`prefect server start` and set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
        )
    flow = load_flow()
    s = settings.schedule
    flow.serve(
        name=s.deployment,
        schedules=[Cron(s.cron, timezone=s.timezone)],
        global_limit=concurrency_limit(settings),
        parameters={"config_path": str(settings.config_file) if settings.config_file else None},
        pause_on_shutdown=False,
    )


@main.command("prefect-yaml")
@config_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write it [default: prefect.yaml beside the config file].")
@click.option("--check", is_flag=True, help="Only check that the file is up to date; exit 1 if not.")
@user_errors
def prefect_yaml_command(config: Path | None, out: Path | None, check: bool) -> None:
    """Write prefect.yaml's deployment from the config's [schedule] (cron, timezone, overlap).

    Example: reviewpipe prefect-yaml --config reviewpipe.toml --check
    """
    from reviewpipe.deployment import prefect_yaml

    settings = load_settings(config)
    project = settings.config_file.parent if settings.config_file else Path.cwd()
    path = out or project / "prefect.yaml"
    text = prefect_yaml(settings, path.parent.resolve())
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise ReviewpipeError(
                f"{path} does not match [schedule] in {settings.config_file or 'the defaults'}; "
                "run `reviewpipe prefect-yaml` to rewrite it"
            )
        console.print(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    console.print(f"Wrote {path}")


def print_run(settings: Settings, summary: pipeline.RunSummary) -> None:
    """The run's figures, where its outputs are, and the first titles."""
    if summary.skipped:
        console.print(summary.skipped, highlight=False)
        return
    report = summary.ingest.report if summary.ingest else None
    staged = summary.ingest.staged if summary.ingest else {}
    if report:
        console.print(
            f"Ingest: {report.count('loaded')} files loaded, {report.count('skipped')} unchanged, "
            f"{report.count('unreadable')} unreadable; {report.records} records read; "
            f"{staged.get('stg_reviews', 0)} reviews and {staged.get('stg_titles', 0)} title rows "
            f"staged; {staged.get('quarantine', 0)} rows quarantined (see table quarantine)."
        )
        for f in report.files:
            if f.status == "unreadable":
                console.print(f"[yellow]WARNING[/] {f.path}: {f.message}", highlight=False)
    unchanged = unchanged_message(summary)
    if unchanged:
        console.print(unchanged[0].upper() + unchanged[1:] + ".", highlight=False)
    else:
        console.print(f"Sentiment: {sentiment_line(summary)}.", highlight=False)
    console.print(f"Published database: {summary.published_path}{publish_how(summary)}")
    console.print(f"Exports: {settings.exports_path}/ ({len(summary.exports)} files)")
    if summary.report:
        console.print(f"Report: {summary.report}")
    if summary.trust:
        console.print(f"Trust: {summary.trust}.", highlight=False, soft_wrap=True)
    cols, preview = summary.preview
    console.print(data_table(cols, preview, title="Titles by review count"))
    if summary.quality:
        print_quality(summary.quality)


def print_quality(quality: Quality) -> None:
    """The run's closing lines: rows quarantined by source and reason, duplicates, warnings."""
    for line in quality_lines(quality):
        style = "yellow" if line.startswith("WARNING") else None
        console.print(Text(line, style=style), highlight=False, soft_wrap=True)


def data_table(columns: list[str], data: list[tuple], title: str | None = None) -> Table:
    """A rich table of query results, numbers rounded for reading."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for row in data:
        table.add_row(*("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    return table


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option("--source", "source_name", help="Load the files as this configured source.")
@click.option("--kind", type=click.Choice(["reviews", "titles"]), default="reviews", show_default=True,
              help="For files no configured source matches: what they hold.")
@take_over_option
@user_errors
def ingest(config: Path | None, paths: tuple[Path, ...], source_name: str | None, kind: str,
           take_over: bool) -> None:
    """Load files into the warehouse and stage them (publish with `reviewpipe run`).

    A file is loaded as --source NAME, else as the configured source whose glob matches it, else as an
    ad-hoc source named after the file whose columns are the pipeline's field names.

    Example: reviewpipe ingest data/landing/reviews_2024.csv --source sample_reviews
    """
    settings = load_settings(config)
    by_source: dict[str, list[Path]] = {}
    for path in paths:
        source = _source_for(settings, path.resolve(), source_name, kind)
        if source.name not in {s.name for s in settings.sources}:
            settings.sources.append(source)
        by_source.setdefault(source.name, []).append(path)
    run_id = new_run_id()
    with run_lock(settings.warehouse_path, wait=settings.lock_wait_seconds):
        if take_over:
            take_over_warehouse(settings)
        results = [ingest_stage(settings, run_id, only=[name], paths=files)
                   for name, files in by_source.items()]
    for result in results:
        for f in result.report.files:
            console.print(f"{f.status:>10}  {f.path}  records={f.records} rejected_lines={f.lines_rejected}"
                          + (f"  {f.message}" if f.message else ""), highlight=False)
    console.print(
        f"Staged: {result.staged['stg_reviews']} reviews, {result.staged['stg_titles']} title rows, "
        f"{result.staged['quarantine']} rows quarantined."
    )


def take_over_warehouse(settings: Settings) -> None:
    """Make this configuration the warehouse's owner, saying so when it took it from another."""
    previous = runlog.take_over_warehouse(settings)
    if previous is not None:
        console.print(f"The warehouse {settings.warehouse_path} now belongs to "
                      f"{configuration_name(settings.config_file)}; the files {previous} loaded are "
                      "forgotten.", highlight=False, soft_wrap=True)


def _source_for(settings: Settings, path: Path, name: str | None, kind: str) -> Source:
    if name:
        return settings.source(name)
    for source in settings.sources:
        if path.match(str(settings.resolve(source.path))):
            return source
    fmt = format_for(path)
    if fmt is None:
        raise ReviewpipeError(
            f"{path}: no configured source matches it and its extension does not say its format; "
            "pass --source NAME"
        )
    stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower()).strip("_") or "file"
    return Source(name=f"adhoc_{stem}"[:63], kind=kind, path=str(path), format=fmt)  # type: ignore[arg-type]


@main.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the sample (default: [paths] samples, data/samples).")
@click.option("--seed", default=20240601, show_default=True, help="Random seed; same seed, same files.")
@config_option
@user_errors
def sample(out: Path | None, seed: int, config: Path | None) -> None:
    """Generate the synthetic sample (titles and yearly review files, with a few bad rows).

    Example: reviewpipe sample --out data/samples --seed 7
    """
    from reviewpipe.sample import write_sample

    folder = out or load_settings(config).samples_path
    for path in write_sample(folder, seed=seed):
        console.print(str(path), highlight=False)


@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def status(config: Path | None, fmt: str) -> None:
    """Show sources, files and rows loaded, rows quarantined, the last runs, and a run in progress.

    During a run it answers at once without the warehouse (the run holds it): who runs since when,
    and the load log and quarantine counts of the published database, as of the last published run.

    Example: reviewpipe status --format json
    """
    settings = load_settings(config)
    running = run_holder(settings.warehouse_path)
    per_source: list[tuple] = []
    runs: list[tuple] = []
    note = None
    if running is None:
        try:
            # no waiting: a warehouse another program holds open is reported like a run in progress
            with open_warehouse(settings.warehouse_path, read_only=True, wait=0) as con:
                per_source, runs = rows(con, _STATUS_SOURCES), rows(con, _STATUS_RUNS)
            figures_from = f"the warehouse {settings.warehouse_path}"
        except WarehouseLocked as exc:
            note = str(exc).split("; waited")[0]
            running = run_holder(settings.warehouse_path)  # a run may have started meanwhile
    if running is not None or note is not None:
        figures_from = f"the published database {settings.published_path}, as of the last published run"
        try:
            with publish.published_connection(settings.published_path) as con:
                per_source = rows(con, _STATUS_SOURCES)
        except ReviewpipeError as exc:
            figures_from = f"nothing: {exc}"
        except duckdb.Error as exc:
            # e.g. opened at the instant a run renames a new file into place (README, "Reading the
            # results"): the run's holder is still worth reporting
            figures_from = f"nothing: {str(exc).splitlines()[0]}; try again"
    src_cols = ["source", "kind", "files", "unreadable", "records_read", "rows_quarantined",
                "last_loaded_at"]
    run_cols = ["run_id", "status", "started_at", "finished_at", "records_read", "rows_quarantined",
                "reviews_published", "message"]
    if fmt == "json":
        click.echo(json.dumps({
            "run_in_progress": running,
            "warehouse_in_use": note,
            "figures_from": figures_from,
            "sources": [dict(zip(src_cols, r)) for r in per_source],
            "runs": [dict(zip(run_cols, r)) for r in runs],
        }, default=str, indent=2))
        return
    if running is not None:
        console.print(f"A run is in progress: {describe_holder(running)}.", highlight=False, soft_wrap=True)
    elif note is not None:
        console.print(f"The warehouse is in use: {note}.", highlight=False, soft_wrap=True)
    console.print(f"Figures from {figures_from}.", highlight=False, soft_wrap=True)
    console.print(data_table(src_cols, per_source, title="Sources"))
    if running is None and note is None:
        console.print(data_table(run_cols, runs, title="Last runs"))


# Per source: files, unreadable files, records read and distinct rows quarantined. The warehouse and
# the published database both hold load_log and quarantine with these columns.
_STATUS_SOURCES = """
    select l.source, l.kind, count(*) as files,
           count(*) filter (where l.status = 'unreadable') as unreadable,
           sum(l.records_read) as records_read,
           (select count(*) from (select distinct file_path, row_number, line_number
             from quarantine q where q.source = l.source)) as rows_quarantined,
           max(l.loaded_at) as last_loaded_at
    from load_log l group by l.source, l.kind order by l.source
"""
_STATUS_RUNS = """
    select run_id, status, started_at, finished_at, records_read, rows_quarantined,
           reviews_published, message
    from runs order by started_at desc limit 5
"""


@main.command()
@config_option
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the files (default: [paths] exports).")
@click.option("--table", "tables", multiple=True, help="Export this published table (default: all agg_).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="File format (default: [exports] format, csv).")
@click.option("--neutralize-formulas/--keep-formulas", default=None,
              help="In CSV, prefix text starting with = + - @ tab or CR with ' (default: on).")
@user_errors
def export(config: Path | None, out: Path | None, tables: tuple[str, ...], fmt: str | None,
           neutralize_formulas: bool | None) -> None:
    """Export published tables (default: every agg_ table), one file per table.

    Example: reviewpipe export --out /tmp/for-colleagues --table agg_title_summary --format parquet
    """
    settings = load_settings(config)
    written = publish.export_tables(
        require_published(settings),
        out or settings.exports_path,
        list(tables) or None,
        fmt=fmt or settings.exports.format,
        neutralize_formulas=(settings.exports.neutralize_formulas if neutralize_formulas is None
                             else neutralize_formulas),
    )
    for path in written:
        console.print(str(path), highlight=False)


@main.command()
@config_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: <[paths] exports>/report.html).")
@click.option("--max-titles", type=click.IntRange(min=1), default=50, show_default=True,
              help="Titles per group (a source on one rating scale) in the leaderboards, histograms "
                   "and trust section.")
@user_errors
def report(config: Path | None, out: Path | None, max_titles: int) -> None:
    """Write the HTML report of the published database: one self-contained file that opens offline.

    Example: reviewpipe report --out /tmp/reviews.html --max-titles 20
    """
    from reviewpipe.report import write_report

    settings = load_settings(config)
    path = write_report(require_published(settings),
                        out or settings.exports_path / "report.html", max_titles=max_titles,
                        sentiment=settings.sentiment, report=settings.report,
                        trust=settings.trust)
    console.print(str(path), highlight=False)


@main.command()
@config_option
@user_errors
def tables(config: Path | None) -> None:
    """List the published tables with their row counts and descriptions.

    Example: reviewpipe tables --config examples/shared_corpora.toml
    """
    settings = load_settings(config)
    found = publish.published_tables(require_published(settings))
    console.print(data_table(["table", "rows", "description"], found, title=str(settings.published_path)))


@main.command()
@click.argument("query", required=False)
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@user_errors
def sql(query: str | None, config: Path | None, fmt: str) -> None:
    """Run read-only SQL on the published database; without QUERY, open an interactive prompt.

    Queries, at the prompt too, cannot write or touch other files and are bounded by [sql]
    memory_limit, max_temp_directory_size (spilled outside the published folder) and timeout_seconds.

    Example: reviewpipe sql "select title, weighted_rating from agg_title_summary order by 2 desc limit 5"
    """
    settings = load_settings(config)
    path = require_published(settings)
    if query is None:
        _prompt(path, settings)
        return
    columns, result = publish.query_published(path, query, settings.sql_limits)
    print_result(columns, result, fmt)


def print_result(columns: list[str], result: list[tuple], fmt: str) -> None:
    """Query results on stdout as a table, CSV or JSON."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(result)
    elif fmt == "json":
        records = [{c: json_value(v) for c, v in zip(columns, r)} for r in result]
        # allow_nan=False: a NaN that json_value missed fails here instead of printing invalid JSON
        click.echo(json.dumps(records, default=str, indent=2, allow_nan=False))
    else:
        console.print(data_table(columns, result))


def json_value(value: Any) -> Any:
    """value as strict JSON takes it: NaN and infinities as null, a blob as DuckDB's text for it
    (printable ASCII as is, other bytes as \\xHH), lists and structs element by element; other
    non-JSON types (decimals, dates, timestamps, intervals) are left for `str`."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | bytearray | memoryview):
        return "".join(chr(b) if 32 <= b < 127 and b not in b"\"'\\" else f"\\x{b:02X}"
                       for b in bytes(value))
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        # a MAP's keys can be any type; json writes numbers, booleans and null as text, not the rest
        keys = (json_value(k) for k in value)
        return {k if isinstance(k, str | int | float | bool | None) else str(k): json_value(v)
                for k, v in zip(keys, value.values(), strict=True)}
    return value


def _prompt(path: Path, settings: Settings) -> None:
    """A read-only SQL prompt in this process, with the limits of `reviewpipe sql QUERY`: statements
    end with ';', .tables lists tables, .quit leaves; DuckDB's shell is never started, since its
    dot commands (.shell, .output, ...) would escape those limits."""
    console.print(f"Read-only SQL on {path}. End statements with ';'. .tables lists tables, .quit leaves.")
    buffer = ""
    while True:
        try:
            line = input("reviewpipe> " if not buffer else "      ...> ")
        except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt leaves it
            return
        command = line.strip()
        if not buffer and command in (".quit", ".exit"):
            return
        if not buffer and command == ".tables":
            console.print(data_table(["table", "rows", "description"], publish.published_tables(path)))
            continue
        if not buffer and command.startswith("."):
            err_console.print(Text(f"{command.split()[0]}: not a command here; .tables and .quit are",
                                   style="red"), soft_wrap=True)
            continue
        buffer += line + "\n"
        if buffer.rstrip().endswith(";"):
            try:
                print_result(*publish.query_published(path, buffer, settings.sql_limits), "table")
            except ReviewpipeError as exc:
                err_console.print(Text(str(exc), style="red"), soft_wrap=True)
            except KeyboardInterrupt:  # Ctrl-C during a query stops it, not the prompt
                err_console.print(Text("query interrupted", style="red"))
            buffer = ""


if __name__ == "__main__":
    main()


@main.command("add-source")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="The source's name (default: the file's name).")
@user_errors
def add_source(path: Path, name: str | None) -> None:
    """Print a [[sources]] block that loads the file PATH: its preset when its columns are a known
    layout, else a mapping guessed from its column names and values, with comments on what is unsure.

    Example: reviewpipe add-source landing/netflix_reviews.csv >> reviewpipe.toml
    """
    from reviewpipe import wizard

    click.echo(wizard.source_block(path, name), nl=False)
