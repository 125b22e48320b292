"""One function per stage of a run: each opens the warehouse and calls the module that does the
work (ingest, sentiment, metrics, publish, report), and returns what it did. pipeline.STAGES says
in which order a run calls them; tests call them directly."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from reviewpipe import hooks, metrics, publish, sentiment, state, terms, trust
from reviewpipe.ingest import (
    FileLoad,
    IngestReport,
    Mapper,
    ingest,
    stage,
    staged_counts,
)
from reviewpipe.runlog import go_live_journal, new_database_path, warehouse
from reviewpipe.settings import Settings
from reviewpipe.warehouse import (
    claim_warehouse,
    configuration_name,
    rows,
    scalar,
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


def ensure_sample(settings: Settings) -> list[Path]:
    """Generate the synthetic sample when the embedded default is in use and it is not there yet."""
    if not settings.uses_sample:
        return []
    from reviewpipe.sample import write_sample

    folder = settings.samples_path
    if (folder / "titles.csv").exists() and any(folder.glob("reviews_*.csv")):
        return []
    return write_sample(folder)


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
        inputs = state.inputs_state(con, settings)
        last = rows(con, "select run_id, inputs_hash from runs where status = 'succeeded' "
                         "order by started_at desc limit 1")
        if last and last[0][1] == inputs and not full_refresh and state.outputs_current(con, settings):
            return IngestSummary(report, staged_counts(con), inputs, unchanged_since=last[0][0])
        staged = stage(con)
    return IngestSummary(report, staged, inputs)


@dataclass(frozen=True)
class Scored:
    """What the score stage did: the texts it detected (new to the sentiment cache, or done again),
    and how many of them an analyzer scored (the others are in languages sentiment does not cover)."""

    texts: int
    scored: int

    @property
    def unscored(self) -> int:
        return self.texts - self.scored


def score_stage(settings: Settings, mapper: Mapper | None = None,
                ahead: sentiment.PoolAhead | None = None,
                on_scored: Callable[[int, int], object] | None = None) -> Scored:
    """Detect the language of every staged text not yet in the sentiment cache and score those an
    analyzer reads, in one pass; and do again the cached texts that a review now needs scored in
    another language than they were (see _RESCORED). What was done.

    Texts are done in batches of [sentiment] batch_size: in a pool of worker processes (`ahead`'s
    when it was started), or through `mapper` (e.g. on Dask workers) when one is given.
    `on_scored(done, todo)` is called before the first batch and after each batch is stored.
    """
    languages, undetermined = list(settings.sentiment.languages), settings.sentiment.score_undetermined
    with warehouse(settings) as con:
        workers = sentiment.worker_count(settings.sentiment.workers)
        # unless `ahead` started them during ingest, the scoring processes start while the texts to
        # score are found, when the reviews staged since the last publish fill more than one batch
        pending, everything = state.pending_reviews(con)
        # Only the reviews staged since the last publish can hold a text the cache lacks: every
        # other review was published, so its text was scored then (an anti-join of every staged
        # text is slow at scale). Not so when staging was rebuilt whole, nor while the cache holds
        # rows from before languages were detected (they are done again, whichever review).
        narrow = not everything and not scalar(con, f"select count(*) from sentiment_scores where {_STALE}")
        # a second connection finds the texts to score and streams them while the first inserts
        # their scores (a temp table is its connection's own)
        reader_con = con.cursor()
        # The scores are inserted a batch a commit, and DuckDB checkpoints each time its write-ahead
        # log passes checkpoint_threshold (16 MB): dozens of checkpoints in a cold run, each writing
        # the cache's newest rows again. Raised for the stage (a setting of the whole database, reset
        # below for the stages after it), the scores are checkpointed once, at the first commit past
        # 16 MB after it (cold, 1,000,000 texts, score and metrics: 72.9-75.3 -> 68.2-70.1 s;
        # bench/README.md, issue 26's round 3). A run killed meanwhile replays the longer log at
        # its next open.
        con.execute("set checkpoint_threshold = '1GB'")
        try:
            with nullcontext(ahead) if ahead else sentiment.PoolAhead(workers) as processes:
                staged = scalar(con, "select count(*) from stg_reviews") if everything else pending
                if mapper is None and staged > settings.sentiment.batch_size:
                    processes.start()
                reader_con.execute("create temp table _unscored as " + _UNSCORED.format(
                    pending=_PENDING if narrow else "", stale=_STALE), [languages])
                # rows from before languages, and those done again, go first (a plain insert is much
                # faster than an insert that replaces, which checks every key against the key index)
                if not narrow:
                    reader_con.execute(f"delete from sentiment_scores where {_STALE}")
                rule = [languages, undetermined]
                reader_con.execute("create temp table _redetected as " + _REDETECTED, rule)
                reader_con.execute("create temp table _declared as " + _DECLARED, [languages])
                if scalar(reader_con, "select (select count(*) from _redetected) "
                                      "+ (select count(*) from _declared)"):
                    reader_con.execute("create temp table _rescored as " + _RESCORED, rule)
                    reader_con.execute("delete from sentiment_scores "
                                       "where text_hash in (select text_hash from _rescored)")
                    reader_con.execute("insert into _unscored select * from _rescored")
                todo = scalar(reader_con, "select count(*) from _unscored")
                scored = 0
                if todo:
                    scored = _score_unscored(
                        con, reader_con, settings, todo, mapper, workers,
                        processes.pool if mapper is None else None, on_scored)
        finally:
            reader_con.close()
            with suppress(duckdb.Error):  # (a connection a failure closed: its error is the one to report)
                con.execute("reset checkpoint_threshold")
    return Scored(todo, scored)


# Distinct texts of staged reviews that the sentiment cache does not hold yet, as the row of
# int_reviews_typed that holds each (stg_reviews is a view of its staged rows): found from the
# hashes alone, then fetched by rowid, so that no other text is read (selecting the texts in the
# same query read every text of stg_reviews). `given` is the language to score the text in when a
# review of it declares one of [sentiment] languages ($1); else the detected one decides.
_UNSCORED = """
    select text_hash, min(rowid) as row_id,
           max(declared_language) filter (where list_contains($1, declared_language)) as given
    from int_reviews_typed
    where staged and text_hash is not null
      and text_hash not in (select text_hash from sentiment_scores where not ({stale}))
      {pending}
    group by text_hash
