"""reviewpipe.vader's tokenizer sees text as Python does, and its scores are vaderSentiment's.

The frame scorer splits, strips, lower-cases and tests ALL CAPS with Polars (Rust's Unicode tables);
vaderSentiment does it with Python's str methods (Python 3.11: Unicode 14). These tests check every
code point, so a newer Polars that sees more characters differently fails here, not in a report.
"""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

from reviewpipe import vader

VADER = SentimentIntensityAnalyzer()
CODE_POINTS = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def expected(text: str) -> tuple[float, float, float, float]:
    scores = VADER.polarity_scores(text)
    return scores["compound"], scores["pos"], scores["neu"], scores["neg"]


def test_texts_split_at_exactly_pythons_whitespace() -> None:
    # only texts with a character outside printable ASCII are prepared: every emoji is one
    assert pl.Series([e for e in VADER.emojis if len(e) == 1]).str.contains(vader.UNUSUAL).all()
    # every code point but the emoji (those become their descriptions)
    points = [c for c in CODE_POINTS if c not in VADER.emojis]
    texts = pl.Series([f"a{c}b" for c in points])
    unusual = texts.str.contains(vader.UNUSUAL).arg_true()
    assert len(unusual) == len(points) - 95  # all but printable ASCII
    tokens = vader._split(vader._prepared(texts, unusual)).to_list()
    assert [c for c, t in zip(points, tokens, strict=True) if t != f"a{c}b".split()] == []
    assert sum(len(t) == 2 for t in tokens) == 29  # \t..\r, \x1c..\x1f, space, \x85, \xa0, 18 more


def test_case_differs_from_python_only_on_the_characters_sent_to_vadersentiment() -> None:
    """lower() and isupper() of each code point alone and after "A" and "a" (a word's ALL CAPS
    test depends on every character in it): where Polars and Python disagree, the character is in
    UNICODE_DIFFERENCES."""
    differing = set()
    for prefix in ("", "A", "a"):
        words = [prefix + c for c in CODE_POINTS]
        series = pl.Series(words)
        caps = series.str.contains(vader.ALL_CAPS).to_list()
        lower = series.str.to_lowercase().to_list()
        differing |= {
            word[-1]
            for word, is_caps, low in zip(words, caps, lower, strict=True)
            if is_caps != word.isupper() or low != word.lower()
        }
    listed = pl.Series(CODE_POINTS).str.contains(vader.UNICODE_DIFFERENCES).to_list()
    assert differing <= {c for c, odd in zip(CODE_POINTS, listed, strict=True) if odd}
    assert len(differing) > 0  # the two Unicode versions really differ: the guard is needed


def test_a_text_holding_such_a_character_gets_vadersentiments_scores(monkeypatch) -> None:
    # Python 3.11 sees "XY\u10fc" as ALL CAPS, Polars does not: that decides whether "GOOD" is
    # emphasised as the one word in capitals
    texts = ["GOOD XY\u10fc", "I love it", "\U00010d50 NOT good", "awful"]
    assert vader.polarity_scores(texts) == [expected(t) for t in texts]
    monkeypatch.setattr(vader, "UNICODE_DIFFERENCES", r"[^\s\S]")  # the guard matching nothing
    assert vader.polarity_scores(texts[:1]) != [expected(texts[0])]


def test_the_but_rule_scales_the_first_equal_valence_as_vadersentiment_does() -> None:
    """In "good kind but good ok", scaling each valence in place would give another score:
    vaderSentiment finds each valence by value, and "ok" (1.2) after "but" equals "kind" (2.4)
    already halved, so "kind" is halved again and "ok" not scaled at all."""
    texts = ["good kind but good ok", "good not but ok nice", "good but bad", "GOOD but good good"]
    scores = vader.polarity_scores(texts)
    assert scores == [expected(t) for t in texts]
    good, kind, ok = (VADER.lexicon[w] for w in ("good", "kind", "ok"))
    in_place = good * 0.5 + kind * 0.5 + good * 1.5 + ok * 1.5
    quirk = good * 0.5 + kind * 0.5 * 0.5 + good * 1.5 + ok
    assert scores[0][0] == round(normalize(quirk), 4) != round(normalize(in_place), 4)


# valences drawn from few values and their halves, so that many equal one already scaled (the
# case where vaderSentiment's list.index finds another position than the one scaled in place)
_VALENCE = st.sampled_from([1.9, 0.95, 2.85, -1.5, -0.75, -2.25, 3.1, 1.2, 2.4])
_VALENCES = st.one_of(st.lists(_VALENCE, max_size=vader._SCANNED_VALENCES),
                      st.lists(_VALENCE, min_size=vader._SCANNED_VALENCES + 1,
                               max_size=2 * vader._SCANNED_VALENCES))


