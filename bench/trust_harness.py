"""Planted campaigns in real corpora: do the trust tests (reviewpipe.trust) find them?

    python bench/trust_harness.py                                # every corpus, seeds 1-3
    python bench/trust_harness.py --corpora yelp amazon2018 --seeds 1 --set alpha=0.05

For each corpus of ../shared/data (Yelp, Amazon 2018 5-core, IMDb), copied into a work folder (the
originals are never written): the real pipeline runs on the clean copy, then, per seed, on a copy
with campaigns planted as extra files of the same source, in the corpus's own format (same fields,
ids, date formats; texts made of the corpus's own sentences plus the campaign's template). Kinds:

- burst: 30-80 five-star reviews of one title within two days, new accounts, templated near-copies;
- bombing: 30-80 one-star reviews on one day, new accounts, varied short texts;
- incentivized: 30-50 five-star reviews over weeks whose texts disclose a free or discounted
  product the way Vine and "free for review" texts read, from new and existing accounts;
- ring: 30-40 accounts that each review the same 5-8 titles with five stars over several days;
- control: a small burst (10-25 reviews): reported, not held to the targets.

Scores, per corpus and kind (`score`): the share of planted titles with a failing test (and which
tests fail), review-level precision (planted flagged / all flagged on planted titles) and recall
(planted flagged / planted), and the false alarms: the share of untouched tested titles (rows in
agg_trust_tests) with a failing test, with campaigns and on the clean corpus. A planted review is
one whose review_id the clean run did not publish. Then op_spam (800 deceptive hotel reviews, no
reviewer ids, no dates): which tests can run there and the share of deceptive and of truthful
reviews any failing test flags. Writes bench/results/trust_harness.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import shutil
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = REPO.parent / "shared" / "data"
KINDS = ("burst", "bombing", "incentivized", "ring", "control")
HELD = ("burst", "bombing", "incentivized", "ring")  # the kinds held to the targets (>= 30 reviews)
TARGETS = {"detection": 1.0, "precision": 0.8, "recall": 0.9, "false_alarms": 0.02}


# --- what a corpus holds, read from its original files --------------------------------------------


@dataclass
class RealReview:
    """One real review, as the harness needs it: to pick titles, dates, accounts and sentences."""

    title_id: str
    reviewer: str
    date: dt.date | None
    rating: float | None
    text: str


@dataclass
class Planted:
    """One planted review, in the corpus's terms; `campaign` names the campaign it belongs to."""

    campaign: str
    kind: str
    title_id: str
    reviewer: str
    date: dt.date
    rating: int
    text: str
    verified: bool | None = None
    moment: dt.datetime | None = None


@dataclass
class Corpus:
    """A real corpus: how to copy it, configure it, read it and write planted records into it."""

    name: str
    files: list[Path]  # the originals, copied under work/corpus/ keeping the folder after `root`
    root: Path
    sources: str  # the [[sources]] of its config, paths relative to the project folder
    scale: int
    read: Callable[[Corpus], list[RealReview]]
    write: Callable[[Path, list[Planted]], None]
    new_reviewer: Callable[[random.Random], str]
    min_target_reviews: int  # titles with fewer real reviews are not picked as targets
    # corpora with too few titles to hold every kind at once (IMDb: 4 films) get one scenario per kind
    one_kind_per_scenario: bool = False
    ring_titles: tuple[int, int] = (5, 8)


def _sentences(text: str) -> list[str]:
    """The text's sentences of 5-25 words (real material for planted texts)."""
    parts = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text.replace("<br />", " ")).strip())
    return [p for p in parts if 5 <= len(p.split()) <= 25 and p[-1] in ".!?" and p[0].isupper()]


# Yelp: JSON lines, CRLF, "/" escaped as "\/", literal UTF-8; reviews and businesses in two files.

def _json_lines(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _read_yelp(corpus: Corpus) -> list[RealReview]:
    return [RealReview(r["business_id"], r["user_id"], dt.date.fromisoformat(r["date"][:10]), float(r["stars"]),
                       r["text"]) for r in _json_lines(corpus.root / "review_sample.json")]


def _yelp_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(22))


def _write_yelp(folder: Path, planted: list[Planted]) -> None:
    rng = random.Random(len(planted))
    with open(folder / "reviews" / "review_planted.json", "w", encoding="utf-8", newline="") as f:
        for p in planted:
            moment = p.moment or dt.datetime.combine(p.date, dt.time(12))
            record = {"review_id": _yelp_id(rng), "user_id": p.reviewer, "business_id": p.title_id,
                      "stars": float(p.rating), "useful": 0, "funny": 0, "cool": 0, "text": p.text,
                      "date": moment.strftime("%Y-%m-%d %H:%M:%S")}
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/") + "\r\n")


