"""The incremental state: what a run keeps in the warehouse so that the next does only what changed.

Every state table of the incremental machinery, what writes it, what reads it and when it is cleared
(the tables are declared in sql/schema/warehouse.sql):

| state | written by | read by | cleared |
|---|---|---|---|
| `load_log` (fingerprint, file_state) | ingest, per file loaded (`ingest._log`) | ingest (an unchanged file is skipped), `inputs_state`, the quality gate, the published `load_log` | a source's rows by `ingest.forget_source` (`--full-refresh`, a warehouse taken over) |
| `staging_state` | ingest: the model versions of `int_reviews_typed` and `stg_reviews`, the sources' order; `warehouse_schema`: the schema script's md5 and the catalog it left (warehouse.ensure_schema skips the script while both hold) | ingest (`stage`: restage the touched ids alone or all) | the `stg_reviews` row when `int_reviews_typed` is rebuilt or a source forgotten: staging is rebuilt whole |
| `staging_touched` | ingest, in each file's transaction (`ingest._touch_file`, `_renumber_sources`) | `ingest.stage` | by `ingest.stage`, once restaged |
| `int_reviews_typed.staged` | `ingest.stage` (`_mark_staged`): the rows `stg_reviews` shows | `stg_reviews`, `ingest._touch_file`, the score stage | rebuilt with the table |
| `publish_pending` | staging (`note_titles_before_restaging`, `note_restaged`) | `pending_reviews`, `delta_base`, the score stage (what to score), the metrics stage (the touched titles), `publish` (the reviews replaced) | by `went_live` |
| `trust_pending` | staging, with publish_pending (`note_restaged`) | the trust stage (`trust.subsets.update_kept_reviews`) | by that stage, once it made their rows again, or with the tests off (`forget_kept_reviews`) |
| `trust_reviews_kept` (version: the `staging_state` row `trust_reviews`) | the trust stage (`update_kept_reviews`): the rows of trust_pending's review ids and their reviewers' histories, or whole | the trust tests (the view `trust_reviews`) | made whole when its version changes, staging was rebuilt whole, or its rows are not as many as the staged reviews; dropped with the tests off |
| `published_state` | `went_live`; `outputs_current` renews the signature of the same bytes | `delta_base` | replaced by `went_live` |
| `output_signatures` | `went_live` | `outputs_current` (a run with nothing new) | replaced by `went_live` |
| `runs.inputs_hash` | `runlog.record_run_end` (`inputs_state`) | the ingest stage (nothing new since a run) | never |
| `sentiment_scores` (the cache) | the score stage | the score stage (what is unscored), the metrics stage | by the score stage: rows from before languages (done again), and a text a review now needs scored in another language (`stages._RESCORED`; a text's language and scores depend on the text alone) |
| `kept_titles`, `kept_agreement_inputs`, `kept_mismatches` | the metrics stage (`keep_metric_rows`: rows not live yet), made live by `went_live` | the metrics stage of a delta run (`untouched_titles_rows`) | a title's live rows when a run that computed it goes live (all after a whole build); rows not live by the next metrics stage |
| `kept_replaces` | the metrics stage (`keep_metric_rows`) | `went_live` | by `went_live` and the next metrics stage |
| `text_signatures`, `text_bands`, `text_phrases`, `text_copy_pairs`, `text_title_phrases`, `text_title_state`, `text_named_phrases` (versions: `staging_state` rows of those names) | the trust text tests (`trust.texts.update_signatures`: the texts with no row; `text_members`: the titles whose reviews changed) | `trust.texts.text_members` | a table whole when its version changes (signature settings, copy_min_words and copy_similarity, anonymous_names); a text no staged review holds keeps its rows (no test reads them: every test joins stg_reviews) |
| `term_counts`, `term_titles`, `term_examples` (version: the `staging_state` row `term_counts`) | the terms stage (`terms._update_counts`: the titles whose fingerprint changed; `terms._with_examples`: the ranked terms with no example yet) | `terms.title_terms` | a title's rows when its fingerprint changes or it is gone; all when the version (the tokenizer's rules, [terms] min_reviews) changes |

A delta run computes the metrics of the touched titles (publish_pending's) alone and publishes into a
copy of the live database (`stages.LiveCopy`); the figures spanning titles need every other title's rows,
which the kept_ tables hold. Their live rows describe exactly the live published database: they
change only in `went_live`, in the transaction that records the run that went live (with
published_state), so a failed run leaves them as they were. `published_state.has_kept_rows` says
they are there: a warehouse from before them builds whole once (`delta_base`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from reviewpipe import metrics, publish
from reviewpipe.schema import PUBLISHED_TABLES
from reviewpipe.settings import Settings
from reviewpipe.warehouse import rows, scalar, sql_dir, transaction

# --- What the outputs are made from ---------------------------------------------------------------


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
        include={"sources", "sentiment", "metrics", "exports", "paths", "report", "trust"}).encode())
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
            *(settings.exports_path / f"{t}.{fmt}" for t in PUBLISHED_TABLES
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


# --- The reviews to publish anew (publish_pending) ---------------------------------------------------

# the touched reviews (ingest's temp table _touched) with the titles stg_reviews gives them now
_PENDING_TITLES = (
    "insert into publish_pending select review_id, title_id from stg_reviews "
    "where review_id in (select review_id from _touched)"
)


def note_titles_before_restaging(con: duckdb.DuckDBPyConnection) -> None:
    """Add to publish_pending the titles the touched reviews (_touched) had: their published figures
    change too. Called by ingest.stage before it restages them, in its transaction."""
    con.execute(_PENDING_TITLES)  # staged rows of files not reloaded since
    con.execute("insert into publish_pending select review_id, title_id from staging_touched "
                "where title_id is not null")  # staged rows a file's reload or removal took


def note_restaged(con: duckdb.DuckDBPyConnection, *, whole: bool) -> None:
    """Add to publish_pending the restaged review ids with the titles they have now, or, when staging
    was rebuilt whole, a null review id meaning every review; the same ids to trust_pending. Called
    by ingest.stage."""
    if whole:
        con.execute("insert into publish_pending values (null, null)")
        con.execute("insert into trust_pending values (null)")
        return
    con.execute("insert into publish_pending (review_id) select review_id from _touched")
    con.execute("insert into trust_pending select review_id from _touched")
    con.execute(_PENDING_TITLES)


def pending_reviews(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """The review ids staged since the last publish, and whether staging was rebuilt whole since."""
    count, everything = rows(
        con, "select count(distinct review_id), count(*) filter (where review_id is null) "
             "from publish_pending")[0]
    return count, everything > 0


# --- Building on the live published database (a delta run) -------------------------------------------

# A delta publish replaces at most this share of the reviews; beyond it, writing the file whole is
# about as fast and leaves no deleted rows behind.
DELTA_MAX_SHARE = 0.2


def delta_base(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[str | None, int | None]:
    """The live published database's file signature and the number of reviews to replace in a copy
    of it, or (None, None) when the new one must be built whole: there is none, it was built from
    other settings or code, it changed since it went live, the warehouse keeps no rows of it (made
    before the kept_ tables), staging was rebuilt whole, or more than DELTA_MAX_SHARE of the reviews
    changed."""
    live = settings.published_path
    state = rows(con, "select basis, file_signature, has_kept_rows from published_state")
    if not live.exists() or state != [(publish_basis(settings), publish.file_signature(live), True)]:
        return None, None
    pending, everything = pending_reviews(con)
    if everything or pending > DELTA_MAX_SHARE * scalar(con, "select count(*) from stg_reviews"):
        return None, None
    return state[0][1], pending


# --- The rows a delta run keeps of the other titles (kept_ tables) ----------------------------------

# The overall sentiment agreement reads metrics.AGREEMENT_INPUTS of every review: kept per review,
# not as per-title sums, since its Spearman correlations rank each review's measure among all
# reviews of a scale, and the sentence mean is an unrounded double (about as many distinct values as
# reviews).
_SHAPE_COLUMNS = ("rating_entropy", "extreme_share", "bimodality_coefficient", "rating_skewness",
                 "is_polarized")
_STATS_COLUMNS = ("title_id", *metrics.TITLE_STATS_COLUMNS, *metrics.SCALE_COLUMNS)
_KEPT_COLUMNS = {
    "kept_titles": (*_STATS_COLUMNS, *_SHAPE_COLUMNS),
    "kept_agreement_inputs": ("title_id", *metrics.AGREEMENT_INPUTS),
    "kept_mismatches": metrics.MISMATCH_COLUMNS,
}


def keep_metric_rows(con: duckdb.DuckDBPyConnection, reviews: pl.DataFrame,
                     frames: dict[str, pl.DataFrame]) -> None:
    """Store, not live yet (went_live makes them so), the kept_ rows of the titles the metrics stage
    computed: all, or frames["touched_titles"] on a delta run. From its `frames` and the `reviews`
    it read (those titles' reviews; metric_reviews holds their rows in the same order)."""
    touched = frames.get("touched_titles")
    summary = frames["metric_title_summary"].filter(pl.col("review_count") > 0)
    mismatches = frames["metric_rating_sentiment_mismatches"]
    if touched is not None:  # the frames spanning titles hold the kept rows too
        summary = summary.filter(pl.col("title_id").is_in(touched["title_id"].implode()))
        mismatches = mismatches.filter(pl.col("title_id").is_in(touched["title_id"].implode()))
    rows_of = {
        "kept_titles": summary.select(_STATS_COLUMNS).join(
            frames["metric_rating_shape"], on="title_id", how="left"),
        "kept_agreement_inputs": pl.concat([
            reviews.select("title_id", *(c for c in metrics.AGREEMENT_INPUTS if not c.endswith("_label"))),
            frames["metric_reviews"].select("sentiment_label", "sentence_sentiment_label"),
        ], how="horizontal"),
        "kept_mismatches": mismatches,
    }
    with transaction(con):
        for table, frame in rows_of.items():
            columns = ", ".join(_KEPT_COLUMNS[table])
            con.execute(f"delete from {table} where not is_live")
            con.register("_kept", frame)
            con.execute(f"insert into {table} (is_live, {columns}) select false, {columns} from _kept")
            con.unregister("_kept")
        con.execute("delete from kept_replaces")
        con.execute("insert into kept_replaces values (null, ?)", [touched is None])
        if touched is not None:
            con.register("_kept", touched)
            con.execute("insert into kept_replaces select title_id, false from _kept")
            con.unregister("_kept")


def untouched_titles_rows(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The touched titles (publish_pending's), and from the live kept_ rows those of every other
    title that the figures spanning titles need (see stages.metrics_stage)."""
    con.execute("create or replace temp table _touched_titles as select distinct title_id "
                "from publish_pending where title_id is not null")
    untouched = "is_live and title_id not in (select title_id from _touched_titles)"
    try:
        return {
            "touched": con.sql("select title_id from _touched_titles order by title_id").pl(),
            "stats": con.sql(f"select {', '.join(_STATS_COLUMNS)} from kept_titles "
                             f"where {untouched}").pl(),
            "shape": con.sql(f"select title_id, {', '.join(_SHAPE_COLUMNS)} from kept_titles "
                             f"where rated_review_count > 0 and {untouched}").pl(),
            "reviews": con.sql(f"select {', '.join(metrics.AGREEMENT_INPUTS)} from kept_agreement_inputs "
                               f"where {untouched}").pl(),
            "mismatches": con.sql(f"select {', '.join(metrics.MISMATCH_COLUMNS)} from kept_mismatches "
                                  f"where {untouched}").pl(),
        }
    finally:
        con.execute("drop table _touched_titles")


# --- A run that went live -------------------------------------------------------------------------


def went_live(con: duckdb.DuckDBPyConnection, settings: Settings, journal: Path) -> None:
    """Record, in the caller's transaction (the one that logs the run succeeded), the state of the
    outputs a run put live: nothing pending, what the published database was built from, each
    output's signature (from the go-live `journal`), and the metrics stage's kept_ rows made live
    in place of those of the titles they replace."""
    con.execute("delete from publish_pending")
    replaced = ("(title_id in (select title_id from kept_replaces) "
                "or exists (select 1 from kept_replaces where every_title))")
    kept = bool(scalar(con, "select count(*) from kept_replaces"))
    for table in _KEPT_COLUMNS:
        con.execute(f"delete from {table} where is_live and {replaced}")
        con.execute(f"update {table} set is_live = true where not is_live")
    con.execute("delete from kept_replaces")
    con.execute("delete from published_state")
    con.execute("insert into published_state (basis, file_signature, has_kept_rows) values (?, ?, ?)",
                [publish_basis(settings), publish.file_signature(settings.published_path), kept])
    con.execute("delete from output_signatures")
    con.executemany("insert into output_signatures values (?, ?, ?)", [
        [str(path), publish.file_signature(path), digest]
        for path, digest in publish.journal_digests(journal).items()])