"""
_PENDING = "and review_id in (select review_id from publish_pending)"
# Cache rows of an older reviewpipe, done again: from before languages (no review_language), or
# scored before each sentence's end and compound were kept (the terms stage reads them).
_STALE = "review_language is null or (sentiment_language is not null and sentence_ends is null)"
# Cached texts that a staged review now needs scored in another language than the cache's
# sentiment_language (scores_language: its source newly declared a language, [sentiment] languages
# or score_undetermined changed), with that language: they are done again. Over every staged
# review, since a change of settings restages nothing; but only the reviews that could need it are
# joined, and none when there are none (a join that reads every staged row's hash costs about as
# much as finding the new texts, at every run; bench/README.md): those of the cache rows whose
# detection alone now asks for another language (the rule for an undeclared review; usually none),
# and those that declare one of [sentiment] languages ($1 languages, $2 score_undetermined).
_REDETECTED = """
    select text_hash, review_language, language_guess, sentiment_language
    from sentiment_scores
    where scores_language(null, review_language, language_guess, $1, $2) is not null
      and scores_language(null, review_language, language_guess, $1, $2) is distinct from sentiment_language
"""
_DECLARED = """
    select text_hash, rowid as row_id, declared_language
    from int_reviews_typed
    where staged and list_contains($1, declared_language)
"""
_RESCORED = """
    select text_hash, min(row_id) as row_id, max(needed) as given
    from (
        select t.text_hash, t.rowid as row_id, c.sentiment_language,
               scores_language(t.declared_language, c.review_language, c.language_guess, $1, $2) as needed
        from int_reviews_typed as t
        join _redetected as c on c.text_hash = t.text_hash
        where t.staged
        union all
        select d.text_hash, d.row_id, c.sentiment_language, d.declared_language as needed
        from _declared as d
        join sentiment_scores as c on c.text_hash = d.text_hash
        where c.review_language is not null
    )
    where needed is not null and needed is distinct from sentiment_language
    group by text_hash
"""
_UNSCORED_TEXTS = """
    select u.text_hash, s.review_text, u.given
    from _unscored as u
    join int_reviews_typed as s on s.rowid = u.row_id
    order by u.row_id