YELP_SOURCES = """
[[sources]]
name = "yelp_reviews"
preset = "yelp"
path = "corpus/reviews/*.json"

[[sources]]
name = "yelp_businesses"
preset = "yelp_business"
path = "corpus/businesses/business_sample.json"
"""


# Amazon 2018: JSON lines in Python's json spacing, LF; reviewerID "A" + 12-13 upper-case letters
# and digits; day resolution (unixReviewTime at midnight UTC and reviewTime "09 4, 2015").

def _read_amazon(corpus: Corpus) -> list[RealReview]:
    return [RealReview(r["asin"], r["reviewerID"], dt.datetime.fromtimestamp(int(r["unixReviewTime"]), dt.UTC).date(),
                       float(r["overall"]), r.get("reviewText") or "")
            for r in _json_lines(corpus.root / "AMAZON_FASHION_5.json")]


def _amazon_id(rng: random.Random) -> str:
    return "A" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.choice((12, 13))))


FIRST_NAMES = ("Tonya", "Mike", "Sarah", "J.", "Linda", "Kevin", "Amy", "Rob", "Karen", "Dee", "Chris",
               "Pat", "Maria", "Steve", "Jen", "Tom", "Ann", "Luis", "Kim", "Greg")


def _write_amazon(folder: Path, planted: list[Planted]) -> None:
    rng = random.Random(len(planted))
    with open(folder / "AMAZON_FASHION_planted.json", "w", encoding="utf-8") as f:
        for p in planted:
            unix = int(dt.datetime.combine(p.date, dt.time(0), dt.UTC).timestamp())
            record = {"overall": float(p.rating), "verified": bool(p.verified),
                      "reviewTime": f"{p.date.month:02d} {p.date.day}, {p.date.year}",
                      "reviewerID": p.reviewer, "asin": p.title_id,
                      "reviewerName": f"{rng.choice(FIRST_NAMES)} {rng.choice(string.ascii_uppercase)}.",
                      "reviewText": p.text, "summary": " ".join(p.text.split()[:4]).rstrip(".!,"),
                      "unixReviewTime": unix}
            f.write(json.dumps(record) + "\n")


AMAZON_SOURCES = """
[[sources]]
name = "amazon_fashion"
preset = "amazon_2018"
path = "corpus/*.json"
"""


# IMDb: one movieReviews.csv per film (the folder is the title), CRLF, "13 March 2003" dates, author
# names only (no reviewer id: the author stands for the reviewer). Planted rows go in a second file
# of the film's folder, movieReviews_planted.csv, which the source's path reads too.

