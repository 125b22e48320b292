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

import threading
from typing import NamedTuple

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


def prepare() -> threading.Thread:
    """Start importing and loading the compiled kernels on a thread of their own, and return it: the
    first call in a process takes 0.3-0.6 s (numba's import, LLVM's start, the kernels read from
    their cache), which work beside it hides (the trust stage's SQL, which lets go of the GIL). The
    statistics' scipy.special is imported there first (0.07-0.1 s, else inside the burst test)."""
    def load() -> None:
        try:
            import scipy.special  # noqa: F401
            texts = pl.Series(["prepare the compiled pass"])
            sketch(texts, 3, 1)
            jaccard(shingle_sets(texts), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
            word_hashes(texts)
            from reviewpipe.trust import compiled  # texts' per-title phrase count: as it calls it,
            # its lists' offsets and values read-only (numpy views of Arrow buffers)
            none = np.zeros(1, dtype=np.int64)
            compiled.title_phrases(0, 0, none, none, none, np.frombuffer(bytes(8), dtype=np.int64),
                                   np.frombuffer(bytes(8), dtype=np.uint64))
        except Exception:  # noqa: BLE001 - the same call where the kernels are used raises it there, in context
            pass
    thread = threading.Thread(target=load, name="reviewpipe-sketch-prepare", daemon=True)
    thread.start()
    return thread


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


def sketch(texts: pl.Series, phrase_words: int, phrase_sample: int, lowered: bool = False) -> Sketches:
    """The Sketches of the lower-cased texts (`lowered`: lower-cased already); phrases of
    phrase_words words are kept when their hash is 0 modulo phrase_sample (a power of two), so a
    phrase is kept in every text or in none."""
    if phrase_sample & (phrase_sample - 1) or phrase_sample < 1:
        raise ValueError(f"phrase_sample must be a power of two, not {phrase_sample}")
    values, offsets = _utf8(texts if lowered else texts.str.to_lowercase())
    from reviewpipe.trust import compiled  # (numba: imported when first needed, see compiled)

    return Sketches(*compiled.sketch(values, offsets, _SEPARATOR, _STRIPPED, POSITION, _DENSIFY, np.uint64(SEED),
                             NUM_PERM, BANDS, SHINGLE_WORDS, phrase_words, np.uint64(phrase_sample - 1)))


def word_hashes(words: pl.Series) -> pl.Series:
    """The hash of each word of `words` (words as the sketch splits them) that the sketch gives it."""
    values, offsets = _utf8(words)
    from reviewpipe.trust import compiled

    return pl.Series(words.name, compiled.word_hashes(values, offsets, np.uint64(SEED)), dtype=pl.UInt64)


class ShingleSets(NamedTuple):
    """The distinct 3-word shingle hashes of each text of a batch, sorted: text k's are
    values[offsets[k]:offsets[k + 1]]."""
    offsets: np.ndarray
    values: np.ndarray


def shingle_sets(texts: pl.Series) -> ShingleSets:
    """The ShingleSets of the lower-cased texts (the sets whose sizes are the sketch's shingle_count)."""
    values, offsets = _utf8(texts.str.to_lowercase())
    from reviewpipe.trust import compiled

    return ShingleSets(*compiled.shingle_sets(values, offsets, _SEPARATOR, _STRIPPED, POSITION, np.uint64(SEED),
                                      SHINGLE_WORDS))


def jaccard(sets: ShingleSets, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of texts (a[k], b[k]: their places in `sets`; -1, a text not there: no shingles),
    the exact Jaccard similarity of their shingle sets; 0 where both are empty."""
    from reviewpipe.trust import compiled

    return compiled.jaccard(sets.offsets, sets.values, np.ascontiguousarray(a, dtype=np.int64),
                    np.ascontiguousarray(b, dtype=np.int64))


def minhash(i: np.ndarray, g: np.ndarray, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """The MinHash signatures of the texts 0..texts-1 with shingles (i, g: their text and hash, in
    any order): the texts with a shingle, in order, and their signatures (one row of NUM_PERM
    uint64 each), as the sketch makes them."""
    from reviewpipe.trust import compiled

    return compiled.minhash(np.ascontiguousarray(i, dtype=np.int64), np.ascontiguousarray(g, dtype=np.uint64), texts,
                    _DENSIFY, np.uint64(SEED), NUM_PERM)
