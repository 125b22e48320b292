"""The trust tests that read texts (reviewpipe.trust.texts): kept signatures, copied_text,
repeated_phrases and incentivized, through the real pipeline's warehouse.

Until trust_frames calls them, text_members does not reach the published tables: these tests run the
pipeline, then open its warehouse and call update_signatures and text_members on it.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import duckdb
import hypothesis
import hypothesis.strategies as st
import numpy as np
import polars as pl
import pytest

from reviewpipe import pipeline
from reviewpipe.settings import DISCLOSURE_PATTERNS, Settings
from reviewpipe.trust import TESTS, sketch, subsets, texts
from reviewpipe.warehouse import open_warehouse
from tests.conftest import SHARED_DATA

FINE_FOOD = SHARED_DATA / "amazon_fine_food_sample" / "Reviews.csv"
FASHION = SHARED_DATA / "amazon2018_5core" / "AMAZON_FASHION_5.json"
needs_data = pytest.mark.skipif(not FINE_FOOD.exists() or not FASHION.exists(),
                                reason="needs ../shared/data (see tests/conftest.py)")

COLUMNS = ["review_id", "title_id", "author", "reviewer_id", "review_date", "rating", "review_text"]
# A campaign's template: 40 words, the product's adjective filled in (one shingle set differs by the
# 3 shingles holding it: Jaccard 35 / 41 = 0.85 between any two, above copy_similarity 0.8)
TEMPLATE = ("I bought this blender for my mother and she says it is the most {} kitchen tool she has "
            "ever owned, it crushes ice in seconds, the motor runs quiet, cleaning takes a minute and "
            "the price was fair for what you get here")
ADJECTIVES = ["useful", "reliable", "wonderful", "handy", "solid", "sturdy", "amazing", "practical",
              "dependable", "excellent", "superb", "brilliant", "terrific", "splendid", "fantastic",
              "marvelous", "helpful", "capable", "durable", "efficient", "elegant", "powerful",
              "versatile", "lovely", "great", "perfect", "fine", "decent", "good", "nice"]
# Phrases a review may append; the test uses the first with a kept (sampled) phrase of phrase_words
PHRASES = ["the zipper on the side pocket broke after two days of gentle use",
           "the left strap came loose from the buckle within one short afternoon walk",
           "customer service replied within an hour and shipped a spare part for nothing",
           "my neighbour borrowed it for her garden party and asked where to order one"]
DISCLOSING = ["I received this product free in exchange for my honest review. It works.",
              "I got it at a discount for my unbiased review and it is quite good overall."]
NOT_DISCLOSING = ["Free shipping made this a good deal, and it arrived two days early in a box.",
                  "I first saw these at the discount store near my house and the quality is fine."]


_COMPILED_PATTERNS = [re.compile(p) for p in DISCLOSURE_PATTERNS]


def first_disclosure(text: str) -> str | None:
    """The disclosure rule text by text with Python's re: what the first pattern that matches the
    lower-cased text matched; None when none does."""
    for compiled in _COMPILED_PATTERNS:
        if m := compiled.search(text.lower()):
            return m.group(0)
    return None


def real_texts(n: int) -> list[str]:
    """n distinct real review texts of at least 20 words (Amazon fine food), in file order."""
    # a connection of its own: DuckDB's default one may hold another test's unfinished result
    with duckdb.connect() as con:
        rows = con.execute("select distinct Text from read_csv(?, all_varchar = true) where Text is not null",
                           [str(FINE_FOOD)]).fetchall()
    found = sorted({t for (t,) in rows if len(t.split()) >= 20 and "<" not in t})
    return found[:n]


def sampled_phrase(n: int) -> str:
    """The first of PHRASES with a phrase of n words that the signatures keep."""
    for phrase in PHRASES:
        words = texts.text_words(pl.LazyFrame({"i": [0], "review_text": [phrase]}).with_columns(
            pl.col("i").cast(pl.UInt32)))
        if texts.ngram_hashes(words, n).filter(pl.col("g") % texts.PHRASE_SAMPLE == 0).collect().height:
            return phrase
    raise AssertionError("no phrase of PHRASES has a sampled n-gram: add one")


def write_reviews(path: Path, rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def members_of(settings: Settings) -> pl.DataFrame:
    """text_members over the pipeline's warehouse, after update_signatures."""
    with open_warehouse(settings.paths.warehouse) as con:
        texts.update_signatures(con, settings)
        return texts.text_members(con, settings)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Settings, dict[str, list[str]], pl.DataFrame]:
    """One pipeline run over real texts with planted cases; the settings, the planted review ids by
    case and text_members of its warehouse."""
    if not FINE_FOOD.exists():
        pytest.skip("needs ../shared/data (see tests/conftest.py)")
    root = tmp_path_factory.mktemp("trust_texts")
    rng = random.Random(25)
    real = real_texts(260)
    rows: list[tuple] = []
    cases: dict[str, list[str]] = {k: [] for k in (
        "background", "campaign", "exact", "variants", "near_variants", "anonymous", "phrase",
        "disclosing", "not_disclosing")}

    def add(case: str, title: str, reviewer: str | None, text: str, author: str | None = None) -> None:
        review_id = f"{case}{len(cases[case]):03d}"
        cases[case].append(review_id)
        rows.append((review_id, title, author or reviewer or "", reviewer or "",
                     f"2020-{1 + len(rows) % 12:02d}-{1 + len(rows) % 28:02d}", rng.randint(1, 5), text))

    for i, text in enumerate(real[:200]):  # real texts, one reviewer each: none is a copy
        add("background", f"t{i % 10}", f"u{i}", text)
    for i, adjective in enumerate(ADJECTIVES):  # a campaign: 30 near-copies under 30 reviewer ids
        add("campaign", "camp", f"c{i}", TEMPLATE.format(adjective))
    for i in range(3):  # one real text pasted by 3 reviewers on 3 titles
        add("exact", f"t{i}", f"e{i}", real[200])
    for i in range(4):  # one reviewer's text on 4 variants: not a copy by someone else
        add("variants", f"v{i}", "v", real[201])
    for i in range(3):  # one reviewer's near-copies on 3 variants (a word added)
        add("near_variants", f"v{i}", "w", real[203] + " " + ["Indeed.", "Truly.", "Really."][i])
    for i in range(2):  # nobody known (a shared name, no id): each review its own reviewer
        add("anonymous", f"t{i + 3}", None, real[202], author="Amazon Customer")
    phrase = sampled_phrase(Settings().trust.phrase_words)
    for i in range(12):  # 12 reviewers of one title append one rare phrase to their own real texts
        add("phrase", "phr", f"p{i}", real[210 + i] + " Sadly " + phrase + ".")
    for i, text in enumerate(DISCLOSING):
        add("disclosing", f"t{i}", f"d{i}", text)
    for i, text in enumerate(NOT_DISCLOSING):
        add("not_disclosing", f"t{i}", f"n{i}", text)
    write_reviews(root / "landing" / "reviews.csv", rows)
    settings = Settings.model_validate({
        "paths": {"warehouse": root / "warehouse.duckdb", "published": root / "reports.duckdb",
                  "exports": root / "exports", "samples": root / "samples"},
        "sources": [{"name": "shop", "path": str(root / "landing" / "*.csv")}],
        "sentiment": {"workers": 1},
    })
    pipeline.run(settings)
    return settings, cases, members_of(settings)