def _read_imdb(corpus: Corpus) -> list[RealReview]:
    out = []
    for path in sorted(corpus.root.glob("*/movieReviews.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                try:
                    day = dt.datetime.strptime(r["Date of Review"], "%d %B %Y").date()
                except ValueError:
                    day = None
                rating = r["User's Rating out of 10"].strip()
                out.append(RealReview(path.parent.name, r["User"], day,
                                      float(rating) if rating.isdigit() else None, r["Review"]))
    return out


def _imdb_name(rng: random.Random) -> str:
    stem = rng.choice(("movie", "film", "cinema", "popcorn", "reel", "screen", "critic", "fan"))
    tail = rng.choice(("lover", "buff", "guy", "girl", "nerd", "head", "watcher", "junkie"))
    return f"{stem}{rng.choice(('', '_', '-', '.'))}{tail}{rng.randint(1, 99999)}"


IMDB_HEADER = ["Date of Review", "User", "Usefulness Vote", "Total Votes", "User's Rating out of 10",
               "Review Title", "Review"]


def _write_imdb(folder: Path, planted: list[Planted]) -> None:
    by_title: dict[str, list[Planted]] = {}
    for p in planted:
        by_title.setdefault(p.title_id, []).append(p)
    for title, rows in by_title.items():
        with open(folder / title / "movieReviews_planted.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(IMDB_HEADER)
            for p in rows:
                w.writerow([f"{p.date.day} {p.date.strftime('%B %Y')}", p.reviewer, 0, 0, p.rating,
                            " ".join(p.text.split()[:5]).rstrip(".!,"), p.text])


IMDB_SOURCES = """
[[sources]]
name = "imdb_reviews"
kind = "reviews"
path = "corpus/*/movieReviews*.csv"
format = "csv"
rating_scale = 10
[sources.columns]
title_id = "regexp_extract(filename, '([^/]+)/movieReviews[^/]*[.]csv', 1)"
review_date = "strptime(\\"Date of Review\\", '%d %B %Y')::date"
author = "User"
rating = "case when \\"User's Rating out of 10\\" like '%helpful%' then null else \\"User's Rating out of 10\\" end"
review_title = "Review Title"
review_text = "Review"
helpful_votes = "Usefulness Vote"
total_votes = "Total Votes"
"""


def corpora() -> dict[str, Corpus]:
    """The corpora the harness plants in, by name."""
    yelp = DATA / "yelp_open_dataset"
    amazon = DATA / "amazon2018_5core"
    imdb = DATA / "imdb_movie_reviews_helpful"
    return {
        "yelp": Corpus("yelp", [yelp / "review_sample.json", yelp / "business_sample.json"], yelp,
                       YELP_SOURCES, 5, _read_yelp, _write_yelp, _yelp_id, min_target_reviews=8),
        "amazon2018": Corpus("amazon2018", [amazon / "AMAZON_FASHION_5.json"], amazon, AMAZON_SOURCES, 5,
                             _read_amazon, _write_amazon, _amazon_id, min_target_reviews=10,
                             one_kind_per_scenario=True),
        "imdb": Corpus("imdb", sorted(imdb.glob("*/movieReviews.csv")), imdb, IMDB_SOURCES, 10,
                       _read_imdb, _write_imdb, _imdb_name, min_target_reviews=100,
                       one_kind_per_scenario=True, ring_titles=(3, 3)),
    }


def copy_corpus(corpus: Corpus, project: Path) -> Path:
    """The corpus's files copied into project/corpus (Yelp: reviews/ and businesses/ apart, so that
    planted reviews sit beside the real ones as a file of the same source); that folder."""
    folder = project / "corpus"
    for src in corpus.files:
        rel = src.relative_to(corpus.root)
        if corpus.name == "yelp":
            rel = Path("reviews" if src.name.startswith("review") else "businesses") / rel
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return folder


# --- campaigns ------------------------------------------------------------------------------------

# Written the way real disclosures read (Amazon Vine, "free for review" clubs, Yelp Elite events).
DISCLOSURES = (
    "I received this product free of charge in exchange for my honest review.",
    "I got this at a discounted price in exchange for my honest and unbiased opinion.",
    "Disclaimer: I was given this item for free to test and review, but all opinions are my own.",
    "I received a sample of this product at a discount for my honest feedback.",
    "Full disclosure, I was sent this complimentary in exchange for an unbiased review.",
    "I purchased this at a discount in return for my honest review and this did not affect my rating.",
    "This product was provided to me free for review purposes; my review is honest.",
    "I was invited by the owner and received a complimentary meal in exchange for my review.",
)

BURST_TEMPLATES = (
    ("{a} This is hands down the {b} I have ever {c}. The quality is amazing and the price is {d}. "
     "I will definitely be back and I tell all my friends about it. Five stars, highly recommend!"),
    ("Wow, just wow! {a} Absolutely the {b} I have {c} in years, {d}. "
     "Everything was perfect from start to finish and I can not recommend it enough. Must try!"),
    ("{a} Best experience ever, this is the {b} I have {c}. Super friendly, great value and {d}. "
     "Do not hesitate, you will not regret it. 10 out of 10, would recommend to everyone!!"),
)
SLOTS = {
    "a": ("Amazing!", "Love it!", "So happy!", "Incredible!", "Wonderful!"),
    "b": ("best one", "very best", "greatest", "best thing", "top one"),
    "c": ("tried", "seen", "found", "bought", "experienced"),
    "d": ("unbeatable", "so fair", "a steal", "totally worth it", "very reasonable"),
}
BOMBING = (
    "Terrible.", "Worst ever, avoid.", "Do not waste your money.", "Total scam.", "Awful, just awful.",
    "Boycott this.", "One star is too many.", "Never again.", "Complete garbage.", "Disappointing and overrated.",
    "Stay away.", "Horrible people behind this.", "Zero stars if I could.", "Pathetic.", "Rip off.",
)


def _account(corpus: Corpus, rng: random.Random, used: set[str]) -> str:
    while True:
        name = corpus.new_reviewer(rng)
        if name not in used:
            used.add(name)
            return name


def _day_in_span(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


@dataclass
class Material:
    """What campaigns are made of, per corpus: real sentences by star level, accounts in use, the
    span of each title's dates, its number of reviews and its real reviewers."""

    positive: list[str]
    negative: list[str]
    used: set[str]
    span: dict[str, tuple[dt.date, dt.date]]
    counts: Counter[str]
    reviewers_of: dict[str, set[str]]
    active: list[str]  # existing accounts with at least two reviews (incentivized accounts)


def material(corpus: Corpus, real: list[RealReview]) -> Material:
    """The real material campaigns of `corpus` are built from."""
    top = corpus.scale
    positive = [s for r in real if r.rating is not None and r.rating >= top - 0.5 for s in _sentences(r.text)]
    negative = [s for r in real if r.rating is not None and r.rating <= 1.5 + (top == 10) for s in _sentences(r.text)]
    span: dict[str, tuple[dt.date, dt.date]] = {}
    reviewers_of: dict[str, set[str]] = {}
    for r in real:
        reviewers_of.setdefault(r.title_id, set()).add(r.reviewer)
        if r.date is not None:
            lo, hi = span.get(r.title_id, (r.date, r.date))
            span[r.title_id] = (min(lo, r.date), max(hi, r.date))
    per = Counter(r.reviewer for r in real)
    return Material(positive, negative, set(per), span, Counter(r.title_id for r in real), reviewers_of,
                    sorted(a for a, n in per.items() if n >= 2))


def _reviews(corpus: Corpus, m: Material, rng: random.Random, campaign: str, kind: str, title: str,
             n: int, accounts: list[str], days: list[dt.date], rating: int,
             texts: Callable[[int], str], verified_p: float) -> list[Planted]:
    out = []
    for i in range(n):
        day = days[i % len(days)]
        moment = dt.datetime.combine(day, dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)))
        out.append(Planted(campaign, kind, title, accounts[i], day, rating, texts(i),
                           rng.random() < verified_p, moment))
    return out


def burst(corpus: Corpus, m: Material, rng: random.Random, name: str, titles: list[str],
          n: int | None = None, kind: str = "burst") -> list[Planted]:
    """n (30-80) five-star reviews of one title within two days from new accounts: one template
    with its slots varied, now and then a real sentence of the corpus added."""
    title = titles[0]
    n = n or rng.randint(30, 80)
    template = rng.choice(BURST_TEMPLATES)
    first = _day_in_span(rng, *m.span[title])
    days = [first, first + dt.timedelta(days=1)]

    def text(i: int) -> str:
        t = template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})
        return t + (" " + rng.choice(m.positive) if rng.random() < 0.3 else "")

    accounts = [_account(corpus, rng, m.used) for _ in range(n)]
    return _reviews(corpus, m, rng, name, kind, title, n, accounts, [days[i % 2] for i in range(n)],
                    corpus.scale, text, verified_p=rng.choice((0.0, 0.3, 0.8)))


