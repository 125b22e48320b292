"""The whole pipeline without Prefect: ingest -> score -> metrics -> publish -> export.

Each stage is a function of the settings that opens what it needs and returns a small summary, so the
Prefect flow in flows/ can wrap each one in a task, and tests can call them directly.
"""

from __future__ import annotations

import glob
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from reviewpipe import hooks, metrics, publish, sentiment
from reviewpipe.errors import ReviewpipeError
from reviewpipe.ingest import (
    FileLoad,
    IngestReport,
    Mapper,
    forget_source,
    ingest,
    stage,
    staged_counts,
)
from reviewpipe.settings import Settings
from reviewpipe.state import (
    AGREEMENT_INPUTS,
    LiveCopy,
    inputs_state,
    keep_metric_rows,
    outputs_current,
    pending_reviews,
    untouched_titles_rows,
    went_live,
)
from reviewpipe.warehouse import (
    RunInProgress,
    claim_warehouse,
    configuration_name,
    note_run_id,
    open_warehouse,
    rows,
    run_lock,
    scalar,
    transaction,
)


@dataclass
class IngestSummary:
    """What the ingest stage did: files by outcome and the staged row counts.

    `inputs_hash` identifies everything the outputs are made from (inputs_state); `unchanged_since`
    names the last successful run that had the same, when its outputs are all still in place: then
    nothing was restaged and the later stages have nothing to do.
    """

    report: IngestReport
    staged: dict[str, int]
    inputs_hash: str | None = None
    unchanged_since: str | None = None


@dataclass
class RunSummary:
    """What one run did, for the CLI, the run log and the Prefect artifact."""

    run_id: str
    ingest: IngestSummary | None = None
    texts_scored: int = 0
    published: dict[str, int] = field(default_factory=dict)
    reviews_replaced: int | None = None  # a delta publish: reviews replaced in a copy of the live file
    published_path: Path | None = None
    exports: list[Path] = field(default_factory=list)
    preview: tuple[list[str], list[tuple]] = ([], [])
    report: Path | None = None
    skipped: str | None = None  # why the run did nothing (another run was writing; overlap = "skip")
    seconds: dict[str, float] = field(default_factory=dict)
    quality: Quality | None = None  # what was quarantined, counted as duplicates, warned about


class Progress(Protocol):
    """Told of a run's long work as it goes (the command shows it: cli.RunProgress)."""

    def loaded(self, file: FileLoad) -> object:
        """A file was loaded."""

    def scored(self, done: int, todo: int) -> object:
        """`done` of the run's `todo` texts are scored."""


@dataclass(frozen=True)
class QuarantineGroup:
    """Quarantined rows of one source with one reason class, and the first of them as an example."""

    source: str
    column_name: str | None
    reason_class: str  # the reason up to its first file path, numbers as N (see _QUARANTINE_GROUPS)
    rows: int
    file_path: str
    row_number: int | None
    line_number: int | None
    raw_value: str | None
    reason: str  # the example's own reason


@dataclass(frozen=True)
class SourceQuality:
    """One source's figures that the [quality] limits apply to."""

    source: str
    records: int  # rows read plus lines the reader rejected, over every file of the source
    quarantined: int  # of those, rows and lines quarantined, second copies of a review not counted
    duplicates: int  # second copies of a review (quarantined as duplicates)
    files: int
    unreadable: int
    unreadable_example: str | None = None  # the first unreadable file, by path

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.records if self.records else 0.0

    @property
    def unreadable_share(self) -> float:
        return self.unreadable / self.files if self.files else 0.0


@dataclass
class Quality:
    """What the warehouse's staged data quarantined and counted as duplicates, what looks wrong
    (warnings), and the [quality] limits it passes (breaches: then nothing new is published)."""

    sources: list[SourceQuality] = field(default_factory=list)
    groups: list[QuarantineGroup] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)


class QualityFailed(ReviewpipeError):
    """A run passed a [quality] limit: it published nothing new; `quality` says why, by reason."""

    def __init__(self, message: str, quality: Quality) -> None:
        super().__init__(message)
        self.quality = quality


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def ensure_sample(settings: Settings) -> list[Path]:
    """Generate the synthetic sample when the embedded default is in use and it is not there yet."""
    if not settings.uses_sample:
        return []
    from reviewpipe.sample import write_sample

    folder = settings.samples_path
    if (folder / "titles.csv").exists() and any(folder.glob("reviews_*.csv")):
        return []
    return write_sample(folder)


def warehouse(settings: Settings) -> Any:
    """The warehouse connection a stage writes through (a context manager)."""
    return open_warehouse(settings.warehouse_path, wait=settings.lock_wait_seconds,
                          memory_limit=settings.memory_limit)