def ids(members: pl.DataFrame, test: str) -> set[str]:
    return set(members.filter(pl.col("test") == test)["review_id"])


def test_the_members_frame_has_the_contract_schema(planted) -> None:
    _, _, members = planted
    assert dict(members.schema) == texts.MEMBERS_SCHEMA
    assert members.filter(pl.col("detail").is_null()).is_empty()


def test_the_members_read_from_trust_reviews_are_those_read_from_stg_reviews(planted) -> None:
    # trust_frames reads the reviewers from trust_reviews; the planted cases hold an anonymous name
    # (each review its own reviewer), one reviewer's copies and a campaign, where they would differ
    settings, _, members = planted
    with open_warehouse(settings.paths.warehouse) as con:
        subsets.create_trust_reviews(con, settings, [t.tested for t in TESTS])
        assert texts.text_members(con, settings, of_trust_reviews=True).equals(members)
    assert set(members["test"]) == {"copied_text", "repeated_phrases", "incentivized"}


def test_planted_near_copies_under_other_reviewers_are_copied_text(planted) -> None:
    _, cases, members = planted
    copied = ids(members, "copied_text")
    # every campaign review is a near-copy of the 29 others (Jaccard 0.85, see TEMPLATE); the
    # exact copies and the two anonymous reviews of one text are copies by another reviewer
    assert copied == set(cases["campaign"]) | set(cases["exact"]) | set(cases["anonymous"])
    detail = dict(members.filter(pl.col("test") == "copied_text").select("review_id", "detail").iter_rows())
    assert detail[cases["campaign"][0]] == "near-copy of 29 reviews by 29 other reviewers"
    assert detail[cases["exact"][0]] == "copy of 2 reviews by 2 other reviewers"
    assert detail[cases["anonymous"][0]] == "copy of 1 review by 1 other reviewer"


def test_one_reviewers_copies_on_variants_and_real_texts_are_not_copied_text(planted) -> None:
    _, cases, members = planted
    copied = ids(members, "copied_text")
    for case in ("variants", "near_variants", "background", "phrase"):
        assert not copied & set(cases[case]), case


def test_a_rare_phrase_shared_by_a_titles_reviewers_is_repeated_phrases(planted) -> None:
    settings, cases, members = planted
    phrased = members.filter(pl.col("test") == "repeated_phrases")
    # the campaign's template is a run of phrases 30 reviewers of one title share too
    assert set(phrased["review_id"]) == set(cases["phrase"]) | set(cases["campaign"])
    phrase = sampled_phrase(settings.trust.phrase_words)
    detail = phrased.filter(pl.col("review_id") == cases["phrase"][0])["detail"][0]
    quoted = re.fullmatch(r'shares "(.+)" with 11 other reviewers of the title, and \d+ more unlikely phrases?',
                          detail)
    assert quoted and quoted.group(1) in phrase and len(quoted.group(1).split()) == settings.trust.phrase_words


def test_incentivized_finds_the_disclosures_and_not_free_shipping(planted) -> None:
    _, cases, members = planted
    assert ids(members, "incentivized") == set(cases["disclosing"])
    details = members.filter(pl.col("test") == "incentivized")["detail"].to_list()
    assert all(d.startswith('discloses: "') for d in details)


def test_the_issues_disclosures_match_and_everyday_words_do_not() -> None:
    found = texts.disclosures(pl.Series(DISCLOSING + NOT_DISCLOSING + [None]), list(DISCLOSURE_PATTERNS))
    assert found[:2].is_not_null().all()
    assert found[2:].is_null().all()


def test_polars_reads_the_disclosure_patterns_as_python_re_does_on_real_texts() -> None:
    if not SHARED_DATA.exists():
        pytest.skip("needs ../shared/data (see tests/conftest.py)")
    sources = {
        "amazon_fine_food_sample/Reviews.csv": "Text",
        "steam_reviews/steam_reviews.csv": "review",
        "op_spam_deceptive_hotel/deceptive-opinion.csv": "text",
        "google_play_netflix/netflix_reviews.csv": "content",
    }
    corpus = pl.concat([
        pl.read_csv(SHARED_DATA / path, infer_schema=False, columns=[column]).rename({column: "t"})
        for path, column in sources.items()
    ])["t"].drop_nulls()
    # plus what the patterns are about, so that matches are compared too
    corpus = pl.concat([corpus, pl.Series("t", DISCLOSING * 3 + NOT_DISCLOSING)])
    found = texts.disclosures(corpus, list(DISCLOSURE_PATTERNS))
    assert found.to_list() == [first_disclosure(t) for t in corpus.to_list()]
    assert found.is_not_null().sum() > 1000  # Steam's label alone: the comparison saw matches


def test_a_pattern_polars_cannot_read_runs_through_python_re() -> None:
    # a look-behind: Rust's regex has none
    found = texts.disclosures(pl.Series(["a free gift for review", "free gift"]), [r"(?<=free )gift for review"])
    assert found.to_list() == ["gift for review", None]


