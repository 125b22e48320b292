"""review_ring through the real pipeline: a planted ring of accounts reviewing the same titles
within days fails; natural co-reviewers years apart do not; Amazon 2018's one review copied onto a
product's variants is not a ring (the real file); a ring's titles are not in each other's baseline."""

from __future__ import annotations

import random

import duckdb
import pytest
from conftest import SHARED_DATA, write

from reviewpipe import pipeline
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.trust import TEST_NAMES, parameters_by_test, title_counts
from reviewpipe.trust.subsets import create_baseline_excluded

HEADER = "review_id,title_id,reviewer_id,review_date,rating,review_text\n"
COLUMNS = {"review_id": "review_id", "title_id": "title_id", "reviewer_id": "reviewer_id",
           "review_date": "review_date", "rating": "rating", "review_text": "review_text"}
TITLES = [f"t{i:02d}" for i in range(40)]
RING_TITLES = TITLES[30:36]
FAN_TITLES = TITLES[20:26]


def background_rows() -> list[str]:
    """600 reviewers, each reviewing 3 random titles on days spread over 2015-2022, rating around
    each title's own quality: about 45 reviews a title, co-reviewers of a pair as chance makes them."""
    rng = random.Random(25)
    quality = {t: rng.uniform(2.5, 4.5) for t in TITLES}
    rows = []
    for u in range(600):
        for k, title in enumerate(rng.sample(TITLES, 3)):
            rating = min(5, max(1, round(quality[title] + rng.gauss(0, 1))))
            day = f"{rng.randint(2015, 2022)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            rows.append(f"b{u}-{k},{title},u{u},{day},{rating},background text {u} {k}")
    return rows


def ring_rows() -> list[str]:
    """The ring: 30 new accounts, each giving five stars to the same 6 titles within 5 days of
    June 2021."""
    rng = random.Random(3)
    return [f"r{a}-{k},{title},ring{a},2021-06-{1 + rng.randint(0, 5):02d},5,ring text {a} {k}"
            for a in range(30) for k, title in enumerate(RING_TITLES)]


def fan_rows() -> list[str]:
    """Natural co-reviewers: 30 fans who each reviewed the same 6 titles, one a year from 2015,
    each fan in a month of their own (no window of days holds 10 of them), five stars."""
    rng = random.Random(4)
    return [f"f{a}-{k},{title},fan{a},{2015 + k}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},5,"
            f"fan text {a} {k}" for a in range(30) for k, title in enumerate(FAN_TITLES)]


def _published(settings: Settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Settings:
    """The background, the ring and the fans, published by the real pipeline."""
    root = tmp_path_factory.mktemp("ring")
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "p.duckdb", exports=root / "x"),
        sources=[Source(name="shop", path=str(root / "in" / "*.csv"), rating_scale=5, columns=COLUMNS)],
        sentiment={"workers": 1},
    )
    write(root / "in" / "reviews.csv", HEADER + "\n".join(background_rows() + ring_rows() + fan_rows()) + "\n")
    pipeline.run(settings)
    return settings


def test_review_ring_is_the_ninth_test_after_rating_deviation() -> None:
    assert TEST_NAMES.index("review_ring") == TEST_NAMES.index("rating_deviation") + 1 == 8
    assert parameters_by_test(Settings())["review_ring"].endswith(
        "ring_days=14;ring_min_reviewers=10;ring_p=1e-06;ring_max_titles=50")


def test_a_planted_ring_fails_on_each_of_its_titles(shop) -> None:
    rows = _published(shop, "select title_id, verdict, subset_reviews, subset_rating_mean "
                            "from agg_trust_tests where test = 'review_ring' order by title_id")
    failing = {title: (n, mean) for title, verdict, n, mean in rows if verdict == "fail"}
    # each ring title: its 30 ring reviews, all five stars, and nothing else fails
    assert failing == {title: (30, 5.0) for title in RING_TITLES}


def test_the_flagged_ring_reviews_are_the_rings_own(shop) -> None:
    flagged = _published(shop, "select review_id, detail from agg_trust_flagged_reviews "
                               "where test = 'review_ring'")
    assert {r for r, _ in flagged} == {row.split(",")[0] for row in ring_rows()}
    # the detail says how many accounts and titles: each title's 30 accounts, 6 titles each
    assert {d for _, d in flagged} == {
        "one of 30 accounts that reviewed this title within 14 days of each other and other titles "
        "likewise, more often than chance; this one, 6 such titles"}


