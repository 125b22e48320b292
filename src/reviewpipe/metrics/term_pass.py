"""The terms of review_terms as 64-bit hashes, made by a compiled pass over the texts' bytes
(numba), for counting at a million texts: the Polars tokenizer of reviewpipe.metrics.terms takes
0.2-0.4 ms a text (minutes at 1,000,000), this pass 16-18 us a bench text of 151 words on one
thread (13 us with words alone as terms; the trust sketch's pass 9 us), about 17 s of CPU at
1,000,000. Not yet called by a run. Its terms are review_terms' word for word (tests/test_terms.py
holds them to it): the same lower-cased bytes
(terms.ascii_punctuation), a word a run of word bytes (ASCII letters, digits, apostrophes, any
byte of a non-ASCII character) with its end apostrophes off, a clause ended by any byte of
terms.CLAUSE_BREAKS, phrases of 2-3 words within a clause, no stop word alone or at a phrase's
end, each term once a text. A term's hash: its words' hashes (the trust sketch's word hash)
times a multiplier per place, xor-ed (term_hashes gives it for a term's text)."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numba as nb
import numpy as np
import polars as pl

from reviewpipe.metrics import terms
from reviewpipe.trust import compiled as trust_compiled
from reviewpipe.trust import sketch

# Bytes that may be part of a word (an apostrophe only inside one) and bytes that end a clause.
_WORD_BYTE = np.zeros(256, dtype=np.bool_)
_WORD_BYTE[[*range(ord("a"), ord("z") + 1), *range(ord("0"), ord("9") + 1), ord("'"), *range(0x80, 0x100)]] = True
_CLAUSE_BYTE = np.zeros(256, dtype=np.bool_)
_CLAUSE_BYTE[[ord(c) for c in terms.CLAUSE_BREAKS]] = True
_APOSTROPHE = np.uint8(ord("'"))


class TextTerms(NamedTuple):
    """Per text of a batch, its distinct terms: their hashes flat in text order (text k's are
    hashes[offsets[k]:offsets[k + 1]], in the order first met), and each one's words (1 to max_words)."""
    offsets: np.ndarray
    hashes: np.ndarray
    words: np.ndarray


@cache
def stop_hashes() -> np.ndarray:
    """The sorted hashes of terms.STOP_WORDS, as the pass hashes words."""
    return np.sort(sketch.word_hashes(pl.Series(sorted(terms.STOP_WORDS))).to_numpy())


@cache
def _stop_filter() -> np.ndarray:
    """A 2^16-entry table: true at the low 16 bits of each stop word's hash."""
    table = np.zeros(1 << 16, dtype=np.bool_)
    table[(stop_hashes() & np.uint64(0xFFFF)).astype(np.int64)] = True
    return table