def pair_similarity(a: str, b: str) -> tuple[float, bool]:
    """The exact shingle Jaccard of two texts, and whether they share an LSH band."""
    frame = pl.DataFrame({"text_hash": ["a", "b"], "review_text": [a, b]})
    _, bands, _ = texts.signatures(frame, 4, [])
    shared = bands.group_by("band").agg(pl.col("text_id").n_unique()).filter(pl.col("text_id") == 2)
    pairs = pl.DataFrame({"text_hash": ["a"], "copy_hash": ["b"]})
    return texts.shingle_jaccard(pairs, frame)["similarity"][0], not shared.is_empty()


WORDS = ["good", "bad", "soft", "hard", "blue", "red", "fits", "runs", "small", "large", "wash", "dry",
         "shoe", "coat", "belt", "bag", "strap", "seam", "color", "size", "price", "gift", "wife", "son"]


@hypothesis.settings(derandomize=True, max_examples=60, deadline=None)
@hypothesis.given(
    template=st.lists(st.sampled_from(WORDS), min_size=20, max_size=60),
    changes=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(WORDS)), max_size=3),
)
def test_templated_texts_with_substitutions_above_the_threshold_share_a_band(template, changes) -> None:
    varied = list(template)
    for position, word in changes:
        varied[position % len(varied)] = word
    similarity, candidates = pair_similarity(" ".join(template), " ".join(varied))
    # (Derandomized: the chance that a pair of Jaccard >= 0.8 shares no band is below 2.2e-4.)
    if similarity >= 0.8:
        assert candidates


@needs_data
@hypothesis.settings(derandomize=True, max_examples=40, deadline=None)
@hypothesis.given(a=st.integers(0, 199), b=st.integers(0, 199))
def test_two_real_texts_are_not_near_copies(a, b) -> None:
    hypothesis.assume(a != b)
    real = _real()
    similarity, _ = pair_similarity(real[a], real[b])
    assert similarity < 0.5


_REAL: list[str] = []


def _real() -> list[str]:
    if not _REAL:
        _REAL.extend(real_texts(200))
    return _REAL


def _small_settings(root: Path, **trust) -> Settings:
    return Settings.model_validate({
        "paths": {"warehouse": root / "warehouse.duckdb", "published": root / "reports.duckdb",
                  "exports": root / "exports", "samples": root / "samples"},
        "sources": [{"name": "shop", "path": str(root / "landing" / "*.csv")}],
        "sentiment": {"workers": 1}, "trust": trust,
    })


def _kept(settings: Settings) -> dict[str, list[tuple]]:
    with open_warehouse(settings.paths.warehouse, read_only=True) as con:
        return {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("text_signatures", "text_bands", "text_phrases", "text_copy_pairs")}


def _four_templated_texts_run(root: Path) -> Settings:
    """The settings of a project under root after one run over 4 reviews of title t1 by 4 reviewers,
    the template filled in with 4 adjectives."""
    first = [(f"r{i}", "t1", f"u{i}", f"u{i}", "2021-01-01", 4, TEMPLATE.format(w)) for i, w in enumerate(ADJECTIVES[:4])]
    write_reviews(root / "landing" / "a.csv", first)
    settings = _small_settings(root)
    pipeline.run(settings)
    return settings


def test_a_second_run_computes_the_new_texts_signatures_alone(tmp_path: Path) -> None:
    settings = _four_templated_texts_run(tmp_path)
    with open_warehouse(settings.paths.warehouse) as con:
        # the run's trust tests kept the 4 texts' signatures: nothing is left to compute
        assert con.execute("select count(*) from text_signatures").fetchone()[0] == 4
        assert texts.update_signatures(con, settings) == 0
        texts.text_members(con, settings)
        states = dict(con.execute("select title_id, fingerprint from text_title_state").fetchall())
        assert set(states) == {"t1"}
        # a mark on a kept row: a run that recomputed it would lose it
        con.execute("update text_signatures set disclosure = 'mark' where text_hash = (select min(text_hash) from text_signatures)")
    # two new texts, one near-copy of the first's, and one text already kept
    second = [("r10", "t2", "x", "x", "2021-02-01", 5, TEMPLATE.format("unusual")),
              ("r11", "t2", "y", "y", "2021-02-01", 5, "A plain short review of a good coat that fits well"),
              ("r12", "t2", "z", "z", "2021-02-01", 5, TEMPLATE.format(ADJECTIVES[0]))]
    write_reviews(tmp_path / "landing" / "b.csv", second)
    pipeline.run(settings)
    with open_warehouse(settings.paths.warehouse) as con:
        # the run computed the 2 new texts' signatures alone: the marked kept row is untouched
        assert con.execute("select count(*) from text_signatures").fetchone()[0] == 6
        assert texts.update_signatures(con, settings) == 0
        assert con.execute("select count(*) from text_signatures where disclosure = 'mark'").fetchone()[0] == 1
        # the new texts are numbered on from the kept ones
        assert con.execute("select count(distinct text_id), min(text_id), max(text_id) from text_signatures"
                           ).fetchone() == (6, 1, 6)
        # the new near-copy is paired with the 4 old texts, each pair once per order
        new_hash = con.execute("select text_hash from stg_reviews where review_id = 'r10'").fetchone()[0]
        assert con.execute("select count(*) from text_copy_pairs where text_hash = ?", [new_hash]).fetchone()[0] == 4
        pairs = con.execute("select count(*), count(distinct (text_hash, copy_hash)) from text_copy_pairs").fetchone()
        assert pairs[0] == pairs[1] == 2 * 10  # 5 templated texts: 10 pairs
        # a run stopped after keeping signatures, before pairing them: the next run pairs them
        con.execute("delete from text_copy_pairs where text_hash = ? or copy_hash = ?", [new_hash, new_hash])
        new_id = con.execute("select text_id from text_signatures where text_hash = ?", [new_hash]).fetchone()[0]
        assert texts._state(con, "text_copy_pairs_through") == "6"  # the last text's number
        con.execute("update staging_state set version = ? where model = 'text_copy_pairs_through'", [str(new_id - 1)])
        assert texts.update_signatures(con, settings) == 0
        assert con.execute("select count(*) from text_copy_pairs").fetchone()[0] == 2 * 10
        # t1's reviews did not change: its kept phrase counts are not made again; t2's are new
        con.execute("update text_title_phrases set reviewers = reviewers + 100 where title_id = 't1'")
        texts.text_members(con, settings)
        after = dict(con.execute("select title_id, fingerprint from text_title_state").fetchall())
        assert after["t1"] == states["t1"] and set(after) == {"t1", "t2"}
        assert con.execute("select min(reviewers) from text_title_phrases where title_id = 't1'").fetchone()[0] > 100


