"""Settings: the TOML contract, relative paths, REVIEWPIPE_* overrides and clear config errors."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import Source, load_settings

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


# --- rating scales ---------------------------------------------------------------------------------


def _scale_config(tmp_path: Path, scale: str) -> Path:
    config = tmp_path / "reviewpipe.toml"
    config.write_text(f'[[sources]]\nname = "r"\npath = "r.csv"\n{scale}\n', encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("scale", "points"),
    [
        ("rating_scale = 10", (10, 1.0, 1.0)),  # the defaults: whole stars from 1
        ('rating_scale = "thumbs"', (1, 0.0, 1.0)),  # thumbs: 0 and 1, published with top 1
        ('rating_scale = "thumbs"\nrating_min = 0', (1, 0.0, 1.0)),
        ("rating_scale = 5\nrating_min = 0.5\nrating_step = 0.5", (5, 0.5, 0.5)),  # Letterboxd
        ("rating_scale = 10\nrating_min = 0\nrating_step = 0.1", (10, 0.0, 0.1)),  # "9.6"
        ("rating_scale = 10\nrating_min = 0\nrating_step = 0.01", (10, 0.0, 0.01)),  # 1,001 points
        ("rating_scale = 100\nrating_min = 0", (100, 0.0, 1.0)),
    ],
)
def test_a_scale_is_its_top_lowest_point_and_step(tmp_path: Path, scale: str, points: tuple) -> None:
    source = load_settings(_scale_config(tmp_path, scale)).sources[0]
    assert (source.scale_top, source.rating_min, source.rating_step) == points


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ('rating_scale = "stars"', 'rating_scale must be the top of the scale, a whole number 2..100'),
        ("rating_scale = 1", "rating_scale must be the top of the scale, a whole number 2..100"),
        ("rating_scale = 101", "rating_scale must be the top of the scale"),
        ("rating_scale = 7.5", "rating_scale must be the top of the scale"),
        ('rating_scale = "thumbs"\nrating_min = 1', "a thumbs scale has the points 0 and 1"),
        ("rating_scale = 5\nrating_min = 5", "rating_min 5 must be at least 0 and below rating_scale 5"),
        ("rating_scale = 5\nrating_min = -1", "rating_min -1 must be at least 0"),
        ("rating_scale = 5\nrating_step = 0", "rating_step 0 must be a multiple of 0.001"),
        ("rating_scale = 5\nrating_step = 0.0005", "rating_step 0.0005 must be a multiple of 0.001"),
        ("rating_scale = 5\nrating_step = 0.3", "rating_step 0.3 does not divide the scale 1..5"),
        ("rating_scale = 5\nrating_min = 0.5", "rating_step 1 does not divide the scale 0.5..5"),
        ("rating_scale = 100\nrating_step = 0.01", "has 9901 points, more than the 1001"),
    ],
)
def test_a_scale_that_is_not_one_is_a_clear_error(tmp_path: Path, scale: str, message: str) -> None:
    with pytest.raises(ReviewpipeError, match=re.escape(message)) as raised:
        load_settings(_scale_config(tmp_path, scale))
    assert "\n" not in str(raised.value)


@settings(max_examples=60, deadline=None)
@given(top=st.integers(2, 100), low=st.sampled_from(["0", "0.5", "1", "1.5", "0.25"]),
       step=st.sampled_from(["1", "0.5", "0.25", "0.2", "0.1", "0.05", "0.3", "0.7"]))
def test_any_scale_whose_step_divides_it_into_at_most_1001_points_is_accepted(
    top: int, low: str, step: str
) -> None:
    """Exactly the scales with whole steps from rating_min to the top and at most 1,001 points, in
    decimal arithmetic (the source of truth: 0.1 divides 10 - 0 although 10 / 0.1 is not 100 in
    floating point)."""
    steps = (Decimal(top) - Decimal(low)) / Decimal(step)
    fits = Decimal(low) < top and steps == steps.to_integral_value() and steps + 1 <= 1001
    try:
        source = Source(name="r", path="r.csv", rating_scale=top, rating_min=float(low),
                        rating_step=float(step))
    except ValidationError as exc:
        assert not fits, exc
    else:
        assert fits
        assert (source.rating_min, source.rating_step) == (float(low), float(step))


@pytest.mark.parametrize("given, code", [("es", "es"), ("ES", "es"), (" es-MX ", "es"), ("pt_BR", "pt"),
                                         ("", None), ("  ", None)])
def test_a_sources_language_is_read_as_a_review_language_cell_is(given: str, code: str | None) -> None:
    assert Source(name="s", path="*.csv", language=given).language == code


@pytest.mark.parametrize("given", ["Spanish", "spa", "e", "1a", "es MX"])
def test_a_sources_language_that_is_not_a_code_is_one_clear_error(tmp_path: Path, given: str) -> None:
    config = tmp_path / "reviewpipe.toml"
    config.write_text(f'[[sources]]\nname = "s"\npath = "*.csv"\nlanguage = "{given}"\n')
    with pytest.raises(ReviewpipeError, match=r"is not an ISO 639-1 code: give the two letters"):
        load_settings(config)
