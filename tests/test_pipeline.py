"""The whole pipeline on the embedded sample: the published contract, re-runs, failures, readers."""

from __future__ import annotations

import csv
import errno
import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import hypothesis
import pytest
import test_report
from conftest import SHARED_DATA, published_rows, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe import pipeline, publish, runlog, stages, state
from reviewpipe.errors import ReviewpipeError
from reviewpipe.quality import SCALE_MISFIT_MIN_RATINGS, QualityFailed, quality_lines, quality_stage
from reviewpipe.sample import BAD_ROWS
from reviewpipe.schema import PUBLISHED_TABLES
from reviewpipe.settings import Settings
from reviewpipe.warehouse import (
    claim_warehouse,
    configuration_name,
    connect,
    open_warehouse,
    sql_literal,
)

CONTRACT = {
    "titles": ["title_id", "title", "year", "site_rating", "site_votes", "user_review_count",
               "critic_review_count", "genres", "directors"],
    "reviews": ["review_id", "title_id", "author", "review_date", "rating", "review_title", "review_text",
                "helpful_votes", "total_votes", "rating_scale", "source",
                "review_language", "language_confidence",  # issue 24: where people read the source
                "helpful_ratio",
                "helpful_wilson_lb", "sentiment_compound", "sentiment_pos", "sentiment_neu",
                "sentiment_neg", "sentiment_label"],
    "agg_title_summary": ["title_id", "title", "review_count", "rated_review_count", "rating_mean",
                          "rating_median", "rating_stddev", "site_rating", "site_votes", "helpful_votes",
                          "total_votes", "sentiment_mean", "positive_share", "neutral_share",
                          "negative_share"],
    "agg_rating_distribution": ["title_id", "rating", "review_count", "share"],
    "agg_top_helpful_reviews": ["title_id", "rank", "review_id", "helpful_votes", "total_votes",
                                "helpful_ratio", "helpful_wilson_lb"],
}
# what the analytics issue added to the contract, after the columns above
ANALYTICS = {
    "agg_title_summary": ["weighted_rating", "bayesian_rating", "rating_ci_low", "rating_ci_high",
                          "rating_entropy", "extreme_share", "bimodality_coefficient", "rating_skewness",
                          "is_polarized", "first_review_date", "last_review_date"],
    "reviews": ["sentence_compound_mean", "sentence_count", "positive_sentence_share",
                "negative_sentence_share", "rating_sentiment_mismatch"],
    "agg_monthly_trends": ["title_id", "month", "review_count", "rating_mean", "sentiment_mean",
                           "helpful_ratio"],
    "agg_rating_sentiment_mismatches": ["title_id", "review_id", "rating", "sentiment_score"],
    "agg_helpfulness": ["title_id", "voted_share", "helpful_share", "helpfulness_rating_spearman",
                        "helpfulness_length_spearman"],
    "agg_sentiment_agreement": ["scope", "title_id", "spearman_whole", "spearman_sentence",
                                "label_agreement_whole", "label_agreement_sentence"],
}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Settings, pipeline.RunSummary]:
    """One cold run on the generated sample (module-wide: scoring 3,000 texts takes a few seconds)."""
    root = tmp_path_factory.mktemp("sample_run")
    config = root / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 2\n")
    from reviewpipe.settings import load_settings

    settings = load_settings(config)
    return settings, pipeline.run(settings)


def published(settings: Settings) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return {t: con.execute(f"select * exclude (run_id, loaded_at) from {t}" if t == "load_log"
                               else f"select * from {t}").fetchall() for t in PUBLISHED_TABLES}
    finally:
        con.close()