def test_an_edited_disclosure_list_redoes_that_column_alone(tmp_path: Path) -> None:
    rows = [("r0", "t1", "u0", "u0", "2021-01-01", 4, DISCLOSING[0]),
            ("r1", "t1", "u1", "u1", "2021-01-01", 4, "The free gift wrap was a nice touch for my son, he loved it")]
    write_reviews(tmp_path / "landing" / "a.csv", rows)
    settings = _small_settings(tmp_path)
    pipeline.run(settings)
    with open_warehouse(settings.paths.warehouse) as con:
        texts.update_signatures(con, settings)
    before = _kept(settings)
    edited = _small_settings(tmp_path, disclosure_patterns=[r"\bfree gift wrap\b"])
    with open_warehouse(settings.paths.warehouse) as con:
        assert texts.update_signatures(con, edited) == 0
        found = dict(con.execute("select r.review_id, s.disclosure from stg_reviews as r "
                                 "join text_signatures as s using (text_hash)").fetchall())
        members = texts.text_members(con, edited)
    after = _kept(settings)
    assert found == {"r0": None, "r1": "free gift wrap"}
    assert members.filter(pl.col("test") == "incentivized")["review_id"].to_list() == ["r1"]
    for table in ("text_bands", "text_phrases", "text_copy_pairs"):
        assert after[table] == before[table], table
    # ids and word counts kept; only the disclosure columns differ
    assert [r[:3] for r in after["text_signatures"]] == [r[:3] for r in before["text_signatures"]]


@pytest.fixture(scope="module")
def fashion(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame, set[str]]:
    """A run over the real Amazon 2018 fashion file and 3 planted records that paste one of its
    texts under new reviewer ids: its staged reviews, text_members, and the copied text."""
    if not FASHION.exists():
        pytest.skip("needs ../shared/data (see tests/conftest.py)")
    root = tmp_path_factory.mktemp("fashion")
    records = [json.loads(line) for line in FASHION.read_text(encoding="utf-8").splitlines()]
    # a long text its reviewer copied onto several variants
    texts_by = {}
    for r in records:
        if len(r.get("reviewText", "").split()) >= 20:
            texts_by.setdefault(r["reviewText"], set()).add(r["asin"])
    copied = next(t for t, asins in sorted(texts_by.items()) if len(asins) > 1)
    plants = [dict(records[0], reviewerID=f"PLANTED{i}", reviewText=copied, asin=f"PLANTASIN{i}",
                   reviewerName=f"Planted {i}") for i in range(3)]
    landing = root / "landing"
    landing.mkdir()
    (landing / "planted.json").write_text("".join(json.dumps(p) + "\n" for p in plants), encoding="utf-8")
    settings = Settings.model_validate({
        "paths": {"warehouse": root / "warehouse.duckdb", "published": root / "reports.duckdb",
                  "exports": root / "exports", "samples": root / "samples"},
        "sources": [{"name": "fashion", "preset": "amazon_2018", "path": str(FASHION)},
                    {"name": "planted", "preset": "amazon_2018", "path": str(landing / "planted.json")}],
        "sentiment": {"workers": 1},
    })
    pipeline.run(settings)
    members = members_of(settings)
    with open_warehouse(settings.paths.warehouse, read_only=True) as con:
        staged = con.sql("select review_id, title_id, reviewer_id, review_text from stg_reviews").pl()
    return staged, members, {copied}


def test_amazon_2018s_variant_copies_are_not_copied_text_but_a_paste_by_others_is(fashion) -> None:
    staged, members, copied = fashion
    flagged = staged.join(members.filter(pl.col("test") == "copied_text"), on="review_id")
    # the real file copies one reviewer's review onto every variant (359 reviews on 8 ASINs each):
    # none of those is a copy by someone else; the planted pastes and the reviews they copied are
    assert set(flagged["review_text"]) == copied
    assert set(flagged["reviewer_id"]) >= {"PLANTED0", "PLANTED1", "PLANTED2"}
    assert flagged.height == staged.filter(pl.col("review_text").is_in(list(copied))).height
    # and the real file has texts its reviewers repeated on other titles (what is not flagged)
    repeated = staged.group_by("review_text", "reviewer_id").agg(pl.col("title_id").n_unique())
    assert repeated.filter(pl.col("title_id") > 1).height > 300


def test_amazon_2018_has_no_other_text_member(fashion) -> None:
    staged, members, copied = fashion
    others = members.filter(pl.col("test") != "copied_text")
    # no disclosure in the real file (measured: docs/trust.md); its repeated phrases, if any, are
    # the variants' copies, which count once per reviewer
    assert others.filter(pl.col("test") == "incentivized").is_empty()
    assert others.filter(pl.col("test") == "repeated_phrases").is_empty()


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(picks=st.lists(st.sampled_from(DISCLOSING + NOT_DISCLOSING + [TEMPLATE, "ok", "a b"]),
                                 min_size=1, max_size=40))
def test_each_texts_signature_row_is_its_own(picks) -> None:
    frame = pl.DataFrame({"text_hash": [f"h{i}" for i in range(len(picks))], "review_text": picks})
    rows, bands, phrases = texts.signatures(frame, 4, list(DISCLOSURE_PATTERNS), first_id=7)
    assert rows["text_hash"].to_list() == frame["text_hash"].to_list()
    # the texts are numbered from first_id in their order
    assert rows["text_id"].to_list() == list(range(7, 7 + len(picks)))
    # each row's disclosure and word count are those of its own text (rows follow the input, whatever
    # a join does to order)
    alone = [texts.signatures(frame.slice(i, 1), 4, list(DISCLOSURE_PATTERNS))[0].row(0)[2:]
             for i in range(len(picks))]
    assert [r[2:] for r in rows.iter_rows()] == alone
    # a text's bands and phrases are its own too: equal texts have equal ones
    for table in (bands, phrases):
        by_text = table.group_by("text_id").agg(pl.all().sort())
        kept = dict(zip(by_text["text_id"], by_text.drop("text_id").rows()))
        for i, j in ((i, j) for i in range(len(picks)) for j in range(len(picks)) if picks[i] == picks[j]):
            assert kept.get(7 + i) == kept.get(7 + j)


