"""The README says what the code does: its published tables are the schema's, its commands run."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import write

from reviewpipe import schema

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_describes_the_published_tables_as_the_schema_does() -> None:
    """The README's "Published tables" holds what `python -m reviewpipe.schema` prints, and no other
    table (tests/test_schema.py holds the published database's comments to the same words)."""
    readme = README.read_text(encoding="utf-8")
    assert schema.tables_markdown() in readme, (
        "README's published tables differ from reviewpipe.schema: paste `python -m reviewpipe.schema` "
        "over them")
    section = re.search(r"^## Published tables\n(.*?)(?=^## )", readme, re.DOTALL | re.MULTILINE).group(1)
    assert re.findall(r"^### `(\w+)`", section, re.MULTILINE) == list(schema.PUBLISHED_TABLES)


def test_the_readme_names_the_input_fields_of_the_schema() -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())
    for kind, fields in (("Review", schema.REVIEW_FIELDS), ("Title", schema.TITLE_FIELDS)):
        assert f"{kind} fields: {', '.join(fields)}." in readme, kind


def test_the_committed_prefect_yaml_follows_the_committed_config(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reviewpipe.cli import main

    repo = Path(__file__).resolve().parents[1]
    checked = CliRunner().invoke(main, ["prefect-yaml", "--config", str(repo / "reviewpipe.toml"), "--check"])
    assert checked.exit_code == 0, checked.output
    # a changed schedule makes the check fail until the file is rewritten
    config = write(tmp_path / "reviewpipe.toml", '[schedule]\ncron = "0 5 * * *"\n')
    (tmp_path / "prefect.yaml").write_text((repo / "prefect.yaml").read_text())
    stale = CliRunner().invoke(main, ["prefect-yaml", "--config", str(config), "--check"])
    assert stale.exit_code == 1 and "does not match [schedule]" in stale.output
    assert CliRunner().invoke(main, ["prefect-yaml", "--config", str(config)]).exit_code == 0
    assert "- cron: 0 5 * * *" in (tmp_path / "prefect.yaml").read_text()
    assert CliRunner().invoke(main, ["prefect-yaml", "--config", str(config), "--check"]).exit_code == 0


# ---- the README's first minutes (issue 22, item 9) ----

REPO = README.parent


def quickstart_commands() -> list[list[str]]:
    """Every command of the README's Quickstart, split as the shell splits it: each line of its code
    blocks, and each `inline code` of its text that holds a space (a command with arguments)."""
    import shlex

    section = re.search(r"^## Quickstart\n(.*?)(?=^## )", README.read_text(encoding="utf-8"),
                        re.DOTALL | re.MULTILINE).group(1)
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL) for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", section, flags=re.DOTALL)
    lines += [span for span in re.findall(r"`([^`\n]+)`", prose) if " " in span.strip()]
    return [shlex.split(line, comments=True) for line in lines if shlex.split(line, comments=True)]


def make_recipes() -> dict[str, list[str]]:
    """The Makefile's targets and their recipe lines."""
    recipes: dict[str, list[str]] = {}
    target = None
    for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([a-z][a-z_-]*):", line):
            target = match.group(1)
            recipes.setdefault(target, [])
        elif line.startswith("\t") and target:
            recipes[target].append(line.strip())
    return recipes


def test_every_reviewpipe_command_the_readme_names_exists() -> None:
    from reviewpipe.cli import main

    readme = README.read_text(encoding="utf-8")
    code = " ".join(re.findall(r"```.*?```|`[^`\n]+`", readme, re.DOTALL))
    named = set(re.findall(r"(?<![\w./-])reviewpipe ([a-z][a-z-]*)", code))
    assert named and named <= set(main.commands), sorted(named - set(main.commands))


def test_the_quickstart_commands_exist_and_run_as_written(tmp_path: Path, monkeypatch) -> None:
    """Each Quickstart command is a Makefile target or the console script make installs in .venv/bin
    (`reviewpipe` in pyproject.toml, make's BIN); the reviewpipe commands, and what `make run`
    runs, are run here in a small project (make's set-up, a venv install, is what CI's `make test` does)."""
    from click.testing import CliRunner

    from reviewpipe.cli import main

    recipes = make_recipes()
    assert 'reviewpipe = "reviewpipe.cli:main"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^BIN := \$\(VENV\)/bin$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert re.search(r"^VENV := \.venv$", (REPO / "Makefile").read_text(), re.MULTILINE)
    commands = quickstart_commands()
    assert ["make", "run"] in commands and ["make", "test"] in commands
    write(tmp_path / "landing" / "r.csv", "title_id,author,review_date,rating,review_text\n"
                                          "tt1,ann,2020-01-01,9,Lovely.\ntt1,bob,2020-02-01,2,Awful.\n")
    write(tmp_path / "reviewpipe.toml", "[sentiment]\nworkers = 1\n[[sources]]\nname = 'r'\n"
                                        "path = 'landing/*.csv'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    outputs = []
    for command in commands:
        if command == ["source", ".venv/bin/activate"]:
            continue  # the venv make creates (VENV, checked above)
        if command[0] == "make":
            assert len(command) == 2 and command[1] in recipes, command
            if command[1] != "run":
                continue  # `make test` is the suite itself
            (recipe,) = [r for r in recipes["run"] if "reviewpipe" in r]
            assert recipe == "$(BIN)/reviewpipe run", recipe
            args = ["run"]
        else:
            assert command[0] == ".venv/bin/reviewpipe", f"not a command a fresh machine has: {command}"
            args = command[1:]
        result = CliRunner().invoke(main, args, input=".quit\n", catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    text = "\n".join(outputs)
    assert "agg_title_summary" in text and "tt1" in text and "Nothing new since run" in text
