"""Tests for reviewpipe.sample: the synthetic sample is deterministic, well-formed and quirky.

The files are parsed here with the csv module and checked with rules written out in this file, not
with the generator's own code, so a bug in the generator cannot hide itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpipe.errors import ReviewpipeError
from reviewpipe.sample import BAD_ROWS, DUPLICATE_SOURCE_ROW, write_sample

TITLES_HEADER = [
    "title_id", "title", "year", "site_rating", "site_votes",
    "user_review_count", "critic_review_count", "genres", "directors",
]
REVIEWS_HEADER = [
    "title_id", "author", "review_date", "rating", "helpful_votes", "total_votes",
    "review_title", "review_text",
]
N_REVIEWS = 3000
N_TITLES = 10


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Return the header and the data rows of one CSV file."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def problems(row: dict[str, str]) -> list[str]:
    """Return what is wrong with one review row by this test's own rules (empty: valid)."""
    found: list[str] = []
    rating = row["rating"]
    if rating != "" and not (rating.isdigit() and 1 <= int(rating) <= 10):
        found.append("rating")
    try:
        dt.date.fromisoformat(row["review_date"])
    except ValueError:
        found.append("date")
    helpful, total = int(row["helpful_votes"]), int(row["total_votes"])
    if total < 0 or helpful < 0:
        found.append("negative votes")
    if helpful > total:
        found.append("helpful > total")
    if row["review_text"] == "" and rating == "":
        found.append("nothing to analyse")
    return found


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding the default sample, written once for the module."""
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder)
    return folder


@pytest.fixture(scope="module")
def reviews(sample_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Return the data rows of every reviews file, by file name."""
    return {p.name: read_csv(p)[1] for p in sorted(sample_dir.glob("reviews_*.csv"))}


