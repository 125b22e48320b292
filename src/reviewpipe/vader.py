"""vaderSentiment 3.3.2's four scores for many texts at once, computed on a frame of tokens.

vaderSentiment's `polarity_scores` handles one text at a time in Python, and lower-cases the whole
token list again inside its negation, idiom and "but" checks, once per token, so its cost grows with
the square of a review's length. `polarity_scores` here takes a batch of texts and computes the same
rules column by column with Polars:

1. each text is split at whitespace (Python's `str.split()` whitespace: Unicode White_Space and
   U+001C..U+001F), punctuation is stripped from each token unless that leaves 2 characters or
   fewer, and the tokens are lower-cased and tested for ALL CAPS (Python's `str.isupper`), once
   per distinct token of the batch;
2. only the tokens that can carry a valence (lexicon words that are not boosters) are kept, with the
   lower-cased tokens up to 3 before and 2 after them in their text;
3. vaderSentiment's `sentiment_valence` rules ("no", caps, boosters, negation, idioms, "least",
   "kind of") run as column expressions over those rows, in vaderSentiment's order of operations,
   so every float is the same (the words they look up are looked up once per distinct token);
4. per text, the "but" rule scales the valences before and after the first "but" (as columns; in
   Python, as vaderSentiment runs it, for the texts where its quirk matters: it scales the *first*
   valence equal to each one, as `list.index` does), the non-zero valences are summed in order
   (`cum_sum`, as Python's `sum` adds), and `score_valence`'s arithmetic and Python's `round` give
   the four scores.

The results are held to vaderSentiment's exact values (==, not approximately) on every text of the
real corpora and on every sentence of them (tests/test_acceptance_vader.py), on generated texts
made of the tokens every rule looks for (tests/test_sentiment.py), and the tokenizer's whitespace,
case and ALL-CAPS tests on every Unicode code point (tests/test_vader.py).
"""

from __future__ import annotations

import itertools
import string
from bisect import insort
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

import numpy as np
import polars as pl
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

# (compound, pos, neu, neg), as polarity_scores' dict holds them
Polarity = tuple[float, float, float, float]
POLARITY_SCHEMA = {"compound": pl.Float64, "pos": pl.Float64, "neu": pl.Float64, "neg": pl.Float64}

# Python's str.split() splits at str.isspace() characters: Unicode White_Space (the regex \s) and
# the four separators U+001C..U+001F (tests/test_vader.py checks every code point)
WHITESPACE = r"[\s\x1c-\x1f]"
# Every emoji, every whitespace character but " " and every character of UNICODE_DIFFERENCES lies
# outside printable ASCII: texts without such a character (most reviews) need none of the work
# those need.
UNUSUAL = r"[^ -~]"
# str.isupper(): no Lowercase or titlecase character and at least one Uppercase one
ALL_CAPS = r"^[^\p{Lowercase}\p{Lt}]*\p{Uppercase}[^\p{Lowercase}\p{Lt}]*$"
# Code points whose case Python 3.11's Unicode 14 database and Polars' newer one see differently
# (assigned or changed in Unicode 15 and 16; tests/test_vader.py finds them all again): a text
# holding one is scored by vaderSentiment itself.
UNICODE_DIFFERENCES = (
    "[\U000010fc\U00001c89-\U00001c8a\U0000a7cb-\U0000a7ce\U0000a7d2\U0000a7d4\U0000a7da-\U0000a7dc"
    "\U0000a7f2-\U0000a7f4\U0000ab69\U00010d50-\U00010d65\U00010d70-\U00010d85\U00016ea0-\U00016eb8"
    "\U0001df25-\U0001df2a\U0001e030-\U0001e06d]"
)
# the booster n-grams _special_idioms_check looks for (BOOSTER_DICT's keys with a space)
_BOOSTER_NGRAMS = {k: float(v) for k, v in BOOSTER_DICT.items() if " " in k}
# the words of those n-grams and of the special cases (idioms)
_IDIOM_WORDS = sorted({word for key in (*SPECIAL_CASES, *_BOOSTER_NGRAMS) for word in key.split()})

col = pl.col


