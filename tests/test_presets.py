"""Presets: recognised from a file's columns whatever their order, case and company, read each field
from its column, and overridden by the source's own keys field by field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe import ingest
from reviewpipe.errors import ReviewpipeError
from reviewpipe.presets import PRESETS, Preset, recognise
from reviewpipe.schema import REVIEW_FIELDS, TITLE_FIELDS
from reviewpipe.settings import Source, load_settings
from reviewpipe.warehouse import connect

# every column any preset knows, in lower case: extra columns are drawn from other names
KNOWN = {c.lower() for p in PRESETS.values() for c in p.layout}
extra_names = st.from_regex(r"x_[a-z0-9]{1,8}", fullmatch=True)


CASES = (str, str.lower, str.upper, str.swapcase)


@st.composite
def layouts(draw: st.DrawFn, preset: Preset, *, keep_case: bool = False) -> list[str]:
    """The preset's columns in any letter case, in any order, among up to 4 other columns."""
    columns = [name if keep_case else draw(st.sampled_from(CASES))(name) for name in preset.layout]
    columns += draw(st.lists(extra_names, max_size=4, unique=True))
    return draw(st.permutations(columns))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), preset=st.sampled_from(list(PRESETS.values())))
def test_a_layout_is_recognised_whatever_the_order_case_and_extra_columns(data, preset) -> None:
    found = recognise(data.draw(layouts(preset)))
    assert preset in found
    # the most specific layout comes first; a layout shared by two presets gives its reviews first
    assert found[0].layout == preset.layout
    assert found[0].settings.get("kind", "reviews") == "reviews" or len(
        [p for p in PRESETS.values() if p.layout == preset.layout]) == 1


@settings(max_examples=40, deadline=None)
@given(data=st.data(), preset=st.sampled_from(list(PRESETS.values())))
def test_a_layout_missing_a_column_is_not_that_preset(data, preset) -> None:
    columns = data.draw(layouts(preset))
    renamed = data.draw(st.sampled_from(preset.layout))
    columns = [c if c.lower() != renamed.lower() else "x_renamed" for c in columns]
    assert preset not in recognise(columns)


def test_no_layout_is_inside_another() -> None:
    # else the smaller one's files would be taken for the bigger one's (or never recognised)
    for a in PRESETS.values():
        for b in PRESETS.values():
            if a.layout != b.layout:
                assert not {c.lower() for c in a.layout} <= {c.lower() for c in b.layout}, (a.name, b.name)


def test_every_preset_is_a_valid_source() -> None:
    # the mapping names only fields of its kind and options of its format (Source checks both);
    # rating_scale "thumbs" and the rating_min/rating_step keys are the ratings item's (shared contract)
    for preset in PRESETS.values():
        if preset.settings.get("rating_scale") == "thumbs" and "thumbs" not in str(
                Source.model_fields["rating_scale"].annotation):
            continue
        source = Source(name="s", path="x", preset=preset.name)
        fields = TITLE_FIELDS if source.kind == "titles" else REVIEW_FIELDS
        assert "title_id" in source.columns and set(source.columns) <= set(fields), preset.name
        assert preset.doc and preset.layout


def _file(tmp_path: Path, preset: Preset, columns: list[str], values: dict[str, str]) -> Path:
    """One record of the layout, each column holding values[column], as the preset's format."""
    fmt = preset.settings.get("format", "csv")
    if fmt == "json":
        return write(tmp_path / "export.json", json.dumps({c: values[c] for c in columns}) + "\n")
    sep = "\t" if fmt == "tsv" else ","
    return write(tmp_path / f"export.{fmt}",
                 sep.join(columns) + "\n" + sep.join(values[c] for c in columns) + "\n")


@pytest.mark.parametrize("preset", list(PRESETS.values()), ids=list(PRESETS))
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_preset_reads_each_field_from_its_column(tmp_path, data, preset) -> None:
    if preset.settings.get("rating_scale") == "thumbs" and "thumbs" not in str(
            Source.model_fields["rating_scale"].annotation):
        pytest.skip("rating_scale 'thumbs' is the ratings item's (shared contract)")
    # read_json matches the keys a preset names in options.columns exactly: their case is kept
    columns = data.draw(layouts(preset, keep_case="columns" in preset.settings.get("options", {})))
    # a value that says which column it came from
    values = {c: f"v{i}" for i, c in enumerate(columns)}
    path = _file(tmp_path, preset, columns, values)
    source = Source(name="s", path=str(path), preset=preset.name)
    con = connect()
    try:
        file = ingest.prepare_file(con, source, path)
        kind = source.kind
        row = con.execute(f"select * exclude (row_number, failed_fields) from {file.tables[kind]}"
                          ).fetchone()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    got = dict(zip(names, row, strict=True))
    by_lower = {c.lower(): c for c in columns}
    for field, column in source.columns.items():
        if column.lower() in by_lower:  # a plain column (expressions are the preset's own)
            assert got[field] == values[by_lower[column.lower()]], (preset.name, field)


def test_the_sources_own_keys_override_the_preset_field_by_field() -> None:
    source = Source(name="s", path="x.csv", preset="google_play", rating_scale=10,
                    columns={"title_id": "'com.netflix.mediaclient'"}, options={"delim": ";"})
    assert source.rating_scale == 10 and source.format == "csv"
    assert source.options == {"delim": ";"}
    # the other columns are the preset's
    assert source.columns == {**PRESETS["google_play"].settings["columns"],
                              "title_id": "'com.netflix.mediaclient'"}
    imdb = Source(name="t", path="x.tsv", preset="imdb_title_ratings", options={"skip": 0})
    assert imdb.options == {"nullstr": "\\N", "skip": 0} and imdb.kind == "titles"


def test_an_unknown_preset_is_one_message_naming_the_known_ones(tmp_path) -> None:
    config = write(tmp_path / "r.toml", '[[sources]]\nname = "a"\npath = "a.csv"\npreset = "yelpp"\n')
    with pytest.raises(ReviewpipeError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "preset 'yelpp' is not known" in message and "yelp, " in message
    assert str(config) in message


def test_the_readme_lists_every_preset() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme.split("### Presets", 1)[1].split("\n## ")[0],
                            re.MULTILINE))
    assert listed == set(PRESETS)