"""
# What the cache stores of an analysed text, after its text_hash: its language, then its scores.
_ANALYSED_SCHEMA = {
    "review_language": pl.String, "language_confidence": pl.Float64, "language_guess": pl.String,
    "sentiment_language": pl.String, **sentiment.SCORE_SCHEMA, **sentiment.SENTENCE_SCHEMA,
}


def _score_unscored(
    con: duckdb.DuckDBPyConnection, reader_con: duckdb.DuckDBPyConnection, settings: Settings, todo: int,
    mapper: Mapper | None, workers: int, pool: ProcessPoolExecutor | None,
    on_scored: Callable[[int, int], object] | None = None,
) -> int:
    """Detect and score _unscored's texts into the sentiment cache; the number an analyzer scored."""
    batch_size = settings.sentiment.batch_size
    # a pool is slow to start; below one batch it would cost more than it saves
    workers = workers if todo > batch_size or pool else 1
    if mapper is None:
        batch_size = sentiment.even_batch_size(todo, batch_size, workers)
    reader = reader_con.sql(_UNSCORED_TEXTS).to_arrow_reader(batch_size)
    hashes: deque[list[str]] = deque()

    def text_batches() -> Iterator[list[tuple[str, str | None]]]:
        for batch in reader:
            hashes.append(batch.column("text_hash").to_pylist())
            yield list(zip(batch.column("review_text").to_pylist(), batch.column("given").to_pylist()))

    analyze = sentiment.analyzer(settings.sentiment.languages, settings.sentiment.score_undetermined)
    if mapper is not None:
        results = mapper(analyze, text_batches())
    else:
        results = sentiment.score_batches(text_batches(), workers, pool, fn=analyze)
    done = scored = 0
    if on_scored is not None:
        on_scored(done, todo)
    unscored = (None,) * (len(sentiment.SCORE_COLUMNS) + len(sentiment.SENTENCE_COLUMNS))
    columns = ", ".join(("text_hash", *_ANALYSED_SCHEMA))
    for analysed in results:
        frame = pl.DataFrame(
            [(*detection, language, *(scores or unscored)) for detection, language, scores in analysed],
            schema=_ANALYSED_SCHEMA, orient="row",
        ).with_columns(text_hash=pl.Series(hashes.popleft(), dtype=pl.String))
        con.register("new_scores", frame)
        con.execute(f"insert into sentiment_scores ({columns}) select {columns} from new_scores")
        con.unregister("new_scores")
        done += frame.height
        scored += sum(language is not None for _, language, _ in analysed)
        if on_scored is not None:
            on_scored(done, todo)
        hooks.pause("score")
    return scored


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
    titles' rows the warehouse keeps (state.untouched_titles_rows), never read from the published
    file. The rows computed here are stored for the next run (state.keep_metric_rows), live once this
    run goes live.
    """
    base = live_copy.base() if live_copy is not None else None
    touched = "where r.title_id in (select title_id from publish_pending)" if base else ""
    scores = ", ".join(f"case when is_scored then s.{c} end as {c}" for c in sentiment.SCORE_COLUMNS)
    with warehouse(settings) as con:
        # each review with its language and its text's scores (the sentiment cache), joined where
        # the data lives: the scores only when scores_language names the language they were
        # scored in (a narrowed [sentiment] languages publishes no stale score)
        reviews = con.sql(
            f"""
            with joined as (
                select r.review_id, r.title_id, r.review_date, r.rating, r.rating_scale, r.rating_min,
                       r.rating_step, r.helpful_votes, r.total_votes, r.review_word_count,
                       r.declared_language, s.*,
                       scores_language(r.declared_language, s.review_language, s.language_guess,
                                       $languages, $undetermined) = s.sentiment_language as is_scored
                from stg_reviews as r
                left join sentiment_scores as s using (text_hash)
                {touched}
            )
            select review_id, title_id, review_date, rating, rating_scale, rating_min, rating_step,
                   helpful_votes, total_votes, review_word_count,
                   coalesce(declared_language, s.review_language) as review_language,
                   case when declared_language is null then s.language_confidence end as language_confidence,
                   {scores}
            from joined as s
            order by review_id
            """,
            params={"languages": list(settings.sentiment.languages),
                    "undetermined": settings.sentiment.score_undetermined},
        ).pl().rechunk()
        staged_titles = con.sql(
            "select * from stg_titles "
            "order by title_id, source_order, file_path, row_number"
        ).pl().rechunk()
        kept = state.untouched_titles_rows(con) if base else None
    hooks.pause("metrics")
    frames = metrics.metric_frames(
        reviews, staged_titles, settings.metrics, settings.sentiment, kept=kept,
        merged_partials=lambda scored: _partial_aggregates(scored, settings.runner.partition_rows, mapper),
    )
    frames["metric_reviews"] = _with_languages(frames["metric_reviews"], reviews)
    with warehouse(settings) as con:  # the rows a delta run keeps, live once this run goes live
        state.keep_metric_rows(con, reviews, frames)
    return frames


def trust_stage(settings: Settings) -> dict[str, pl.DataFrame]:
    """The trust tests' frames (trust.trust_frames, publish.METRIC_FRAMES' metric_trust_*): over the
    whole warehouse whichever titles changed, since a reviewer's second review or a copy elsewhere
    changes another title's test; what they keep per text (signatures) is computed for new texts only."""
    if settings.terms.enabled:  # the terms stage's compiled pass loads beside the trust tests
        from reviewpipe.metrics import term_pass
        term_pass.prepare()
    if not settings.trust.enabled:  # [trust] enabled = false: the tables are published empty
        with warehouse(settings) as con:  # and the kept reviews left behind (built whole when on again)
            trust.subsets.forget_kept_reviews(con)
        return trust.empty_frames()
    with warehouse(settings) as con:
        frames = trust.trust_frames(con, settings)
    hooks.pause("trust")
    return frames


