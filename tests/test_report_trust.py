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
import markupsafe
import pytest
import test_report
from conftest import write
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report import open_drawn

from reviewpipe import pipeline
from reviewpipe.report import write_report
from reviewpipe.report.text import (
    TRUST_INPUTS,
    TRUST_SUBSETS,
    p_value_text,
    trust_finding_text,
    trust_mean_text,
    trust_questions,
    trust_reason_text,
    trust_test_label,
    trust_verdict,
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
HOSTILE_REVIEWER = '</script><img src=x onerror="window.__pwned=3">'
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
            # the first account's id is hostile and its review the most helpful: listed first
            account = HOSTILE_REVIEWER if i == 0 else f"new{i:03d}"
            rows.append([PLANTED, account, f"NEW{i:03d}", day.isoformat(), "5",
                         "9" if i == 0 else str(i % 3), "N", "Love it",
                         TEMPLATE.format(rng.choice(WORDS))])
    return rows


def film_rows() -> list[list[str]]:
    """A film site's reviews out of 10 without reviewer ids or authors: 8 films, 15 reviews each."""
    rng = random.Random(13)
    return [[f"tt{t}", (date(2021, 1, 1) + timedelta(days=rng.randrange(500))).isoformat(),
             str(rng.randint(3, 10)), honest_text(rng)]
            for t in range(8) for _ in range(15)]


GAME_HEADER = ["title_id", "reviewer_id", "review_date", "rating", "review_text"]
# A review bombing on a thumbs source: BOMBING "Not Recommended" from new accounts on one day.
BOMBED = "g-bombed"
BOMBING = 30


def game_rows(planted: bool) -> list[list[str]]:
    """A game store's thumbs: 6 games, 20 reviews each from a pool of 30 accounts (4 of 5
    recommend), and, when planted, the bombing of BOMBED."""
    rng = random.Random(17)
    rows = []
    for g in range(6):
        title = BOMBED if g == 0 else f"g{g}"
        for r in rng.sample(range(30), 20):
            day = date(2022, 6, 1) + timedelta(days=rng.randrange(400))
            rows.append([title, f"gamer{r:02d}", day.isoformat(),
                         "Recommended" if rng.random() < 0.8 else "Not Recommended", honest_text(rng)])
    if planted:
        rows += [[BOMBED, f"bomb{i:02d}", "2023-02-14", "Not Recommended", honest_text(rng)]
                 for i in range(BOMBING)]
    return rows


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def run(root: Path, *, planted: bool) -> Settings:
    """A pipeline run on the shop and the games (planted or clean) and the films; its settings."""
    write(root / "shop.csv", csv_text(SHOP_HEADER, shop_rows(planted)))
    write(root / "films.csv", csv_text(FILM_HEADER, film_rows()))
    write(root / "games.csv", csv_text(GAME_HEADER, game_rows(planted)))
    write(root / "titles.csv", "title_id,title\n" + f'{PLANTED},"{PLANTED_NAME}"\n')
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[
            Source(name="titles", kind="titles", path=str(root / "titles.csv")),
            Source(name="shop", path=str(root / "shop.csv"), rating_scale=5),
            Source(name="films", path=str(root / "films.csv"), rating_scale=10),
            Source(name="games", path=str(root / "games.csv"), rating_scale="thumbs"),
        ],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    return settings


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Settings:
    return run(tmp_path_factory.mktemp("planted"), planted=True)


@pytest.fixture(scope="module")
def planted_page(planted: Settings) -> str:
    out = write_report(planted.published_path, planted.exports_path / "trust.html")
    return out.read_text(encoding="utf-8")


def section_text(page: str) -> str:
    """The trust section's text as it reads: tags dropped, entities decoded, whitespace single."""
    start = page.index('<section id="trust">')
    raw = page[start:page.index("</section>", start)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def title_row(page: str, title_name: str) -> str:
    """The text of the trust table's row of the title named title_name."""
    start = page.index('<section id="trust">')
    rows = re.findall(r"<tr class=\"trust-\w+\">.*?</tr>", page[start:], flags=re.S)
    [row] = [r for r in rows if html.escape(title_name) in r]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())


def published(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_planted_title_fails_and_each_failing_test_reads_as_its_row(
    planted: Settings, planted_page: str
) -> None:
    failing = published(planted, """
        select test, subset_reviews, tested_reviews, subset_share, baseline_share,
            subset_rating_mean, rest_rating_mean
        from agg_trust_tests where title_id = ? and verdict = 'fail'""", [PLANTED])
    # the campaign (40 new accounts in two days, unverified) fails at least the account test
    assert "one_review_accounts" in {row[0] for row in failing}
    row = title_row(planted_page, PLANTED_NAME)
    assert row.split()[1:3] == ["Planted", "<b>Blender</b>"] and " fail " in row
    for test, x, n, share, baseline, subset_mean, rest_mean in failing:
        # the subset's five-star count, read from the flagged reviews joined to reviews
        [(fives,)] = published(planted, """
            select count(*) filter (where r.rating = 5) from agg_trust_flagged_reviews f
            join reviews r using (title_id, review_id) where f.title_id = ? and f.test = ?""",
                               [PLANTED, test])
        fives_text = "all of them give 5 of 5" if fives == x else f"{fives} of the {x} give 5 of 5"
        sentence = (f"fail: {trust_test_label(test)} {x} of {n} rated reviews {TRUST_SUBSETS[test]} "
                    f"({round(share * 100)}%, against {round(baseline * 100)}% for the other titles "
                    f"in shop); {fives_text}, and they rate it {subset_mean:.2f} against "
                    f"{rest_mean:.2f} for the rest.")
        assert sentence in row, (sentence, row)
    # the tests it passes, on one line, in agg_trust_tests' order
    passing = [t for (t,) in published(planted, "select test from agg_trust_tests where title_id = ? "
                                                "and verdict = 'pass'", [PLANTED])]
    passing.sort(key=TEST_NAMES.index)
    assert "passes: " + ", ".join(trust_test_label(t) for t in passing) in row


def test_the_adjusted_rating_stands_beside_the_published_one(planted: Settings,
                                                            planted_page: str) -> None:
    [(mean, adjusted, kept, rated)] = published(planted, """
        select rating_mean, adjusted_rating, adjusted_review_count, rated_review_count
        from agg_title_summary where title_id = ?""", [PLANTED])
    # the campaign's 40 reviews and the honest unverified ones are left out
    assert kept < rated and adjusted < mean
    row = title_row(planted_page, PLANTED_NAME)
    assert f" fail {mean:.2f} {adjusted:.2f} keeps {kept} of {rated} rated " in row, row


def test_a_thumbs_source_reads_in_percent_recommended(planted: Settings, planted_page: str) -> None:
    [(share, adjusted, kept, rated)] = published(planted, """
        select recommended_share, adjusted_rating, adjusted_review_count, rated_review_count
        from agg_title_summary where title_id = ?""", [BOMBED])
    row = title_row(planted_page, BOMBED)
    assert f" fail {share:.1%} {adjusted:.1%} keeps {kept} of {rated} rated " in row, row
    [(x, n, subset_mean, rest_mean)] = published(planted, """
        select subset_reviews, tested_reviews, subset_rating_mean, rest_rating_mean
        from agg_trust_tests where title_id = ? and test = 'one_review_accounts'""", [BOMBED])
    # the bombing's accounts: none of them recommends it; no "give 1 of 1" on thumbs
    assert (x, subset_mean) == (BOMBING, 0)
    assert (f"{x} of {n} rated reviews come from accounts with no other review" in row
            and f"; 0.0% of them recommend it against {rest_mean:.1%} of the rest." in row), row
    assert " give " not in row


def test_the_flagged_reviews_to_read_first_are_listed_in_order(planted: Settings,
                                                              planted_page: str) -> None:
    # most tests first, then most helpful, then review_id
    expected = published(planted, """
        select f.review_id, count(*) as tests, any_value(r.helpful_votes) as helpful,
            any_value(r.reviewer_id), any_value(r.review_text)
        from agg_trust_flagged_reviews f join reviews r using (title_id, review_id)
        where f.title_id = ? group by f.review_id
        order by tests desc, helpful desc nulls last, f.review_id""", [PLANTED])
    text = section_text(planted_page)
    heading = f"Reviews to read first: {PLANTED_NAME} (5 of its {len(expected)} flagged reviews)"
    assert heading in text
    listed = text[text.index(heading):]
    positions = [listed.find(review_id) for review_id, *_ in expected[:5]]
    assert -1 not in positions and positions == sorted(positions)
    assert expected[5][0] not in listed
    for review_id, _, _, reviewer_id, review_text in expected[:5]:
        assert reviewer_id in listed and review_text[:60] in listed
    # other people's words are escaped: the hostile account id shows as typed
    assert expected[0][3] == HOSTILE_REVIEWER
    assert str(markupsafe.escape(HOSTILE_REVIEWER)) in planted_page
    assert HOSTILE_REVIEWER not in planted_page
    # each review's tests with their details, as agg_trust_flagged_reviews holds them
    [(detail,)] = published(planted, "select detail from agg_trust_flagged_reviews where "
                                     "review_id = ? and test = 'one_review_accounts'", [expected[0][0]])
    assert f"one-review accounts : {detail}" in listed


def test_the_header_counts_tested_failing_and_warning_titles(planted: Settings,
                                                            planted_page: str) -> None:
    [(tested, fail, warn, passing)] = published(planted, """
        select count(trust_verdict), count(*) filter (where trust_verdict = 'fail'),
            count(*) filter (where trust_verdict = 'warn'),
            count(*) filter (where trust_verdict = 'pass') from agg_title_summary""")
    # 30 products, 8 films and 6 games of at least 10 rated reviews; the planted product and the
    # bombed game fail
    assert (tested, fail) == (44, 2)
    assert f"{tested} titles tested: {fail} fail a test, {warn} warn, {passing} pass." in \
        section_text(planted_page)


def test_a_source_without_reviewer_ids_says_the_reviewer_tests_could_not_run(
    planted: Settings, planted_page: str
) -> None:
    ran = {t for (t,) in published(planted, "select distinct test from agg_trust_tests where "
                                            "title_id like 'tt%'")}
    reviewer_tests = [t for t in TEST_NAMES if TRUST_INPUTS[t] == "with_reviewer"]
    assert not ran & {*reviewer_tests, "unverified"}
    text = section_text(planted_page)
    assert (f"Not run on the titles of films: {words_list([trust_test_label(t) for t in reviewer_tests])}: "
            "none of the reviews of films has a reviewer id or an author name outside [trust] "
            "anonymous_names; unverified: none of the reviews of films has a verified-purchase "
            "flag.") in text
    # said once per source, and never for the shop, whose reviews name their reviewers and carry
    # a verified flag; the games' reviews carry none
    assert re.findall(r"Not run on the titles of (\w+): ([^;.]*)", text) == [
        ("films", words_list([trust_test_label(t) for t in reviewer_tests]) + ": none of the "
         "reviews of films has a reviewer id or an author name outside [trust] anonymous_names"),
        ("games", "unverified: none of the reviews of games has a verified-purchase flag")]


def test_max_titles_keeps_the_section_to_the_leaderboards_titles(planted: Settings,
                                                                tmp_path: Path) -> None:
    # the planted product is 13th of the shop's leaderboard (its honest reviews rate it low)
    page = write_report(planted.published_path, tmp_path / "r.html",
                        max_titles=3).read_text(encoding="utf-8")
    text = section_text(page)
    assert "Planted" not in text and "Reviews to read first" not in text
    # the bombed game is last of the games
    assert "2 of the failing titles are beyond the titles shown here (each leaderboard's top 3)." in text
    assert len(re.findall(r"<tr class=\"trust-", page)) == 9  # 3 films, 3 games, 3 products


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Settings:
    return run(tmp_path_factory.mktemp("clean"), planted=False)


def test_a_clean_corpus_shows_no_failing_title(clean: Settings) -> None:
    [(tested, fail)] = published(clean, "select count(trust_verdict), count(*) filter "
                                        "(where trust_verdict = 'fail') from agg_title_summary")
    assert tested == 44 and fail == 0
    page = write_report(clean.published_path, clean.exports_path / "r.html").read_text(encoding="utf-8")
    text = section_text(page)
    assert "44 titles tested: 0 fail a test" in text
    assert '<tr class="trust-fail">' not in page and '<tr class="trust-pass">' in page
    assert "Reviews to read first" not in text


ROW = {"test": "one_review_accounts", "subset_reviews": 41, "tested_reviews": 55,
       "subset_share": 41 / 55, "baseline_share": 0.08, "subset_rating_mean": 4.9,
       "rest_rating_mean": 3.1, "rating_difference": 1.8, "flagged_rated": None,
       "flagged_on_scale": None, "flagged_top": None, "flagged_bottom": None}


def test_a_finding_reads_as_its_row_in_each_sources_terms() -> None:
    stars = dict(thumbs=False, rating_min=1, rating_scale=5, sources="in yelp")
    assert trust_finding_text(ROW, **stars) == (
        "41 of 55 rated reviews come from accounts with no other review (75%, against 8% for the "
        "other titles in yelp); they rate it 4.90 against 3.10 for the rest.")
    # a failing subset's flagged reviews give its five-star count, when they are exactly it
    listed = ROW | {"flagged_rated": 41, "flagged_on_scale": 41, "flagged_top": 38, "flagged_bottom": 1}
    assert "; 38 of the 41 give 5 of 5, and they rate it 4.90" in trust_finding_text(listed, **stars)
    # a bombing subset leans to the bottom of the scale
    bombing = listed | {"subset_rating_mean": 1.2, "rating_difference": -1.9}
    assert "; 1 of the 41 give 1 of 5, and they rate it 1.20" in trust_finding_text(bombing, **stars)
    # flagged rows that are not exactly the subset's rated reviews give no count
    assert "give" not in trust_finding_text(listed | {"flagged_rated": 42}, **stars)
    assert "give" not in trust_finding_text(listed | {"flagged_on_scale": 40}, **stars)
    thumbs = ROW | {"subset_rating_mean": 0.95, "rest_rating_mean": 0.4}
    assert trust_finding_text(thumbs, thumbs=True, rating_min=0, rating_scale=1,
                              sources="in its sources").endswith(
        "in its sources); 95.0% of them recommend it against 40.0% of the rest.")
    assert trust_finding_text(ROW | {"rest_rating_mean": None}, **stars).endswith(
        "they rate it 4.90 (no other tested review to compare).")
    # a source with no other title gives no baseline
    assert "(75%, no other title in yelp to compare); they" in trust_finding_text(
        ROW | {"baseline_share": None}, **stars)
    assert trust_mean_text(0.5, thumbs=True) == "50.0%"
    assert [p_value_text(p) for p in (0.0123, 3e-12, 0.0, None)] == ["0.012", "3e-12", "0", "–"]


@st.composite
def trust_rows(draw: st.DrawFn) -> tuple[dict, bool]:
    """A row of agg_trust_tests (with trust_tests.sql's flagged counts, or none as for a warning
    subset) on a 1..5 or a thumbs scale; and whether the scale is thumbs."""
    thumbs = draw(st.booleans())
    n = draw(st.integers(10, 5000))
    x = draw(st.integers(0, n))
    mean = st.floats(0, 1) if thumbs else st.floats(1, 5)
    subset_mean = draw(mean) if x else None
    rest_mean = draw(mean) if x < n else None
    flagged = draw(st.one_of(st.none(), st.integers(max(0, x - 1), x + 1)))
    top = draw(st.integers(0, x))
    row = {"test": draw(st.sampled_from(TEST_NAMES)), "subset_reviews": x, "tested_reviews": n,
           "subset_share": x / n, "baseline_share": draw(st.none() | st.floats(0, 1)),
           "subset_rating_mean": subset_mean, "rest_rating_mean": rest_mean,
           "rating_difference": None if None in (subset_mean, rest_mean) else subset_mean - rest_mean,
           "flagged_rated": flagged, "flagged_on_scale": flagged if draw(st.booleans()) else x,
           "flagged_top": top, "flagged_bottom": x - top}
    return row, thumbs


@settings(max_examples=200, deadline=None)
@given(case=trust_rows())
def test_a_finding_says_only_what_its_row_holds(case: tuple[dict, bool]) -> None:
    row, thumbs = case
    text = trust_finding_text(row, thumbs=thumbs, rating_min=0 if thumbs else 1,
                              rating_scale=1 if thumbs else 5, sources="in shop")
    x, n = row["subset_reviews"], row["tested_reviews"]
    assert text.startswith(f"{x:,} of {n:,} rated reviews {TRUST_SUBSETS[row['test']]} (")
    assert "None" not in text and "nan" not in text and text.endswith(".")
    for mean in (row["subset_rating_mean"], row["rest_rating_mean"]):
        if row["subset_rating_mean"] is not None and mean is not None:
            assert trust_mean_text(mean, thumbs=thumbs) in text
    # a count at the scale's end only when the flagged rows are exactly the rated subset
    exact = (not thumbs and x > 0 and row["subset_rating_mean"] is not None
             and row["flagged_rated"] == row["flagged_on_scale"] == x)
    assert (" give " in text) == exact


def test_the_verdicts_read_back_from_their_rows_and_parameters(planted: Settings) -> None:
    # the report says why a test warns from the row and its parameters: that reading gives every
    # published verdict of the run (shop 1..5, films 1..10, games 0/1)
    spans = {"p": 4, "t": 9, "g": 1}
    with duckdb.connect(str(planted.published_path), read_only=True) as con:
        rows = con.sql("select * from agg_trust_tests").pl().to_dicts()
    assert len(rows) > 200
    for row in rows:
        answers = trust_questions(row, spans[row["title_id"][0]])
        assert answers is not None and trust_verdict(answers) == row["verdict"], row


def test_a_warning_says_which_question_it_answers_yes() -> None:
    params = ("alpha=0.01;min_title_reviews=10;min_subset_reviews=5;min_share_ratio=2;min_rating_effect=0.1;"
              "dominant_share=0.9;dominant_min_reviews=20")
    row = ROW | {"verdict": "warn", "parameters": params, "share_p_value": 1e-9, "rating_p_value": 0.2}
    assert trust_reason_text(row, 4) == ("the subset is unusually large, but does not rate the "
                                         "title differently enough")
    # rating_difference 1.8 is at least 0.1 of the span 4; the share 75% is not 2 x 40%
    row |= {"share_p_value": 1e-9, "rating_p_value": 1e-5, "baseline_share": 0.4}
    assert trust_reason_text(row, 4) == ("the subset rates the title differently, but is not "
                                         "unusually large")
    # a difference of 1.8 is less than 0.1 of a span of 20: both answers no, which is no warning,
    # so the row's verdict is not what its parameters give: no reason rather than a wrong one
    assert trust_reason_text(row, 20) is None
    assert trust_reason_text(row | {"parameters": "alpha=0.01"}, 4) is None
    assert trust_reason_text(row | {"verdict": "fail"}, 4) is None


def test_a_dominant_subset_fails_and_says_why() -> None:
    # 41 of 55 tested reviews (75%), unusually large (2 x 10%), rating no differently (p 0.2): at
    # a dominant_share of 0.5 it fails, and says it is most of the reviews; at 0.9 it warns
    row = ROW | {"share_p_value": 1e-9, "rating_p_value": 0.2, "baseline_share": 0.1}
    dominant = row | {"verdict": "fail", "parameters": ("alpha=0.01;min_subset_reviews=5;min_share_ratio=2;"
                                                        "min_rating_effect=0.1;dominant_share=0.5;dominant_min_reviews=20")}
    assert trust_questions(dominant, 4) == (True, False, True)
    assert trust_reason_text(dominant, 4) == ("the subset is most of the title's tested reviews, so the "
                                              "rating is mostly its own, whatever it rates")
    assert trust_reason_text(dominant | {"verdict": "warn"}, 4) is None
    share_only = dominant | {"verdict": "warn", "parameters": dominant["parameters"].replace("0.5", "0.9")}
    assert trust_questions(share_only, 4) == (True, False, False)
    assert trust_reason_text(share_only, 4).startswith("the subset is unusually large")
    # fewer reviews than dominant_min_reviews (41 < 50) are not dominant, whatever their share
    few = dominant | {"verdict": "warn", "parameters": dominant["parameters"].replace("=20", "=50")}
    assert trust_questions(few, 4) == (True, False, False)
    # failing on both questions: the finding says both, no reason is added
    both = dominant | {"rating_p_value": 1e-5}
    assert trust_questions(both, 4) == (True, True, True) and trust_reason_text(both, 4) is None


def test_every_test_has_its_words() -> None:
    assert set(TRUST_SUBSETS) == set(TRUST_INPUTS) == set(TEST_NAMES)


# ---------------------------------------------------------------------------------------------
# In a real browser

browser = test_report.browser  # the report tests' fixture: Debian's chromium through Playwright


def test_the_browser_shows_the_trust_section(browser, planted: Settings, planted_page: str,
                                             tmp_path: Path) -> None:
    out = write(tmp_path / "trust.html", planted_page)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page, errors = open_drawn(context, out)
        section = page.locator("#trust")
        assert section.is_visible()
        seen = " ".join(section.inner_text().split())
        assert "44 titles tested: 2 fail a test" in seen
        # the first finding is the bombed game's (games come before the shop), its first failing
        # test in agg_trust_tests' order
        finding = page.locator("#trust tr.trust-fail ul.findings li").first
        assert finding.is_visible()
        assert "fail: one-review accounts 30 of 50 rated reviews come from accounts with no other " \
            "review" in " ".join(finding.inner_text().split())
        flagged = page.locator("#trust table.flagged").last  # the planted product's
        assert flagged.is_visible() and "Best blender I have ever owned" in flagged.inner_text()
        assert PLANTED_NAME in seen and page.evaluate("typeof window.__pwned") == "undefined"
        assert not errors, errors
    finally:
        context.close()
