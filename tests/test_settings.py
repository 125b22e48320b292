"""Settings: the TOML contract, relative paths, REVIEWPIPE_* overrides and clear config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import load_settings

CONTRACT = """
[paths]
warehouse = "data/warehouse.duckdb"
published = "data/reports.duckdb"
exports = "data/exports"

[[sources]]
name = "imdb_reviews"
kind = "reviews"
path = "../shared/data/imdb_movie_reviews_helpful/*/movieReviews.csv"
format = "csv"
rating_scale = 10
[sources.options]
header = true
[sources.columns]
title_id = "regexp_extract(filename, '([^/]+)/movieReviews.csv', 1)"
review_date = "strptime(\\"Date of Review\\", '%d %B %Y')::date"
helpful_votes = "Usefulness Vote"
"""


def test_the_issue_contract_loads_and_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "proj" / "reviewpipe.toml"
    config.parent.mkdir()
    config.write_text(CONTRACT)
    s = load_settings(config)
    # relative paths resolve against the folder the config file is in, not the working folder
    assert s.warehouse_path == tmp_path / "proj" / "data" / "warehouse.duckdb"
    assert s.published_path == tmp_path / "proj" / "data" / "reports.duckdb"
    src = s.source("imdb_reviews")
    assert src.columns["helpful_votes"] == "Usefulness Vote"
    assert src.columns["review_date"] == "strptime(\"Date of Review\", '%d %B %Y')::date"
    assert src.options == {"header": True}
    assert not s.uses_sample


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "reviewpipe.toml"
    config.write_text(CONTRACT)
    monkeypatch.setenv("REVIEWPIPE_PATHS__PUBLISHED", "/srv/reports.duckdb")
    monkeypatch.setenv("REVIEWPIPE_SENTIMENT__WORKERS", "3")
    s = load_settings(config)
    assert s.published_path == Path("/srv/reports.duckdb")
    assert s.sentiment.workers == 3
    # values the variables do not name keep the file's
    assert s.warehouse_path == tmp_path / "data" / "warehouse.duckdb"


def test_no_sources_means_the_embedded_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWPIPE_CONFIG", raising=False)
    s = load_settings()
    assert s.uses_sample
    assert [src.name for src in s.sources] == ["sample_titles", "sample_reviews"]
    assert s.resolve(s.source("sample_reviews").path) == tmp_path / "data/samples/reviews_*.csv"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[sources]]\nname='x'\npath='a.csv'\n[sources.columns]\nstars='s'\n", "stars"),
        ("[[sources]]\nname='x'\npath='a.csv'\nformat='xml'\n", "format"),
        ("[[sources]]\nname='Bad Name'\npath='a.csv'\n", "lowercase"),
        ("[[sources]]\nname='x'\npath='a.csv'\n[sources.options]\ndelimiterr=';'\n", "delimiterr"),
        ("[[sources]]\nname='x'\npath='a.csv'\n[[sources]]\nname='x'\npath='b.csv'\n", "unique"),
        ("[paths\n", "not valid TOML"),
        ("[pathz]\nwarehouse='x'\n", "pathz"),
    ],
)
def test_config_mistakes_are_one_clear_error_naming_the_file(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(ReviewpipeError, match=message) as info:
        load_settings(config)
    assert str(config) in str(info.value)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReviewpipeError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
