"""`reviewpipe add-source`: a real export gets its preset in at most 5 lines; any other file a mapping
guessed from its column names and values (rating scale, date form, votes, id), as a block that loads."""

from __future__ import annotations

import gzip
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewpipe import wizard
from reviewpipe.cli import main
from reviewpipe.settings import Source

# each real export of ../shared/data and the preset add-source must find for it
REAL_EXPORTS = {
    "yelp_open_dataset/review_sample.json": "yelp",
    "yelp_open_dataset/business_sample.json": "yelp_business",
    "steam_reviews/steam_reviews.csv": "steam",
    "google_play_netflix/netflix_reviews.csv": "google_play",
    "amazon2018_5core/AMAZON_FASHION_5.json": "amazon_2018",
    "amazon_reviews_multi_es/dataset_es_dev.json": "amazon_reviews_multi",
    "op_spam_deceptive_hotel/deceptive-opinion.csv": "op_spam",
    "amazon_customer_reviews_tsv_sample/amazon_reviews_us_Gift_Card_v1_00.tsv": "amazon_tsv",
    "imdb_noncommercial_sample/title.basics.tsv": "imdb_title_basics",
    "imdb_noncommercial_sample/title.ratings.tsv": "imdb_title_ratings",
    "amazon_fine_food_sample/Reviews.csv": "amazon_fine_food",
}


def block(path: Path, name: str | None = None) -> tuple[dict, list[str]]:
    """add-source's block for path, parsed, and its lines that are not comments."""
    text = wizard.source_block(path, name)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return tomllib.loads(text)["sources"][0], lines


@pytest.mark.acceptance
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"needs the real exports in {SHARED_DATA}")
@pytest.mark.parametrize("export", list(REAL_EXPORTS))
def test_a_real_export_gets_its_preset_in_at_most_five_lines(export) -> None:
    found, lines = block(SHARED_DATA / export)
    assert found["preset"] == REAL_EXPORTS[export]
    assert len(lines) <= 5, lines
    assert Path(found["path"]) == (SHARED_DATA / export).resolve()


def test_a_repeated_id_is_said_to_count_as_duplicates(tmp_path) -> None:
    path = write(tmp_path / "play.csv", "reviewId,userName,content,score,thumbsUpCount,at\n"
                 "a,ann,Fine,5,0,2024-01-01 10:00:00\na,ann,Fine!,5,1,2024-01-02 10:00:00\n"
                 "b,bob,Bad,1,0,2024-01-01 11:00:00\n")
    text = wizard.source_block(path)
    assert 'preset = "google_play"' in text
    assert "reviewId repeats: 1 records are later copies" in " ".join(text.split())


