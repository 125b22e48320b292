"""The trust tests through the real pipeline (reviewpipe.trust): a clean corpus passes, planted
campaigns fail their tests, flagged reviews and adjusted ratings follow, a second run updates the
reviewer histories."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from conftest import write
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import stats as sps

from reviewpipe import pipeline
from reviewpipe.publish import CheckFailed, run_checks
from reviewpipe.runlog import warehouse
from reviewpipe.settings import Paths, Settings, Source
from reviewpipe.trust import TEST_NAMES, TESTS, subsets, trust_frames, unflag_days_against

HEADER = "review_id,title_id,reviewer_id,review_date,rating,verified,review_text\n"
COLUMNS = {"review_id": "review_id", "title_id": "title_id", "reviewer_id": "reviewer_id",
           "review_date": "review_date", "rating": "rating", "review_text": "review_text"}
TITLES = [f"t{i:02d}" for i in range(12)]
# the titles the planted rating_deviation reviewer ("grump") rates 1 star
GRUMPED = TITLES[:8]


def _day(rng: random.Random) -> str:
    return f"{rng.choice([2019, 2020])}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def clean_rows() -> list[str]:
    """60 reviewers, each reviewing 8 of the 12 titles on days spread over two years (nobody has a
    single review, nobody reviews on one day only), rating around each title's own quality: 40
    reviews a title."""
    rng = random.Random(25)
    quality = {t: rng.uniform(2.5, 4.5) for t in TITLES}
    rows = []
    for u in range(60):
        for k in range(8):
            title = TITLES[(u + k * 3) % 12 if k < 4 else (u + k * 3 + 1) % 12]
            rating = min(5, max(1, round(quality[title] + rng.gauss(0, 1))))
            rows.append(f"c{u}-{k},{title},u{u},{_day(rng)},{rating},{rng.choice('YYN')},clean text {u} {k}")
    return rows


def planted_rows() -> list[str]:
    """A campaign on t00: 40 five-star reviews by accounts with no other review, on 40 different
    days; a one-star day on t01 (30 reviews of 2021-06-01), and a five-star day of its own fans (6
    clean reviewers who had not reviewed it, 2021-03-01); grump, who rates 8 titles 1 star."""
    rng = random.Random(7)
    rows = [f"camp{i},t00,camp{i},2021-{1 + i % 12:02d}-{1 + i // 12:02d},5,Y,campaign text {i}" for i in range(40)]
    rows += [f"bomb{i},t01,bomber{i},2021-06-01,1,N,bombing text {i}" for i in range(30)]
    reviewed_t01 = {r.split(",")[2] for r in clean_rows() if r.split(",")[1] == "t01"}
    fans = [f"u{u}" for u in range(60) if f"u{u}" not in reviewed_t01][:6]
    rows += [f"fan{i},t01,{fan},2021-03-01,5,Y,fan text {i}" for i, fan in enumerate(fans)]
    rows += [f"grump{k},{t},grump,{_day(rng)},1,Y,grumpy text {k}" for k, t in enumerate(GRUMPED)]
    return rows


def _settings(root: Path, *, verified: bool) -> Settings:
    columns = {**COLUMNS, **({"verified_purchase": "verified"} if verified else {})}
    return Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "p.duckdb", exports=root / "x"),
        sources=[Source(name="shop", path=str(root / "in" / "*.csv"), rating_scale=5, columns=columns)],
        sentiment={"workers": 1},
    )


def _rows(settings: Settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Any]:
    """The clean corpus without a verified flag; the clean corpus with the planted campaigns, then
    again with a second review by camp0 (a delta run); each with its published tables read."""
    out: dict[str, Any] = {}
    root = tmp_path_factory.mktemp("clean")
    clean = _settings(root, verified=False)
    # and a site whose reviews are all by "Amazon Customer", a name that tells nobody apart
    clean.sources.append(Source(name="anon", path=str(root / "anon" / "*.csv"), rating_scale=5))
    write(clean.resolve(clean.sources[0].path).parent / "clean.csv", HEADER + "\n".join(clean_rows()) + "\n")
    write(root / "anon" / "a.csv", "title_id,author,review_date,rating,review_text\n" + "".join(
        f"a00,Amazon Customer,2020-01-{1 + i:02d},{1 + i % 5},anonymous text {i}\n" for i in range(12)))
    pipeline.run(clean)
    out["clean"] = clean
    planted = _settings(tmp_path_factory.mktemp("planted"), verified=True)
    folder = planted.resolve(planted.sources[0].path).parent
    write(folder / "clean.csv", HEADER + "\n".join(clean_rows() + planted_rows()) + "\n")
    pipeline.run(planted)
    out["planted"] = planted
    out["flagged_before"] = _rows(planted, "select review_id, test from agg_trust_flagged_reviews")
    out["t00_before"] = _rows(planted, "select tested_reviews, subset_reviews, baseline_share, "
                                       "subset_rating_mean, verdict from agg_trust_tests "
                                       "where title_id = 't00' and test = 'one_review_accounts'")
    out["t00_rating_before"] = _rows(planted, "select rating_z, rating_auc from agg_trust_tests "
                                              "where title_id = 't00' and test = 'one_review_accounts'")
    out["t00_summary_before"] = _rows(planted, "select adjusted_rating, adjusted_review_count, failed_tests "
                                               "from agg_title_summary where title_id = 't00'")
    with warehouse(planted) as con:
        # twice over the same warehouse: the frames a re-run publishes must be identical
        out["frames"] = [trust_frames(con, planted) for _ in range(2)]
        subsets.create_trust_reviews(con, planted, [t.tested for t in TESTS])
        subsets.create_members(con, planted, TEST_NAMES)
        out["members"] = subsets.members_frame(con, TEST_NAMES)
    write(folder / "later.csv", HEADER + "camp0-again,t05,camp0,2022-01-01,4,Y,a later review\n")
    pipeline.run(planted)
    out["flagged_after"] = _rows(planted, "select review_id, test from agg_trust_flagged_reviews")
    return out


def test_a_clean_corpus_passes_and_keeps_its_ratings(runs) -> None:
    clean = runs["clean"]
    tests = _rows(clean, "select title_id, test, verdict from agg_trust_tests")
    assert {t for _, _, t in tests} <= {"pass", "warn"} and tests
    # every title is tested (40 rated reviews each, >= min_title_reviews) by the tests it can see
    assert {title for title, _, _ in tests} == {*TITLES, "a00"}
    # a00 has nobody known: the tests that need reviewers have no row for it, the others have one
    assert {test for title, test, _ in tests if title == "a00"} == {
        "burst", "copied_text", "repeated_phrases", "incentivized"}
    assert _rows(clean, "select * from agg_trust_flagged_reviews") == []
    # nothing fails: adjusted_rating is rating_mean itself, to the last bit, and keeps every review
    summary = _rows(clean, "select title_id, rating_mean, adjusted_rating, rated_review_count, "
                           "adjusted_review_count, failed_tests from agg_title_summary")
    assert all(mean == adjusted and n == kept and failed is None
               for _, mean, adjusted, n, kept, failed in summary)


def test_unverified_has_no_rows_when_no_source_maps_the_flag(runs) -> None:
    assert _rows(runs["clean"], "select * from agg_trust_tests where test = 'unverified'") == []
    # where it is mapped, every title has one
    assert len(_rows(runs["planted"], "select * from agg_trust_tests where test = 'unverified'")) == 12


def test_the_tests_and_parameters_of_a_row(runs) -> None:
    tests = _rows(runs["clean"], "select distinct test, parameters from agg_trust_tests order by test")
    assert {t for t, _ in tests} == set(TEST_NAMES) - {"unverified"}
    parameters = dict(tests)
    assert parameters["burst"] == ("alpha=0.05;min_title_reviews=10;min_subset_reviews=5;"
                                   "min_share_ratio=2;min_rating_effect=0.1;dominant_share=0.5;dominant_min_reviews=20;"
                                   "burst_min_reviews=5;burst_p=1e-06;burst_neighbourhood_days=14")


def test_a_campaign_of_one_review_accounts_fails_and_leaves_the_adjusted_rating(runs) -> None:
    # the title's reviews but the campaign's: the clean reviews and grump's
    clean = [int(r.split(",")[4]) for r in clean_rows() + planted_rows()
             if r.split(",")[1] == "t00" and not r.startswith("camp")]
    # the clean reviewers all have 8 reviews or more, so nobody else is a one-review account: the
    # baseline (the other titles' share) is the bombers' 30 of all the other titles' reviews
    others = sum(r.split(",")[1] != "t00" for r in clean_rows() + planted_rows())
    assert runs["t00_before"] == [(len(clean) + 40, 40, pytest.approx(30 / others), 5.0, "fail")]
    flagged = {r for r, t in runs["flagged_before"] if t == "one_review_accounts"}
    assert {r for r in flagged if r.startswith("camp")} == {f"camp{i}" for i in range(40)}
    # adjusted_rating: the clean reviews' mean, exactly as rating_mean makes it (exact sum over n)
    assert runs["t00_summary_before"] == [
        (sum(clean) * 1000 / len(clean) * 1e-3, len(clean), "one_review_accounts")]


def test_the_rating_question_is_mann_whitneys_on_the_titles_ratings(runs) -> None:
    # t00's 40 five-star campaign reviews against its other ratings, with scipy on the raw ratings
    rest = [float(r.split(",")[4]) for r in clean_rows() + planted_rows()
            if r.split(",")[1] == "t00" and not r.startswith("camp")]
    expected = sps.mannwhitneyu([5.0] * 40, rest, method="asymptotic", use_continuity=True)
    [(z, auc)] = runs["t00_rating_before"]
    assert auc == expected.statistic / (40 * len(rest))
    # z: the standardized U (continuity-corrected), positive as the campaign rates higher
    assert z > 0 and 2 * sps.norm.sf(z) == pytest.approx(expected.pvalue, rel=1e-9)


def test_a_bombing_day_is_a_burst_and_a_fans_day_beside_it_is_not_flagged(runs) -> None:
    planted = runs["planted"]
    verdicts = dict(_rows(planted, "select test, verdict from agg_trust_tests where title_id = 't01'"))
    assert verdicts["burst"] == "fail"
    # both days are bursts: the subset holds the fans' 6 reviews too, and rates the title lower
    [(subset, difference)] = _rows(planted, "select subset_reviews, rating_difference from agg_trust_tests "
                                            "where title_id = 't01' and test = 'burst'")
    assert subset == 36 and difference < 0
    # but only the day leaning the way the subset fails is flagged, and left out of adjusted_rating
    assert {r for r, t in runs["flagged_before"] if t == "burst"} == {f"bomb{i}" for i in range(30)}
    kept = [int(r.split(",")[4]) for r in clean_rows() + planted_rows()
            if r.split(",")[1] == "t01" and not r.startswith("bomb")]
    assert _rows(planted, "select adjusted_rating, adjusted_review_count from agg_title_summary "
                          "where title_id = 't01'") == [(sum(kept) * 1000 / len(kept) * 1e-3, len(kept))]
    detail = _rows(planted, "select distinct detail from agg_trust_flagged_reviews where test = 'burst'")
    assert detail == [("one of 30 reviews of 2021-06-01, a day the title's rate predicts 0.1",)]


_UNITS = st.sampled_from([1000, 2000, 3000, 4000, 5000])


@st.composite
def _rest(draw) -> tuple[int, int, int]:
    """A title's side, and its rest's rating units and count: a mean of whole stars, or one unit off."""
    n = draw(st.integers(1, 60))
    return draw(st.sampled_from([-1, 1])), draw(_UNITS) * n + draw(st.integers(-1, 1)), n


@settings(max_examples=200, deadline=None)
@given(reviews=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 4), st.one_of(st.none(), _UNITS),
                                  st.sampled_from(["burst", "other", "both"])), max_size=40),
       sides=st.dictionaries(st.sampled_from(["a", "b"]), _rest()))
def test_a_burst_day_stays_flagged_exactly_when_it_leans_the_titles_way(reviews, sides) -> None:
    # reviews (title, day, rating units or none, the tests flagging it: burst, another, both);
    # sides: a title's side and its rest's units and count. A day's mean often ties the rest's
    # (whole stars) or misses it by one unit over up to 60 reviews: a tie leans neither way and is
    # not flagged. Another test's flags are never taken out.
    burst, other = TEST_NAMES.index("burst"), TEST_NAMES.index("one_review_accounts")
    flags = {"burst": [burst], "other": [other], "both": [burst, other]}
    with duckdb.connect() as con:
        con.execute("create temp table trust_reviews (row_id bigint, title_id varchar, review_date date, "
                    "rating_units bigint)")
        con.execute("create temp table trust_flagged (row_id bigint, test_index integer, detail varchar)")
        for row_id, (title, day, units, by) in enumerate(reviews):
            con.execute("insert into trust_reviews values (?, ?, ?, ?)", [row_id, title, f"2024-01-0{day}", units])
            for test in flags[by]:
                con.execute("insert into trust_flagged values (?, ?, 'd')", [row_id, test])
        frame = pl.DataFrame([(t, *v) for t, v in sides.items()], orient="row",
                             schema={"title_id": pl.String, "side": pl.Int64, "rest_units": pl.Int64,
                                     "rest_n": pl.Int64})
        con.register("trust_burst_sides", frame)
        unflag_days_against(con)
        kept = set(con.execute("select row_id, test_index from trust_flagged").fetchall())
    expected = set()
    for row_id, (title, day, _, by) in enumerate(reviews):
        for test in flags[by]:
            rated = [u for t, d, u, b in reviews if (t, d) == (title, day) and burst in flags[b] and u is not None]
            leans = True
            if test == burst and title in sides and rated:
                side, rest_units, rest_n = sides[title]
                difference = Fraction(sum(rated), len(rated)) - Fraction(rest_units, rest_n)
                leans = (difference > 0) - (difference < 0) == side
            if leans:
                expected.add((row_id, test))
    assert kept == expected, (reviews, sides)


def test_rating_deviation_finds_the_planted_reviewer(runs) -> None:
    members = runs["members"]
    deviating = members.filter(test="rating_deviation")
    assert sorted(deviating["review_id"]) == sorted(f"grump{k}" for k in range(8))
    assert deviating["detail"][0].startswith("the reviewer rates 0.")
    assert " of the scale below titles' consensus over 8 reviews" in deviating["detail"][0]
    counts = dict(_rows(runs["planted"], "select title_id, subset_reviews from agg_trust_tests "
                                         "where test = 'rating_deviation'"))
    assert counts == {t: int(t in GRUMPED) for t in TITLES}


def test_unverified_picks_the_unverified_reviews(runs) -> None:
    members = runs["members"].filter(test="unverified")
    expected = {r.split(",")[0] for r in clean_rows() + planted_rows() if r.split(",")[5] == "N"}
    assert set(members["review_id"]) == expected


def test_a_second_review_takes_an_account_out_of_one_review_accounts(runs) -> None:
    before = {r for r, t in runs["flagged_before"] if t == "one_review_accounts"}
    after = {r for r, t in runs["flagged_after"] if t == "one_review_accounts"}
    assert "camp0" in before and "camp0" not in after
    assert before - after == {"camp0"}


def test_the_frames_are_the_same_every_time(runs) -> None:
    first, second = runs["frames"]
    assert list(first) == ["metric_trust_tests", "metric_trust_flagged", "metric_title_trust"]
    for name in first:
        assert_frame_equal(first[name], second[name])
    # sorted as published: by title, then in TESTS' order
    tests = first["metric_trust_tests"]
    assert tests.rows() == sorted(tests.rows(), key=lambda r: (r[0], TEST_NAMES.index(r[1])))


@pytest.mark.parametrize(("change", "check"), [
    # a verdict its figures do not bear out
    ("update agg_trust_tests set verdict = 'fail' where verdict = 'pass' and rowid = "
     "(select min(rowid) from agg_trust_tests where verdict = 'pass')", "agg_trust_tests_bounds"),
    ("update agg_trust_tests set verdict = 'pass' where verdict = 'fail'; "
     "delete from agg_trust_flagged_reviews", "agg_trust_tests_bounds"),
    ("update agg_trust_tests set subset_reviews = tested_reviews + 1", "agg_trust_tests_bounds"),
    ("update agg_trust_tests set rating_auc = 1 - rating_auc where rating_z > 0", "agg_trust_tests_bounds"),
    # a flagged review of a test its title passes
    ("update agg_trust_tests set verdict = 'warn', share_p_value = 1 where verdict = 'fail'",
     "agg_trust_flagged_reviews_bounds"),
    ("update agg_title_summary set adjusted_rating = rating_mean + 0.5 where failed_tests is null "
     "and trust_verdict is not null", "agg_trust_title_verdicts"),
])
def test_the_trust_checks_find_what_they_check(runs, tmp_path: Path, change: str, check: str) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(runs["planted"].published_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        run_checks(con)
        con.execute(change)
        with pytest.raises(CheckFailed, match=f"data check {check} failed"):
            run_checks(con)
