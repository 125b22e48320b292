"""reviewpipe.trust.literals: the strings every match of a pattern holds, the disclosures' prefilter.

The property that matters: a text a pattern matches always holds one of the pattern's required
strings (else the prefilter would hide a disclosure). Held on generated patterns of every construct
the parser gives (literals, classes, alternations, groups, repetitions, anchors, look-arounds,
case-insensitive groups) and generated texts made of their pieces, and on the shipped patterns.
"""

from __future__ import annotations

import re

import hypothesis
import hypothesis.strategies as st
import polars as pl

from reviewpipe.settings import DISCLOSURE_PATTERNS
from reviewpipe.trust import literals, texts
from tests.test_trust_texts import first_disclosure

PIECES = ["ab", "free", "x", "a", "b", " ", ".", "Ab", "review"]

# literals most often (they make required strings), then the constructs that must end a run
leaves = st.one_of(st.sampled_from([re.escape(p) for p in PIECES]), st.sampled_from(
    [".", "[ab]", "[^a]", r"\b", "^", "$", r"\w", "[.]", r"\d", "a|b", "[a-c]", r"\s"]))
QUANTIFIERS = ["?", "*", "+", "{2}", "{0,3}", "{1,2}", "??", "+?", "{0}", "{1}", "*+"]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    concatenation = st.lists(children, min_size=1, max_size=4).map("".join)
    alternation = st.lists(children, min_size=2, max_size=3).map(lambda parts: "(" + "|".join(parts) + ")")
    repetition = st.tuples(children, st.sampled_from(QUANTIFIERS)).map(lambda c: f"(?:{c[0]}){c[1]}")
    return st.one_of(
        concatenation, alternation, repetition, concatenation, alternation, repetition,
        children.map(lambda c: f"({c})"), children.map(lambda c: f"(?:{c}|)"),
        children.map(lambda c: f"(?i:{c})"), children.map(lambda c: f"(?={c})"), children.map(lambda c: f"(?!{c})"),
    )


patterns = st.recursive(leaves, _combine, max_leaves=12)
texts_of_pieces = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
CHECKED: list[int] = []


def test_a_text_a_pattern_matches_holds_one_of_its_required_strings() -> None:
    _holds()
    # the property was checked on many matching texts with a prefilter, not vacuously
    assert len(CHECKED) > 100, len(CHECKED)


@hypothesis.settings(derandomize=True, max_examples=1500, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.filter_too_much, hypothesis.HealthCheck.too_slow])
@hypothesis.given(pattern=patterns, data=st.data())
def _holds(pattern: str, data: st.DataObject) -> None:
    """Texts the pattern matches (hypothesis' from_regex: a match with anything around it), and
    texts of the pieces (which may match too)."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        hypothesis.reject()
    required = literals.required_literals(pattern)
    if required is None:
        return
    assert "" not in required
    try:
        matching = data.draw(st.from_regex(compiled))
    except (hypothesis.errors.InvalidArgument, hypothesis.errors.Unsatisfiable):
        matching = ""
    for text in (matching, data.draw(texts_of_pieces)):
        if compiled.search(text):
            CHECKED.append(1)
            assert any(s in text for s in required), (pattern, text, required)


def test_the_literals_of_hand_picked_patterns_hold_in_their_matches() -> None:
    # constructs whose required strings are easy to get wrong: an optional or empty branch, a
    # repetition that may be zero, a class, a look-ahead, a case-insensitive group, a wildcard
    for pattern, text in (("(?:free)?", ""), ("a(?:b|)c", "ac"), ("(?:ab){0,2}x", "x"), ("x[^a]y", "xby"),
                          ("(?!free)x", "x"), ("fr(?i:EE)", "frEE"), ("re.iew", "review"), ("a*b", "b")):
        assert re.search(pattern, text)
        required = literals.required_literals(pattern)
        assert required is None or any(s in text for s in required), (pattern, required)


def test_the_shipped_patterns_each_require_strings_and_a_disclosure_holds_them() -> None:
    # every shipped pattern has a prefilter (else it runs on every text, as before, only slower)
    for pattern in DISCLOSURE_PATTERNS:
        required = literals.required_literals(pattern)
        assert required, pattern
    # the strings of a pattern are what its matches hold: "in exchange for my honest review"
    assert literals.required_literals(r"\bin (exchange|return) for\b") == {"in exchange for", "in return for"}
    # an optional part requires nothing, a repeated one what it holds; a case-insensitive pattern
    # or one of classes alone has no prefilter
    assert literals.required_literals(r"(free )?sample") == {"sample"}
    # (of two required parts, the one whose shortest string is longest: rarer in texts)
    assert literals.required_literals(r"(?:vine )+kit") == {"vine "}
    assert literals.required_literals(r"(?i)free") is None
    assert literals.required_literals(r"[a-z]+\d") is None


@hypothesis.settings(derandomize=True, max_examples=200, deadline=None)
@hypothesis.given(batch=st.lists(st.lists(st.sampled_from(
    ["i", "received", "this", "product", "free", "in", "exchange", "for", "my", "honest", "review", "a",
     "discount", "the", "company", "sent", "me", "vine", "voice", "Free", ".", "purposes", "testing",
     "and", "at", "no", "cost", "to", "try", "provided", "was", "by", "seller"]), max_size=25).map(" ".join),
    max_size=20))
def test_the_prefiltered_disclosures_are_each_texts_first_match_by_python_re(batch: list[str]) -> None:
    """disclosures (prefiltered) against the plain rule, text by text with Python's re: the first
    pattern that matches the lower-cased text, and what it matched."""
    found = texts.disclosures(pl.Series(batch, dtype=pl.String), list(DISCLOSURE_PATTERNS))
    assert found.to_list() == [first_disclosure(t) for t in batch]
