"""Distinctive terms (reviewpipe.metrics.terms): the tokenizer's terms and the log-odds z-scores of
Monroe, Colaresi & Quinn (2008) against values worked by hand from the paper's formula."""

from __future__ import annotations

import math
import re

import hypothesis
import hypothesis.strategies as st
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from reviewpipe.metrics import term_pass, terms


def test_the_z_score_of_a_term_is_the_papers_formula_worked_by_hand() -> None:
    # Group i (five-star reviews) uses "good" in 3 reviews, "bad" in 0, "plot" in 2 (n_i = 5); group
    # j (one-star) "good" 0, "bad" 2, "plot" 2 (n_j = 4). The prior: background shares 0.3, 0.2 and
    # 0.5 over a vocabulary of these three terms, alpha_0 = 10 pseudo-counts: alpha = 3, 2, 5.
    # good: delta = ln((3+3)/(5+10-3-3)) - ln((0+3)/(4+10-0-3)) = ln(6/9) - ln(3/11)
    #             = -0.405465 + 1.299283 = 0.893818; var = 1/6 + 1/3 = 0.5; z = 0.893818 / 0.707107
    # bad:  delta = ln((0+2)/(5+10-0-2)) - ln((2+2)/(4+10-2-2)) = ln(2/13) - ln(4/10)
    #             = -1.871802 + 0.916291 = -0.955511; var = 1/2 + 1/4 = 0.75
    # plot: delta = ln((2+5)/(5+10-2-5)) - ln((2+5)/(4+10-2-5)) = ln(7/8) - ln(7/7) = -0.133531;
    #       var = 1/7 + 1/7
    z = terms.log_odds_z(np.array([3, 0, 2]), 5, np.array([0, 2, 2]), 4, np.array([3.0, 2.0, 5.0]), alpha0=10)
    assert z == pytest.approx([1.264050, -1.103329, -0.249814], abs=1e-6)
    # the same from the formula's own terms, written out again
    assert z[0] == pytest.approx((math.log(6 / 9) - math.log(3 / 11)) / math.sqrt(1 / 6 + 1 / 3), rel=1e-12)
    assert z[1] == pytest.approx((math.log(2 / 13) - math.log(4 / 10)) / math.sqrt(1 / 2 + 1 / 4), rel=1e-12)
    assert z[2] == pytest.approx((math.log(7 / 8) - math.log(7 / 7)) / math.sqrt(2 / 7), rel=1e-12)


def test_fightin_words_scales_the_background_to_the_priors_size() -> None:
    # Praise: "great" in 4 reviews, "plot" in 1 (n_i = 5); complaints: "boring" in 3, "plot" in 2
    # (n_j = 5). Background counts great 10, boring 30, plot 60, popcorn 100 of 200: shares 0.05,
    # 0.15, 0.3 (and 0.5), scaled to a prior of 10 pseudo-counts over the whole vocabulary:
    # alpha great 0.5, boring 1.5, plot 3, alpha_0 10 (not 5, the compared terms' alone).
    praise = pl.DataFrame({"term": ["great", "plot"], "reviews": [4, 1]})
    complaints = pl.DataFrame({"term": ["boring", "plot"], "reviews": [3, 2]})
    background = pl.DataFrame({"term": ["great", "boring", "plot", "popcorn"], "reviews": [10, 30, 60, 100]})
    out = terms.fightin_words(praise, complaints, background, prior_size=10)
    # great: ln(4.5/10.5) - ln(0.5/14.5) over sqrt(1/4.5 + 1/0.5); plot: ln(4/11) - ln(5/10) over
    # sqrt(1/4 + 1/5); boring: ln(1.5/13.5) - ln(4.5/10.5) over sqrt(1/1.5 + 1/4.5)
    expected = {
        "great": (math.log(4.5 / 10.5) - math.log(0.5 / 14.5)) / math.sqrt(1 / 4.5 + 1 / 0.5),
        "plot": (math.log(4 / 11) - math.log(5 / 10)) / math.sqrt(1 / 4 + 1 / 5),
        "boring": (math.log(1.5 / 13.5) - math.log(4.5 / 10.5)) / math.sqrt(1 / 1.5 + 1 / 4.5),
    }
    assert out["term"].to_list() == ["great", "plot", "boring"]  # by z, praise first
    assert out["z"].to_list() == pytest.approx([expected[t] for t in out["term"]], rel=1e-12)
    assert out["y_i"].to_list() == [4, 1, 0] and out["y_j"].to_list() == [0, 2, 3]
    # a background that misses a compared term, or counts it less often than the groups do
    for short in (background.filter(pl.col("term") != "plot"),
                  background.with_columns(reviews=pl.when(pl.col("term") == "boring").then(2).otherwise("reviews"))):
        with pytest.raises(ValueError, match="less often than the compared groups"):
            terms.fightin_words(praise, complaints, short, prior_size=10)