def terms_stage(settings: Settings) -> dict[str, pl.DataFrame]:
    """The distinctive terms' frame (terms.title_terms: metric_title_terms), over every staged
    review; the counts of the titles whose reviews changed are made again, the others' kept."""
    if not settings.terms.enabled:  # [terms] enabled = false: agg_title_terms is published empty
        return {"metric_title_terms": terms.empty_frame()}
    with warehouse(settings) as con:
        frame = terms.title_terms(con, settings)
    hooks.pause("terms")
    return {"metric_title_terms": frame}


def _with_languages(per_review: pl.DataFrame, reviews: pl.DataFrame) -> pl.DataFrame:
    """The per-review metrics with each review's review_language and language_confidence (published
    beside them, sql/published/reviews.sql), from the reviews the metrics stage read."""
    languages = reviews.select("review_id", "review_language", "language_confidence")
    if per_review["review_id"].equals(languages["review_id"]):  # the same rows, in the same order
        return per_review.hstack(languages.drop("review_id"))
    return per_review.join(languages, on="review_id", how="left", maintain_order="left")


def _partial_aggregates(
    scored: pl.DataFrame, partition_rows: int, mapper: Mapper | None
) -> dict[str, pl.DataFrame]:
    """metrics.partial_aggregates of the scored reviews, merged: per partition of partition_rows
    through `mapper` when one is given; here, in one piece (Polars uses every core on it)."""
    scored = scored.select(
        "title_id", "rating", "rating_scale", "rating_min", "rating_step", "review_date",
        "helpful_votes", "total_votes", "review_word_count", "review_language",
        "sentiment_score", "sentiment_compound", "sentence_compound_mean", "sentiment_label",
    )
    if mapper is None:
        return metrics.merge_partials([metrics.partial_aggregates(scored)])
    partitions = [scored.slice(i, partition_rows) for i in range(0, scored.height, partition_rows)]
    return metrics.merge_partials(list(mapper(metrics.partial_aggregates, partitions or [scored])))


@dataclass
class Published:
    """What publish_stage built: rows per published table, and how many reviews it replaced when it
    started from a copy of the live database (None: built whole)."""

    counts: dict[str, int]
    reviews_replaced: int | None = None


class LiveCopy:
    """The live published database copied to a run's new database in a thread, started once
    ingest knows which reviews changed (delta_base), so that the copy (and the disk's write-back of
    it) runs while the run scores and computes metrics. The metrics stage computes only the titles
    that changed once the copy is made (base); publish_stage takes it once: a retried publish must
    not build on a copy the failed attempt has changed, and builds anew.
    """

    def __init__(self, settings: Settings, run_id: str) -> None:
        with warehouse(settings) as con:
            signature, self.replaced = state.delta_base(con, settings)
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
        frames = metrics_stage(settings) | {name: frames[name] for name in (*trust.TRUST_FRAMES, "metric_title_terms")}
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
    write_report(new_database_path(settings, run_id), temp, sentiment=settings.sentiment,
                 report=settings.report, trust=settings.trust, terms=settings.terms)
    return [(temp, final)]


def go_live_stage(settings: Settings, run_id: str, files: list[tuple[Path, Path]],
                  database_digest: Future[str] | None = None) -> list[Path]:
    """Put the run's database and its other files (exports, report) in place in one go-live, all
    or nothing (publish.go_live, journal in go_live_journal); the final paths of `files`, in order.
    `database_digest`: the new database's sha256, taken ahead (publish.digest_ahead).

    A write-ahead log beside the published database belongs to the old file (a session wrote to
    it): it is taken away first, so that no reader pairs it with the new file. The journal and the
    old files' backups stay until record_run_end has logged the run (or rolled it back).
    """
    database = (new_database_path(settings, run_id), settings.published_path)
    stale_wal = (None, publish.wal_path(settings.published_path))
    return publish.go_live([stale_wal, database, *files], go_live_journal(settings, run_id), tag=run_id,
                           digests={database[0]: database_digest} if database_digest else None)[1:]


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
