"""Distinctive terms on real reviews (reviewpipe.metrics.terms): the praise terms of the 10-point
IMDb reviews (imdb_movie_reviews_helpful) and of aclImdb's (aclimdb_subset), against their complaint
terms, include common praise words, and the complaint terms common complaint words.

The two word lists were written down (and committed, 2026-12-05) before the terms of these corpora
were first looked at: what a reader of film reviews expects, not what the method found."""

from __future__ import annotations

import csv
import re

import polars as pl
import pytest
from conftest import SHARED_DATA

from reviewpipe.metrics import rating_class, terms

PRAISE = ["great", "excellent", "best", "wonderful", "perfect", "loved", "beautiful", "amazing", "brilliant",
          "favorite"]
COMPLAINTS = ["worst", "waste", "bad", "boring", "awful", "terrible", "poor", "stupid", "horrible", "worse"]
TOP = 50  # the terms a side shows: at least 6 of each list among them
AT_LEAST = 6

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"needs the real corpora in {SHARED_DATA}"),
]


def _imdb_reviews() -> pl.DataFrame:
    """The 10-point IMDb reviews with a number for a rating (738 hold the widget's text instead)."""
    rows = []
    for path in sorted((SHARED_DATA / "imdb_movie_reviews_helpful").glob("*/movieReviews.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.DictReader(f)):
                rating = row["User's Rating out of 10"].strip()
                if rating.isdigit():
                    rows.append((f"{path.parent.name}/{i}", path.parent.name, float(rating), row["Review"]))
    return pl.DataFrame(rows, schema=["review_id", "title_id", "rating", "review_text"], orient="row")


def _aclimdb_reviews() -> pl.DataFrame:
    """aclImdb's test reviews of the subset, their rating in the file name (<id>_<rating>.txt)."""
    rows = []
    for side in ("pos", "neg"):
        for path in sorted((SHARED_DATA / "aclimdb_subset" / "aclImdb" / "test" / side).glob("*.txt")):
            rating = float(path.stem.split("_")[1])
            text = re.sub(r"<br\s*/?>", " ", path.read_text(encoding="utf-8"))
            rows.append((f"{side}/{path.stem}", "aclimdb", rating, text))
    return pl.DataFrame(rows, schema=["review_id", "title_id", "rating", "review_text"], orient="row")


@pytest.mark.parametrize("read", [_imdb_reviews, _aclimdb_reviews], ids=["imdb_10_point", "aclimdb"])
def test_praise_and_complaint_terms_of_real_film_reviews_are_what_a_reader_expects(read) -> None:
    reviews = read().with_columns(
        rating_class=rating_class(pl.col("rating"), pl.lit(10.0), pl.lit(1.0)))
    assert reviews.height > 4000
    found = terms.review_terms(reviews.lazy().select("review_id", "rating_class", "review_text")).collect()
    counts = found.group_by("rating_class", "term").agg(reviews=pl.len())
    side = {c: counts.filter(pl.col("rating_class") == c).select("term", "reviews") for c in ("positive", "negative")}
    background = counts.group_by("term").agg(pl.col("reviews").sum())
    ranked = terms.fightin_words(side["positive"], side["negative"], background)
    praise = ranked.head(TOP)["term"].to_list()
    complaints = ranked.sort(["z", "term"]).head(TOP)["term"].to_list()
    print("praise:", praise, "\ncomplaints:", complaints)
    assert len(set(PRAISE) & set(praise)) >= AT_LEAST, (sorted(set(PRAISE) & set(praise)), praise)
    assert len(set(COMPLAINTS) & set(complaints)) >= AT_LEAST, (sorted(set(COMPLAINTS) & set(complaints)), complaints)
    for term in praise + complaints:  # no stop word, no punctuation, at either end or alone
        words = term.split(" ")
        assert words[0] not in terms.STOP_WORDS and words[-1] not in terms.STOP_WORDS, term
        assert re.fullmatch(r"[\w' ]+", term), term


def test_each_films_top_terms_are_what_its_own_reviews_say_not_the_priors() -> None:
    # Per film, praise against complaints with the prior from all four films: each of the 10 top
    # terms of a side is used by at least 5 reviews of that side. With the prior scaled to the
    # compared counts (terms.PRIOR_SIZE's docstring) the complaint sides were other films' names
    # used once or never ("pulp fiction" 4 / 0 for The Avengers).
    reviews = _imdb_reviews().with_columns(rating_class=rating_class(pl.col("rating"), pl.lit(10.0), pl.lit(1.0)))
    found = terms.review_terms(reviews.lazy().select("review_id", "title_id", "rating_class", "review_text")).collect()
    counts = found.group_by("title_id", "rating_class", "term").agg(reviews=pl.len())
    background = counts.group_by("term").agg(pl.col("reviews").sum())
    for title in sorted(reviews["title_id"].unique()):
        side = {c: counts.filter(pl.col("title_id") == title, pl.col("rating_class") == c).select("term", "reviews")
                for c in ("positive", "negative")}
        ranked = terms.fightin_words(side["positive"], side["negative"], background)
        praise, complaints = ranked.head(10), ranked.sort(["z", "term"]).head(10)
        assert praise["y_i"].min() >= 5, (title, praise.rows())
        assert complaints["y_j"].min() >= 5, (title, complaints.rows())