def ingest_stage(
    settings: Settings, run_id: str, *, only: list[str] | None = None, full_refresh: bool = False,
    paths: list[Path] | None = None, mapper: Mapper | None = None,
    on_load: Callable[[FileLoad], object] | None = None,
) -> IngestSummary:
    """Load new and changed files (a transaction each) and rebuild staging (one transaction).

    With a `mapper` (see ingest.Mapper), files are read through it, e.g. on Dask workers. `on_load`
    is called with each file loaded (e.g. PoolAhead.loaded, to start the scoring processes while
    ingest goes on).
    """
    ensure_sample(settings)
    with warehouse(settings) as con:
        claim_warehouse(con, settings.warehouse_path, configuration_name(settings.config_file))
        report = ingest(con, settings, run_id, only=only, paths=paths, full_refresh=full_refresh,
                        read_map=mapper, on_load=on_load)
        state = inputs_state(con, settings)
        last = rows(con, "select run_id, inputs_hash from runs where status = 'succeeded' "
                         "order by started_at desc limit 1")
        if last and last[0][1] == state and not full_refresh and outputs_current(con, settings):
            return IngestSummary(report, staged_counts(con), state, unchanged_since=last[0][0])
        staged = stage(con)
    return IngestSummary(report, staged, state)


def take_over_warehouse(settings: Settings) -> str | None:
    """Make this configuration the warehouse's owner (the caller holds the run lock); the previous
    owner when it was another. What that one loaded is forgotten first, so that this configuration
    publishes only its own files (the sentiment cache, a function of each text alone, is kept); a
    kill in between leaves the old owner, whose next run reloads."""
    me = configuration_name(settings.config_file)
    with warehouse(settings) as con:
        owner = scalar(con, "select configuration from warehouse_owner")
        if owner not in (None, me):
            for (source,) in rows(con, "select distinct source from load_log order by 1"):
                forget_source(con, source)
        claim_warehouse(con, settings.warehouse_path, me, take_over=True)
    return owner if owner not in (None, me) else None


def score_stage(settings: Settings, mapper: Mapper | None = None,
                ahead: sentiment.PoolAhead | None = None,
                on_scored: Callable[[int, int], object] | None = None) -> int:
    """Score every staged text not yet in the sentiment cache; the number of texts scored.

    Texts are scored in batches of [sentiment] batch_size: in a pool of worker processes (`ahead`'s
    when it was started), or through `mapper` (e.g. on Dask workers) when one is given.
    `on_scored(done, todo)` is called before the first batch and after each batch is stored.
    """
    with warehouse(settings) as con:
        workers = sentiment.worker_count(settings.sentiment.workers)
        # unless `ahead` started them during ingest, the scoring processes start while the texts to
        # score are found, when the reviews staged since the last publish fill more than one batch
        pending, everything = pending_reviews(con)
        # Only the reviews staged since the last publish can hold a text the cache lacks: every
        # other review was published, so its text was scored then (an anti-join of all 1M staged
        # texts took 0.3 s). Not so when staging was rebuilt whole, nor while the cache holds
        # scores from before sentences were scored (they are scored again, whichever review).
        narrow = not everything and not scalar(
            con, "select count(*) from sentiment_scores where sentence_count is null")
        # a second connection finds the texts to score and streams them while the first inserts
        # their scores (a temp table is its connection's own)
        reader_con = con.cursor()
        try:
            with nullcontext(ahead) if ahead else sentiment.PoolAhead(workers) as processes:
                staged = scalar(con, "select count(*) from stg_reviews") if everything else pending
                if mapper is None and staged > settings.sentiment.batch_size:
                    processes.start()
                reader_con.execute("create temp table _unscored as " + _UNSCORED.format(
                    pending=_PENDING if narrow else ""))
                todo = scalar(reader_con, "select count(*) from _unscored")
                if todo:
                    _score_unscored(con, reader_con, settings, todo, mapper, workers,
                                    processes.pool if mapper is None else None, on_scored)
        finally:
            reader_con.close()
    return todo


# Distinct texts of staged reviews that the sentiment cache does not hold yet, as the row of
# int_reviews_typed that holds each (stg_reviews is a view of its staged rows): found from the
# hashes alone, then fetched by rowid, so that no other text is read (selecting the texts in the
# same query read every text of stg_reviews: 3 s at 1M).
_UNSCORED = """
    select text_hash, min(rowid) as row_id
    from int_reviews_typed
    where staged and text_hash is not null
      and text_hash not in (select text_hash from sentiment_scores where sentence_count is not null)
      {pending}
    group by text_hash
"""
_PENDING = "and review_id in (select review_id from publish_pending)"
_UNSCORED_TEXTS = """
    select u.text_hash, s.review_text
    from _unscored as u
    join int_reviews_typed as s on s.rowid = u.row_id
    order by u.row_id
"""


