"""vaderSentiment 3.3.2's scores without its repeated work: the same four numbers, in linear time.

vaderSentiment's `polarity_scores` lower-cases the whole token list again inside its negation, idiom
and "but" checks, once per token (and copies the text character by character to replace emojis), so
its cost grows with the square of a review's length: about 85% of the time on real IMDb reviews.
`FastAnalyzer` is a subclass that lower-cases each text's tokens once and runs the very same rules
over that list; where vaderSentiment's rules have quirks, they are kept (the "but" rule scales the
first token *equal* to each token, as `list.index` does; a lone "no" before a lexicon word, and
so on). `tests/test_acceptance_vader.py` holds it to vaderSentiment's exact four values on every
text of the real corpora.

Only `polarity_scores` and the per-token helpers it calls are replaced; the tokenizer (`SentiText`),
the lexicons, `scalar_inc_dec` and the scoring (`score_valence`) are vaderSentiment's own.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
    scalar_inc_dec,
)

_NEGATE = frozenset(NEGATE)


def _negated(word_lower: str) -> bool:
    """vaderSentiment's `negated([word])` for one word already lower-cased."""
    return word_lower in _NEGATE or "n't" in word_lower


class FastAnalyzer(SentimentIntensityAnalyzer):
    """vaderSentiment 3.3.2's SentimentIntensityAnalyzer, scoring each text in time linear in its length."""

    def __init__(self) -> None:
        super().__init__()
        # the original replaces only single characters that are emoji keys
        self._emoji_chars = frozenset(e for e in self.emojis if len(e) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            text = self._replace_emojis(text)
        text = text.strip()
        sentitext = SentiText(text)
        words = sentitext.words_and_emoticons
        lower = [w.lower() for w in words]
        n = len(words)
        lexicon = self.lexicon
        sentiments: list[float] = []
        for i in range(n):
            # check for vader_lexicon words that may be used as modifiers or negations
            # not in the lexicon: valence 0 (the original finds that out after the checks below)
            if lower[i] not in lexicon or lower[i] in BOOSTER_DICT:
                sentiments.append(0)
                continue
            if i < n - 1 and lower[i] == "kind" and lower[i + 1] == "of":
                sentiments.append(0)
                continue
            sentiments.append(self._valence(words, lower, i, sentitext.is_cap_diff))
        sentiments = _but_check(lower, sentiments)
        return self.score_valence(sentiments, text)

    def _replace_emojis(self, text: str) -> str:
        """The original's emoji replacement, character by character (only texts holding an emoji)."""
        out: list[str] = []
        prev_space = True
        for ch in text:
            if ch in self.emojis:
                if not prev_space:
                    out.append(" ")
                out.append(self.emojis[ch])
                prev_space = False
            else:
                out.append(ch)
                prev_space = ch == " "
        return "".join(out)

    def _valence(self, words: list[str], lower: list[str], i: int, is_cap_diff: bool) -> float:
        """vaderSentiment's sentiment_valence for token i, over the lower-cased tokens."""
        lexicon = self.lexicon
        item_lowercase = lower[i]
        valence: float = 0
        if item_lowercase not in lexicon:
            return valence
        valence = lexicon[item_lowercase]
        if item_lowercase == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") \
           or (i > 1 and lower[i - 2] == "no") \
           or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"]):
            valence = lexicon[item_lowercase] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(0, 3):
            if i > start_i and lower[i - (start_i + 1)] not in lexicon:
                s = scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lower, start_i, i)
                if start_i == 2:
                    valence = _special_idioms_check(valence, lower, i)
        return self._least(valence, lower, i)

    def _least(self, valence: float, lower: list[str], i: int) -> float:
        """vaderSentiment's _least_check over the lower-cased tokens."""
        if i > 1 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    """vaderSentiment's _negation_check over the lower-cased tokens."""
    if start_i == 0:
        if _negated(lower[i - (start_i + 1)]):
            valence = valence * N_SCALAR
    if start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            valence = valence
        elif _negated(lower[i - (start_i + 1)]):
            valence = valence * N_SCALAR
    if start_i == 2:
        if lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this") or \
                (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            valence = valence
        elif _negated(lower[i - (start_i + 1)]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    """vaderSentiment's _special_idioms_check over the lower-cased tokens."""
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _but_check(lower: list[str], sentiments: list[float]) -> list[float]:
    """vaderSentiment's _but_check, exactly, in O(n log n) instead of O(n²).

    The original walks the list and, for each value, scales the *first* position holding an equal
    value (`sentiments.index(value)`): by 0.5 before the first "but", by 1.5 after it, not at it. This
    keeps, per value, the sorted positions that currently hold it, so each lookup is a dict access.
    """
    if "but" not in lower:
        return sentiments
    bi = lower.index("but")
    positions: defaultdict[float, list[int]] = defaultdict(list)
    for k, value in enumerate(sentiments):
        positions[value].append(k)  # appended in order: sorted
    for k in range(len(sentiments)):
        sentiment = sentiments[k]  # never changed before its turn: lookups only reach back
        if sentiment == 0:
            continue  # 0 scaled is 0: the original changes nothing but int 0 into float 0.0
        si = positions[sentiment][0]
        if si == bi:
            continue
        scaled = sentiment * 0.5 if si < bi else sentiment * 1.5
        positions[sentiments[si]].pop(0)
        if not positions[sentiments[si]]:
            del positions[sentiments[si]]
        sentiments[si] = scaled
        insort(positions[scaled], si)
    return sentiments
