"""Benchmark: the trust tests that read texts (reviewpipe.trust.texts) at --rows reviews.

    python bench/trust_texts.py --rows 1000000

Builds a warehouse holding what these tests read of staging (int_reviews_typed's texts, hashes,
authors and titles; stg_reviews as the view of its staged rows) with the reviews of bench/corpus.py
(distinct texts of real sentences, 100 reviews a title, authors drawn at random), then times, each
on the warehouse as the last left it:

- cold: update_signatures over every text (the one-time pass), then text_members;
- again with nothing new: update_signatures (finds nothing), then text_members (the per-run part);
- 1% new reviews (new texts): update_signatures (their signatures and copy pairs), text_members;

and how many templated texts (a run of real words, as a campaign's template) the phrase sample
keeps a phrase of (its recall bound). Prints one table; the machine's load is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import corpus  # noqa: E402

from reviewpipe.settings import Paths, Settings  # noqa: E402
from reviewpipe.trust import texts  # noqa: E402
from reviewpipe.warehouse import open_warehouse  # noqa: E402

_STAGED = """
    create or replace view stg_reviews as
    select review_id, title_id, author, source, reviewer_id, review_text, text_hash
    from int_reviews_typed where staged
"""


def frame(rows: int, seed: int, pool: tuple, first_id: int = 0) -> pl.DataFrame:
    """The corpus's reviews as the columns the text tests read."""
    made = list(corpus.reviews(rows, seed, *pool, first_id=first_id, titles=max(1, rows // 100)))
    return pl.DataFrame({
        "review_id": [r[0] for r in made], "title_id": [r[1] for r in made], "author": [r[2] for r in made],
        "review_text": [r[8] for r in made],
    }).with_columns(source=pl.lit("bench"), reviewer_id=pl.lit(None, pl.String), staged=pl.lit(True))


def append(con, reviews: pl.DataFrame) -> None:
    con.register("_bench", reviews)
    con.execute("""
        insert into int_reviews_typed
        select review_id, title_id, author, source, reviewer_id, review_text, md5(review_text), staged from _bench
    """)
    con.unregister("_bench")


def timed(what: str, results: list, fn):
    start = time.perf_counter()
    value = fn()
    results.append((what, time.perf_counter() - start, value))
    shown = value if isinstance(value, int) else ""
    print(f"{what:<45} {results[-1][1]:8.2f} s   {shown}", flush=True)
    return value


def phrase_recall(pool: list[str], n: int, least: int = 1, trials: int = 2000, seed: int = 3) -> dict[int, float]:
    """Per template length (words), the share of templates with at least `least` distinct kept phrases."""
    rng = random.Random(seed)
    words = " ".join(pool[:20000]).split()
    shares = {}
    for length in (10, 15, 20, 30, 40):
        starts = [rng.randrange(len(words) - length) for _ in range(trials)]
        frame_ = pl.LazyFrame({"i": list(range(trials)),
                               "review_text": [" ".join(words[s:s + length]) for s in starts]}
                              ).with_columns(pl.col("i").cast(pl.UInt32))
        kept = (texts.ngram_hashes(texts.text_words(frame_), n)
                .filter(pl.col("g") % texts.PHRASE_SAMPLE == 0).select("i", "g").unique()
                .group_by("i").len().filter(pl.col("len") >= least).collect().height)
        shares[length] = kept / trials
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    pool = corpus.sentence_pool()
    results: list = []
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(paths=Paths(warehouse=root / "w.duckdb", published=root / "p.duckdb",
                                        exports=root / "e", samples=root / "s"))
        reviews = timed("make the corpus", results, lambda: frame(args.rows, 7, pool))
        with open_warehouse(settings.paths.warehouse) as con:
            con.execute("""create table int_reviews_typed (review_id varchar, title_id varchar, author varchar,
                           source varchar, reviewer_id varchar, review_text varchar, text_hash varchar,
                           staged boolean)""")
            append(con, reviews)
            con.execute(_STAGED)
            del reviews
            timed("cold: update_signatures (every text)", results, lambda: texts.update_signatures(con, settings))
            m = timed("cold: text_members", results, lambda: texts.text_members(con, settings).height)
            timed("nothing new: update_signatures", results, lambda: texts.update_signatures(con, settings))
            timed("nothing new: text_members", results, lambda: texts.text_members(con, settings).height)
            append(con, frame(args.rows // 100, 8, pool, first_id=args.rows))
            timed("1% new: update_signatures", results, lambda: texts.update_signatures(con, settings))
            timed("1% new: text_members", results, lambda: texts.text_members(con, settings).height)
            sizes = con.execute("""select (select count(*) from text_signatures), (select count(*) from text_bands),
                                          (select coalesce(sum(len(phrases)), 0) from text_phrases), (select count(*) from text_copy_pairs),
                                          (select count(*) from text_copy_pairs where similarity >= $1)
                                """, [settings.trust.copy_similarity]).fetchone()
            con.execute("checkpoint")
            # the blocks (256 KiB each) each kept table takes in the file, after a checkpoint
            kept_mb = {t: con.execute("select count(distinct block_id) from pragma_storage_info(?) where block_id >= 0",
                                      [t]).fetchone()[0] * 0.262144
                       for t in ("text_signatures", "text_bands", "text_phrases", "text_copy_pairs", "int_reviews_typed")}
        print(f"members at cold: {m}; rows kept: signatures {sizes[0]}, bands {sizes[1]}, phrases {sizes[2]} (in lists), "
              f"copy pairs {sizes[3]} (verified, both orders; {sizes[4]} at least copy_similarity); warehouse {settings.paths.warehouse.stat().st_size / 1e6:.0f} MB")
        print("MB per table: " + ", ".join(f"{t} {mb:.0f}" for t, mb in kept_mb.items()))
    print(f"load average after: {os.getloadavg()}")
    trust = Settings().trust
    for least in (1, 2):  # repeated_phrases asks a review for two phrases
        recall = phrase_recall(pool[0], trust.phrase_words, least)
        print(f"share of templated texts with at least {least} kept phrase(s), by length in words:",
              ", ".join(f"{k}: {v:.2f}" for k, v in recall.items()))


if __name__ == "__main__":
    main()
