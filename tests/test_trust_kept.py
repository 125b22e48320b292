"""The trust tests' reviews and reviewer histories kept in the warehouse (trust_reviews_kept,
reviewpipe.trust.subsets.update_kept_reviews): after any run of loads, reloads and removals, the
rows made again for the touched review ids alone are the rows a whole build makes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import polars as pl
from conftest import write

from reviewpipe import stages, trust
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.trust import subsets
from reviewpipe.warehouse import open_warehouse

HEADER = "review_id,title_id,author,review_date,rating,review_text\n"
# "Amazon Customer" is an anonymous name (each of its reviews its own reviewer), "" nobody
AUTHORS = ["ann", "bob", "cy", "Amazon Customer", ""]
TEXTS = ["a fine film", "a fine film", "dull", ""]  # two reviews of one text: one writing by one author

review = st.tuples(
    st.sampled_from([f"r{i}" for i in range(8)]), st.sampled_from(["t0", "t1", "t2"]), st.sampled_from(AUTHORS),
    st.sampled_from(["2021-01-01", "2021-01-02", ""]), st.sampled_from(["1", "4", "5", ""]), st.sampled_from(TEXTS))
# a step: a file written with these reviews (a reload: its reviews not in it are gone), or (None)
# removed (its reviews stay)
step = st.tuples(st.sampled_from(["a", "b", "c"]), st.none() | st.lists(review, max_size=6))


def _ingest_step(settings: Settings, landing: Path, i: int, name: str, rows: list[tuple] | None) -> None:
    """Run i's step: the file `name` written with these reviews (a reload: its reviews not in it are
    gone), or removed (None: its reviews stay); then ingest."""
    if rows is None:
        (landing / f"{name}.csv").unlink(missing_ok=True)
    else:
        write(landing / f"{name}.csv", HEADER + "".join(",".join(r) + "\n" for r in rows))
    stages.ingest_stage(settings, f"run{i}")


def _settings(root: Path) -> Settings:
    return Settings(
        paths=Paths(warehouse=root / "warehouse.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[Source(name="site", path=str(root / "landing" / "*.csv"), rating_scale=5)],
        sentiment={"workers": 1},
    )


def _kept(con) -> pl.DataFrame:
    return con.sql("select * from trust_reviews_kept order by review_id").pl()


def _same_but_numbers(made: pl.DataFrame, whole: pl.DataFrame) -> None:
    """Equal rows but row_id and reviewer_no, which need only be numbers: row_id one a row, and
    reviewer_no one a reviewer (null where nobody is known)."""
    assert made.drop("row_id", "reviewer_no").equals(whole.drop("row_id", "reviewer_no"))
    assert made["row_id"].null_count() == 0 and made["row_id"].n_unique() == made.height
    known = made.filter(pl.col("reviewer").is_not_null())
    assert known["reviewer_no"].null_count() == 0
    assert made.filter(pl.col("reviewer").is_null())["reviewer_no"].null_count() == made.height - known.height
    pairs = known.select("reviewer", "reviewer_no").unique()
    assert pairs["reviewer"].n_unique() == pairs.height == pairs["reviewer_no"].n_unique()


@hypothesis.settings(derandomize=True, max_examples=12, deadline=None)
@hypothesis.given(steps=st.lists(step, min_size=1, max_size=4))
# ann's second review, in another file, gone from it: her history changes where no row of hers is
# touched (a file removed from the landing folder keeps its reviews: the reload of one without hers)
@hypothesis.example(steps=[("a", [("r1", "t0", "ann", "2021-01-01", "4", "dull")]),
                           ("b", [("r2", "t1", "ann", "2021-01-02", "5", "a fine film")]),
                           ("b", [("r3", "t1", "bob", "2021-01-02", "5", "a fine film")])])
def test_the_touched_rows_made_again_are_a_whole_builds(steps) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = _settings(root)
        landing = root / "landing"
        # a file that stays: a source that matches no file is refused
        write(landing / "z.csv", HEADER + "r9,t0,dee,2021-01-01,3,kept\n")
        for i, (name, rows) in enumerate(steps):
            _ingest_step(settings, landing, i, name, rows)
            with open_warehouse(settings.warehouse_path) as con:
                how = subsets.update_kept_reviews(con, settings)
                # the first build is whole; after it, a load restages its review ids alone
                assert how == ("whole" if i == 0 else "touched")
                made = _kept(con)
                # the whole build of the same warehouse, then the kept rows put back as they were
                con.execute("create temp table _made as select * from trust_reviews_kept")
                con.execute("insert into trust_pending values (null)")
                assert subsets.update_kept_reviews(con, settings) == "whole"
                _same_but_numbers(made, _kept(con))
                con.execute("create or replace table trust_reviews_kept as select * from _made")


def _ingested(root: Path, rows: str) -> Settings:
    """The settings of a project under root whose one file holds these CSV rows, ingested."""
    settings = _settings(root)
    write(root / "landing" / "a.csv", HEADER + rows)
    stages.ingest_stage(settings, "run0")
    return settings


def test_kept_rows_out_of_step_with_staging_are_made_whole(tmp_path: Path) -> None:
    # a kept row lost (no trust_pending row says so): the count differs and the rows are made whole
    settings = _ingested(tmp_path, "r1,t0,ann,2021-01-01,4,fine\nr2,t0,bob,2021-01-01,5,good\n")
    with open_warehouse(settings.warehouse_path) as con:
        assert subsets.update_kept_reviews(con, settings) == "whole"
        before = _kept(con)
        con.execute("delete from trust_reviews_kept where review_id = 'r2'")
        assert subsets.update_kept_reviews(con, settings) == "whole"
        _same_but_numbers(_kept(con), before)
        # and other [trust] anonymous_names (quoted into SQL: one with a quote) make them whole: "ann"
        # is nobody now, and nor is anybody with no name in the list
        for names, nobody in ((["ann", "o'brien"], [None]), ([], ["site\x1fname\x1fann"])):
            renamed = settings.model_copy(update={"trust": settings.trust.model_copy(update={"anonymous_names": names})})
            assert subsets.update_kept_reviews(con, renamed) == "whole"
            assert _kept(con).filter(pl.col("review_id") == "r1")["reviewer"].to_list() == nobody


def test_with_the_tests_off_nothing_is_kept_and_the_next_run_with_them_builds_whole(tmp_path: Path) -> None:
    settings = _ingested(tmp_path, "r1,t0,ann,2021-01-01,4,fine\n")
    off = settings.model_copy(update={"trust": settings.trust.model_copy(update={"enabled": False})})
    with open_warehouse(settings.warehouse_path) as con:
        assert subsets.update_kept_reviews(con, settings) == "whole"
    write(tmp_path / "landing" / "b.csv", HEADER + "r2,t0,ann,2021-01-02,5,good\n")
    stages.ingest_stage(off, "run1")
    frames = stages.trust_stage(off)  # the tables published empty
    assert {n: (f.height, f.schema) for n, f in frames.items()} == {
        n: (0, f.schema) for n, f in trust.empty_frames().items()}
    with open_warehouse(settings.warehouse_path) as con:
        assert con.execute("select count(*) from trust_pending").fetchone() == (0,)
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'trust_reviews_kept'"
                           ).fetchone() == (0,)
        assert subsets.update_kept_reviews(con, settings) == "whole"
        assert _kept(con)["has_one_writing"].to_list() == [False, False]


def test_a_change_of_their_models_or_macros_makes_them_whole(tmp_path: Path, monkeypatch) -> None:
    # reviewer_key lives in sql/schema/macros.sql: a new version of it must not leave stale keys
    settings = _ingested(tmp_path, "r1,t0,ann,2021-01-01,4,fine\n")
    with open_warehouse(settings.warehouse_path) as con:
        assert subsets.update_kept_reviews(con, settings) == "whole"
        assert subsets.update_kept_reviews(con, settings) == "touched"  # (none touched)
        read = subsets.read_model
        for model in subsets._KEPT_MODELS:
            monkeypatch.setattr(subsets, "read_model", lambda m, model=model: read(m) + (
                "\n-- another version" if m == model else ""))
            assert subsets.update_kept_reviews(con, settings) == "whole", model
        assert "schema/macros.sql" in subsets._KEPT_MODELS


# Every state the trust stage keeps between runs, by its staging_state model: without them the next
# run makes each again from the staged reviews (the reviews and histories, the texts' signatures,
# phrases and bands, their verified copy pairs, the per-title phrase counts, the named phrases).
KEPT_STATES = ("trust_reviews", "text_signatures", "text_copy_pairs", "text_copy_pairs_through",
               "text_title_phrases", "text_named_phrases")
# Texts that make every text test answer on a handful of reviews: near-copies of 8 words and more
# (copy_min_words 3), phrases of 3 words shared by several reviewers, a disclosure, short ones.
SMALL_TEXTS = ["the camera broke after one week of daily use", "the camera broke after two weeks of daily use",
               "great value for the money and fast shipping", "great value for the money, would buy again",
               "I received this product free in exchange for an honest review", "dull", ""]
# and new texts in later runs: near-copies and shared phrases of texts already kept
small_text = st.sampled_from(SMALL_TEXTS) | st.builds(
    "the {} broke after a week of daily use and the seller never answered my {}".format,
    st.sampled_from(["camera", "phone", "lamp"]), st.sampled_from(["emails", "calls", "letters"]))
small_review = st.tuples(
    st.sampled_from([f"r{i}" for i in range(12)]), st.sampled_from(["t0", "t1", "t2"]),
    st.sampled_from(["ann", "bob", "cy", "dee", "Amazon Customer", ""]),
    st.sampled_from(["2021-01-01", "2021-01-02", "2021-01-09", ""]), st.sampled_from(["1", "3", "5", ""]),
    small_text)


def _small_title_settings(root: Path) -> Settings:
    """_settings with every [trust] threshold at its lowest, so that a dozen reviews are tested, and
    subsets of two fail."""
    settings = _settings(root)
    return settings.model_copy(update={"trust": settings.trust.model_copy(update={
        "alpha": 0.5, "min_title_reviews": 4, "min_subset_reviews": 2, "min_share_ratio": 1, "min_rating_effect": 0,
        "dominant_min_reviews": 2, "burst_min_reviews": 2, "burst_p": 0.5, "burst_neighbourhood_days": 3,
        "copy_similarity": 0.5, "copy_min_words": 3, "phrase_words": 3, "phrase_min_reviews": 2, "phrase_p": 0.5,
        "deviation_min_reviews": 2, "deviation_threshold": 0.1, "ring_min_reviewers": 2, "ring_p": 0.5})})


@hypothesis.settings(derandomize=True, max_examples=5, deadline=None)
@hypothesis.given(steps=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.none() | st.lists(small_review, max_size=8)),
                                 min_size=2, max_size=3))
def test_the_trust_frames_after_any_runs_are_a_whole_builds(steps) -> None:
    """After each run of loads, reloads and removals, the trust tests' frames made with what the
    earlier runs kept are those of the same warehouse with nothing kept (every state made again)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = _small_title_settings(root)
        whole = settings.model_copy(update={"paths": settings.paths.model_copy(update={
            "warehouse": root / "whole" / "warehouse.duckdb"})})
        landing = root / "landing"
        # a file that stays: four rated reviews of each title, so that every run tests them
        write(landing / "z.csv", HEADER + "".join(
            f"z{i},t{i % 3},{name},2021-01-0{1 + i % 2},{1 + i % 5},{SMALL_TEXTS[i % 5]}\n"
            for i, name in enumerate(["ann", "bob", "cy", "dee", "eve", "fay"] * 2)))
        tested = 0
        for i, (name, rows) in enumerate(steps):
            _ingest_step(settings, landing, i, name, rows)
            made = stages.trust_stage(settings)
            # the same warehouse with nothing of the trust stage kept
            whole.warehouse_path.parent.mkdir(exist_ok=True)
            whole.warehouse_path.write_bytes(settings.warehouse_path.read_bytes())
            with open_warehouse(whole.warehouse_path) as con:
                con.execute("delete from staging_state where model in (select unnest($1::varchar[]))",
                            [list(KEPT_STATES)])
                con.execute("insert into trust_pending values (null)")
            rebuilt = stages.trust_stage(whole)
            for frame in trust.TRUST_FRAMES:
                assert made[frame].equals(rebuilt[frame]), (i, frame, made[frame], rebuilt[frame])
            tested += made["metric_trust_tests"].height
        hypothesis.target(tested)  # runs whose tests answer on more titles