def _score_unscored(
    con: duckdb.DuckDBPyConnection, reader_con: duckdb.DuckDBPyConnection, settings: Settings, todo: int,
    mapper: Mapper | None, workers: int, pool: ProcessPoolExecutor | None,
    on_scored: Callable[[int, int], object] | None = None,
) -> None:
    batch_size = settings.sentiment.batch_size
    # a pool costs a second or so to start; below one batch it would cost more than it saves
    workers = workers if todo > batch_size or pool else 1
    if mapper is None:
        batch_size = sentiment.even_batch_size(todo, batch_size, workers)
    # rows scored before sentences were are scored again below (a plain insert is 3-10x faster
    # than an insert that replaces, which checks every key against the 1M-key index first)
    con.execute("delete from sentiment_scores where sentence_count is null")
    reader = reader_con.sql(_UNSCORED_TEXTS).to_arrow_reader(batch_size)
    hashes: deque[list[str]] = deque()

    def text_batches() -> Iterator[list[str]]:
        for batch in reader:
            hashes.append(batch.column("text_hash").to_pylist())
            yield batch.column("review_text").to_pylist()

    if mapper is not None:
        results = mapper(sentiment.score_batch, text_batches())
    else:
        results = sentiment.score_batches(text_batches(), workers, pool)
    done = 0
    if on_scored is not None:
        on_scored(done, todo)
    for scores in results:
        frame = sentiment.scores_frame(scores).with_columns(
            text_hash=pl.Series(hashes.popleft(), dtype=pl.String)
        )
        columns = ", ".join(("text_hash", *sentiment.SCORE_COLUMNS))
        con.register("new_scores", frame)
        con.execute(f"insert into sentiment_scores ({columns}) select {columns} from new_scores")
        con.unregister("new_scores")
        done += frame.height
        if on_scored is not None:
            on_scored(done, todo)
        hooks.pause("score")


def metrics_stage(settings: Settings, mapper: Mapper | None = None,
                  live_copy: LiveCopy | None = None) -> dict[str, pl.DataFrame]:
    """Every metric frame the published models read, computed with Polars from the staged tables.

    Inputs are read in a fixed order and as one chunk each, and the metrics sum floats in ways that
    do not depend on thread timing, so a re-run on the same data publishes bit-identical tables.
    The per-title and per-month sums and the rating histograms are computed as partial aggregates
    (per partition of [runner] partition_rows reviews through `mapper`, e.g. on Dask workers, when
    one is given) and merged exactly.

    When `live_copy` holds a copy of the live published database to build on (LiveCopy.base), only
    the titles whose reviews changed since it went live (publish_pending's titles) are computed from
    the warehouse: every per-title figure depends on the title's reviews alone. The frames then
    hold those titles' rows, and frames["touched_titles"] names them, for publish to replace them
    in the copy; the frames whose figures span titles (the title summary with its weighted-rating
    parameters, the overall agreement, the mismatches' read order) are whole, made with the other
    titles' rows the warehouse keeps of the live database (state.untouched_titles_rows). The rows
    computed here are kept for the next run (state.keep_metric_rows), live once this run goes live.
    """
    base = live_copy.base() if live_copy is not None else None
    touched = "where r.title_id in (select title_id from publish_pending)" if base else ""
    with warehouse(settings) as con:
        # each review with its text's scores (the sentiment cache), joined where the data lives
        reviews = con.sql(
            f"""
            select r.review_id, r.title_id, r.review_date, r.rating, r.rating_scale, r.rating_min,
                   r.rating_step, r.helpful_votes, r.total_votes, r.review_word_count, s.* exclude (text_hash)
            from stg_reviews as r
            left join sentiment_scores as s using (text_hash)
            {touched}
            order by r.review_id
            """
        ).pl().rechunk()
        staged_titles = con.sql(
            "select * from stg_titles "
            "order by title_id, source_order, file_path, row_number"
        ).pl().rechunk()
        kept = untouched_titles_rows(con) if base else None
    hooks.pause("metrics")
    m, st = settings.metrics, settings.sentiment
    scored = metrics.with_review_metrics(
        reviews.lazy(), z=m.wilson_z, threshold=st.threshold, measure=st.title_measure,
        mismatch_threshold=st.mismatch_threshold,
    ).collect()
    titles = metrics.merged_titles(staged_titles.lazy()).collect()
    partials = _partial_aggregates(scored, settings.runner.partition_rows, mapper)
    distribution = metrics.distribution_from_histogram(partials["histogram"].lazy()).collect()
    stats = (
        metrics.title_stats(partials["titles"].lazy(), partials["histogram"].lazy())
        .join(metrics.title_scales(distribution.lazy()), on="title_id", how="left")
        .collect()
    )
    shape = metrics.rating_shape(
        distribution.lazy(), min_ratings=m.polarized_min_ratings,
        bimodality=m.polarized_bimodality, end_share=m.polarized_end_share,
    ).collect()
    everyone = scored.select(AGREEMENT_INPUTS)
    if kept is not None:
        everyone = pl.concat([everyone, kept["reviews"].cast(everyone.schema)])
    # computed together: Polars runs them side by side
    top, by_title, overall, mismatches, helpfulness = pl.collect_all([
        metrics.top_helpful_reviews(scored.lazy(), None, m.top_helpful_per_title),
        metrics.sentiment_agreement(scored.lazy(), scopes=("title",)),
        metrics.sentiment_agreement(everyone.lazy(), scopes=("overall",)),
        metrics.rating_sentiment_mismatches(scored.lazy()),
        metrics.helpfulness(scored.lazy()),
    ])
    frames = {}
    if kept is not None:
        frames["touched_titles"] = kept["touched"]
        stats = pl.concat([stats, kept["stats"].select(stats.columns).cast(stats.schema)])
        shape = pl.concat([shape, kept["shape"].select(shape.columns).cast(shape.schema)])
        mismatches = metrics.with_read_order(pl.concat(
            [mismatches.drop("read_order"), kept["mismatches"]], how="vertical_relaxed").lazy()
        ).collect()
    summary = (
        metrics.title_summary_from_stats(stats.drop(metrics.SCALE_COLUMNS).lazy(), titles.lazy())
        .join(stats.lazy().select("title_id", *metrics.SCALE_COLUMNS), on="title_id", how="left",
              maintain_order="left")
        .collect()
    )
    parameters = metrics.weighted_rating_parameters(
        summary.lazy(), quantile=m.weighted_quantile, m=m.weighted_m, c=m.weighted_c
    ).collect()
    frames |= {
        "metric_titles": titles,
        "metric_reviews": scored.select(metrics.REVIEW_METRIC_COLUMNS),
        "metric_title_summary": summary,
        "metric_comparable_ratings": metrics.comparable_ratings(
            summary.lazy(), parameters.lazy(), prior_per_star=m.bayesian_prior_per_star,
            z=m.confidence_z,
        ).collect(),
        "metric_rating_shape": shape,
        "metric_weighted_rating_parameters": parameters,
        "metric_rating_distribution": distribution,
        "metric_monthly_trends": metrics.monthly_trends_from_partials(partials["months"].lazy()).collect(),
        "metric_top_helpful_reviews": top,
        "metric_sentiment_agreement": pl.concat([by_title, overall]).sort(
            "scope", "title_id", "rating_scale", nulls_last=True),
        "metric_rating_sentiment_mismatches": mismatches,
        "metric_helpfulness": helpfulness,
    }
    with warehouse(settings) as con:  # the rows a delta run keeps, live once this run goes live
        keep_metric_rows(con, reviews, frames)
    return frames