def test_a_reviews_terms_are_its_words_and_phrases_within_clauses_without_stop_words_at_their_ends() -> None:
    reviews = pl.LazyFrame({"review_id": ["a", "b"], "title_id": ["t", "t"],
                            "review_text": ["The battery life is not worth it. Waste of money, waste!",
                                            "Great battery life; I don’t regret it"]})
    found = terms.review_terms(reviews).collect()
    by_review = {r: sorted(g["term"].to_list()) for (r,), g in found.group_by("review_id")}
    # "the", "is", "it", "of", "i" are stop words: never a term, never a phrase's end; "not" and
    # "don't" are not (negations); "waste" once though written twice; no phrase spans ". ", ", " or "; "
    assert by_review["a"] == sorted(["battery", "life", "not", "worth", "waste", "money", "battery life",
                                     "not worth", "life is not", "waste of money"])
    assert by_review["b"] == sorted(["great", "battery", "life", "don't", "regret", "great battery",
                                     "battery life", "don't regret", "great battery life"])
    assert found.select(pl.col("words").max()).item() == 3


WORD = st.sampled_from(["good", "bad", "the", "of", "not", "Battery", "life", "it's", "plot", "x2"])
TEXT = st.lists(st.tuples(WORD, st.sampled_from([" ", " ", ", ", ". ", "! ", " (", ") ", "; ", "\n"])),
                max_size=12).map(lambda parts: "".join(w + sep for w, sep in parts))


@hypothesis.given(texts=st.lists(TEXT, min_size=1, max_size=5))
def test_no_term_is_or_ends_in_a_stop_word_nor_holds_punctuation(texts: list[str]) -> None:
    reviews = pl.LazyFrame({"review_id": [f"r{i}" for i in range(len(texts))], "review_text": texts})
    found = terms.review_terms(reviews).collect()
    for term, words in found.select("term", "words").iter_rows():
        parts = term.split(" ")
        assert len(parts) == words and 1 <= words <= 3
        assert parts[0] not in terms.STOP_WORDS and parts[-1] not in terms.STOP_WORDS, term
        assert term == term.lower() and not any(c in term for c in ".,;:!?()\n"), term
    # a term a review's text holds in its clauses, lower-cased, word for word
    for review_id, text in reviews.collect().iter_rows():
        clauses = [" ".join(c.split()) for c in text.lower().replace("(", ".").replace(")", ".").replace(";", ".")
                   .replace(",", ".").replace("!", ".").replace("\n", ".").split(".")]
        for term in found.filter(pl.col("review_id") == review_id)["term"]:
            assert any(f" {term} " in f" {c} " for c in clauses), (term, text)
    assert found.select("review_id", "term").is_unique().all()


# Texts of words, stop words, apostrophes, non-ASCII letters and punctuation, clause breaks and
# the Unicode marks written as ASCII: what the two tokenizers could read apart.
PIECE = st.sampled_from(["good", "Bad", "the", "of", "not", "it's", "'quoted'", "''", "don’t", "café", "naïve",
                         "ÉTÉ", "x2", "10", "İstanbul", "—", "…", "\u00a0", " ", " ", " ", ", ", ". ", "!", "(",
                         ")", ";", "\n", "-", "/", "&", "“", "”", "\t", "🙂", "l'amour", "a"])