def bombing(corpus: Corpus, m: Material, rng: random.Random, name: str, titles: list[str]) -> list[Planted]:
    """30-80 one-star reviews of one title on one day from new accounts, short varied texts: a
    slogan, often with a real sentence of a low-rated review."""
    title = titles[0]
    n = rng.randint(30, 80)
    day = _day_in_span(rng, *m.span[title])

    def text(i: int) -> str:
        parts = [rng.choice(BOMBING)]
        if rng.random() < 0.6:
            parts.append(rng.choice(m.negative))
        return " ".join(parts)

    accounts = [_account(corpus, rng, m.used) for _ in range(n)]
    return _reviews(corpus, m, rng, name, "bombing", title, n, accounts, [day], 1, text,
                    verified_p=rng.choice((0.0, 0.2)))


def incentivized(corpus: Corpus, m: Material, rng: random.Random, name: str, titles: list[str]) -> list[Planted]:
    """30-50 five-star reviews of one title over 3-8 weeks, each two to four real sentences of
    five-star reviews and a disclosure; half the accounts new, half existing ones (reviewers of
    other titles, as Vine reviewers are)."""
    title = titles[0]
    n = rng.randint(30, 50)
    first = _day_in_span(rng, *m.span[title])
    weeks = rng.randint(3, 8)
    days = [first + dt.timedelta(days=rng.randint(0, 7 * weeks)) for _ in range(n)]
    existing = [a for a in m.active if a not in m.reviewers_of[title]]
    rng.shuffle(existing)
    accounts = [existing.pop() if existing and rng.random() < 0.5 else _account(corpus, rng, m.used)
                for _ in range(n)]

    def text(i: int) -> str:
        body = [rng.choice(m.positive) for _ in range(rng.randint(2, 4))]
        body.insert(rng.randint(0, len(body)), rng.choice(DISCLOSURES))
        return " ".join(body)

    # Vine reviews are not verified purchases; "free for review" club buys are
    return _reviews(corpus, m, rng, name, "incentivized", title, n, accounts, days, corpus.scale, text,
                    verified_p=rng.choice((0.0, 0.5)))