def _partial_aggregates(
    scored: pl.DataFrame, partition_rows: int, mapper: Mapper | None
) -> dict[str, pl.DataFrame]:
    """metrics.partial_aggregates of the scored reviews, merged: per partition of partition_rows
    through `mapper` when one is given; here, in one piece (Polars uses every core on it)."""
    scored = scored.select(
        "title_id", "rating", "rating_scale", "rating_min", "rating_step", "review_date",
        "helpful_votes", "total_votes",
        "sentiment_score", "sentiment_compound", "sentence_compound_mean", "sentiment_label",
    )
    if mapper is None:
        return metrics.merge_partials([metrics.partial_aggregates(scored)])
    partitions = [scored.slice(i, partition_rows) for i in range(0, scored.height, partition_rows)]
    return metrics.merge_partials(list(mapper(metrics.partial_aggregates, partitions or [scored])))


def new_database_path(settings: Settings, run_id: str) -> Path:
    """Where a run builds its published database before it goes live."""
    published = settings.published_path
    return published.with_name(f".{published.name}.{run_id}.tmp")


@dataclass
class Published:
    """What publish_stage built: rows per published table, and how many reviews it replaced when it
    started from a copy of the live database (None: built whole)."""

    counts: dict[str, int]
    reviews_replaced: int | None = None


def publish_stage(
    settings: Settings, frames: dict[str, pl.DataFrame], run_id: str, live_copy: LiveCopy | None = None
) -> Published:
    """Build and check this run's published database (not live yet).

    When the live database was built by this code from the same settings and is untouched since,
    and few reviews changed, the new one starts as a copy of it (see delta_base), made here or
    already under way in `live_copy`.
    """
    new_db = new_database_path(settings, run_id)
    delta, replaced = (LiveCopy(settings, run_id) if live_copy is None else live_copy).take()
    if "touched_titles" in frames and not delta:
        # the frames hold the changed titles alone, to be put in a copy this attempt does not have
        frames = metrics_stage(settings)
    notes = {"agg_title_summary": parameters_note(settings, frames["metric_weighted_rating_parameters"])}
    with warehouse(settings) as con:
        counts = publish.build(con, frames, new_db, notes, delta=delta)
    hooks.pause("publish")
    return Published(counts, replaced if delta else None)


def export_stage(settings: Settings, run_id: str) -> list[tuple[Path, Path]]:
    """Export the run's agg_ tables from its new database to temporary files beside their final names."""
    files = publish.export_files(
        new_database_path(settings, run_id),
        settings.exports_path,
        fmt=settings.exports.format,
        neutralize_formulas=settings.exports.neutralize_formulas,
        tag=f"{run_id}.tmp",
    )
    hooks.pause("export")
    return files


def report_stage(settings: Settings, run_id: str) -> list[tuple[Path, Path]]:
    """Write the run's HTML report from its new database beside its final name; (temporary, final)."""
    from reviewpipe.report import write_report

    final = settings.exports_path / "report.html"
    temp = final.with_name(f".{final.name}.{run_id}.tmp")
    write_report(new_database_path(settings, run_id), temp)
    return [(temp, final)]


