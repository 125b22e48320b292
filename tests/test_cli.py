"""The command line: help with an example on every command, user errors as one message, real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewpipe.cli import main


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
