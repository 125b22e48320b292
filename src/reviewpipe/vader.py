"""vaderSentiment 3.3.2's scores without its repeated work: the same four numbers, in linear time.

vaderSentiment's `polarity_scores` lower-cases the whole token list again inside its negation, idiom
and "but" checks, once per token (and copies the text character by character to replace emojis), so
its cost grows with the square of a review's length. `FastAnalyzer` is a subclass that tokenizes and
lower-cases each text once, visits only the tokens that can carry a valence (lexicon words; every
other token scores 0), and runs the very same rules over them; where vaderSentiment's rules have
quirks, they are kept (the "but" rule scales the first token *equal* to each token, as `list.index`
does; a lone "no" before a lexicon word; and so on). `scores_with_sentences` also scores each
sentence of a text from the text's own tokens, for the sentence measures.

It uses vaderSentiment's lexicons, constants, `scalar_inc_dec` and `normalize`. Its results are
held to vaderSentiment's exact four values (==, not approximately) on every text of the real
corpora and on every sentence of them (tests/test_acceptance_vader.py), and on generated texts
made of the tokens every rule looks for (tests/test_sentiment.py).
"""

from __future__ import annotations

import math
import string
from bisect import bisect_left, insort
from collections import defaultdict

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
    scalar_inc_dec,
)

_NEGATE = frozenset(NEGATE)
_PUNCTUATION = string.punctuation
_amplify_ep = SentimentIntensityAnalyzer._amplify_ep
_amplify_qm = SentimentIntensityAnalyzer._amplify_qm


def _negated(word_lower: str) -> bool:
    """vaderSentiment's `negated([word])` for one word already lower-cased."""
    return word_lower in _NEGATE or "n't" in word_lower


class FastAnalyzer(SentimentIntensityAnalyzer):
    """vaderSentiment 3.3.2's SentimentIntensityAnalyzer, scoring each text in time linear in its length."""

    def __init__(self) -> None:
        super().__init__()
        # the original replaces only single characters that are emoji keys
        self._emoji_chars = frozenset(e for e in self.emojis if len(e) == 1)
        # tokens that can carry a valence: lexicon words except boosters (those score 0)
        self._valued = frozenset(w for w in self.lexicon if w not in BOOSTER_DICT)

    def polarity_scores(self, text: str) -> dict[str, float]:
        text = self._prepare(text)
        raw = text.split()
        words, lower = _tokens(raw)
        return self._score(text, words, lower, self._hits(lower))

    def scores_with_sentences(self, text: str, sentences: list[str]) -> tuple[dict[str, float], list[float]]:
        """polarity_scores(text), and polarity_scores(s)["compound"] for each sentence s of the text.

        The sentences must be pieces of the text cut at whitespace (as sentiment.sentences cuts them);
        then their tokens are the text's, tokenized and lower-cased once. Otherwise (or when the text
        holds an emoji) each sentence is scored on its own.
        """
        prepared = self._prepare(text)
        raw = prepared.split()
        words, lower = _tokens(raw)
        hits = self._hits(lower)
        whole = self._score(prepared, words, lower, hits)
        if prepared != text.strip():  # an emoji was replaced: the sentences are not its pieces
            return whole, [self.polarity_scores(s)["compound"] for s in sentences]
        compounds = []
        for sentence, span in zip(sentences, _token_spans(sentences, raw), strict=True):
            if span is None:  # the sentence cuts a token ("it.Not"): scored on its own
                compounds.append(self.polarity_scores(sentence)["compound"])
                continue
            start, end = span
            inside = hits[bisect_left(hits, start):bisect_left(hits, end)]
            scores = self._score(sentence.strip(), words[start:end], lower[start:end],
                                 [h - start for h in inside])
            compounds.append(scores["compound"])
        return whole, compounds

    def _prepare(self, text: str) -> str:
        """The original's emoji replacement (only for texts holding one), then strip."""
        if self._emoji_chars.isdisjoint(text):
            return text.strip()
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
        return "".join(out).strip()

    def _hits(self, lower: list[str]) -> list[int]:
        valued = self._valued
        return [i for i, w in enumerate(lower) if w in valued]

    def _score(self, text: str, words: list[str], lower: list[str], hits: list[int]) -> dict[str, float]:
        """The original's token loop, "but" rule and score_valence, visiting only valued tokens.

        Every other token has valence 0 in the original too; zeros change no sum, so only the
        non-zero valences are kept (with their positions, for the "but" rule) and the zeros counted.
        """
        n = len(words)
        if n == 0:
            return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
        upper = sum(map(str.isupper, words))
        is_cap_diff = 0 < n - upper < n
        positions: list[int] = []
        values: list[float] = []
        for i in hits:
            if lower[i] == "kind" and i < n - 1 and lower[i + 1] == "of":
                continue
            valence = self._valence(words, lower, i, is_cap_diff)
            if valence:
                positions.append(i)
                values.append(valence)
        if values and "but" in lower:
            _but_check(lower.index("but"), positions, values)
        return _score_valence(values, n, text)

    def _valence(self, words: list[str], lower: list[str], i: int, is_cap_diff: bool) -> float:
        """vaderSentiment's sentiment_valence for a lexicon token i, over the lower-cased tokens."""
        lexicon = self.lexicon
        item_lowercase = lower[i]
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
        for start_i in range(3):
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