def test_natural_co_reviewers_years_apart_are_not_a_ring(shop) -> None:
    rows = _published(shop, "select title_id, verdict, subset_reviews from agg_trust_tests "
                            "where test = 'review_ring' and title_id in "
                            f"({', '.join(repr(t) for t in FAN_TITLES)})")
    # a row per fan title (each is tested), none of whose reviews is in a ring
    assert len(rows) == len(FAN_TITLES) and all(n == 0 and v == "pass" for _, v, n in rows)


@pytest.mark.skipif(not (SHARED_DATA / "amazon2018_5core").is_dir(), reason="needs ../shared/data")
def test_amazon_2018_variant_copies_are_not_a_ring(tmp_path) -> None:
    # the real file: one review copied onto every variant of a product (same text, same day) by
    # the same reviewer counts once, so a product's variants do not make ring pairs
    settings = Settings(
        paths=Paths(warehouse=tmp_path / "w.duckdb", published=tmp_path / "p.duckdb", exports=tmp_path / "x"),
        sources=[Source(name="amazon_fashion", preset="amazon_2018",
                        path=str(SHARED_DATA / "amazon2018_5core" / "AMAZON_FASHION_5.json"))],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    rows = _published(settings, "select count(*), count(*) filter (where subset_reviews > 0) "
                                "from agg_trust_tests where test = 'review_ring'")
    tested, with_members = rows[0]
    assert tested > 0 and with_members == 0


def test_a_rings_titles_are_not_each_others_baseline(shop) -> None:
    rows = dict(_published(shop, "select title_id, baseline_share from agg_trust_tests where test = 'review_ring'"))
    # the ring's 180 reviews are the only ring reviews: each ring title's baseline leaves out the
    # other ring titles (a campaign over several titles does not raise the yardstick of any of
    # them), so nothing is left in it; counted in, they were 150 of the others' reviews
    assert {rows[t] for t in RING_TITLES} == {0.0}
    # any other title's baseline is the ring's reviews among every other title's reviews
    sizes = dict(_published(shop, "select title_id, count(*) from reviews where rating is not null group by all"))
    ring_reviews = 30 * len(RING_TITLES)
    total = sum(sizes.values())
    assert {t: rows[t] for t in TITLES if t not in RING_TITLES} == {
        t: pytest.approx(ring_reviews / (total - sizes[t])) for t in TITLES if t not in RING_TITLES}


def test_a_ring_titles_baseline_leaves_out_its_own_ring_only() -> None:
    # two rings on hand-made rows (the SQL of trust_title_tests and ring_baseline_excluded): ring A
    # (6 accounts) on a1 and a2, ring B (4 accounts) on b1 and b2, and c without a ring; 12 other
    # reviews a title. A ring title's baseline holds the other ring, not its own
    ring = TEST_NAMES.index("review_ring")
    rows, members = [], []
    accounts = {"a1": [f"a{i}" for i in range(6)], "a2": [f"a{i}" for i in range(6)],
                "b1": [f"b{i}" for i in range(4)], "b2": [f"b{i}" for i in range(4)], "c": []}
    for title, ring_accounts in accounts.items():
        for reviewer in ring_accounts + [f"{title}-u{i}" for i in range(12)]:
            row_id = len(rows)
            rows.append((row_id, title, "src", reviewer, 1 << ring, 5000, 4.0))
            if reviewer in ring_accounts:
                members.append((row_id, ring, "ring"))
    con = duckdb.connect()
    con.execute("create temp table trust_reviews (row_id bigint, title_id varchar, source varchar, "
                "reviewer_no varchar, tested_mask bigint, rating_units bigint, rating_span double)")
    con.executemany("insert into trust_reviews values (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("create temp table trust_members (row_id bigint, test_index integer, detail varchar)")
    con.executemany("insert into trust_members values (?, ?, ?)", members)
    create_baseline_excluded(con, TEST_NAMES)
    counts = title_counts(con, Settings(), len(TEST_NAMES)).filter(test_index=ring)
    baseline = dict(zip(counts["title_id"], counts["baseline_share"], strict=True))
    # a1: b1, b2 and c are left (4 + 4 ring reviews among 16 + 16 + 12); b1: a1, a2 and c
    assert baseline == {"a1": 8 / 44, "a2": 8 / 44, "b1": 12 / 48, "b2": 12 / 48,
                        "c": (12 + 8) / (18 + 18 + 16 + 16)}