def ring(corpus: Corpus, m: Material, rng: random.Random, name: str, titles: list[str]) -> list[Planted]:
    """30-40 new accounts each reviewing the same titles (5-8) with five stars over 3-10 days, each
    text two or three real sentences of five-star reviews."""
    n = rng.randint(30, 40)
    accounts = [_account(corpus, rng, m.used) for _ in range(n)]
    out: list[Planted] = []
    for title in titles:
        first = _day_in_span(rng, *m.span[title])
        length = rng.randint(3, 10)
        days = [first + dt.timedelta(days=rng.randint(0, length)) for _ in range(n)]
        out += _reviews(corpus, m, rng, name, "ring", title, n, accounts, days, corpus.scale,
                        lambda i: " ".join(rng.choice(m.positive) for _ in range(rng.randint(2, 3))),
                        verified_p=0.5)
    return out


def control(corpus: Corpus, m: Material, rng: random.Random, name: str, titles: list[str]) -> list[Planted]:
    """A small burst (10-25 reviews): below the targets' size, reported only."""
    return burst(corpus, m, rng, name, titles, n=rng.randint(10, 25), kind="control")


BUILDERS: dict[str, Callable[..., list[Planted]]] = {
    "burst": burst, "bombing": bombing, "incentivized": incentivized, "ring": ring, "control": control}


def scenarios(corpus: Corpus, m: Material, seed: int, kinds: Iterable[str]) -> list[list[Planted]]:
    """The planted reviews of each scenario of `seed`: every kind on titles of its own in one
    scenario, or (corpora with few titles) one scenario per kind. Targets are real titles with at
    least min_target_reviews reviews and dates; the others stay untouched."""
    pool = sorted(t for t, n in m.counts.items() if n >= corpus.min_target_reviews and t in m.span)
    out = []
    groups = [[k] for k in kinds] if corpus.one_kind_per_scenario else [list(kinds)]
    for g, group in enumerate(groups):
        rng = random.Random(f"{corpus.name}-{seed}-{g}")
        free = pool[:]
        rng.shuffle(free)
        planted: list[Planted] = []
        for kind in group:
            size = rng.randint(*corpus.ring_titles) if kind == "ring" else 1
            titles, free = free[:size], free[size:]
            planted += BUILDERS[kind](corpus, m, rng, f"{kind}-{seed}", titles)
        out.append(planted)
    return out


# --- runs and scores ------------------------------------------------------------------------------