@settings(max_examples=200, deadline=None)
@given(values=_VALENCES, rnd=st.randoms(use_true_random=False))
def test_the_but_check_is_vadersentiments_for_few_and_many_valences(values: list[float], rnd: random.Random) -> None:
    """Both ways _but_check finds a valence (list.index for a review's few, an index of the values for
    more than _SCANNED_VALENCES) scale exactly the positions vaderSentiment's _but_check scales."""
    # tokens: each valence at a position of its own, the "but" anywhere, zeros (neutral words) between
    positions = sorted(rnd.sample(range(3 * len(values) + 3), len(values)))
    words = ["x"] * (3 * len(values) + 4)
    bi = rnd.randrange(len(words))
    words[bi] = "but"
    sentiments = [0.0] * len(words)
    for position, value in zip(positions, values):
        sentiments[position] = value
    reference = VADER._but_check(words, sentiments)
    got = list(values)
    vader._but_check(bi, positions, got)
    assert got == [reference[position] for position in positions]
    assert sum(v != 0 for v in reference) == len(values)


# docs of few values and of more than _LONG_DOC (summed alone), with values whose float sums depend
# on the order they are added in
_VALUE = st.floats(-4, 4, allow_nan=False) | st.sampled_from([0.1, 0.2, 0.3, 1e-16, -0.7, 1.9, -2.85])
_DOC_VALUES = (st.lists(_VALUE, min_size=1, max_size=vader._LONG_DOC)
               | st.lists(_VALUE, min_size=vader._LONG_DOC + 1, max_size=2 * vader._LONG_DOC + 3))


@settings(max_examples=150, deadline=None)
@given(docs=st.lists(_DOC_VALUES, min_size=1, max_size=6))
def test_each_docs_sums_add_its_values_in_order_as_python_does(docs: list[list[float]]) -> None:
    """_sums_in_order's sums are Python's, value after value from the first (score_valence's `+=`),
    to the bit, whether a doc is summed with the others or alone (longer than _LONG_DOC)."""
    frame = pl.DataFrame({"doc": [d for d, values in enumerate(docs) for _ in values],
                          "scaled": [v for values in docs for v in values]}, schema={"doc": pl.Int64, "scaled": pl.Float64})
    got = vader._sums_in_order(frame).rows()
    want = []
    for d, values in enumerate(docs):
        total = positive = negative = 0.0
        for v in values:
            total += v
            if v > 0:
                positive += v + 1
            if v < 0:
                negative += v - 1
        want.append((d, total, positive, negative, len(values)))
    assert got == want


def test_empty_batch_blank_texts_and_emoji() -> None:
    assert vader.polarity_scores([]) == []
    texts = ["", "   ", "\n", "😀😀", "bad 💔 day", "x😀y GREAT"]
    assert vader.polarity_scores(texts) == [expected(t) for t in texts]


def test_every_idiom_before_and_after_a_lexicon_word_scores_as_vadersentiment_scores_it() -> None:
    # the n-grams _special_idioms_check looks up, at each distance from the scored word it reaches
    ngrams = [*SPECIAL_CASES, *(k for k in BOOSTER_DICT if " " in k)]
    templates = ["{}", "{} good", "{} is good", "{} is so good", "good {}", "it was bad {} really",
                 "never {} sad", "I love it {}", "we saw a {} here", "{} {}"]
    texts = [t.format(ngram, ngram) for ngram in ngrams for t in templates]
    texts += [t.upper() for t in texts[::3]]
    assert vader.polarity_scores(texts) == [expected(t) for t in texts]


# Arbitrary characters with words the rules look for, so tokens carry odd punctuation, case and
# whitespace next to lexicon words, boosters, negations, "but" and idioms.
_WORDS = st.sampled_from(
    ["good", "GOOD", "bad", "no", "not", "never", "so", "very", "VERY", "but", "kind", "of", "least",
     "at", "the", "bomb", "yeah", "right", "without", "doubt", "sort", "just", "enough", ":)", "!", "?"]
)
_PIECES = st.one_of(_WORDS, st.text(max_size=4), st.sampled_from([" ", "\n", "\t", "\xa0", "\x1c", ",", "."]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=40).map("".join), min_size=1, max_size=6))
def test_any_batch_of_texts_scores_as_vadersentiment_scores_each(texts: list[str]) -> None:
    assert vader.polarity_scores(texts) == [expected(t) for t in texts]


# values whose scaled form lies on or next to a half of the last decimal, where rounding x * 10^d
# in floating point can go the other way than Python's round of x's exact value (0.0005 is a
# little above 1/2000, and 0.0005 * 1000 is 0.5 exactly)
_HALVES = st.builds(lambda k, d, sign, nudge: sign * (k + 0.5) / 10**d + nudge,
                    st.integers(0, 10**4), st.sampled_from([3, 4]), st.sampled_from([1, -1]),
                    st.sampled_from([0.0, 1e-17, -1e-17, 5e-13, -5e-13]))


@settings(max_examples=500, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1, 1), _HALVES.filter(lambda v: abs(v) <= 1)), max_size=40),
       digits=st.sampled_from([3, 4]))
def test_scores_are_rounded_as_pythons_round_rounds_them(values: list[float], digits: int) -> None:
    got = vader.round_like_python(pl.Series(values, dtype=pl.Float64), digits).to_list()
    assert [g.hex() for g in got] == [round(v, digits).hex() for v in values]
