"""The terms of review_terms counted per title by a compiled pass over the texts' bytes (numba),
for a million texts: the Polars tokenizer of reviewpipe.metrics.terms takes 0.2-0.4 ms a text
(minutes at 1,000,000), this pass 14.5-15.5 us a bench text of 151 words on one thread (the trust
sketch's pass 9 us). Its terms are review_terms' word for word (tests/test_terms.py holds them to
it): the same lower-cased text (terms.ascii_punctuation), a word a run of word bytes (ASCII
letters, digits, apostrophes, any byte of a non-ASCII character) with its end apostrophes off, a
clause ended by any byte of terms.CLAUSE_BREAKS, phrases of 2-3 words within a clause, no stop word
alone or at a phrase's end, a review counting a term once. A term's hash: its words' hashes (the
trust sketch's word hash) times a multiplier per place, xor-ed (term_hashes gives it for a term's
text). Per term it also counts the sentences that mention it (the sentiment cache's sentence ends
and compounds) and finds where the most helpful reviews first use it (title_term_stats)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import NamedTuple

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from reviewpipe import sentiment
from reviewpipe.metrics import terms
from reviewpipe.trust import compiled as trust_compiled
from reviewpipe.trust import sketch

# Bytes that may be part of a word (an apostrophe only inside one) and bytes that end a clause.
_WORD_BYTE = np.zeros(256, dtype=np.bool_)
_WORD_BYTE[[*range(ord("a"), ord("z") + 1), *range(ord("0"), ord("9") + 1), ord("'"), *range(0x80, 0x100)]] = True
_CLAUSE_BYTE = np.zeros(256, dtype=np.bool_)
_CLAUSE_BYTE[[ord(c) for c in terms.CLAUSE_BREAKS]] = True
_APOSTROPHE = np.uint8(ord("'"))


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
    """The texts' bytes and offsets as the pass reads them: terms.ascii_punctuation's (lower-cased,
    punctuation made ASCII). A text of ASCII bytes alone is lower-cased here (A-Z, all Polars'
    to_lowercase changes in it; ascii_punctuation's marks are not ASCII), the others by Polars: most
    texts are ASCII (94% of bench texts), and Polars' replace and lower-case of every text made this
    2.5-2.9 us a bench text, 1.25-2.2 us so (bench/README.md, "Issue 26's terms stage")."""
    if not 1 <= max_words <= sketch.POSITION.size:  # (a place's multiplier per word)
        raise ValueError(f"max_words must be 1 to {sketch.POSITION.size}, not {max_words}")
    values, offsets = sketch._utf8(texts)
    # the texts holding a byte past ASCII (among their own bytes: an Arrow array's buffer may hold
    # others before and after them)
    first, end = int(offsets[0]), int(offsets[-1])
    high = np.flatnonzero(values[first:end] >= 0x80) + first
    rows = np.unique(np.searchsorted(offsets, high, side="right") - 1)
    if rows.size == 0:
        return _lowered(values, offsets, rows, *_NO_TEXT)
    fixed = texts.gather(rows).to_frame("t").select(terms.ascii_punctuation(pl.col("t")))["t"]
    return _lowered(values, offsets, rows, *sketch._utf8(fixed))


# no text's bytes and offsets, read-only as Arrow's are (numba compiles a kernel per array flag)
_NO_TEXT = (np.zeros(0, np.uint8), np.zeros(1, np.int64))
for _array in _NO_TEXT:
    _array.setflags(write=False)


@nb.njit(nogil=True, cache=True)
def _lowered(values, offsets, rows, fixed_values, fixed_offsets):  # pragma: no cover - compiled
    """The texts' bytes and offsets: text rows[f] is fixed text f (rows ascending), each other its
    own bytes with A-Z lower-cased."""
    n = offsets.size - 1
    out_offsets = np.empty(n + 1, np.int64)
    out_offsets[0] = 0
    f = 0
    for k in range(n):
        if f < rows.size and rows[f] == k:
            out_offsets[k + 1] = out_offsets[k] + fixed_offsets[f + 1] - fixed_offsets[f]
            f += 1
        else:
            out_offsets[k + 1] = out_offsets[k] + offsets[k + 1] - offsets[k]
    out = np.empty(out_offsets[n], np.uint8)
    f = 0
    for k in range(n):
        dst = out[out_offsets[k]:out_offsets[k + 1]]  # (views: the loops below are vectorized)
        if f < rows.size and rows[f] == k:
            src = fixed_values[fixed_offsets[f]:fixed_offsets[f + 1]]
            for p in range(src.size):
                dst[p] = src[p]
            f += 1
        else:
            src = values[offsets[k]:offsets[k + 1]]
            for p in range(src.size):
                b = src[p]
                dst[p] = b + np.uint8(32) * (np.uint8(b - np.uint8(65)) < np.uint8(26))
    return out, out_offsets


@nb.njit(nogil=True, cache=True)
def _split_words(values, p, end, word_byte, clause_byte, stops, stop_filter, seed, hashes, clause, stop, first,
                 last):  # pragma: no cover - compiled
    """The number of words of the text values[p:end], each written into the buffers (which must hold
    (end - p) // 2 + 1: a word is a byte and a space at least): its hash, clause number, whether it
    is a stop word, and the characters it spans (first, end: a byte that does not continue a UTF-8
    character starts one; such bytes, 0x80-0xBF, are all inside words, so a word's characters are
    its bytes less those seen so far, counted as the words are scanned). (Buffers grown in here, or
    in the loop over a text's terms, made the pass half again as slow: bench/README.md, "Issue 26's
    terms stage".)"""
    words = 0
    current = 0
    start = p
    continuing = 0  # the bytes continuing a character before the word
    while p < end:
        while p < end and not word_byte[values[p]]:
            if clause_byte[values[p]]:
                current += 1
            p += 1
        # the word's bytes hashed as they are scanned (trust_compiled._hash_bytes' hash, one loop
        # over them instead of two: 7% of the pass), its apostrophes at either end left out: those
        # at its start skipped, those inside hashed when a byte after them is
        while p < end and values[p] == _APOSTROPHE:
            p += 1
        a = p
        b = p
        h = trust_compiled.FNV_BASIS ^ seed
        inside = 0  # (the apostrophes are ASCII: none of these)
        while p < end and word_byte[values[p]]:
            v = values[p]
            p += 1
            if v != _APOSTROPHE:
                while b < p - 1:  # the apostrophes before it
                    h = (h ^ np.uint64(_APOSTROPHE)) * trust_compiled.FNV_PRIME
                    b += 1
                h = (h ^ np.uint64(v)) * trust_compiled.FNV_PRIME
                b = p
                inside += (v & 0xC0) == 0x80
        if b > a:
            h = trust_compiled._finished(h)
            hashes[words] = h
            clause[words] = current
            # most words are no stop word: a filter of the stop words' low 16 bits says so at once
            if stop_filter[h & np.uint64(0xFFFF)]:
                i = np.searchsorted(stops, h)
                stop[words] = i < stops.size and stops[i] == h
            else:
                stop[words] = False
            first[words] = a - start - continuing
            last[words] = b - start - continuing - inside
            words += 1
        continuing += inside
    return words


# The rating classes title_term_stats counts apart, in counts' column order (None: an unrated review).
CLASSES = ("negative", "middle", "positive", None)


def prepare() -> threading.Thread:
    """Start loading the compiled passes on a thread of its own, and return it: the first call in a
    process reads them from numba's cache (0.3-0.6 s), or compiles them (about 10 s, once per checkout),
    which work beside it hides (the terms stage starts it with the trust stage)."""
    def load() -> None:
        try:
            ends, compounds = (pl.Series([np.zeros(1, dtype).tobytes()]) for dtype in sentiment.SENTENCE_DTYPES.values())
            title_term_stats(pl.Series(["prepare the pass"]), np.array([0, 1]), pl.Series([None], dtype=pl.String),
                             ends, compounds)
            # (the class counts as term_counts holds them, int32: numba compiles a pass per dtype)
            title_sides(pl.DataFrame({"title_id": ["t", "t"], "term": [1, 2], "negative": [1, 0], "middle": [0, 0],
                                      "positive": [0, 1], "unrated": [0, 0]}).cast(
                {c: pl.Int32 for c in ("negative", "middle", "positive", "unrated")}), top=1, min_z=0.0, min_reviews=1)
        except Exception:  # noqa: BLE001 - the same call in the stage raises it there, in context
            pass
    thread = threading.Thread(target=load, name="reviewpipe-terms-prepare", daemon=True)
    thread.start()
    return thread


class TitleTermStats(NamedTuple):
    """Per title of a batch and term its reviews use at least min_reviews times (title_term_stats):
    the title's index, the term's hash and words, the reviews using it in each rating class
    (counts[:, c], c as CLASSES), the sentences mentioning it (a review's sentence once however often
    it does) and the sum of those sentences' compounds, and where it is first used in each example
    order (EXAMPLES): the review's index in the batch (-1: none) and the characters the term's
    words span in its text (start, end)."""
    title: np.ndarray
    hashes: np.ndarray
    words: np.ndarray
    counts: np.ndarray
    mentions: np.ndarray
    compound_sum: np.ndarray
    example_review: np.ndarray
    example_start: np.ndarray
    example_end: np.ndarray


# The examples title_term_stats keeps per term, in the columns of its example_ arrays: the first
# review using it of any class, of the positive class, of the negative class (a title's reviews come
# in the order examples are chosen in, the most helpful first).
EXAMPLES = ("any", "positive", "negative")


def title_term_stats(texts: pl.Series, title_starts: np.ndarray, classes: pl.Series, sentence_ends: pl.Series,
                     sentence_compounds: pl.Series, min_reviews: int = 1, max_words: int = 3) -> TitleTermStats:
    """The TitleTermStats of reviews grouped by title: `texts` and `classes` (metrics.rating_class's
    negative / middle / positive, null unrated; another value raises) one per review, a title's
    reviews together (title k the reviews title_starts[k]:title_starts[k + 1]) in the order its
    examples are chosen in, and each review's sentences (sentiment.SENTENCE_COLUMNS' bytes: where each ends, in characters of the text, and its
    compound; null: none). A term belongs to the sentence its first word starts in. Each title's
    terms in the order first met."""
    starts = np.ascontiguousarray(title_starts, dtype=np.int64)
    n = texts.len()
    if (classes.len() != n or sentence_ends.len() != n or sentence_compounds.len() != n or starts.size == 0
            or starts[0] != 0 or starts[-1] != n or (np.diff(starts) < 0).any()):
        raise ValueError(f"title_starts must run from 0 to the {n} texts without going back, and classes and "
                         "the sentences hold one per text")
    sentence_offsets, flat_ends = arrays_of(sentence_ends, sentiment.SENTENCE_DTYPES["sentence_ends"])
    compound_offsets, flat_compounds = arrays_of(sentence_compounds, sentiment.SENTENCE_DTYPES["sentence_compounds"])
    if not np.array_equal(sentence_offsets, compound_offsets):
        raise ValueError("each text must have as many sentence compounds as sentence ends")
    values, offsets = _bytes(texts, max_words)
    codes = (classes.cast(pl.String)
             .replace_strict({c: i for i, c in enumerate(CLASSES) if c is not None}, return_dtype=pl.Int8)
             .fill_null(len(CLASSES) - 1).to_numpy())
    example_classes = np.array([-1, *(CLASSES.index(c) for c in EXAMPLES[1:])], dtype=np.int64)
    return TitleTermStats(*_title_term_stats(
        values, offsets, starts, codes, sentence_offsets, flat_ends.astype(np.int64), flat_compounds.astype(np.float64),
        example_classes, _WORD_BYTE, _CLAUSE_BYTE, stop_hashes(), _stop_filter(), sketch.POSITION,
        np.uint64(sketch.SEED), max_words, min_reviews, len(CLASSES)))


def arrays_of(arrays: pl.Series, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A Binary Series of arrays of `dtype` (a null: none) read flat, without a copy: the offsets of
    each one's items (int64, one more than the Series) into the values."""
    array = arrays.fill_null(b"").cast(pl.Binary).to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_binary())
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    if (offsets % dtype.itemsize).any():
        raise ValueError(f"an array's bytes are not a whole number of {dtype} items")
    values = (np.frombuffer(data, dtype=dtype, count=len(data) // dtype.itemsize) if data is not None
              else np.zeros(0, dtype=dtype))
    return offsets // dtype.itemsize, values


@nb.njit(nogil=True, cache=True)
def _doubled(a):  # pragma: no cover - compiled
    """`a` (one dimension) with as many items again, unset. (Loops, not np.concatenate nor a slice
    assigned: numba compiles those with their shape checks and error messages, seconds of a fresh
    checkout's first run.)"""
    out = np.empty(2 * a.size, a.dtype)
    for i in range(a.size):
        out[i] = a[i]
    return out


@nb.njit(nogil=True, cache=True)
def _doubled_rows(a):  # pragma: no cover - compiled
    """`a` (two dimensions) with as many rows again, unset."""
    out = np.empty((2 * a.shape[0], a.shape[1]), a.dtype)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j]
    return out


@nb.njit(nogil=True, cache=True)
def _count_text(r, c, words, hashes, clause, stop, first, last, sentence, position, max_words, slots, index, size,
                d_hash, d_words, d_counts, d_review, d_slot, distinct, n_term, n_review, n_sentence, n_first, n_last,
                notes):  # pragma: no cover - compiled
    """One review's terms counted into its title's table and noted (room made for them before)."""
    mask = np.uint64(size - 1)
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
            while index[slot] >= 0 and slots[slot] != g:
                slot = (slot + np.uint64(1)) & mask
            d = index[slot]
            if d < 0:  # a new term of the title
                d = distinct
                distinct += 1
                slots[slot] = g
                index[slot] = d
                d_slot[d] = slot
                d_hash[d] = g
                d_words[d] = q + 1
                d_counts[d] = 0
                d_review[d] = -1
            if d_review[d] != r:
                d_review[d] = r
                d_counts[d, c] += 1
            n_term[notes] = d
            n_review[notes] = r
            n_sentence[notes] = sentence[j]
            n_first[notes] = first[j]
            n_last[notes] = last[j + q]
            notes += 1
    return distinct, notes


@nb.njit(nogil=True, cache=True)
def _title_term_stats(values, offsets, title_starts, codes, sentence_offsets, sentence_ends, sentence_compounds,
                      example_classes, word_byte, clause_byte, stops, stop_filter, position, seed, max_words,
                      min_reviews, classes):  # pragma: no cover - compiled
    # Per title, two steps: its reviews' terms are counted (a review once) in a table of their hashes
    # while each place a term is used is noted in order (most of a title's terms are used by one
    # review: only the counts are kept for each); then the notes of the terms kept (min_reviews) give
    # their sentences, compounds and examples.
    examples = example_classes.size
    # the kept rows: out_* [:kept]
    kept = 0
    out_title = np.empty(1024, np.int64)
    out_hash = np.empty(1024, np.uint64)
    out_words = np.empty(1024, np.int8)
    out_counts = np.empty((1024, classes), np.int32)
    out_mentions = np.empty(1024, np.int32)
    out_sum = np.empty(1024, np.float64)
    out_review = np.empty((1024, examples), np.int64)
    out_start = np.empty((1024, examples), np.int32)
    out_end = np.empty((1024, examples), np.int32)
    # one title's terms, in the order first met (term d is the d-th), and the table of their hashes
    # (index: d, -1 empty), doubled when half full
    d_hash = np.empty(1024, np.uint64)
    d_words = np.empty(1024, np.int8)
    d_counts = np.empty((1024, classes), np.int32)
    d_review = np.empty(1024, np.int64)  # the last review counted
    d_slot = np.empty(1024, np.int64)
    size = 1024
    slots = np.empty(size, np.uint64)
    index = np.full(size, -1, np.int64)
    # the places its terms are used, in order: the term, the review, the sentence, first and end characters
    n_term = np.empty(4096, np.int64)
    n_review = np.empty(4096, np.int64)
    n_sentence = np.empty(4096, np.int64)
    n_first = np.empty(4096, np.int32)
    n_last = np.empty(4096, np.int32)
    # one text's words
    hashes = np.empty(256, np.uint64)
    clause = np.empty(256, np.int64)
    stop = np.empty(256, np.bool_)
    first = np.empty(256, np.int32)  # a word's first and end characters
    last = np.empty(256, np.int32)
    sentence = np.empty(256, np.int64)  # its sentence's index among all the batch's (-1: none)
    for k in range(title_starts.size - 1):
        distinct = 0
        notes = 0
        for r in range(title_starts[k], title_starts[k + 1]):
            c = codes[r]
            if (offsets[r + 1] - offsets[r]) // 2 + 1 > hashes.size:  # room for every word of the text
                room = (offsets[r + 1] - offsets[r]) // 2 + 1
                hashes, clause, stop = np.empty(room, np.uint64), np.empty(room, np.int64), np.empty(room, np.bool_)
                first, last, sentence = np.empty(room, np.int32), np.empty(room, np.int32), np.empty(room, np.int64)
            words = _split_words(values, offsets[r], offsets[r + 1], word_byte, clause_byte, stops, stop_filter, seed,
                                 hashes, clause, stop, first, last)
            # each word's sentence (-1: after the last): the first whose end is past the word's start
            s = sentence_offsets[r]
            s_end = sentence_offsets[r + 1]
            for j in range(words):
                while s < s_end and sentence_ends[s] <= first[j]:
                    s += 1
                sentence[j] = s if s < s_end else -1
            # room for every term the text may hold (max_words a word), so that nothing grows below
            room = distinct + max_words * words
            while room > d_hash.size:
                d_hash, d_words, d_counts = _doubled(d_hash), _doubled(d_words), _doubled_rows(d_counts)
                d_review, d_slot = _doubled(d_review), _doubled(d_slot)
            while notes + max_words * words > n_term.size:
                n_term, n_review, n_sentence = _doubled(n_term), _doubled(n_review), _doubled(n_sentence)
                n_first, n_last = _doubled(n_first), _doubled(n_last)
            if 2 * room > size:  # the table doubled, the title's terms put in again
                while 2 * room > size:
                    size *= 2
                mask = np.uint64(size - 1)
                slots = np.empty(size, np.uint64)
                index = np.full(size, -1, np.int64)
                for e in range(distinct):
                    slot = (d_hash[e] ^ (d_hash[e] >> np.uint64(29))) & mask
                    while index[slot] >= 0:
                        slot = (slot + np.uint64(1)) & mask
                    slots[slot] = d_hash[e]
                    index[slot] = e
                    d_slot[e] = slot
            distinct, notes = _count_text(r, c, words, hashes, clause, stop, first, last, sentence, position, max_words,
                                          slots, index, size, d_hash, d_words, d_counts, d_review, d_slot, distinct,
                                          n_term, n_review, n_sentence, n_first, n_last, notes)
        # the kept terms' rows (their row, -1: not kept), then their sentences and examples from the
        # notes, in order
        row_of = np.empty(distinct, np.int64)
        m = 0
        for d in range(distinct):
            reviews = 0
            for c in range(classes):
                reviews += d_counts[d, c]
            if reviews >= min_reviews:
                row_of[d] = kept + m
                m += 1
            else:
                row_of[d] = -1
        while kept + m > out_hash.size:
            out_title, out_hash, out_words, out_counts = (_doubled(out_title), _doubled(out_hash),
                                                          _doubled(out_words), _doubled_rows(out_counts))
            out_mentions, out_sum, out_review = _doubled(out_mentions), _doubled(out_sum), _doubled_rows(out_review)
            out_start, out_end = _doubled_rows(out_start), _doubled_rows(out_end)
        for d in range(distinct):
            row = row_of[d]
            if row < 0:
                continue
            out_title[row] = k
            out_hash[row] = d_hash[d]
            out_words[row] = d_words[d]
            for c in range(classes):
                out_counts[row, c] = d_counts[d, c]
            out_mentions[row] = 0
            out_sum[row] = 0.0
            for e in range(examples):
                out_review[row, e] = -1
                out_start[row, e] = 0
                out_end[row, e] = 0
        counted = np.full(m, -1, np.int64)  # the last sentence counted
        for o in range(notes):
            row = row_of[n_term[o]]
            if row < 0:
                continue
            sent = n_sentence[o]
            if sent >= 0 and counted[row - kept] != sent:
                counted[row - kept] = sent
                out_mentions[row] += 1
                out_sum[row] += sentence_compounds[sent]
            c = codes[n_review[o]]
            for e in range(examples):
                if out_review[row, e] < 0 and (example_classes[e] < 0 or example_classes[e] == c):
                    out_review[row, e] = n_review[o]
                    out_start[row, e] = n_first[o]
                    out_end[row, e] = n_last[o]
        kept += m
        for d in range(distinct):  # emptied for the next title
            index[d_slot[d]] = -1
    return (out_title[:kept].copy(), out_hash[:kept].copy(), out_words[:kept].copy(), out_counts[:kept].copy(),
            out_mentions[:kept].copy(), out_sum[:kept].copy(), out_review[:kept].copy(), out_start[:kept].copy(),
            out_end[:kept].copy())


# The sides title_sides ranks, in its rows' order.
SIDES = ("praise", "complaint", "distinctive")


def title_sides(kept: pl.DataFrame, top: int, min_z: float, min_reviews: int,
                prior_size: float = terms.PRIOR_SIZE) -> pl.DataFrame:
    """Per title, its top terms on each of SIDES: kept's rows (title_id, term and the reviews using it
    per class: negative, middle, positive, unrated; any other columns are carried) with side, z and
    rank (1 = highest z); grain (title_id, side, rank); sorted by title_id, side (as SIDES), rank.

    praise: the positive reviews' log-odds against the negative ones' (terms.log_odds_z); complaint:
    the same z negated; distinctive: the title's reviews of every class against all the other
    titles' kept rows. The prior is each term's share of all kept rows (every title, every class)
    scaled to prior_size. A term is ranked on a side when its z is at least min_z and at least
    min_reviews reviews of the side's group use it (positive for praise, negative for complaint, any
    for distinctive); the top `top` of each side, ties by term. A vocabulary of one term has nothing
    to compare it with: no rows.

    Compiled (_backgrounds, _rank_titles): the terms stage ranks every kept row of the warehouse each run, since the
    prior moves with every review (6.9 million rows at 1,000,000 bench reviews: 2.7 s in Polars and
    numpy, bench/README.md "Issue 26's terms stage")."""
    ranked = {"side": pl.String, "z": pl.Float64, "rank": pl.Int32}
    if kept.is_empty():
        return kept.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in ranked.items()).clear()
    # the pass wants each title's rows together: as the terms stage keeps them (else sorted so)
    runs = kept["title_id"].rle()
    if runs.len() != kept["title_id"].n_unique():
        kept = kept.sort("title_id", maintain_order=True)
        runs = kept["title_id"].rle()
    starts = np.concatenate(([0], np.cumsum(runs.struct.field("len").to_numpy()))).astype(np.int64)
    # the class counts as their columns hold them (the kept table's int32: no copy)
    classes = tuple(kept[c].to_numpy() for c in ("negative", "middle", "positive", "unrated"))
    term = kept["term"].cast(pl.UInt64).to_numpy()
    term_of, background = _backgrounds(term, *classes)
    # the titles in THREADS pieces of about as many rows
    cuts = np.searchsorted(starts, np.arange(1, THREADS) * kept.height / THREADS)
    bounds = sorted({0, *(int(c) for c in cuts), starts.size - 1})

    def rank(a: int, b: int) -> tuple[np.ndarray, ...]:
        return _rank_titles(starts[a:b + 1], term, term_of, background, *classes, top, float(min_z), min_reviews,
                            float(prior_size))

    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(rank, bounds[:-1], bounds[1:]))
    rows, side, z, rank_ = (np.concatenate(p) for p in zip(*parts))
    return (kept[rows].with_columns(side=pl.Series(np.array(SIDES)[side]), z=pl.Series(z),
                                    rank=pl.Series(rank_, dtype=pl.Int32))
            .sort(pl.col("title_id"), maintain_order=True))


# The threads title_sides ranks the titles on.
THREADS = 2


@nb.njit(nogil=True, cache=True)
def _backgrounds(term, negative, middle, positive, unrated):  # pragma: no cover - compiled
    """Per row, its term's index among the distinct terms, and per distinct term the reviews of
    every row using it (a table of the terms' hashes, doubled when half full)."""
    n = term.size
    size = 1 << 16
    slots = np.empty(size, np.uint64)
    index = np.full(size, -1, np.int64)
    background = np.zeros(size // 2, np.int64)
    term_of = np.empty(n, np.int64)
    distinct = 0
    mask = np.uint64(size - 1)
    for i in range(n):
        h = term[i]
        slot = (h ^ (h >> np.uint64(29))) & mask
        while index[slot] >= 0 and slots[slot] != h:
            slot = (slot + np.uint64(1)) & mask
        if index[slot] < 0:
            if 2 * (distinct + 1) > size:  # doubled, the terms put in again
                size *= 2
                mask = np.uint64(size - 1)
                old_slots, old_index = slots, index
                slots = np.empty(size, np.uint64)
                index = np.full(size, -1, np.int64)
                for o in range(old_index.size):
                    if old_index[o] >= 0:
                        s = (old_slots[o] ^ (old_slots[o] >> np.uint64(29))) & mask
                        while index[s] >= 0:
                            s = (s + np.uint64(1)) & mask
                        slots[s] = old_slots[o]
                        index[s] = old_index[o]
                grown = np.zeros(size // 2, np.int64)
                for o in range(background.size):
                    grown[o] = background[o]
                background = grown
                slot = (h ^ (h >> np.uint64(29))) & mask
                while index[slot] >= 0:
                    slot = (slot + np.uint64(1)) & mask
            slots[slot] = h
            index[slot] = distinct
            distinct += 1
        term_of[i] = index[slot]
        background[index[slot]] += negative[i] + middle[i] + positive[i] + unrated[i]
    return term_of, background[:distinct].copy()


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _rank_titles(starts, term, term_of, background, negative, middle, positive, unrated, top, min_z, min_reviews,
                 prior_size):  # pragma: no cover - compiled
    # Per title (rows starts[k]:starts[k + 1]) its rows' z on each side, the top `top` of each kept in
    # order in a small buffer. With min_z > 0 a side's z is worked out only where its log-odds
    # leans its way (the sign of delta, from the ratios without their logarithms).
    total = float(background.sum())
    titles = starts.size - 1
    out_row = np.empty(titles * 3 * top, np.int64)
    out_side = np.empty(titles * 3 * top, np.int64)
    out_z = np.empty(titles * 3 * top, np.float64)
    out_rank = np.empty(titles * 3 * top, np.int64)
    found = 0
    best_row = np.empty((3, top), np.int64)
    best_z = np.empty((3, top), np.float64)
    held = np.zeros(3, np.int64)
    for k in range(titles):
        a, b = starts[k], starts[k + 1]
        n_pos = 0.0
        n_neg = 0.0
        n_all = 0.0
        for i in range(a, b):
            n_neg += negative[i]
            n_pos += positive[i]
            n_all += negative[i] + middle[i] + positive[i] + unrated[i]
        for side in range(3):
            held[side] = 0
        for i in range(a, b):
            bg = float(background[term_of[i]])
            if not bg < total:  # a vocabulary of one term (its z would be 0 / 0)
                continue
            alpha = bg / total * prior_size
            reviews = negative[i] + middle[i] + positive[i] + unrated[i]
            pos, neg, every = float(positive[i]), float(negative[i]), float(reviews)
            for side in range(3):
                if side == 0:
                    y, y_i, n_i, y_j, n_j = positive[i], pos, n_pos, neg, n_neg
                elif side == 1:
                    y, y_i, n_i, y_j, n_j = negative[i], neg, n_neg, pos, n_pos
                else:
                    y, y_i, n_i, y_j, n_j = reviews, every, n_all, bg - every, total - n_all
                if y < min_reviews:
                    continue
                odds_i = (y_i + alpha) / (n_i + prior_size - y_i - alpha)
                odds_j = (y_j + alpha) / (n_j + prior_size - y_j - alpha)
                if min_z > 0 and not odds_i > odds_j:
                    continue
                z = (np.log(odds_i) - np.log(odds_j)) / np.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
                if not z >= min_z:
                    continue
                # its place among the side's best so far (higher z first, then the lower term)
                h = held[side]
                if h == top and not _before(z, term[i], best_z[side, h - 1], term[best_row[side, h - 1]]):
                    continue
                p = min(h, top - 1)
                while p > 0 and _before(z, term[i], best_z[side, p - 1], term[best_row[side, p - 1]]):
                    best_z[side, p] = best_z[side, p - 1]
                    best_row[side, p] = best_row[side, p - 1]
                    p -= 1
                best_z[side, p] = z
                best_row[side, p] = i
                held[side] = min(h + 1, top)
        for side in range(3):
            for p in range(held[side]):
                out_row[found] = best_row[side, p]
                out_side[found] = side
                out_z[found] = best_z[side, p]
                out_rank[found] = p + 1
                found += 1
    return out_row[:found].copy(), out_side[:found].copy(), out_z[:found].copy(), out_rank[:found].copy()


@nb.njit(nogil=True, cache=True)
def _before(z, term, other_z, other_term):  # pragma: no cover - compiled
    """Whether a term of score z ranks before another: the higher z, then the lower hash."""
    return z > other_z or (z == other_z and term < other_term)


__all__ = ["CLASSES", "EXAMPLES", "SIDES", "TitleTermStats", "arrays_of", "prepare", "stop_hashes", "term_hashes",
           "title_sides", "title_term_stats"]