def config_text(sources: str, trust: dict[str, Any]) -> str:
    """A project config for the copy: its sources, the published files in data/, [trust] overrides."""
    lines = ['[paths]', 'warehouse = "data/warehouse.duckdb"', 'published = "data/reports.duckdb"',
             'exports = "data/exports"', sources]
    if trust:
        lines.append("[trust]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in trust.items()]
    return "\n".join(lines) + "\n"


def run_pipeline(project: Path) -> float:
    """Runs the pipeline (the library, as `reviewpipe run --no-prefect`) on project/; its seconds."""
    from reviewpipe import pipeline
    from reviewpipe.settings import load_settings

    t = time.perf_counter()
    pipeline.run(load_settings(project / "reviewpipe.toml"))
    return time.perf_counter() - t


def published(project: Path) -> dict[str, list[tuple]]:
    """The rows the scores read from project's published database."""
    import duckdb

    con = duckdb.connect(str(project / "data" / "reports.duckdb"), read_only=True)
    try:
        return {
            "reviews": con.execute("select review_id, title_id, rating, rating_scale from reviews").fetchall(),
            "tests": con.execute("select title_id, test, verdict from agg_trust_tests").fetchall(),
            "flagged": con.execute("select review_id, title_id, test from agg_trust_flagged_reviews").fetchall(),
        }
    finally:
        con.close()


def failing(tables: dict[str, list[tuple]], verdicts: tuple[str, ...] = ("fail",)) -> dict[str, set[str]]:
    """Per title, its tests with one of `verdicts` (failing ones by default)."""
    out: dict[str, set[str]] = {}
    for title, test, verdict in tables["tests"]:
        if verdict in verdicts:
            out.setdefault(title, set()).add(test)
    return out


def false_alarms(tables: dict[str, list[tuple]], untouched: set[str] | None = None) -> dict[str, Any]:
    """The untouched tested titles (all tested titles when `untouched` is None) and how many fail."""
    tested = {t for t, _, _ in tables["tests"]}
    if untouched is not None:
        tested &= untouched
    fails = failing(tables)
    failed = sorted(t for t in tested if t in fails)
    return {"tested_titles": len(tested), "failing_titles": len(failed),
            "rate": len(failed) / len(tested) if tested else None,
            "failing_tests": dict(Counter(x for t in failed for x in fails[t]))}


def score(planted: list[Planted], clean_ids: set[str], tables: dict[str, list[tuple]],
          min_rating_effect: float = 0.1) -> dict[str, Any]:
    """Per campaign: its titles and which fail, its reviews and how many are flagged; the flagged
    reviews of its titles; plus the false alarms on titles no campaign touched."""
    new = {rid: title for rid, title, _, _ in tables["reviews"] if rid not in clean_ids}
    real: dict[str, list[float]] = {}
    span = 1.0
    for rid, title, rating, scale in tables["reviews"]:
        if rid in clean_ids and rating is not None:
            real.setdefault(title, []).append(rating)
            span = scale - 1 if scale and scale > 1 else 1.0  # 1-K scales; thumbs 0/1 have span 1
    campaign_of_title = {p.title_id: p.campaign for p in planted}
    fails = failing(tables)
    warns = failing(tables, ("fail", "warn"))
    flagged = {rid for rid, _, _ in tables["flagged"]}
    flagged_tests: dict[str, set[str]] = {}
    for rid, _, test in tables["flagged"]:
        flagged_tests.setdefault(rid, set()).add(test)
    campaigns: dict[str, dict[str, Any]] = {}
    for p in planted:
        c = campaigns.setdefault(p.campaign, {"kind": p.kind, "titles": set(), "planted": 0, "rating": p.rating})
        c["titles"].add(p.title_id)
        c["planted"] += 1
    for name, c in campaigns.items():
        titles = c["titles"]
        ids = [rid for rid, t in new.items() if campaign_of_title.get(t) == name]
        on_titles = [rid for rid, t, _, _ in tables["reviews"] if t in titles]
        ratings = [x for t in titles for x in real.get(t, [])]
        real_mean = sum(ratings) / len(ratings) if ratings else None
        shift = None if real_mean is None else c["rating"] - real_mean
        flagged_on = [rid for rid in on_titles if rid in flagged]
        c.update({
            "titles": len(titles), "titles_failing": sum(t in fails for t in titles),
            "titles_warning": sum(t in warns for t in titles),
            "warning_tests": dict(Counter(x for t in titles for x in warns.get(t, set()) - fails.get(t, set()))),
            "failing_tests": dict(Counter(x for t in titles for x in fails.get(t, ()))),
            "published_planted": len(ids), "planted_flagged": sum(rid in flagged for rid in ids),
            "flagged_on_titles": len(flagged_on),
            "real_mean": real_mean, "rating_shift": shift,
            # the verdict rule fails a subset only when its mean is min_rating_effect x span away
            # from the rest's: a campaign rating the title as its real reviews do cannot fail
            "moves_rating": shift is not None and abs(shift) >= min_rating_effect * span,
            "flagging_tests": dict(Counter(x for rid in ids for x in flagged_tests.get(rid, ()))),
        })
    touched = set(campaign_of_title)
    every = {t for _, t, _, _ in tables["reviews"]}
    return {"campaigns": campaigns, "false_alarms": false_alarms(tables, every - touched)}


@dataclass
class KindScore:
    """The scores of one kind of campaign in one corpus, summed over seeds."""

    campaigns: int = 0
    detected: int = 0  # campaigns every title of which fails a test
    moving: int = 0  # campaigns whose rating is min_rating_effect x span from the titles' real mean
    moving_detected: int = 0
    titles: int = 0
    titles_failing: int = 0
    titles_warning: int = 0  # titles with a failing or a warning test
    planted: int = 0
    published_planted: int = 0
    planted_flagged: int = 0
    flagged_on_titles: int = 0
    failing_tests: Counter[str] = field(default_factory=Counter)
    warning_tests: Counter[str] = field(default_factory=Counter)
    sizes: list[int] = field(default_factory=list)

    def add(self, c: dict[str, Any]) -> None:
        self.campaigns += 1
        self.detected += c["titles_failing"] == c["titles"]
        self.moving += c["moves_rating"]
        self.moving_detected += c["moves_rating"] and c["titles_failing"] == c["titles"]
        for k in ("titles", "titles_failing", "titles_warning", "planted", "published_planted", "planted_flagged",
                  "flagged_on_titles"):
            setattr(self, k, getattr(self, k) + c[k])
        self.failing_tests.update(c["failing_tests"])
        self.warning_tests.update(c["warning_tests"])
        self.sizes.append(c["planted"])

    def figures(self) -> dict[str, Any]:
        return {
            "campaigns": self.campaigns, "detected": self.detected, "sizes": self.sizes,
            "moving": self.moving, "moving_detected": self.moving_detected,
            "title_detection": self.titles_failing / self.titles if self.titles else None,
            "title_fail_or_warn": self.titles_warning / self.titles if self.titles else None,
            "precision": self.planted_flagged / self.flagged_on_titles if self.flagged_on_titles else None,
            "recall": self.planted_flagged / self.published_planted if self.published_planted else None,
            "planted": self.planted, "published_planted": self.published_planted,
            "planted_flagged": self.planted_flagged, "flagged_on_titles": self.flagged_on_titles,
            "failing_tests": dict(self.failing_tests.most_common()),
            "warning_tests": dict(self.warning_tests.most_common()),
        }


def run_corpus(corpus: Corpus, seeds: Iterable[int], work: Path, trust: dict[str, Any],
               kinds: Iterable[str] = KINDS, log: Callable[[str], None] = print,
               keep: bool = False) -> dict[str, Any]:
    """The clean run and every seed's scenarios of one corpus, scored."""
    real = corpus.read(corpus)
    m = material(corpus, real)
    clean = work / corpus.name / "clean"
    copy_corpus(corpus, clean)
    (clean / "reviewpipe.toml").write_text(config_text(corpus.sources, trust))
    seconds = run_pipeline(clean)
    clean_tables = published(clean)
    clean_ids = {rid for rid, *_ in clean_tables["reviews"]}
    log(f"{corpus.name}: clean run {seconds:.1f} s, {len(clean_ids)} reviews")
    result: dict[str, Any] = {"clean": false_alarms(clean_tables), "scenarios": []}
    per_kind: dict[str, KindScore] = {}
    alarms = {"tested_titles": 0, "failing_titles": 0, "failing_tests": Counter()}
    used = set(m.used)
    for seed in seeds:
        for s, planted in enumerate(scenarios(corpus, m, seed, kinds)):
            project = work / corpus.name / f"seed{seed}-{s}"
            folder = copy_corpus(corpus, project)
            corpus.write(folder, planted)
            (project / "reviewpipe.toml").write_text(config_text(corpus.sources, trust))
            seconds = run_pipeline(project)
            scored = score(planted, clean_ids, published(project), trust.get("min_rating_effect", 0.1))
            for c in scored["campaigns"].values():
                per_kind.setdefault(c["kind"], KindScore()).add(c)
            fa = scored["false_alarms"]
            alarms["tested_titles"] += fa["tested_titles"]
            alarms["failing_titles"] += fa["failing_titles"]
            alarms["failing_tests"].update(fa["failing_tests"])
            result["scenarios"].append({"seed": seed, "scenario": s, "seconds": round(seconds, 2),
                                        "planted": len(planted), **scored})
            log(f"{corpus.name} seed {seed}/{s}: {len(planted)} planted, {seconds:.1f} s")
            if not keep:
                shutil.rmtree(project)
            m.used = set(used)
    result["kinds"] = {k: per_kind[k].figures() for k in KINDS if k in per_kind}
    t = alarms["tested_titles"]
    result["false_alarms"] = {**alarms, "failing_tests": dict(alarms["failing_tests"]),
                              "rate": alarms["failing_titles"] / t if t else None}
    return result


def run_op_spam(work: Path, trust: dict[str, Any]) -> dict[str, Any]:
    """op_spam: which tests have rows, and the share of deceptive and of truthful reviews flagged.
    The review id is the label and a hash of the text, so that flagged reviews can be told apart."""
    project = work / "op_spam"
    folder = project / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DATA / "op_spam_deceptive_hotel" / "deceptive-opinion.csv", folder / "deceptive-opinion.csv")
    sources = """
[[sources]]
name = "op_spam"
preset = "op_spam"
path = "corpus/deceptive-opinion.csv"
[sources.columns]
review_id = "concat_ws('-', deceptive, hotel, polarity, md5(text))"
"""
    (project / "reviewpipe.toml").write_text(config_text(sources, trust))
    run_pipeline(project)
    tables = published(project)
    flagged = {rid for rid, _, _ in tables["flagged"]}
    label = {rid: rid.split("-", 1)[0] for rid, *_ in tables["reviews"]}
    counts = Counter(label.values())
    flagged_by = Counter(label[rid] for rid in flagged if rid in label)
    return {
        "reviews": dict(counts),
        "tests_with_rows": dict(Counter(test for _, test, _ in tables["tests"])),
        "verdicts": dict(Counter(v for _, _, v in tables["tests"])),
        "flagged_share": {k: flagged_by[k] / n for k, n in counts.items()},
        "flagging_tests": dict(Counter(test for _, _, test in tables["flagged"])),
    }