def test_a_warehouse_of_the_layout_before_text_ids_is_rebuilt_once(tmp_path: Path) -> None:
    settings = _four_templated_texts_run(tmp_path)
    with open_warehouse(settings.paths.warehouse) as con:
        members = texts.text_members(con, settings)
        # the kept layout of round 1: bands and phrases named their text by its md5, under another version
        con.execute("update staging_state set version = 'round 1' where model = 'text_signatures'")
        con.execute("alter table text_signatures drop column text_id")
        for table, column in (("text_bands", "band"), ("text_phrases", "phrase")):
            con.execute(f"drop table {table}")
            con.execute(f"create table {table} ({column} ubigint not null, text_hash varchar not null)")
            con.execute(f"insert into {table} values (1, 'an old md5')")
    with open_warehouse(settings.paths.warehouse) as con:  # opening it alters the old tables
        # the changed version makes every text's rows again, once
        assert texts.update_signatures(con, settings) == 4
        assert texts.update_signatures(con, settings) == 0
        for table, columns in (("text_bands", ["band", "text_id"]), ("text_phrases", ["text_id", "phrases"])):
            assert [c[0] for c in con.execute(f"describe {table}").fetchall()] == columns
            column = columns[0]
            assert con.execute(f"select count(*) from {table} where text_id is null").fetchone()[0] == 0
        assert con.execute("select count(distinct text_id) from text_signatures").fetchone()[0] == 4
        # the tests find what they found before
        assert texts.text_members(con, settings).equals(members)
        assert members.filter(pl.col("test") == "copied_text").height == 4


def test_a_warehouse_of_phrase_rows_is_rebuilt_once_as_phrase_lists(tmp_path: Path) -> None:
    settings = _four_templated_texts_run(tmp_path)
    with open_warehouse(settings.paths.warehouse) as con:
        members = texts.text_members(con, settings)
        # the kept layout of round 3: a row per (text, phrase), under another version
        con.execute("update staging_state set version = 'round 3' where model = 'text_signatures'")
        con.execute("drop table text_phrases")
        con.execute("create table text_phrases (text_id integer not null, phrase ubigint not null, "
                    "is_named boolean not null default false)")
        con.execute("insert into text_phrases values (1, 2, true), (1, 4, false)")
    with open_warehouse(settings.paths.warehouse) as con:  # opening it alters the old table
        assert texts.update_signatures(con, settings) == 4
        assert texts.update_signatures(con, settings) == 0
        assert [c[0] for c in con.execute("describe text_phrases").fetchall()] == ["text_id", "phrases"]
        # a row per text with its list; no old row is left
        assert con.execute("select count(*), count(distinct text_id), bool_and(len(phrases) > 0) "
                           "from text_phrases").fetchone() == (4, 4, True)
        assert texts.text_members(con, settings).equals(members)


def test_the_phrase_lists_hold_each_texts_phrases() -> None:
    # the lists are cut from the flat rows by offsets: each text's own rows, in order (a phrase held
    # twice, twice); a text with no phrase has no row
    frame = pl.DataFrame({"text_hash": ["a", "b", "c", "d"], "review_text": [
        "Great value for the money and the Acme handle feels great value for the money",
        "ok", "The Acme handle feels solid and the price is a great value for the money", ""]})
    _, _, phrases = texts.signatures(frame, 3, [], first_id=5)
    words = texts.text_words(frame.with_row_index("i").lazy().select("i", "review_text"))
    flat = (texts.ngram_hashes(words, 3).filter(pl.col("g") % texts.PHRASE_SAMPLE == 0).select("i", "g").collect())
    expected: dict[int, list[int]] = {}
    for i, g in flat.iter_rows():
        expected.setdefault(5 + i, []).append(g)
    got = {t: p for t, p in phrases.iter_rows()}
    assert got == expected
    # text a holds a phrase twice; b and d hold none
    assert set(got) == {5, 7} and len(set(got[5])) < len(got[5])


def test_the_candidate_pairs_are_the_same_found_either_way(tmp_path: Path) -> None:
    # _CANDIDATES looks up the buckets of the new texts' bands first when few texts are new, and
    # groups every band when many are: the same pairs, whichever texts are new
    settings = _four_templated_texts_run(tmp_path)
    with open_warehouse(settings.paths.warehouse) as con:
        ids = [i for (i,) in con.execute("select text_id from text_signatures order by text_id").fetchall()]
        params = {"min_words": settings.trust.copy_min_words, "star": texts.STAR_TEXTS,
                  "similarity": settings.trust.copy_similarity}
        for new in ([], ids[:1], ids[1:3], ids):
            con.execute("create or replace temp table _tt_pair_texts (text_id integer)")
            if new:
                con.executemany("insert into _tt_pair_texts values (?)", [(i,) for i in new])
            found = []
            for pairing, kept in ((1, 100), (1, 1)):  # few new, many new
                sql = texts._candidates_sql(pairing, kept)
                con.execute(sql, params)
                found.append(con.execute("select * from _tt_candidates order by all").fetchall())
            assert found[0] == found[1]
            # a pair involves a new text: none when none is, all 6 of the 4 near-copies when all are
            assert len(found[0]) == {0: 0, 4: 6}.get(len(new), len(found[0]))
        assert "new_bands)" in texts._candidates_sql(1, 100) and "new_bands)" not in texts._candidates_sql(1, 3)


# The word rule spelled out on one text, in Python, for the property below: tokens split at spaces
# (a line break is a space), empty tokens dropped; a word is a token lower-cased with end punctuation
# off (dropped when nothing is left); it is named when, cased and stripped, it starts with a capital
# letter (Unicode Lu), it is not the text's first token, the token before it does not end a sentence
# (. ! ? then closing quotes or brackets) and it is not "I" or a contraction of it.
def reference_words(text: str) -> list[tuple[str, bool]]:
    import unicodedata
    tokens = [t for t in text.replace("\n", " ").split(" ") if t != ""]
    words = []
    for k, token in enumerate(tokens):
        word = token.lower().strip(sketch.PUNCTUATION)
        stripped = token.strip(sketch.PUNCTUATION)
        capital = bool(stripped) and unicodedata.category(stripped[0]) == "Lu"
        opens = k == 0 or re.search(r"[.!?][\"')\]]*$", tokens[k - 1]) is not None
        if word:
            words.append((word, capital and not opens and word not in texts._I_WORDS))
    return words