@cache
def _lexicons() -> tuple[dict[str, str], pl.Series, pl.Series, pl.Series, SentimentIntensityAnalyzer]:
    """vaderSentiment's emoji descriptions, its lexicon's words, their valences and the words that
    can carry one (lexicon words that are not boosters: those always score 0), and its analyzer."""
    analyzer = SentimentIntensityAnalyzer()
    lexicon = analyzer.lexicon
    words = pl.Series(list(lexicon), dtype=pl.String)
    valences = pl.Series([float(v) for v in lexicon.values()], dtype=pl.Float64)
    valued = pl.Series([w for w in lexicon if w not in BOOSTER_DICT], dtype=pl.String)
    return analyzer.emojis, words, valences, valued, analyzer


def polarity_scores(texts: Sequence[str]) -> list[Polarity]:
    """vaderSentiment 3.3.2's (compound, pos, neu, neg) for each text, in order."""
    return polarity_frame(texts).rows()


def polarity_frame(texts: Sequence[str]) -> pl.DataFrame:
    """vaderSentiment 3.3.2's scores of each text, one row per text in order: columns compound,
    pos, neu, neg (polarity_scores' tuples, as columns)."""
    if not texts:
        return pl.DataFrame(schema=POLARITY_SCHEMA)
    text = pl.Series("text", texts, dtype=pl.String)
    unusual = text.str.contains(UNUSUAL).arg_true()
    odd = set(unusual.filter(text.gather(unusual).str.contains(UNICODE_DIFFERENCES)).to_list())
    if odd:
        plain = polarity_scores([t for i, t in enumerate(texts) if i not in odd])[::-1]
        reference = _lexicons()[4].polarity_scores
        return pl.DataFrame([_polarity(reference(t)) if i in odd else plain.pop() for i, t in enumerate(texts)],
                            schema=POLARITY_SCHEMA, orient="row")
    docs, tokens = _tokens(_prepared(text, unusual))
    hits = _valences(_hits(docs, tokens), tokens.distinct)
    sums = _sums(docs, tokens, hits.filter(col.valence != 0))
    return _scores(docs.join(sums, on="doc", how="left"))


def _polarity(scores: dict[str, float]) -> Polarity:
    return scores["compound"], scores["pos"], scores["neu"], scores["neg"]


def _prepared(text: pl.Series, unusual: pl.Series) -> pl.Series:
    """The texts, in the rows `unusual` (those that hold a character outside printable ASCII) with
    vaderSentiment's emoji replacement and every whitespace character made a space, so that they
    split at spaces as str.split() splits them."""
    if unusual.is_empty():
        return text
    emojis = _lexicons()[0]
    subset = text.gather(unusual)
    holding = subset.str.contains_any([e for e in emojis if len(e) == 1]).arg_true()
    if len(holding):
        subset = subset.scatter(holding, [_replace_emojis(t, emojis) for t in subset.gather(holding)])
    return text.scatter(unusual, subset.str.replace_all(WHITESPACE, " "))


def _split(text: pl.Series) -> pl.Series:
    """Each prepared text's tokens, as str.split() gives them."""
    return text.str.split(" ").list.filter(pl.element() != "")


def _replace_emojis(text: str, emojis: dict[str, str]) -> str:
    """polarity_scores' emoji replacement: each emoji character becomes its description."""
    out: list[str] = []
    prev_space = True
    for ch in text:
        if ch in emojis:
            if not prev_space:
                out.append(" ")
            out.append(emojis[ch])
            prev_space = False
        else:
            out.append(ch)
            prev_space = ch == " "
    return "".join(out).strip()


class Tokens(NamedTuple):
    """The tokens of a batch of texts, in text order: each token's code (UInt32), an index into
    `distinct`, which holds each distinct token's lower-cased form (lower) and whether it is in ALL
    CAPS (caps)."""

    codes: pl.Series
    distinct: pl.DataFrame