# --- the table ------------------------------------------------------------------------------------


def _counts(counts: dict[str, int]) -> str:
    """'burst 3, unverified 2': most first, ties by name (rows come in no fixed order)."""
    return ", ".join(f"{t} {n}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def markdown(results: dict[str, Any]) -> str:
    """The harness's table in markdown: per corpus and kind, then false alarms, then op_spam."""
    rows = ["| corpus | kind | campaigns (sizes) | detected | detected, of those moving the rating | titles failing "
            "| failing or warning | precision | recall | failing tests (titles) | warning only (titles) |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, r in results["corpora"].items():
        for kind, k in r["kinds"].items():
            tests, warned = _counts(k["failing_tests"]), _counts(k["warning_tests"])
            rows.append(f"| {name} | {kind} | {k['campaigns']} ({', '.join(map(str, k['sizes']))}) | "
                        f"{k['detected']}/{k['campaigns']} | {k['moving_detected']}/{k['moving']} | "
                        f"{_pct(k['title_detection'])} | "
                        f"{_pct(k['title_fail_or_warn'])} | {_pct(k['precision'])} | {_pct(k['recall'])} | "
                        f"{tests} | {warned} |")
    rows += ["", "| corpus | false alarms, clean corpus | false alarms, untouched titles beside campaigns | failing tests |",
             "|---|---:|---:|---|"]
    for name, r in results["corpora"].items():
        c, f = r["clean"], r["false_alarms"]
        tests = _counts(Counter(c["failing_tests"]) + Counter(f["failing_tests"]))
        rows.append(f"| {name} | {c['failing_titles']}/{c['tested_titles']} ({_pct(c['rate'])}) | "
                    f"{f['failing_titles']}/{f['tested_titles']} ({_pct(f['rate'])}) | {tests} |")
    if "op_spam" in results:
        o = results["op_spam"]
        rows += ["", f"op_spam: tests with rows {o['tests_with_rows'] or 'none'}; verdicts {o['verdicts']}; "
                     f"share flagged: " + ", ".join(f"{k} {v:.3f}" for k, v in o["flagged_share"].items())]
    return "\n".join(rows) + "\n"


def misses(results: dict[str, Any]) -> list[str]:
    """The targets the results miss, in words (empty: all met). Controls are not held."""
    out = []
    for name, r in results["corpora"].items():
        for kind, k in r["kinds"].items():
            if kind not in HELD:
                continue
            if k["detected"] < k["campaigns"]:
                out.append(f"{name}/{kind}: {k['detected']} of {k['campaigns']} campaigns detected")
            if k["precision"] is None or k["precision"] < TARGETS["precision"]:
                out.append(f"{name}/{kind}: precision {_pct(k['precision'])} < {TARGETS['precision']}")
            if k["recall"] is None or k["recall"] < TARGETS["recall"]:
                out.append(f"{name}/{kind}: recall {_pct(k['recall'])} < {TARGETS['recall']}")
        for label, fa in (("clean", r["clean"]), ("beside campaigns", r["false_alarms"])):
            if fa["rate"] is not None and fa["rate"] > TARGETS["false_alarms"]:
                out.append(f"{name}: false alarms {label} {fa['failing_titles']}/{fa['tested_titles']}")
    return out


def harness(corpus_names: Iterable[str], seeds: Iterable[int], work: Path, trust: dict[str, Any],
            with_op_spam: bool = True, log: Callable[[str], None] = print, keep: bool = False,
            kinds: Iterable[str] = KINDS) -> dict[str, Any]:
    """Every corpus's scores (and op_spam's) as one JSON-able dict."""
    all_corpora = corpora()
    seeds = list(seeds)
    results: dict[str, Any] = {"seeds": seeds, "trust": trust, "corpora": {}}
    for name in corpus_names:
        results["corpora"][name] = run_corpus(all_corpora[name], seeds, work, trust, kinds, log, keep)
    if with_op_spam:
        results["op_spam"] = run_op_spam(work, trust)
    results["misses"] = misses(results)
    return results


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=["yelp", "amazon2018", "imdb"], choices=sorted(corpora()))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="a [trust] setting for every run, e.g. alpha=0.05")
    parser.add_argument("--no-op-spam", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where the copies go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep each scenario's copy (with --workdir)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "trust_harness.json")
    args = parser.parse_args(argv)
    trust = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    with tempfile.TemporaryDirectory(prefix="trust-harness-") as tmp:
        work = args.workdir or Path(tmp)
        t = time.perf_counter()
        results = harness(args.corpora, args.seeds, work, trust, with_op_spam=not args.no_op_spam,
                          log=lambda s: print(s, file=sys.stderr), keep=args.keep, kinds=args.kinds)
        results["seconds"] = round(time.perf_counter() - t, 1)
    table = markdown(results)
    print(table)
    print("\n".join(["misses:", *results["misses"]]) if results["misses"] else "every target met")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str))
    args.json.with_suffix(".md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
