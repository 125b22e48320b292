"""The Prefect flow end to end under prefect_test_harness (a real, temporary Prefect server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import published_rows
from prefect.client.orchestration import get_client

from reviewpipe import pipeline
from reviewpipe.schema import PUBLISHED_TABLES
from reviewpipe.settings import Paths, load_settings
from reviewpipe.state import output_paths


@pytest.mark.slow
def test_the_flow_runs_every_stage_and_publishes(flow_module, prefect_server, tmp_path: Path) -> None:
    config = tmp_path / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 1\n")
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    with get_client(sync_client=True) as client:
        found = {a.key: a for a in client.read_artifacts() if a.flow_run_id == state.state_details.flow_run_id}
    # the run's markdown summary and the title table are artifacts of this flow run
    assert f"# reviewpipe run {summary.run_id}" in found["reviewpipe-run"].data
    table = found["reviewpipe-title-summary"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert len(rows) == 10 and {"title_id", "weighted_rating"} <= set(rows[0])
    assert summary.published["reviews"] > 2900
    con = duckdb.connect(str(tmp_path / "data" / "reports.duckdb"), read_only=True)
    assert con.execute("select count(*) from agg_title_summary").fetchall() == [(10,)]
    con.close()
    assert sorted(p.name for p in (tmp_path / "data" / "exports").iterdir()) == sorted(
        [f"{t}.csv" for t in PUBLISHED_TABLES if t.startswith("agg_")] + ["report.html"])

    # a new file: the live database is copied while the run scores (reviewpipe.stages.LiveCopy, handed to
    # the publish task) and only the new reviews are replaced in the copy
    (tmp_path / "data" / "samples" / "reviews_2030.csv").write_text(
        "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
        "tt9000001,newcomer,2030-01-02,9,1,1,Late praise,A moving and beautiful film.\n"
        "tt9000002,newcomer,2030-01-03,2,0,0,Late boredom,Dull and far too long.\n")
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert state.is_completed(), state.message
    again = state.result()
    assert again.reviews_replaced == 2 and again.published["reviews"] == summary.published["reviews"] + 2
    # the metrics task computed the two touched titles alone (the rest kept from the copy), and the
    # result is what a whole build over the same files publishes
    whole = load_settings(config).model_copy(update={"paths": Paths(
        warehouse=tmp_path / "whole" / "w.duckdb", published=tmp_path / "whole" / "p.duckdb",
        exports=tmp_path / "whole" / "exports", samples=tmp_path / "data" / "samples")})
    assert pipeline.run(whole).reviews_replaced is None
    assert published_rows(tmp_path / "data" / "reports.duckdb") == published_rows(whole.published_path)


@pytest.mark.slow
def test_the_flows_tasks_are_the_pipelines_stages_and_publish_what_the_library_run_does(
        flow_module, prefect_server, tmp_path: Path) -> None:
    """The flow has no sequence of its own: it walks pipeline.STAGES, one task per stage named after
    it, in the list's order (the report submitted before the exports it is drawn beside); and the
    library run, walking the same list, publishes the same tables from the same files."""
    config = tmp_path / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 1\n")
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert state.is_completed(), state.message
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    # task run ids are UUIDv7, made when the walk calls or submits the task: they sort in its order
    # (the report's run is created in its own thread, so its start time may come after the exports')
    assert [r.name.rsplit("-", 1)[0] for r in sorted(runs, key=lambda r: r.id)] == [
        stage.name for stage in pipeline.STAGES]
    library = load_settings(config).model_copy(update={"paths": Paths(
        warehouse=tmp_path / "library" / "w.duckdb", published=tmp_path / "library" / "p.duckdb",
        exports=tmp_path / "library" / "exports", samples=tmp_path / "data" / "samples")})
    assert pipeline.run(library).reviews_replaced is None
    assert published_rows(tmp_path / "data" / "reports.duckdb") == published_rows(library.published_path)
    for export in (tmp_path / "library" / "exports").glob("agg_*.csv"):
        assert (tmp_path / "data" / "exports" / export.name).read_bytes() == export.read_bytes(), export.name


def task_runs(flow_run_id) -> dict[str, object]:
    """The flow run's task runs by task name (the first of each name)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    by_name: dict[str, object] = {}
    for run in sorted(runs, key=lambda r: r.expected_start_time):
        by_name.setdefault(run.name.rsplit("-", 1)[0], run)
    return by_name


