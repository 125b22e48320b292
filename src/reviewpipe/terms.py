"""What reviewers praise and complain about (issue 26): per title, the terms its high-rated reviews
use that its low-rated ones do not (praise), the reverse (complaint), and what sets the title apart
from every other (distinctive), ranked by the log-odds z-score with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008; reviewpipe.metrics.terms), each with the sentences that mention it,
their mean VADER sentence compound, and an example sentence.

How a run gets there:
- The counts are kept in the warehouse (`term_counts`, sql/schema/warehouse.sql): per title, each
  term (a 64-bit hash, reviewpipe.metrics.term_pass) that at least [terms] min_reviews of its reviews
  use, with the reviews using it per rating class, its sentence mentions and compound sum, and where
  three example reviews use it. A title's rows are counted again when its reviews changed (their
  fingerprint in `term_titles`: reviews, texts, ratings, helpful votes), in one compiled pass over its
  texts; the other titles' rows are kept. So are the words and example sentence of each term once
  ranked (`term_examples`): a run reads only the example reviews of the titles it counted again.
- Every run ranks every kept row again (term_pass.title_sides, compiled): the prior moves with every
  review.
- The prior, where the issue leaves it open: **each term's share of the counts the warehouse keeps**
  (the sum of `term_counts` over titles), scaled to PRIOR_SIZE pseudo-counts. Every term's count over
  every review would need each run to subtract the terms of the texts it replaces, which nothing
  keeps; the kept counts are exact and a run changes them by the rows it replaces. Against every
  term's count as prior (measured in the first session of issue 26): on the IMDb films of
  tests/test_acceptance_terms.py the top 15 terms per side are the same with either; on Amazon 2018
  Fashion's small products (31 products, 3,160 reviews) 6.4 of the top 10 praise terms and 7.5 of the
  complaint terms are, on average (5 at worst): a small title's rare terms lean on the prior more.
- Only reviews scored in English are counted (sentiment_language 'en'): the stop words are
  English, and the sentences' compounds are VADER's. A title with none has no terms.

Decisions where the issue is silent:
- Rating classes: metrics.rating_class's negative / middle / positive. Praise compares the positive
  reviews with the negative ones, complaint the reverse (z negated); middle and unrated reviews count
  in distinctive alone, which compares the title's reviews with every other title's kept counts.
- A term is published on a side when its z-score is at least [terms] min_z and at least
  [terms] min_reviews reviews of the side's group use it (a praise term used by no positive review
  can score above zero when the positive side is small: its prior does it), the top [terms]
  top_terms per title and side by z (ties by term).
- Its example: the sentence where it is first used in the most helpful review (most helpful votes,
  then review_id) of the side's class (praise: positive; complaint: negative; distinctive: any),
  cut to EXAMPLE_CHARACTERS around the term when longer.
- Mentions and mean sentiment: over all the title's counted reviews, a sentence once per term.
- A term is left out when a longer one of the same side holds it word for word and the same reviews
  of every class use both (term_rules.without_contained: "cash" beside "cash grab"), among the
  CANDIDATES x top_terms best of the side.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import polars as pl

from reviewpipe import sentiment
from reviewpipe.metrics import rating_class, term_pass
from reviewpipe.metrics import terms as term_rules
from reviewpipe.settings import Settings
from reviewpipe.warehouse import scalar

# The published frame (agg_title_terms, sql/published/agg_title_terms.sql).
TERMS_SCHEMA = {
    "title_id": pl.String, "side": pl.String, "rank": pl.Int32, "term": pl.String, "term_words": pl.Int8,
    "negative_reviews": pl.Int32, "middle_reviews": pl.Int32, "positive_reviews": pl.Int32,
    "unrated_reviews": pl.Int32, "z_score": pl.Float64, "sentence_mentions": pl.Int32,
    "sentence_sentiment_mean": pl.Float64, "example": pl.String, "example_review_id": pl.String,
}
SIDES = term_pass.SIDES
# the example of each side: the column group of term_counts it comes from (term_pass.EXAMPLES)
SIDE_EXAMPLE = {"praise": "positive", "complaint": "negative", "distinctive": "any"}
MAX_WORDS = 3
# the texts of the titles counted together, read and passed in one piece
PART_REVIEWS = 100_000
THREADS = 2
# the terms ranked per side before those that a longer term holds are left out: this many times
# top_terms
CANDIDATES = 2
# an example longer than this is cut around its term ("…" where cut)
EXAMPLE_CHARACTERS = 240

# What makes term_counts' rows besides [terms] min_reviews: the tokenizer's rules. A change of any
# counts every title again.
RULES = hashlib.md5(json.dumps([sorted(term_rules.STOP_WORDS), term_rules.CLAUSE_BREAKS,
                                term_rules.PUNCTUATION_AS_ASCII, MAX_WORDS, list(term_pass.EXAMPLES),
                                "helpful_votes desc, review_id"]).encode()).hexdigest()[:12]

# The staged reviews counted: those scored in English (the macro scores_language, as the metrics
# stage applies it), with what a title's fingerprint and the pass need.
_TERM_REVIEWS = """
    create or replace temp table _terms_reviews as
    select t.rowid as row_id, t.review_id, t.title_id, t.rating, t.rating_scale, t.rating_min,
           t.helpful_votes, t.text_hash
    from int_reviews_typed as t
    join sentiment_scores as s using (text_hash)
    where t.staged and s.sentiment_language = 'en'
      and scores_language(t.declared_language, s.review_language, s.language_guess,
                          $languages, $undetermined) = 'en'
