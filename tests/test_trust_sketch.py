"""The compiled pass (reviewpipe.trust.sketch): its words, shingles, phrases, counts and MinHash
signatures against plain-Python references of the same rules, on generated texts of every kind of
character, and the signature's MinHash properties."""

from __future__ import annotations

import hypothesis
import hypothesis.strategies as st
import numpy as np
import polars as pl
import pytest

from reviewpipe.trust import sketch, texts

MASK = 2**64 - 1
POSITION = [int(p) for p in sketch.POSITION]


def reference_hash(word: str) -> int:
    """FNV-1a of the word's UTF-8 bytes from the seeded offset basis, then the finaliser."""
    h = 0xCBF29CE484222325 ^ sketch.SEED
    for byte in word.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    return h ^ (h >> 33)


def reference_words(text: str) -> list[str]:
    """Lower case (Polars' Unicode rules), split at spaces and line ends, end punctuation off, empty
    words dropped."""
    lower = pl.Series([text]).str.to_lowercase()[0]
    return [w for w in (t.strip(sketch.PUNCTUATION) for t in lower.replace("\n", " ").split(" ")) if w]


def reference_grams(hashes: list[int], n: int) -> list[int]:
    """Each n-gram's hash: its words' hashes times their place's multiplier, xor-ed."""
    out = []
    for j in range(len(hashes) - n + 1):
        g = 0
        for q in range(n):
            g ^= (hashes[j + q] * POSITION[q % 8]) & MASK
        out.append(g)
    return out


def reference_signature(shingles: list[int]) -> list[int] | None:
    """One-permutation MinHash with optimal densification, as sketch's docstring states it."""
    if not shingles:
        return None
    bins: list[int | None] = [None] * sketch.NUM_PERM
    for g in shingles:
        x = ((g ^ sketch.SEED) * 0xBF58476D1CE4E5B9) & MASK
        x ^= x >> 31
        cell = ((x >> 32) * sketch.NUM_PERM) >> 32
        if bins[cell] is None or x < bins[cell]:
            bins[cell] = x
    filled = list(bins)
    for j, value in enumerate(bins):
        if value is None:  # the first occupied bin of its sequence, read among the bins as they were
            a = 0
            while bins[int(sketch._DENSIFY[j, a % sketch._DENSIFY.shape[1]])] is None:
                a += 1
            filled[j] = bins[int(sketch._DENSIFY[j, a % sketch._DENSIFY.shape[1]])]
    return filled


def reference_bands(signature: list[int]) -> list[int]:
    rows = sketch.NUM_PERM // sketch.BANDS
    out = []
    for b in range(sketch.BANDS):
        band = (b * POSITION[4]) & MASK
        for r in range(rows):
            band ^= (signature[b * rows + r] * POSITION[r]) & MASK
            band ^= band >> 29
        out.append(band)
    return out


# Characters of every kind the rules treat differently: separators (space, line end), spaces that
# are not separators (tab, carriage return, no-break space), the stripped punctuation, punctuation
# that is kept (#, $, %), letters whose lower case changes their length in bytes or is contextual
# (İ, Σ), other scripts, emoji.
ALPHABET = list("abcXYZ019 \n\t\r\u00a0#$%&+=@") + list(sketch.PUNCTUATION) + list("éÉßİΣσЖж中文😀")
TEXTS = st.text(alphabet=ALPHABET, max_size=120)
# Texts of many words: templated word lists joined by separators, so that shingles and phrases occur.
WORDY = st.lists(st.sampled_from(["good", "Good.", "fit", "(fit)", "--", "é", "İstanbul", "x", "'n'", "ΣΑΣ",
                                  "size!", "\n", "  ", "中文", "😀", "a\tb"]), max_size=60).map(" ".join)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(batch=st.lists(st.one_of(TEXTS, WORDY), min_size=1, max_size=8),
                  phrase_words=st.integers(3, 9))
