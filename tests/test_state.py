"""The incremental state (reviewpipe.state): the kept_ rows a delta run reads instead of the
published file describe exactly what is live, whatever the runs before did."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import published_rows, write

from reviewpipe import pipeline
from reviewpipe.quality import QualityFailed
from reviewpipe.settings import Settings
from reviewpipe.state import DELTA_MAX_SHARE
from reviewpipe.warehouse import open_warehouse, rows

KEPT_TABLES = ("kept_titles", "kept_agreement_inputs", "kept_mismatches")
REVIEWS = "review_id,title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"


def reviews_file(path: Path, first: int, n: int, titles: int = 4) -> Path:
    """n reviews r<first>.. of `titles` titles, with ratings, votes and texts that vary (some
    words and stars disagree, so that there are mismatches to keep)."""
    return write(path, REVIEWS + "".join(
        f"r{i},tt{i % titles},critic{i},2021-{1 + i % 12:02d}-05,{1 + i % 10},{i % 5},{i % 5 + i % 3},"
        f"Title {i},\"Review {i}: {'a wonderful, moving film' if i % 3 else 'dull, awful and boring'}.\"\n"
        for i in range(first, first + n)))


@pytest.fixture
def small(tmp_path: Path, make_settings) -> Settings:
    """A pipeline over one folder of 40 reviews of four titles, run once (its outputs live)."""
    reviews_file(tmp_path / "landing" / "a.csv", 0, 40)
    settings = make_settings({"name": "rev", "path": str(tmp_path / "landing" / "*.csv")})
    pipeline.run(settings)
    return settings


def kept(settings: Settings) -> dict[str, list[tuple]]:
    """The live kept_ rows of every table, sorted, and the rows not live (under "not live")."""
    with open_warehouse(settings.warehouse_path) as con:
        found = {t: sorted(rows(con, f"select * exclude (is_live) from {t} where is_live"), key=repr)
                 for t in KEPT_TABLES}
        found["not live"] = [
            (t, n) for t in KEPT_TABLES
            for (n,) in rows(con, f"select count(*) from {t} where not is_live") if n]
        found["has_kept_rows"] = rows(con, "select has_kept_rows from published_state")
    return found


def whole_build(settings: Settings, root: Path) -> Settings:
    """The settings run once on a fresh warehouse, published file and exports under root."""
    fresh = settings.model_copy(update={"paths": settings.paths.model_copy(update={
        "warehouse": root / "warehouse.duckdb", "published": root / "reports.duckdb",
        "exports": root / "exports"})})
    pipeline.run(fresh)
    return fresh


def test_after_a_delta_run_the_kept_rows_are_a_whole_builds(small, tmp_path: Path) -> None:
    settings = small
    first = kept(settings)
    first_languages = published_rows(settings.published_path)["agg_title_languages"]
    assert first["has_kept_rows"] == [(True,)] and first["not live"] == []
    assert all(first[t] for t in KEPT_TABLES)  # 4 titles, 40 reviews, some mismatches
    # 2 new reviews of tt0: few enough for a delta run, which computes tt0 alone
    reviews_file(tmp_path / "landing" / "b.csv", 100, 2, titles=1)
    assert 2 <= DELTA_MAX_SHARE * 42
    summary = pipeline.run(settings)
    assert summary.reviews_replaced == 2
    after = kept(settings)
    whole = whole_build(settings, tmp_path / "whole")
    assert after == kept(whole)
    assert published_rows(settings.published_path) == published_rows(whole.published_path)
    # the untouched titles' rows are the first run's; tt0's changed
    for table in KEPT_TABLES:
        assert [r for r in after[table] if r[0] != "tt0"] == [r for r in first[table] if r[0] != "tt0"]
    assert [r for r in after["kept_titles"] if r[0] == "tt0"] != [
        r for r in first["kept_titles"] if r[0] == "tt0"]
    # agg_title_languages is replaced by title like the other per-title tables: tt0's rows count its
    # 2 new texts (10 + 2, all scored), the other titles' rows are the first run's
    languages = published_rows(settings.published_path)["agg_title_languages"]
    assert [r for r in languages if r[0] != "tt0"] == [r for r in first_languages if r[0] != "tt0"]
    assert sum(r[2] for r in languages if r[0] == "tt0") == 12
    assert sum(r[4] for r in languages if r[0] == "tt0") == 12
    # and the summary's coverage of tt0 (its kept_titles row) and of the others (kept)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        assert con.execute("select title_id, scored_review_count, scored_share from agg_title_summary "
                           "order by title_id").fetchall() == [
            ("tt0", 12, 1.0), ("tt1", 10, 1.0), ("tt2", 10, 1.0), ("tt3", 10, 1.0)]


def test_a_run_that_fails_after_its_metrics_leaves_the_kept_rows_as_they_were(small, tmp_path: Path) -> None:
    settings = small
    before = kept(settings)
    # 2 new reviews of tt1 and 5 with dates in a format nobody configured: 5 of 47 records
    # quarantined, past the [quality] limit (10%), which is checked after the metrics stage
    # computed (and stored) tt1's rows
    write(tmp_path / "landing" / "b.csv", "title_id,author,review_date,rating,review_text\n"
          + "".join(f"tt1,zed{i},03/0{1 + i % 9}/2020,7,Fine {i}.\n" for i in range(5))
          + "".join(f"tt1,amy{i},2020-03-0{1 + i},{2 + i},Awful and dull and boring {i}.\n" for i in range(2)))
    with pytest.raises(QualityFailed):
        pipeline.run(settings)
    failed = kept(settings)
    assert failed["not live"]  # the failed run's rows of tt1, never made live
    assert {k: v for k, v in failed.items() if k != "not live"} == {
        k: v for k, v in before.items() if k != "not live"}
    # the next run that goes live (the limit raised; 7 review ids pending: a delta run) replaces
    # them: its rows are a whole build's
    lenient = settings.model_copy(update={"quality": settings.quality.model_copy(
        update={"max_quarantined_share": 0.5})})
    assert pipeline.run(lenient).reviews_replaced == 7
    whole = whole_build(lenient, tmp_path / "whole")
    assert kept(lenient) == kept(whole)
    assert published_rows(lenient.published_path) == published_rows(whole.published_path)


def test_a_warehouse_from_before_the_kept_rows_builds_whole_once_then_keeps_them(small, tmp_path: Path) -> None:
    settings = small
    with open_warehouse(settings.warehouse_path) as con:  # the warehouse as an older reviewpipe left it
        for table in (*KEPT_TABLES, "kept_replaces"):
            con.execute(f"drop table {table}")
        con.execute("alter table published_state drop column has_kept_rows")
    reviews_file(tmp_path / "landing" / "b.csv", 100, 2, titles=1)
    assert pipeline.run(settings).reviews_replaced is None  # built whole: nothing kept to build on
    assert kept(settings) == kept(whole_build(settings, tmp_path / "whole"))
    reviews_file(tmp_path / "landing" / "c.csv", 200, 2, titles=2)
    assert pipeline.run(settings).reviews_replaced == 2  # then a delta run
    whole = whole_build(settings, tmp_path / "whole again")
    assert kept(settings) == kept(whole)
    assert published_rows(settings.published_path) == published_rows(whole.published_path)
