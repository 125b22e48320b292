"""The whole pipeline on the embedded sample: the published contract, re-runs, failures, readers."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import hypothesis
import pytest
from conftest import published_rows, write
from hypothesis import strategies as st

from reviewpipe import pipeline
from reviewpipe.errors import ReviewpipeError
from reviewpipe.publish import PUBLISHED_TABLES
from reviewpipe.sample import BAD_ROWS
from reviewpipe.settings import Settings

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
    n_bad = len(BAD_ROWS)
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
