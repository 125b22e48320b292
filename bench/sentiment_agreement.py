"""Which measure agrees better with reviewers' own stars: whole-text VADER or the sentence mean?

Reads the real IMDb corpora in ../shared/data (see its README), cleans each text the way the
pipeline's `clean_text` SQL macro does (replicated here in Python; nothing is read from sql/),
scores it with `reviewpipe.sentiment.score_batches` on 2 worker processes and prints, per corpus,
the Spearman rank correlation of each measure with the star rating, the label agreement rate and
the share of saturated whole-text scores, then the scoring cost. Writes everything to
bench/results/sentiment_agreement.json.

    .venv/bin/python bench/sentiment_agreement.py               # agreement and scoring cost
    .venv/bin/python bench/sentiment_agreement.py --splitters   # and sentence splitters compared

--splitters compares the splitters that are installed: sentencex (a dependency) always, pysbd,
blingfire and syntok when present (`.venv/bin/pip install pysbd blingfire syntok`).
"""

from __future__ import annotations

import argparse
import csv
import html
import importlib.metadata
import json
import platform
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from reviewpipe import sentiment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
WORKERS = 2
BATCH = 250
SATURATED = 0.99  # |whole-text compound| at or above this is saturated
MIN_TITLE_REVIEWS = 5  # per-title figures only for titles with at least this many reviews
SAMPLE = 2000  # texts timed one process, for the cost and splitter figures
LENGTHS = (("<100", 100), ("100-299", 300), ("300-599", 600), (">=600", None))  # words

Splitter = Callable[[str], list[str]]


@dataclass(frozen=True)
class Review:
    """One rated, cleaned review; title_key is its film (folder name or IMDb tconst)."""

    corpus: str
    title_key: str
    text: str
    rating: int


