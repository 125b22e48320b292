"""Languages through the whole pipeline (issue 24): declared and detected languages, unscored reviews,
the English reviews' figures untouched by others in the mix, and the cache's second step.

Real corpora: the Spanish MARC file (its `language` column is the truth, all "es") and the op_spam
hotel reviews (English by construction); beside them, German reviews written here, 4-5 stars, full
of the English false friends "war", "also", "fast", "die", "bad" that VADER reads as negative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SHARED_DATA, write

from reviewpipe import pipeline, stages
from reviewpipe.settings import Paths, Settings

SPANISH = SHARED_DATA / "amazon_reviews_multi_es" / "dataset_es_dev.json"
HOTELS = SHARED_DATA / "op_spam_deceptive_hotel" / "deceptive-opinion.csv"

pytestmark = pytest.mark.skipif(not SPANISH.exists() or not HOTELS.exists(),
                                reason="needs ../shared/data (amazon_reviews_multi_es, op_spam)")

# 4-5 star German reviews, two or three sentences each; every one holds a false friend
GERMAN = [
    ("de_restaurant", 5, "Das Essen war hervorragend und der Service sehr freundlich. Wir kommen gerne wieder."),
    ("de_restaurant", 4, "Die Pizza war heiß und knusprig, also genau wie in Italien. Die Preise sind fair."),
    ("de_hotel", 5, "Das Hotel liegt direkt am Strand und das Bad war sauber. Die Zimmer sind groß und hell. "
                    "Das Personal war immer hilfsbereit."),
    ("de_hotel", 5, "Das Frühstück war reichhaltig und fast alles war frisch. Das Bad hatte sogar eine "
                    "Badewanne."),
    ("de_film", 5, "Der Film war fast drei Stunden lang, aber keine Minute langweilig. Die Schauspieler "
                   "waren großartig."),
    ("de_app", 4, "Die App funktioniert einwandfrei und war also eine gute Wahl. Fast alle Funktionen "
                  "sind kostenlos."),
    ("de_app", 5, "Die Kopfhörer klingen fantastisch und der Akku hält fast eine Woche. Die Verarbeitung "
                  "war tadellos."),
    ("de_film", 4, "Die Geschichte war spannend und die Musik war also wunderschön. Ich war fast zu Tränen "
                   "gerührt."),
]
# one- and two-word English texts: mostly too short to tell ('und'), the detectors' best guess
# English (the tests read which ones from the cache)
SHORT_ENGLISH = [("app_short", 5, "Good"), ("app_short", 5, "Nice app"), ("app_short", 1, "Useless"),
                 ("app_short", 4, "Great app")]


def _csv(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    lines = ["title_id,rating,review_text"] + [f'{t},{r},"{text}"' for t, r, text in rows]
    return write(path, "\n".join(lines) + "\n")


def _settings(root: Path, sources: list[dict[str, Any]], **sentiment: Any) -> Settings:
    return Settings(
        paths=Paths(warehouse=root / "warehouse.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=sources, sentiment={"workers": 1, **sentiment},
    )


def _spanish(**extra: Any) -> dict[str, Any]:
    # the amazon_reviews_multi preset's columns but its language column: detected, unless `extra`
    # declares a language
    return {"name": "amazon_es", "path": str(SPANISH), "format": "jsonl", "rating_scale": 5,
            "columns": {"review_id": "review_id", "title_id": "product_id", "rating": "stars",
                        "review_text": "review_body"}, **extra}


HOTELS_SOURCE = {"name": "hotels", "path": str(HOTELS), "preset": "op_spam"}


def _rows(settings: Settings, query: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Any]:
    """A mixed run (Spanish undeclared, English hotels, German) and its re-run; the hotels alone; the
    Spanish file declared Spanish."""
    root = tmp_path_factory.mktemp("languages")
    german = _csv(root / "input" / "german.csv", GERMAN)
    mixed = _settings(root / "mixed", [
        HOTELS_SOURCE, _spanish(),
        {"name": "german", "path": str(german), "rating_scale": 5},
    ])
    alone = _settings(root / "alone", [HOTELS_SOURCE])
    declared = _settings(root / "declared", [_spanish(language="es")])
    return {
        "mixed": mixed, "mixed_run": pipeline.run(mixed), "rerun": pipeline.run(mixed),
        "alone": alone, "alone_run": pipeline.run(alone),
        "declared": declared, "declared_run": pipeline.run(declared),
    }


def test_german_reviews_with_false_friends_are_published_unscored(runs) -> None:
    got = _rows(runs["mixed"], "select review_language, language_confidence, sentiment_compound, "
                "sentence_compound_mean, sentiment_score, sentiment_label, sentence_sentiment_label, "
                "rating_sentiment_mismatch from reviews where source = 'german'")
    assert len(got) == len(GERMAN)
    for language, confidence, *scores, label, sentence_label, mismatch in got:
        assert language == "de" and 0.5 <= confidence <= 1
        assert scores == [None, None, None]  # never 0, never "neutral"
        assert mismatch is False  # no score, no disagreement (as for a review without text)
        assert label == sentence_label == "unscored"
    # VADER read these as negative ("war", "bad"): 4-5 stars with negative words would be listed
    assert _rows(runs["mixed"], "select count(*) from agg_rating_sentiment_mismatches "
                 "where title_id like 'de\\_%' escape '\\'") == [(0,)]


@pytest.mark.parametrize("run", ["mixed", "declared"])
def test_spanish_reviews_are_spanish_and_carry_no_score(runs, run: str) -> None:
    settings = runs[run]
    (total, spanish, scored, unscored, confidence), = _rows(settings, """
        select count(*), count(*) filter (where review_language = 'es'),
               count(sentiment_compound) + count(sentence_compound_mean) + count(sentiment_score),
               count(*) filter (where sentiment_label = 'unscored'), count(language_confidence)
        from reviews where source = 'amazon_es'""")
    assert total == 5000
    assert spanish / total >= (1.0 if run == "declared" else 0.98)
    assert scored == 0 and unscored == total
    # declared: no detection stands for the review's language
    assert confidence == (0 if run == "declared" else total)


def test_a_rerun_detects_nothing_again(runs) -> None:
    assert runs["mixed_run"].texts_scored > 6000
    assert 0 < runs["mixed_run"].texts_unscored < runs["mixed_run"].texts_scored
    assert runs["rerun"].texts_scored == 0 and runs["rerun"].texts_unscored == 0


def test_the_english_reviews_figures_are_those_of_a_run_on_them_alone(runs) -> None:
    mixed, alone = runs["mixed"], runs["alone"]
    hotels = "title_id in (select title_id from reviews where source = 'hotels')"
    for table, exclude in [("reviews", ""), ("agg_title_summary", ""), ("agg_sentiment_agreement", ""),
                           ("agg_monthly_trends", ""), ("agg_helpfulness", ""),
                           # read_order ranks the whole list; it holds no other title's review here
                           ("agg_rating_sentiment_mismatches", "")]:
        query = f"select * {exclude} from {table} where {hotels} order by all"
        got, expected = _rows(mixed, query), _rows(alone, query)
        assert got == expected, table
    # the hotels' reviews are scored: English, or too short to tell and taken for English
    scored, total = _rows(alone, "select count(sentiment_compound), count(*) from reviews")[0]
    assert scored / total >= 0.99
    # the per-scale overall agreement: the hotels are the only thumbs-rated reviews in both runs
    overall = "select * from agg_sentiment_agreement where title_id is null and scope = 'overall' order by all"
    assert [r for r in _rows(mixed, overall) if 1 in r] == _rows(alone, overall)


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> dict[str, Any]:
    """A German source and short English texts run with score_undetermined off; then the German source
    declared English and score_undetermined on; then score_undetermined off again."""
    root = tmp_path_factory.mktemp("second_step")
    german = _csv(root / "input" / "german.csv", GERMAN)
    short = _csv(root / "input" / "short.csv", SHORT_ENGLISH)
    sources = [{"name": "german", "path": str(german), "rating_scale": 5},
               {"name": "short", "path": str(short), "rating_scale": 5}]
    query = ("select source, review_language, sentiment_label, sentiment_compound, review_text "
             "from reviews order by source, review_text")
    out: dict[str, Any] = {}
    first = _settings(root, sources, score_undetermined=False)
    out["first"] = (pipeline.run(first), _rows(first, query))
    with duckdb.connect(str(first.warehouse_path), read_only=True) as con:
        # the short texts taken for English though undetermined: score_undetermined scores them
        out["guessed_english"] = {text for text, in con.execute(
            "select review_text from stg_reviews join sentiment_scores using (text_hash) "
            "where source = 'short' and review_language = 'und' and language_guess = 'en'").fetchall()}
    second = _settings(root, [{**sources[0], "language": "en"}, sources[1]], score_undetermined=True)
    out["second"] = (pipeline.run(second), _rows(second, query))
    out["mismatches"] = _rows(second, "select count(*) from agg_rating_sentiment_mismatches")[0][0]
    third = _settings(root, [{**sources[0], "language": "en"}, sources[1]], score_undetermined=False)
    out["third"] = (pipeline.run(third), _rows(third, query))
    out["stage_again"] = stages.score_stage(third)
    return out


def test_short_texts_are_undetermined_and_unscored_unless_score_undetermined(changed) -> None:
    summary, published = changed["first"]
    assert len(changed["guessed_english"]) >= 2  # "Good", "Nice app" at least
    short = [r for r in published if r[0] == "short"]
    # unscored unless detected English outright
    assert all((r[2] == "unscored" and r[3] is None) == (r[1] != "en") for r in short)
    assert {r[4] for r in short if r[1] == "und"} >= changed["guessed_english"]
    english = sum(r[1] == "en" for r in short)
    assert summary.texts_scored == len(GERMAN) + len(SHORT_ENGLISH)
    assert summary.texts_unscored == summary.texts_scored - english


def test_a_newly_declared_language_and_score_undetermined_do_the_cached_texts_again(changed) -> None:
    summary, published = changed["second"]
    # the cached texts needed in English now are done again, and scored: the German ones declared
    # so, the short ones taken for English (score_undetermined); none was scored before
    redone = len(GERMAN) + len(changed["guessed_english"])
    assert summary.texts_scored == redone and summary.texts_unscored == 0
    german = [r for r in published if r[0] == "german"]
    assert {r[1] for r in german} == {"en"}  # declared wins over detected
    assert all(r[3] is not None and r[2] in ("positive", "negative", "neutral") for r in german)
    short = {r[4]: r for r in published if r[0] == "short"}
    for text, (_, language, label, compound, _) in short.items():
        scored = text in changed["guessed_english"]
        assert (compound is not None) == scored and (label != "unscored") == scored, text
    # read as English, the false friends make 4-5 star reviews "negative": the mismatches the
    # declaration asks for (and that detection spares the undeclared run)
    assert changed["mismatches"] > 0


def test_a_narrowed_rule_publishes_no_stale_score_and_scores_nothing_again(changed) -> None:
    summary, published = changed["third"]
    assert summary.texts_scored == 0  # the cache keeps the English scores; nothing is redone
    assert changed["stage_again"].texts == 0
    assert all(r[2] == "unscored" and r[3] is None for r in published if r[0] == "short")
    assert all(r[3] is not None for r in published if r[0] == "german")  # declared English: scored
