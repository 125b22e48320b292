"""Shared fixtures: settings whose warehouse, published file and exports live in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewpipe.settings import Paths, Settings, Source

# Prefect's telemetry cannot reach the internet here; keep test logs free of its ERROR line.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The temporary server a `reviewpipe run` starts may take more than its default 20 s on two busy
# cores (the suite runs two workers; a new Prefect home migrates its database first).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

# Under pytest-xdist (addopts: -n auto) each worker gets its own Prefect home, so the temporary
# servers, databases and result storage of two workers' runs never share a file. Set before any
# test module imports prefect (prefect reads its settings at import).
if os.environ.get("PYTEST_XDIST_WORKER"):
    import atexit
    import shutil
    import tempfile

    _prefect_home = tempfile.mkdtemp(prefix=f"reviewpipe-prefect-{os.environ['PYTEST_XDIST_WORKER']}-")
    os.environ["PREFECT_HOME"] = _prefect_home
    atexit.register(shutil.rmtree, _prefect_home, ignore_errors=True)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings rooted in tmp_path; sources are Source objects or dicts of Source fields."""

    def build(*sources: Source | dict[str, Any], workers: int = 1, **extra: Any) -> Settings:
        return Settings(
            paths=Paths(
                warehouse=tmp_path / "warehouse.duckdb",
                published=tmp_path / "reports.duckdb",
                exports=tmp_path / "exports",
                samples=tmp_path / "samples",
            ),
            sources=[s if isinstance(s, Source) else Source(**s) for s in sources],
            sentiment={"workers": workers},
            **extra,
        )

    return build


def write(path: Path, text: str) -> Path:
    """Write text to path (creating folders) exactly as given, and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def published_rows(database: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, sorted; the load log less when and by which run each file loaded
    (what two runs over the same files must agree on)."""
    import duckdb

    from reviewpipe.schema import PUBLISHED_TABLES

    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = {t: con.execute(f"select * from {t} order by all").fetchall()
                  for t in PUBLISHED_TABLES if t != "load_log"}
        tables["load_log"] = con.execute(
            "select * exclude (run_id, loaded_at) from load_log order by all").fetchall()
        return tables
    finally:
        con.close()


@pytest.fixture(scope="session")
def flow_module():
    """The Prefect flow's module (reviewpipe.flow; flows/pipeline.py, the deployment entrypoint,
    imports it)."""
    from reviewpipe import flow

    return flow


@pytest.fixture(scope="module")
def prefect_server():
    """One temporary Prefect server (prefect_test_harness) for a module's flow runs, as Prefect's
    testing guide suggests: on two busy cores one can take longer to start than the harness's
    default 30 s limit, hence 120 s. Per module, not per session: the harness's threads and settings
    end with the module. Each test reads its own flow run's records."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# The modules that take longest, longest first: seconds of one worker (setup + call, summed over the
# module), measured with `pytest --durations=0` at issue 25 on the 2-core VM (bench/README.md, "The
# test suite at issue 25"). Under --dist loadfile a module is one unit of work on one worker, and a
# worker takes its next module before it ends the one it runs: started last, a long module keeps the
# suite waiting on one core while the other has nothing left. Started first, longest first (the
# longest-processing-time rule), the short modules fill in at the end. Only the order: every test
# runs, a module missing here (a new one) runs after these, modules holding a slow test first.
LONGEST_FIRST = (
    "test_pipeline.py",  # ~600 s at load 12-15: many tests, each its own small runs
    "test_cli.py",  # ~540 s: ~40 `reviewpipe` commands, each a new process
    "test_broken_inputs.py",  # its 50 MB review alone ~170 s
    "test_crash.py",  # one test: 25 runs, 8 of them `reviewpipe run` processes killed
    "test_concurrency.py",
    "test_flow.py",
    "test_acceptance_vader.py",
    "test_fuzz_readers.py",
    "test_ingest.py",
    "test_dask.py",
    "test_serve.py",
    "test_trust_harness.py",  # one module fixture: 9 pipeline runs on real corpora, ~140 s
    "test_acceptance.py",
    "test_bench.py",
    "test_reaper.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the modules of LONGEST_FIRST run first, in its order; then the other
    modules holding a test marked slow, then the rest (each group in its usual order)."""
    if not hasattr(config, "workerinput"):
        return
    slow = {item.module for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in LONGEST_FIRST:
            return LONGEST_FIRST.index(name)
        return len(LONGEST_FIRST) + (item.module not in slow)

    items.sort(key=rank)  # stable: the order within a module stays