# Rating columns as exports write them: (values, the settings add-source must print)
SCALES = {
    "whole 1-5": ([1, 2, 3, 4, 5], {"rating_scale": 5}),
    "whole 1-10": ([1, 4, 7, 10], {"rating_scale": 10}),
    "halves 0.5-5": ([0.5, 1.5, 3, 4.5, 5], {"rating_scale": 5, "rating_min": 0.5, "rating_step": 0.5}),
    "decimals 1-10": ([9.6, 7.1, 10, 1.0], {"rating_scale": 10, "rating_step": 0.1}),
    "from 0 to 10": ([0, 3, 10], {"rating_scale": 10, "rating_min": 0}),
    "out of 100": ([12, 99, 100], {"rating_scale": 100}),
    "steam": (["Recommended", "Not Recommended"], {"rating_scale": "thumbs"}),
    "voted_up": (["true", "false"], {"rating_scale": "thumbs"}),
    "1/-1": ([1, -1], {"rating_scale": "thumbs"}),
    "up/down": (["Up", "down"], {"rating_scale": "thumbs"}),
}
RATING_NAMES = ("rating", "Stars", "score", "star_rating", "overall", "recommendation", "User Rating")
TITLE_NAMES = ("product_id", "asin", "business_id", "app_id", "game", "hotel", "movie_id")
TEXT_NAMES = ("text", "review", "review_body", "content", "Comment", "reviewText")
DAY = date(2021, 3, 14)
# Date columns as exports write them: (the cell, what staging reads from the printed mapping)
DATES = {
    "iso": (DAY.isoformat(), None),
    "timestamp": (f"{DAY.isoformat()} 22:09:11", None),
    "long": ("14 March 2021", None),
    "unix seconds": (str(int(datetime(2021, 3, 14, tzinfo=UTC).timestamp())), "to_timestamp"),
    "unix ms": (str(int(datetime(2021, 3, 14, tzinfo=UTC).timestamp()) * 1000), "epoch_ms"),
    "us": ("03/14/2021", "%m/%d/%Y"),
    "european": ("14.03.2021", "%d.%m.%Y"),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scale=st.sampled_from(list(SCALES)), rating=st.sampled_from(RATING_NAMES),
    title=st.sampled_from(TITLE_NAMES), text=st.sampled_from(TEXT_NAMES),
    when=st.sampled_from(list(DATES)), votes=st.sampled_from(["none", "helpful", "both"]),
    order=st.randoms(use_true_random=False),
)
def test_a_mapping_is_guessed_from_names_and_values(tmp_path, scale, rating, title, text, when,
                                                    votes, order) -> None:
    values, expected = SCALES[scale]
    cell, reading = DATES[when]
    columns = {title: ["p1", "p2"] * len(values), rating: values * 2, text: ["Nice.", "Meh."] * len(values),
               "posted_at": [cell] * 2 * len(values)}
    if votes != "none":
        columns["helpful_votes"] = [1] * 2 * len(values)
    if votes == "both":
        columns["total_votes"] = [2] * 2 * len(values)
    names = list(columns)
    order.shuffle(names)
    rows = zip(*(columns[n] for n in names), strict=True)
    path = write(tmp_path / "export.csv", ",".join(f'"{n}"' for n in names) + "\n"
                 + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    found, _ = block(path)
    assert {k: found.get(k) for k in ("rating_scale", "rating_min", "rating_step")} == {
        "rating_scale": None, "rating_min": None, "rating_step": None, **expected}
    mapped = found["columns"]
    assert (mapped["title_id"], mapped["rating"], mapped["review_text"]) == (title, rating, text)
    assert mapped["review_date"] == "posted_at" if reading is None else reading in mapped["review_date"]
    assert mapped.get("helpful_votes") == (None if votes == "none" else "helpful_votes")
    assert mapped.get("total_votes") == ("total_votes" if votes == "both" else None)
    # the block is a valid source as printed; "thumbs", rating_min and rating_step are the ratings
    # item's (shared contract), checked once Source has them
    if "rating_step" in Source.model_fields or expected == {"rating_scale": 5} or expected == {
            "rating_scale": 10} or expected == {"rating_scale": 100}:
        Source(**found)


def test_compression_encoding_and_delimiter_are_sniffed(tmp_path) -> None:
    body = "review_id;product;stars;comment\nr1;p1;4;gööd\nr2;p1;2;bad\n"
    (tmp_path / "utf16.csv").write_bytes(body.encode("utf-16"))
    (tmp_path / "latin1.csv").write_bytes(body.replace(";", ",").encode("latin-1"))
    (tmp_path / "packed.csv").write_bytes(gzip.compress(body.replace(";", ",").encode()))
    assert block(tmp_path / "utf16.csv")[0]["options"] == {"encoding": "utf-16", "delim": ";"}
    assert block(tmp_path / "latin1.csv")[0]["options"] == {"encoding": "latin-1"}
    # gzip or zstd without .gz or .zst: DuckDB knows compression by the extension, so the block says it
    assert block(tmp_path / "packed.csv")[0]["options"] == {"compression": "gzip"}
    duckdb.execute(f"copy (select 'r1' as review_id, 'p1' as product, 4 as stars, 'good' as comment) "
                   f"to '{tmp_path / 'packed.csv.zst'}' (compression zstd)")
    assert "options" not in block(tmp_path / "packed.csv.zst")[0]
    (tmp_path / "zpacked.csv").write_bytes((tmp_path / "packed.csv.zst").read_bytes())
    assert block(tmp_path / "zpacked.csv")[0]["options"] == {"compression": "zstd"}


def test_a_headerless_file_is_said_to_need_names(tmp_path) -> None:
    path = write(tmp_path / "scores.tsv", "1\t0.5\tgood stuff\n2\t-1.2\tbad stuff\n")
    text = wizard.source_block(path)
    assert "no header row" in text and "options = { header = false }" in text


def test_add_source_prints_the_block_and_names_it(tmp_path) -> None:
    path = write(tmp_path / "My Reviews.csv", "product_id,rating,text\np1,5,Great\n")
    result = CliRunner().invoke(main, ["add-source", str(path), "--name", "shop_reviews"])
    assert result.exit_code == 0, result.output
    assert 'name = "shop_reviews"' in result.output
    assert tomllib.loads(result.output)["sources"][0]["columns"]["title_id"] == "product_id"
    assert wizard.source_name(path) == "my_reviews"


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"), ("a,b\n", "holds no records"),
])
def test_add_source_on_a_file_it_cannot_use_is_one_message(tmp_path, content, message) -> None:
    path = write(tmp_path / "x.csv", content)
    result = CliRunner().invoke(main, ["add-source", str(path)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    bad_name = CliRunner().invoke(main, ["add-source", str(path), "--name", "Bad Name"])
    assert bad_name.exit_code == 1 and "--name 'Bad Name'" in bad_name.output