def go_live_stage(settings: Settings, run_id: str, files: list[tuple[Path, Path]]) -> list[Path]:
    """Put the run's database and its other files (exports, report) in place in one go-live, all
    or nothing (publish.go_live, journal in go_live_journal); the final paths of `files`, in order.

    A write-ahead log beside the published database belongs to the old file (a session wrote to
    it): it is taken away first, so that no reader pairs it with the new file. The journal and the
    old files' backups stay until record_run_end has logged the run (or rolled it back).
    """
    database = (new_database_path(settings, run_id), settings.published_path)
    stale_wal = (None, publish.wal_path(settings.published_path))
    return publish.go_live([stale_wal, database, *files], go_live_journal(settings, run_id),
                           tag=run_id)[1:]


def go_live_journal(settings: Settings, run_id: str) -> Path:
    """Where a run's go-live journal is kept (beside the published database)."""
    published = settings.published_path
    return published.with_name(f".{published.name}.{run_id}.golive")


def discard_run_files(settings: Settings, *run_ids: str) -> None:
    """Remove what the given runs (failed, or killed) left under temporary names; nothing else, so
    that a pipeline with another warehouse that shares these folders keeps its files."""
    pattern = re.compile(r"^\..+\.(?P<run_id>[^.]+)\.(tmp|tmp\.wal|golive\.part)$")
    for folder in (settings.published_path.parent, settings.exports_path):
        for leftover in folder.glob(".*"):
            match = pattern.match(leftover.name)
            if match and match["run_id"] in run_ids:
                leftover.unlink(missing_ok=True)


def parameters_note(settings: Settings, parameters: pl.DataFrame) -> str:
    """The parameters this run's comparable ratings used, as a sentence for the table's comment."""
    m = settings.metrics
    how_m = f"fixed at {m.weighted_m:g}" if m.weighted_m is not None else (
        f"the {m.weighted_quantile:g} quantile of vote counts")
    how_c = f"fixed at {m.weighted_c:g}" if m.weighted_c is not None else "the mean rating over titles"
    parts = []
    for basis, scale, low, step, c, m_value, titles in parameters.iter_rows():
        what = ("site ratings" if basis != "reviews" else "thumbs reviews" if scale == metrics.THUMBS_SCALE
                else f"reviews on a {scale}-point scale" if (low, step) == (1, 1)
                else f"reviews on a {low:g}..{scale} scale in steps of {step:g}")
        parts.append(f"{what}: C = {c:.4f}, m = {m_value:.1f} ({titles} titles)")
    return (
        f"This run's parameters: weighted_rating = v/(v+m)·R + m/(v+m)·C with C = {how_c} and "
        f"m = {how_m}; " + ("; ".join(parts) or "no rated titles") + ". "
        f"bayesian_rating: {m.bayesian_prior_per_star:g} pseudo-rating per star. "
        f"rating_ci: mean ± {m.confidence_z:.2f}·s/√n."
    )


def record_run_start(settings: Settings, run_id: str) -> None:
    """Log the run as running; a run still logged as running was killed (this one holds the run lock):
    it is logged as interrupted, its go-live, if it began one, is rolled back (finished, if it was
    logged as succeeded) and its temporary files are removed. Only this warehouse's runs are
    looked at: another pipeline that shares the published folder keeps its files. A warehouse of
    another configuration is refused before anything is touched (warehouse.claim_warehouse)."""
    note_run_id(settings.warehouse_path, run_id)  # for `reviewpipe status` while the run goes on
    with warehouse(settings) as con:
        claim_warehouse(con, settings.warehouse_path, configuration_name(settings.config_file))
        status = dict(rows(con, "select run_id, status from runs"))
        published = settings.published_path
        for journal in published.parent.glob(f".{glob.escape(published.name)}.*.golive"):
            killed = journal.name[len(published.name) + 2: -len(".golive")]
            if status.get(killed) == "succeeded":
                publish.finish(journal)
            elif killed in status:
                publish.roll_back(journal)
        discard_run_files(settings, *(r for r, s in status.items() if s in ("running", "interrupted")))
        con.execute(
            "update runs set status = 'interrupted', finished_at = ?, message = 'the run stopped "
            "without finishing (killed, or the machine stopped); nothing of it was published' "
            "where status = 'running'",
            [_now()],
        )
        con.execute(
            "insert into runs (run_id, started_at, status) values (?, ?, 'running')",
            [run_id, _now()],
        )