def _tokens(text: pl.Series) -> tuple[pl.DataFrame, Tokens]:
    """Per text (doc): its token count n, the row of its first token, its "!" and "?" counts and
    its count of ALL-CAPS tokens; and the tokens.

    A token is SentiText's: punctuation stripped unless that leaves 2 characters or fewer. Words
    repeat (a batch holds far fewer distinct tokens than tokens), so each distinct token is
    stripped, lower-cased and tested for ALL CAPS once.
    """
    tokens = _split(text)
    n = tokens.list.len().cast(pl.Int64)
    first_row = n.cum_sum() - n
    # a fresh category list numbers this batch's distinct tokens (codes, 0, 1, ...); token holds
    # each code's token
    categorical = tokens.explode().drop_nulls().cast(pl.Categorical(pl.Categories.random()))
    codes = categorical.to_physical()
    present = categorical.unique()
    token = pl.Series([None], dtype=pl.String).new_from_index(0, (codes.max() or 0) + 1).scatter(
        present.to_physical(), present.cast(pl.String))
    stripped = token.str.strip_chars(string.punctuation)
    word = pl.select(pl.when(stripped.str.len_chars() <= 2).then(token).otherwise(stripped)).to_series()
    distinct = pl.DataFrame({"lower": word.str.to_lowercase(), "caps": word.str.contains(ALL_CAPS)})
    # a text's ALL-CAPS tokens: the running count after its last token less the count before its first
    caps = pl.concat([pl.Series([0], dtype=pl.Int64),
                      distinct["caps"].gather(codes).cast(pl.Int64).cum_sum()])
    docs = pl.DataFrame({
        "doc": pl.int_range(len(text), dtype=pl.Int64, eager=True),
        "n": n,
        "first_row": first_row,
        "exclamations": text.str.count_matches("!", literal=True).cast(pl.Int64),
        "questions": text.str.count_matches("?", literal=True).cast(pl.Int64),
        "caps": caps.gather(first_row + n) - caps.gather(first_row),
    })
    return docs, Tokens(codes, distinct)