# letters that lower-casing changes, one it does not (ℝ: a capital with no lower case), Greek (a
# final sigma), accented and non-Latin letters, the end punctuation and the sentence ends
_ALPHABET = list("aBcDeIiΣσΑλℝéÉжЖ.,!?;:\"'()[]-_/`~ ") + ["\n", "I'm", "i've", "Bob", "x."]


@hypothesis.settings(derandomize=True, max_examples=300, deadline=None)
@hypothesis.given(text_list=st.lists(st.lists(st.sampled_from(_ALPHABET), max_size=40).map("".join),
                                     min_size=1, max_size=6))
def test_the_cased_words_follow_the_word_rule(text_list) -> None:
    # the signature pass reads the regexes of `named` on a few words alone (those lower-casing
    # changes, and non-ASCII ones); what it finds must be the rule read on every word
    frame = pl.LazyFrame({"i": list(range(len(text_list))), "review_text": text_list}).with_columns(
        pl.col("i").cast(pl.UInt32))
    got = texts.text_words(frame, cased=True).collect()
    expected = [(i, w, n) for i, t in enumerate(text_list) for w, n in reference_words(t)]
    assert list(zip(got["i"].to_list(), got["word"].to_list(), got["named"].to_list())) == expected
    # the plain words are the same words with the same hashes
    plain = texts.text_words(frame).collect()
    assert plain.select("i", "word", "h").equals(got.select("i", "word", "h"))


# The per-title phrase counts as first written: every review's phrases grouped by (title, phrase),
# reviewers counted distinct; what the compiled count (_TITLE_TEXTS, _count_title_phrases) must give.
_GROUPED_TITLE_PHRASES = """
    select r.title_id, p.phrase, count(distinct r.reviewer) as reviewers
    from _tt_reviews as r
    join text_signatures as s using (text_hash)
    join (select text_id, unnest(phrases) as phrase from text_phrases) as p using (text_id)
    where r.title_id in (select title_id from _tt_changed)
    group by r.title_id, p.phrase
    having count(distinct r.reviewer) >= 2
    order by all
"""


def _title_phrases(reviews: list[tuple[str, str, int]], phrases: list[tuple[int, int]], changed: list[str],
                   threads: int = 2, part_words: int = texts.PART_WORDS) -> tuple[list[tuple], list[tuple]]:
    """(the compiled count's rows, the grouped rows) of text_title_phrases for reviews (title_id,
    reviewer, text number) holding phrases (text number, phrase), over the titles `changed`; the
    titles counted by `threads` threads, in parts of part_words words (a text of number n has n)."""
    with duckdb.connect() as con:
        con.execute("create temp table _tt_reviews (title_id varchar, reviewer varchar, text_hash varchar)")
        if reviews:
            con.executemany("insert into _tt_reviews values (?, ?, 'h' || ?)", reviews)
        con.execute("create table text_signatures as select distinct text_hash, "
                    "substr(text_hash, 2)::integer as text_id, text_id as word_count from _tt_reviews")
        con.execute("create temp table _flat (text_id integer, phrase ubigint)")
        if phrases:
            con.executemany("insert into _flat values (?, ?)", phrases)
        # the kept layout: a text's phrases as one list
        con.execute("create table text_phrases as select text_id, list(phrase) as phrases from _flat group by text_id")
        con.execute("create temp table _tt_changed (title_id varchar)")
        if changed:
            con.executemany("insert into _tt_changed values (?)", [(t,) for t in changed])
        con.execute("create table text_title_phrases (title_id varchar, phrase ubigint, reviewers bigint)")
        con.execute(texts._TITLE_TEXTS)
        con.register("_tt_counted", texts._count_title_phrases(con, threads, part_words))
        con.execute("insert into text_title_phrases select * from _tt_counted")
        return (con.execute("select * from text_title_phrases order by all").fetchall(),
                con.execute(_GROUPED_TITLE_PHRASES).fetchall())


@hypothesis.settings(derandomize=True, max_examples=80, deadline=None)
@hypothesis.given(
    # few titles, reviewers, texts and phrases: shared texts, one reviewer's two texts, a text in two
    # titles and phrases in many texts all happen; phrases anywhere in 64 bits (the sort's parts)
    reviews=st.lists(st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.sampled_from(["a", "b", "c", "d"]),
                               st.integers(1, 6)), max_size=25),
    phrases=st.lists(st.tuples(st.integers(1, 6), st.sampled_from(
        [0, 2, 4, 2**63, 2**64 - 1, 2**64 - 2, 2**40 + 6, 2**29, 1024, 2048])), max_size=30),
    changed=st.lists(st.sampled_from(["t1", "t2", "t3"]), unique=True),
    threads=st.sampled_from([1, 2, 3, 5]),
    part_words=st.sampled_from([1, 4, 9, texts.PART_WORDS]),
)
def test_the_compiled_count_counts_the_title_phrases_as_grouping_them_does(reviews, phrases, changed,
                                                                          threads, part_words) -> None:
    # threads: the titles counted whole, or split among 2 to 5 threads (some with no title); the
    # titles read in one part or several (a title never split: one past part_words is a part alone)
    found, grouped = _title_phrases(reviews, phrases, changed, threads, part_words)
    assert found == grouped


def test_the_compiled_count_holds_titles_past_its_first_table_and_output() -> None:
    # titles of thousands of phrases (the table grows past its first 1,024 slots) that give
    # thousands of rows (so does the output): as the grouping counts them
    rng = np.random.default_rng(5)
    reviews = [(f"t{rng.integers(3)}", f"r{rng.integers(40)}", int(rng.integers(1, 61))) for _ in range(150)]
    phrases = [(text, int(p)) for text in range(1, 61) for p in rng.choice(3000, size=120, replace=False)]
    found, grouped = _title_phrases(reviews, phrases, ["t0", "t1", "t2"])
    assert len(found) > 2048
    assert found == grouped


