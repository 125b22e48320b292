"""Who is one reviewer: the `reviewer_key` macro (sql/schema/macros.sql) over staged authors and ids.

The documented rule (docs/trust.md, "Who is a reviewer"): the source's reviewer_id, else the author
name unless it is one of [trust] anonymous_names (compared lower-cased), scoped to the source.
Staging hands the macro authors as `clean_line` makes them (whitespace runs one space, ends
trimmed, an empty name null) and ids as `clean_key` does (ends trimmed, empty null), so the
property is stated on names as a file gives them: two reviews are one reviewer exactly when the
rule, applied to the cleaned values, says so. A name is otherwise kept as written: "John" and
"john" are two reviewers (a site shows names as their owners typed them), and so are the composed
and decomposed "José" (two byte strings; no source here writes both).
"""

from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.settings import ANONYMOUS_NAMES
from reviewpipe.warehouse import connect

ANONYMOUS = list(ANONYMOUS_NAMES)
# staging's whitespace: what clean_line collapses (RE2's \s) and what clean_key trims
SPACES = " \t\n\r\f"


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return connect()  # an in-memory DuckDB with the staging macros


def _clean_line(name: str | None) -> str | None:
    """The documented clean_line on a name without entities: whitespace runs one space, trimmed, '' null."""
    if name is None:
        return None
    return re.sub(r"[ \t\n\r\f]+", " ", name).strip(" ") or None


def _clean_key(key: str | None) -> str | None:
    return None if key is None else key.strip(SPACES + "\v") or None


def expected(source: str, reviewer_id: str | None, author: str | None) -> tuple | None:
    """The rule in Python: who wrote the review, None when nobody known."""
    rid, name = _clean_key(reviewer_id), _clean_line(author)
    if rid is not None:
        return (source, "id", rid)
    if name is not None and name.lower() not in ANONYMOUS:
        return (source, "name", name)
    return None


def _spaced(draw: st.DrawFn, words: list[str]) -> str:
    """words joined and surrounded by runs of staging's whitespace."""
    gap = st.text(alphabet=SPACES, min_size=1, max_size=3)
    end = st.text(alphabet=SPACES, max_size=2)
    return draw(end) + draw(gap).join(words) + draw(end)


@st.composite
def names(draw: st.DrawFn) -> str | None:
    """A name from one of the classes a source gives: none, blank, an anonymous name in any case and
    spacing, a person's name in any case and spacing, names in other scripts and normal forms."""
    kind = draw(st.sampled_from(["none", "blank", "anonymous", "person", "unicode", "any"]))
    if kind == "none":
        return None
    if kind == "blank":
        return draw(st.text(alphabet=SPACES, max_size=4))
    if kind == "anonymous":
        words = draw(st.sampled_from(ANONYMOUS)).split(" ")
        words = [draw(st.sampled_from([w, w.upper(), w.capitalize()])) for w in words]
        return _spaced(draw, words)
    if kind == "person":
        words = draw(st.lists(st.sampled_from(["john", "John", "JOHN", "a", "A", "Customer", "amazon",
                                               "smith", "J."]), min_size=1, max_size=3))
        return _spaced(draw, words)
    if kind == "unicode":
        words = draw(st.lists(st.sampled_from(["José", "Jose\u0301", "JOSÉ", "Zoë", "Łukasz", "Дмитрий",
                                               "дмитрий", "李雷", "🎬fan", "Amazon\u00a0Customer"]),
                              min_size=1, max_size=2))
        return _spaced(draw, words)
    return draw(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="&\v"),
                        max_size=12))


ids = st.one_of(st.none(), st.sampled_from(["", "  ", "U1", " U1", "U1\t", "u1", "U2"]))
reviews = st.tuples(st.sampled_from(["yelp", "imdb"]), ids, names())


def _keys(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> list[str | None]:
    """reviewer_key of each (source, reviewer_id, author) after staging's cleaning, by DuckDB."""
    return [r[0] for r in con.execute(
        "select reviewer_key(source, clean_key(reviewer_id), clean_line(author), $anonymous) "
        "from (select unnest($sources) as source, unnest($ids) as reviewer_id, unnest($authors) as author, "
        "generate_subscripts($sources, 1) as i) order by i",
        {"sources": [s for s, _, _ in rows], "ids": [i for _, i, _ in rows],
         "authors": [a for _, _, a in rows], "anonymous": ANONYMOUS}).fetchall()]


@settings(max_examples=300, deadline=None)
@given(a=reviews, b=reviews)
def test_two_reviews_are_one_reviewer_exactly_when_the_rule_says(con: duckdb.DuckDBPyConnection,
                                                                  a: tuple, b: tuple) -> None:
    key_a, key_b = _keys(con, [a, b])
    want_a, want_b = expected(*a), expected(*b)
    # nobody known exactly when the rule knows nobody
    assert (key_a is None) == (want_a is None), (a, key_a)
    assert (key_b is None) == (want_b is None), (b, key_b)
    # one reviewer exactly when the rule says so (an unknown reviewer is nobody's: never one with another)
    same = key_a is not None and key_a == key_b
    assert same == (want_a is not None and want_a == want_b), (a, b, key_a, key_b)


@pytest.mark.parametrize(("a", "b", "one"), [
    # anonymous names are nobody, in any case and spacing
    (("yelp", None, "Amazon Customer"), ("yelp", None, "amazon  customer"), False),
    (("yelp", None, " A Customer\t"), ("yelp", None, "A CUSTOMER"), False),
    # whitespace is staging's: runs are one space, ends go
    (("yelp", None, "John  Smith "), ("yelp", None, "John\tSmith"), True),
    # case is the name's own
    (("yelp", None, "John"), ("yelp", None, "john"), False),
    # an id decides, whatever the names say; ids are the source's (no case folding), trimmed
    (("yelp", "U1", "Amazon Customer"), ("yelp", " U1 ", "someone else"), True),
    (("yelp", "U1", "John"), ("yelp", "u1", "John"), False),
    # an id and a name are never one reviewer, nor two sources' ids
    (("yelp", "John", None), ("yelp", None, "John"), False),
    (("yelp", "U1", None), ("imdb", "U1", None), False),
    # blank is nobody
    (("yelp", None, "  "), ("yelp", None, ""), False),
    # a no-break space is not staging's whitespace: "Amazon\u00a0Customer" is a name, not anonymous
    (("yelp", None, "Amazon\u00a0Customer"), ("yelp", None, "Amazon\u00a0Customer"), True),
])
def test_named_cases(con: duckdb.DuckDBPyConnection, a: tuple, b: tuple, one: bool) -> None:
    key_a, key_b = _keys(con, [a, b])
    assert (key_a is not None and key_a == key_b) == one, (key_a, key_b)