def record_run_end(settings: Settings, summary: RunSummary, error: BaseException | None = None) -> None:
    """Log the run's outcome and figures. A run that went live logs each output's signature (for
    outputs_current) in the same transaction as its success, then drops the old outputs' backups;
    if that transaction fails, its go-live is rolled back (and its files removed), so that the
    outputs stay those of the last run logged succeeded."""
    journal = go_live_journal(settings, summary.run_id)
    gone_live = error is None and journal.exists()
    report = summary.ingest.report if summary.ingest else IngestReport()
    staged = summary.ingest.staged if summary.ingest else {}
    try:
        with warehouse(settings) as con, transaction(con):
            if gone_live:
                went_live(con, settings, journal)
            con.execute(
                """
                update runs set finished_at = ?, status = ?, files_loaded = ?, files_skipped = ?,
                    files_unreadable = ?, records_read = ?, rows_quarantined = ?,
                    reviews_published = ?, titles_published = ?, message = ?, inputs_hash = ?
                where run_id = ?
                """,
                [
                    _now(), "failed" if error else "succeeded", report.count("loaded"),
                    report.count("skipped"), report.count("unreadable"), report.records,
                    staged.get("quarantine"), summary.published.get("reviews"),
                    summary.published.get("titles"),
                    str(error) if error else unchanged_message(summary),
                    None if error or not summary.ingest else summary.ingest.inputs_hash, summary.run_id,
                ],
            )
    except BaseException:
        if gone_live:
            publish.roll_back(journal)
            discard_run_files(settings, summary.run_id)
        raise
    if gone_live:
        publish.finish(journal)


def unchanged_message(summary: RunSummary) -> str | None:
    """What a run that found nothing new says (None for any other run)."""
    since = summary.ingest.unchanged_since if summary.ingest else None
    if since is None:
        return None
    return (f"nothing new since run {since}: no file changed and neither did the settings, so the "
            "published tables, exports and report are current")


# The second copy of a review, quarantined; counted apart from the other problems.
_IS_DUPLICATE = "(column_name = 'review_id' and starts_with(reason, 'duplicate of the review in'))"

# Per source: records read (rows plus the lines the reader rejected), rows and lines quarantined
# (a row with two problems once; second copies of a review apart, as duplicates), files, unreadable.
# A file the reader rejected every line of (random bytes, another encoding) counts as one
# unreadable file, not as so many quarantined "lines".
_SOURCE_QUALITY = f"""
    with files as (
        select source, file_path, sum(records_read + lines_rejected) as records,
            bool_or(status = 'unreadable') or (sum(records_read) = 0 and sum(lines_rejected) > 0)
                as is_unreadable
        from load_log
        group by source, file_path
    ),

    by_source as (
        select source, coalesce(sum(records) filter (where not is_unreadable), 0) as records,
            count(*) as files, count(*) filter (where is_unreadable) as unreadable,
            min(file_path) filter (where is_unreadable) as unreadable_example
        from files
        group by source
    ),

    problems as (
        select distinct q.source, q.file_path, q.row_number, q.line_number,
            {_IS_DUPLICATE} as is_duplicate
        from quarantine as q
        join files using (source, file_path)
        where not files.is_unreadable and (q.row_number is not null or q.line_number is not null)
    ),

    counted as (
        select source,
            count(*) filter (where not is_duplicate) as quarantined,
            count(*) filter (where is_duplicate) as duplicates
        from problems
        group by source
    ),

    final as (
        select by_source.source, by_source.records, coalesce(counted.quarantined, 0) as quarantined,
            coalesce(counted.duplicates, 0) as duplicates, by_source.files, by_source.unreadable,
            by_source.unreadable_example
        from by_source
        left join counted using (source)
    )

    select * from final order by source
"""

# Quarantined rows by source and reason class, with the first row of each class as an example.
# Reasons differ row by row ("duplicate of the review in FILE row 7", "rating 11 is outside
# 1..10"): a class is the reason up to its first '/' (file paths are absolute, and a value such as
# 3/7 is cut there too) with every number written N.
_QUARANTINE_GROUPS = f"""
    with classified as (
        select *, regexp_replace(rtrim(regexp_extract(reason, '^[^/]*')), '[0-9]+', 'N', 'g')
            as reason_class
        from quarantine
        where not {_IS_DUPLICATE}
    ),

    final as (
        select source, column_name, reason_class, count(*) as rows,
            first((file_path, row_number, line_number, raw_value, reason)
                  order by file_path, row_number nulls first, line_number) as example
        from classified
        group by source, column_name, reason_class
    )

    select source, column_name, reason_class, rows, example[1], example[2], example[3], example[4],
        example[5]
    from final
    order by source, rows desc, column_name, reason_class
"""

# Sources with enough ratings, all in the lower half of the scale: 5-star data configured as
# 10-point loads without a problem, and every figure on it is wrong. Thumbs (scale 1) never.
_SCALE_MISFITS = """
    select source, rating_scale, count(rating) as rated, max(rating) as highest
    from stg_reviews
    where rating is not null and rating_scale > 1
    group by source, rating_scale
    having count(rating) >= ? and max(rating) <= rating_scale / 2
    order by source, rating_scale
"""
SCALE_MISFIT_MIN_RATINGS = 20