def test_a_pair_of_two_reviewers_is_counted_and_one_reviewers_two_texts_are_not() -> None:
    # t1: "a" holds phrase 8 in two texts (one reviewer: not kept); "b" and "c" share text 3 (kept, 2);
    # t2: "a" and "b" hold phrase 8 in texts 1 and 4 (kept, 2), phrase 10 is "a"'s alone
    reviews = [("t1", "a", 1), ("t1", "a", 2), ("t1", "b", 3), ("t1", "c", 3), ("t2", "a", 1), ("t2", "b", 4)]
    phrases = [(1, 8), (2, 8), (3, 12), (4, 8), (1, 10)]
    found, grouped = _title_phrases(reviews, phrases, ["t1", "t2"])
    assert found == [("t1", 12, 2), ("t2", 8, 2)]
    assert found == grouped


_NAME_WORDS = ["Tom", "tom", "Hanks", "hanks", "is", "great.", "The", "the", "film", "I", "Acme", "acme", "!"]


@hypothesis.settings(derandomize=True, max_examples=60, deadline=None)
@hypothesis.given(text_list=st.lists(st.lists(st.sampled_from(_NAME_WORDS), min_size=1, max_size=12).map(" ".join),
                                     min_size=1, max_size=5),
                  copies=st.lists(st.integers(1, 3), min_size=5, max_size=5))
def test_named_counts_are_the_reviews_writing_the_phrase_as_a_name(text_list, copies) -> None:
    # _named_counts reads the case of the unlikely phrases' words from the texts holding them (no
    # longer kept per text): per phrase, the reviews (a text may be several reviews') whose text
    # holds it with a word capitalised inside a sentence, by the word rule spelled out above
    n = 2
    hashes = [f"h{i}" for i in range(len(text_list))]
    frame = pl.DataFrame({"i": list(range(len(text_list))), "review_text": text_list}).with_columns(pl.col("i").cast(pl.UInt32))
    grams = texts.ngram_hashes(texts.text_words(frame.lazy()).with_columns(pos=pl.int_range(pl.len()).over("i")), n).collect()
    expected: dict[int, int] = {}
    held: set[tuple[str, int]] = set()
    for i, text in enumerate(text_list):
        named = [flag for _, flag in reference_words(text)]
        as_name = set()
        for g, pos in grams.filter(pl.col("i") == i).select("g", "pos").iter_rows():
            held.add((hashes[i], g))
            if any(named[pos:pos + n]):
                as_name.add(g)
        for g in as_name:
            expected[g] = expected.get(g, 0) + copies[i]
    with duckdb.connect() as con:
        con.execute("create table int_reviews_typed (text_hash varchar, review_text varchar, staged boolean)")
        con.executemany("insert into int_reviews_typed values (?, ?, true)", list(zip(hashes, text_list)))
        con.execute("create temp table _tt_reviews (review_id varchar, text_hash varchar)")
        con.executemany("insert into _tt_reviews values (?, ?)",
                        [(f"r{i}-{k}", hashes[i]) for i in range(len(text_list)) for k in range(copies[i])])
        con.execute("create temp table _tt_candidate_rows (text_hash varchar, phrase ubigint)")
        if held:
            con.executemany("insert into _tt_candidate_rows values (?, ?)", sorted(held))
        phrases = pl.Series("phrase", sorted({g for _, g in held}), dtype=pl.UInt64)
        con.execute("create table text_named_phrases (text_hash varchar, phrase ubigint, named boolean)")
        got = texts._named_counts(con, phrases, n)
        assert dict(got.select("phrase", "named").iter_rows()) == expected
        # each (text, phrase) is kept with its answer: a second run reads no text and counts the same,
        # and so does one that finds part of them kept (the others' texts new since)
        assert con.execute("select count(*) from text_named_phrases").fetchall() == [(len(held),)]
        con.execute("update int_reviews_typed set review_text = 'never read again'")
        assert dict(texts._named_counts(con, phrases, n).select("phrase", "named").iter_rows()) == expected
        con.execute("update int_reviews_typed set review_text = t from (values " + ", ".join(
            f"('{h}', '{t}')" for h, t in zip(hashes, text_list)) + ") as v(h, t) where text_hash = h")
        con.execute("delete from text_named_phrases where text_hash in (select text_hash from text_named_phrases "
                    "order by all limit (select count(*) // 2 from text_named_phrases))")
        got = texts._named_counts(con, phrases, n)
        assert con.execute("select count(*) from text_named_phrases").fetchall() == [(len(held),)]
    assert dict(got.select("phrase", "named").iter_rows()) == expected


def test_with_the_trust_tests_off_nothing_of_them_is_made_and_every_output_says_so(tmp_path: Path) -> None:
    """[trust] enabled = false: no signature is made, the trust tables are published empty, and the
    run's summary and the report say the tests are off (not that no title qualified)."""
    rows = [(f"r{i}", "t1", f"u{i}", f"u{i}", "2021-01-01", 5, TEMPLATE.format(w)) for i, w in enumerate(ADJECTIVES[:12])]
    write_reviews(tmp_path / "landing" / "a.csv", rows)
    settings = _small_settings(tmp_path, enabled=False)
    summary = pipeline.run(settings)
    assert summary.trust == "off ([trust] enabled = false): no test ran"
    assert _kept(settings)["text_signatures"] == []
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        assert con.execute("select count(*) from agg_trust_tests").fetchone() == (0,)
        assert con.execute("select count(trust_verdict) from agg_title_summary").fetchone() == (0,)
    page = (settings.paths.exports / "report.html").read_text(encoding="utf-8")
    assert "The trust tests are off ([trust] enabled = false): none ran." in page
    # turned on again, the next run tests the title (12 reviews: enough) and makes the signatures
    summary = pipeline.run(_small_settings(tmp_path))
    assert summary.trust.startswith("1 titles tested")
    assert len(_kept(settings)["text_signatures"]) == 12


@hypothesis.settings(derandomize=True, max_examples=60, deadline=None)
@hypothesis.given(batch=st.lists(st.lists(st.sampled_from(["a", "b", "c", "the", "coat", "fits", "A.", "fits!"]),
                                          max_size=30).map(" ".join), min_size=1, max_size=10))