def _positions(docs: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The row, doc and position i in its text of the tokens at `rows` (ascending)."""
    rows = rows.cast(pl.Int64)
    doc = docs["first_row"].search_sorted(rows, side="right").cast(pl.Int64) - 1
    return pl.DataFrame({"row": rows, "doc": doc, "i": rows - docs["first_row"].gather(doc)})


def _hits(docs: pl.DataFrame, tokens: Tokens) -> pl.DataFrame:
    """The tokens that can carry a valence, with their text's n and cap differential (some but not
    all tokens in ALL CAPS) and the tokens around them: lower-cased `before_k`/`after_k`, caps
    flags `caps_before_k` and codes `code_before_k`/`code_after_k` (the hit's own: `code`), null
    where the text has no such token."""
    codes, distinct = tokens
    valued = distinct["lower"].is_in(_lexicons()[3].implode())
    rows = _positions(docs, valued.gather(codes).arg_true())
    rows = rows.join(docs.select("doc", "n", cap_diff=(col.n - col.caps > 0) & (col.caps > 0)),
                     on="doc", how="left", maintain_order="left")
    row, i, n = rows["row"], rows["i"], rows["n"]
    last = max(len(codes) - 1, 0)
    code = codes.gather(row)
    around = {"lower": distinct["lower"].gather(code), "caps": distinct["caps"].gather(code), "code": code}
    for k in (-3, -2, -1, 1, 2):
        inside = ((i + k) >= 0) & ((i + k) < n)
        at = codes.gather((row + k).clip(0, last))
        name = f"before_{-k}" if k < 0 else f"after_{k}"
        around[name] = distinct["lower"].gather(at).zip_with(inside, pl.Series([None], dtype=pl.String))
        around[f"code_{name}"] = at.zip_with(inside, pl.Series([None], dtype=at.dtype))
        if k < 0:
            around[f"caps_{name}"] = distinct["caps"].gather(at).zip_with(
                inside, pl.Series([None], dtype=pl.Boolean))
    return rows.with_columns(**around).drop("row")


def _negated(word: pl.Expr) -> pl.Expr:
    """vaderSentiment's negated([word]) for a lower-cased word."""
    return word.is_in(list(NEGATE)) | word.str.contains("n't", literal=True)


def _word_features(lower: pl.Series) -> pl.DataFrame:
    """Per distinct lower-cased token (row = its code): its lexicon valence (null for other words),
    whether it is a lexicon word, its booster scalar (null for other words), whether
    vaderSentiment's `negated` holds for it and whether it is a word of an idiom n-gram."""
    _, words, values, _, _ = _lexicons()
    word = col.lower
    return pl.DataFrame({"lower": lower}).select(
        valence=word.replace_strict(words, values, default=None, return_dtype=pl.Float64),
        in_lexicon=word.is_in(words.implode()),
        booster=word.replace_strict(list(BOOSTER_DICT), [float(v) for v in BOOSTER_DICT.values()],
                                    default=None, return_dtype=pl.Float64),
        negated=_negated(word),
        idiom=word.is_in(_IDIOM_WORDS),
    )


def _valences(hits: pl.DataFrame, distinct: pl.DataFrame) -> pl.DataFrame:
    """vaderSentiment's sentiment_valence for each hit, in its order of operations (column valence)."""
    # the rules' word lookups, made once per distinct token and gathered by code (null where the
    # text has no such token): a batch's hits and their neighbours repeat the same few thousand words
    # (bench/README.md, "sentiment scoring (issue 24)")
    features = _word_features(distinct["lower"])
    looked_up = {"lexicon": features["valence"].gather(hits["code"]),
                 "idiom_lower": features["idiom"].gather(hits["code"])}
    for name, kinds in (("before_1", ("in_lexicon", "booster", "negated", "idiom")),
                        ("before_2", ("in_lexicon", "booster", "negated", "idiom")),
                        ("before_3", ("in_lexicon", "booster", "negated", "idiom")),
                        ("after_1", ("in_lexicon", "idiom"))):
        for kind in kinds:
            looked_up[f"{kind}_{name}"] = features[kind].gather(hits[f"code_{name}"])
    hits = hits.with_columns(**looked_up)
    item, valence = col.lower, col.valence
    b1, b2, b3 = col.before_1, col.before_2, col.before_3
    # "no" before a lexicon word scores 0; "no" up to 3 tokens before scales the word's valence
    hits = hits.with_columns(
        valence=pl.when((item == "no") & col.in_lexicon_after_1.fill_null(False))
        .then(0.0).otherwise(col.lexicon))
    hits = hits.with_columns(
        valence=pl.when((b1 == "no").fill_null(False) | (b2 == "no").fill_null(False)
                        | ((col.before_3 == "no") & b1.is_in(["or", "nor"])).fill_null(False))
        .then(col.lexicon * N_SCALAR).otherwise(valence))
    # a word in ALL CAPS among words that are not
    hits = hits.with_columns(valence=_caps(valence, col.caps, valence))
    for k in (1, 2, 3):
        before = col(f"before_{k}")
        scalar = col.scalar
        hits = hits.with_columns(
            applies=before.is_not_null() & ~col(f"in_lexicon_before_{k}").fill_null(True),
            scalar=col(f"booster_before_{k}"))
        hits = hits.with_columns(scalar=pl.when(valence < 0).then(scalar * -1).otherwise(scalar))
        hits = hits.with_columns(scalar=_caps(scalar, col(f"caps_before_{k}"), valence).fill_null(0.0))
        if k > 1:
            hits = hits.with_columns(
                scalar=pl.when(scalar != 0).then(scalar * (0.95 if k == 2 else 0.9)).otherwise(scalar))
        hits = hits.with_columns(boosted=valence + scalar)
        boosted = col.boosted
        if k == 1:
            checked = pl.when(col.negated_before_1).then(boosted * N_SCALAR).otherwise(boosted)
        elif k == 2:
            checked = (pl.when((b2 == "never") & b1.is_in(["so", "this"])).then(boosted * 1.25)
                       .when((b2 == "without") & (b1 == "doubt")).then(boosted)
                       .when(col.negated_before_2).then(boosted * N_SCALAR).otherwise(boosted))
        else:
            checked = (pl.when(((b3 == "never") & b2.is_in(["so", "this"])) | b1.is_in(["so", "this"]))
                       .then(boosted * 1.25)
                       .when((b3 == "without") & ((b2 == "doubt") | (b1 == "doubt"))).then(boosted)
                       .when(col.negated_before_3).then(boosted * N_SCALAR).otherwise(boosted))
        hits = hits.with_columns(boosted=checked)
        if k == 3:
            hits = _idioms(hits)
        hits = hits.with_columns(valence=pl.when(col.applies).then(col.boosted).otherwise(valence))
    # _least_check
    least = (b1 == "least").fill_null(False) & ~col.in_lexicon_before_1.fill_null(True)
    hits = hits.with_columns(
        valence=pl.when(least & b2.is_not_null())
        .then(pl.when((b2 != "at") & (b2 != "very")).then(valence * N_SCALAR).otherwise(valence))
        .when(least).then(valence * N_SCALAR).otherwise(valence))
    # "kind" before "of" is skipped by polarity_scores' loop: 0
    return hits.with_columns(
        valence=pl.when((item == "kind") & (col.after_1 == "of").fill_null(False))
        .then(0.0).otherwise(valence))


def _caps(value: pl.Expr, caps: pl.Expr, valence: pl.Expr) -> pl.Expr:
    """value raised by C_INCR away from zero (in valence's direction) when its word is in ALL CAPS
    and the text has a cap differential."""
    return pl.when(caps & col.cap_diff).then(
        pl.when(valence > 0).then(value + C_INCR).otherwise(value - C_INCR)).otherwise(value)


def _idioms(hits: pl.DataFrame) -> pl.DataFrame:
    """vaderSentiment's _special_idioms_check on column boosted.

    Every n-gram it looks up holds two neighbouring words of b3, b2, b1, w0, a1 (below), so only
    the rows where two of them are words of those n-grams are looked up (a small share of a batch
    of reviews; looking up all rows took most of the rules' time)."""
    b3, b2, b1, w0, a1 = (col(f"idiom_{name}").fill_null(False)
                          for name in ("before_3", "before_2", "before_1", "lower", "after_1"))
    rows = hits.select((b1 & w0) | (b2 & b1) | (b3 & b2) | (w0 & a1)).to_series().arg_true()
    if rows.is_empty():
        return hits
    looked_up = _looked_up_idioms(hits[rows])
    return hits.with_columns(hits["boosted"].scatter(rows, looked_up))


def _looked_up_idioms(hits: pl.DataFrame) -> pl.Series:
    """_special_idioms_check's boosted valence of each hit."""
    cases = list(SPECIAL_CASES)
    case_values = [float(v) for v in SPECIAL_CASES.values()]

    def case(*words: pl.Expr) -> pl.Expr:
        return pl.concat_str(list(words), separator=" ").replace_strict(
            cases, case_values, default=None, return_dtype=pl.Float64)

    w0, b1, b2, b3 = col.lower, col.before_1, col.before_2, col.before_3
    a1, a2 = col.after_1, col.after_2
    # the first of these that is a special case sets the valence; then the two after it override
    boosted = pl.coalesce(case(b1, w0), case(b2, b1, w0), case(b2, b1), case(b3, b2, b1), case(b3, b2),
                          col.boosted)
    boosted = pl.coalesce(case(w0, a1, a2), case(w0, a1), boosted)
    for ngram in ((b3, b2, b1), (b3, b2), (b2, b1)):
        boosted = boosted + pl.concat_str(list(ngram), separator=" ").replace_strict(
            list(_BOOSTER_NGRAMS), list(_BOOSTER_NGRAMS.values()), default=0.0, return_dtype=pl.Float64)
    return hits.select(boosted=boosted).to_series()


def _sums(docs: pl.DataFrame, tokens: Tokens, nonzero: pl.DataFrame) -> pl.DataFrame:
    """Per text with a non-zero valence: the sum of its valences, of (v + 1) for the positive and of
    (v - 1) for the negative ones, each added in token order as score_valence adds them, and their
    count; after the "but" rule for the texts that hold a "but".

    The "but" rule halves the valences before the first "but" and raises those after it by half,
    but it finds each one by value (`list.index`): where a valence equals one already scaled, it
    scales that one again instead. Texts where some valence equals a scaled valence of the same
    text go through `_but_check` (the rule as vaderSentiment runs it); in all others every valence
    is scaled once, in place."""
    codes, distinct = tokens
    buts = _positions(docs, (distinct["lower"] == "but").gather(codes).arg_true())
    first_but = buts.group_by("doc").agg(but=col.i.min())
    nonzero = nonzero.join(first_but, on="doc", how="left", maintain_order="left").with_columns(
        scaled=pl.when(col.i < col.but).then(col.valence * 0.5)
        .when(col.i > col.but).then(col.valence * 1.5).otherwise(col.valence))
    with_but = nonzero.filter(col.but.is_not_null())
    tangled = with_but.join(with_but.select("doc", valence=col.scaled), on=["doc", "valence"],
                            how="semi")["doc"].unique()
    plain = _sums_in_order(nonzero.filter(~col.doc.is_in(tangled.implode())))
    rows = []
    # the tangled docs' rows lie together, in token order (as `nonzero` holds them): each doc's are
    # a slice of the columns' lists
    tangled_rows = with_but.filter(col.doc.is_in(tangled.implode()))
    docs_, buts_, positions_, values_ = (tangled_rows[name].to_list() for name in ("doc", "but", "i", "valence"))
    firsts = (np.flatnonzero(np.diff(tangled_rows["doc"].to_numpy())) + 1).tolist()
    for start, end in itertools.pairwise([0, *firsts, len(docs_)] if docs_ else []):
        doc, values = docs_[start], values_[start:end]
        _but_check(buts_[start], positions_[start:end], values)
        positive = negative = 0.0
        for value in values:
            if value > 0:
                positive += value + 1
            if value < 0:
                negative += value - 1
        rows.append((doc, float(sum(values)), positive, negative, len(values)))
    return pl.concat([plain, pl.DataFrame(rows, schema=plain.schema, orient="row")])


# A doc with more non-zero valences than this is summed alone (np.add.accumulate: left to right, as
# the loop below): the loop's passes are as many as the longest doc's values, one pass per value
# for a lone long text (a 50 MB review: 2.5 million passes, 11.7 s of its whole-text score).
_LONG_DOC = 64


def _sums_in_order(nonzero: pl.DataFrame) -> pl.DataFrame:
    """Per doc of `nonzero` (rows grouped by doc, in token order): the sums of column scaled, of
    (v + 1) for its positive and of (v - 1) for its negative values, and their count.

    Each sum adds its values one after another from the first, as Python's `sum` and `+=` do (in
    any other order a float sum can differ in the last bit). It runs across all docs at once: the
    first values of every doc, then the second ones, and so on; a Polars group-by with `cum_sum`
    was several times slower. Docs longer than _LONG_DOC values are summed one by one.
    """
    doc, value = nonzero["doc"].to_numpy(), nonzero["scaled"].to_numpy()
    first = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]]) if len(doc) else np.zeros(0, np.int64)
    count = np.diff(np.r_[first, len(doc)]).astype(np.int64)
    terms = np.stack([value, np.where(value > 0, value + 1, 0.0), np.where(value < 0, value - 1, 0.0)])
    sums = np.zeros((3, len(first)))
    long = count > _LONG_DOC
    for g in np.flatnonzero(long).tolist():
        sums[:, g] = np.add.accumulate(terms[:, first[g]:first[g] + count[g]], axis=1)[:, -1]
    group = np.repeat(np.arange(len(first)), count)
    k = np.arange(len(doc)) - np.repeat(first, count)  # the value's place in its doc
    short = np.flatnonzero(~np.repeat(long, count))  # the other docs' values
    order = short[np.argsort(k[short], kind="stable")]
    starts = np.searchsorted(k[order], np.arange(count[~long].max(initial=0) + 1))
    for start, end in itertools.pairwise(starts):
        rows = order[start:end]
        sums[:, group[rows]] += terms[:, rows]
    return pl.DataFrame({"doc": doc[first], "total": sums[0], "positive": sums[1],
                         "negative": sums[2], "count": count},
                        schema={"doc": pl.Int64, "total": pl.Float64, "positive": pl.Float64,
                                "negative": pl.Float64, "count": pl.Int64})