@hypothesis.settings(deadline=None)  # (the first example loads the compiled pass)
@hypothesis.given(texts=st.lists(st.lists(PIECE, max_size=16).map("".join), min_size=1, max_size=6))
def test_the_compiled_pass_finds_the_terms_review_terms_finds(texts: list[str]) -> None:

    # each text its own title, every term kept: the title's terms are the text's, in the order first met
    n = len(texts)
    made = term_pass.title_term_stats(pl.Series(texts), np.arange(n + 1), pl.Series([None] * n, dtype=pl.String),
                                      *_sentences([None] * n, [None] * n))
    reference = terms.review_terms(pl.LazyFrame({"review_id": [str(i) for i in range(n)],
                                                 "review_text": texts})).collect()
    hashed = reference.with_columns(hash=term_pass.term_hashes(reference["term"]))
    for i in range(n):
        mine = made.hashes[made.title == i]
        theirs = hashed.filter(pl.col("review_id") == str(i))
        assert sorted(mine.tolist()) == sorted(theirs["hash"].to_list()), (texts[i], theirs["term"].to_list())
        by_hash = dict(zip(theirs["hash"].to_list(), theirs["words"].to_list()))
        assert [by_hash[h] for h in mine.tolist()] == made.words[made.title == i].tolist()


@hypothesis.settings(deadline=None)  # (the first example loads the compiled pass)
@hypothesis.given(texts=st.lists(st.one_of(st.none(), st.text(), st.text(st.characters(max_codepoint=127)),
                                            st.lists(PIECE, max_size=12).map("".join)), max_size=12),
                  rechunked=st.booleans())
@hypothesis.example(texts=["".join(map(chr, range(128))), "ÀÉ" + "".join(map(chr, range(128)))], rechunked=False)
def test_the_pass_reads_every_text_as_ascii_punctuation_writes_it(texts: list[str | None], rechunked: bool) -> None:
    # ASCII texts are lower-cased by the pass, the others by Polars: both must read as Polars writes them
    series = pl.Series(texts, dtype=pl.String)
    if rechunked:  # a slice of two chunks: Arrow arrays with an offset
        series = pl.concat([pl.Series(["ÆX"]), series], rechunk=False).slice(1)
    values, offsets = term_pass._bytes(series, 3)
    expected = series.to_frame("t").select(terms.ascii_punctuation(pl.col("t")))["t"].fill_null("")
    assert offsets.size == len(texts) + 1
    assert [bytes(values[offsets[k]:offsets[k + 1]]).decode() for k in range(len(texts))] == expected.to_list()


def test_the_pass_reads_only_its_texts_bytes_of_an_arrow_buffer_holding_others(monkeypatch) -> None:
    # sketch._utf8 hands over Arrow's buffers without a copy: a sliced array's buffer holds other
    # texts' bytes (here non-ASCII ones) before and after its own
    import pyarrow as pa

    from reviewpipe.trust import sketch
    sliced = pa.array(["ÆX", "abc", "DÉF", "Zz", "ÉÉ"], pa.large_string()).slice(1, 3)
    buffer_of = sketch._utf8
    monkeypatch.setattr(sketch, "_utf8", lambda texts: (
        (np.frombuffer(sliced.buffers()[2], np.uint8), np.frombuffer(sliced.buffers()[1], np.int64)[1:5])
        if texts.to_list() == sliced.to_pylist() else buffer_of(texts)))
    values, offsets = term_pass._bytes(pl.Series(sliced.to_pylist()), 3)
    assert [bytes(values[offsets[k]:offsets[k + 1]]).decode() for k in range(3)] == ["abc", "déf", "zz"]