def test_cold_run_publishes_the_contract(sample_run) -> None:
    settings, summary = sample_run
    assert settings.uses_sample and (settings.samples_path / "titles.csv").exists()
    con = duckdb.connect(str(settings.published_path), read_only=True)
    for table, columns in CONTRACT.items():
        got = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        assert got[: len(columns)] == columns, table
    for table, columns in ANALYTICS.items():
        got = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        assert set(columns) <= set(got), (table, set(columns) - set(got))
    # the sample's ~3,000 reviews minus its deliberately bad rows are published, 10 titles
    assert summary.published["titles"] == 10
    # (the sample's exact_duplicate row has no review id: a record of its own, published, issue 22)
    n_bad = len(BAD_ROWS) - 1
    assert summary.published["reviews"] == 3000 - n_bad
    assert summary.ingest.staged["quarantine"] == n_bad
    # every published review with text has sentiment, but those whose text no analyzer reads: they
    # are labelled so (issue 24: the sample is English, but a short line may be too short to tell);
    # every agg_ table was exported with a header
    (unscored, unlabelled, english_unscored, texts), = con.execute(
        "select count(*) filter (where sentiment_compound is null), "
        "count(*) filter (where sentiment_compound is null and sentiment_label <> 'unscored'), "
        "count(*) filter (where sentiment_compound is null and review_language = 'en'), count(*) "
        "from reviews where review_text is not null").fetchall()
    assert unlabelled == english_unscored == 0 and unscored <= 0.005 * texts
    con.close()
    exported = sorted(p.name for p in summary.exports)
    assert exported == sorted(f"{t}.csv" for t in PUBLISHED_TABLES if t.startswith("agg_"))
    with (settings.exports_path / "agg_title_summary.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][: len(CONTRACT["agg_title_summary"])] == CONTRACT["agg_title_summary"] and len(rows) == 11


def test_a_rerun_with_no_new_data_does_nothing_and_a_rebuild_publishes_identical_tables(sample_run) -> None:
    settings, first = sample_run
    before = published(settings)
    stamp = settings.published_path.stat().st_mtime_ns
    again = pipeline.run(settings)
    assert again.ingest.report.count("loaded") == 0
    # nothing changed since the last successful run: nothing is restaged, scored or republished
    assert again.ingest.unchanged_since is not None and again.published == {}
    assert settings.published_path.stat().st_mtime_ns == stamp
    assert "nothing new since run" in runlog.unchanged_message(again)
    assert again.report.exists() and len(again.exports) == len(first.exports)
    # a changed setting that shapes the outputs is a change: the run goes through
    reshaped = settings.model_copy(update={"metrics": settings.metrics.model_copy(update={"top_helpful_per_title": 3})})
    assert pipeline.run(reshaped).ingest.unchanged_since is None
    # and a full rebuild from the same files publishes the same tables, row for row
    rebuilt = pipeline.run(settings, full_refresh=True)
    assert rebuilt.ingest.report.count("loaded") == len(rebuilt.ingest.report.files)
    assert rebuilt.texts_scored == 0  # sentiment is kept per text; nothing new to score
    assert published(settings) == before


def test_new_reviews_are_scored_alone_and_appear(sample_run, tmp_path: Path) -> None:
    settings, _ = sample_run
    extra = settings.samples_path / "reviews_2099.csv"
    extra.write_text(
        "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
        "tt9000001,newcomer,2024-05-01,10,3,4,Wow,An utterly wonderful surprise for everyone!\n"
    )
    try:
        summary = pipeline.run(settings)
        assert summary.ingest.report.count("loaded") == 1 and summary.texts_scored == 1
        con = duckdb.connect(str(settings.published_path), read_only=True)
        (label, ratio), = con.execute(
            "select sentiment_label, helpful_ratio from reviews where author = 'newcomer'").fetchall()
        con.close()
        assert (label, ratio) == ("positive", 0.75)
    finally:
        extra.unlink()
        pipeline.run(settings, full_refresh=True)


def test_a_failed_run_leaves_the_published_file_and_exports_untouched(sample_run, tmp_path: Path) -> None:
    settings, _ = sample_run
    digest = hashlib.sha256(settings.published_path.read_bytes()).hexdigest()
    exports = {p.name: p.read_bytes() for p in settings.exports_path.iterdir()}
    bad = settings.model_copy(update={"sources": [*settings.sources, settings.sources[1].model_copy(
        update={"name": "broken", "columns": {"title_id": "no_such_column"}})]})
    with pytest.raises(ReviewpipeError, match="no_such_column"):
        pipeline.run(bad)
    assert hashlib.sha256(settings.published_path.read_bytes()).hexdigest() == digest
    assert {p.name: p.read_bytes() for p in settings.exports_path.iterdir()} == exports


def test_a_reader_with_the_published_file_open_keeps_its_view_and_does_not_block(sample_run) -> None:
    settings, _ = sample_run
    reader = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        n_before = reader.execute("select count(*) from reviews").fetchall()
        pipeline.run(settings, full_refresh=True)  # publishes a new file while the reader is open
        # the open session still reads a whole, consistent database (the old file)
        assert reader.execute("select count(*) from reviews").fetchall() == n_before
    finally:
        reader.close()
    fresh = duckdb.connect(str(settings.published_path), read_only=True)
    assert fresh.execute("select count(*) from reviews").fetchall() == n_before
    fresh.close()


def test_the_run_log_records_each_run(sample_run) -> None:
    settings, summary = sample_run
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    status, reviews = con.execute(
        "select status, reviews_published from runs where run_id = ?", [summary.run_id]).fetchall()[0]
    con.close()
    assert (status, reviews) == ("succeeded", summary.published["reviews"])


def test_a_score_cached_before_sentences_or_languages_is_done_again(sample_run) -> None:
    settings, _ = sample_run
    with duckdb.connect(str(settings.warehouse_path)) as con:
        before = con.execute("select * from sentiment_scores order by text_hash limit 3").fetchall()
        assert all(row[-2] for row in before)  # (each has sentences)
        # the cache rows of an older reviewpipe: whole-text scores only, no language
        con.execute("update sentiment_scores set sentence_compound_mean = null, sentence_count = null, "
                    "positive_sentence_share = null, negative_sentence_share = null, "
                    "review_language = null, language_confidence = null, language_guess = null, "
                    "sentiment_language = null "
                    "where text_hash in (?, ?)", [before[0][0], before[1][0]])
        # and a row scored before each sentence's end and compound were kept
        con.execute("update sentiment_scores set sentence_ends = null, sentence_compounds = null "
                    "where text_hash = ?", [before[2][0]])
    assert stages.score_stage(settings).texts == 3
    assert stages.score_stage(settings).texts == 0
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select * from sentiment_scores order by text_hash limit 3").fetchall() == before


def test_the_score_stage_leaves_the_checkpoint_threshold_of_the_held_warehouse_as_it_was(sample_run) -> None:
    # the stage raises DuckDB's checkpoint_threshold (a setting of the whole database, which a run's
    # held connection shares) while it inserts its scores; the later stages see the default again
    from reviewpipe.warehouse import connect

    settings, _ = sample_run
    held = connect(settings.warehouse_path, wait=0, memory_limit=settings.memory_limit)  # as run_stages holds it
    try:
        before = held.execute("select current_setting('checkpoint_threshold')").fetchone()[0]
        [(text_hash, ends)] = held.execute(
            "select text_hash, sentence_ends from sentiment_scores order by text_hash limit 1").fetchall()
        held.execute("update sentiment_scores set sentence_ends = null where text_hash = ?", [text_hash])
        assert stages.score_stage(settings).texts == 1  # done again, inserted under the raised threshold
        assert held.execute("select current_setting('checkpoint_threshold')").fetchone()[0] == before
        assert held.execute("select sentence_ends from sentiment_scores where text_hash = ?",
                            [text_hash]).fetchone()[0] == ends
    finally:
        held.close()


def test_the_scoring_processes_start_once_ingest_has_loaded_more_than_a_batch(tmp_path) -> None:
    from reviewpipe import sentiment
    from reviewpipe.settings import load_settings

    config = tmp_path / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 2\n")
    settings = load_settings(config)
    with sentiment.PoolAhead(2, min_records=1000) as ahead:
        stages.ingest_stage(settings, "20260101T000000-aaaaaa", on_load=ahead.loaded)
        assert ahead.pool is not None  # started during ingest, before scoring
        assert ahead.records > 1000
        scored = stages.score_stage(settings, ahead=ahead)
    assert ahead.pool is None  # shut down with the block
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        texts = con.execute("select count(distinct text_hash) from stg_reviews").fetchone()[0]
    assert scored.texts == texts > 0
    # nothing new: no file loaded, no processes started
    with sentiment.PoolAhead(2) as again:
        stages.ingest_stage(settings, "20260101T000001-bbbbbb", on_load=again.loaded)
        assert again.pool is None
    # two new reviews: fewer records than min_records, so ingest starts no processes
    write(settings.samples_path / "reviews_2030.csv",
          "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
          "tt9000001,newcomer,2030-01-02,9,1,1,Late praise,A moving and beautiful film.\n"
          "tt9000002,newcomer,2030-01-03,2,0,0,Late boredom,Dull and far too long.\n")
    with sentiment.PoolAhead(2, min_records=1000) as few:
        stages.ingest_stage(settings, "20260101T000002-cccccc", on_load=few.loaded)
        assert few.pool is None and few.records == 2
        assert stages.score_stage(settings, ahead=few).texts == 2


# --- Which copy wins: a function of the current files, never of their times (issue 21, item 5) ---

_REVIEWS_HEAD = "review_id,title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
_TITLES_HEAD = "title_id,title,year,site_rating,site_votes\n"
# a name alphabet whose byte order differs from a case-blind or accent-blind one
_NAME = st.text(alphabet="abAZé0_-", min_size=1, max_size=4)


@st.composite
def _review_file(draw: st.DrawFn) -> str:
    """A reviews CSV of 1-4 rows whose ids overlap other files' (r0-r2), each copy with its own figures."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        total = draw(st.integers(0, 9))
        lines.append(
            f"r{draw(st.integers(0, 2))},t{draw(st.integers(0, 2))},ann,2020-01-0{draw(st.integers(1, 9))},"
            f"{draw(st.sampled_from(['', '1', '5', '10']))},{draw(st.integers(0, total))},{total},"
            f"T,{draw(st.sampled_from(['Good.', 'Awful film.', 'Fine, I suppose.', 'A joy!']))}\n")
    return _REVIEWS_HEAD + "".join(lines)


@st.composite
def _title_file(draw: st.DrawFn) -> str:
    """A titles CSV of 1-3 rows for the titles t0-t2, with gaps other rows may fill."""
    lines = [
        f"t{draw(st.integers(0, 2))},{draw(st.sampled_from(['', 'Alpha', 'Beta']))},"
        f"{draw(st.sampled_from(['', '1999', '2001']))},{draw(st.sampled_from(['', '6.5', '8']))},"
        f"{draw(st.sampled_from(['', '10', '250']))}\n"
        for _ in range(draw(st.integers(1, 3)))
    ]
    return _TITLES_HEAD + "".join(lines)


_CONTENT = {"a": _review_file(), "b": _review_file(), "t": _title_file()}


# each example runs the pipeline up to 7 times: no shrinking (minutes), the failing example is shown whole
@pytest.mark.slow
@hypothesis.settings(max_examples=4, deadline=None,
                     phases=[hypothesis.Phase.explicit, hypothesis.Phase.reuse, hypothesis.Phase.generate],
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(data=st.data())
def test_an_incremental_run_publishes_what_a_whole_build_over_the_same_files_does(
    make_settings, data: st.DataObject
) -> None:
    """Files holding copies of the same reviews and titles, in two review sources and a title source,
    are touched to random times, rewritten with the same or other bytes, added and removed, or the
    sources reordered in the config, with an incremental run after each step; the published tables always equal a fresh warehouse's built
    from the files the warehouse holds (a removed file keeps its rows, README "Decisions", so the
    fresh build reads it as last loaded)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = {name: root / "landing" / name for name in _CONTENT}
        settings = make_settings(
            {"name": "a", "path": str(landing["a"] / "*.csv")},
            {"name": "b", "path": str(landing["b"] / "*.csv")},
            {"name": "t", "kind": "titles", "path": str(landing["t"] / "*.csv")},
            # the drawn rows may be mostly copies or bad, a file's every line rejected (an unquoted
            # comma in its one row): this test compares builds, not [quality]
            quality={"max_quarantined_share": 1, "max_unreadable_share": 1},
        )
        settings = _rooted(settings, root / "incremental")
        # 40 reviews no step changes: a step then changes few enough for a publish in place (delta)
        write(landing["a"] / "bulk.csv", _REVIEWS_HEAD + "".join(
            f"bulk{i},t{i % 3},cy,2021-02-03,{i % 10 + 1},0,1,B,Solid.\n" for i in range(40)))
        loaded: dict[Path, bytes] = {}  # what the warehouse holds of each file, removed ones too

        def put(path: Path, text: str) -> None:
            write(path, text)
            when = data.draw(st.integers(1_000_000_000, 2_000_000_000), label="mtime")
            os.utime(path, (when, when))

        for source in _CONTENT:
            for name in data.draw(st.sets(_NAME, min_size=1, max_size=2), label=f"files of {source}"):
                put(landing[source] / f"{name}.csv", data.draw(_CONTENT[source]))
        pipeline.run(settings)  # a whole build itself
        loaded.update({p: p.read_bytes() for p in root.glob("landing/*/*.csv")})
        for step in range(data.draw(st.integers(1, 3), label="steps")):
            if data.draw(st.integers(0, 3), label="step") == 0:  # the sources reordered in the config
                settings = settings.model_copy(update={"sources": data.draw(st.permutations(settings.sources))})
            else:
                _change_files(data, landing, put)
            pipeline.run(settings)
            loaded.update({p: p.read_bytes() for p in root.glob("landing/*/*.csv")})
            assert published_rows(settings.published_path) == _whole_build(settings, root, loaded), step


def _change_files(data: st.DataObject, landing: dict[str, Path], put: Callable[[Path, str], None]) -> None:
    """One random step on the files: touch, rewrite with the same bytes or others, add or remove."""
    source = data.draw(st.sampled_from(sorted(landing)), label="source")
    files = sorted(p for p in landing[source].glob("*.csv") if p.name != "bulk.csv")
    path = data.draw(st.sampled_from(files), label="file")
    action = data.draw(st.sampled_from(["touch", "same bytes", "other bytes", "add", "remove"]))
    if action == "touch":
        when = data.draw(st.integers(1_000_000_000, 2_000_000_000), label="mtime")
        os.utime(path, (when, when))
    elif action == "same bytes":
        put(path, path.read_text(encoding="utf-8"))
    elif action == "other bytes":
        put(path, data.draw(_CONTENT[source]))
    elif action == "add":
        put(landing[source] / f"{data.draw(_NAME, label='new name')}.csv", data.draw(_CONTENT[source]))
    elif len(files) > 1:  # a source's glob must match a file
        path.unlink()


def _rooted(settings: Settings, root: Path) -> Settings:
    """The settings with warehouse, published file and exports under root."""
    return settings.model_copy(update={"paths": settings.paths.model_copy(update={
        "warehouse": root / "warehouse.duckdb", "published": root / "reports.duckdb",
        "exports": root / "exports"})})


def _whole_build(settings: Settings, root: Path, loaded: dict[Path, bytes]) -> dict[str, list[tuple]]:
    """The published rows of a fresh warehouse built from the files as `loaded` holds them; removed
    files are put back for the build and taken away again."""
    gone = [p for p in loaded if not p.exists()]
    for path in gone:
        path.write_bytes(loaded[path])
    try:
        with tempfile.TemporaryDirectory(dir=root) as fresh:
            whole = _rooted(settings, Path(fresh))
            pipeline.run(whole)
            return published_rows(whole.published_path)
    finally:
        for path in gone:
            path.unlink()


# --- outputs a run checks, rolls back and never half-publishes (issue 21, items 4, 6, 8 and 10) ---

REVIEWS = "review_id,title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"


def reviews_file(path: Path, first: int, n: int, text: str = "was") -> Path:
    """n reviews r<first>.. of four titles, with ratings, votes and texts that vary."""
    return write(path, REVIEWS + "".join(
        f"r{i},tt{i % 4},critic{i},2021-{1 + i % 12:02d}-05,{1 + i % 10},{i % 5},{i % 5 + i % 3},Title {i},"
        f"\"Review {i} {text} {'a wonderful, moving film' if i % 3 else 'dull'}.\"\n"
        for i in range(first, first + n)))


@pytest.fixture
def small(tmp_path: Path, make_settings) -> Settings:
    """A pipeline over one folder of 40 reviews, run once (its outputs live)."""
    reviews_file(tmp_path / "landing" / "a.csv", 0, 40)
    settings = make_settings({"name": "rev", "path": str(tmp_path / "landing" / "*.csv")})
    pipeline.run(settings)
    return settings


def outputs(settings: Settings) -> dict[str, bytes]:
    """Every output's bytes by file name: the published database, each export, the report."""
    return {p.name: p.read_bytes() for p in state.output_paths(settings)}


def exports_and_rows(settings: Settings) -> tuple[dict[str, bytes], dict[str, list[tuple]]]:
    """What two runs over the same files must agree on: the exports' bytes and the published rows
    (the report names its run and the database holds when files loaded, so those differ)."""
    files = outputs(settings)
    files.pop(settings.published_path.name), files.pop("report.html")
    return files, published(settings)


def leftovers(settings: Settings) -> list[str]:
    """Files a run keeps only while it runs: temporary files, old outputs' backups, journals."""
    folders = {settings.published_path.parent, settings.exports_path}
    return sorted(p.name for folder in folders for p in folder.iterdir()
                  if p.name.startswith(".") and p.name.endswith((".tmp", ".bak", ".golive", ".wal", ".part")))


def run_statuses(settings: Settings) -> list[str]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return [s for (s,) in con.execute("select status from runs order by started_at").fetchall()]


def edit(path: Path, how: str) -> None:
    """Change an output file the way a person or a program might."""
    if how == "append a line":
        with path.open("ab") as f:
            f.write(b"tt0,999999\n")
    elif how == "same size, times set back":  # only the change time shows it
        st, data = path.stat(), bytearray(path.read_bytes())
        # a digit, or in a file without one (an export of no rows: its header) a letter
        at = max(i for i in range(len(data)) if chr(data[i]).isalnum())
        data[at] = (ord("7") if data[at] != ord("7") else ord("8")) if chr(data[at]).isdigit() else (
            ord(chr(data[at]).swapcase()) if chr(data[at]).isalpha() and chr(data[at]).swapcase() != chr(data[at])
            else ord("x"))
        path.write_bytes(bytes(data))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif how == "delete":
        path.unlink()
    elif how == "sql update":  # an analyst's session on the published file, closed (checkpointed)
        with duckdb.connect(str(path)) as con:
            con.execute("update agg_title_summary set review_count = 999999 where title_id = 'tt1'")
    else:
        raise AssertionError(how)


def test_every_output_edited_in_any_way_is_not_current_and_the_same_bytes_are(small) -> None:
    """Each output edited in turn, in each way (one keeps size and modification time, one writes
    through DuckDB): not current. Its bytes copied back (a new inode and times): current again,
    found by hash, and its new stat stored so the next check need not hash it."""
    settings = small
    kinds = ("append a line", "same size, times set back", "delete")
    cases = [(path, how) for path in state.output_paths(settings) for how in kinds]
    cases.append((settings.published_path, "sql update"))
    with runlog.warehouse(settings) as con:
        for path, how in cases:
            kept = path.read_bytes()
            edit(path, how)
            assert not state.outputs_current(con, settings), (path.name, how)
            path.with_name("copy").write_bytes(kept)
            os.replace(path.with_name("copy"), path)
            assert state.outputs_current(con, settings), (path.name, how)
            stats = dict(con.execute("select path, stat from output_signatures").fetchall())
            assert stats[str(path)] == publish.file_signature(path)


def test_a_run_with_nothing_new_rebuilds_an_output_that_is_not_what_the_last_run_put_live(small) -> None:
    """The analyst's update of the published file, then an export edited with its times set back:
    each next run, with no new input, rebuilds and publishes what was published before; the run
    after that finds nothing new and rewrites nothing."""
    settings = small
    before = exports_and_rows(settings)
    for path, how in ((settings.published_path, "sql update"),
                      (settings.exports_path / "agg_title_summary.csv", "same size, times set back")):
        edit(path, how)
        summary = pipeline.run(settings)
        assert summary.ingest.unchanged_since is None and summary.published, (path.name, how)
        assert exports_and_rows(settings) == before, (path.name, how)
    live = outputs(settings)
    assert pipeline.run(settings).ingest.unchanged_since is not None
    assert outputs(settings) == live and leftovers(settings) == []


def built_run(settings: Settings) -> tuple[pipeline.RunSummary, list[tuple[Path, Path]]]:
    """A run with every stage done but going live: its summary and its exports' and report's moves."""
    run_id = runlog.new_run_id()
    runlog.record_run_start(settings, run_id)
    summary = pipeline.RunSummary(run_id, ingest=stages.ingest_stage(settings, run_id))
    stages.score_stage(settings)
    summary.published = stages.publish_stage(settings, stages.metrics_stage(settings) | stages.trust_stage(settings) | stages.terms_stage(settings), run_id).counts
    return summary, stages.export_stage(settings, run_id) + stages.report_stage(settings, run_id)


def test_an_output_path_blocked_fails_the_run_before_anything_goes_live(small) -> None:
    """A directory where each output goes, in turn: going live fails with a message naming it and
    what to do, before anything changed; once the directory is gone, it goes live. A whole run
    blocked so (the issue's example: one export) is logged failed and leaves nothing behind."""
    settings = small
    reviews_file(settings.samples_path.parent / "landing" / "b.csv", 100, 10)
    live = outputs(settings)
    summary, files = built_run(settings)
    for path in state.output_paths(settings):
        path.rename(path.with_name("kept"))
        (path / "someone's").mkdir(parents=True)
        with pytest.raises(ReviewpipeError, match=f"{re.escape(str(path))} is a directory.*move or remove"):
            stages.go_live_stage(settings, summary.run_id, files)
        shutil.rmtree(path)
        path.with_name("kept").rename(path)
        assert outputs(settings) == live, path.name
    *summary.exports, summary.report = stages.go_live_stage(settings, summary.run_id, files)
    runlog.record_run_end(settings, summary)
    assert published(settings)["reviews"] != []  # the new outputs
    assert len(published(settings)["reviews"]) == 50 and leftovers(settings) == []

    reviews_file(settings.samples_path.parent / "landing" / "c.csv", 200, 10)
    live = outputs(settings)
    blocked = settings.exports_path / "agg_monthly_trends.csv"
    blocked.unlink()
    blocked.mkdir()
    with pytest.raises(ReviewpipeError, match=re.escape(str(blocked))):
        pipeline.run(settings)
    blocked.rmdir()
    assert {n: b for n, b in outputs_or_missing(settings).items() if b is not None} == {
        n: b for n, b in live.items() if n != blocked.name}
    assert leftovers(settings) == [] and run_statuses(settings)[-1] == "failed"


def outputs_or_missing(settings: Settings) -> dict[str, bytes | None]:
    return {p.name: p.read_bytes() if p.is_file() else None for p in state.output_paths(settings)}


def test_a_failure_in_the_middle_of_going_live_or_logging_it_puts_every_old_output_back(
        small, monkeypatch) -> None:
    """A rename that fails after others succeeded (onto each output in turn), or a run log that
    cannot be written once everything is live: every output is the old one again."""
    settings = small
    reviews_file(settings.samples_path.parent / "landing" / "b.csv", 100, 10)
    live = outputs(settings)
    summary, files = built_run(settings)
    real_replace = os.replace
    for victim in state.output_paths(settings):
        def replace(src, dst, victim=victim):
            if Path(dst) == victim:
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(ReviewpipeError, match=f"could not put {re.escape(str(victim))} in place"):
            stages.go_live_stage(settings, summary.run_id, files)
        monkeypatch.setattr(os, "replace", real_replace)
        assert outputs(settings) == live, victim.name
        assert all(tmp.exists() for tmp, _ in files), victim.name  # not gone live: still to go

    def unloggable(journal):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(publish, "journal_digests", unloggable)
    with pytest.raises(OSError):
        pipeline.run(settings)
    monkeypatch.undo()
    assert outputs(settings) == live and leftovers(settings) == []
    assert pipeline.run(settings).published["reviews"] == 50 and leftovers(settings) == []
    assert run_statuses(settings)[-3:] == ["interrupted", "interrupted", "succeeded"]


def test_a_run_killed_while_going_live_is_rolled_back_by_the_next(tmp_path: Path, small) -> None:
    """Killed with the new database live and the exports not yet, then the changed input restored
    to its old bytes: the next run puts the old outputs back, so it rightly finds nothing new and
    the database, exports and report are all the last good run's, byte for byte."""
    settings = small
    live = outputs(settings)
    source = settings.samples_path.parent / "landing" / "a.csv"
    old_bytes = source.read_bytes()
    reviews_file(source, 0, 40, text="now seems")
    config = write(tmp_path / "killed.toml",
                   f'[paths]\nwarehouse = "{settings.warehouse_path}"\npublished = "{settings.published_path}"\n'
                   f'exports = "{settings.exports_path}"\nsamples = "{settings.samples_path}"\n'
                   f'[sentiment]\nworkers = 1\n[[sources]]\nname = "rev"\npath = "{tmp_path}/landing/*.csv"\n')
    # the same configuration from now on, as a file (a warehouse takes runs of one configuration)
    with open_warehouse(settings.warehouse_path) as con:
        claim_warehouse(con, settings.warehouse_path, configuration_name(config), take_over=True)
    settings = settings.model_copy(update={"config_file": config})
    run = subprocess.Popen([str(Path(sys.executable).parent / "reviewpipe"), "run", "--no-prefect",
                            "--config", str(config)],
                           env={**os.environ, "REVIEWPIPE_PAUSE_AT": "go-live"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert run.stderr.readline().strip() == "reviewpipe: paused at go-live"
    finally:
        run.kill()
        run.wait(timeout=30)
    assert outputs(settings)[settings.published_path.name] != live[settings.published_path.name]
    source.write_bytes(old_bytes)
    summary = pipeline.run(settings)
    assert summary.ingest.unchanged_since is not None
    assert outputs(settings) == live and leftovers(settings) == []
    assert run_statuses(settings)[-2:] == ["interrupted", "succeeded"]


def wal(database: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return database.with_name(database.name + ".wal")


def leave_a_wal(database: Path, how: str) -> None:
    """A real DuckDB session writes to the published file and leaves its write-ahead log beside it."""
    update = "update agg_title_summary set review_count = 999999 where title_id = 'tt1'"
    if how == "killed":
        session = subprocess.Popen([sys.executable, "-c",
                                    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                                    f"c.execute({update!r}); print('written', flush=True); time.sleep(60)",
                                    str(database)], stdout=subprocess.PIPE, text=True)
        try:
            assert session.stdout.readline().strip() == "written"
        finally:
            session.kill()
            session.wait(timeout=30)
    else:  # closed without a checkpoint, as a session configured so (or crashing in it) does
        with duckdb.connect(str(database)) as con:
            con.execute("pragma disable_checkpoint_on_shutdown")
            con.execute(update)
    assert wal(database).exists()


@pytest.mark.parametrize("new_reviews", [0, 10])
@pytest.mark.parametrize("how", ["killed", "closed without a checkpoint"])
def test_a_write_ahead_log_left_beside_the_published_file_never_pairs_with_a_new_one(
        small, how: str, new_reviews: int) -> None:
    """With a stale WAL beside the published file, a run with nothing new rebuilds (the WAL is a
    write), and a run with new reviews publishes a file every reader can open; either way the file
    holds exactly what the inputs say, and no WAL lies beside it."""
    settings = small
    leave_a_wal(settings.published_path, how)
    if new_reviews:
        reviews_file(settings.samples_path.parent / "landing" / "b.csv", 100, new_reviews)
    summary = pipeline.run(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        # 40 reviews over 4 titles, 10 each (the session's 999999 is gone); the new ones add 2-3 to each
        assert con.execute("select count(*), max(review_count) from agg_title_summary").fetchall() == [
            (4, 10 + (3 if new_reviews else 0))]
    assert summary.ingest.unchanged_since is None and summary.published["reviews"] == 40 + new_reviews
    assert not wal(settings.published_path).exists()
    assert pipeline.run(settings).ingest.unchanged_since is not None and leftovers(settings) == []


def test_a_run_removes_only_temporary_files_of_its_own_warehouse_runs(tmp_path: Path, make_settings) -> None:
    """Two pipelines, each with its own warehouse, publish into one folder. A run of one removes
    what its own killed runs left (the database, export and report under temporary names), never
    the temporary files of the other pipeline's run in progress, which then goes live."""
    reviews_file(tmp_path / "landing" / "a.csv", 0, 40)
    base = make_settings({"name": "rev", "path": str(tmp_path / "landing" / "*.csv")})

    def pipeline_named(name: str) -> Settings:
        return base.model_copy(update={"paths": base.paths.model_copy(update={
            "warehouse": tmp_path / name / "warehouse.duckdb", "published": tmp_path / "shared" / f"{name}.duckdb",
            "exports": tmp_path / "shared" / f"{name}_exports"})})

    one, other = pipeline_named("one"), pipeline_named("other")
    # one's run that was killed: logged as running, its files under temporary names
    killed = "20260101T000000-aaaaaa"
    runlog.record_run_start(one, killed)
    one.exports_path.mkdir(parents=True)
    theirs = [runlog.new_database_path(one, killed), one.exports_path / f".agg_helpfulness.csv.{killed}.tmp",
              one.exports_path / f".report.html.{killed}.tmp"]
    for path in theirs:
        path.write_bytes(b"half")
    # the other pipeline's run, with its database, exports and report built, not yet live
    run_id = runlog.new_run_id()
    runlog.record_run_start(other, run_id)
    summary = pipeline.RunSummary(run_id, ingest=stages.ingest_stage(other, run_id))
    stages.score_stage(other)
    summary.published = stages.publish_stage(other, stages.metrics_stage(other) | stages.trust_stage(other) | stages.terms_stage(other), run_id).counts
    files = stages.export_stage(other, run_id) + stages.report_stage(other, run_id)
    pending = [runlog.new_database_path(other, run_id), *(tmp for tmp, _ in files)]

    assert pipeline.run(one).published["reviews"] == 40
    assert not any(path.exists() for path in theirs)
    assert all(path.exists() for path in pending)
    *summary.exports, summary.report = stages.go_live_stage(other, run_id, files)
    runlog.record_run_end(other, summary)
    assert run_statuses(other) == ["succeeded"] and run_statuses(one) == ["interrupted", "succeeded"]
    assert published(other) == published(one)
    assert leftovers(one) == [] and leftovers(other) == []


# Issue 21, item 7: every staged column of reviews and titles fed the extreme values DuckDB accepts.
MAX_COUNT = 2**31 - 1  # the largest count staging keeps (sql/schema/macros.sql, max_count)
QUARANTINED = "quarantined"
EXTREMES = [
    "", "   ", "infinity", "-infinity", "inf", "-inf", "NaN", "-0044-03-15", "0044-03-15 (BC)", "10000-01-01",
    "294247-01-10", "0", "-1", "1e308", "2147483647", "2147483648", "4611686018427387904",
    "-9223372036854775809", "9" * 40, "99999999999999999999K", "x" * 100_000, "word " * 3_000,
    "\x01\x02\x1b\x7f", "a\nb", "Zoë ☃ 𝔘",
]
REVIEW_VALUES = {
    "review_id": [f"id{k}" for k in range(500)], "title_id": ["tt1", "tt2", "tt3"], "author": ["ann", "Zoë"],
    "review_date": ["2002-09-03", "3 September 2002", "0001-01-01", "9999-12-31", "2015-08-31 10:11:12"],
    "rating": ["8", "10", "1", "4/5", "45/100", "7.5"], "review_title": ["Fine", "Meh"],
    "review_text": ["Good film.", "Dull and far too long."],
    "helpful_votes": ["0", "1", "2"], "total_votes": ["2", "3", "2.9K", "2147483647"],
}
TITLE_VALUES = {
    "title_id": ["tt1", "tt2", "tt3", "tt4"], "title": ["Zerkalo", "Stalker"],
    "year": ["1975", "1975-03-07", "(1979)"], "site_rating": ["8.1", "7/10", "4/5"],
    "site_votes": ["34,370", "2.9K", "57"], "user_review_count": ["119", "1.2M"], "critic_review_count": ["70"],
    "genres": ["Drama | War", "[Action, Drama]"], "directors": ["A. T."], "writers": ["A. M."],
    "stars": ["M. T."], "country": ["Soviet Union"], "language": ["Russian"], "runtime_minutes": ["108 min", "95"],
    "popularity": ["3,939", "1"], "related_to_title_id": ["", "tt1"],
}
DATES = {"2002-09-03": date(2002, 9, 3), "3 September 2002": date(2002, 9, 3), "0001-01-01": date(1, 1, 1),
         "9999-12-31": date(9999, 12, 31), "2015-08-31 10:11:12": date(2015, 8, 31)}
YEARS = {"1975": 1975, "1975-03-07": 1975, "(1979)": 1979}


def _blank(raw: str) -> bool:
    return raw.strip(" ") == ""


def expected_count(raw: str) -> int | str | None:
    """What staging makes of a count: the number, null when blank, or QUARANTINED."""
    text = raw.strip(" ")
    if _blank(raw):
        return None
    if m := re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([kKmM])", text):
        n = round(float(m[1]) * (1000 if m[2] in "kK" else 1_000_000))
    elif re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})+|-?[0-9]+(\.0+)?", text):
        n = int(text.replace(",", "").split(".")[0])
    else:
        return QUARANTINED
    return n if 0 <= n <= MAX_COUNT else QUARANTINED


def expected_rating(raw: str, scale: int, low: int) -> float | str | None:
    """A rating (x, or x/y rescaled from 5, 10, 100 or the scale) within low..scale, null or QUARANTINED."""
    if _blank(raw):
        return None
    m = re.fullmatch(r"(-?[0-9]+(?:\.[0-9]+)?)\s*(?:/\s*([0-9]+(?:\.[0-9]+)?))?", raw.strip(" "))
    if not m:
        return QUARANTINED
    x, y = float(m[1]), float(m[2]) if m[2] else None
    rating = x if y in (None, scale) else x * scale / y if y in (5, 10, 100) else None
    return rating if rating is not None and low <= rating <= scale else QUARANTINED


def expected_runtime(raw: str) -> int | str | None:
    m = re.fullmatch(r"\s*([0-9][0-9,]*)\s*(?:min)?\s*", raw)
    return None if _blank(raw) else expected_count(m[1]) if m else QUARANTINED


TYPED = {
    "reviews": {
        "review_date": lambda raw: None if _blank(raw) else DATES.get(raw.strip(" "), QUARANTINED),
        "rating": lambda raw: expected_rating(raw, 10, 1),
        "helpful_votes": expected_count, "total_votes": expected_count,
    },
    "titles": {
        "year": lambda raw: None if _blank(raw) else YEARS.get(raw.strip(" "), QUARANTINED),
        "site_rating": lambda raw: expected_rating(raw, 10, 0),
        "site_votes": expected_count, "user_review_count": expected_count, "critic_review_count": expected_count,
        "runtime_minutes": expected_runtime, "popularity": expected_count,
    },
}
LISTS = {"genres", "directors", "writers", "stars", "country", "language"}
TEXTS = {"review_text"}


def _rows(values: dict[str, list[str]]) -> st.SearchStrategy[list[dict[str, str]]]:
    cell = {c: st.one_of(st.sampled_from(v), st.sampled_from(EXTREMES)) for c, v in values.items()}
    return st.lists(st.fixed_dictionaries(cell), min_size=20, max_size=40)


def _csv(path: Path, records: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(records[0]))
        out.writeheader()
        out.writerows(records)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(reviews=_rows(REVIEW_VALUES), titles=_rows(TITLE_VALUES))
def test_extreme_values_in_every_staged_column_are_published_exactly_or_quarantined(
    reviews: list[dict[str, str]], titles: list[dict[str, str]]
) -> None:
    """The whole run completes whatever value a cell holds (infinity and BC dates, 5-digit years, counts
    past 2^63, NaN, long and control-character texts), and each input row is either published with
    exactly its value or quarantined naming a column it cannot hold; sums of votes are exact."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        _csv(root / "in" / "reviews.csv", reviews)
        _csv(root / "in" / "titles.csv", titles)
        settings_ = Settings(
            paths={"warehouse": root / "w.duckdb", "published": root / "reports.duckdb",
                   "exports": root / "exports", "samples": root / "samples"},
            sources=[{"name": "rev", "path": str(root / "in" / "reviews.csv")},
                     {"name": "meta", "kind": "titles", "path": str(root / "in" / "titles.csv")}],
            # most rows hold a value no column can take, by design: no [quality] limit
            sentiment={"workers": 1}, quality={"max_quarantined_share": 1})
        pipeline.run(settings_)
        with duckdb.connect(str(settings_.warehouse_path), read_only=True) as con:
            staged = {
                "reviews": dict(con.execute("select row_number, review_id from stg_reviews").fetchall()),
                "titles": dict(con.execute("select row_number, title_id from stg_titles").fetchall())}
        cleaned = connect()  # an in-memory DuckDB with the staging macros
        with duckdb.connect(str(settings_.published_path), read_only=True) as con:
            problems: dict[tuple[str, int], set[str]] = {}
            for kind, row, column, reason in con.execute(
                    "select kind, row_number, column_name, reason from quarantine").fetchall():
                assert row is not None and reason, (kind, row, column)  # no reader rejects, every reason given
                problems.setdefault((kind, row), set()).add(column)
            published = {kind: {r[0]: dict(zip([d[0] for d in con.description], r, strict=True))
                                for r in con.execute(f"select * from {kind}").fetchall()}
                         for kind in ("reviews", "titles")}
            summary = con.execute("select title_id, helpful_votes, total_votes, helpful_only_votes "
                                  "from agg_title_summary").fetchall()
        key = {"reviews": "review_id", "titles": "title_id"}
        for kind, records in (("reviews", reviews), ("titles", titles)):
            staged_keys = list(staged[kind].values())
            for row, record in enumerate(records, 1):
                bad = {c for c, expect in TYPED[kind].items() if expect(record[c]) == QUARANTINED}
                if kind == "titles" and record["title_id"].strip() in ("", "   "):
                    bad.add("title_id")
                # each row is in exactly one place: staged, or quarantined naming a column it cannot hold
                assert (row in staged[kind]) != ((kind, row) in problems), (kind, row, record)
                assert not bad or bad & problems[(kind, row)], (kind, row, bad, problems.get((kind, row)))
                if row not in staged[kind] or staged_keys.count(staged[kind][row]) > 1:
                    continue  # titles staged twice are merged (the later row wins); see test_ingest
                got = published[kind][staged[kind][row]]
                for column, expect in TYPED[kind].items():
                    assert got[column] == expect(record[column]), (kind, row, column, record[column])
                for column in set(got) & (set(record) - set(TYPED[kind]) - {key[kind]}):
                    # keys keep their inside (clean_key); other one-line values collapse spaces
                    macro = ("clean_list" if column in LISTS else "clean_text" if column in TEXTS
                             else "clean_key" if column in ("title_id", "related_to_title_id") else "clean_line")
                    assert got[column] == cleaned.execute(f"select {macro}(?)", [record[column]]).fetchone()[0]
        cleaned.close()
        # per title, the published sums are the exact sums of the published reviews' votes, over the
        # reviews with both counts (null when none has both; helpful votes alone are summed apart)
        for title_id, helpful, total, helpful_only in summary:
            mine = [r for r in published["reviews"].values() if r["title_id"] == title_id]
            both = [r for r in mine if r["helpful_votes"] is not None and r["total_votes"] is not None]
            only = [r for r in mine if r["helpful_votes"] is not None and r["total_votes"] is None]
            assert helpful == (sum(r["helpful_votes"] for r in both) if both else None)
            assert total == (sum(r["total_votes"] for r in both) if both else None)
            assert helpful_only == (sum(r["helpful_votes"] for r in only) if only else None)


@pytest.mark.parametrize("table", ["agg_title_summary", "agg_monthly_trends", "agg_helpfulness"])
def test_a_wrapped_vote_sum_fails_the_data_checks(sample_run, tmp_path: Path, table: str) -> None:
    """The sum two reviews of 4611686018427387904 votes wrapped to (staging now quarantines such
    counts) is caught by sql/checks/agg_vote_sums_bounds.sql, in each table that publishes vote sums."""
    from reviewpipe.publish import CheckFailed, run_checks

    settings, _ = sample_run
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(settings.published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        run_checks(con)  # the run's own tables pass
        con.execute(f"update {table} set helpful_votes = -9223372036854775807 "
                    f"where title_id = (select min(title_id) from {table} where total_votes > 0)")
        with pytest.raises(CheckFailed, match="agg_vote_sums_bounds"):
            run_checks(con)


# Issue 22, item 1: a real export whose votes have a helpful side only (Yelp's useful).
YELP_REVIEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yelp_open_dataset" / "review_sample.json"


@pytest.mark.skipif(not YELP_REVIEWS.exists(), reason="needs ../shared/data/yelp_open_dataset (see tests/conftest.py)")
def test_yelp_helpful_only_votes_publish_every_row_and_rank_by_helpful_votes(tmp_path: Path, make_settings) -> None:
    """The first 300 Yelp reviews, whose `useful` counts have no total (0 included), all publish: no
    ratio or bound, the helpful votes per title equal to a plain DuckDB sum over the file, and the most
    helpful reviews of each business ranked by helpful votes, then review_id, those with 0 left out."""
    head = tmp_path / "yelp" / "reviews.jsonl"
    head.parent.mkdir()
    head.write_bytes(b"".join(YELP_REVIEWS.read_bytes().splitlines(keepends=True)[:300]))
    settings = make_settings({
        "name": "yelp", "path": str(head), "format": "jsonl", "rating_scale": 5,
        "columns": {"title_id": "business_id", "helpful_votes": "useful", "rating": "stars",
                    "review_id": "review_id", "review_date": "date", "review_text": "text"}})
    pipeline.run(settings)
    n = settings.metrics.top_helpful_per_title
    with duckdb.connect() as plain:
        plain.execute(f"create view yelp as select * from read_json({sql_literal(head)}, "
                      "format = 'newline_delimited')")
        per_title = plain.execute("select business_id, count(*), sum(useful) from yelp group by all order by 1").fetchall()
        top = plain.execute(
            "select business_id, rank, review_id, useful from (select *, row_number() over "
            "(partition by business_id order by useful desc, review_id) as rank from yelp where useful > 0) "
            "where rank <= ? order by business_id, rank", [n]).fetchall()
    assert sum(count for _, count, _ in per_title) == 300 and len(top) > 10  # 49 of the 300 found helpful
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        assert con.execute("select count(*) from quarantine").fetchall() == [(0,)]
        # every review, its helpful votes as given, no total and so no ratio or bound (never "12 of 12")
        assert con.execute(
            "select count(*), sum(helpful_votes), count(total_votes), count(helpful_ratio), "
            "count(helpful_wilson_lb) from reviews").fetchall() == [(300, sum(s for *_, s in per_title), 0, 0, 0)]
        # per title: helpful-only votes summed apart, the pair a share is taken of unknown
        assert con.execute(
            "select title_id, review_count, helpful_only_votes from agg_title_summary "
            "where helpful_votes is null and total_votes is null order by 1").fetchall() == per_title
        assert con.execute(
            "select title_id, review_count, helpful_only_votes from agg_helpfulness "
            "where helpful_only_reviews = review_count and reviews_with_total = 0 and voted_share is null "
            "and helpful_share is null order by 1").fetchall() == per_title
        assert con.execute(
            "select title_id, rank, review_id, helpful_votes from agg_top_helpful_reviews "
            "where ranked_by = 'helpful_votes' and total_votes is null and helpful_ratio is null "
            "and helpful_wilson_lb is null order by all").fetchall() == top
        assert con.execute("select count(*) from agg_top_helpful_reviews").fetchall() == [(len(top),)]
    finally:
        con.close()


FIRST_VOTED = "(select min(title_id) from agg_top_helpful_reviews)"


@pytest.mark.parametrize(("check", "corruption"), [
    # a ratio where the total is unknown: helpful votes alone are not "12 of 12"
    ("reviews_helpfulness_bounds", "update reviews set total_votes = null where review_id = (select min(review_id) "
     "from reviews where total_votes > 0 and review_id not in (select review_id from agg_top_helpful_reviews))"),
    # a review with a known total in the ranking by helpful votes alone: the rankings mixed
    ("agg_top_helpful_reviews_key", f"update agg_top_helpful_reviews set ranked_by = 'helpful_votes' "
     f"where title_id = {FIRST_VOTED}"),
    # two rank 2 in one ranking
    ("agg_top_helpful_reviews_key", f"update agg_top_helpful_reviews set rank = 2 where rank = 1 and title_id = {FIRST_VOTED}"),
    # a total without its helpful side: the pair is over the same reviews or both null
    ("agg_vote_sums_bounds", "update agg_helpfulness set helpful_votes = null "
     "where title_id = (select min(title_id) from agg_helpfulness where total_votes > 0)"),
    ("agg_vote_sums_bounds", "update agg_monthly_trends set helpful_only_votes = -1 "
     "where title_id = (select min(title_id) from agg_monthly_trends)"),
])
def test_the_data_checks_know_helpful_only_votes(sample_run, tmp_path: Path, check: str, corruption: str) -> None:
    """The published tables' vote shapes (issue 22, item 1) are held by sql/checks: no ratio without a total,
    two rankings never mixed with gapless ranks, vote sums over the same reviews."""
    from reviewpipe.publish import CheckFailed, run_checks

    settings, _ = sample_run
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(settings.published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        run_checks(con)
        con.execute(corruption)
        with pytest.raises(CheckFailed, match=check):
            run_checks(con)


# --- ratings on any scale (issue 22, item 2) --------------------------------------------------------

STEAM = SHARED_DATA / "steam_reviews" / "steam_reviews.csv"
# every column of the export, so that two records are one review only when they are the same record
STEAM_COLUMNS = ("date_posted", "funny", "helpful", "hour_played", "is_early_access_review",
                 "recommendation", "review", "title")


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of k of n, from its textbook form."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.mark.skipif(not STEAM.exists(), reason=f"the real Steam export is not at {STEAM}")
def test_thumbs_reviews_of_the_real_steam_export_publish_the_share_recommended(
    tmp_path: Path, make_settings
) -> None:
    """Steam's "Recommended" / "Not Recommended" on the thumbs scale: per game, the share recommended
    and its Wilson interval equal a plain count over the file's distinct records, the histogram has
    the two points, and every data check passes (it failed with agg_title_summary_bounds before)."""
    every_column = " || chr(31) || ".join(f'coalesce("{c}", \'\')' for c in STEAM_COLUMNS)
    settings = make_settings({
        "name": "steam", "path": str(STEAM), "rating_scale": "thumbs",
        "columns": {"review_id": f"md5({every_column})", "title_id": "title",
                    "rating": "recommendation", "review_date": "date_posted"},
    })  # no texts mapped: the ratings are the point, and scoring 10,000 texts would take seconds
    pipeline.run(settings)
    with duckdb.connect() as con:
        expected = con.execute(
            "select title, count(*), count(*) filter (where recommendation = 'Recommended') "
            "from (select distinct * from read_csv(?, all_varchar = true)) group by title order by title",
            [str(STEAM)]).fetchall()
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        summary = con.execute(
            "select title_id, rated_review_count, recommended_share, recommended_share_low, "
            "recommended_share_high, rating_scale, rating_min, rating_step, rating_kind, rating_mean, "
            "is_polarized, bimodality_coefficient, extreme_share "
            "from agg_title_summary order by title_id").fetchall()
        histogram = con.execute(
            "select title_id, rating, review_count from agg_rating_distribution order by all").fetchall()
        distinct_problems = con.execute("select distinct reason from quarantine").fetchall()
    assert [s[0] for s in summary] == [e[0] for e in expected]
    z = settings.metrics.confidence_z
    for (title, n, share, low, high, top, bottom, step, kind, mean, polarized, bimodality, extreme), \
            (_, count, recommended) in zip(summary, expected, strict=True):
        assert (n, share) == (count, recommended / count), title
        assert (low, high) == pytest.approx(_wilson(recommended, count, z), abs=1e-12)
        assert (top, bottom, step, kind) == (1, 0.0, 1.0, "thumbs")
        assert mean == pytest.approx(share, abs=1e-12)
        assert (polarized, bimodality, extreme) == (False, None, None)
        assert [(r, c) for t, r, c in histogram if t == title] == [(0.0, count - recommended),
                                                                  (1.0, recommended)]
    # the only rows left out are second copies of a record
    assert all(reason.startswith("duplicate of the review in") for (reason,) in distinct_problems)


def _scales_landing(root: Path) -> dict[str, Path]:
    """Three sources on three scales (half stars from 0.5, tenths from 0, thumbs), each with valid
    ratings and ratings that are not points of its scale."""
    header = "title_id,rating,review_text\n"
    return {
        "half": write(root / "half.csv", header + "h1,0.5,a\nh1,3.5,b\nh1,5,c\nh1,3.25,d\nh1,4.3,e\n"
                      + "h2,2.5,f\nh2,0,g\n"),
        "tenths": write(root / "tenths.csv", header + "d1,9.6,a\nd1,0,b\nd1,10,c\nd1,9.65,d\n"
                        + "d1,4.8/5,e\n"),
        "thumbs": write(root / "thumbs.csv", header + "g1,Recommended,a\ng1,NOT RECOMMENDED,b\n"
                        + "g1,true,c\ng1,-1,d\ng1,maybe,e\ng1,2,f\n"),
    }


def test_ratings_on_half_decimal_and_thumbs_scales_publish_every_point_and_quarantine_the_rest(
    tmp_path: Path, make_settings
) -> None:
    """Every point of each scale is listed in the histogram, shares sum to 1 (the data checks pass);
    a rating between two points, or not a thumbs value, is quarantined naming the scale's points and
    the setting to change. A failing data check names itself, what it checks, and its rows' columns."""
    from reviewpipe.publish import CheckFailed, run_checks

    files = _scales_landing(tmp_path / "in")
    columns = {"title_id": "title_id", "rating": "rating", "review_text": "review_text"}
    settings = make_settings(
        {"name": "half", "path": str(files["half"]), "rating_scale": 5, "rating_min": 0.5,
         "rating_step": 0.5, "columns": columns},
        {"name": "tenths", "path": str(files["tenths"]), "rating_scale": 10, "rating_min": 0,
         "rating_step": 0.1, "columns": columns},
        {"name": "thumbs", "path": str(files["thumbs"]), "rating_scale": "thumbs", "columns": columns},
        quality={"max_quarantined_share": 1},  # the rows between points are quarantined by design
    )
    pipeline.run(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        points = dict(con.execute(
            "select title_id, list(rating order by rating) from agg_rating_distribution group by title_id"
        ).fetchall())
        counts = dict(con.execute(
            "select title_id, list(review_count order by rating) filter (where review_count > 0) "
            "from agg_rating_distribution group by title_id").fetchall())
        problems = con.execute(
            "select source, raw_value, reason from quarantine order by source, row_number").fetchall()
        shares = dict(con.execute("select title_id, recommended_share from agg_title_summary").fetchall())
    halves = [p / 2 for p in range(1, 11)]
    tenths = [round(p / 10, 3) for p in range(101)]
    assert points == {"h1": halves, "h2": halves, "d1": tenths, "g1": [0.0, 1.0]}
    # h1: 0.5, 3.5, 5; h2: 2.5 (0 is below the scale); d1: 0, 9.6 (and 4.8/5 = 9.6), 10;
    # g1: Recommended, true -> 1; NOT RECOMMENDED, -1 -> 0
    assert counts == {"h1": [1, 1, 1], "h2": [1], "d1": [1, 2, 1], "g1": [2, 2]}
    assert shares == {"h1": None, "h2": None, "d1": None, "g1": 0.5}
    half = "the scale 0.5..5 in steps of 0.5 (the source's rating_min = 0.5, rating_step = 0.5, rating_scale = 5)"
    tenth = "the scale 0..10 in steps of 0.1 (the source's rating_min = 0, rating_step = 0.1, rating_scale = 10)"
    thumbs = "is not a thumbs rating (the source's rating_scale is \"thumbs\": Recommended / Not Recommended"
    assert [(s, v) for s, v, _ in problems] == [
        ("half", "3.25"), ("half", "4.3"), ("half", "0"), ("tenths", "9.65"),
        ("thumbs", "maybe"), ("thumbs", "2")]
    reasons = [r for _, _, r in problems]
    assert reasons[0] == f"rating 3.25 is not a point of {half}; set rating_step to the step between " \
        "two neighbouring ratings (0.5 for half stars, 0.1 for scores like 9.6)"
    assert half in reasons[1]
    assert reasons[2] == "rating is outside 0.5..5 (the source's rating_min..rating_scale)"
    assert tenth in reasons[3]
    assert reasons[4].startswith(f"rating maybe {thumbs}") and "set rating_scale" in reasons[4]
    assert reasons[5].startswith(f"rating 2 {thumbs}")
    # a check that fails says which, what it checks, and the offending rows column by column
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(settings.published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        run_checks(con)
        con.execute("update agg_title_summary set bayesian_rating = 6 where title_id = 'h1'")
        with pytest.raises(CheckFailed) as failed:
            run_checks(con)
    message = str(failed.value)
    assert "data check agg_title_summary_bounds failed" in message
    assert "failed (agg_title_summary: the rating figures lie on the title's scale" in message
    assert "title_id = 'h1', rating_kind = 'stars', rating_min = 0.5, rating_scale = 5" in message
    assert "bayesian_rating = 6.0" in message and "\n" not in message


_THUMBS = {"recommended": 1.0, "not recommended": 0.0, "true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0,
           "-1": 0.0, "yes": 1.0, "no": 0.0, "up": 1.0, "down": 0.0, "positive": 1.0, "negative": 0.0}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spelling=st.sampled_from(sorted(_THUMBS)).flatmap(
    lambda word: st.tuples(st.just(word), st.lists(st.booleans(), min_size=len(word), max_size=len(word)),
                           st.sampled_from(["", " ", "  "]))),
       other=st.text(st.characters(max_codepoint=127), max_size=12))
def test_a_thumbs_value_is_read_in_any_case_and_anything_else_is_none(
    macros: duckdb.DuckDBPyConnection, spelling, other: str
) -> None:
    """staging's thumbs_rating (sql/schema/macros.sql): each spelling of the contract in any mix of
    cases, with spaces around, is 1 (recommended) or 0; any other text is null (quarantined)."""
    word, upper, pad = spelling
    written = pad + "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True)) + pad
    assert macros.execute("select thumbs_rating(?)", [written]).fetchone()[0] == _THUMBS[word]
    got = macros.execute("select thumbs_rating(?)", [other]).fetchone()[0]
    assert got == _THUMBS.get(other.strip(" ").lower())


@pytest.fixture(scope="module")
def macros() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with staging's macros, shared by the examples (each connect loads them anew)."""
    con = connect()
    yield con
    con.close()


# ---- [quality]: a run that went wrong says so (issue 22, item 6) ----

QUALITY_HEADER = "review_id,title_id,author,review_date,rating,helpful_votes,total_votes,review_text\n"
# rows that today's checks quarantine, one kind each: (column_name, the row's cells after review_id)
BAD_KINDS = {
    "rating not a number": ("rating", "tt1,ann,2020-01-01,great,1,2,Fine."),
    "rating off the scale": ("rating", "tt1,ann,2020-01-01,11,1,2,Fine."),
    "date not a date": ("review_date", "tt1,ann,someday,7,1,2,Fine."),
    "no title": ("title_id", ",ann,2020-01-01,7,1,2,Fine."),
    "helpful above total": ("helpful_votes", "tt1,ann,2020-01-01,7,5,2,Fine."),
}
# bytes no reader takes: not UTF-8 (0xc3 must start a two-byte sequence), no byte-order mark
UNREADABLE = b"\xc3(\x80\x81" * 64


def quality_landing(folder: Path, kinds: list[str], good: int, copies: int, unreadable: int) -> None:
    """One CSV of `good` good rows, `copies` second copies of one of them and a bad row of each of
    `kinds` (in that order), and `unreadable` files no reader takes."""
    lines = [f"g{i},tt{i % 3},ann,2020-01-0{1 + i % 9},{1 + i % 10},1,2,Good film {i}." for i in range(good)]
    lines += [lines[0]] * copies
    lines += [f"b{i},{BAD_KINDS[kind][1]}" for i, kind in enumerate(kinds)]
    write(folder / "a.csv", QUALITY_HEADER + "\n".join(lines) + "\n")
    for i in range(unreadable):
        (folder / f"z{i}.csv").write_bytes(UNREADABLE)


# no shrinking: each example is an ingest of its own (a failure prints its example all the same)
NO_SHRINK = [hypothesis.Phase.explicit, hypothesis.Phase.reuse, hypothesis.Phase.generate]


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
@given(kinds=st.lists(st.sampled_from(sorted(BAD_KINDS)), max_size=12),
       good=st.integers(1, 40), copies=st.integers(0, 3), unreadable=st.integers(0, 2),
       max_quarantined=st.sampled_from([0.0, 0.05, 0.1, 0.25, 1.0]),
       max_unreadable=st.sampled_from([0.0, 0.5, 1.0]))
def test_the_quality_gate_fails_exactly_past_each_limit_and_groups_the_reasons(
        kinds: list[str], good: int, copies: int, unreadable: int, max_quarantined: float,
        max_unreadable: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        quality_landing(root / "landing", kinds, good, copies, unreadable)
        settings = Settings(
            paths={"warehouse": root / "w.duckdb", "published": root / "p.duckdb", "exports": root / "x"},
            sources=[{"name": "rev", "path": str(root / "landing" / "*.csv")}],
            quality={"max_quarantined_share": max_quarantined, "max_unreadable_share": max_unreadable})
        summary = pipeline.RunSummary("r1", ingest=stages.ingest_stage(settings, "r1"))
        records, files = good + copies + len(kinds), 1 + unreadable
        # second copies are duplicates, counted apart: never part of the quarantined share
        share, unreadable_share = len(kinds) / records, unreadable / files
        past = share > max_quarantined or unreadable_share > max_unreadable
        if past:
            with pytest.raises(QualityFailed) as failed:
                quality_stage(settings, summary)
            quality = failed.value.quality
            assert (f"{len(kinds)} of its {records} records quarantined" in str(failed.value)) == (
                share > max_quarantined)
            assert (f"{unreadable} of its {files} files unreadable" in str(failed.value)) == (
                unreadable_share > max_unreadable)
        else:
            quality = quality_stage(settings, summary)
        assert summary.quality is quality and bool(quality.breaches) == past
        (source,) = quality.sources
        assert (source.records, source.quarantined, source.duplicates, source.files, source.unreadable) == (
            records, len(kinds), copies, files, unreadable)
        # one group per kind of problem (numbers and paths in the reasons do not split a kind), its
        # example the first such row of the file; the unreadable files are one group
        rows = {g.reason_class: g for g in quality.groups if g.row_number is not None}
        assert len(rows) == len(set(kinds))
        for kind in set(kinds):
            first = good + copies + kinds.index(kind) + 1
            (group,) = [g for g in rows.values() if g.row_number == first]
            assert (group.column_name, group.rows, group.file_path) == (
                BAD_KINDS[kind][0], kinds.count(kind), str(root / "landing" / "a.csv"))
        # the unreadable files' own groups (a file the reader rejects whole, or every line of)
        assert {Path(g.file_path).name[0] for g in quality.groups if g.row_number is None} <= {"z"}
        assert any(g.row_number is None for g in quality.groups) == bool(unreadable)
        lines = quality_lines(quality)
        assert any(f"Duplicates in source 'rev': {copies} " in line for line in lines) == bool(copies)


@pytest.mark.parametrize("case", ["lower half", "one above", "too few"])
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
@given(scale=st.integers(3, 100), data=st.data())
def test_a_scale_the_ratings_do_not_fill_is_warned_about(case: str, scale: int, data: st.DataObject) -> None:
    half = scale // 2
    rated = data.draw(st.integers(1, 19) if case == "too few" else st.integers(20, 40))
    ratings = data.draw(st.lists(st.integers(1, half), min_size=rated, max_size=rated))
    above = case == "one above"  # one rating in the upper half: the scale is used, no warning
    if above:
        ratings[data.draw(st.integers(0, rated - 1))] = data.draw(st.integers(half + 1, scale))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root / "a.csv", QUALITY_HEADER + "".join(
            f"r{i},tt1,ann,2020-01-01,{r},1,2,Fine {i}.\n" for i, r in enumerate(ratings)))
        settings = Settings(
            paths={"warehouse": root / "w.duckdb", "published": root / "p.duckdb", "exports": root / "x"},
            sources=[{"name": "rev", "path": str(root / "a.csv"), "rating_scale": scale}])
        summary = pipeline.RunSummary("r1", ingest=stages.ingest_stage(settings, "r1"))
        warnings = quality_stage(settings, summary).warnings
    expected = not above and rated >= SCALE_MISFIT_MIN_RATINGS
    assert bool(warnings) == expected, (ratings, scale)
    if expected:
        assert f"all {rated} ratings are at most {max(ratings)}, half of its rating_scale = {scale}" in warnings[0]
        assert any(line.startswith("WARNING") for line in quality_lines(summary.quality))


def test_a_run_past_a_quality_limit_publishes_nothing_new_and_is_logged_failed(small) -> None:
    settings = small
    live = outputs(settings)
    # a second file whose dates are all in a format nobody configured: 20 of 60 records quarantined
    write(settings.samples_path.parent / "landing" / "b.csv",
          "title_id,author,review_date,rating,review_text\n"
          + "".join(f"tt1,zed{i},03/0{1 + i % 9}/2020,7,Fine {i}.\n" for i in range(20)))
    with pytest.raises(QualityFailed, match=r"20 of its 60 records quarantined \(33.3%\)") as failed:
        pipeline.run(settings)
    (group,) = failed.value.quality.groups
    assert (group.column_name, group.rows, group.row_number, group.raw_value) == (
        "review_date", 20, 1, "03/01/2020")
    assert outputs(settings) == live and leftovers(settings) == []
    assert run_statuses(settings)[-1] == "failed"
    # the same files again: the gate still fails (no run succeeded on them); a raised limit passes
    with pytest.raises(QualityFailed):
        pipeline.run(settings)
    lenient = settings.model_copy(update={"quality": settings.quality.model_copy(
        update={"max_quarantined_share": 0.5})})
    passed = pipeline.run(lenient)
    assert passed.published and passed.quality.sources[0].quarantined == 20
    assert "20 rows like" in "\n".join(quality_lines(passed.quality))
    # a run with nothing new applies the limits too: the exit status always follows them
    assert pipeline.run(lenient).ingest.unchanged_since is not None
    with pytest.raises(QualityFailed):
        pipeline.run(settings)


browser = test_report.browser  # the report tests' fixture: Debian's chromium through Playwright


def test_the_samples_report_shows_what_reviewers_praise_and_complain_about(sample_run, browser, tmp_path) -> None:
    settings, summary = sample_run
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        titles = con.execute("select count(distinct title_id) from agg_title_terms where side <> 'distinctive'"
                             ).fetchone()[0]
    assert titles >= 8  # most of the sample's ten titles have praise or complaint terms
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page, errors = test_report.open_drawn(context, summary.report)
        assert test_report.check_terms_section(page, tmp_path / "terms.png") == titles  # each drawn
        assert "Known for" in page.locator("#terms").inner_text()
        assert not errors, errors
    finally:
        context.close()
