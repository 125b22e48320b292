"""The command line: help with an example on every command, user errors as one message, real runs."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
from datetime import timezone
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.cli import main, print_result


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


def test_run_status_export_and_sample_without_prefect(project: Path) -> None:
    done = cli(project, "run", "--no-prefect")
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


def test_sql_and_tables_read_the_published_database(project: Path) -> None:
    assert cli(project, "run", "--no-prefect").returncode == 0
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


def test_sql_without_a_query_opens_a_prompt(project: Path) -> None:
    assert cli(project, "run", "--no-prefect").returncode == 0
    exe = Path(sys.executable).with_name("reviewpipe")
    env = {**__import__("os").environ, "PATH": str(Path(sys.executable).parent)}  # no duckdb CLI on PATH
    done = subprocess.run([str(exe), "sql"], cwd=project, input="select 41 + 1 as answer;\n.quit\n",
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "answer" in done.stdout and "42" in done.stdout


# --- Ad-hoc SQL: the prompt's sandbox, the bounds, strict JSON --------------------------------------


@pytest.fixture
def published(project: Path) -> Path:
    """project with a small published database, written by a real DuckDB session (no run needed)."""
    (project / "data").mkdir()
    with duckdb.connect(str(project / "data" / "reports.duckdb")) as con:
        con.execute("create table agg_title_summary as select 'tt1' as title_id, 'nan'::double as score")
    return project


def test_the_sql_prompt_stays_in_process_with_the_limits_of_a_query(published: Path, tmp_path: Path) -> None:
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
    done = subprocess.run([str(Path(sys.executable).with_name("reviewpipe")), "sql"], cwd=published,
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
    assert sorted(p.name for p in (published / "data").iterdir()) == ["reports.duckdb"]


@pytest.mark.parametrize("setting, value, query, message", [
    ("MEMORY_LIMIT", "20MB", "select len(list(i)) from range(20000000) t(i)",
     "query needs more than 20MB of memory, the limit [sql] memory_limit"),
    ("TIMEOUT_SECONDS", "0.5", "select sum(hash(i)) from range(100000000000) t(i)",
     "query stopped after 0.5 s, the time limit [sql] timeout_seconds"),
])
def test_sql_bounds_come_from_the_config_and_reviewpipe_variables(published: Path, setting: str, value: str,
                                                                 query: str, message: str) -> None:
    # the config file spills to its own folder; the variable sets the bound under test
    (published / "reviewpipe.toml").write_text('[sql]\ntemp_directory = "spill"\n')
    env = {**os.environ, f"REVIEWPIPE_SQL__{setting}": value}
    done = subprocess.run([str(Path(sys.executable).with_name("reviewpipe")), "sql", query], cwd=published,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("reviewpipe: " + message) and done.stderr.count("\n") == 1, done.stderr
    assert list((published / "spill").iterdir()) == []
    assert sorted(p.name for p in (published / "data").iterdir()) == ["reports.duckdb"]


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


def test_sql_json_of_real_query_results_is_strict_json(published: Path) -> None:
    query = ("select score, 'inf'::double as up, '-inf'::double as down, 1.5::double as x, "
             "[1.0, 'nan'::double] as xs, {'a': 'inf'::double, 'b': 2.25::decimal(9, 2)} as s, "
             "map(['nan'::double, 1.0], ['k', 'v']) as m, 'a\\x00b'::blob as bin, "
             "date '2024-02-29' as d, timestamp '2024-02-29 10:00:00' as ts from agg_title_summary")
    done = cli(published, "sql", query, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert _strict_json(done.stdout) == [{
        "score": None, "up": None, "down": None, "x": 1.5, "xs": [1.0, None],
        "s": {"a": None, "b": "2.25"}, "m": {"null": "k", "1.0": "v"}, "bin": "a\\x00b",
        "d": "2024-02-29", "ts": "2024-02-29 10:00:00"}]
