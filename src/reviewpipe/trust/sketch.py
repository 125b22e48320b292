"""What the copy and phrase tests keep of a text, made in one compiled pass over its bytes: its words
(lower case, split at spaces and line ends, end punctuation off), its 3-word shingles, the LSH bands
of their MinHash signature, how many distinct shingles it has, and a fixed sample of its phrases.

Compiled with numba: no library turns text into shingle hashes and MinHash signatures without a
Python object per word or per text, and the same steps in Polars string expressions and numpy took
0.42 s of CPU per 25,000 bench texts (splitting and stripping 3.8 million words was 0.25 of it)
where this pass takes 0.16 (bench/README.md, round 10). Lower-casing stays in Polars (Unicode case
tables): the pass reads the lower-cased UTF-8 bytes, where the separators and the punctuation it
strips are ASCII, so splitting and stripping bytes is splitting and stripping characters.
`reviewpipe.trust.texts.text_words` splits with Polars and hashes each word with `word_hashes`:
the two agree word for word (tests/test_trust_sketch.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

# Near-copies: a MinHash signature of 3-word shingles, 60 values cut into 12 bands of 5. Two texts of
# Jaccard similarity J share a band with probability about 1 - (1 - J^5)^12: 0.9991 at 0.85, 0.991 at
# 0.8, 0.89 at 0.7, 0.32 at 0.5, 0.004 at 0.2; every candidate pair is then verified on its exact
# shingle sets. (16 bands of 4 looked at twice as many pairs below 0.5, and verifying them cost.)
# The signature is one-permutation MinHash with optimal densification (Li, Owen and Zhang 2012;
# Shrivastava 2017: each value agrees between two texts with probability J, as a permutation's
# minimum does): each shingle's hash, mixed, falls in one of NUM_PERM bins and a bin keeps its
# smallest; an empty bin takes the value of the first occupied bin of a sequence of bins fixed per
# bin (_DENSIFY), the same for every text.
SHINGLE_WORDS = 3
NUM_PERM = 60
BANDS = 12
SEED = 42
# Characters taken off the ends of each word: "price." and "price" are one word.
PUNCTUATION = ".,!?;:\"()[]{}*<>-_/'`~"
# Odd multipliers that make a word's position part of an n-gram's hash.
POSITION = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                     0x94D049BB133111EB, 0xBF58476D1CE4E5B9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
                    dtype=np.uint64)
assert POSITION.size == 8  # the compiled pass reads POSITION[q % 8] as POSITION[q & 7]
# Bytes that end a word (space, line end) and bytes stripped from a word's ends, as lookup tables.
_SEPARATOR = np.zeros(256, dtype=np.bool_)
_SEPARATOR[[ord(" "), ord("\n")]] = True
_STRIPPED = np.zeros(256, dtype=np.bool_)
_STRIPPED[[ord(c) for c in PUNCTUATION]] = True


def _mix(x: np.ndarray, seed: int) -> np.ndarray:
    """A 64-bit mix of each value (splitmix64's finaliser of x xor seed): every bit of the result
    depends on every bit of the input."""
    x = x ^ np.uint64(seed)
    x *= np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


# The densification's sequences: _DENSIFY[j, a] is the bin an empty bin j reads at its a-th try (a
# text with one occupied bin of 60 needs 60 tries on average; past 4,096 the sequence starts over;
# every sequence holds every bin, so the search ends: tests/test_trust_sketch.py).
_DENSIFY = (_mix(np.arange(NUM_PERM * 4096, dtype=np.uint64), SEED + 1) % np.uint64(NUM_PERM)).astype(
    np.int64).reshape(NUM_PERM, 4096)


class Sketches(NamedTuple):
    """Per text of a batch (n texts): word_count, shingle_count (distinct shingle hashes), held
    (it has a shingle, so a signature), bands (n x BANDS; rows of texts not held are zeros), and
    its sampled phrases' hashes: phrase_counts per text, phrases flat in text order."""
    word_count: np.ndarray
    shingle_count: np.ndarray
    held: np.ndarray
    bands: np.ndarray
    phrase_counts: np.ndarray
    phrases: np.ndarray


def _utf8(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The bytes and offsets (text k is values[offsets[k]:offsets[k + 1]]) of a string Series,
    shared with Arrow, not copied again; a null is an empty text."""
    array = texts.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    _, offsets, values = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    values = np.frombuffer(values, dtype=np.uint8) if values is not None else np.zeros(0, dtype=np.uint8)
    return values, offsets


def sketch(texts: pl.Series, phrase_words: int, phrase_sample: int) -> Sketches:
    """The Sketches of the lower-cased texts; phrases of phrase_words words are kept when their
    hash is 0 modulo phrase_sample (a power of two), so a phrase is kept in every text or in none."""
    if phrase_sample & (phrase_sample - 1) or phrase_sample < 1:
        raise ValueError(f"phrase_sample must be a power of two, not {phrase_sample}")
    values, offsets = _utf8(texts.str.to_lowercase())
    return Sketches(*_sketch(values, offsets, _SEPARATOR, _STRIPPED, POSITION, _DENSIFY, np.uint64(SEED),
                             NUM_PERM, BANDS, SHINGLE_WORDS, phrase_words, np.uint64(phrase_sample - 1)))


def word_hashes(words: pl.Series) -> pl.Series:
    """The hash of each word of `words` (words as the sketch splits them) that the sketch gives it."""
    values, offsets = _utf8(words)
    return pl.Series(words.name, _word_hashes(values, offsets, np.uint64(SEED)), dtype=pl.UInt64)


class ShingleSets(NamedTuple):
    """The distinct 3-word shingle hashes of each text of a batch, sorted: text k's are
    values[offsets[k]:offsets[k + 1]]."""
    offsets: np.ndarray
    values: np.ndarray


def shingle_sets(texts: pl.Series) -> ShingleSets:
    """The ShingleSets of the lower-cased texts (the sets whose sizes are the sketch's shingle_count)."""
    values, offsets = _utf8(texts.str.to_lowercase())
    return ShingleSets(*_shingle_sets(values, offsets, _SEPARATOR, _STRIPPED, POSITION, np.uint64(SEED),
                                      SHINGLE_WORDS))


def jaccard(sets: ShingleSets, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of texts (a[k], b[k]: their places in `sets`; -1, a text not there: no shingles),
    the exact Jaccard similarity of their shingle sets; 0 where both are empty."""
    return _jaccard(sets.offsets, sets.values, np.ascontiguousarray(a, dtype=np.int64),
                    np.ascontiguousarray(b, dtype=np.int64))


def minhash(i: np.ndarray, g: np.ndarray, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """The MinHash signatures of the texts 0..texts-1 with shingles (i, g: their text and hash, in
    any order): the texts with a shingle, in order, and their signatures (one row of NUM_PERM
    uint64 each), as the sketch makes them."""
    return _minhash(np.ascontiguousarray(i, dtype=np.int64), np.ascontiguousarray(g, dtype=np.uint64), texts,
                    _DENSIFY, np.uint64(SEED), NUM_PERM)


# --- the compiled pass (nogil: batches run on threads side by side) ---------------------------------
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


@nb.njit(nogil=True, cache=True, inline="always")
def _hash_bytes(values, start, end, seed):  # pragma: no cover - compiled
    """FNV-1a of the bytes, then a 64-bit finaliser: a word's hash."""
    h = np.uint64(0xCBF29CE484222325) ^ seed
    for k in range(start, end):
        h = (h ^ np.uint64(values[k])) * np.uint64(0x100000001B3)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return h


@nb.njit(nogil=True, cache=True, inline="always")
def _words(values, start, end, separator, stripped, seed, out):  # pragma: no cover - compiled
    """The hashes of the words of values[start:end] into out (grown when full): (out, how many)."""
    count = 0
    k = start
    while k < end:
        while k < end and separator[values[k]]:
            k += 1
        a = k
        while k < end and not separator[values[k]]:
            k += 1
        b = k
        while a < b and stripped[values[a]]:
            a += 1
        while b > a and stripped[values[b - 1]]:
            b -= 1
        if b > a:
            if count == out.size:
                grown = np.empty(2 * out.size, np.uint64)
                grown[:count] = out[:count]
                out = grown
            out[count] = _hash_bytes(values, a, b, seed)
            count += 1
    return out, count


@nb.njit(nogil=True, cache=True, inline="always")
def _gram(hashes, j, n, position):  # pragma: no cover - compiled
    """The hash of the n-gram of words j..j+n-1: each word's hash times its place's multiplier, xor-ed."""
    g = np.uint64(0)
    for q in range(n):
        g ^= hashes[j + q] * position[q & 7]  # (q % 8: POSITION holds 8)
    return g


@nb.njit(nogil=True, cache=True, inline="always")
def _bin(g, seed, num_perm):  # pragma: no cover - compiled
    """The shingle's mixed value and its bin: the value's high 32 bits scaled to 0..num_perm-1."""
    x = (g ^ seed) * np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(31)
    return x, ((x >> np.uint64(32)) * np.uint64(num_perm)) >> np.uint64(32)


@nb.njit(nogil=True, cache=True)
def _densify(bins, occupied, densify):  # pragma: no cover - compiled
    """Fill each empty bin of one signature with the first occupied bin of its sequence."""
    for j in range(bins.size):
        occupied[j] = bins[j] != _EMPTY
    tries = densify.shape[1]
    for j in range(bins.size):
        if not occupied[j]:
            a = 0
            while not occupied[densify[j, a % tries]]:
                a += 1
            bins[j] = bins[densify[j, a % tries]]


@nb.njit(nogil=True, cache=True)
def _sketch(values, offsets, separator, stripped, position, densify, seed, num_perm, bands, shingle_words,
            phrase_words, phrase_mask):  # pragma: no cover - compiled
    n = offsets.size - 1
    word_count = np.zeros(n, np.int32)
    shingle_count = np.zeros(n, np.int32)
    held = np.zeros(n, np.bool_)
    band_values = np.zeros((n, bands), np.uint64)
    phrase_counts = np.zeros(n, np.int64)
    phrases = np.empty(values.size // 2 + 1, np.uint64)  # a word takes a byte and a separator
    kept = 0
    hashes = np.empty(1024, np.uint64)
    bins = np.empty(num_perm, np.uint64)
    occupied = np.empty(num_perm, np.bool_)
    rows = num_perm // bands
    # the distinct shingles of a text: an open-addressing set, its slots marked with the text's number
    slots = np.empty(1024, np.uint64)
    marks = np.full(1024, -1, np.int64)
    for t in range(n):
        hashes, words = _words(values, offsets[t], offsets[t + 1], separator, stripped, seed, hashes)
        word_count[t] = words
        grams = words - shingle_words + 1
        if grams > 0:
            size = 1024
            while size < 2 * grams:
                size *= 2
            if size > slots.size:
                slots = np.empty(size, np.uint64)
                marks = np.full(size, -1, np.int64)
            mask = np.uint64(slots.size - 1)
            bins[:] = _EMPTY
            distinct = 0
            for j in range(grams):
                g = _gram(hashes, j, shingle_words, position)
                slot = (g ^ (g >> np.uint64(29))) & mask
                while marks[slot] == t and slots[slot] != g:
                    slot = (slot + np.uint64(1)) & mask
                if marks[slot] != t:
                    marks[slot] = t
                    slots[slot] = g
                    distinct += 1
                x, cell = _bin(g, seed, num_perm)
                if x < bins[cell]:
                    bins[cell] = x
            shingle_count[t] = distinct
            _densify(bins, occupied, densify)
            held[t] = True
            for b in range(bands):
                band = np.uint64(b) * position[4]
                for r in range(rows):
                    band ^= bins[b * rows + r] * position[r]
                    band ^= band >> np.uint64(29)
                band_values[t, b] = band
        first = kept
        for j in range(words - phrase_words + 1):
            g = _gram(hashes, j, phrase_words, position)
            if (g & phrase_mask) == 0:
                phrases[kept] = g
                kept += 1
        phrase_counts[t] = kept - first
    return word_count, shingle_count, held, band_values, phrase_counts, phrases[:kept].copy()


@nb.njit(nogil=True, cache=True)
def _word_hashes(values, offsets, seed):  # pragma: no cover - compiled
    out = np.empty(offsets.size - 1, np.uint64)
    for k in range(out.size):
        out[k] = _hash_bytes(values, offsets[k], offsets[k + 1], seed)
    return out


@nb.njit(nogil=True, cache=True)
def _minhash(i, g, texts, densify, seed, num_perm):  # pragma: no cover - compiled
    bins = np.full((texts, num_perm), _EMPTY, np.uint64)
    for k in range(g.size):
        x, cell = _bin(g[k], seed, num_perm)
        if x < bins[i[k], cell]:
            bins[i[k], cell] = x
    held = np.zeros(texts, np.bool_)
    for k in range(i.size):
        held[i[k]] = True
    order = np.flatnonzero(held)
    out = np.empty((order.size, num_perm), np.uint64)
    occupied = np.empty(num_perm, np.bool_)
    for row in range(order.size):
        out[row] = bins[order[row]]
        _densify(out[row], occupied, densify)
    return order, out


@nb.njit(nogil=True, cache=True)
def _shingle_sets(values, offsets, separator, stripped, position, seed, shingle_words):  # pragma: no cover - compiled
    n = offsets.size - 1
    out_offsets = np.zeros(n + 1, np.int64)
    out = np.empty(values.size // 2 + 1, np.uint64)
    hashes = np.empty(1024, np.uint64)
    grams = np.empty(1024, np.uint64)
    made = 0
    for t in range(n):
        hashes, words = _words(values, offsets[t], offsets[t + 1], separator, stripped, seed, hashes)
        count = words - shingle_words + 1
        if count > 0:
            if count > grams.size:
                grams = np.empty(2 * count, np.uint64)
            for j in range(count):
                grams[j] = _gram(hashes, j, shingle_words, position)
            ordered = np.sort(grams[:count])
            out[made] = ordered[0]
            made += 1
            for j in range(1, count):
                if ordered[j] != ordered[j - 1]:
                    out[made] = ordered[j]
                    made += 1
        out_offsets[t + 1] = made
    return out_offsets, out[:made].copy()


@nb.njit(nogil=True, cache=True)
def _jaccard(offsets, values, a, b):  # pragma: no cover - compiled
    out = np.zeros(a.size, np.float64)
    for k in range(a.size):
        sa = offsets[a[k] + 1] - offsets[a[k]] if a[k] >= 0 else 0
        sb = offsets[b[k] + 1] - offsets[b[k]] if b[k] >= 0 else 0
        if sa + sb == 0:
            continue
        shared = 0
        if sa > 0 and sb > 0:  # the sorted sets merged
            x, x_end = offsets[a[k]], offsets[a[k] + 1]
            y, y_end = offsets[b[k]], offsets[b[k] + 1]
            while x < x_end and y < y_end:
                if values[x] == values[y]:
                    shared += 1
                    x += 1
                    y += 1
                elif values[x] < values[y]:
                    x += 1
                else:
                    y += 1
        out[k] = shared / (sa + sb - shared)
    return out
