"""The Prefect flow end to end under prefect_test_harness (a real, temporary Prefect server)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.testing.utilities import prefect_test_harness

from reviewpipe.publish import PUBLISHED_TABLES

FLOW_FILE = Path(__file__).resolve().parents[1] / "flows" / "pipeline.py"


@pytest.fixture(scope="module")
def flow_module():
    spec = importlib.util.spec_from_file_location("flows_pipeline_under_test", FLOW_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_flow_runs_every_stage_and_publishes(flow_module, tmp_path: Path) -> None:
    config = tmp_path / "reviewpipe.toml"
    config.write_text("[sentiment]\nworkers = 1\n")
    with prefect_test_harness():
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
