"""The literal strings that any match of a regular expression holds: a prefilter for the disclosure
patterns. One pass of an alternation of every pattern's strings finds the texts that hold one (the
regex engine's literal search); the patterns then run on those texts alone, not on every text (15
passes of the regex engine over every text were most of the disclosures' cost; texts.disclosures).

A pattern is read with Python's own parser (re._parser, the syntax [trust] disclosure_patterns are
written in). The strings found for it are a set such that every match of the pattern holds one of
them as a substring: a run of literal characters (an alternation of literals multiplies out, up to
MAX_STRINGS strings), or what a group, an alternation or a repetition of at least one requires.
Anything else (a character class, a look-around, a back-reference, case-insensitive matching) ends
a run and requires nothing, so the set is never wrong, only sometimes absent: then the pattern runs
on every text, as before.
"""

from __future__ import annotations

import re
from functools import cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# The most strings a run of literals multiplies out to ("in (exchange|return) for (my|an|a|this)"
# is 8); past it the run is cut there.
MAX_STRINGS = 64

Item = tuple[Any, Any]


@cache
def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` (Python `re` syntax) holds, the rarest-looking
    such set found (its shortest string longest); None when none is known (the pattern must run on
    every text). The empty string is never in it."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = _required(list(parsed))
    return frozenset(found) if found else None


def _required(items: list[Item]) -> set[str] | None:
    """Strings one of which any match of the sequence `items` holds: the best of its literal runs'
    strings and of what its parts require."""
    candidates: list[set[str]] = []
    run: set[str] = {""}
    for op, av in items:
        part = _exact(op, av)
        if part is not None:
            joined = {a + b for a in run for b in part}
            if len(joined) <= MAX_STRINGS:
                run = joined
            else:  # the run so far is required; a new one starts with this part
                candidates.append(run)
                run = part
            continue
        candidates.append(run)
        run = {""}
        inner = _required_of(op, av)
        if inner:
            candidates.append(inner)
    candidates.append(run)
    usable = [c for c in candidates if c and "" not in c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(map(len, c)), -len(c)))


def _required_of(op: Any, av: Any) -> set[str] | None:
    """What a part that is not a few literal strings requires: a group's content, every branch of
    an alternation (the union of theirs), a repetition of at least one; nothing else."""
    if op is sre.SUBPATTERN:
        _, add_flags, _, body = av
        return None if add_flags & re.IGNORECASE else _required(list(body))
    if op is sre.BRANCH:
        branches = [_required(list(branch)) for branch in av[1]]
        if any(b is None for b in branches):
            return None
        return set().union(*branches)  # type: ignore[arg-type]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _, body = av
        return _required(list(body)) if low >= 1 else None
    return None


def _exact(op: Any, av: Any) -> set[str] | None:
    """The strings one part matches when they are few and literal (a character, a zero-width
    assertion as "", a group or alternation of such, a class of plain characters); else None."""
    if op is sre.LITERAL:
        return {chr(av)}
    if op is sre.AT:  # ^ $ \b \B: no character
        return {""}
    if op is sre.IN:
        if all(o is sre.LITERAL for o, _ in av) and len(av) <= MAX_STRINGS:
            return {chr(v) for _, v in av}
        return None
    if op is sre.SUBPATTERN:
        _, add_flags, _, body = av
        return None if add_flags & re.IGNORECASE else _exact_sequence(list(body))
    if op is sre.BRANCH:
        strings: set[str] = set()
        for branch in av[1]:
            part = _exact_sequence(list(branch))
            if part is None:
                return None
            strings |= part
        return strings if len(strings) <= MAX_STRINGS else None
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, body = av
        return _exact_sequence(list(body)) if low == high == 1 else None
    return None


def _exact_sequence(items: list[Item]) -> set[str] | None:
    """The strings a sequence of parts matches when each is exact (_exact) and they multiply out to
    at most MAX_STRINGS; else None."""
    strings = {""}
    for op, av in items:
        part = _exact(op, av)
        if part is None:
            return None
        strings = {a + b for a in strings for b in part}
        if len(strings) > MAX_STRINGS:
            return None
    return strings
