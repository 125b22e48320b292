"""The real review texts of ../shared/data, and a benchmark corpus recombined from their sentences.

`real_texts` reads every review text (and review title/summary) of the corpora as the files hold
them; the parity test scores all of them. `write_corpus` builds N distinct synthetic reviews whose
texts are made of real sentences, keeping the real distribution of review lengths (in sentences),
and writes them as CSV files in a landing folder, the way a review system's export would look.
Nothing of the corpora is committed: the corpus is generated into a folder given at run time.
"""

from __future__ import annotations

import csv
import html
import random
import re
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


# Sentence ends in running review text: after . ! or ? (and closing quotes or brackets) and spaces.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")
_TAG = re.compile(r"<[^>]{0,40}>")

# The review bodies a benchmark review is recombined from (titles and the VADER snippets are not
# reviews, and the seed page is a single page).
REVIEW_CORPORA = ("imdb_movie_reviews_helpful", "aclimdb_subset", "amazon_fine_food_sample",
                  "amazon_customer_reviews_tsv_sample")
REVIEW_COLUMNS = ("review_id", "title_id", "author", "review_date", "rating", "helpful_votes",
                  "total_votes", "review_title", "review_text")


def sentence_pool(data: Path = DATA) -> tuple[list[str], list[int]]:
    """The real reviews' sentences (plain text: HTML tags and entities removed) and each review's
    number of sentences, the length distribution a benchmark corpus keeps."""
    pool: list[str] = []
    lengths: list[int] = []
    titles_seen = 0
    for corpus, text in real_texts(data):
        if corpus not in REVIEW_CORPORA:
            continue
        if corpus in ("imdb_movie_reviews_helpful", "amazon_fine_food_sample",
                      "amazon_customer_reviews_tsv_sample"):
            titles_seen += 1
            if titles_seen % 2:  # these corpora yield (title, body) pairs: skip the titles
                continue
        plain = " ".join(html.unescape(_TAG.sub(" ", text)).split())
        parts = [p for p in _SENTENCE_END.split(plain) if p]
        if parts:
            pool.extend(parts)
            lengths.append(len(parts))
    return pool, lengths


def reviews(rows: int, seed: int, pool: list[str], lengths: list[int], *, first_id: int = 0,
            titles: int | None = None) -> Iterator[tuple]:
    """`rows` synthetic reviews, all texts distinct, deterministic for the seed; REVIEW_COLUMNS."""
    rng = random.Random(seed)
    titles = titles or max(1, rows // 100)
    seen: set[int] = set()
    start = date(2005, 1, 1)
    # a title's reviews lean to its own mean rating, as real titles' do
    title_mean = [rng.uniform(3, 9) for _ in range(titles)]
    n = first_id
    while n < first_id + rows:
        k = rng.choice(lengths)
        text = " ".join(rng.choice(pool) for _ in range(k))
        key = hash(text)
        if key in seen:
            continue
        seen.add(key)
        t = rng.randrange(titles)
        rating = min(10, max(1, round(rng.gauss(title_mean[t], 2))))
        total = int(rng.expovariate(1 / 6)) if rng.random() < 0.7 else 0
        helpful = rng.randint(0, total) if total else 0
        yield (f"b{n:08d}", f"bt{t:06d}", f"user{rng.randrange(rows):07d}",
               (start + timedelta(days=rng.randrange(7000))).isoformat(), rating, helpful, total,
               pool[rng.randrange(len(pool))][:80], text)
        n += 1


def write_corpus(folder: Path, rows: int, seed: int = 7, *, file_rows: int = 100_000,
                 first_id: int = 0, prefix: str = "reviews", pool: tuple | None = None) -> list[Path]:
    """Write `rows` reviews as CSV files of at most `file_rows` rows into folder; the paths."""
    pool_sentences, lengths = pool or sentence_pool()
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    writer = fh = None
    for i, row in enumerate(reviews(rows, seed, pool_sentences, lengths, first_id=first_id)):
        if i % file_rows == 0:
            if fh:
                fh.close()
            paths.append(folder / f"{prefix}_{len(paths):03d}.csv")
            fh = paths[-1].open("w", newline="", encoding="utf-8")
            writer = csv.writer(fh)
            writer.writerow(REVIEW_COLUMNS)
        writer.writerow(row)
    if fh:
        fh.close()
    return paths
