"""Distinctive terms (issue 26): what a title's high-rated reviews say that its low-rated ones do not,
and what the title is known for against every other title, ranked by the log-odds ratio with an
informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words").

Pure functions over Polars frames: the tokenizer (`review_terms`), the z-scores (`log_odds_z`,
`fightin_words`) and the rule that leaves out a term a longer one holds (`without_contained`).
reviewpipe.metrics.term_pass finds the same terms as hashes and ranks them per title in compiled
passes (the terms stage's, reviewpipe.terms); the tests hold those to the functions here.

Decisions, where the issue leaves them open:
- A term is a word (letters, digits and inner apostrophes: "don't"; any non-ASCII character counts
  as a letter) or a phrase of 2-3 words within one clause (no phrase crosses . , ; : ! ? a quote or
  a bracket), lower-cased. A word of STOP_WORDS is no term alone, and no phrase starts or ends
  with one ("waste of money" is a term, "of money" is not). The negations are not stop words: "not worth" and "no sound" are what complaints say.
- A review counts a term once however often it writes it (its `y` is the reviews that use the
  term): one long review repeating a word is one reviewer's say, not many.
- The prior: each term's share of the whole warehouse's term counts (the background), scaled to
  PRIOR_SIZE = 1,000 pseudo-counts (alpha_0), whatever the compared groups' sizes. Measured on the
  IMDb reviews of four films (tests/test_acceptance_terms.py's corpus), per film, praise against
  complaints: scaled to the compared counts (n_i + n_j: 390,690 term uses for The Avengers) the prior
  outweighs the film's own complaints (42,160 uses against 348,530 of praise: its pseudo-counts,
  equal on both sides, make every term of the other films look like a complaint of the smaller
  side), and the complaint lists were other films' names used once or never ("pulp fiction" 4 / 0,
  "tarantino" 1 / 0); at 10,000 a few remain ("thor" 1 / 0 for Forrest Gump); at 1,000 and at 100
  the lists are what the reviews say (The Avengers: boring, predictable, terrible, nothing, money,
  worst; Forrest Gump: worst, overrated, boring, worse, ridiculous, awful), the same at both. A
  small title's terms lean on the prior more, which is what it is for.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# English function words that carry no praise or complaint alone: articles, pronouns, auxiliaries,
# prepositions, conjunctions, determiners and a few frequent adverbs. Not the negations (not, no,
# never, nor, n't forms): they turn a phrase into a complaint. Written for this project; a reader
# may edit it (tests/test_terms.py checks that no term is one of them nor starts or ends with one).
STOP_WORDS: frozenset[str] = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i i'd i'll i'm i've if in into is it it's its
itself just me more most my myself of off on once only or other our ours ourselves out over own same
she should so some such than that that's the their theirs them themselves then there there's these
they they'd they'll they're they've this those through to too under until up us was we we'd we'll
we're we've were what what's when where which while who whom why will with would you you'd you'll
you're you've your yours yourself yourselves also really get got one s t
""".split())

# The rules are on the lower-cased text's bytes, so that the compiled pass (term_pass) reads them
# as this does: a few Unicode punctuation marks are first written as their ASCII kin; a word is a
# run of ASCII letters, digits, inner apostrophes and any non-ASCII character; every other ASCII
# character ends a word, and these also end a clause (a phrase never crosses one).
PUNCTUATION_AS_ASCII = {"\u0130": "i", "\u00a0": " ", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-",
                        "\u2013": "-", "\u2026": "."}
CLAUSE_BREAKS = ".,;:!?()[]{}\"\n\r\t"
_CLAUSE_BREAK = "[" + "".join("\\" + c if c in "[]\\" else c for c in CLAUSE_BREAKS) + "]+"
_WORD_CHAR = r"a-z0-9\x{80}-\x{10FFFF}"
# a word (the pattern of review_terms; the terms stage writes a term's words with it)
WORD = rf"[{_WORD_CHAR}]+(?:'+[{_WORD_CHAR}]+)*"


def ascii_punctuation(texts: pl.Expr) -> pl.Expr:
    """The lower-cased texts with PUNCTUATION_AS_ASCII's marks written in ASCII: a character each,
    so that a character's place is the same as in the text (the terms stage finds a term's sentence
    by it). The Turkish dotted capital I is written "i" first: its lower case is two characters."""
    return texts.str.replace_many(list(PUNCTUATION_AS_ASCII), list(PUNCTUATION_AS_ASCII.values())).str.to_lowercase()


def review_terms(reviews: pl.LazyFrame, max_words: int = 3) -> pl.LazyFrame:
    """Per review (review_id, one a review, and its other columns but review_text) and distinct term
    of its text: one row, with `term` (words joined by a space) and `words` (1 to max_words); grain:
    (review_id, term). Lower-cased; STOP_WORDS and clause breaks as the module says."""
    keep = [c for c in reviews.collect_schema().names() if c != "review_text"]
    words = (
        reviews.with_columns(clause=ascii_punctuation(pl.col("review_text")).str.replace_all(_CLAUSE_BREAK, "\x1f")
                             .str.split("\x1f"))
        .explode("clause")
        .with_columns(clause_no=pl.int_range(pl.len()).over("review_id"))
        .with_columns(word=pl.col("clause").str.extract_all(WORD))
        .explode("word")
        .drop_nulls("word")
    )
    grams = []
    for n in range(1, max_words + 1):
        # the words after each word, within its clause: word k of the phrase is the word shifted by -k
        parts = [pl.col("word").shift(-k).over("review_id", "clause_no") for k in range(n)]
        gram = words.with_columns(
            first=parts[0], last=parts[-1], term=pl.concat_str(parts, separator=" "), words=pl.lit(n, pl.Int32),
        ).filter(pl.col("last").is_not_null(), ~pl.col("first").is_in(list(STOP_WORDS)),
                 ~pl.col("last").is_in(list(STOP_WORDS)))
        grams.append(gram.select(*keep, "term", "words"))
    return pl.concat(grams).unique([*keep, "term"], maintain_order=True)