def _scores(docs: pl.DataFrame) -> pl.DataFrame:
    """score_valence's arithmetic per text, then Python's round (to 4 and 3 decimals): columns
    compound, pos, neu, neg."""
    amplifier = (
        pl.min_horizontal(col.exclamations, 4) * 0.292
        + pl.when(col.questions <= 1).then(0.0)
        .when(col.questions <= 3).then(col.questions * 0.18).otherwise(0.96)
    )
    total = pl.coalesce(col.total, 0.0)
    total = pl.when(total > 0).then(total + col.amplifier).when(total < 0).then(total - col.amplifier) \
        .otherwise(total)
    positive, negative = pl.coalesce(col.positive, 0.0), pl.coalesce(col.negative, 0.0)
    neutral = (col.n - pl.coalesce(col.count, 0)).cast(pl.Float64)
    frame = docs.with_columns(amplifier=amplifier).select(
        "n",
        compound=(total / (total * total + 15).sqrt()).clip(-1.0, 1.0),
        positive=pl.when(positive > negative.abs()).then(positive + col.amplifier).otherwise(positive),
        negative=pl.when(positive < negative.abs()).then(negative - col.amplifier).otherwise(negative),
        neutral=neutral,
    ).with_columns(sum=col.positive + col.negative.abs() + col.neutral)
    values = frame.select(
        compound=col.compound, pos=(col.positive / col.sum).abs(), neu=(col.neutral / col.sum).abs(),
        neg=(col.negative / col.sum).abs(),
    )
    empty = frame["n"] == 0
    return pl.DataFrame([
        round_like_python(values[name], digits).zip_with(~empty, pl.Series([0.0]))
        for name, digits in (("compound", 4), ("pos", 3), ("neu", 3), ("neg", 3))
    ])