"""
_TITLE_FINGERPRINTS = """
    create or replace temp table _terms_titles as
    select title_id,
           bit_xor(hash(review_id, text_hash, rating, rating_scale, rating_min, helpful_votes)) as fingerprint
    from _terms_reviews
    group by title_id
"""
_CHANGED = """
    create or replace temp table _terms_changed as
    select t.title_id, t.fingerprint
    from _terms_titles as t
    left join term_titles as k using (title_id)
    where k.fingerprint is distinct from t.fingerprint
"""
# the changed titles' reviews in the pass's order: by title, then the most helpful first
_CHANGED_REVIEWS = """
    select row_id, hash(review_id) as review_key, title_id, rating, rating_scale, rating_min, text_hash
    from _terms_reviews
    where title_id in (select title_id from _terms_changed)
    order by title_id, helpful_votes desc nulls last, review_id
"""
# a part's texts and sentences, by the typed rows' ids
_PART_TEXTS = """
    select t.rowid as row_id, t.review_text, s.sentence_ends, s.sentence_compounds
    from int_reviews_typed as t
    join sentiment_scores as s using (text_hash)
    where t.rowid in (select row_id from _terms_part)
"""
_COUNT_COLUMNS = ("negative_reviews", "middle_reviews", "positive_reviews", "unrated_reviews")
# what the stage keeps per title (sql/schema/warehouse.sql)
_KEPT_TABLES = ("term_counts", "term_titles", "term_examples")
# a term's words and example on a side (term_examples' columns past its key)
_EXAMPLE_COLUMNS = {"term_text": pl.String, "example": pl.String, "example_review_id": pl.String}


def title_terms(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """agg_title_terms' rows (TERMS_SCHEMA) over every staged review of `con`'s warehouse, counting
    again the titles whose reviews changed since the kept counts were made."""
    terms = settings.terms
    _update_counts(con, settings)
    counts = ", ".join(f"{c} as {c.removesuffix('_reviews')}" for c in _COUNT_COLUMNS)
    kept = con.sql(f"select title_id, term, words, {counts}, sentence_mentions, sentence_compound_sum "
                   "from term_counts").pl()
    # twice the terms shown, with their words and examples, less those a longer one holds
    ranked = term_pass.title_sides(kept, top=CANDIDATES * terms.top_terms, min_z=terms.min_z,
                                   min_reviews=terms.min_reviews)
    return term_rules.without_contained(_with_examples(con, ranked), terms.top_terms)


def _update_counts(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Count the terms of the titles whose reviews changed again (all of them when the rules or
    min_reviews did), and forget the titles gone."""
    # (DuckDB's version too: the examples' review keys are its hash of the review ids)
    version = json.dumps([RULES, settings.terms.min_reviews, duckdb.__version__])
    if scalar(con, "select version from staging_state where model = 'term_counts'") != version:
        for table in _KEPT_TABLES:
            con.execute(f"delete from {table}")
        con.execute("insert or replace into staging_state values ('term_counts', ?)", [version])
    con.execute(_TERM_REVIEWS, {"languages": list(settings.sentiment.languages),
                                "undetermined": settings.sentiment.score_undetermined})
    try:
        con.execute(_TITLE_FINGERPRINTS)
        con.execute(_CHANGED)
        gone = "(select title_id from _terms_changed) or title_id not in (select title_id from _terms_titles)"
        for table in _KEPT_TABLES:
            con.execute(f"delete from {table} where title_id in {gone}")
        parts = _parts(con.sql(_CHANGED_REVIEWS).pl())
        # each part read on a cursor of its own while the part before is counted, and its counts
        # inserted on another while the part after is
        reader, writer = con.cursor(), con.cursor()
        try:
            with (ThreadPoolExecutor(1, thread_name_prefix="reviewpipe-terms-read") as reads,
                  ThreadPoolExecutor(1, thread_name_prefix="reviewpipe-terms-write") as writes):
                ahead = reads.submit(_part_rows, reader, parts[0]) if parts else None
                written = None
                for i in range(len(parts)):
                    rows = ahead.result()
                    if i + 1 < len(parts):
                        ahead = reads.submit(_part_rows, reader, parts[i + 1])
                    counted = _count_part(rows, settings.terms.min_reviews)
                    if written is not None:
                        written.result()
                    written = writes.submit(_insert_counts, writer, counted)
                if written is not None:
                    written.result()
        finally:
            reader.close()
            writer.close()
        con.execute("insert into term_titles select title_id, fingerprint from _terms_changed")
    finally:
        for table in ("_terms_reviews", "_terms_titles", "_terms_changed"):
            con.execute(f"drop table if exists {table}")