def _sentences(ends: list, compounds: list) -> tuple[pl.Series, pl.Series]:
    """Texts' sentence ends and compounds (lists; None: none) as the sentiment cache keeps them."""
    return (pl.Series([None if e is None else np.array(e, "<i4").tobytes() for e in ends], dtype=pl.Binary),
            pl.Series([None if c is None else np.array(c, "<f8").tobytes() for c in compounds], dtype=pl.Binary))


def _occurrences(text: str) -> list[tuple[str, int, int]]:
    """Each term occurrence of a text in order (term, first character, end character), by the module's
    rules written again in Python: the reference the compiled pass's places are held to."""
    lowered = "".join(terms.PUNCTUATION_AS_ASCII.get(c, c) for c in text).lower()
    word_char = "a-z0-9\u0080-\U0010ffff"
    words, clause = [], 0
    for m in re.finditer(rf"[{word_char}]+(?:'+[{word_char}]+)*|[{re.escape(terms.CLAUSE_BREAKS)}]", lowered):
        if m.group() in terms.CLAUSE_BREAKS:
            clause += 1
        else:
            words.append((m.group(), m.start(), m.end(), clause))
    found = []
    for j in range(len(words)):
        for n in range(1, 4):
            part = words[j:j + n]
            if len(part) < n or part[-1][3] != part[0][3]:
                break
            if part[0][0] not in terms.STOP_WORDS and part[-1][0] not in terms.STOP_WORDS:
                found.append((" ".join(w[0] for w in part), part[0][1], part[-1][2]))
    return found


@hypothesis.settings(deadline=None)
@hypothesis.given(reviews=st.lists(st.tuples(st.sampled_from(["t0", "t1", "t2"]),
                                             st.sampled_from(["negative", "middle", "positive", None]),
                                             st.lists(PIECE, max_size=12).map("".join),
                                             st.lists(st.integers(1, 40), max_size=4)), min_size=1, max_size=12),
                  min_reviews=st.integers(1, 3))