def test_the_sketch_is_the_rules_text_by_text(batch: list[str], phrase_words: int) -> None:
    made = sketch.sketch(pl.Series(batch), phrase_words, texts.PHRASE_SAMPLE)
    phrases = np.split(made.phrases, np.cumsum(made.phrase_counts)[:-1])
    for t, text in enumerate(batch):
        hashes = [reference_hash(w) for w in reference_words(text)]
        shingles = reference_grams(hashes, sketch.SHINGLE_WORDS)
        assert made.word_count[t] == len(hashes)
        assert made.shingle_count[t] == len(set(shingles))
        assert phrases[t].tolist() == [g for g in reference_grams(hashes, phrase_words) if g % texts.PHRASE_SAMPLE == 0]
        signature = reference_signature(shingles)
        assert bool(made.held[t]) == (signature is not None)
        if signature is not None:
            assert made.bands[t].tolist() == reference_bands(signature)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(batch=st.lists(st.one_of(TEXTS, WORDY), min_size=1, max_size=8))
def test_polars_words_and_the_sketch_agree(batch: list[str]) -> None:
    # text_words splits with Polars (the words' strings are shown and read for names) and hashes
    # each word with word_hashes: its shingles are the sketch's, word for word
    frame = pl.DataFrame({"i": pl.Series(range(len(batch)), dtype=pl.UInt32), "review_text": batch})
    words = texts.text_words(frame.lazy()).collect()
    grams = texts.ngram_hashes(words.lazy(), sketch.SHINGLE_WORDS).select("i", "g").collect()
    sets = sketch.shingle_sets(frame["review_text"])
    for t in range(len(batch)):
        expected = sorted(set(grams.filter(pl.col("i") == t)["g"].to_list()))
        assert sets.values[sets.offsets[t]:sets.offsets[t + 1]].tolist() == expected
    assert words["word"].to_list() == [w for text in batch for w in reference_words(text)]
    assert words["h"].to_list() == [reference_hash(w) for w in words["word"]]
    cased = texts.text_words(frame.lazy(), cased=True).collect()
    assert cased["h"].to_list() == words["h"].to_list()


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(batch=st.lists(st.one_of(TEXTS, WORDY), min_size=1, max_size=6),
                  pairs=st.lists(st.tuples(st.integers(-1, 5), st.integers(-1, 5)), max_size=12))
def test_a_pairs_jaccard_is_its_shingle_sets(batch: list[str], pairs: list[tuple[int, int]]) -> None:
    # the exact similarity copy pairs are kept by: shared distinct shingles over all distinct
    # shingles of the two; a place outside the batch (-1, or past its end here: made -1) has none
    sets = [set(reference_grams([reference_hash(w) for w in reference_words(t)], sketch.SHINGLE_WORDS))
            for t in batch]
    pairs = [(a if a < len(batch) else -1, b if b < len(batch) else -1) for a, b in pairs]
    got = sketch.jaccard(sketch.shingle_sets(pl.Series(batch)), np.array([a for a, _ in pairs], dtype=np.int64),
                         np.array([b for _, b in pairs], dtype=np.int64))
    for (a, b), similarity in zip(pairs, got):
        x, y = (sets[a] if a >= 0 else set()), (sets[b] if b >= 0 else set())
        assert similarity == (len(x & y) / len(x | y) if x | y else 0.0)


def test_long_texts_grow_the_passes_buffers() -> None:
    # 3,000 distinct words (more than the 1,024 hashes and the set of 1,024 slots the pass starts
    # with) beside short texts before and after: every count is the text's own
    long = " ".join(f"w{k}" for k in range(3000))
    repeated = " ".join(["same words again"] * 700)
    batch = ["a b c d", long, "a b c d", repeated, "one"]
    made = sketch.sketch(pl.Series(batch), 4, texts.PHRASE_SAMPLE)
    alone = [sketch.sketch(pl.Series([t]), 4, texts.PHRASE_SAMPLE) for t in batch]
    assert made.word_count.tolist() == [4, 3000, 4, 2100, 1]
    # "same words again" repeated: its shingles are the 3 rotations
    assert made.shingle_count.tolist() == [2, 2998, 2, 3, 0]
    assert made.held.tolist() == [True, True, True, True, False]
    for t, one in enumerate(alone):
        assert made.bands[t].tolist() == one.bands[0].tolist()
        assert made.phrase_counts[t] == one.phrase_counts[0]
    sets = sketch.shingle_sets(pl.Series(batch))
    assert np.diff(sets.offsets).tolist() == made.shingle_count.tolist()