def _parts(reviews: pl.DataFrame) -> list[pl.DataFrame]:
    """The reviews in parts of whole titles of about PART_REVIEWS reviews."""
    if reviews.is_empty():
        return []
    new_title = (reviews["title_id"] != reviews["title_id"].shift(1)).fill_null(True)
    starts = new_title.arg_true().to_numpy()
    cuts = starts[np.searchsorted(starts, np.arange(PART_REVIEWS, reviews.height, PART_REVIEWS))]
    bounds = sorted({0, *(int(c) for c in cuts), reviews.height})
    return [reviews.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]


def _part_rows(con: duckdb.DuckDBPyConnection, part: pl.DataFrame) -> pl.DataFrame:
    """`part`'s reviews (whole titles, in the pass's order) with their texts and sentences
    (review_text, sentence_ends, sentence_compounds) and rating_class."""
    con.register("_terms_part", part.select("row_id"))
    try:
        texts = con.sql(_PART_TEXTS).pl()
    finally:
        con.unregister("_terms_part")
    return part.join(texts, on="row_id", how="left", maintain_order="left").with_columns(
        rating_class=rating_class(pl.col("rating"), pl.col("rating_scale"), pl.col("rating_min")))


def _insert_counts(con: duckdb.DuckDBPyConnection, counted: pl.DataFrame) -> None:
    """`counted` (_count_part's rows) inserted into term_counts."""
    con.register("_terms_counted", counted)
    try:
        con.execute("insert into term_counts by name select * from _terms_counted")
    finally:
        con.unregister("_terms_counted")