def _token_spans(sentences: list[str], raw: list[str]) -> list[tuple[int, int] | None]:
    """For each sentence, the span [start, end) of the text's whitespace tokens it is made of, or None
    when a sentence end cuts one of its tokens ("it.Not" split after "it."). All None when the
    sentences are not the text's pieces at all."""
    spans: list[tuple[int, int] | None] = []
    ptr = off = 0  # the token being consumed, and how many of its characters are consumed
    for sentence in sentences:
        start, whole_tokens = ptr, off == 0
        for token in sentence.split():
            if ptr >= len(raw):
                return [None] * len(sentences)
            if off == 0 and token == raw[ptr]:
                ptr += 1
            elif raw[ptr].startswith(token, off):
                off += len(token)
                whole_tokens = False
                if off == len(raw[ptr]):
                    ptr, off = ptr + 1, 0
            else:
                return [None] * len(sentences)
        spans.append((start, ptr) if whole_tokens and off == 0 else None)
    return spans if ptr == len(raw) else [None] * len(sentences)


def _tokens(raw: list[str]) -> tuple[list[str], list[str]]:
    """SentiText's words_and_emoticons (punctuation stripped unless that leaves 2 characters or
    fewer) and the same lower-cased."""
    words = [w if len(s := w.strip(_PUNCTUATION)) <= 2 else s for w in raw]
    return words, [w.lower() for w in words]


def _score_valence(values: list[float], n: int, text: str) -> dict[str, float]:
    """vaderSentiment's score_valence for n tokens whose non-zero valences are `values`, in order."""
    sum_s = float(sum(values))
    punct_emph_amplifier = _amplify_ep(text) + _amplify_qm(text)
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    compound = normalize(sum_s)
    pos_sum = 0.0
    neg_sum = 0.0
    for sentiment_score in values:
        if sentiment_score > 0:
            pos_sum += (float(sentiment_score) + 1)
        if sentiment_score < 0:
            neg_sum += (float(sentiment_score) - 1)
    neu_count = n - len(values)
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct_emph_amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct_emph_amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {"neg": round(math.fabs(neg_sum / total), 3), "neu": round(math.fabs(neu_count / total), 3),
            "pos": round(math.fabs(pos_sum / total), 3), "compound": round(compound, 4)}


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


def _but_check(bi: int, positions: list[int], values: list[float]) -> None:
    """vaderSentiment's _but_check, exactly, on the non-zero valences, in O(n log n) not O(n²).

    The original walks the list and, for each value, scales the *first* position holding an equal
    value (`sentiments.index(value)`): by 0.5 before the first "but", by 1.5 after it, not at it.
    Zeros stay zeros (0 scaled is 0), so only the non-zero valences take part: per value, the sorted
    indexes (into `values`) that currently hold it, so each lookup is a dict access. A value is
    never changed before its turn: lookups only reach back.
    """
    holding: defaultdict[float, list[int]] = defaultdict(list)
    for k, value in enumerate(values):
        holding[value].append(k)
    for k in range(len(values)):
        sentiment = values[k]
        j = holding[sentiment][0]
        si = positions[j]
        if si == bi:
            continue
        scaled = sentiment * 0.5 if si < bi else sentiment * 1.5
        old = holding[values[j]]
        old.pop(0)
        if not old:
            del holding[values[j]]
        values[j] = scaled
        insort(holding[scaled], j)
