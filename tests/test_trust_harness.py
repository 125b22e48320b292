"""The planted-campaign harness (bench/trust_harness.py) at a small size: issue 25's targets on real
corpora, and the campaigns being what they claim to be.

One harness run per module (seed 1, Yelp and Amazon 2018 5-core, every kind, plus op_spam): the real
pipeline on copies of the corpora with campaigns written in each corpus's own format. The targets
are the issue's: every planted campaign of 30+ reviews detected (a failing test on each of its
titles), review-level precision >= 0.8 and recall >= 0.9 on planted reviews, at most 2% of
untouched tested titles failing. bench/README.md has the figures on three seeds and IMDb too.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "bench"))

import trust_harness as h  # noqa: E402

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real corpora not present at {DATA} (see ../shared/data)"),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return h.harness(["yelp", "amazon2018"], [1], tmp_path_factory.mktemp("harness"), {}, log=lambda s: None)


@pytest.fixture(scope="module")
def materials() -> dict[str, tuple[h.Corpus, h.Material, list[h.RealReview]]]:
    out = {}
    for name in ("yelp", "amazon2018"):
        corpus = h.corpora()[name]
        real = corpus.read(corpus)
        out[name] = corpus, h.material(corpus, real), real
    return out


def _figures(results: dict[str, Any]) -> str:
    return "\n" + h.markdown(results)


# Campaigns (seed 1) that miss a target, marked strict xfail: once one is met, its mark fails the
# test, to be taken away. None today: Amazon 2018's incentivized campaign meets them since the
# disclosure list was widened (docs/trust.md, "Incentivized"), Amazon 2018's ring since a ring
# title's baseline leaves out the ring's other titles ("review_ring"), Yelp's ring since a subset
# that is most of a title fails whatever it rates ("Dominant subsets").
NOT_YET_MET: set[tuple[str, str]] = set()


@pytest.mark.parametrize(("corpus", "kind"), [
    pytest.param(corpus, kind, marks=pytest.mark.xfail(
        strict=True, reason="issue 25 open: this campaign misses a target (docs/trust.md)"))
    if (corpus, kind) in NOT_YET_MET else (corpus, kind)
    for corpus in ("yelp", "amazon2018") for kind in h.HELD])
def test_every_planted_campaign_is_detected_with_precision_and_recall(
        results: dict[str, Any], corpus: str, kind: str) -> None:
    k = results["corpora"][corpus]["kinds"][kind]
    # every planted review reached the published tables (none quarantined or merged as a duplicate)
    assert k["published_planted"] == k["planted"], _figures(results)
    assert k["detected"] == k["campaigns"], f"{corpus}/{kind}: {k}" + _figures(results)
    assert k["precision"] is not None and k["precision"] >= h.TARGETS["precision"], f"{corpus}/{kind}: {k}" + _figures(results)
    assert k["recall"] >= h.TARGETS["recall"], f"{corpus}/{kind}: {k}" + _figures(results)


@pytest.mark.parametrize("corpus", ["yelp", "amazon2018"])
def test_untouched_titles_rarely_fail(results: dict[str, Any], corpus: str) -> None:
    r = results["corpora"][corpus]
    # the clean corpus has tested titles at all (else a 0% rate would say nothing)
    assert r["clean"]["tested_titles"] >= 10, r["clean"]
    for label in ("clean", "false_alarms"):
        assert r[label]["rate"] <= h.TARGETS["false_alarms"], f"{corpus} {label}: {r[label]}" + _figures(results)


def test_op_spam_has_no_reviewer_or_date_tests(results: dict[str, Any]) -> None:
    o = results["op_spam"]
    # no reviewer ids, no dates, no verified flag: those tests have no row rather than a "pass"
    assert set(o["tests_with_rows"]) <= {"copied_text", "repeated_phrases", "incentivized"}, o
    assert o["reviews"] == {"deceptive": 800, "truthful": 796}, o  # 4 truthful texts are upstream duplicates
    assert 0 <= o["flagged_share"]["deceptive"] <= 1


def test_the_table_names_every_corpus_and_kind(results: dict[str, Any]) -> None:
    table = h.markdown(results)
    for corpus in ("yelp", "amazon2018"):
        for kind in h.KINDS:
            assert f"| {corpus} | {kind} |" in table
    json.dumps(results, default=str)  # the bench writes it as JSON


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), name=st.sampled_from(["yelp", "amazon2018"]))
def test_campaigns_are_what_they_claim(materials: dict[str, Any], seed: int, name: str) -> None:
    corpus, m, real = materials[name]
    m.used = {r.reviewer for r in real}
    known = set(m.used)
    planted = [p for scenario in h.scenarios(corpus, m, seed, h.KINDS) for p in scenario]
    by = {}
    for p in planted:
        by.setdefault(p.campaign, []).append(p)
    assert set(c.split("-")[0] for c in by) == set(h.KINDS)
    for name_, ps in by.items():
        kind = ps[0].kind
        titles = {p.title_id for p in ps}
        accounts = Counter(p.reviewer for p in ps)
        for p in ps:
            lo, hi = m.span[p.title_id]
            # targets are real titles with enough reviews; every date inside a span of the title's
            # own (a campaign may run past its last real review by its own length, never before)
            assert m.counts[p.title_id] >= corpus.min_target_reviews
            assert lo <= p.date <= hi + dt.timedelta(days=7 * 8)
        if kind == "ring":
            assert corpus.ring_titles[0] <= len(titles) <= corpus.ring_titles[1]
            assert 30 <= len(accounts) <= 40 and set(accounts.values()) == {len(titles)}
            assert not accounts.keys() & known and all(p.rating == corpus.scale for p in ps)
            continue
        assert len(titles) == 1
        days = {p.date for p in ps}
        low, high = {"burst": (30, 80), "bombing": (30, 80), "incentivized": (30, 50), "control": (10, 25)}[kind]
        assert low <= len(ps) <= high
        assert max(accounts.values()) == 1  # one review per account on a title
        if kind in ("burst", "control"):
            assert len(days) <= 2 and max(days) - min(days) <= dt.timedelta(days=1)
            assert not accounts.keys() & known and all(p.rating == corpus.scale for p in ps)
        if kind == "bombing":
            assert len(days) == 1 and all(p.rating == 1 for p in ps) and not accounts.keys() & known
        if kind == "incentivized":
            assert all(any(d in p.text for d in h.DISCLOSURES) for p in ps)
            assert not accounts.keys() & m.reviewers_of[ps[0].title_id]  # no second review by a real reviewer


@pytest.mark.parametrize("name", ["yelp", "amazon2018"])
def test_planted_records_read_as_the_corpus_does(materials: dict[str, Any], tmp_path: Path, name: str) -> None:
    corpus, m, real = materials[name]
    m.used = {r.reviewer for r in real}
    planted = h.scenarios(corpus, m, 3, ["burst"])[0]
    folder = h.copy_corpus(corpus, tmp_path)
    corpus.write(folder, planted)
    original = next(p for p in corpus.files if p.suffix == ".json" and "business" not in p.name)
    keys = set(json.loads(original.open(encoding="utf-8").readline()))
    planted_file = next(p for p in folder.rglob("*planted*"))
    raw = planted_file.read_bytes()
    # the same line endings as the original, the same keys (Amazon's optional ones aside)
    assert raw.count(b"\r\n") == (len(planted) if original.read_bytes()[:20000].count(b"\r\n") else 0)
    records = [json.loads(line) for line in raw.decode().splitlines()]
    optional = {"style", "vote", "image"}
    assert all(set(r) == keys - optional or set(r) == keys for r in records), (keys, records[0])
    # the copy is a copy: the original is untouched and equal to its copy
    copied = next(p for p in folder.rglob(original.name))
    assert copied.read_bytes() == original.read_bytes()
