"""The command line: help with an example on every command, user errors as one message, real runs."""

from __future__ import annotations

import contextlib
import errno
import getpass
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timezone
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner
from conftest import write
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.cli import main, print_result, user_errors


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    assert main.commands, "the CLI has no commands"
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.output and command.help, f"{name} lacks help or an example"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a config that uses the embedded sample, with its data kept in the folder."""
    (tmp_path / "reviewpipe.toml").write_text("[sentiment]\nworkers = 2\n")
    return tmp_path


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in project, as a user would."""
    exe = Path(sys.executable).with_name("reviewpipe")
    return subprocess.run([str(exe), *args], cwd=project, capture_output=True, text=True, timeout=300)


SampleRun = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """A copy of a project (as `project` makes it) after one `reviewpipe run --no-prefect` on the
    embedded sample, with what that run printed: the module's tests read one run, not one each."""
    project = tmp_path_factory.mktemp("sample") / "project"
    project.mkdir()
    (project / "reviewpipe.toml").write_text("[sentiment]\nworkers = 2\n")
    done = cli(project, "run", "--no-prefect")
    return shutil.copytree(project, project.with_name("template")), done


@pytest.fixture
def sample_run(sample_template: SampleRun) -> SampleRun:
    """The project of sample_template, put back as it was, where it ran, and what its run printed."""
    template, done = sample_template
    project = template.with_name("project")
    shutil.rmtree(project)
    return shutil.copytree(template, project), done