def _count_part(part: pl.DataFrame, min_reviews: int) -> pl.DataFrame:
    """term_counts' rows of the titles of `part` (_part_rows)."""
    new_title = (part["title_id"] != part["title_id"].shift(1)).fill_null(True)
    starts = np.append(new_title.arg_true().to_numpy(), part.height).astype(np.int64)
    # the titles split between the threads where the texts' bytes reach each one's half
    size = np.concatenate(([0], np.cumsum(part["review_text"].str.len_bytes().fill_null(0).to_numpy())))[starts]
    cuts = np.searchsorted(size, np.arange(1, THREADS) * size[-1] / THREADS)
    bounds = sorted({0, *(int(c) for c in cuts), starts.size - 1})

    def count(a: int, b: int) -> pl.DataFrame:
        first, end = int(starts[a]), int(starts[b])
        piece = part.slice(first, end - first)
        found = term_pass.title_term_stats(
            piece["review_text"], starts[a:b + 1] - first, piece["rating_class"], piece["sentence_ends"],
            piece["sentence_compounds"], min_reviews=min_reviews, max_words=MAX_WORDS)
        out = pl.DataFrame({
            "title_id": piece["title_id"].gather(starts[a:b][found.title] - first),
            "term": found.hashes, "words": found.words,
            **{name: found.counts[:, i] for i, name in enumerate(_COUNT_COLUMNS)},
            "sentence_mentions": found.mentions, "sentence_compound_sum": found.compound_sum,
        })
        for i, example in enumerate(term_pass.EXAMPLES):
            row = found.example_review[:, i]  # -1: no review of the class uses it
            out = out.with_columns(
                pl.when(pl.lit(pl.Series(row >= 0))).then(pl.lit(piece["review_key"].gather(np.maximum(row, 0))))
                .alias(f"{example}_review"),
                pl.Series(f"{example}_start", found.example_start[:, i]),
                pl.Series(f"{example}_end", found.example_end[:, i]))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        return pl.concat(list(pool.map(count, bounds[:-1], bounds[1:])))


def _with_examples(con: duckdb.DuckDBPyConnection, ranked: pl.DataFrame) -> pl.DataFrame:
    """The ranked terms (term_pass.title_sides' rows) with their words, mean sentence sentiment
    and example sentence, as TERMS_SCHEMA: those term_examples holds, the others made from their
    example reviews (_examples) and kept there."""
    if ranked.is_empty():
        return pl.DataFrame(schema=TERMS_SCHEMA)
    key = ["title_id", "term", "side"]
    con.register("_terms_ranked", ranked.select(key))
    try:
        known = con.sql("select e.* from term_examples as e join _terms_ranked using (title_id, term, side)").pl()
    finally:
        con.unregister("_terms_ranked")
    made = _examples(con, ranked.join(known, on=key, how="anti").select(key))
    if not made.is_empty():
        con.register("_terms_made", made)
        try:
            con.execute("insert into term_examples by name select * from _terms_made")
        finally:
            con.unregister("_terms_made")
    found = ranked.join(pl.concat([known.cast(made.schema), made]), on=key, how="left", maintain_order="left")
    return found.select(
        "title_id", "side", "rank", term="term_text", term_words="words",
        **{c: c.removesuffix("_reviews") for c in _COUNT_COLUMNS},
        z_score="z", sentence_mentions="sentence_mentions",
        sentence_sentiment_mean=pl.when(pl.col("sentence_mentions") > 0)
        .then(pl.col("sentence_compound_sum") / pl.col("sentence_mentions")),
        example="example", example_review_id="example_review_id",
    ).cast(TERMS_SCHEMA)