# --- the pipeline's clean_text macro (sql/schema/macros.sql), replicated --------------------------

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\u00a0]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """The text as stg_reviews holds it: <br> -> newline, entities decoded, spaces collapsed, at
    most one blank line, trimmed ('' where the macro gives null)."""
    text = _BR.sub("\n", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n")
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip("\n ")


# --- corpora --------------------------------------------------------------------------------------


def imdb_helpful_reviews() -> list[Review]:
    """Reviews in imdb_movie_reviews_helpful with a numeric rating (widget-text rows left out)."""
    out = []
    for path in sorted(DATA.glob("imdb_movie_reviews_helpful/*/movieReviews.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rating = row["User's Rating out of 10"].strip()
                if rating.isdigit():
                    text = clean_text(row["Review"])
                    out.append(Review("imdb_helpful", path.parent.name, text, int(rating)))
    return out


def aclimdb_reviews() -> list[Review]:
    """Reviews in aclimdb_subset: rating from `<id>_<rating>.txt`, title from urls_<pos|neg>.txt."""
    out = []
    test = DATA / "aclimdb_subset" / "aclImdb" / "test"
    for label in ("pos", "neg"):
        urls = (test / f"urls_{label}.txt").read_text(encoding="utf-8").splitlines()
        for path in sorted((test / label).glob("*.txt")):
            review_id, rating = (int(part) for part in path.stem.split("_"))
            # line <id> is http://www.imdb.com/title/<tconst>/usercomments
            tconst = urls[review_id].split("/")[4]
            text = clean_text(path.read_text(encoding="utf-8"))
            out.append(Review("aclimdb", tconst, text, rating))
    return out


# --- statistics -----------------------------------------------------------------------------------


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: the Pearson r of the average ranks (tied values share their mean rank)."""
    rx = pl.Series(x, dtype=pl.Float64).rank("average").to_numpy()
    ry = pl.Series(y, dtype=pl.Float64).rank("average").to_numpy()
    return float(np.corrcoef(rx, ry)[0, 1])


def label(score: float) -> str:
    """VADER's label of a score: positive at >= 0.05, negative at <= -0.05, else neutral."""
    return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"


def rating_class(rating: int) -> str | None:
    """'negative' for 1-4 stars, 'positive' for 7-10, None for 5-6 (left out of the agreement)."""
    return "negative" if rating <= 4 else "positive" if rating >= 7 else None


def agreement(scores: Sequence[float], ratings: Sequence[int]) -> dict[str, float]:
    """Share of 1-4 and 7-10 star reviews whose label is their class, overall and per class."""
    pairs = [
        (label(s), rating_class(r)) for s, r in zip(scores, ratings, strict=True) if rating_class(r)
    ]
    recall = {}
    for cls in ("positive", "negative"):
        labels = [lab for lab, c in pairs if c == cls]
        recall[cls] = sum(lab == cls for lab in labels) / len(labels)
    return {
        "n": len(pairs),
        "rate": sum(lab == c for lab, c in pairs) / len(pairs),
        "positive_recall": recall["positive"],
        "negative_recall": recall["negative"],
        "neutral_share": sum(lab == "neutral" for lab, _ in pairs) / len(pairs),
    }


def per_title_spearman(reviews: Sequence[Review], scores: Sequence[float]) -> dict[str, float]:
    """Spearman of mean score with mean rating, over titles with MIN_TITLE_REVIEWS or more."""
    titles = (
        pl.DataFrame(
            {
                "title": [r.title_key for r in reviews],
                "rating": [r.rating for r in reviews],
                "score": scores,
            }
        )
        .group_by("title")
        .agg(pl.len().alias("n"), pl.col("rating").mean(), pl.col("score").mean())
        .filter(pl.col("n") >= MIN_TITLE_REVIEWS)
    )
    return {
        "titles": titles.height,
        "spearman": spearman(titles["score"].to_list(), titles["rating"].to_list()),
    }


# --- agreement ------------------------------------------------------------------------------------


def score_corpus(reviews: Sequence[Review]) -> tuple[list[sentiment.Scores], float]:
    """Scores of every review, in order, and the wall-clock seconds taken on WORKERS processes."""
    texts = [r.text for r in reviews]
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    started = time.perf_counter()
    scores = [row for batch in sentiment.score_batches(batches, WORKERS) for row in batch]
    return scores, time.perf_counter() - started


def corpus_figures(
    reviews: Sequence[Review], scores: Sequence[sentiment.Scores], seconds: float
) -> dict[str, Any]:
    """One corpus: sizes, time, saturation, and Spearman and agreement of both measures."""
    # a text without a sentence has no sentence mean: both measures are compared on the same texts
    kept = [
        (review, s[0], s[4]) for review, s in zip(reviews, scores, strict=True) if s[4] is not None
    ]
    rated = [review for review, _, _ in kept]
    ratings = [r.rating for r in rated]
    measures: dict[str, list[float]] = {
        "sentiment_compound": [whole for _, whole, _ in kept],
        "sentence_compound_mean": [mean for _, _, mean in kept],
    }
    figures: dict[str, Any] = {
        "reviews": len(reviews),
        "titles": len({r.title_key for r in reviews}),
        "texts_without_sentences": len(reviews) - len(kept),
        "sentences": sum(s[5] for s in scores),
        "score_seconds": round(seconds, 2),
        "saturated_share": sum(abs(s[0]) >= SATURATED for s in scores) / len(scores),
        "measures": {},
    }
    for name, values in measures.items():
        figures["measures"][name] = {
            "spearman": spearman(values, ratings),
            "agreement": agreement(values, ratings),
        }
        if len({r.title_key for r in rated}) > 50:  # 4 films in imdb_helpful: no per-title figure
            figures["measures"][name]["per_title"] = per_title_spearman(rated, values)
    return figures


def length_group(text: str) -> str:
    """The LENGTHS group of a text by its word count."""
    words = len(text.split())
    return next(name for name, below in LENGTHS if below is None or words < below)


def scoring_cost(texts: Sequence[str]) -> dict[str, dict[str, float]]:
    """One process, ms per text: splitting, VADER on the whole text, VADER on its sentences, and
    the full score_batch, on SAMPLE texts and by length group."""
    sample = random.Random(1).sample(list(texts), min(SAMPLE, len(texts)))
    from reviewpipe import vader

    vader.polarity_scores(["warm up"])
    groups: dict[str, list[str]] = {"all": sample}
    for text in sample:
        groups.setdefault(length_group(text), []).append(text)
    out = {}
    for name in ["all", *(n for n, _ in LENGTHS)]:
        group = groups.get(name, [])
        if not group:
            continue
        t0 = time.perf_counter()
        split = [sentiment.sentences(t) for t in group]
        t1 = time.perf_counter()
        vader.polarity_scores(group)
        t2 = time.perf_counter()
        vader.polarity_scores([sentence for sentences in split for sentence in sentences])
        t3 = time.perf_counter()
        sentiment.score_batch(group)
        t4 = time.perf_counter()
        ms = 1e3 / len(group)
        out[name] = {
            "texts": len(group),
            "words_mean": round(sum(len(t.split()) for t in group) / len(group)),
            "sentences_mean": round(sum(map(len, split)) / len(group), 1),
            "split_ms": (t1 - t0) * ms,
            "whole_ms": (t2 - t1) * ms,
            "sentences_ms": (t3 - t2) * ms,
            "score_batch_ms": (t4 - t3) * ms,
        }
    return out


# --- sentence splitters (--splitters) -------------------------------------------------------------

# (text as the pipeline leaves it, the sentences a careful reader would cut it into)
SPLIT_CASES: list[tuple[str, list[str]]] = [
    (
        "Mr. Smith and Mrs. Jones are great. The rest is dull.",
        ["Mr. Smith and Mrs. Jones are great.", "The rest is dull."],
    ),
    (
        "Dr. Strange is fun. Robert Downey Jr. steals it.",
        ["Dr. Strange is fun.", "Robert Downey Jr. steals it."],
    ),
    (
        "Some scenes, e.g. the chase, drag. It is long, i.e. too long.",
        ["Some scenes, e.g. the chase, drag.", "It is long, i.e. too long."],
    ),
    (
        "Good vs. evil, love, loss, etc. are all here. Worth it.",
        ["Good vs. evil, love, loss, etc. are all here.", "Worth it."],
    ),
    (
        "It flopped in the U.S. but not in Japan. Odd.",
        ["It flopped in the U.S. but not in Japan.", "Odd."],
    ),
    ("Directed by J. J. Abrams. It looks great.", ["Directed by J. J. Abrams.", "It looks great."]),
    ("It runs 2.5 hours and cost $3.50. Fine.", ["It runs 2.5 hours and cost $3.50.", "Fine."]),
    (
        "I waited... and waited for something to happen. Nothing did.",
        ["I waited... and waited for something to happen.", "Nothing did."],
    ),
    ("It was okay... The sequel is better.", ["It was okay...", "The sequel is better."]),
    ("Hmm.... not sure. Maybe.", ["Hmm.... not sure.", "Maybe."]),
    ("Wow!!! Best movie ever!!! Go see it.", ["Wow!!!", "Best movie ever!!!", "Go see it."]),
    (
        "Wow!!! I loved it! Really?? I doubt it.",
        ["Wow!!!", "I loved it!", "Really??", "I doubt it."],
    ),
    ("What?! Really? Yes.", ["What?!", "Really?", "Yes."]),
    ('He says "I will be back." Then he leaves.', ['He says "I will be back."', "Then he leaves."]),
    ('"Awful!" said my wife. I agreed.', ['"Awful!" said my wife.', "I agreed."]),
    ('He asks "Why?" and nobody answers. Sad.', ['He asks "Why?" and nobody answers.', "Sad."]),
    ("Great cast\nTerrible script\nSkip it", ["Great cast", "Terrible script", "Skip it"]),
    ("I loved it.\n\nMy kids hated it.", ["I loved it.", "My kids hated it."]),
    ("I rated it 10/10.The acting was superb.", ["I rated it 10/10.", "The acting was superb."]),
    ("this movie sucks. don't watch it.", ["this movie sucks.", "don't watch it."]),
    ("THIS IS THE WORST MOVIE EVER. AVOID.", ["THIS IS THE WORST MOVIE EVER.", "AVOID."]),
    ("Loved it :) Would watch again.", ["Loved it :) Would watch again."]),
    (
        "FORREST GUMP (1994) **** Tom Hanks, Sally Field. Brilliant.",
        ["FORREST GUMP (1994) **** Tom Hanks, Sally Field.", "Brilliant."],
    ),
    ("This is the No. 1 film of 2019. Enjoy.", ["This is the No. 1 film of 2019.", "Enjoy."]),
    ("See www.imdb.com for the trivia. Fun.", ["See www.imdb.com for the trivia.", "Fun."]),
    ("The version 2.0 release is fine. Buy it.", ["The version 2.0 release is fine.", "Buy it."]),
    (
        "Released in Jan. 2005 in St. Louis only. Odd.",
        ["Released in Jan. 2005 in St. Louis only.", "Odd."],
    ),
    ("Forrest, a.k.a. Gump, runs. He runs far.", ["Forrest, a.k.a. Gump, runs.", "He runs far."]),
    ("Warner Bros. made it in 2012. Good.", ["Warner Bros. made it in 2012.", "Good."]),
    ("I saw it at 9 p.m. on Friday. Packed.", ["I saw it at 9 p.m. on Friday.", "Packed."]),
    ("Kill Bill Vol. 1 is a blast. Go.", ["Kill Bill Vol. 1 is a blast.", "Go."]),
    (
        "I was enamored of Ms. Hayworth. She sings.",
        ["I was enamored of Ms. Hayworth.", "She sings."],
    ),
    ("It lasts approx. three hours. Too long.", ["It lasts approx. three hours.", "Too long."]),
    # hard for every splitter tried: a numbered list inside a sentence
    (
        "My top 3: 1. Pulp Fiction 2. Fargo. Both great.",
        ["My top 3: 1. Pulp Fiction 2. Fargo.", "Both great."],
    ),
]

# each is put in "I liked <abbreviation> Hayworth in it. Fine.", which is two sentences
ABBREVIATIONS = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sr.", "Jr.", "St.", "Mt.", "Lt.", "Col.", "Gen.", "Capt.", "Sgt.", "Gov.", "Sen.", "Rep.", "Rev.", "Hon.", "vs.", "etc.", "e.g.", "i.e.", "approx.", "Jan.", "Feb.", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.", "No.", "Vol.", "Ch.", "pt.", "min.", "hrs.", "U.S.", "U.K.", "Inc.", "Ltd.", "Co.", "Bros.", "Corp.", "Ave.", "Fig.", "ca.", "cf.", "et", "al.", "Ph.D.", "a.m.", "p.m.", "D.C.", "L.A.", "N.Y.", "S.H.I.E.L.D."]


def by_line(split: Splitter) -> Splitter:
    """`split` applied line by line, sentences stripped: every candidate gets the pipeline's rule
    that a line break ends a sentence, so they differ only inside a line."""
    return lambda text: [s.strip() for line in text.splitlines() for s in split(line) if s.strip()]


def splitter_candidates() -> dict[str, tuple[str, Splitter]]:
    """name -> (version, sentences of a text) for each installed candidate splitter."""
    import sentencex

    found = {
        "sentencex": (
            importlib.metadata.version("sentencex"),
            by_line(lambda t: sentencex.segment("en", t)),
        )
    }
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False)
        found["pysbd"] = (importlib.metadata.version("pysbd"), by_line(segmenter.segment))
    except ImportError:
        pass
    try:
        import blingfire

        def bling(t: str) -> list[str]:
            if not t.strip():  # blingfire fails an assertion on blank text
                return []
            return [t[a:b] for a, b in blingfire.text_to_sentences_and_offsets(t)[1]]

        found["blingfire"] = (importlib.metadata.version("blingfire"), by_line(bling))
    except ImportError:
        pass
    try:
        from syntok import segmenter as syntok_segmenter

        def syntok(t: str) -> list[str]:
            paragraphs = syntok_segmenter.analyze(t)
            return ["".join(tok.spacing + tok.value for tok in s) for p in paragraphs for s in p]

        found["syntok"] = (importlib.metadata.version("syntok"), by_line(syntok))
    except ImportError:
        pass
    found["reviewpipe sentences()"] = ("sentencex + fixes", sentiment.sentences)
    return found


def splitter_figures(texts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per splitter: hand-made cases right, abbreviations kept inside a sentence, and texts per
    second on SAMPLE real reviews (one process)."""
    sample = random.Random(1).sample(list(texts), min(SAMPLE, len(texts)))
    out = {}
    for name, (version, split) in splitter_candidates().items():
        failed = [text for text, expected in SPLIT_CASES if split(text) != expected]
        broken = [a for a in ABBREVIATIONS if len(split(f"I liked {a} Hayworth in it. Fine.")) != 2]
        split(sample[0])
        started = time.perf_counter()
        count = sum(len(split(t)) for t in sample)
        seconds = time.perf_counter() - started
        out[name] = {
            "version": version,
            "cases_right": len(SPLIT_CASES) - len(failed),
            "cases": len(SPLIT_CASES),
            "cases_wrong": failed,
            "abbreviations_kept": len(ABBREVIATIONS) - len(broken),
            "abbreviations": len(ABBREVIATIONS),
            "abbreviations_split_after": broken,
            "texts_per_second": len(sample) / seconds,
            "sentences": count,
        }
    return out


# --- report ---------------------------------------------------------------------------------------


def print_report(results: dict[str, Any]) -> None:
    """The figures as three plain tables (four with --splitters)."""
    print(
        f"{'corpus':13} {'measure':23} {'spearman':>8} {'agree':>6} {'pos ok':>6} {'neg ok':>6} "
        f"{'neutral':>7} {'title rho':>9}"
    )
    for corpus, fig in results["corpora"].items():
        for measure, m in fig["measures"].items():
            a = m["agreement"]
            title = f"{m['per_title']['spearman']:.3f}" if "per_title" in m else "-"
            print(
                f"{corpus:13} {measure:23} {m['spearman']:>8.3f} {a['rate']:>6.3f} "
                f"{a['positive_recall']:>6.3f} {a['negative_recall']:>6.3f} "
                f"{a['neutral_share']:>7.3f} {title:>9}"
            )
    print()
    for corpus, fig in results["corpora"].items():
        whole = fig["measures"]["sentiment_compound"]
        titles = ""
        if "per_title" in whole:
            titles = f"; title rho over {whole['per_title']['titles']} titles"
            titles += f" with >= {MIN_TITLE_REVIEWS} reviews"
        print(
            f"{corpus}: {fig['reviews']} reviews, {whole['agreement']['n']} of them rated 1-4 or "
            f"7-10 (5-6 left out of the agreement); {fig['sentences']} sentences; |whole compound| "
            f">= {SATURATED}: {fig['saturated_share']:.1%}; scored in {fig['score_seconds']} s on "
            f"{WORKERS} workers{titles}"
        )
    print()
    print(
        f"{'ms per text, 1 process':22} {'texts':>5} {'words':>5} {'sents':>5} {'split':>6} "
        f"{'whole':>6} {'by sentence':>11} {'score_batch':>11}"
    )
    for group, c in results["scoring_cost_ms_per_text"].items():
        print(
            f"{group:22} {c['texts']:>5} {c['words_mean']:>5} {c['sentences_mean']:>5} "
            f"{c['split_ms']:>6.3f} {c['whole_ms']:>6.2f} {c['sentences_ms']:>11.2f} "
            f"{c['score_batch_ms']:>11.2f}"
        )
    if "splitters" in results:
        print()
        print(f"{'splitter':24} {'version':>17} {'cases':>6} {'abbrev':>6} {'texts/s':>8}")
        for name, s in results["splitters"].items():
            print(
                f"{name:24} {s['version']:>17} {s['cases_right']:>3}/{s['cases']} "
                f"{s['abbreviations_kept']:>3}/{s['abbreviations']} {s['texts_per_second']:>8.0f}"
            )
    print(f"\ntotal {results['total_seconds']} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison, print it and write the JSON; 1 when the corpora are absent."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--splitters", action="store_true", help="also compare sentence splitters")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"no corpora at {DATA}: see ../shared/data/README.md", file=sys.stderr)
        return 1

    started = time.perf_counter()
    corpora = {"imdb_helpful": imdb_helpful_reviews(), "aclimdb": aclimdb_reviews()}
    packages = ("vaderSentiment", "sentencex", "polars", "numpy")
    results: dict[str, Any] = {
        "command": "bench/sentiment_agreement.py" + (" --splitters" if args.splitters else ""),
        "python": platform.python_version(),
        "packages": {p: importlib.metadata.version(p) for p in packages},
        "workers": WORKERS,
        "corpora": {},
    }
    for name, reviews in corpora.items():
        scores, seconds = score_corpus(reviews)
        results["corpora"][name] = corpus_figures(reviews, scores, seconds)
    texts = [r.text for reviews in corpora.values() for r in reviews]
    results["scoring_cost_ms_per_text"] = scoring_cost(texts)
    if args.splitters:
        results["splitters"] = splitter_figures(texts)
    results["total_seconds"] = round(time.perf_counter() - started, 1)

    print_report(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "sentiment_agreement.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
