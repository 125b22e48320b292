"""The compiled kernels of reviewpipe.trust.sketch and of the per-title phrase count of
reviewpipe.trust.texts (numba; nogil: batches run on threads side by side). Imported when first
used: importing numba and loading the kernels takes 0.3-0.6 s,
which a run that reads no text never pays (sketch.prepare starts it early where one will)."""

from __future__ import annotations

import numba as nb
import numpy as np

_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # an empty MinHash bin


# FNV-1a's offset basis and prime (the terms pass hashes words with them too, as it scans them)
FNV_BASIS = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


@nb.njit(nogil=True, cache=True, inline="always")
def _hash_bytes(values, start, end, seed):  # pragma: no cover - compiled
    """FNV-1a of the bytes, then a 64-bit finaliser (_finished): a word's hash."""
    h = FNV_BASIS ^ seed
    for k in range(start, end):
        h = (h ^ np.uint64(values[k])) * FNV_PRIME
    return _finished(h)


@nb.njit(nogil=True, cache=True, inline="always")
def _finished(h):  # pragma: no cover - compiled
    """The 64-bit finaliser of a word's hash."""
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
                for j in range(count):  # (a loop: a slice assigned compiles its shape checks, seconds)
                    grown[j] = out[j]
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
def sketch(values, offsets, separator, stripped, position, densify, seed, num_perm, bands, shingle_words,
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
            for j in range(num_perm):
                bins[j] = _EMPTY
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
def word_hashes(values, offsets, seed):  # pragma: no cover - compiled
    out = np.empty(offsets.size - 1, np.uint64)
    for k in range(out.size):
        out[k] = _hash_bytes(values, offsets[k], offsets[k + 1], seed)
    return out


@nb.njit(nogil=True, cache=True)
def minhash(i, g, texts, densify, seed, num_perm):  # pragma: no cover - compiled
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
        for j in range(num_perm):
            out[row, j] = bins[order[row], j]
        _densify(out[row], occupied, densify)
    return order, out


@nb.njit(nogil=True, cache=True)
def shingle_sets(values, offsets, separator, stripped, position, seed, shingle_words):  # pragma: no cover - compiled
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
def jaccard(offsets, values, a, b):  # pragma: no cover - compiled
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


@nb.njit(nogil=True, cache=True)
def title_phrases(first, last, title_starts, rows, who, offsets, values):  # pragma: no cover - compiled
    cap = 1024
    out_title = np.empty(cap, np.int64)
    out_phrase = np.empty(cap, np.uint64)
    out_count = np.empty(cap, np.int64)
    made = 0
    # a title's phrases: an open-addressing table of 16-byte slots (the phrase; the last reviewer
    # counted, numbered within the title, times 2^32 plus the reviewers counted: a reviewer's reviews
    # come together), emptied after each title through the list of slots it used
    low = np.int64(0xFFFFFFFF)
    size = 1024
    phrase_of = np.empty(size, np.int64)
    state = np.zeros(size, np.int64)  # 0: empty (a used slot has counted a reviewer)
    used = np.empty(size, np.int64)
    repeated = np.empty(size, np.int64)
    for t in range(first, last):
        held = 0
        for r in range(title_starts[t], title_starts[t + 1]):
            if rows[r] >= 0:
                held += offsets[rows[r] + 1] - offsets[rows[r]]
        if held == 0:
            continue
        if 2 * held > size:
            while size < 2 * held:
                size *= 2
            phrase_of = np.empty(size, np.int64)
            state = np.zeros(size, np.int64)
            used = np.empty(size, np.int64)
            repeated = np.empty(size, np.int64)
        mask = size - 1
        distinct = 0
        twice = 0
        base = who[title_starts[t]]
        for r in range(title_starts[t], title_starts[t + 1]):
            row = rows[r]
            if row < 0:
                continue
            w = (who[r] - base) << 32
            for k in range(offsets[row], offsets[row + 1]):
                p = np.int64(values[k])
                slot = (p ^ (p >> 29)) & mask
                while state[slot] != 0 and phrase_of[slot] != p:
                    slot = (slot + 1) & mask
                if state[slot] == 0:
                    phrase_of[slot] = p
                    state[slot] = w | 1
                    used[distinct] = slot
                    distinct += 1
                elif (state[slot] & ~low) != w:
                    count = (state[slot] & low) + 1
                    state[slot] = w | count
                    if count == 2:  # repeated: listed once, when its second reviewer comes
                        repeated[twice] = slot
                        twice += 1
        for j in range(twice):
            slot = repeated[j]
            if made == cap:
                cap *= 2
                grown_title = np.empty(cap, np.int64)
                grown_phrase = np.empty(cap, np.uint64)
                grown_count = np.empty(cap, np.int64)
                for o in range(made):
                    grown_title[o] = out_title[o]
                    grown_phrase[o] = out_phrase[o]
                    grown_count[o] = out_count[o]
                out_title, out_phrase, out_count = grown_title, grown_phrase, grown_count
            out_title[made] = t
            out_phrase[made] = np.uint64(phrase_of[slot])
            out_count[made] = state[slot] & low
            made += 1
        for j in range(distinct):
            state[used[j]] = 0
    return out_title[:made].copy(), out_phrase[:made].copy(), out_count[:made].copy()