def test_the_compiled_per_title_counts_are_review_terms_counted(reviews, min_reviews: int) -> None:

    frame = pl.DataFrame(reviews, schema={"title_id": pl.String, "rating_class": pl.String, "review_text": pl.String,
                                          "steps": pl.List(pl.Int64)}, orient="row").sort(
        "title_id", maintain_order=True).with_columns(review_id=pl.int_range(pl.len()).cast(pl.String))
    # sentences anywhere (the pass takes the ends it is given): ends climbing by the steps, a compound each
    frame = frame.with_columns(sentence_ends=pl.col("steps").list.eval(pl.element().cum_sum()).cast(pl.List(pl.Int32)),
                               sentence_compounds=pl.col("steps").list.eval(pl.element() / 41 - 0.5))
    titles = frame["title_id"].unique(maintain_order=True)
    starts = np.searchsorted(frame["title_id"].to_numpy(), titles.to_numpy()).tolist() + [frame.height]
    kept_ends, kept_compounds = _sentences(frame["sentence_ends"].to_list(), frame["sentence_compounds"].to_list())
    made = term_pass.title_term_stats(frame["review_text"], np.array(starts), frame["rating_class"], kept_ends,
                                      kept_compounds, min_reviews)
    got = {(titles[int(t)], int(h)): (int(w), c.tolist()) for t, h, w, c in zip(made.title, made.hashes, made.words,
                                                                              made.counts)}
    found = terms.review_terms(frame.lazy().select("title_id", "rating_class", "review_id", "review_text")).collect()
    expected = {}
    for (title, term), rows in found.group_by("title_id", "term"):
        if rows.height >= min_reviews:  # the reviews using it, per class as CLASSES orders them
            by_class = [rows.filter(pl.col("rating_class").eq_missing(c)).height for c in term_pass.CLASSES]
            expected[(title, term_pass.term_hashes(pl.Series([term]))[0])] = (rows["words"][0], by_class)
    assert got == expected
    # the sentences and examples, against the Python rules: per title and term, the sentences its
    # reviews mention it in (each once), their compounds summed in text order, and its first place in
    # the first review of any class, of the positive class, of the negative class
    stats: dict = {}
    for i, (title, klass, text, ends, compounds) in enumerate(frame.select(
            "title_id", "rating_class", "review_text", "sentence_ends", "sentence_compounds").iter_rows()):
        for term, first, end in _occurrences(text):
            entry = stats.setdefault((title, term), {"sentences": [], "sum": 0.0, "examples": {}})
            sentence = next((k for k, e in enumerate(ends) if e > first), None)
            if sentence is not None and (i, sentence) not in entry["sentences"]:
                entry["sentences"].append((i, sentence))
                entry["sum"] += compounds[sentence]
            for example, wanted in zip(term_pass.EXAMPLES, (None, "positive", "negative")):
                if example not in entry["examples"] and wanted in (None, klass):
                    entry["examples"][example] = (i, first, end)
    hashes = {key: term_pass.term_hashes(pl.Series([key[1]]))[0] for key in stats}
    for k in range(made.title.size):
        key = next(key for key in stats if key[0] == titles[int(made.title[k])] and hashes[key] == made.hashes[k])
        entry = stats[key]
        assert made.mentions[k] == len(entry["sentences"]) and made.compound_sum[k] == entry["sum"], key
        for e, example in enumerate(term_pass.EXAMPLES):
            place = (int(made.example_review[k, e]), int(made.example_start[k, e]), int(made.example_end[k, e]))
            assert (place if place[0] >= 0 else None) == entry["examples"].get(example), (key, example)
    args = (frame["rating_class"], kept_ends, kept_compounds)
    with pytest.raises(ValueError, match="max_words"):  # a multiplier per place: 8 of them
        term_pass.title_term_stats(frame["review_text"], np.array(starts), *args, max_words=9)
    with pytest.raises(ValueError, match="title_starts"):  # titles that do not cover the texts
        term_pass.title_term_stats(frame["review_text"], np.array(starts[:-1] + [frame.height + 1]), *args)
    with pytest.raises(pl.exceptions.InvalidOperationError):  # a class that is none of CLASSES
        term_pass.title_term_stats(frame["review_text"], np.array(starts), pl.Series(["positve"] * frame.height),
                                   *args[1:])
    with pytest.raises(ValueError, match="as many sentence compounds"):
        term_pass.title_term_stats(frame["review_text"], np.array(starts), args[0], args[1], _sentences(
            [None] * frame.height, [[*c, 0.5] for c in frame["sentence_compounds"].to_list()])[1])


def test_a_titles_term_stats_worked_by_hand() -> None:

    # one title, its reviews in example order (most helpful first); sentences end where the '|'
    # marks would be, with the compounds given
    texts = ["Great battery. Battery battery died!", "battery is great", "Awful battery."]
    ends = [[14, 36], [16], [14]]
    compounds = [[0.5, -0.25], [0.25], [-0.5]]
    made = term_pass.title_term_stats(pl.Series(texts), np.array([0, 3]), pl.Series(["positive", "middle", "negative"]),
                                      *_sentences(ends, compounds), min_reviews=2)
    by_term = dict(zip(term_pass.term_hashes(pl.Series(["battery", "great"])).to_list(), ["battery", "great"]))
    got = {by_term[int(h)]: (c.tolist(), int(m), float(s), r.tolist(), a.tolist(), b.tolist())
           for h, c, m, s, r, a, b in zip(made.hashes, made.counts, made.mentions, made.compound_sum,
                                          made.example_review, made.example_start, made.example_end)}
    assert got == {
        # in all three reviews (one of each class: negative, middle, positive, unrated counts); in
        # four sentences, the second one of the first review once though it says it twice:
        # 0.5 - 0.25 + 0.25 - 0.5 = 0; first used in review 0 at characters 6-13 ("battery"), the
        # negative review's at 6-13 too
        "battery": ([1, 1, 1, 0], 4, 0.0, [0, 0, 2], [6, 6, 6], [13, 13, 13]),
        # in reviews 0 and 1 (positive, middle): two sentences, 0.5 + 0.25; no negative review uses it
        "great": ([0, 1, 1, 0], 2, 0.75, [0, 0, -1], [0, 0, 0], [5, 5, 0]),
    }
    # "battery died", "awful battery" and the others: one review each, below min_reviews
    assert made.title.tolist() == [0, 0]