def log_odds_z(y_i: np.ndarray, n_i: float, y_j: np.ndarray, n_j: float, alpha: np.ndarray,
               alpha0: float) -> np.ndarray:
    """The z-score of each term's log-odds ratio between groups i and j with a Dirichlet prior
    (Monroe, Colaresi & Quinn 2008, its informative-prior model): y_i and y_j the term's counts in each
    group, n_i and n_j the groups' total counts, alpha the term's prior count and alpha0 the prior's
    total over the whole vocabulary (a0):

        delta = ln((y_i + a) / (n_i + a0 - y_i - a)) - ln((y_j + a) / (n_j + a0 - y_j - a))
        var(delta) ~ 1 / (y_i + a) + 1 / (y_j + a),   z = delta / sqrt(var)

    Positive: the term leans to group i."""
    y_i, y_j, alpha = (np.asarray(v, dtype=np.float64) for v in (y_i, y_j, alpha))
    a0 = float(alpha0)
    delta = np.log((y_i + alpha) / (n_i + a0 - y_i - alpha)) - np.log((y_j + alpha) / (n_j + a0 - y_j - alpha))
    return delta / np.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))


# The prior's size, alpha_0: its pseudo-counts (the module says why 1,000).
PRIOR_SIZE = 1000.0


def fightin_words(counts_i: pl.DataFrame, counts_j: pl.DataFrame, background: pl.DataFrame,
                  prior_size: float = PRIOR_SIZE) -> pl.DataFrame:
    """Per term of counts_i or counts_j (each: term, reviews): y_i, y_j and z (log_odds_z, i against
    j) with the prior of `background` (term, reviews: the whole warehouse's counts) scaled to
    prior_size pseudo-counts over its whole vocabulary, over the terms of either group; sorted by z
    descending, then term."""
    terms = (counts_i.rename({"reviews": "y_i"}).join(counts_j.rename({"reviews": "y_j"}), on="term", how="full",
                                                      coalesce=True)
             .with_columns(pl.col("y_i", "y_j").fill_null(0)))
    n_i, n_j = float(terms["y_i"].sum()), float(terms["y_j"].sum())
    share = background.select("term", background=pl.col("reviews"), share=pl.col("reviews") / pl.col("reviews").sum())
    terms = terms.join(share, on="term", how="left")
    # a term the background counts less often than the groups has no prior share to speak of (a zero
    # one makes the z-score NaN): the background is wrong, not the term
    short = terms.filter(pl.col("background").is_null() | (pl.col("background") < pl.col("y_i") + pl.col("y_j")))
    if short.height:
        raise ValueError(f"the background counts {short['term'].head(3).to_list()} less often than the compared "
                         "groups do: it must count every compared review")
    alpha = terms["share"].to_numpy() * prior_size
    z = log_odds_z(terms["y_i"].to_numpy(), n_i, terms["y_j"].to_numpy(), n_j, alpha, alpha0=prior_size)
    return (terms.select("term", pl.col("y_i", "y_j").cast(pl.Int64)).with_columns(z=pl.Series(z))
            .sort(["z", "term"], descending=[True, False]))


def without_contained(ranked: pl.DataFrame, top: int,
                      counts: tuple[str, ...] = ("negative_reviews", "middle_reviews", "positive_reviews",
                                                 "unrated_reviews")) -> pl.DataFrame:
    """`ranked` (rows of title_id, side, rank, term and the class counts) less each term that a
    longer term of the same title and side holds, word for word, and that the same reviews of every
    class use ("cash" beside "cash grab" in exactly its reviews says nothing more), ranked again
    from 1; the first `top` of each title and side."""
    keys = ["title_id", "side", *counts]
    longer = ranked.select(*keys, longer=pl.concat_str(pl.lit(" "), "term", pl.lit(" ")),
                           longer_words=pl.col("term").str.count_matches(" ") + 1)
    contained = (
        ranked.select(*keys, "rank", "term").join(longer, on=keys)
        .filter(pl.col("longer_words") > pl.col("term").str.count_matches(" ") + 1,
                pl.col("longer").str.contains(pl.concat_str(pl.lit(" "), "term", pl.lit(" ")), literal=True))
        .select("title_id", "side", "rank").unique()
    )
    return (
        ranked.join(contained, on=["title_id", "side", "rank"], how="anti", maintain_order="left")
        .with_columns(rank=(pl.col("rank").rank("ordinal").over("title_id", "side")).cast(pl.Int32))
        .filter(pl.col("rank") <= top)
    )


__all__ = ["PRIOR_SIZE", "STOP_WORDS", "WORD", "fightin_words", "log_odds_z", "review_terms", "without_contained"]
