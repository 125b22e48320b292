"""The language detector (reviewpipe.language) and the rule of which reviews are scored
(sentiment.scores_language and its SQL twin, the macro scores_language in sql/schema/macros.sql).

The acceptance tests read the real corpora in ../shared/data (skipped when absent): the Spanish
amazon_reviews_multi_es (its `language` column is the truth) and four corpora that are English by
construction (see their SOURCE.txt). bench/language.py measures the same and more.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe import language, sentiment
from reviewpipe.warehouse import connect, rows

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# German review sentences (written for this test), each with at least one of the words that are
# also English ("war", "also", "fast", "die", "bad"): VADER reads "war" as negative, so a German
# review read as English gets a false score and lands in the mismatch list.
GERMAN = [
    "Das Essen war hervorragend und der Service sehr freundlich.",
    "Das Zimmer war sauber, aber das Bad war leider etwas klein.",
    "Der Film war fast drei Stunden lang und trotzdem nie langweilig.",
    "Die App stürzt fast jeden Tag ab, also bitte endlich reparieren.",
    "Die Lieferung kam schnell und die Verpackung war in Ordnung.",
    "Also ich kann dieses Produkt wirklich jedem empfehlen.",
    "Das Hotel hat ein tolles Bad mit großer Dusche.",
    "Die Schauspieler waren großartig und die Handlung war spannend.",
    "Fast alles an diesem Gerät funktioniert wie beschrieben.",
    "Die Pizza war kalt und der Käse fast verbrannt.",
    "Wir waren mit dem Frühstück sehr zufrieden, also kommen wir wieder.",
    "Das Bad im Hotel war leider schmutzig und roch unangenehm.",
    "Die neue Version der App ist also deutlich schneller als die alte.",
    "Der Akku hält fast eine Woche, das ist super.",
    "Die Musik im Film war wunderschön und hat mich fast zu Tränen gerührt.",
    "Die Kellnerin war sehr nett und hat uns gut beraten.",
    "Der Staubsauger war nach zwei Wochen kaputt, also Finger weg.",
    "Ich habe die Kopfhörer fast jeden Tag benutzt und bin begeistert.",
    "Das Bad war modern, die Betten bequem und die Lage ideal.",
    "Die Suppe war also wirklich das Beste am ganzen Abend.",
    "Nach dem Update ist die App fast nicht mehr zu gebrauchen.",
    "Die Geschichte war vorhersehbar und die Dialoge waren hölzern.",
    "Das Paket war beschädigt, aber die Ware selbst war unversehrt.",
    "Der Kundendienst hat fast eine Woche gebraucht, um zu antworten.",
    "Die Aussicht vom Balkon war atemberaubend, also unbedingt ein Zimmer oben nehmen.",
    "Das Bad war klein, aber die Dusche hatte guten Wasserdruck.",
    "Also ehrlich, die Fortsetzung war viel besser als der erste Teil.",
]

CODE = re.compile(r"[a-z]{2,3}")
# a text as a review system's export may hold it: any characters but lone surrogates (DuckDB's
# VARCHAR is valid UTF-8, so none reaches the detector)
TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


# --- the detector ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_detection_invariants(text: str) -> None:
    found, confidence, guess = language.detect_one(text)
    # a confidence is a probability (the mean of two when the second opinion is taken)
    assert 0.0 <= confidence <= 1.0
    assert CODE.fullmatch(found) or found == language.UNDETERMINED
    assert CODE.fullmatch(guess) or guess == language.UNDETERMINED
    # a language is its own guess; "und" is given only under FLOOR
    if found != language.UNDETERMINED:
        assert guess == found
    else:
        assert confidence < language.FLOOR
    # the same text, the same answer: the cache keeps one detection per distinct text
    assert language.detect([text, text]) == [(found, confidence, guess)] * 2


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\r\n ", "\u00a0\u2003"])
def test_empty_or_blank_text_is_undetermined(text: str) -> None:
    assert language.detect_one(text) == (language.UNDETERMINED, 0.0, language.UNDETERMINED)


def test_prefix_ends_after_a_whole_word() -> None:
    line = "the food was excellent and the service friendly, the room clean"
    cut = language.prefix(line)
    # the first pass reads whole words only, at most PREFIX_CHARS of them
    assert len(cut) <= language.PREFIX_CHARS
    assert line.startswith(cut) and line[len(cut)] == " "
    # one long word is cut where it must be
    assert language.prefix("x" * 100) == "x" * language.PREFIX_CHARS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # long enough for the first pass to be sure
        ("The food was excellent and the service was friendly. We will come back next summer.", "en"),
        ("La comida era excelente y el servicio muy amable. Volveremos el próximo verano.", "es"),
        ("Das Essen war hervorragend und der Service sehr freundlich. Wir kommen wieder.", "de"),
        ("Еда была отличной, а обслуживание очень дружелюбным. Мы обязательно вернёмся.", "ru"),
        # the lite model's labels are ISO 639-1 where the language has one (Hebrew is "iw" in it)
        ("האוכל היה מצוין והשירות היה ידידותי מאוד. נחזור בקיץ הבא בוודאות.", "he"),
    ],
)
def test_plain_reviews_get_their_language(text: str, expected: str) -> None:
    found, confidence, guess = language.detect_one(text)
    assert (found, guess) == (expected, expected)
    assert confidence >= language.FLOOR


def test_german_false_friends_are_never_english_nor_scored() -> None:
    # every review of one to three of the bank's sentences, repeats too (20,439 texts, 0.3 s each
    # case): a random 300 of them once found one sentence twice and another read as English
    # (language.RUNNER_UP); all of them, so that no run depends on which are drawn
    for k in (1, 2, 3):
        for sentences in itertools.product(GERMAN, repeat=k):
            for text in (" ".join(sentences), " ".join(sentences).upper()):  # the detectors read lower case
                found, _, guess = language.detect_one(text)
                assert found != "en", text
                # neither as English nor, undetermined, on an English guess
                assert sentiment.scores_language(None, found, guess, ["en"], True) is None, (found, guess, text)


def test_german_false_friends_are_detected_german() -> None:
    # every sentence of the bank alone: German (short sentences included), never "und"
    assert [language.detect_one(s)[0] for s in GERMAN] == ["de"] * len(GERMAN)


# --- which reviews are scored ---------------------------------------------------------------------

CODES = st.sampled_from(["en", "es", "de", "fr", "ceb", language.UNDETERMINED])


@pytest.fixture(scope="module")
def con():
    c = connect()
    yield c
    c.close()


@settings(max_examples=400, deadline=None)
@given(
    declared=st.none() | st.sampled_from(["en", "es", "de", "fr"]),
    detected=CODES,
    guess=CODES,
    languages=st.lists(st.sampled_from(["en", "es", "de", "fr", "ceb"]), min_size=1, max_size=3, unique=True),
    score_undetermined=st.booleans(),
)
def test_scores_language_in_python_equals_the_sql_macro(
    con, declared: str | None, detected: str, guess: str, languages: list[str], score_undetermined: bool
) -> None:
    python = sentiment.scores_language(declared, detected, guess, languages, score_undetermined)
    [(sql,)] = rows(con, "select scores_language(?, ?, ?, ?::varchar[], ?)",
                    [declared, detected, guess, languages, score_undetermined])
    assert python == sql


@pytest.mark.parametrize(
    ("declared", "detected", "guess", "score_undetermined", "expected"),
    [
        (None, "en", "en", True, "en"),  # detected English: scored as before this issue
        (None, "es", "es", True, None),  # no Spanish analyzer: unscored
        ("en", "es", "es", True, "en"),  # a declared language wins over the detected one
        ("es", "en", "en", True, None),  # ... also when it leaves the review unscored
        (None, "und", "en", True, "en"),  # undetermined, guessed English: scored when allowed
        (None, "und", "en", False, None),
        (None, "und", "de", True, None),  # undetermined, guessed German: never scored
    ],
)
def test_scores_language_cases(
    declared: str | None, detected: str, guess: str, score_undetermined: bool, expected: str | None
) -> None:
    assert sentiment.scores_language(declared, detected, guess, ["en"], score_undetermined) == expected


def test_analyze_batch_scores_only_what_an_analyzer_reads() -> None:
    english = "The food was excellent and the service was very friendly. We will come back."
    spanish = "La comida era excelente y el servicio muy amable. Volveremos sin duda."
    german = "Das Essen war hervorragend und der Service sehr freundlich. Wir kommen wieder."
    out = sentiment.analyze_batch([(english, None), (spanish, None), (german, None), (german, "en")])
    assert [(d[0], code) for d, code, _ in out] == [("en", "en"), ("es", None), ("de", None), ("de", "en")]
    # an English text's scores are exactly score_batch's; an unscored text has none (never zeros)
    [expected] = sentiment.score_batch([english])
    assert out[0][2] == expected
    assert out[1][2] is None and out[2][2] is None
    # a text given a language (declared by its source) is scored in it whatever it is detected as
    assert out[3][2] == sentiment.score_batch([german])[0]


# --- the real corpora -----------------------------------------------------------------------------

real = pytest.mark.skipif(not DATA.is_dir(), reason=f"real corpora not present at {DATA} (see ../shared/data)")


@pytest.fixture(scope="module")
def corpora() -> dict[str, tuple[str, list[str]]]:
    """Each corpus: (its language, its review texts cleaned by the pipeline's clean_text macro)."""
    raw: dict[str, tuple[str, list[str]]] = {}
    with (DATA / "amazon_reviews_multi_es" / "dataset_es_dev.json").open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    # the truth: the file's language column
    assert {r["language"] for r in records} == {"es"}
    raw["amazon_reviews_multi_es"] = ("es", [r["review_body"] for r in records])
    raw["aclimdb_subset"] = ("en", [p.read_text(encoding="utf-8") for p in sorted((DATA / "aclimdb_subset").rglob("*_*.txt"))])
    with (DATA / "yelp_open_dataset" / "review_sample.json").open(encoding="utf-8") as fh:
        raw["yelp_open_dataset"] = ("en", [json.loads(line)["text"] for line in fh if line.strip()])
    for name, path, column in (("amazon_fine_food_sample", "Reviews.csv", "Text"),
                               ("op_spam_deceptive_hotel", "deceptive-opinion.csv", "text")):
        with (DATA / name / path).open(newline="", encoding="utf-8") as fh:
            raw[name] = ("en", [row[column] for row in csv.DictReader(fh)])
    c = connect()
    try:
        out = {}
        for name, (truth, texts) in raw.items():
            cleaned = [t for (t,) in rows(c, "select clean_text(unnest(?::varchar[]))", [texts]) if t]
            out[name] = (truth, cleaned)
        return out
    finally:
        c.close()


@pytest.fixture(scope="module")
def detected(corpora) -> dict[str, list[language.Detection]]:
    return {name: language.detect(texts) for name, (_, texts) in corpora.items()}


@pytest.mark.acceptance
@real
def test_spanish_reviews_are_detected_spanish(corpora, detected) -> None:
    found = detected["amazon_reviews_multi_es"]
    assert len(found) == 5000
    right = sum(1 for d in found if d[0] == "es") / len(found)
    # the issue asks 98%; the detector was tuned to keep 99% (bench/language.py: 99.5%)
    assert right >= 0.99, right
    # no Spanish review is scored by the English analyzer, undetermined ones included
    scored = [d for d in found if sentiment.scores_language(None, d[0], d[2], ["en"], True)]
    assert len(scored) <= 0.001 * len(found), scored[:5]


@pytest.mark.acceptance
@real
def test_english_corpora_are_detected_english(corpora, detected) -> None:
    for name, (truth, _) in corpora.items():
        if truth != "en":
            continue
        found = detected[name]
        # English, or undetermined with an English guess (so still scored): 99.5% at least
        english = sum(1 for d in found if sentiment.scores_language(None, d[0], d[2], ["en"], True) == "en")
        assert english / len(found) >= 0.995, (name, english / len(found))


@pytest.mark.acceptance
@real
def test_the_mix_of_spanish_and_english_gets_the_right_language(corpora, detected) -> None:
    pairs = [(truth, d[0]) for name, (truth, _) in corpora.items() for d in detected[name]]
    right = sum(1 for truth, found in pairs if truth == found) / len(pairs)
    assert len(pairs) > 20_000
    assert right >= 0.98, right


# --- py3langid's model, decompressed once into the cache folder -------------------------------------

def _identifier_slots(identifier) -> dict:
    """Every attribute of a py3langid identifier (it has __slots__, no __dict__)."""
    names = [s for c in type(identifier).__mro__ for s in getattr(c, "__slots__", ())]
    return {name: getattr(identifier, name) for name in names}


def _assert_same_identifier(got, expected) -> None:
    import numpy as np

    mine, theirs = _identifier_slots(got), _identifier_slots(expected)
    assert mine.keys() == theirs.keys() and len(mine) >= 10
    for name, value in theirs.items():
        parts = value if isinstance(value, tuple) else (value,)
        for a, b in zip(mine[name] if isinstance(value, tuple) else (mine[name],), parts, strict=True):
            if isinstance(b, np.ndarray):
                assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
            else:
                assert type(a) is type(b) and a == b, name


@pytest.fixture
def library_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own; the process's identifier loaded afresh before and after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    language._langid.cache_clear()
    yield tmp_path / "cache" / "reviewpipe"
    language._langid.cache_clear()


def test_the_cached_model_is_py3langids_own_and_read_without_decompressing(
        own_cache, library_identifier, monkeypatch) -> None:
    first = language._langid()
    (cached,) = own_cache.glob("py3langid-*.npz")
    assert not list(own_cache.glob(".*.tmp"))  # no temporary file left
    _assert_same_identifier(first, library_identifier)
    # a second process reads the cached copy: decompressing again would fail here
    language._langid.cache_clear()
    monkeypatch.setattr(language, "_decompress", lambda *a: pytest.fail("decompressed again"))
    _assert_same_identifier(language._langid(), library_identifier)
    assert list(own_cache.glob("py3langid-*.npz")) == [cached]


@pytest.mark.parametrize("damage", ["cut", "garbage", "empty"])
def test_a_damaged_cached_model_is_made_again(own_cache, library_identifier, damage) -> None:
    language._langid()
    (cached,) = own_cache.glob("py3langid-*.npz")
    data = cached.read_bytes()
    cached.write_bytes({"cut": data[: len(data) // 2], "garbage": b"not a zip" * 100, "empty": b""}[damage])
    language._langid.cache_clear()
    _assert_same_identifier(language._langid(), library_identifier)
    assert cached.read_bytes() == data


def test_without_a_cache_folder_to_write_the_compressed_model_is_read(
        tmp_path, monkeypatch, library_identifier) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    language._langid.cache_clear()
    try:
        _assert_same_identifier(language._langid(), library_identifier)
    finally:
        language._langid.cache_clear()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=language.SAMPLE_CHARS))
def test_the_cached_model_ranks_every_text_as_py3langid_does(text: str) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    library = _library_identifier_once(MODEL_FILE, LanguageIdentifier)
    assert language._langid().rank(text) == library.rank(text)


@functools.cache
def _library_identifier_once(model_file, identifier_class):
    return identifier_class.from_model_file(model_file, norm_probs=True)


def test_without_a_home_the_compressed_model_is_read(monkeypatch, library_identifier) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    language._langid.cache_clear()
    try:
        _assert_same_identifier(language._langid(), library_identifier)
    finally:
        language._langid.cache_clear()