# z-scores this close are a tie to rounding (test_title_sides_are_fightin_words_...)
TIE = 1e-9
KEPT = st.lists(st.tuples(st.sampled_from(["t0", "t1", "t2"]), st.integers(0, 7),
                          *[st.integers(0, 30) for _ in range(4)]), min_size=1, max_size=30)


@hypothesis.settings(deadline=None)
@hypothesis.given(rows=KEPT, top=st.integers(1, 4), min_z=st.sampled_from([0.0, 0.5, 1.96]), min_reviews=st.integers(1, 5))
def test_title_sides_are_fightin_words_per_title_with_the_kept_counts_as_prior(rows, top, min_z, min_reviews) -> None:
    kept = (pl.DataFrame(rows, schema=["title_id", "term", "negative", "middle", "positive", "unrated"], orient="row")
            .unique(["title_id", "term"]).filter(pl.sum_horizontal("negative", "middle", "positive", "unrated") > 0))
    hypothesis.assume(kept["term"].n_unique() > 1)  # (one term alone has no z: title_sides gives none)
    got = term_pass.title_sides(kept, top=top, min_z=min_z, min_reviews=min_reviews)
    # the same whether each title's rows come together (as the terms stage keeps them) or not
    together = term_pass.title_sides(kept.sort("title_id"), top=top, min_z=min_z, min_reviews=min_reviews)
    assert_frame_equal(together, got.select(together.columns))
    everything = kept.with_columns(reviews=pl.sum_horizontal("negative", "middle", "positive", "unrated"))
    background = everything.group_by("term").agg(pl.col("reviews").sum())
    for title in kept["title_id"].unique():
        own = everything.filter(pl.col("title_id") == title)
        rest = background.join(own.select("term", own="reviews"), on="term", how="left").select(
            "term", reviews=pl.col("reviews") - pl.col("own").fill_null(0))
        praise = terms.fightin_words(own.select("term", reviews="positive"), own.select("term", reviews="negative"),
                                     background)
        distinctive = terms.fightin_words(own.select("term", "reviews"), rest, background).filter(
            pl.col("term").is_in(own["term"].implode()))
        for side, ranked in (("praise", praise), ("complaint", praise.with_columns(pl.col("z") * -1, y_i="y_j")),
                             ("distinctive", distinctive)):
            candidates = ranked.filter(pl.col("y_i") >= min_reviews).sort(["z", "term"], descending=[True, False])
            mine = got.filter(pl.col("title_id") == title, pl.col("side") == side).sort("rank")
            assert mine["rank"].to_list() == list(range(1, mine.height + 1))
            # the compiled pass's logarithms are libm's, numpy's its own: a z the formula makes 0 can
            # come out 1e-14 in one and 0 in the other, so a term within TIE of another's z (or of
            # min_z) may rank either way; all else exactly as fightin_words ranks it
            z_of = dict(zip(candidates["term"], candidates["z"]))
            np.testing.assert_allclose(mine["z"].to_numpy(), [z_of[t] for t in mine["term"]], rtol=1e-12, atol=TIE)
            assert (mine["z"] >= min_z - TIE).all() and (mine["z"].diff().drop_nulls() <= 0).all()
            # equal counts and prior give the same z in both: ties go to the lower term
            ties = mine.filter(pl.col("z") == pl.col("z").shift(-1))
            assert (ties["term"] < mine.filter(pl.col("z") == pl.col("z").shift(1))["term"]).all()
            worst = mine["z"].min() if mine.height == top else min_z
            assert set(candidates.filter(pl.col("z") > worst + TIE)["term"]) <= set(mine["term"]), (title, side)
            z = candidates["z"].to_numpy()
            if not (np.diff(z) > -TIE).any() and not (np.abs(z - min_z) < TIE).any():  # no near tie: exact
                expected = candidates.filter(pl.col("z") >= min_z).head(top)
                assert mine["term"].to_list() == expected["term"].to_list(), (title, side)