def _examples(con: duckdb.DuckDBPyConnection, wanted: pl.DataFrame) -> pl.DataFrame:
    """term_examples' rows of `wanted` (title_id, term, side): each term's words and its side's
    example, read from the texts where term_counts says the example is."""
    schema = {"title_id": pl.String, "term": pl.UInt64, "side": pl.String, **_EXAMPLE_COLUMNS}
    if wanted.is_empty():
        return pl.DataFrame(schema=schema)
    con.register("_terms_wanted", wanted)
    try:
        places = con.sql("select w.title_id, w.term, w.side, k.* exclude (title_id, term) "
                         "from _terms_wanted as w join term_counts as k using (title_id, term)").pl()
    finally:
        con.unregister("_terms_wanted")
    side_example = pl.col("side").replace_strict(SIDE_EXAMPLE)
    places = places.with_columns(
        example_review=pl.coalesce(pl.when(side_example == e).then(pl.col(f"{e}_review"))
                                   for e in term_pass.EXAMPLES),
        start=pl.coalesce(pl.when(side_example == e).then(pl.col(f"{e}_start")) for e in term_pass.EXAMPLES),
        end=pl.coalesce(pl.when(side_example == e).then(pl.col(f"{e}_end")) for e in term_pass.EXAMPLES),
    )
    # the example reviews by their title and key (a 64-bit hash of the review id: two reviews of a
    # title alike in it are as likely as 1 in 10^15 at 100,000 reviews; an example that did not hold
    # its term would fail the check agg_title_terms_bounds)
    con.register("_terms_examples", places.select("title_id", "example_review").unique())
    try:
        texts = con.sql("""
            with examples as (
                select t.title_id, hash(t.review_id) as example_review, t.review_id as example_review_id,
                       t.review_text, t.text_hash
                from int_reviews_typed as t
                semi join _terms_examples as e on e.title_id = t.title_id and e.example_review = hash(t.review_id)
                where t.staged
            )
            select e.title_id, e.example_review, e.example_review_id, e.review_text, s.sentence_ends
            from examples as e
            join sentiment_scores as s using (text_hash)
        """).pl()
    finally:
        con.unregister("_terms_examples")
    found = places.join(texts, on=["title_id", "example_review"], how="left", maintain_order="left")
    sentence_start, sentence_end = _sentence_bounds(found["sentence_ends"], found["start"].to_numpy(),
                                                    found["review_text"].str.len_chars().fill_null(0).to_numpy())
    found = found.with_columns(sentence_start=pl.Series(sentence_start), sentence_end=pl.Series(sentence_end))
    # cut around the term when the sentence is long: as much before it as after, within the sentence
    room = pl.max_horizontal(pl.lit(0), (EXAMPLE_CHARACTERS - (pl.col("end") - pl.col("start"))) // 2)
    cut_start = pl.max_horizontal(pl.col("sentence_start"), pl.col("start") - room)
    cut_end = pl.min_horizontal(pl.col("sentence_end"), pl.col("end") + room)
    long = pl.col("sentence_end") - pl.col("sentence_start") > EXAMPLE_CHARACTERS
    return found.select(
        "title_id", "term", "side",
        term_text=term_rules.ascii_punctuation(pl.col("review_text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")))
        .str.extract_all(term_rules.WORD).list.join(" "),
        example=pl.when(long).then(
            pl.concat_str(pl.when(cut_start > pl.col("sentence_start")).then(pl.lit("…")).otherwise(pl.lit("")),
                          pl.col("review_text").str.slice(cut_start, cut_end - cut_start).str.strip_chars(),
                          pl.when(cut_end < pl.col("sentence_end")).then(pl.lit("…")).otherwise(pl.lit(""))))
        .otherwise(pl.col("review_text").str.slice(pl.col("sentence_start"), pl.col("sentence_end") - pl.col("sentence_start"))
                   .str.strip_chars()),
        example_review_id="example_review_id",
    ).cast(schema)


def _sentence_bounds(ends: pl.Series, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the characters of the sentence holding character `starts` of its text: from the end
    of the sentence before (0 for the first) to its own end (the text's length when no end is past
    it); `ends` each text's sentence ends (sentiment.SENTENCE_COLUMNS' bytes)."""
    offsets, values = term_pass.arrays_of(ends, sentiment.SENTENCE_DTYPES["sentence_ends"])
    values = values[offsets[0]:offsets[-1]].astype(np.int64)
    offsets = offsets - offsets[0]
    rows = np.arange(starts.size, dtype=np.int64)
    # each row's ends lifted above the rows before (a text is shorter than 2^32 characters): one
    # sorted array, searched once for every row's first end past its start
    lifted = (np.repeat(rows, np.diff(offsets)) << 32) | values
    after = np.searchsorted(lifted, (rows << 32) | starts.astype(np.int64), side="right")
    end = np.where(after < offsets[1:], values[np.minimum(after, values.size - 1)] if values.size else 0, lengths)
    start = np.where(after - 1 >= offsets[:-1], values[np.maximum(after - 1, 0)] if values.size else 0, 0)
    return start, end


def empty_frame() -> pl.DataFrame:
    """agg_title_terms' rows when [terms] enabled is false: none."""
    return pl.DataFrame(schema=TERMS_SCHEMA)


__all__ = ["SIDES", "TERMS_SCHEMA", "empty_frame", "title_terms"]