def quality_stage(settings: Settings, summary: RunSummary) -> Quality:
    """The staged data's quality (summary.quality), checked against [quality]: past a limit this
    raises QualityFailed, so that a run publishes nothing new. Runs after metrics, before publish,
    in every way of running the stages (pipeline._run_locked, the flow, a run with nothing new)."""
    with warehouse(settings) as con:
        quality = Quality(
            sources=[SourceQuality(*row) for row in rows(con, _SOURCE_QUALITY)],
            groups=[QuarantineGroup(*row) for row in rows(con, _QUARANTINE_GROUPS)],
            warnings=[
                f"source {source!r}: all {rated} ratings are at most {highest:g}, half of its "
                f"rating_scale = {scale} or less; if its ratings are out of {highest:g}, set "
                f"rating_scale = {highest:g}"
                for source, scale, rated, highest in rows(con, _SCALE_MISFITS, [SCALE_MISFIT_MIN_RATINGS])
            ],
        )
    limits = settings.quality
    for s in quality.sources:
        if s.quarantined_share > limits.max_quarantined_share:
            commonest = next(g for g in quality.groups if g.source == s.source and (
                g.row_number is not None or g.line_number is not None))
            quality.breaches.append(
                f"source {s.source!r} has {s.quarantined} of its {s.records} records quarantined "
                f"({s.quarantined_share:.1%}), above [quality] max_quarantined_share = "
                f"{limits.max_quarantined_share:g} (most often: {example(commonest)})")
        if s.unreadable_share > limits.max_unreadable_share:
            quality.breaches.append(
                f"source {s.source!r} has {s.unreadable} of its {s.files} files unreadable "
                f"({s.unreadable_share:.0%}), above [quality] max_unreadable_share = "
                f"{limits.max_unreadable_share:g} (the first: {s.unreadable_example})")
    summary.quality = quality
    if quality.breaches:
        raise QualityFailed(
            "the run published nothing new, the last good outputs stay in place: "
            + "; ".join(quality.breaches)
            + ". Fix the files or the source's mapping (the reasons and an example of each are "
            "listed above, all of them in table quarantine), or raise the limit in [quality]",
            quality,
        )
    return quality


def quality_lines(quality: Quality) -> list[str]:
    """The run's closing lines: rows quarantined by source and reason (each with its first row),
    duplicates by source, warnings; plain text, one item a line."""
    lines = []
    for s in quality.sources:
        groups = [g for g in quality.groups if g.source == s.source]
        if s.quarantined or groups:
            lines.append(f"Quarantined in source {s.source!r}: {s.quarantined} of {s.records} records "
                         f"({s.quarantined_share:.1%})" + (f", {s.unreadable} of {s.files} files unreadable"
                                                          if s.unreadable else "") + ":")
            lines += [f"  {example(g)}" for g in groups]
    lines += [f"Duplicates in source {s.source!r}: {s.duplicates} second "
              f"{'copy' if s.duplicates == 1 else 'copies'} of a review (quarantined, see table "
              "quarantine)" for s in quality.sources if s.duplicates]
    lines += [f"WARNING {w}" for w in quality.warnings]
    return lines


def example(group: QuarantineGroup) -> str:
    """A reason class's count and its first occurrence: file, row (or line), column, value, reason."""
    unit = ("row" if group.row_number is not None else "line" if group.line_number is not None
            else "file")
    place = ("" if unit == "file" else f" {unit} {group.row_number or group.line_number}")
    column = f", column {group.column_name}" if group.column_name else ""
    shown = group.raw_value if group.raw_value is None or len(group.raw_value) <= 60 else (
        group.raw_value[:57] + "...")
    value = f", value {shown!r}" if shown is not None else ""
    plural = "s" if group.rows != 1 else ""
    return f"{group.rows} {unit}{plural} like {group.file_path}{place}{column}{value}: {group.reason}"


def current_outputs(settings: Settings, summary: RunSummary) -> RunSummary:
    """Fill in a run that found nothing new with the outputs already in place."""
    summary.published_path = settings.published_path
    summary.exports = sorted(p for p in settings.exports_path.glob(f"agg_*.{settings.exports.format}"))
    summary.report = settings.exports_path / "report.html"
    summary.preview = title_preview(settings.published_path)
    return summary


