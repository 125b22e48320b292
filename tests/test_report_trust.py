"""The report's trust section: from real pipeline runs on small CSVs with a planted campaign, a clean
corpus and a source without reviewer ids, the page says what the published trust tables hold."""

from __future__ import annotations

import csv
import html
import io
import random
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import write

from reviewpipe import pipeline
from reviewpipe.report import write_report
from reviewpipe.report.text import (
    TRUST_INPUTS,
    TRUST_SUBSETS,
    trust_finding_text,
    trust_mean_text,
    trust_test_label,
    words_list,
)
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.trust import TEST_NAMES

SHOP_HEADER = ["title_id", "reviewer_id", "author", "review_date", "rating", "helpful_votes",
               "verified_purchase", "review_title", "review_text"]
FILM_HEADER = ["title_id", "review_date", "rating", "review_text"]
# Words the texts are drawn from at random: 400 made-up words, so that no two honest texts share
# a phrase of several words or come near a copy of each other by chance.
_rng = random.Random(7)
WORDS = sorted({"".join(_rng.choice("bcdfghklmnprstvz") + _rng.choice("aeiou") for _ in range(3))
                for _ in range(400)})
# The planted campaign: CAMPAIGN five-star reviews of PLANTED within two days, each from a new
# account, on one template with a word or two changed, unverified; its honest reviews rate it low.
PLANTED = "p-planted"
PLANTED_NAME = "Planted <b>Blender</b> & $5 off$"
CAMPAIGN = 40
TEMPLATE = ("Best blender I have ever owned, it crushes ice in seconds and the jar cleans itself "
            "in the dishwasher, five stars from my whole {} family")


def honest_text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 24))).capitalize() + "."


def shop_rows(planted: bool) -> list[list[str]]:
    """A shop's reviews: 30 products, 40 honest reviews each from a pool of 150 accounts over two
    years (each account reviews about 8 products, its ratings near each product's quality), and,
    when planted, the campaign on PLANTED."""
    rng = random.Random(11)
    reviewers = [f"acct{i:03d}" for i in range(150)]
    start = date(2022, 1, 1)
    rows = []
    for t in range(30):
        title = PLANTED if t == 0 else f"p{t:02d}"
        quality = 2.2 if t == 0 else rng.uniform(2.5, 4.5)
        for r in rng.sample(reviewers, 40):
            rating = min(5, max(1, round(quality + rng.gauss(0, 0.8))))
            day = start + timedelta(days=rng.randrange(730))
            rows.append([title, r, r.upper(), day.isoformat(), str(rating), str(rng.randrange(6)),
                         "Y" if rng.random() < 0.9 else "N", "", honest_text(rng)])
    if planted:
        for i in range(CAMPAIGN):
            day = date(2023, 3, 5) + timedelta(days=i % 2)
            rows.append([PLANTED, f"new{i:03d}", f"NEW{i:03d}", day.isoformat(), "5",
                         str(i % 3), "N", "Love it", TEMPLATE.format(rng.choice(WORDS))])
    return rows


def film_rows() -> list[list[str]]:
    """A film site's reviews out of 10 without reviewer ids or authors: 8 films, 15 reviews each."""
    rng = random.Random(13)
    return [[f"tt{t}", (date(2021, 1, 1) + timedelta(days=rng.randrange(500))).isoformat(),
             str(rng.randint(3, 10)), honest_text(rng)]
            for t in range(8) for _ in range(15)]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def run(root: Path, *, planted: bool) -> Settings:
    """A pipeline run on the shop (planted or clean) and the films; its settings."""
    write(root / "shop.csv", csv_text(SHOP_HEADER, shop_rows(planted)))
    write(root / "films.csv", csv_text(FILM_HEADER, film_rows()))
    write(root / "titles.csv", "title_id,title\n" + f'{PLANTED},"{PLANTED_NAME}"\n')
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[
            Source(name="titles", kind="titles", path=str(root / "titles.csv")),
            Source(name="shop", path=str(root / "shop.csv"), rating_scale=5),
            Source(name="films", path=str(root / "films.csv"), rating_scale=10),
        ],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    return settings
