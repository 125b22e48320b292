"""Acceptance: the seed IMDb title page (Zerkalo, 1975) through the whole pipeline, as configured in
examples/saved_pages.toml, checked in the published database."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpipe import pipeline
from reviewpipe.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "data" / "seed_imdb_title_page"

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not SEED.is_dir(), reason=f"needs the seed page in {SEED} (../shared/data)"),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("seed")
    config = root / "saved_pages.toml"
    text = (REPO / "examples" / "saved_pages.toml").read_text()
    config.write_text(text.replace("../../shared/data/seed_imdb_title_page", str(SEED))
                      .replace("../data/pages/", ""))
    settings = load_settings(config)
    pipeline.run(settings)
    con = duckdb.connect(str(settings.published_path), read_only=True)
    yield con
    con.close()


def test_the_page_title_has_the_site_figures(published) -> None:
    row = published.execute(
        "select title, year, site_rating, site_votes, user_review_count, critic_review_count, "
        "genres, directors, popularity from titles where title_id = 'Zerkalo (1975)'").fetchall()
    # "8.1/10", "34,370", "119 user 70 critic", "Popularity 3,939" on the page
    assert row == [("Zerkalo", 1975, 8.1, 34370, 119, 70, "Biography, Drama", "Andrei Tarkovsky", 3939)]


def test_the_user_review_with_its_helpful_votes_and_scores(published) -> None:
    (author, day, title, rating, helpful, total, ratio, wilson, compound, text), = published.execute(
        "select author, review_date, review_title, rating, helpful_votes, total_votes, helpful_ratio, "
        "helpful_wilson_lb, sentiment_compound, review_text from reviews").fetchall()
    assert (author, str(day), title) == ("tedg", "2002-09-03", "Reflections Reflections Reflections")
    # "41 of 57 people found this review helpful"; the "4 of 4" inside the text is not a star rating
    assert (rating, helpful, total) == (None, 41, 57)
    assert ratio == pytest.approx(41 / 57)
    # Wilson 95% lower bound of 41/57, worked independently
    z, n, p = 1.959963984540054, 57, 41 / 57
    expected = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert wilson == pytest.approx(expected) and wilson == pytest.approx(0.5917, abs=1e-4)
    # the published compound is vaderSentiment's own score of the published text
    assert compound == SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert "See all my reviews" not in text and "found this review helpful" not in text


def test_the_related_titles_are_published_with_their_ratings(published) -> None:
    related = dict(published.execute(
        "select title_id, site_rating from titles where related_to_title_id = 'Zerkalo (1975)'").fetchall())
    # twelve "More Like This" entries; five of them have no title line on the saved page
    assert len(related) == 12
    assert related["Nostalgia (1983)"] == 8.1 and related["Stalker (1979)"] == 8.2
    assert related["Tempo di viaggio (1983)"] == 7.3
    assert sum(1 for k in related if k.startswith("Zerkalo (1975) related ")) == 5
