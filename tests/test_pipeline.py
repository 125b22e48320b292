"""The whole pipeline on the embedded sample: the published contract, re-runs, failures, readers."""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import hypothesis
import pytest
from conftest import published_rows, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe import pipeline, publish
from reviewpipe.errors import ReviewpipeError
from reviewpipe.publish import PUBLISHED_TABLES
from reviewpipe.sample import BAD_ROWS
from reviewpipe.settings import Settings
from reviewpipe.warehouse import claim_warehouse, configuration_name, connect, open_warehouse

CONTRACT = {
    "titles": ["title_id", "title", "year", "site_rating", "site_votes", "user_review_count",
               "critic_review_count", "genres", "directors"],
    "reviews": ["review_id", "title_id", "author", "review_date", "rating", "review_title", "review_text",
                "helpful_votes", "total_votes", "rating_scale", "source", "helpful_ratio",
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
    # every published review with text has sentiment; every agg_ table was exported with a header
    assert con.execute("select count(*) from reviews where review_text is not null "
                       "and sentiment_compound is null").fetchall() == [(0,)]
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
    assert "nothing new since run" in pipeline.unchanged_message(again)
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


def test_a_score_cached_before_sentences_were_scored_is_scored_again(sample_run) -> None:
    settings, _ = sample_run
    with duckdb.connect(str(settings.warehouse_path)) as con:
        before = con.execute("select * from sentiment_scores order by text_hash limit 2").fetchall()
        # the cache rows of an older reviewpipe: whole-text scores only
        con.execute("update sentiment_scores set sentence_compound_mean = null, sentence_count = null, "
                    "positive_sentence_share = null, negative_sentence_share = null "
                    "where text_hash in (?, ?)", [before[0][0], before[1][0]])
    assert pipeline.score_stage(settings) == 2
    assert pipeline.score_stage(settings) == 0
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select * from sentiment_scores order by text_hash limit 2").fetchall() == before


def test_the_scoring_processes_start_once_ingest_has_loaded_more_than_a_batch(tmp_path) -> None:
    from reviewpipe import sentiment
    from reviewpipe.settings import load_settings

    config = tmp_path / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 2\n")
    settings = load_settings(config)
    with sentiment.PoolAhead(2, min_records=1000) as ahead:
        pipeline.ingest_stage(settings, "20260101T000000-aaaaaa", on_load=ahead.loaded)
        assert ahead.pool is not None  # started during ingest, before scoring
        assert ahead.records > 1000
        scored = pipeline.score_stage(settings, ahead=ahead)
    assert ahead.pool is None  # shut down with the block
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        texts = con.execute("select count(distinct text_hash) from stg_reviews").fetchone()[0]
    assert scored == texts > 0
    # nothing new: no file loaded, no processes started
    with sentiment.PoolAhead(2) as again:
        pipeline.ingest_stage(settings, "20260101T000001-bbbbbb", on_load=again.loaded)
        assert again.pool is None
    # two new reviews: fewer records than min_records, so ingest starts no processes
    write(settings.samples_path / "reviews_2030.csv",
          "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
          "tt9000001,newcomer,2030-01-02,9,1,1,Late praise,A moving and beautiful film.\n"
          "tt9000002,newcomer,2030-01-03,2,0,0,Late boredom,Dull and far too long.\n")
    with sentiment.PoolAhead(2, min_records=1000) as few:
        pipeline.ingest_stage(settings, "20260101T000002-cccccc", on_load=few.loaded)
        assert few.pool is None and few.records == 2
        assert pipeline.score_stage(settings, ahead=few) == 2


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
    return {p.name: p.read_bytes() for p in pipeline.output_paths(settings)}


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
        at = max(i for i in range(len(data)) if chr(data[i]).isdigit())
        data[at] = ord("7") if data[at] != ord("7") else ord("8")
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
    cases = [(path, how) for path in pipeline.output_paths(settings) for how in kinds]
    cases.append((settings.published_path, "sql update"))
    with pipeline.warehouse(settings) as con:
        for path, how in cases:
            kept = path.read_bytes()
            edit(path, how)
            assert not pipeline.outputs_current(con, settings), (path.name, how)
            path.with_name("copy").write_bytes(kept)
            os.replace(path.with_name("copy"), path)
            assert pipeline.outputs_current(con, settings), (path.name, how)
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
    run_id = pipeline.new_run_id()
    pipeline.record_run_start(settings, run_id)
    summary = pipeline.RunSummary(run_id, ingest=pipeline.ingest_stage(settings, run_id))
    pipeline.score_stage(settings)
    summary.published = pipeline.publish_stage(settings, pipeline.metrics_stage(settings), run_id).counts
    return summary, pipeline.export_stage(settings, run_id) + pipeline.report_stage(settings, run_id)


def test_an_output_path_blocked_fails_the_run_before_anything_goes_live(small) -> None:
    """A directory where each output goes, in turn: going live fails with a message naming it and
    what to do, before anything changed; once the directory is gone, it goes live. A whole run
    blocked so (the issue's example: one export) is logged failed and leaves nothing behind."""
    settings = small
    reviews_file(settings.samples_path.parent / "landing" / "b.csv", 100, 10)
    live = outputs(settings)
    summary, files = built_run(settings)
    for path in pipeline.output_paths(settings):
        path.rename(path.with_name("kept"))
        (path / "someone's").mkdir(parents=True)
        with pytest.raises(ReviewpipeError, match=f"{re.escape(str(path))} is a directory.*move or remove"):
            pipeline.go_live_stage(settings, summary.run_id, files)
        shutil.rmtree(path)
        path.with_name("kept").rename(path)
        assert outputs(settings) == live, path.name
    *summary.exports, summary.report = pipeline.go_live_stage(settings, summary.run_id, files)
    pipeline.record_run_end(settings, summary)
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
    return {p.name: p.read_bytes() if p.is_file() else None for p in pipeline.output_paths(settings)}


def test_a_failure_in_the_middle_of_going_live_or_logging_it_puts_every_old_output_back(
        small, monkeypatch) -> None:
    """A rename that fails after others succeeded (onto each output in turn), or a run log that
    cannot be written once everything is live: every output is the old one again."""
    settings = small
    reviews_file(settings.samples_path.parent / "landing" / "b.csv", 100, 10)
    live = outputs(settings)
    summary, files = built_run(settings)
    real_replace = os.replace
    for victim in pipeline.output_paths(settings):
        def replace(src, dst, victim=victim):
            if Path(dst) == victim:
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(ReviewpipeError, match=f"could not put {re.escape(str(victim))} in place"):
            pipeline.go_live_stage(settings, summary.run_id, files)
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
    pipeline.record_run_start(one, killed)
    one.exports_path.mkdir(parents=True)
    theirs = [pipeline.new_database_path(one, killed), one.exports_path / f".agg_helpfulness.csv.{killed}.tmp",
              one.exports_path / f".report.html.{killed}.tmp"]
    for path in theirs:
        path.write_bytes(b"half")
    # the other pipeline's run, with its database, exports and report built, not yet live
    run_id = pipeline.new_run_id()
    pipeline.record_run_start(other, run_id)
    summary = pipeline.RunSummary(run_id, ingest=pipeline.ingest_stage(other, run_id))
    pipeline.score_stage(other)
    summary.published = pipeline.publish_stage(other, pipeline.metrics_stage(other), run_id).counts
    files = pipeline.export_stage(other, run_id) + pipeline.report_stage(other, run_id)
    pending = [pipeline.new_database_path(other, run_id), *(tmp for tmp, _ in files)]

    assert pipeline.run(one).published["reviews"] == 40
    assert not any(path.exists() for path in theirs)
    assert all(path.exists() for path in pending)
    *summary.exports, summary.report = pipeline.go_live_stage(other, run_id, files)
    pipeline.record_run_end(other, summary)
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
            sentiment={"workers": 1})
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
            summary = con.execute("select title_id, helpful_votes, total_votes from agg_title_summary").fetchall()
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
                    macro = "clean_list" if column in LISTS else "clean_text" if column in TEXTS else "clean_line"
                    assert got[column] == cleaned.execute(f"select {macro}(?)", [record[column]]).fetchone()[0]
        cleaned.close()
        # per title, the published sums are the exact sums of the published reviews' votes
        for title_id, helpful, total in summary:
            mine = [r for r in published["reviews"].values() if r["title_id"] == title_id]
            if any(r["total_votes"] is not None for r in mine):
                assert helpful == sum(r["helpful_votes"] or 0 for r in mine)
                assert total == sum(r["total_votes"] or 0 for r in mine)


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