@pytest.fixture(scope="module")
def all_reviews(reviews: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    """Return every review row of the sample."""
    return [row for rows in reviews.values() for row in rows]


@pytest.fixture(scope="module")
def good_reviews(all_reviews: list[dict[str, str]]) -> list[dict[str, str]]:
    """Return the rows that break none of this test's rules."""
    return [row for row in all_reviews if not problems(row)]


@pytest.fixture(scope="module")
def compounds(good_reviews: list[dict[str, str]]) -> list[tuple[str, float]]:
    """Return (rating, VADER compound) for every valid review that has text."""
    analyzer = SentimentIntensityAnalyzer()
    return [
        (row["rating"], analyzer.polarity_scores(row["review_text"])["compound"])
        for row in good_reviews
        if row["review_text"]
    ]


def file_bytes(folder: Path) -> dict[str, bytes]:
    """Return the bytes of every file in folder, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    write_sample(tmp_path / "a")
    write_sample(tmp_path / "b")
    write_sample(tmp_path / "c", seed=7)
    a, b, c = (file_bytes(tmp_path / name) for name in "abc")
    # The sample is a test fixture and a committed default: it must not drift between runs.
    assert a == b
    # Same file names for another seed, but different content: the seed really drives the data.
    assert a.keys() == c.keys()
    assert all(a[name] != c[name] for name in a)


def test_rewriting_replaces_files_and_leaves_no_temp_files(tmp_path: Path) -> None:
    first = write_sample(tmp_path, seed=1, n_reviews=200)
    before = file_bytes(tmp_path)
    second = write_sample(tmp_path, seed=1, n_reviews=200)
    # Overwriting in place gives the same files, and the atomic write leaves no .tmp behind.
    assert first == second
    assert file_bytes(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first)


def test_files_and_headers(sample_dir: Path) -> None:
    written = write_sample(sample_dir)
    names = [p.name for p in written]
    # The return value lists exactly the files in the folder, sorted.
    assert written == sorted(written)
    assert sorted(p.name for p in sample_dir.iterdir()) == names
    # One titles file and one reviews file per year, several years.
    years = [name for name in names if re.fullmatch(r"reviews_\d{4}\.csv", name)]
    assert "titles.csv" in names and len(years) >= 5 and len(names) == len(years) + 1
    assert read_csv(sample_dir / "titles.csv")[0] == TITLES_HEADER
    for name in years:
        # Every reviews file has the same header, so they can be read as one table.
        assert read_csv(sample_dir / name)[0] == REVIEWS_HEADER
    for path in written:
        raw = path.read_bytes()
        # UTF-8 without BOM and \n line ends: byte-identical across platforms.
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        raw.decode("utf-8")


def test_titles_look_like_a_users_export(sample_dir: Path) -> None:
    rows = read_csv(sample_dir / "titles.csv")[1]
    # About ten films (the default), each with a unique invented id.
    assert len(rows) == N_TITLES
    assert len({r["title_id"] for r in rows}) == N_TITLES
    assert all(re.fullmatch(r"tt\d{7}", r["title_id"]) for r in rows)
    for r in rows:
        # Ranges the brief fixes: release 1960-2022, rating one decimal 3.0-9.2.
        assert 1960 <= int(r["year"]) <= 2022
        assert re.fullmatch(r"\d\.\d", r["site_rating"]) and 3.0 <= float(r["site_rating"]) <= 9.2
        # Votes are whole numbers, optionally with thousands separators.
        assert re.fullmatch(r"\d{1,3}(,\d{3})*|\d+", r["site_votes"])
        assert int(r["user_review_count"]) >= 0 and int(r["critic_review_count"]) >= 0
        assert r["genres"] and r["directors"]
    # Some vote counts keep the separator, which a loader has to strip.
    assert any("," in r["site_votes"] for r in rows)
    # Multi-genre films use the " | " separator.
    assert any(" | " in r["genres"] for r in rows)


def test_row_counts(reviews: dict[str, list[dict[str, str]]]) -> None:
    # The generator writes exactly n_reviews rows, bad rows included.
    assert sum(len(rows) for rows in reviews.values()) == N_REVIEWS
    # Every year has reviews, and the years are uneven (a peak, not a flat spread).
    sizes = [len(rows) for rows in reviews.values()]
    assert min(sizes) > 0 and max(sizes) >= 2 * min(sizes)


def test_reviews_refer_to_known_titles_and_spread_unevenly(
    sample_dir: Path, all_reviews: list[dict[str, str]]
) -> None:
    title_ids = {r["title_id"] for r in read_csv(sample_dir / "titles.csv")[1]}
    counts = Counter(row["title_id"] for row in all_reviews)
    # No orphans: every review joins to a film.
    assert set(counts) <= title_ids
    # Popular films and niche films: the busiest has many times the reviews of the quietest.
    assert max(counts.values()) >= 5 * min(counts.values())


def test_good_rows_are_consistent(
    reviews: dict[str, list[dict[str, str]]], good_reviews: list[dict[str, str]]
) -> None:
    for name, rows in reviews.items():
        year = name.removeprefix("reviews_").removesuffix(".csv")
        for row in rows:
            if not problems(row):
                # A review sits in the file of its year.
                assert row["review_date"].startswith(year)
    # Helpful votes are a subset of total votes on every valid row.
    assert all(int(r["helpful_votes"]) <= int(r["total_votes"]) for r in good_reviews)
    # One review per user per film among valid rows, so the duplicate is the only repeat.
    pairs = Counter((r["title_id"], r["author"]) for r in good_reviews)
    assert sorted(pairs.values())[-2:] == [1, 2]


def test_edge_cases_that_are_valid_exist(good_reviews: list[dict[str, str]]) -> None:
    # 0 of 0: no helpfulness ratio can be computed; many such rows.
    assert sum(r["total_votes"] == "0" for r in good_reviews) > 0.1 * N_REVIEWS
    # Missing ratings are common (about 8%) and still carry text to score.
    missing = [r for r in good_reviews if r["rating"] == ""]
    assert 0.05 * N_REVIEWS <= len(missing) <= 0.11 * N_REVIEWS
    assert all(r["review_text"] for r in missing)
    # A rating with no words at all.
    assert any(r["review_text"] == "" and r["rating"] for r in good_reviews)


def test_text_quirks_exist(good_reviews: list[dict[str, str]]) -> None:
    texts = [r["review_text"] for r in good_reviews]
    # Scraped HTML: paragraph breaks and escaped entities.
    assert any("<br /><br />" in t for t in texts)
    for entity in ("&amp;", "&quot;", "&#39;"):
        assert any(entity in t for t in texts), entity
    # Whitespace oddities: double spaces and a newline inside a quoted CSV field.
    assert any("  " in t for t in texts)
    assert any("\n" in t for t in texts)
    # Leading characters a spreadsheet would treat as a formula.
    for first in "=-+":
        assert any(t.startswith(first) for t in texts), first
    # Lengths from one sentence to long essays.
    sentences = [t.count(". ") + 1 for t in texts if t]
    assert min(sentences) == 1 and max(sentences) >= 10


def test_authors(good_reviews: list[dict[str, str]]) -> None:
    per_author = Counter(r["author"] for r in good_reviews)
    # Regulars write several reviews; most users write one or two.
    assert max(per_author.values()) >= 5
    assert sum(n == 1 for n in per_author.values()) > len(per_author) / 3
    # Non-ASCII usernames exercise encodings end to end.
    assert sum(not a.isascii() for a in per_author) >= 3


def test_each_kind_of_bad_row_is_present(all_reviews: list[dict[str, str]]) -> None:
    ratings = Counter(r["rating"] for r in all_reviews)
    # Rating cells holding text, above the scale, and zero.
    assert ratings["ten"] >= 1 and ratings["11"] >= 1 and ratings["0"] >= 1
    # Vote counts that cannot be true.
    assert any(int(r["helpful_votes"]) > int(r["total_votes"]) for r in all_reviews)
    assert any(int(r["total_votes"]) < 0 for r in all_reviews)
    # A row with nothing to analyse.
    assert any(r["review_text"] == "" and r["rating"] == "" for r in all_reviews)
    # A date that does not exist and one that is not a date.
    assert any(r["review_date"] == "yesterday" for r in all_reviews)
    assert any(re.fullmatch(r"\d{4}-02-30", r["review_date"]) for r in all_reviews)
    # Exactly one row repeats an earlier row in every field.
    repeats = Counter(tuple(r.values()) for r in all_reviews)
    assert sorted(repeats.values())[-2:] == [1, 2]


def test_bad_rows_are_exactly_the_documented_ones(reviews: dict[str, list[dict[str, str]]]) -> None:
    # Which of this test's rules each documented kind must break.
    expected = {
        "rating_not_a_number": ["rating"],
        "rating_above_range": ["rating"],
        "rating_zero": ["rating"],
        "helpful_exceeds_total": ["helpful > total"],
        # 0 helpful of a negative total is also "more helpful than total": both rules fire.
        "negative_total_votes": ["negative votes", "helpful > total"],
        "no_text_no_rating": ["nothing to analyse"],
        "impossible_date": ["date"],
        "unparseable_date": ["date"],
    }
    # Every kind the brief asks for is injected, about 8-12 rows, each kind once.
    assert {b.kind for b in BAD_ROWS} == set(expected) | {"exact_duplicate"}
    assert len(BAD_ROWS) == len({b.kind for b in BAD_ROWS})
    documented = set()
    for bad in BAD_ROWS:
        rows = reviews[f"reviews_{bad.year}.csv"]
        row = rows[bad.row - 1]
        if bad.kind == "exact_duplicate":
            # The duplicate repeats the documented earlier row field for field.
            assert row == rows[DUPLICATE_SOURCE_ROW - 1] and not problems(row)
        else:
            # The documented position holds a row broken in exactly the documented way.
            assert problems(row) == expected[bad.kind], bad
            documented.add((bad.year, bad.row))
    # And no other row breaks a rule: the bad rows are deliberate, not accidents.
    found = {
        (int(name[8:12]), i)
        for name, rows in reviews.items()
        for i, row in enumerate(rows, start=1)
        if problems(row)
    }
    assert found == documented


def test_texts_carry_mixed_sentiment(compounds: list[tuple[str, float]]) -> None:
    scores = [c for _, c in compounds]
    # Both clearly positive and clearly negative texts, in real numbers.
    assert sum(c > 0.5 for c in scores) > 0.2 * len(scores)
    assert sum(c < -0.5 for c in scores) > 0.2 * len(scores)


def test_sentiment_agrees_with_rating_most_of_the_time(compounds: list[tuple[str, float]]) -> None:
    high = [c for rating, c in compounds if rating in {"8", "9", "10"}]
    low = [c for rating, c in compounds if rating in {"1", "2", "3"}]
    # Words follow the score on average, so a rating/sentiment agreement metric has signal.
    assert sum(high) / len(high) > sum(low) / len(low) + 0.5
    # But not always: some 8-10 reviews use harsh words (about 10% by design).
    harsh_share = sum(c < -0.5 for c in high) / len(high)
    assert 0.03 <= harsh_share <= 0.25


def test_rejects_sizes_that_cannot_hold_the_quirks(tmp_path: Path) -> None:
    # Too few rows to hold every quirk and bad row: a user error with a clear message.
    with pytest.raises(ReviewpipeError, match="n_reviews"):
        write_sample(tmp_path, n_reviews=10)
    with pytest.raises(ReviewpipeError, match="n_titles"):
        write_sample(tmp_path, n_titles=0)


# tmp_path is shared by the examples; each writes its own subfolder, so that is safe.
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    n_titles=st.integers(min_value=1, max_value=25),
    n_reviews=st.integers(min_value=100, max_value=600),
)
def test_any_seed_and_size_keeps_the_invariants(
    tmp_path: Path, seed: int, n_titles: int, n_reviews: int
) -> None:
    folder = tmp_path / f"{seed}-{n_titles}-{n_reviews}"
    write_sample(folder, seed=seed, n_titles=n_titles, n_reviews=n_reviews)
    titles = read_csv(folder / "titles.csv")[1]
    rows = [row for p in sorted(folder.glob("reviews_*.csv")) for row in read_csv(p)[1]]
    # Sizes are honoured exactly, whatever the seed.
    assert len(titles) == n_titles and len(rows) == n_reviews
    # No orphans, and only the documented bad rows (minus the duplicate, which is valid alone).
    assert {r["title_id"] for r in rows} <= {t["title_id"] for t in titles}
    assert sum(bool(problems(r)) for r in rows) == len(BAD_ROWS) - 1