@pytest.mark.slow
def test_a_locked_warehouse_is_retried_with_backoff_until_it_is_free(
        flow_module, prefect_server, tmp_path: Path) -> None:
    config = tmp_path / "reviewpipe.toml"
    config.write_text("lock_wait_seconds = 0.2\n[sentiment]\nworkers = 1\n"
                      "[schedule]\nretries = 5\nretry_delay_seconds = 1\n")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    # another process (an analyst's session) holds the warehouse open for 3 seconds
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(3); c.close()", str(warehouse)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
        runs = task_runs(state.state_details.flow_run_id)
    finally:
        holder.wait(timeout=30)
    assert state.is_completed(), state.message
    # the first stage found the warehouse locked, was retried after 1 s, 2 s, ... and then succeeded
    assert runs["begin"].run_count >= 2 and runs["begin"].state.is_completed()
    assert runs["ingest"].run_count == 1
    assert state.result().published["reviews"] > 2900


@pytest.mark.slow
def test_a_user_error_fails_the_flow_at_once_without_retries(flow_module, prefect_server, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "reviews.csv").write_text("id,body\nr1,Fine film.\n")
    config = tmp_path / "reviewpipe.toml"
    config.write_text(
        "[schedule]\nretries = 5\nretry_delay_seconds = 1\n"
        '[[sources]]\nname = "shop"\nkind = "reviews"\npath = "landing/*.csv"\nformat = "csv"\n'
        '[sources.columns]\nreview_id = "id"\ntitle_id = "\'t1\'"\nreview_text = "no_such_column || body"\n'
    )
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    runs = task_runs(state.state_details.flow_run_id)
    assert state.is_failed()
    assert runs["ingest"].run_count == 1 and runs["ingest"].state.is_failed()
    message = runs["ingest"].state.message
    assert "reviews.csv" in message and "no_such_column" in message and "Fix [sources.columns]" in message
    assert not (tmp_path / "data" / "reports.duckdb").exists()


@pytest.mark.slow
def test_the_flow_puts_the_database_exports_and_report_live_in_one_step(
        flow_module, prefect_server, tmp_path: Path) -> None:
    """The report's path blocked by a directory: the flow fails naming it, and the database and the
    exports (which went live before the report in the old flow) are all the last run's still."""
    landing = tmp_path / "landing"
    header = "review_id,title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
    (landing).mkdir()
    (landing / "a.csv").write_text(header + "".join(
        f"r{i},tt{i % 3},critic{i},2022-0{1 + i % 9}-01,{1 + i % 10},{i % 4},{i % 4 + 1},T{i},Review {i} was fine.\n"
        for i in range(30)))
    config = tmp_path / "reviewpipe.toml"
    config.write_text('[sentiment]\nworkers = 1\n[[sources]]\nname = "rev"\npath = "landing/*.csv"\n')
    assert flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True).is_completed()
    settings = load_settings(config)
    live = {p: p.read_bytes() for p in output_paths(settings)}
    (landing / "b.csv").write_text(header + "r100,tt9,late,2023-01-01,9,1,1,Late,Late but good.\n")
    report = settings.exports_path / "report.html"
    report.unlink()
    report.mkdir()
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert state.is_failed() and f"{report} is a directory" in state.message
    report.rmdir()
    assert {p: p.read_bytes() for p in output_paths(settings) if p != report} == {
        p: b for p, b in live.items() if p != report}
    state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert state.is_completed() and state.result().report == report and report.is_file()
    assert state.result().published["reviews"] == 31


@pytest.mark.slow
def test_the_flow_applies_the_quality_gate_before_it_publishes(flow_module, prefect_server, tmp_path: Path) -> None:
    """The gate (quality.quality_stage) runs in the flow as in pipeline.run: past a [quality] limit
    the flow fails with the reasons and publishes nothing new, and again on the same files."""
    header = "review_id,title_id,author,review_date,rating,review_text\n"
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(header + "".join(
        f"r{i},tt{i % 3},critic{i},2022-01-0{1 + i % 9},{1 + i % 10},Review {i} was fine.\n" for i in range(30)))
    config = tmp_path / "reviewpipe.toml"
    config.write_text('[sentiment]\nworkers = 1\n[[sources]]\nname = "rev"\npath = "landing/*.csv"\n')
    first = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
    assert first.is_completed() and first.result().quality.sources[0].quarantined == 0
    settings = load_settings(config)
    live = {p: p.read_bytes() for p in output_paths(settings)}
    # ratings out of 20 on a 10-point source: 10 of 40 records quarantined, past the default 10%
    (landing / "b.csv").write_text(header + "".join(
        f"s{i},tt1,late{i},2023-01-01,{11 + i},Out of twenty.\n" for i in range(10)))
    for _ in range(2):
        state = flow_module.reviewpipe_pipeline(config_path=str(config), return_state=True)
        runs = task_runs(state.state_details.flow_run_id)
        assert state.is_failed() and runs["quality"].state.is_failed()
        assert "10 of its 40 records quarantined" in state.message and "b.csv row 1" in state.message
        assert "publish" not in runs and "go-live" not in runs
        assert {p: p.read_bytes() for p in output_paths(settings)} == live