# x * 10^d, for |x| <= 1 and d <= 4, is within about 1e-12 of its exact value: further than this
# from a half, it rounds to the integer that x's exact value rounds to
_NEAR_HALF = 1e-9


def round_like_python(values: pl.Series, digits: int) -> pl.Series:
    """Python's round(x, digits) of each value (|x| <= 1): the double nearest to x's exact binary
    value rounded to `digits` decimals, half to even.

    That is round(x * 10^d) / 10^d, one correctly rounded division, unless x * 10^d lies within
    rounding error of a half: those few values are rounded by Python. The division is by a column,
    not a number, as Polars divides by a number by multiplying by its inverse, which is not always
    the same double (9207 * (1 / 10000) is 0.9207000000000001).
    """
    scaled = values * 10.0**digits
    out = scaled.round() / pl.Series([10.0**digits]).new_from_index(0, len(values))
    near_half = (((scaled - scaled.floor()) - 0.5).abs() < _NEAR_HALF).arg_true()
    if len(near_half):
        out = out.scatter(near_half, [round(v, digits) for v in values.gather(near_half).to_list()])
    return out.alias(values.name)


# up to this many valences, _but_check finds each one as vaderSentiment does (list.index, O(n²) in
# the worst case but quickest for a review's few dozen); above it, through an index of the values
_SCANNED_VALENCES = 100


def _but_check(bi: int, positions: list[int], values: list[float]) -> None:
    """vaderSentiment's _but_check, exactly, on the non-zero valences, in O(n log n) not O(n²)
    for more than _SCANNED_VALENCES of them.

    The original walks the list and, for each value, scales the *first* position holding an equal
    value (`sentiments.index(value)`): by 0.5 before the first "but", by 1.5 after it, not at it.
    Zeros stay zeros (0 scaled is 0), so only the non-zero valences take part. A value is never
    changed before its turn: lookups only reach back. For many valences, per value, the sorted
    indexes (into `values`) that currently hold it, so each lookup is a dict access.
    """
    if len(values) <= _SCANNED_VALENCES:
        for sentiment in values:  # as the original: each position's value at its turn
            j = values.index(sentiment)
            if positions[j] < bi:
                values[j] = sentiment * 0.5
            elif positions[j] > bi:
                values[j] = sentiment * 1.5
        return
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
