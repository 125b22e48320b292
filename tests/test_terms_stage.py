"""The terms stage (reviewpipe.terms): agg_title_terms' rows from the counts kept per title
(term_counts), counted again for the titles whose reviews changed; after any run of loads, reloads
and removals they are the rows of a whole count of the same warehouse."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import hypothesis
import hypothesis.strategies as st
import polars as pl
from conftest import write

from reviewpipe import stages, terms
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.warehouse import open_warehouse

HEADER = "review_id,title_id,author,review_date,rating,helpful_votes,review_text\n"
TEXTS = ["The battery life is great. Great screen too.", "Battery died in a week; awful battery.",
         "Great value, battery life could be better.", "Awful screen. Not worth the money!",
         "Le produit est très bien."]  # (French: not counted)
review = st.tuples(st.sampled_from([f"r{i}" for i in range(10)]), st.sampled_from(["t0", "t1"]),
                   st.sampled_from(["1", "3", "5", ""]), st.sampled_from(["0", "4", ""]), st.sampled_from(TEXTS))


def _settings(root: Path, warehouse: str = "warehouse.duckdb") -> Settings:
    return Settings(
        paths=Paths(warehouse=root / warehouse, published=root / "reports.duckdb", exports=root / "exports",
                    samples=root / "samples"),
        sources=[Source(name="shop", path=str(root / "landing" / "*.csv"), rating_scale=5)],
        sentiment={"workers": 1}, terms={"min_reviews": 2, "min_z": 0.0},
    )


def _rows(rows: list[tuple]) -> str:
    return HEADER + "".join(f"{r},{t},a{r},2021-01-01,{s},{h},\"{x}\"\n" for r, t, s, h, x in rows)


@hypothesis.settings(derandomize=True, max_examples=6, deadline=None)
@hypothesis.given(steps=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.none() | st.lists(review, max_size=8)),
                                 min_size=2, max_size=3))
# a review reloaded with another rating, then other helpful votes (its text the same): its title changed
@hypothesis.example(steps=[("a", [("r1", "t0", "5", "0", TEXTS[1]), ("r2", "t0", "5", "0", TEXTS[1])]),
                           ("a", [("r1", "t0", "1", "0", TEXTS[1]), ("r2", "t0", "5", "0", TEXTS[1])]),
                           ("a", [("r1", "t0", "1", "0", TEXTS[1]), ("r2", "t0", "5", "4", TEXTS[1])])])
# a more helpful review of t0 arrives: the examples of its terms are its sentences now, not z0's
@hypothesis.example(steps=[("b", None), ("a", [("r1", "t0", "5", "4", TEXTS[2])])])
def test_the_terms_after_any_runs_are_a_whole_counts(steps) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings, whole = _settings(root), _settings(root, "whole.duckdb")
        # a file that stays: each title's reviews of every class
        write(root / "landing" / "z.csv", _rows([(f"z{i}", f"t{i % 2}", "1" if i < 4 else "5", "1", TEXTS[i % 4])
                                                  for i in range(8)]))
        for i, (name, rows) in enumerate(steps):
            if rows is None:
                (root / "landing" / f"{name}.csv").unlink(missing_ok=True)
            else:
                write(root / "landing" / f"{name}.csv", _rows(rows))
            stages.ingest_stage(settings, f"run{i}")
            stages.score_stage(settings)
            made = stages.terms_stage(settings)["metric_title_terms"]
            whole.warehouse_path.write_bytes(settings.warehouse_path.read_bytes())
            with open_warehouse(whole.warehouse_path) as con:
                con.execute("delete from staging_state where model = 'term_counts'")
            rebuilt = stages.terms_stage(whole)["metric_title_terms"]
            assert made.equals(rebuilt), (i, made, rebuilt)
            assert made.height  # the file that stays gives each title terms
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                counted = con.sql("select title_id, count(*) from term_titles group by title_id having count(*) > 1")
                assert not counted.fetchall()  # a title's fingerprint once


def test_a_title_counted_again_only_when_its_reviews_change(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write(tmp_path / "landing" / "a.csv", _rows([(f"r{i}", f"t{i % 2}", "15"[i % 2], "1", TEXTS[i % 4])
                                                  for i in range(8)]))
    stages.ingest_stage(settings, "run0")
    stages.score_stage(settings)
    first = stages.terms_stage(settings)["metric_title_terms"]
    with open_warehouse(settings.warehouse_path) as con:
        con.execute("update term_counts set sentence_mentions = sentence_mentions + 100")  # marked
    # a new review of t1: t1 is counted again, t0's rows are kept (marked)
    write(tmp_path / "landing" / "b.csv", _rows([("n1", "t1", "1", "0", TEXTS[1])]))
    stages.ingest_stage(settings, "run1")
    stages.score_stage(settings)
    second = stages.terms_stage(settings)["metric_title_terms"]
    marked = second.group_by("title_id").agg((pl.col("sentence_mentions") > 100).all())
    assert dict(marked.iter_rows()) == {"t0": True, "t1": False}
    assert first.filter(pl.col("title_id") == "t0")["term"].len() > 0


def test_with_the_terms_off_none_is_counted(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    off = settings.model_copy(update={"terms": settings.terms.model_copy(update={"enabled": False})})
    write(tmp_path / "landing" / "a.csv", _rows([(f"r{i}", "t0", "15"[i % 2], "1", TEXTS[i % 4]) for i in range(6)]))
    stages.ingest_stage(off, "run0")
    stages.score_stage(off)
    frame = stages.terms_stage(off)["metric_title_terms"]
    assert frame.height == 0 and frame.schema == pl.Schema(terms.TERMS_SCHEMA)
    with duckdb.connect(str(off.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from term_counts").fetchone() == (0,)
    assert stages.terms_stage(settings)["metric_title_terms"].height  # on again: counted