def test_a_texts_shingle_count_is_the_size_of_the_set_its_pairs_are_verified_on(batch) -> None:
    """The candidates are cut by shingle counts (Jaccard <= the smaller set's size over the larger's):
    exact only if each text's kept count is the size of the set shingle_sets verifies it on
    (repeated shingles once; "a b a b a" has 2)."""
    frame = pl.DataFrame({"text_hash": [f"h{i}" for i in range(len(batch))], "review_text": batch})
    rows, _, _ = texts.signatures(frame, 4, [])
    sets = sketch.shingle_sets(frame["review_text"])
    assert rows["shingle_count"].to_list() == np.diff(sets.offsets).tolist()


def test_pairs_whose_sizes_rule_out_a_copy_are_not_verified_and_the_copies_stay(tmp_path: Path) -> None:
    """A text of 42 distinct shingles and two copies with words added, each under another reviewer:
    52 shingles (42/52 = 0.808 may reach copy_similarity 0.8: verified and kept, a copy) and 53
    (42/53 = 0.792 cannot: not verified, not kept)."""
    base = TEMPLATE.format("useful")  # 44 words: 42 shingles
    more = "and then some other words were added here to make it longer"
    rows = [("r0", "t1", "u0", "u0", "2021-01-01", 4, base),
            ("r1", "t1", "u1", "u1", "2021-01-01", 4, base + " " + " ".join(more.split()[:10])),
            ("r2", "t1", "u2", "u2", "2021-01-01", 4, base + " " + " ".join(more.split()[:11]))]
    write_reviews(tmp_path / "landing" / "a.csv", rows)
    settings = _small_settings(tmp_path)
    pipeline.run(settings)
    with open_warehouse(settings.paths.warehouse, read_only=True) as con:
        counts = dict(con.execute("select r.review_id, s.shingle_count from stg_reviews as r "
                                  "join text_signatures as s using (text_hash)").fetchall())
        pairs = {tuple(sorted((a, b))): sim for a, b, sim in con.execute(
            "select ra.review_id, rb.review_id, p.similarity from text_copy_pairs as p "
            "join stg_reviews as ra on ra.text_hash = p.text_hash join stg_reviews as rb on rb.text_hash = p.copy_hash"
        ).fetchall()}
    assert counts == {"r0": 42, "r1": 52, "r2": 53}
    assert pairs[("r0", "r1")] == pytest.approx(42 / 52)  # all of r0's shingles are r1's
    assert ("r0", "r2") not in pairs  # 42 / 53 < 0.8: not a candidate, whatever the bands say
    assert pairs[("r1", "r2")] == pytest.approx(52 / 53)
    members = members_of(settings)
    assert set(members.filter(pl.col("test") == "copied_text")["review_id"]) == {"r0", "r1", "r2"}


def test_pairs_extended_beside_the_phrases_are_the_pairs_made_in_line(tmp_path: Path) -> None:
    """The trust stage extends the copy pairs on a thread of their own while the phrases are
    counted (start_copy_pairs): the members and the kept pairs are those update_signatures makes
    in line, and an error of that thread is raised by text_members, after waiting for it."""
    settings = _four_templated_texts_run(tmp_path)
    with open_warehouse(settings.paths.warehouse) as con:
        con.execute("delete from text_copy_pairs")
        con.execute("delete from staging_state where model = 'text_copy_pairs_through'")
        texts.update_signatures(con, settings)
        in_line = texts.text_members(con, settings)
        kept = con.execute("select * from text_copy_pairs order by all").fetchall()
        con.execute("delete from text_copy_pairs")
        con.execute("delete from staging_state where model = 'text_copy_pairs_through'")
        texts.update_signatures(con, settings, pairs=False)
        assert con.execute("select count(*) from text_copy_pairs").fetchone()[0] == 0
        beside = texts.text_members(con, settings, pairs=texts.start_copy_pairs(con, settings))
        assert beside.equals(in_line) and "copied_text" in beside["test"].to_list()
        assert con.execute("select * from text_copy_pairs order by all").fetchall() == kept and kept
        # a failing extension: its error, once the thread has ended
        con.execute("delete from text_copy_pairs")
        con.execute("delete from staging_state where model = 'text_copy_pairs_through'")
        con.execute("update staging_state set version = 'not these' where model = 'text_copy_pairs'")
        failing = texts.start_copy_pairs(con, settings.model_copy(update={"trust": settings.trust.model_copy(
            update={"copy_similarity": "not a number"})}))
        with pytest.raises(duckdb.Error):
            texts.text_members(con, settings, pairs=failing)
        assert failing.done()


@pytest.mark.parametrize(("batch", "keep"), [(1, 1), (2, 3), (3, 2), (4, 100), (11, 5)])
def test_texts_read_and_kept_in_any_batches_are_kept_as_in_one(tmp_path: Path, monkeypatch, batch: int,
                                                               keep: int) -> None:
    """The new texts are read a batch a query by row-id ranges and kept by a thread of their own,
    KEEP_TEXTS at a time, each followed by a checkpoint: whatever the sizes (ranges of one text,
    boundaries inside a keep, one keep for all), every text is kept once, with what one batch
    gives it (the bench's 25,000 and 125,000 are reached only past 25,000 new texts)."""
    rows = [(f"r{i}", f"t{i % 3}", f"u{i}", f"u{i}", "2021-01-01", 4, f"{TEMPLATE.format(w)} and {i} more")
            for i, w in enumerate(ADJECTIVES[:11])]
    write_reviews(tmp_path / "landing" / "a.csv", rows)
    settings = _small_settings(tmp_path)
    pipeline.run(settings)
    whole = _kept(settings)  # one batch of 11 texts
    with open_warehouse(settings.paths.warehouse) as con:
        con.execute("update staging_state set version = 'another' where model = 'text_signatures'")
        monkeypatch.setattr(texts, "BATCH_TEXTS", batch)
        monkeypatch.setattr(texts, "KEEP_TEXTS", keep)
        assert texts.update_signatures(con, settings) == 11
    assert _kept(settings) == whole and len(whole["text_signatures"]) == 11
    assert sorted(r[1] for r in whole["text_signatures"]) == list(range(1, 12))
