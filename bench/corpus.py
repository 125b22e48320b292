"""The real review texts of ../shared/data, and a benchmark corpus recombined from their sentences.

`real_texts` reads every review text (and review title/summary) of the corpora as the files hold
them; the parity test scores all of them. `write_corpus` builds N distinct synthetic reviews whose
texts are made of real sentences, keeping the real distribution of review lengths (in sentences),
and writes them as CSV files in a landing folder, the way a review system's export would look.
Nothing of the corpora is committed: the corpus is generated into a folder given at run time.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def real_texts(data: Path = DATA) -> Iterator[tuple[str, str]]:
    """(corpus, text) for every review text and review title in the corpora, in a fixed order."""
    con = duckdb.connect()
    try:
        queries = {
            "imdb_movie_reviews_helpful": (
                "select \"Review Title\", \"Review\" from read_csv(?, all_varchar = true, "
                "filename = true) order by filename", [str(data / "imdb_movie_reviews_helpful/*/movieReviews.csv")]),
            "amazon_fine_food_sample": (
                "select Summary, Text from read_csv(?, all_varchar = true)",
                [str(data / "amazon_fine_food_sample/Reviews.csv")]),
            "amazon_customer_reviews_tsv_sample": (
                "select review_headline, review_body from read_csv(?, delim = '\t', quote = '', "
                "escape = '', all_varchar = true, filename = true) order by filename",
                [str(data / "amazon_customer_reviews_tsv_sample/*.tsv")]),
        }
        for corpus, (sql, params) in queries.items():
            for row in con.execute(sql, params).fetchall():
                for text in row:
                    if text:
                        yield corpus, text
    finally:
        con.close()
    for path in sorted((data / "aclimdb_subset").rglob("*_*.txt")):
        yield "aclimdb_subset", path.read_text(encoding="utf-8")
    for path in sorted((data / "vader_groundtruth").glob("*_GroundTruth.txt")):
        raw = path.read_bytes().decode("utf-8-sig")
        for line in raw.split("\r\n"):
            parts = line.split("\t", 2)
            if len(parts) == 3 and parts[2]:
                yield "vader_groundtruth", parts[2]
    from reviewpipe.sources import read_imdb_page

    for path in sorted((data / "seed_imdb_title_page").glob("*")):
        if path.suffix in (".txt", ".html", ".htm"):
            frames = read_imdb_page(path)
            for column in ("review_title", "review_text"):
                if column in frames["reviews"].columns:
                    yield from (("seed_imdb_title_page", t) for t in frames["reviews"][column] if t)