def test_run_status_export_and_sample_without_prefect(sample_run: SampleRun) -> None:
    project, done = sample_run
    assert done.returncode == 0, done.stderr
    # the run ends with where the outputs are and a table of titles
    assert f"Published database: {project / 'data' / 'reports.duckdb'}" in done.stdout
    assert "Titles by review count" in done.stdout and "tt9000001" in done.stdout
    assert "ERROR" not in done.stdout + done.stderr and "Traceback" not in done.stderr

    status = cli(project, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    by_source = {s["source"]: s for s in data["sources"]}
    assert by_source["sample_reviews"]["files"] == 8 and by_source["sample_reviews"]["rows_quarantined"] > 0
    assert data["runs"][0]["status"] == "succeeded"

    out = project / "handoff"
    exported = cli(project, "export", "--out", str(out), "--table", "agg_title_summary")
    assert exported.returncode == 0, exported.stderr
    assert (out / "agg_title_summary.csv").read_text().startswith("title_id,title,review_count")


def test_user_errors_are_one_message_without_traceback(project: Path) -> None:
    (project / "bad.toml").write_text("[[sources]]\nname = 'x'\npath = 'missing/*.csv'\n")
    done = cli(project, "run", "--no-prefect", "--config", "bad.toml")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "source 'x': path 'missing/*.csv'" in done.stderr and "matches no files" in done.stderr

    nothing = cli(project, "export")
    assert nothing.returncode == 1 and "run `reviewpipe run` first" in nothing.stderr

    unknown = cli(project, "ingest", "notes.txt")
    assert unknown.returncode == 1 and "pass --source NAME" in unknown.stderr


def test_ingest_loads_a_file_as_a_configured_source(project: Path) -> None:
    assert cli(project, "sample").returncode == 0
    extra = project / "extra.csv"
    extra.write_text("title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
                     "tt9000002,ida,2024-01-02,8,1,1,Nice,Quite nice.\n")
    done = cli(project, "ingest", str(extra), "--source", "sample_reviews")
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout and "records=1" in done.stdout


def test_sql_and_tables_read_the_published_database(sample_run: SampleRun) -> None:
    project, done = sample_run
    assert done.returncode == 0, done.stderr
    tables = cli(project, "tables")
    assert tables.returncode == 0 and "agg_title_summary" in tables.stdout and "One row per title" in tables.stdout

    as_csv = cli(project, "sql", "select title_id, review_count from agg_title_summary order by title_id limit 2",
                 "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.splitlines()[0] == "title_id,review_count"
    assert as_csv.stdout.splitlines()[1].startswith("tt9000001,")

    as_json = cli(project, "sql", "select count(*) as n from reviews", "--format", "json")
    assert json.loads(as_json.stdout)[0]["n"] > 2900

    # read-only, and no access to other files: one clear message each, exit 1
    write = cli(project, "sql", "delete from reviews")
    assert write.returncode == 1 and "read-only" in write.stderr and "Traceback" not in write.stderr
    snoop = cli(project, "sql", "select * from read_csv('/etc/passwd')")
    assert snoop.returncode == 1 and "disabled" in snoop.stderr


def test_sql_without_a_query_opens_a_prompt(sample_run: SampleRun) -> None:
    project, done = sample_run
    assert done.returncode == 0, done.stderr
    exe = Path(sys.executable).with_name("reviewpipe")
    env = {**__import__("os").environ, "PATH": str(Path(sys.executable).parent)}  # no duckdb CLI on PATH
    done = subprocess.run([str(exe), "sql"], cwd=project, input="select 41 + 1 as answer;\n.quit\n",
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "answer" in done.stdout and "42" in done.stdout


# --- Ad-hoc SQL: the prompt's sandbox, the bounds, strict JSON --------------------------------------


@pytest.fixture
def sql_project(project: Path) -> Path:
    """project with a small published database, written by a real DuckDB session (no run needed)."""
    (project / "data").mkdir()
    with duckdb.connect(str(project / "data" / "reports.duckdb")) as con:
        con.execute("create table agg_title_summary as select 'tt1' as title_id, 'nan'::double as score")
    return project


def test_the_sql_prompt_stays_in_process_with_the_limits_of_a_query(sql_project: Path, tmp_path: Path) -> None:
    """With a `duckdb` shell on PATH, `reviewpipe sql` still opens its own prompt, where writing
    files, reading other files, attaching, installing and the shell's dot commands all fail."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shell = bin_dir / "duckdb"  # stands for DuckDB's shell: it leaves a mark if it is started
    shell.write_text(f"#!/bin/sh\ntouch {tmp_path / 'shell_started'}\ncat > /dev/null\n")
    shell.chmod(0o755)
    outside = tmp_path / "outside"
    statements = [
        f"copy agg_title_summary to '{outside}.csv';",
        "select * from read_csv('/etc/passwd');",
        f"attach '{outside}.duckdb' as other;",
        "install httpfs;",
        "set memory_limit = '100GB';",
        "create table t as select 1;",
        f".shell touch {outside}.shell",
        f".output {outside}.out",
        "select 41 + 1 as answer;",
    ]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(Path(sys.executable).with_name("reviewpipe")), "sql"], cwd=sql_project,
                          input="\n".join([*statements, ".quit", ""]), capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "shell_started").exists()
    assert "answer" in done.stdout and "42" in done.stdout
    # each escape fails with its reason, and leaves nothing behind
    assert done.stderr.count("disabled by configuration") == 4, done.stderr  # copy, read, attach, install
    assert "configuration has been locked" in done.stderr and "read-only" in done.stderr
    assert ".shell: not a command here" in done.stderr and ".output: not a command here" in done.stderr
    assert not list(tmp_path.glob("outside*"))
    assert sorted(p.name for p in (sql_project / "data").iterdir()) == ["reports.duckdb"]


@pytest.mark.parametrize("setting, value, query, message", [
    ("MEMORY_LIMIT", "20MB", "select len(list(i)) from range(20000000) t(i)",
     "query needs more than 20MB of memory, the limit [sql] memory_limit"),
    ("TIMEOUT_SECONDS", "0.5", "select sum(hash(i)) from range(100000000000) t(i)",
     "query stopped after 0.5 s, the time limit [sql] timeout_seconds"),
])
def test_sql_bounds_come_from_the_config_and_reviewpipe_variables(sql_project: Path, setting: str, value: str,
                                                                 query: str, message: str) -> None:
    # the config file spills to its own folder; the variable sets the bound under test
    (sql_project / "reviewpipe.toml").write_text('[sql]\ntemp_directory = "spill"\n')
    env = {**os.environ, f"REVIEWPIPE_SQL__{setting}": value}
    done = subprocess.run([str(Path(sys.executable).with_name("reviewpipe")), "sql", query], cwd=sql_project,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("reviewpipe: " + message) and done.stderr.count("\n") == 1, done.stderr
    assert list((sql_project / "spill").iterdir()) == []
    assert sorted(p.name for p in (sql_project / "data").iterdir()) == ["reports.duckdb"]


def _strict_json(text: str) -> object:
    """text parsed as JSON, refusing NaN, Infinity and -Infinity (which are not JSON)."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _json_output(columns: list[str], rows: list[tuple]) -> object:
    """What `--format json` prints for these rows, parsed strictly."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_result(columns, rows, "json")
    return _strict_json(out.getvalue())


# the values DuckDB hands Python for its types: doubles (NaN and infinities too), decimals, dates,
# timestamps with and without a zone, intervals, blobs, NULL, and lists, structs and maps of them
json_scalars = st.one_of(
    st.none(), st.floats(), st.decimals(places=3, allow_nan=False), st.integers(), st.booleans(),
    st.text(max_size=8), st.binary(max_size=8), st.dates(), st.datetimes(),
    st.datetimes(timezones=st.just(timezone.utc)), st.timedeltas(),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.text(max_size=4), inner, max_size=3),
    st.dictionaries(st.one_of(st.floats(), st.integers(), st.dates()), inner, max_size=3),
), max_leaves=10)


@settings(max_examples=100, deadline=None)
@given(number=st.floats(), blob=st.binary(max_size=16), nested=json_values)
def test_json_output_is_strict_json_with_null_for_nan_and_infinities(number: float, blob: bytes,
                                                                    nested: object) -> None:
    [row] = _json_output(["number", "blob", "nested"], [(number, blob, nested)])
    # a finite double as it is; NaN, Infinity and -Infinity as null
    assert row["number"] == (number if math.isfinite(number) else None)
    # a blob as DuckDB writes it as text (blob::varchar)
    assert row["blob"] == duckdb.execute("select ?::blob::varchar", [blob]).fetchone()[0]


def test_sql_json_of_real_query_results_is_strict_json(sql_project: Path) -> None:
    query = ("select score, 'inf'::double as up, '-inf'::double as down, 1.5::double as x, "
             "[1.0, 'nan'::double] as xs, {'a': 'inf'::double, 'b': 2.25::decimal(9, 2)} as s, "
             "map(['nan'::double, 1.0], ['k', 'v']) as m, 'a\\x00b'::blob as bin, "
             "date '2024-02-29' as d, timestamp '2024-02-29 10:00:00' as ts from agg_title_summary")
    done = cli(sql_project, "sql", query, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert _strict_json(done.stdout) == [{
        "score": None, "up": None, "down": None, "x": 1.5, "xs": [1.0, None],
        "s": {"a": None, "b": "2.25"}, "m": {"null": "k", "1.0": "v"}, "bin": "a\\x00b",
        "d": "2024-02-29", "ts": "2024-02-29 10:00:00"}]


# --- a run in progress, failures of the machine, one configuration per warehouse (issue 21, 12-14) ---

HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
RUN_ID = r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}"


def small_project(folder: Path) -> Path:
    """A project of one small review file, its warehouse in wh/ and its outputs in out/."""
    write(folder / "landing" / "r1.csv", HEADER + "tt1,ann,2020-01-01,9,1,2,t,Lovely film.\n"
                                                  "tt2,bob,2020-01-02,3,0,0,t,Dull and long.\n")
    (folder / "reviewpipe.toml").write_text(
        '[paths]\nwarehouse = "wh/warehouse.duckdb"\npublished = "out/reports.duckdb"\n'
        'exports = "out/exports"\n[sentiment]\nworkers = 1\n'
        '[[sources]]\nname = "rev"\npath = "landing/*.csv"\n')
    return folder


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return small_project(tmp_path)


@pytest.fixture(scope="module")
def published_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small project after one run, with a new review file for the next run to load."""
    project = small_project(tmp_path_factory.mktemp("confined") / "project")
    assert cli(project, "run", "--no-prefect").returncode == 0
    new_review(project, 1)
    return shutil.copytree(project, project.with_name("template"))


@pytest.fixture
def published(published_template: Path) -> Path:
    """The project of published_template, put back as it was, where it ran: its warehouse belongs to
    its config file's path (item 14)."""
    project = published_template.with_name("project")
    shutil.rmtree(project)
    return shutil.copytree(published_template, project)


def new_review(project: Path, n: int) -> None:
    """A new file in the landing folder, so that the next run has work to do."""
    write(project / "landing" / f"new{n}.csv", HEADER + f"tt{n % 3},user{n},2021-01-01,7,0,1,t,Fine {n}.\n")


def paused_run(project: Path, point: str) -> subprocess.Popen[str]:
    """A real `reviewpipe run` paused at a point (reviewpipe.hooks), once it says so."""
    exe = Path(sys.executable).with_name("reviewpipe")
    run = subprocess.Popen([str(exe), "run", "--no-prefect"], cwd=project, text=True,
                           env={**os.environ, "REVIEWPIPE_PAUSE_AT": point},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert run.stderr.readline().strip() == f"reviewpipe: paused at {point}"
    return run


def timed_status(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = cli(project, "status", *args)
    return done, time.monotonic() - started


def stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()


def test_a_run_holds_the_warehouse_open_from_its_start_to_its_end(published: Path) -> None:
    # its stages share one open database (pipeline.run_stages): paused between two of them (at
    # metrics no stage has a connection of its own), another program still cannot open it
    run = paused_run(published, "metrics")
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(published / "wh" / "warehouse.duckdb"), read_only=True)
    finally:
        stop(run)
    assert cli(published, "run", "--no-prefect").returncode == 0  # and the next run completes


@pytest.mark.slow
def test_status_answers_at_once_during_a_run_saying_who_runs_since_when(small: Path) -> None:
    # Before: status waited 30 s for the warehouse the run holds, then failed. Now it never waits:
    # who runs comes from the run lock file, the figures from the published database.
    me, host = getpass.getuser(), socket.gethostname()
    # 1. the first run ever, paused inside its staging transaction: the warehouse is open for
    # writing and nothing is published yet
    run = paused_run(small, "staging")
    try:
        done, seconds = timed_status(small, "--format", "json")
        assert done.returncode == 0 and seconds < 10, (seconds, done.stderr)
        data = json.loads(done.stdout)
        holder = data["run_in_progress"]
        assert (holder["pid"], holder["user"], holder["host"]) == (run.pid, me, host)
        assert re.fullmatch(RUN_ID, holder["run_id"])
        started = datetime.strptime(holder["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - started).total_seconds()) < 120
        assert data["sources"] == [] and "no published database" in data["figures_from"]
    finally:
        stop(run)
    # 2. a later run, paused between two stages (metrics: the run holds the warehouse and the lock):
    # the figures are the published database's, labelled as such
    assert cli(small, "run", "--no-prefect").returncode == 0
    new_review(small, 1)
    run = paused_run(small, "metrics")
    try:
        done, seconds = timed_status(small)
        assert done.returncode == 0 and seconds < 10, (seconds, done.stderr)
        assert re.search(rf"A run is in progress: pid {run.pid}, user {re.escape(me)} on host "
                         rf"{re.escape(host)}, run {RUN_ID}, since 20\d\d-", done.stdout), done.stdout
        assert "as of the last published run" in done.stdout
        data = json.loads(cli(small, "status", "--format", "json").stdout)
        # the published load log knows the one file of the last published run, not the new one
        assert [(s["source"], s["files"], s["records_read"]) for s in data["sources"]] == [("rev", 1, 2)]
        assert data["run_in_progress"]["pid"] == run.pid and data["runs"] == []
    finally:
        stop(run)
    # 3. no run, but another program holds the warehouse open for writing: said at once too
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                                "print('ready', flush=True); time.sleep(60)"),
         str(small / "wh" / "warehouse.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        done, seconds = timed_status(small, "--format", "json")
        assert done.returncode == 0 and seconds < 10, (seconds, done.stderr)
        data = json.loads(done.stdout)
        assert data["run_in_progress"] is None and f"PID {holder.pid}" in data["warehouse_in_use"]
        assert [s["files"] for s in data["sources"]] == [1]
    finally:
        stop(holder)


def digests(folder: Path) -> dict[str, str]:
    """Every file under folder, hidden ones too, by relative path: its sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_clean_line(done: subprocess.CompletedProcess[str], names: Path, *phrases: str) -> str:
    """The command failed with exit 1 and one line on stderr, no traceback, naming a file under
    `names` (or `names` itself) and saying each phrase; the line."""
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("reviewpipe: ")]
    assert len(lines) == 1, done.stderr[-2000:]
    assert str(names) in lines[0] and all(p in lines[0] for p in phrases), lines[0]
    return lines[0]


def _namespaces_work() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rm", "true"], check=False, capture_output=True).returncode == 0


# A read-only folder or a full disk that stops root too (chmod does not): a mount of the run's own,
# in a user and mount namespace (unshare -rm), where any user may mount a read-only bind or a small
# tmpfs. The disk is really full and the folder really read-only: the errors are the kernel's.
needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="needs unshare -rm (user and mount namespaces) to mount a "
                                   "read-only folder or a small disk")

# the digests of a folder, written to a file: taken inside the namespace, where a tmpfs lives
_DIGEST = ("import hashlib, json, pathlib, sys; root = pathlib.Path(sys.argv[1]); "
           "json.dump({str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() "
           "for p in sorted(root.rglob('*')) if p.is_file()}, open(sys.argv[2], 'w'))")


def run_confined(project: Path, mount: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`reviewpipe ARGS` in project, in a mount namespace of its own set up by the shell commands
    `mount`; with the digests of out/ as it left them."""
    exe = Path(sys.executable).with_name("reviewpipe")
    script = (f'set -e; {mount}; set +e; "$@"; rc=$?; '
              f'"{sys.executable}" -c "$DIGEST" out "{project}/after.json"; exit $rc')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(exe), *args], check=False,
                          cwd=project, env={**os.environ, "DIGEST": _DIGEST}, capture_output=True,
                          text=True, timeout=300)
    return done, json.loads((project / "after.json").read_text())


@needs_namespaces
@pytest.mark.parametrize("folder", ["out", "out/exports", "wh"])
def test_a_read_only_folder_is_one_message_naming_the_file(published: Path, folder: str) -> None:
    before = digests(published / "out")
    done, after = run_confined(published, read_only(folder), "run", "--no-prefect")
    assert_one_clean_line(done, published / folder, "Read-only file system", "run again")
    assert after == before  # the published database and exports as they were, no leftovers


def read_only(folder: str) -> str:
    """Shell commands that make folder read-only in the current mount namespace."""
    return f"mount --bind {folder} {folder}; mount -o remount,ro,bind {folder}"


@needs_namespaces
@pytest.mark.parametrize(("folder", "room"), [("out", 0.0), ("out", 0.5), ("wh", 0.0)])
def test_a_full_disk_is_one_message_naming_the_file(published: Path, folder: str, room: float) -> None:
    # The folder is a tmpfs holding what it held and `room` times that much more: full at another
    # write each time (the new published database; its report; the warehouse's write-ahead log).
    before = digests(published / "out")
    seed = shutil.copytree(published / folder, published / "seed")
    pages = sum(-(-p.stat().st_size // 4096) for p in seed.rglob("*") if p.is_file())
    size_kb = 4 * pages + 64 + int(room * 4 * pages)
    done, after = run_confined(
        published, f"mount -t tmpfs -o size={size_kb}k tmpfs {folder}; cp -a seed/. {folder}/",
        "run", "--no-prefect")
    assert_one_clean_line(done, published / folder, "No space left on device", "run again")
    assert after == before


@needs_namespaces
@pytest.mark.slow
def test_a_read_only_published_folder_through_prefect_is_one_message(published: Path) -> None:
    # Prefect re-raises the task's exception in the command; its log keeps the message, not the traceback
    before = digests(published / "out")
    done, after = run_confined(published, read_only("out"), "run", "--prefect")
    assert_one_clean_line(done, published / "out", "Read-only file system", "run again")
    assert after == before
    # Prefect's per-task INFO lines stay off the terminal (they go to the server's run log)
    assert "| INFO" not in done.stdout + done.stderr


@pytest.mark.parametrize("start", [0, 4096, 0.5])
def test_a_corrupt_warehouse_is_one_message_saying_how_to_rebuild_it(published: Path, start: float) -> None:
    # garbage from `start` to the end: no DuckDB file at all (0), a corrupt first block (found when
    # the file is opened), corrupt blocks further on (found by the run's first queries)
    warehouse = published / "wh" / "warehouse.duckdb"
    offset = int(start * warehouse.stat().st_size) if isinstance(start, float) else start
    with warehouse.open("r+b") as f:
        f.seek(offset)
        f.write(random.Random(offset).randbytes(warehouse.stat().st_size - offset))
    before = digests(published / "out")
    done = cli(published, "run", "--no-prefect")
    assert_one_clean_line(done, warehouse, "is corrupt", "Move it aside", "--full-refresh")
    assert digests(published / "out") == before
    # what the message says to do works
    warehouse.rename(warehouse.with_name("warehouse.duckdb.corrupt"))
    again = cli(published, "run", "--no-prefect", "--full-refresh")
    assert again.returncode == 0, again.stderr
    assert "Published database" in again.stdout


@pytest.mark.slow
def test_a_warehouse_refuses_another_configuration_unless_it_takes_the_warehouse_over(tmp_path: Path) -> None:
    def config(name: str, extra: str = "") -> Path:
        # a and b share the warehouse, each with its own files and outputs
        write(tmp_path / name / "r.csv", HEADER + f"tt1,{name}_ann,2020-01-01,9,1,2,t,Lovely film.\n")
        path = tmp_path / f"{name}.toml"
        path.write_text(f'[paths]\nwarehouse = "shared/warehouse.duckdb"\npublished = "{name}/out/reports.duckdb"\n'
                        f'exports = "{name}/out/exports"\n[sentiment]\nworkers = 1\n{extra}'
                        f'[[sources]]\nname = "{name}_rev"\npath = "{name}/*.csv"\n')
        return path

    def loaded_sources() -> list[tuple[str]]:
        with duckdb.connect(str(tmp_path / "shared" / "warehouse.duckdb"), read_only=True) as con:
            return con.execute("select distinct source from load_log order by 1").fetchall()

    a, b = config("a"), config("b")
    assert cli(tmp_path, "run", "--no-prefect", "--config", "a.toml").returncode == 0
    # an edited config file is the same configuration, under any spelling of its path
    config("a", "[metrics]\ntop_helpful_per_title = 3\n")
    assert cli(tmp_path, "run", "--no-prefect", "--config", "a/../a.toml").returncode == 0
    a_out = digests(tmp_path / "a" / "out")
    # b is refused, by run and by ingest, before it loads or publishes anything
    for command in (["run", "--no-prefect"], ["ingest", "b/r.csv"]):
        refused = cli(tmp_path, *command, "--config", "b.toml")
        assert_one_clean_line(refused, tmp_path / "shared" / "warehouse.duckdb", f"belongs to the configuration {a}",
                              f"this is {b}", "--take-over-warehouse")
    assert not (tmp_path / "b" / "out").exists() and digests(tmp_path / "a" / "out") == a_out
    assert loaded_sources() == [("a_rev",)]
    # b takes it over: a's files are forgotten, b publishes its own data alone
    taken = cli(tmp_path, "run", "--no-prefect", "--config", "b.toml", "--take-over-warehouse")
    assert taken.returncode == 0, taken.stderr
    assert f"now belongs to {b}" in taken.stdout
    assert loaded_sources() == [("b_rev",)]
    with duckdb.connect(str(tmp_path / "b" / "out" / "reports.duckdb"), read_only=True) as con:
        assert con.execute("select author from reviews").fetchall() == [("b_ann",)]
    # now a is the other one; it takes the warehouse back through ingest
    refused = cli(tmp_path, "run", "--no-prefect", "--config", "a.toml")
    assert_one_clean_line(refused, tmp_path / "shared", f"belongs to the configuration {b}")
    assert digests(tmp_path / "a" / "out") == a_out
    back = cli(tmp_path, "ingest", "a/r.csv", "--config", "a.toml", "--take-over-warehouse")
    assert back.returncode == 0 and loaded_sources() == [("a_rev",)], back.stderr


_MACHINE_ERRNOS = [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM]


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(_MACHINE_ERRNOS), carrier=st.sampled_from(["python", "copy", "duckdb"]),
       name=st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"'),
                    min_size=1, max_size=30))
def test_a_full_disk_or_unwritable_file_met_anywhere_is_one_line_naming_it(code: int, carrier: str,
                                                                          name: str) -> None:
    # the three ways such a failure reaches a command: Python's OSError, shutil's copy (it names the
    # source, then the file written), DuckDB's error text with the file in quotes
    path = f"/srv/{name}/reports.duckdb"
    exc: Exception = {
        "python": OSError(code, os.strerror(code), path),
        "copy": OSError(code, os.strerror(code), "/srv/live.duckdb", None, path),
        "duckdb": duckdb.IOException(f'IO Error: Could not write file "{path}": {os.strerror(code)}'),
    }[carrier]

    @click.command()
    @user_errors
    def failing() -> None:
        raise exc

    result = CliRunner().invoke(failing, [])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("reviewpipe: "), result.stderr
    assert " ".join(path.split()) in lines[0] and "run again" in lines[0]


@pytest.mark.parametrize("exc", [OSError(errno.ENOENT, "No such file or directory", "/x"), ValueError("bug"),
                                 duckdb.InternalException("bug")])
def test_other_failures_keep_their_traceback(exc: Exception) -> None:
    # only what a user can fix becomes a message; anything else is a defect to report, traceback and all
    @click.command()
    @user_errors
    def failing() -> None:
        raise exc

    assert CliRunner().invoke(failing, []).exception is exc


# ---- issue 22, items 6 and 9: a run that went wrong says so; the first minutes ----

def landing_with_strays(project: Path, seed: int) -> None:
    """A landing folder holding a good file of 30 reviews beside an empty one, a header-only one,
    one with other columns and one of random bytes, and a config that reads them all."""
    good = "".join(f"tt{i % 3},user{i},2021-01-0{1 + i % 9},{1 + i % 10},1,2,t,Good film {i}.\n" for i in range(30))
    write(project / "landing" / "good.csv", HEADER + good)
    write(project / "landing" / "empty.csv", "")
    write(project / "landing" / "header_only.csv", HEADER)
    write(project / "landing" / "other_columns.csv", "sku,price\nA1,9.99\nB2,4.50\n")
    (project / "landing" / "random.csv").write_bytes(random.Random(seed).randbytes(3000))
    (project / "reviewpipe.toml").write_text(
        '[paths]\nwarehouse = "wh/warehouse.duckdb"\npublished = "out/reports.duckdb"\n'
        'exports = "out/exports"\n[sentiment]\nworkers = 1\n'
        '[[sources]]\nname = "rev"\npath = "landing/*.csv"\n')


@pytest.mark.parametrize("seed", [1])
def test_good_rows_beside_stray_files_publish_and_the_exit_status_follows_the_quality_limits(
        tmp_path: Path, seed: int) -> None:
    landing_with_strays(tmp_path, seed)
    done = cli(tmp_path, "run")
    assert done.returncode == 0, done.stderr
    pub = duckdb.connect(str(tmp_path / "out" / "reports.duckdb"), read_only=True)
    assert pub.execute("select count(*) from reviews").fetchone() == (30,)
    # every other file is recorded: in the load log, and unless it held nothing, in quarantine
    logged = dict(pub.execute("select file_path, status from load_log").fetchall())
    assert {Path(p).name for p in logged} == {"good.csv", "empty.csv", "header_only.csv",
                                              "other_columns.csv", "random.csv"}
    recorded = {Path(p).name for (p,) in pub.execute("select distinct file_path from quarantine").fetchall()}
    pub.close()
    assert {"other_columns.csv", "random.csv"} <= recorded and "good.csv" not in recorded
    # the run's last lines: what was quarantined, by source and reason, each with an example
    assert "Quarantined in source 'rev':" in done.stdout and "random.csv" in done.stdout

    # with a limit the strays pass, the run publishes nothing new and says why, reason by reason
    write(tmp_path / "landing" / "good2.csv", HEADER + "tt1,late,2021-02-01,8,1,2,t,Late and fine.\n")
    before = digests(tmp_path / "out")
    strict = cli_env(tmp_path, {"REVIEWPIPE_QUALITY__MAX_UNREADABLE_SHARE": "0.1"}, "run")
    line = assert_one_clean_line(strict, tmp_path / "landing", "max_unreadable_share = 0.1",
                                 "published nothing new")
    assert "files unreadable" in line
    assert "random.csv" in strict.stdout and " like " in strict.stdout
    assert digests(tmp_path / "out") == before


def cli_env(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """cli() with more environment variables."""
    exe = Path(sys.executable).with_name("reviewpipe")
    return subprocess.run([str(exe), *args], cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_a_run_with_nothing_new_answers_through_the_readmes_command_without_prefect(small: Path) -> None:
    env = {"PREFECT_API_URL": ""}  # no Prefect server configured, as on a fresh machine
    first = cli_env(small, env, "run")
    assert first.returncode == 0, first.stderr
    # progress, as plain lines when stdout is not a terminal: files loaded, texts scored, rate
    assert re.search(r"^loaded .*r1\.csv: 2 records \(1 file, 2 records so far\)$", first.stdout,
                     re.MULTILINE), first.stdout
    assert re.search(r"^scored 2 of 2 texts, [0-9,]+/s, about 0 s left$", first.stdout, re.MULTILINE)
    again = cli_env(small, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, "run")
    assert again.returncode == 0, again.stderr
    assert "Nothing new since run" in again.stdout
    # the stages ran in the command's own process: Prefect was not even imported, so no temporary
    # server was started (most of what such a run took)
    imported = [line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines()
                if line.startswith("import time:")]
    assert "duckdb" in imported and not [m for m in imported if m.split(".")[0] == "prefect"]


def test_progress_on_a_terminal_is_a_live_display_of_files_and_texts(monkeypatch) -> None:
    from rich.console import Console

    from reviewpipe import cli as cli_module
    from reviewpipe.ingest import FileLoad

    screen = io.StringIO()
    monkeypatch.setattr(cli_module, "console", Console(file=screen, force_terminal=True, width=120))
    with cli_module.RunProgress() as progress:
        assert progress.live
        progress.loaded(FileLoad("rev", "landing/a.csv", "loaded", records=1500))
        progress.scored(0, 4000)
        progress.scored(2000, 4000)
    shown = screen.getvalue()
    assert "files loaded" in shown and "1,500 records" in shown
    assert "texts scored" in shown and "2000/4000" in shown and "/s" in shown and "left" in shown


def test_prefects_info_lines_stay_off_the_terminal_unless_asked_for(monkeypatch) -> None:
    import logging

    from reviewpipe.cli import load_flow

    def console_levels() -> list[int]:
        return [h.level for h in logging.getLogger().handlers]

    monkeypatch.delenv("PREFECT_LOGGING_LEVEL", raising=False)
    try:
        load_flow(quiet=True)
        assert console_levels() and set(console_levels()) == {logging.WARNING}
        monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "INFO")  # asked for in the environment
        load_flow(quiet=True)
        assert logging.WARNING not in console_levels()
    finally:
        load_flow()  # Prefect's own logging set-up again, for the tests after this one
    assert logging.WARNING not in console_levels()


def test_the_run_says_what_the_trust_tests_found(sample_run: SampleRun) -> None:
    project, done = sample_run
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(project / "data" / "reports.duckdb"), read_only=True)
    try:
        tested, fail, warn, passed = con.execute(
            "select count(trust_verdict), count(*) filter (trust_verdict = 'fail'), "
            "count(*) filter (trust_verdict = 'warn'), count(*) filter (trust_verdict = 'pass') "
            "from agg_title_summary").fetchone()
        flagged = con.execute("select count(distinct review_id) from agg_trust_flagged_reviews").fetchone()[0]
    finally:
        con.close()
    # the sample's ten titles all have enough rated reviews to be tested, and its invented reviews
    # hold no campaign: no title fails (its sentences are worded apart, sample._worded; written word
    # for word, Northern Harvest's 171 positive reviews failed repeated_phrases)
    assert tested == 10 and fail == 0 and flagged == 0
    line = _trust_line(done.stdout)
    assert line.startswith(f"Trust: {tested} titles tested: {fail} fail a test, {warn} warn, {passed} pass; "
                           f"{flagged} reviews flagged (agg_trust_flagged_reviews)"), line


def _trust_line(stdout: str) -> str:
    """The run's "Trust: ..." line, joined back where the terminal wrapped it."""
    lines = stdout.splitlines()
    start = next(i for i, li in enumerate(lines) if li.startswith("Trust: "))
    end = next(i for i in range(start + 1, len(lines) + 1) if i == len(lines) or lines[i - 1].endswith("."))
    return " ".join(li.strip() for li in lines[start:end])


def test_the_trust_line_counts_titles_and_reviews_once(tmp_path: Path) -> None:
    from reviewpipe.summary import trust_line

    database = tmp_path / "reports.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create table agg_title_summary (title_id varchar, title varchar, trust_verdict varchar, "
                "failed_tests varchar, rating_mean double, adjusted_rating double)")
    con.execute("insert into agg_title_summary values "
                "('t1', 'One', 'fail', 'burst,incentivized', 4.5, 3.25), ('t2', null, 'fail', 'burst', 2.0, 2.5), "
                "('t3', 'Three', 'warn', null, 3.0, 3.0), ('t4', 'Four', 'pass', null, 4.0, 4.0), "
                "('t5', 'Five', null, null, 5.0, null)")
    con.execute("create table agg_trust_flagged_reviews (review_id varchar, title_id varchar, test varchar)")
    # r1 is in two failing subsets: one review flagged; t2 has three flagged reviews, t1 two
    con.execute("insert into agg_trust_flagged_reviews values ('r1', 't1', 'burst'), ('r1', 't1', 'incentivized'), "
                "('r2', 't1', 'burst'), ('r3', 't2', 'burst'), ('r4', 't2', 'burst'), ('r5', 't2', 'burst')")
    con.close()
    # t5 is untested (no verdict); most flagged first, a title without a name by its id
    assert trust_line(database) == (
        "4 titles tested: 2 fail a test, 1 warn, 1 pass; 5 reviews flagged (agg_trust_flagged_reviews); "
        "most flagged: t2 (burst: 3 reviews; rating 2.00 -> 2.50), One (burst,incentivized: 2 reviews; "
        "rating 4.50 -> 3.25)")
    assert trust_line(database, worst=1).endswith("most flagged: t2 (burst: 3 reviews; rating 2.00 -> 2.50)")

    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    con.execute("create table agg_title_summary (title_id varchar, title varchar, trust_verdict varchar, "
                "failed_tests varchar, rating_mean double, adjusted_rating double)")
    con.execute("insert into agg_title_summary values ('t1', 'One', null, null, 4.0, null)")
    con.execute("create table agg_trust_flagged_reviews (review_id varchar, title_id varchar, test varchar)")
    con.close()
    assert trust_line(empty) == "no title has enough rated reviews to test ([trust] min_title_reviews)"


def test_the_run_artifact_carries_the_trust_line() -> None:
    from reviewpipe.pipeline import RunSummary
    from reviewpipe.summary import summary_markdown

    lines = summary_markdown(RunSummary("r1", trust="4 titles tested: 2 fail a test")).splitlines()
    assert "- trust: 4 titles tested: 2 fail a test" in lines
    # a run that tested nothing says nothing of trust
    assert not any(li.startswith("- trust") for li in summary_markdown(RunSummary("r2")).splitlines())