def test_a_null_or_empty_text_has_no_words() -> None:
    made = sketch.sketch(pl.Series([None, "", " \n ", "--- ..."], dtype=pl.String), 4, texts.PHRASE_SAMPLE)
    assert made.word_count.tolist() == [0, 0, 0, 0] and not made.held.any() and made.phrases.size == 0


def test_the_phrase_sample_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        sketch.sketch(pl.Series(["a b c d"]), 4, 3)
@pytest.mark.parametrize(("size", "jaccard"), [(1, 0.0), (1, 1.0), (3, 0.5), (6, 0.2), (20, 0.5),
                                               (100, 0.2), (100, 0.8), (400, 0.5)])
def test_a_minhash_value_agrees_between_two_texts_as_often_as_their_jaccard(size: int, jaccard: float) -> None:
    # 300 pairs of shingle sets of `size` each with the given Jaccard (shared / union): one value of
    # the signature agrees between a pair's texts with probability J, the densified empty bins of
    # small sets too (a set of 1 shingle fills all 60 from it). 18,000 values: the mean's standard
    # deviation is below 0.004, and the bound 0.025 is six of them.
    shared = round(2 * size * jaccard / (1 + jaccard))
    rng = np.random.default_rng(size * 1000 + int(jaccard * 100))
    pairs = 300
    i, g = [], []
    for p in range(pairs):
        pool = rng.integers(0, 2**63, size=2 * size - shared, dtype=np.uint64)
        a, b = pool[:size], np.concatenate([pool[:shared], pool[size:]])
        i += [np.full(size, 2 * p), np.full(size, 2 * p + 1)]
        g += [a, b]
    held, signatures = sketch.minhash(np.concatenate(i), np.concatenate(g), 2 * pairs)
    assert (held == np.arange(2 * pairs)).all() and signatures.shape == (2 * pairs, sketch.NUM_PERM)
    agree = (signatures[0::2] == signatures[1::2]).mean()
    exact = shared / (2 * size - shared)
    assert abs(agree - exact) < 0.025, (agree, exact)


def test_every_densification_sequence_reaches_every_bin() -> None:
    # an empty bin reads its sequence (wrapping) until it meets an occupied bin: every sequence
    # holding every bin is what makes that end for a text with a single occupied bin
    assert all(set(row.tolist()) == set(range(sketch.NUM_PERM)) for row in sketch._DENSIFY)
    held, signatures = sketch.minhash(np.zeros(1, dtype=np.uint32), np.array([7], dtype=np.uint64), 1)
    assert held.tolist() == [0] and len(set(signatures[0].tolist())) == 1


@hypothesis.settings(derandomize=True, max_examples=60, deadline=None)
@hypothesis.given(sets=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=30), min_size=1, max_size=6),
                  order=st.randoms(use_true_random=False))
def test_a_texts_signature_is_its_shingle_sets_alone(sets: list[list[int]], order) -> None:
    # the same set gives the same signature whatever the order, the repeats and the other texts of
    # the batch; a text without shingles has none
    def signed(rows: list[list[int]]) -> dict[int, tuple]:
        i = np.array([t for t, row in enumerate(rows) for _ in row], dtype=np.uint32)
        g = np.array([v for row in rows for v in row], dtype=np.uint64)
        held, signatures = sketch.minhash(i, g, len(rows))
        return {int(t): tuple(sig) for t, sig in zip(held, signatures)}
    alone = [signed([row]).get(0) for row in sets]
    shuffled = [order.sample(row, len(row)) + row[: len(row) // 2] for row in sets]
    together = signed(shuffled)
    for t, row in enumerate(sets):
        assert together.get(t) == alone[t]
        assert (alone[t] is None) == (not row)