def run(
    settings: Settings, *, only: list[str] | None = None, full_refresh: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every stage in order and log the run; raises ReviewpipeError on a user-caused failure.
    `progress` is told of each file loaded and each batch of texts scored."""
    try:
        with run_lock(settings.warehouse_path, wait=overlap_wait(settings)):
            return _run_locked(settings, only=only, full_refresh=full_refresh, progress=progress)
    except RunInProgress as exc:
        return skipped_run(settings, exc)


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


def _run_locked(settings: Settings, *, only: list[str] | None, full_refresh: bool,
                progress: Progress | None = None) -> RunSummary:
    summary = RunSummary(new_run_id())
    record_run_start(settings, summary.run_id)
    live_copy: LiveCopy | None = None
    # the scoring processes start once ingest has loaded more than a batch, to be ready for scoring
    ahead = sentiment.PoolAhead(sentiment.worker_count(settings.sentiment.workers),
                                settings.sentiment.batch_size)
    try:
        with ahead:
            t = time.perf_counter()
            summary.ingest = ingest_stage(settings, summary.run_id, only=only,
                                          full_refresh=full_refresh,
                                          on_load=_both(ahead.loaded, progress and progress.loaded))
            summary.seconds["ingest"] = time.perf_counter() - t
            if summary.ingest.unchanged_since:
                quality_stage(settings, summary)
                record_run_end(settings, current_outputs(settings, summary))
                return summary
            live_copy = LiveCopy(settings, summary.run_id)
            t = time.perf_counter()
            summary.texts_scored = score_stage(settings, ahead=ahead,
                                               on_scored=progress and progress.scored)
            summary.seconds["score"] = time.perf_counter() - t
        t = time.perf_counter()
        frames = metrics_stage(settings, live_copy=live_copy)
        summary.seconds["metrics"] = time.perf_counter() - t
        quality_stage(settings, summary)
        t = time.perf_counter()
        published = publish_stage(settings, frames, summary.run_id, live_copy)
        summary.published, summary.reviews_replaced = published.counts, published.reviews_replaced
        summary.published_path = settings.published_path
        summary.seconds["publish"] = time.perf_counter() - t
        # the report (mostly Python drawing charts) is drawn while DuckDB writes the exports
        with ThreadPoolExecutor(max_workers=1) as beside:
            drawn = beside.submit(_timed, report_stage, settings, summary.run_id)
            files, summary.seconds["export"] = _timed(export_stage, settings, summary.run_id)
            report_files, summary.seconds["report"] = drawn.result()
        summary.preview = title_preview(new_database_path(settings, summary.run_id))
        *summary.exports, summary.report = go_live_stage(settings, summary.run_id, files + report_files)
    except BaseException as exc:
        abandon_run(settings, summary, exc, live_copy)
        raise
    record_run_end(settings, summary)
    return summary


def _both(first: Callable[[FileLoad], object],
          second: Callable[[FileLoad], object] | None) -> Callable[[FileLoad], object]:
    """A callback that calls first, then second when there is one."""
    if second is None:
        return first
    return lambda file: (first(file), second(file))


def abandon_run(settings: Settings, summary: RunSummary, error: BaseException,
                live_copy: LiveCopy | None) -> None:
    """After a run failed: its go-live, if it began one, rolled back (the old outputs back), its
    temporary files removed, the failure logged."""
    if live_copy is not None:
        live_copy.wait()
    publish.roll_back(go_live_journal(settings, summary.run_id))
    discard_run_files(settings, summary.run_id)
    record_run_end(settings, summary, error)


def _timed(stage: Any, *args: Any) -> tuple[Any, float]:
    """A stage's result and its wall seconds."""
    t = time.perf_counter()
    return stage(*args), time.perf_counter() - t


def title_preview(database: Path, limit: int = 10) -> tuple[list[str], list[tuple]]:
    """The first titles of a published database's summary by review count: column names and rows."""
    return publish.query_published(
        database,
        "select title_id, title, review_count, rating_mean, weighted_rating, sentiment_mean "
        f"from agg_title_summary order by review_count desc, title_id limit {int(limit)}",
    )


def title_leaderboard(database: Path, limit: int = 100) -> tuple[list[str], list[tuple]]:
    """A published database's titles by weighted rating (numbers rounded for reading)."""
    return publish.query_published(
        database,
        "select title_id, title, review_count, round(rating_mean, 3) as rating_mean, "
        "round(weighted_rating, 3) as weighted_rating, round(sentiment_mean, 3) as sentiment_mean, "
        "is_polarized from agg_title_summary "
        f"order by weighted_rating desc nulls last, title_id limit {int(limit)}",
    )


def summary_markdown(summary: RunSummary) -> str:
    """What a run loaded, quarantined and published, as markdown (the Prefect run artifact)."""
    lines = [f"# reviewpipe run {summary.run_id}", ""]
    if summary.ingest:
        r, staged = summary.ingest.report, summary.ingest.staged
        lines += [
            (f"- files: {r.count('loaded')} loaded, {r.count('skipped')} unchanged, "
             f"{r.count('unreadable')} unreadable"),
            f"- records read: {r.records}",
            f"- staged: {staged.get('stg_reviews', 0)} reviews, {staged.get('stg_titles', 0)} title rows",
            f"- quarantined rows: {staged.get('quarantine', 0)} (table `quarantine`)",
        ]
        lines += [f"- unreadable: `{f.path}`: {f.message}" for f in r.files if f.status == "unreadable"]
    lines += [f"- new texts scored: {summary.texts_scored}", "", "| published table | rows |", "|---|---|"]
    lines += [f"| `{table}` | {n} |" for table, n in summary.published.items()]
    if summary.published_path:
        lines += ["", f"Published database: `{summary.published_path}`{publish_how(summary)}"]
    if summary.quality:
        lines += ["", *(f"- {line.strip()}" for line in quality_lines(summary.quality))]
    return "\n".join(lines)


def publish_how(summary: RunSummary) -> str:
    """How a run that published built its database, as a parenthesis ("" for other runs)."""
    if not summary.published:
        return ""
    if summary.reviews_replaced is None:
        return " (built whole)"
    return f" ({summary.reviews_replaced} reviews replaced in a copy of the previous one)"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def require_published(settings: Settings) -> Path:
    """The published database path, or a clear error when nothing has been published yet."""
    path = settings.published_path
    if not path.exists():
        raise ReviewpipeError(f"no published database at {path} yet; run `reviewpipe run` first")
    return path