def test_a_vocabulary_of_one_term_is_compared_with_nothing() -> None:
    # its prior share is 1: every z is 0 / 0; no rows rather than NaN ones
    kept = pl.DataFrame({"title_id": ["t0", "t1"], "term": [5, 5], "negative": [0, 4], "middle": [1, 0],
                         "positive": [9, 0], "unrated": [0, 0]})
    assert term_pass.title_sides(kept, top=3, min_z=-10.0, min_reviews=1).is_empty()
    two = kept.vstack(kept.head(1).with_columns(term=pl.lit(6, pl.Int64)))
    assert term_pass.title_sides(two, top=3, min_z=-10.0, min_reviews=1).height > 0


def test_a_title_of_thousands_of_terms_is_counted_as_review_terms_counts_it() -> None:
    # the pass's tables start at 1,024 terms and double: a title of some 5,000 terms fills them
    # several times over, and the next title (t1) starts from emptied ones

    texts = [" ".join(f"w{(i * 7 + k) % 900}" for k in range(600)) for i in range(3)] + ["w1 w2. w1", "w1 w2"]
    frame = pl.DataFrame({"review_id": [str(i) for i in range(5)], "title_id": ["t0"] * 3 + ["t1"] * 2,
                          "rating_class": ["positive", "negative", None, "middle", "middle"], "review_text": texts})
    made = term_pass.title_term_stats(frame["review_text"], np.array([0, 3, 5]), frame["rating_class"],
                                      *_sentences([None] * 5, [None] * 5), min_reviews=2)
    found = terms.review_terms(frame.lazy()).collect().group_by("title_id", "term").agg(
        [pl.col("rating_class").eq_missing(c).sum().alias(str(c)) for c in term_pass.CLASSES]).filter(
        pl.sum_horizontal(str(c) for c in term_pass.CLASSES) >= 2)
    expected = {(t, term_pass.term_hashes(pl.Series([term]))[0]): list(counts) for t, term, *counts in found.iter_rows()}
    got = {(["t0", "t1"][t], h): c.tolist() for t, h, c in zip(made.title, made.hashes, made.counts)}
    assert len(got) > 1500 and got == expected
    assert made.mentions.sum() == 0  # no sentences given


def test_a_term_a_longer_one_holds_in_the_same_reviews_is_left_out() -> None:
    counts = {"negative_reviews": [0] * 6, "middle_reviews": [1] * 6, "unrated_reviews": [0] * 6}
    ranked = pl.DataFrame({
        "title_id": ["t"] * 6, "side": ["complaint"] * 6, "rank": [1, 2, 3, 4, 5, 6],
        "term": ["cash", "cash grab", "grab", "sad", "cash grabbing", "cynical cash grab"],
        "positive_reviews": [9, 9, 9, 9, 9, 8], **counts})
    kept = terms.without_contained(ranked, top=3)
    # "cash" and "grab" are in "cash grab" with the same counts: out; "cash grab" is in "cynical cash
    # grab", but that one has other counts (8 positive): it stays; "cash grabbing" holds no shorter
    # term word for word ("grab" is not "grabbing"); the first three ranked again from 1
    assert kept.select("term", "rank").rows() == [("cash grab", 1), ("sad", 2), ("cash grabbing", 3)]
    # the same terms on another side or title are not compared
    other = ranked.with_columns(side=pl.when(pl.col("term") == "cash").then(pl.lit("praise")).otherwise("side"))
    assert "cash" in terms.without_contained(other, top=6)["term"].to_list()