def term_hashes(texts: pl.Series) -> pl.Series:
    """The hash the pass gives each term of `texts` (words joined by one space)."""
    words = texts.str.split(" ")
    flat = sketch.word_hashes(words.explode()).to_numpy()
    sizes = words.list.len().to_numpy().astype(np.int64)
    out = np.zeros(sizes.size, dtype=np.uint64)
    owner = np.repeat(np.arange(sizes.size), sizes)
    # each word's place in its term: its index less its term's first word's
    place = np.arange(owner.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    np.bitwise_xor.at(out, owner, flat * sketch.POSITION[place])
    return pl.Series(texts.name, out, dtype=pl.UInt64)


def _bytes(texts: pl.Series, max_words: int) -> tuple[np.ndarray, np.ndarray]:
    """The texts' bytes and offsets as the pass reads them (lower-cased, punctuation made ASCII)."""
    if not 1 <= max_words <= sketch.POSITION.size:  # (a place's multiplier per word)
        raise ValueError(f"max_words must be 1 to {sketch.POSITION.size}, not {max_words}")
    return sketch._utf8(texts.to_frame("t").select(terms.ascii_punctuation(pl.col("t")))["t"])


def text_terms(texts: pl.Series, max_words: int = 3) -> TextTerms:
    """The TextTerms of the texts (raw: lower-cased and their punctuation made ASCII here)."""
    values, offsets = _bytes(texts, max_words)
    return TextTerms(*_text_terms(values, offsets, _WORD_BYTE, _CLAUSE_BYTE, stop_hashes(), _stop_filter(),
                                  sketch.POSITION, np.uint64(sketch.SEED), max_words))


@nb.njit(nogil=True, cache=True)
def _text_terms(values, offsets, word_byte, clause_byte, stops, stop_filter, position, seed, max_words):  # pragma: no cover
    n = offsets.size - 1
    out_offsets = np.zeros(n + 1, np.int64)
    out = np.empty(1024, np.uint64)
    out_words = np.empty(1024, np.int8)
    kept = 0
    hashes = np.empty(256, np.uint64)
    clause = np.empty(256, np.int64)
    stop = np.empty(256, np.bool_)
    slots = np.empty(1024, np.uint64)
    marks = np.full(1024, -1, np.int64)
    for t in range(n):
        # the words of the text: hash, clause number, stop word or not
        words = 0
        current = 0
        k = offsets[t]
        end = offsets[t + 1]
        while k < end:
            while k < end and not word_byte[values[k]]:
                if clause_byte[values[k]]:
                    current += 1
                k += 1
            a = k
            while k < end and word_byte[values[k]]:
                k += 1
            b = k
            while a < b and values[a] == _APOSTROPHE:
                a += 1
            while b > a and values[b - 1] == _APOSTROPHE:
                b -= 1
            if b > a:
                if words == hashes.size:
                    hashes = np.concatenate((hashes, np.empty(words, np.uint64)))
                    clause = np.concatenate((clause, np.empty(words, np.int64)))
                    stop = np.concatenate((stop, np.empty(words, np.bool_)))
                h = trust_compiled._hash_bytes(values, a, b, seed)
                hashes[words] = h
                clause[words] = current
                # most words are no stop word: a filter of the stop words' low 16 bits says so at once
                if stop_filter[h & np.uint64(0xFFFF)]:
                    i = np.searchsorted(stops, h)
                    stop[words] = i < stops.size and stops[i] == h
                else:
                    stop[words] = False
                words += 1
        # its terms: each word not a stop word, each phrase within a clause whose ends are none;
        # each once (an open-addressing set of the text's terms, its slots marked with the text's number)
        size = 1024
        while size < 2 * max_words * words:
            size *= 2
        if size > slots.size:
            slots = np.empty(size, np.uint64)
            marks = np.full(size, -1, np.int64)
        mask = np.uint64(slots.size - 1)
        for j in range(words):
            if stop[j]:
                continue
            g = np.uint64(0)
            for q in range(max_words):
                if j + q >= words or clause[j + q] != clause[j]:
                    break
                g ^= hashes[j + q] * position[q]
                if stop[j + q]:
                    continue
                slot = (g ^ (g >> np.uint64(29))) & mask
                while marks[slot] == t and slots[slot] != g:
                    slot = (slot + np.uint64(1)) & mask
                if marks[slot] == t:
                    continue
                marks[slot] = t
                slots[slot] = g
                if kept == out.size:
                    out = np.concatenate((out, np.empty(kept, np.uint64)))
                    out_words = np.concatenate((out_words, np.empty(kept, np.int8)))
                out[kept] = g
                out_words[kept] = q + 1
                kept += 1
        out_offsets[t + 1] = kept
    return out_offsets, out[:kept].copy(), out_words[:kept].copy()


class TitleTerms(NamedTuple):
    """Per title of a batch and term its reviews use at least min_reviews times: the title's index,
    the term's hash and words, and the reviews using it in each rating class (counts[:, c], c as
    CLASSES)."""
    title: np.ndarray
    hashes: np.ndarray
    words: np.ndarray
    counts: np.ndarray


# The rating classes title_terms counts apart, in counts' column order (None: an unrated review).
CLASSES = ("negative", "middle", "positive", None)


def title_terms(texts: pl.Series, title_starts: np.ndarray, classes: pl.Series, min_reviews: int = 1,
                max_words: int = 3) -> TitleTerms:
    """The TitleTerms of reviews grouped by title: `texts` and `classes` (metrics.rating_class's
    negative / middle / positive, null unrated) one per review, a title's reviews together, title k
    the reviews title_starts[k]:title_starts[k + 1]. Each title's terms in the order first met."""
    starts = np.ascontiguousarray(title_starts, dtype=np.int64)
    if (classes.len() != texts.len() or starts.size == 0 or starts[0] != 0 or starts[-1] != texts.len()
            or (np.diff(starts) < 0).any()):
        raise ValueError(f"title_starts must run from 0 to the {texts.len()} texts without going back, and "
                         f"classes hold one per text ({classes.len()})")
    values, offsets = _bytes(texts, max_words)
    # a class not in CLASSES raises (replace_strict) rather than count as unrated
    codes = (classes.cast(pl.String)
             .replace_strict({c: i for i, c in enumerate(CLASSES) if c is not None}, return_dtype=pl.Int8)
             .fill_null(len(CLASSES) - 1).to_numpy())
    return TitleTerms(*_title_terms(values, offsets, starts, codes,
                                    _WORD_BYTE, _CLAUSE_BYTE, stop_hashes(), _stop_filter(), sketch.POSITION,
                                    np.uint64(sketch.SEED), max_words, min_reviews, len(CLASSES)))


@nb.njit(nogil=True, cache=True)
def _title_terms(values, offsets, title_starts, codes, word_byte, clause_byte, stops, stop_filter, position, seed,
                 max_words, min_reviews, classes):  # pragma: no cover - compiled
    out_title = np.empty(1024, np.int64)
    out_hash = np.empty(1024, np.uint64)
    out_words = np.empty(1024, np.int8)
    out_counts = np.empty((1024, classes), np.int64)
    kept = 0
    slots = np.empty(1024, np.uint64)
    used = np.zeros(1024, np.bool_)
    slot_words = np.empty(1024, np.int8)
    slot_counts = np.zeros((1024, classes), np.int64)
    order = np.empty(1024, np.int64)  # the slots in the order their terms were first met
    for k in range(title_starts.size - 1):
        a, b = title_starts[k], title_starts[k + 1]
        found_offsets, found, found_words = _text_terms(values, offsets[a:b + 1], word_byte, clause_byte, stops,
                                                        stop_filter, position, seed, max_words)
        size = 1024
        while size < 2 * found.size:
            size *= 2
        if size > slots.size:
            slots = np.empty(size, np.uint64)
            used = np.zeros(size, np.bool_)
            slot_words = np.empty(size, np.int8)
            slot_counts = np.zeros((size, classes), np.int64)
            order = np.empty(size, np.int64)
        mask = np.uint64(slots.size - 1)
        distinct = 0
        for r in range(b - a):
            c = codes[a + r]
            for e in range(found_offsets[r], found_offsets[r + 1]):
                g = found[e]
                slot = (g ^ (g >> np.uint64(29))) & mask
                while used[slot] and slots[slot] != g:
                    slot = (slot + np.uint64(1)) & mask
                if not used[slot]:
                    used[slot] = True
                    slots[slot] = g
                    slot_words[slot] = found_words[e]
                    order[distinct] = slot
                    distinct += 1
                slot_counts[slot, c] += 1
        for d in range(distinct):
            slot = order[d]
            if slot_counts[slot].sum() >= min_reviews:
                if kept == out_hash.size:
                    out_title = np.concatenate((out_title, np.empty(kept, np.int64)))
                    out_hash = np.concatenate((out_hash, np.empty(kept, np.uint64)))
                    out_words = np.concatenate((out_words, np.empty(kept, np.int8)))
                    out_counts = np.concatenate((out_counts, np.empty((kept, classes), np.int64)))
                out_title[kept] = k
                out_hash[kept] = slots[slot]
                out_words[kept] = slot_words[slot]
                out_counts[kept] = slot_counts[slot]
                kept += 1
            used[slot] = False  # emptied for the next title
            slot_counts[slot] = 0
    return out_title[:kept].copy(), out_hash[:kept].copy(), out_words[:kept].copy(), out_counts[:kept].copy()
__all__ = ["CLASSES", "TextTerms", "TitleTerms", "stop_hashes", "term_hashes", "text_terms", "title_terms"]
