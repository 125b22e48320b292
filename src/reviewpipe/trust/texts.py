"""The trust tests that read texts: copied_text, repeated_phrases and incentivized.

Each distinct staged text is read once (`update_signatures`): its words (lower case, split at spaces,
end punctuation off), the LSH bands of a MinHash signature of its 3-word shingles, a fixed
sample of its phrases of [trust] phrase_words words and the disclosure it makes, kept in the
warehouse (`text_signatures`, `text_bands`, `text_phrases`; sql/schema/warehouse.sql) with the near-
copy pairs its bands lead to, verified (`text_copy_pairs`). A run reads the new texts alone; the
tests (`text_members`) then run in SQL over these tables and stg_reviews.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from reviewpipe.settings import Settings
from reviewpipe.trust import literals, sketch, stats
from reviewpipe.warehouse import scalar, transaction

# The frame text_members gives: one row per review in a text test's subset.
MEMBERS_SCHEMA = {"review_id": pl.String, "test": pl.String, "detail": pl.String}

# In a band bucket, each text is paired with the bucket's first STAR_TEXTS texts (by hash) only: a
# bucket of n texts gives at most n * STAR_TEXTS candidate pairs, not n^2 / 2 (a text of a campaign
# of any size is still paired with copies of it). Candidates are verified BATCH_PAIRS at a time.
STAR_TEXTS = 50
BATCH_PAIRS = 50_000
# Phrases kept per text: those whose hash is 0 modulo PHRASE_SAMPLE, so a phrase is kept in every
# text or in none and its counts stay exact. Half of them, not an eighth: repeated_phrases asks a
# review for two unlikely phrases, and a template of 10 words (7 phrases) keeps two or more with
# probability 0.94 at half, 0.56 at a quarter and 0.21 at an eighth (0.92 measured at half on runs
# of real words: docs/trust.md).
PHRASE_SAMPLE = 2
# "I" and its contractions are capitalised mid-sentence without being names.
_I_WORDS = ["i", "i'm", "i've", "i'd", "i'll"]
# A phrase is a name's (a title's cast, its product's brand) when, in at least this share of the
# reviews holding it, one of its words is written capitalised inside a sentence. It is read for the
# phrases found unlikely alone (_named_counts), from the texts holding them: reading the case of every
# word of every text in the signature pass was a fifth of its time (0.55 of 2.5 s CPU at 50,000 bench
# texts), for the handful of phrases a run finds unlikely (6 at 1,000,000 bench texts).
NAMED_SHARE = 0.5
# The changed titles' phrases are counted in parts of whole titles whose texts hold up to this many
# words (_count_title_phrases): a bound of their kept phrases (about half of their n-grams), read as
# lists at 8 bytes a phrase, 0.2 GB at most (a title past it is a part alone). The 1,000,000 bench
# reviews hold 152 million words: 4 parts, 1.47 against 1.41 s in one (0.8 GB more at the peak).
PART_WORDS = 50_000_000
# Texts a batch, read in one query: each batch in hand holds its texts and what the sketch made of
# them; up to 2 * SIGNATURE_THREADS batches are made or waiting at a time (the cold pass at 1,000,000
# bench texts peaked at 3.0-3.1 GB of RSS, the whole trust stage).
BATCH_TEXTS = 25_000
# Texts whose signatures are written in one transaction (whole batches): an insert of fewer rows
# than DuckDB's row group (122,880) goes through the write-ahead log, written twice; a stopped run
# keeps whole transactions only, and the next numbers its texts on from the last kept one.
KEEP_TEXTS = 125_000
# Batches of texts whose signatures are made at once, one a thread: one a core, at most 2 (the
# project's VM has 2; the kept batches are written by one more thread).
SIGNATURE_THREADS = max(1, min(2, os.cpu_count() or 1))


def signature_version(settings: Settings) -> str:
    """The version of the kept signatures: everything that makes them; another one remakes them."""
    return json.dumps({
        "words": "lower/split/strip", "word_hash": "fnv-1a 64, finalised",
        "layout": "text_id, phrase lists, repeats kept, shingle counts",
        "shingle": sketch.SHINGLE_WORDS, "perm": sketch.NUM_PERM, "bands": sketch.BANDS,
        "seed": sketch.SEED, "phrase_words": settings.trust.phrase_words, "phrase_sample": PHRASE_SAMPLE,
        "minhash": "one permutation, optimal densification",
        # Polars lower-cases the texts: its Unicode tables may change with its version
        "polars": pl.__version__,
    }, sort_keys=True)


def disclosure_version(patterns: list[str]) -> str:
    """md5 of the disclosure pattern list, in order (the first match is the one kept)."""
    return hashlib.md5(json.dumps(patterns).encode()).hexdigest()


def text_words(texts: pl.LazyFrame, cased: bool = False) -> pl.LazyFrame:
    """One row per word of each text (i, review_text): i, word (lower case, end punctuation off),
    h (its hash, sketch.word_hashes: the hash the sketch gives it), in text order; empty words
    dropped. With `cased`, also `named`: the word is written capitalised inside a sentence (not
    after . ! ? and not "I"), as names are. The words with their strings, for the few texts whose
    phrases are shown or read for names; the signature pass splits texts in sketch.sketch."""
    frame = texts.collect()
    if cased:
        return _cased_words(frame).lazy()
    # lower-cased whole (one call per text, not per word): the same words, as lower-casing maps no
    # character to a space. Series by Series, not one lazy query: the same frame for 19% less CPU
    # (0.46 against 0.57 s at 50,000 bench texts)
    tokens = pl.DataFrame({
        "i": frame["i"],
        "token": frame["review_text"].str.replace_all("\n", " ", literal=True).str.to_lowercase().str.split(" "),
    }).explode("token").filter(pl.col("token") != "")
    words = pl.DataFrame({"i": tokens["i"], "word": tokens["token"].str.strip_chars(sketch.PUNCTUATION)})
    words = words.filter(pl.col("word") != "")
    return words.with_columns(h=sketch.word_hashes(words["word"])).lazy()


def _cased_words(texts: pl.DataFrame) -> pl.DataFrame:
    """text_words with `named`, of a frame (i, review_text)."""
    spaced = texts["review_text"].str.replace_all("\n", " ", literal=True)
    tokens = pl.DataFrame({
        "i": texts["i"], "token": spaced.str.to_lowercase().str.split(" "), "cased": spaced.str.split(" "),
    }).explode(["token", "cased"]).filter(pl.col("token") != "")
    word = tokens["token"].str.strip_chars(sketch.PUNCTUATION)
    i = tokens["i"]
    # a word opens a sentence when it opens the text or follows a token ending a sentence (a token
    # of punctuation alone counts); only the words that may start with a capital letter are read
    # with the regexes, and the token before each: an ASCII token starts with one only where
    # lower-casing changes it (a capital of another script may have no lower case: ℝ)
    opens_text = (i != i.shift(1)).fill_null(True)
    token = tokens["token"]
    maybe = ((tokens["cased"] != token) | (token.str.len_bytes() != token.str.len_chars())) & ~opens_text
    at = maybe.arg_true()
    named = pl.Series("named", np.zeros(len(tokens), dtype=np.bool_))
    if len(at):
        found = (
            tokens["cased"].gather(at).str.strip_chars(sketch.PUNCTUATION).str.contains(r"^\p{Lu}")
            & ~tokens["cased"].gather(at - 1).str.contains(r"[.!?][\"')\]]*$")
            & ~word.gather(at).is_in(_I_WORDS)
        )
        named = named.scatter(at, found)
    words = pl.DataFrame({"i": i, "word": word, "named": named}).filter(pl.col("word") != "")
    return words.select("i", "word", h=sketch.word_hashes(words["word"]), named="named")


def ngram_hashes(words: pl.LazyFrame, n: int) -> pl.LazyFrame:
    """One row per n-gram (n consecutive words) of each text in `words` (text_words, with any
    other columns, e.g. a word's position, kept for its first word): i, g (its hash: the words'
    hashes, each times its position's multiplier, xor-ed), in text order."""
    position = [int(p) for p in sketch.POSITION]
    g = pl.col("h") * position[0]
    for j in range(1, n):
        g = g ^ (pl.col("h").shift(-j) * position[j % len(position)])
    return (
        words.with_columns(g=g, whole=pl.col("i").shift(-(n - 1)) == pl.col("i"))
        .filter("whole")
        .drop("whole", "h", "word")
    )


def disclosures(texts: pl.Series, patterns: list[str], lowered: bool = False) -> pl.Series:
    """Per text, what the first of `patterns` (Python `re` syntax) that matches its lower-cased
    text found; null where none does (`lowered`: the texts are lower-cased already). Polars' regex
    engine runs the patterns it reads as `re` does (tests/test_trust_texts.py holds them equal on
    the real corpora); one it cannot compile (look-arounds, back-references) runs through `re`
    itself."""
    lower = texts if lowered else texts.str.to_lowercase()
    found = pl.Series(texts.name, [None] * len(texts), dtype=pl.String)
    if not patterns or lower.is_empty():
        return found
    # the patterns run on the texts holding one of the strings that every match of some pattern
    # holds (literals.required_literals) alone, found in one pass of an alternation of those
    # strings (the regex engine finds literals fast; 3% of the bench's texts hold one): 15 patterns
    # over every text took 0.23 s of CPU per 50,000 bench texts in batches of 20,000 and 0.35 s in
    # the score stage's of 2,000; this takes 0.13 and 0.23 s (bench/README.md, round 9). Polars'
    # Aho-Corasick (contains_any) over the same strings alone took 0.29 s. When a pattern has no
    # such strings, every text is read by every pattern, as before. A match is read from the texts
    # a pattern hits only; the first pattern (in order) that matches a text is kept.
    needs = [literals.required_literals(pattern) for pattern in patterns]
    rows = lower.is_not_null().arg_true()
    if all(needs):  # (a pattern without strings: every text is read by every pattern, as before)
        strings = sorted(set().union(*needs))  # type: ignore[arg-type]
        rows = rows.filter(lower.gather(rows).str.contains("|".join(re.escape(s) for s in strings)))
    candidates = lower.gather(rows)
    made = pl.Series(texts.name, [None] * len(candidates), dtype=pl.String)
    for pattern in patterns:
        open_ = made.is_null().arg_true()
        if not len(open_):
            break
        try:
            hits = candidates.gather(open_).str.contains(pattern).fill_null(False)
            positions = open_.filter(hits)
            if len(positions):
                match = candidates.gather(positions).str.extract(f"({pattern})", 1)
        except pl.exceptions.PolarsError:  # look-arounds, back-references: Python's `re`
            compiled = re.compile(pattern)
            positions = open_
            match = candidates.gather(positions).map_elements(
                lambda t, c=compiled: (m.group(0) if (m := c.search(t)) else None), return_dtype=pl.String)
        if len(positions):
            made = made.scatter(positions, match)
    if len(rows):
        found = found.scatter(rows, made)
    return found


def signatures(texts: pl.DataFrame, phrase_words: int, patterns: list[str], first_id: int = 1
               ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What is kept of the texts (text_hash, review_text), numbered from first_id in their order:
    their text_signatures rows (text_hash, text_id, word_count, shingle_count, disclosure),
    text_bands rows (band, text_id) and text_phrases rows (text_id, phrases: its kept phrases'
    hashes in text order, a phrase held twice twice), one per text with a phrase."""
    lower = texts["review_text"].str.to_lowercase()  # (once for both)
    made = sketch.sketch(lower, phrase_words, PHRASE_SAMPLE, lowered=True)
    text_id = np.arange(first_id, first_id + texts.height, dtype=np.int32)
    rows = texts.select(
        "text_hash", text_id=pl.Series(text_id), word_count=pl.Series(made.word_count),
        shingle_count=pl.Series(made.shingle_count), disclosure=disclosures(lower, patterns, lowered=True),
    )
    bands = pl.DataFrame({"band": made.bands[made.held].ravel(),
                          "text_id": np.repeat(text_id[made.held], sketch.BANDS)})
    return rows, bands, _phrase_lists(made.phrase_counts, made.phrases, text_id)


def _phrase_lists(counts: np.ndarray, phrases: np.ndarray, text_id: np.ndarray) -> pl.DataFrame:
    """One row (text_id, phrases) per text with a phrase: its list of phrase hashes, cut from the
    flat array (texts in order, `counts` each) by offsets (no grouping)."""
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # the arrays handed to pyarrow through Polars (a first pa.array in a process takes 0.2 s)
    lists = pl.from_arrow(pa.table({
        "phrases": pa.LargeListArray.from_arrays(pl.Series(offsets).to_arrow(), pl.Series(phrases).to_arrow()),
    }))
    return lists.select(text_id=pl.Series(text_id), phrases="phrases").filter(pl.Series(counts > 0))


def shingle_jaccard(pairs: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """The exact Jaccard similarity of the 3-word shingle sets of each pair (text_hash, copy_hash)
    of texts (text_hash, review_text, one row a text): pairs with `similarity`.

    Each text is read once, however many pairs hold it: its shingle hashes as one sorted set
    (sketch.shingle_sets), and each pair's intersection is counted by merging the two. A shingle is
    its 64-bit hash here as in the bands: two distinct shingles of one pair's texts with one hash
    (about 1e-15 for two texts of 100 shingles) would count as one; the similarity is otherwise the
    sets' own. A text not in `texts` has no shingles."""
    return pair_similarity(pairs, texts["text_hash"], sketch.shingle_sets(texts["review_text"]))


def pair_similarity(pairs: pl.DataFrame, hashes: pl.Series, sets: sketch.ShingleSets) -> pl.DataFrame:
    """shingle_jaccard of the pairs (text_hash, copy_hash), the shingle sets of the texts `hashes`
    (distinct, in the sets' order) given."""
    place = np.arange(len(hashes), dtype=np.int64)
    a, b = (pairs[column].replace_strict(hashes, place, default=-1, return_dtype=pl.Int64).to_numpy()
            for column in ("text_hash", "copy_hash"))
    return pairs.select("text_hash", "copy_hash", similarity=pl.Series(sketch.jaccard(sets, a, b)))


# Distinct texts of staged reviews that have no signature yet, as the row of int_reviews_typed that
# holds each: found from the hashes, then fetched by rowid (as stages._UNSCORED does), so that no
# other text is read.
_NEW_TEXTS = """
    create or replace temp table _tt_new_texts as
    select text_hash, min(rowid) as row_id
    from int_reviews_typed
    where staged and text_hash is not null
      and text_hash not in (select text_hash from text_signatures)
    group by text_hash
"""
# (`rowid in`, not a join on rowid: with the file out of the OS cache, a join fetching 4,930 scattered
# rows read the whole text column first, 1.8 s at 1,000,000 bench texts, where `in` took 0.02 s; all
# 1,000,000 texts 1.7 against 0.95 s. Once cached, both alike. Each row is its text's row_id, so its
# text_hash is the table's.)
_TEXTS_OF = """
    select text_hash, review_text
    from int_reviews_typed
    where rowid in (select row_id from {table})
    order by rowid
"""
# The new texts of row ids first.. before end (none: to the last), as _TEXTS_OF.
_TEXTS_IN_RANGE = """
    select text_hash, review_text
    from int_reviews_typed
    where rowid >= $first and ($end is null or rowid < $end)
      and rowid in (select row_id from _tt_new_texts where row_id >= $first and ($end is null or row_id < $end))
    order by rowid
"""


def _state(con: duckdb.DuckDBPyConnection, model: str) -> str | None:
    return scalar(con, "select version from staging_state where model = ?", [model])


def update_signatures(con: duckdb.DuckDBPyConnection, settings: Settings, *, pairs: bool = True) -> int:
    """Compute and keep the signatures of the staged texts that have none yet, redo the disclosure
    column where the pattern list changed and (unless not `pairs`: start_copy_pairs then) extend
    the verified near-copy pairs with the new texts'; how many texts got signatures. `con` is in
    autocommit mode: the texts are read through a cursor of its own, which sees what `con`
    committed."""
    trust = settings.trust
    sig_version = signature_version(settings)
    if _state(con, "text_signatures") != sig_version:
        for table in ("text_signatures", "text_bands", "text_phrases", "text_copy_pairs"):
            con.execute(f"delete from {table}")
        # the texts are numbered from 1 again: none of them is paired
        con.execute("delete from staging_state where model = 'text_copy_pairs_through'")
        con.execute("insert or replace into staging_state values ('text_signatures', ?)", [sig_version])
    patterns_version = disclosure_version(trust.disclosure_patterns)
    # texts are streamed through a cursor of their own, while `con` writes what is made of them
    cur = con.cursor()
    try:
        new = _update_new_texts(con, cur, settings, patterns_version)
        _update_disclosures(con, cur, trust.disclosure_patterns, patterns_version)
        if pairs:
            _update_copy_pairs(con, cur, settings, sig_version)
    finally:
        cur.close()
    return new


def start_copy_pairs(con: duckdb.DuckDBPyConnection, settings: Settings) -> Future:
    """Extend the verified near-copy pairs as update_signatures does (call it with pairs=False
    first), on a thread with a cursor of its own; its future. text_members, given it, counts the
    repeated phrases beside it and waits for it before copied_text reads the pairs: the two take
    1.5 and 1.7 of the 2 cores one after the other (2.7 and 4.3 s of the cold trust stage at
    1,000,000 bench texts; bench/README.md, round 10)."""
    own = con.cursor()

    def extend() -> None:
        try:
            _update_copy_pairs(own, own, settings, signature_version(settings))
        finally:
            own.close()
    pool = ThreadPoolExecutor(1, thread_name_prefix="reviewpipe-copy-pairs")
    try:
        return pool.submit(extend)
    finally:
        pool.shutdown(wait=False)  # (the thread ends with its work)


def _update_new_texts(con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection, settings: Settings,
                      patterns_version: str) -> int:
    """Keep the signatures of the staged texts that have none (listed in cur's _tt_new_texts); how many."""
    trust = settings.trust
    cur.execute(_NEW_TEXTS)
    new = scalar(cur, "select count(*) from _tt_new_texts")
    if new:
        # the new texts are numbered on from the last kept one (a stopped batch kept nothing: its
        # rows are written in one transaction)
        first_id = scalar(con, "select coalesce(max(text_id), 0) + 1 from text_signatures")
        # read a batch a query, by ranges of row ids: a query streamed whole held a read
        # transaction open to its end, and no checkpoint could write what the keeping thread had
        # committed meanwhile (3-5 s of writing at 1,000,000 bench texts left to the end)
        starts = [r for (r,) in cur.execute(
            "select row_id from (select row_id, row_number() over (order by row_id) - 1 as k from _tt_new_texts) "
            "where k % $batch = 0 order by row_id", {"batch": BATCH_TEXTS}).fetchall()]
        reader = (cur.sql(_TEXTS_IN_RANGE, params={"first": first, "end": end}).pl()
                  for first, end in zip(starts, [*starts[1:], None]))
        # batches are made SIGNATURE_THREADS at a time (the sketch, Polars and DuckDB's reading let
        # go of the GIL) and kept in reading order by a thread of their own, the one that writes
        # through `con`, while the next are made: writing in this thread left the others idle for
        # each transaction (0.7-1 s each, 5 at 1,000,000 bench texts)
        with ThreadPoolExecutor(SIGNATURE_THREADS) as pool, ThreadPoolExecutor(1) as keeper:
            made: deque[Future] = deque()
            done: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
            kept: Future | None = None
            for texts in reader:
                made.append(pool.submit(signatures, texts, trust.phrase_words, trust.disclosure_patterns, first_id))
                first_id += texts.height
                if len(made) > 2 * SIGNATURE_THREADS:  # the threads have the next batches while this one waits
                    done.append(made.popleft().result())
                    if sum(rows.height for rows, _, _ in done) >= KEEP_TEXTS:
                        if kept is not None:  # transactions in order, one at a time
                            kept.result()
                        kept = keeper.submit(_keep_and_checkpoint, con, done, patterns_version)
                        done = []
            while made:
                done.append(made.popleft().result())
            if kept is not None:
                kept.result()
            if done:
                _keep_signatures(con, done, patterns_version)
    return new


def _keep_and_checkpoint(con: duckdb.DuckDBPyConnection, made: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]],
                         patterns_version: str) -> None:
    """_keep_signatures, then a checkpoint: the kept rows written to the warehouse file while the
    next batches are made, not all at the next commit after the pass."""
    _keep_signatures(con, made, patterns_version)
    con.execute("checkpoint")


def _keep_signatures(con: duckdb.DuckDBPyConnection, made: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]],
                     patterns_version: str) -> None:
    """Insert batches' signatures (rows, bands, phrases) in one transaction. (text_phrases holds
    a text's phrases as one row of lists: 14.9 million (text, phrase) rows at 200,000 bench texts
    cost 2-3x as much to insert as their 0.2 million list rows; bench/README.md, round 4.)"""
    rows, bands, phrases = (pl.concat(frames) for frames in zip(*made))
    rows = rows.with_columns(disclosure_version=pl.lit(patterns_version))
    with transaction(con):  # a text's rows are kept together or not at all
        for table, frame in (("text_signatures", rows), ("text_bands", bands), ("text_phrases", phrases)):
            con.register("_tt_frame", frame)
            con.execute(f"insert into {table} by name select * from _tt_frame")
            con.unregister("_tt_frame")


def _update_disclosures(con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection, patterns: list[str],
                        patterns_version: str) -> None:
    """Match the texts whose disclosure was found with another pattern list against this one."""
    cur.execute("""
        create or replace temp table _tt_redisclose as
        select s.text_hash, min(t.rowid) as row_id
        from text_signatures as s
        join int_reviews_typed as t on t.text_hash = s.text_hash
        where s.disclosure_version is distinct from $1 and t.staged
        group by s.text_hash
    """, [patterns_version])
    if scalar(cur, "select count(*) from _tt_redisclose"):
        for batch in cur.sql(_TEXTS_OF.format(table="_tt_redisclose")).to_arrow_reader(BATCH_TEXTS):
            texts = pl.from_arrow(batch)
            con.register("_tt_found", texts.select("text_hash", disclosure=disclosures(texts["review_text"], patterns)))
            con.execute("""
                update text_signatures as s set disclosure = f.disclosure, disclosure_version = $1
                from _tt_found as f where s.text_hash = f.text_hash
            """, [patterns_version])
            con.unregister("_tt_found")
    # (texts no staged review holds any more keep their row and their old disclosure: no test reads it)
    cur.execute("drop table _tt_redisclose")


_CANDIDATES = """
    create or replace temp table _tt_candidates as
    with long_bands as (
        select b.band, b.text_id
        from text_bands as b
        join text_signatures as s using (text_id)
        where s.word_count >= $min_words
    ),
    new_bands as (
        select band, text_id from long_bands where text_id in (select text_id from _tt_pair_texts)
    ),
    buckets as (
        select band from long_bands {only_new}
        group by band having count(*) >= 2
    ),
    ranked as (
        select band, text_id, text_id in (select text_id from _tt_pair_texts) as is_new,
               row_number() over (partition by band order by text_id) as rank
        from long_bands
        where band in (select band from buckets)
    ),
    id_pairs as (
        select distinct a.text_id as a_id, b.text_id as b_id
        from ranked as a
        join ranked as b on b.band = a.band and b.rank <= $star and b.text_id <> a.text_id
        where a.is_new or b.is_new
    ),
    final as (
        -- a pair whose shingle sets differ in size by more than copy_similarity allows cannot be
        -- a copy (Jaccard <= the smaller size over the larger): not verified
        select distinct least(sa.text_hash, sb.text_hash) as text_hash,
               greatest(sa.text_hash, sb.text_hash) as copy_hash
        from id_pairs as p
        join text_signatures as sa on sa.text_id = p.a_id
        join text_signatures as sb on sb.text_id = p.b_id
        where least(sa.shingle_count, sb.shingle_count)
              >= $similarity * greatest(sa.shingle_count, sb.shingle_count) - 1e-9
    )
    select * from final
"""


def _candidates_sql(pairing: int, kept: int) -> str:
    """_CANDIDATES for `pairing` texts to pair of `kept`: when they are a third of the texts or more
    (the first run, a remake), the buckets are found by grouping every long text's bands, without
    looking up which hold a new text first (that lookup builds a table of the new texts' bands: as
    costly as the grouping when most are new; 0.31 against 0.64-0.89 s CPU at 200,000 bench texts,
    all new); otherwise the bands the new texts hold alone are grouped (0.08 against 0.31 s at 1% new). The
    pairs are the same: a bucket holding no new text gives none (id_pairs)."""
    only_new = "" if pairing * 3 >= kept else "where band in (select band from new_bands)"
    return _CANDIDATES.format(only_new=only_new)


def _update_copy_pairs(con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection, settings: Settings,
                       sig_version: str) -> None:
    """Extend text_copy_pairs with the verified pairs (band in common) that involve a new text, or
    make them all again when the signatures or copy_min_words changed."""
    # (the pairs verified depend on copy_similarity: a pair whose sizes it rules out is not kept)
    pairs_version = json.dumps([sig_version, settings.trust.copy_min_words, settings.trust.copy_similarity])
    if _state(con, "text_copy_pairs") != pairs_version:
        with transaction(con):
            con.execute("delete from text_copy_pairs")
            con.execute("delete from staging_state where model = 'text_copy_pairs_through'")
            con.execute("insert or replace into staging_state values ('text_copy_pairs', ?)", [pairs_version])
    # the texts whose pairs are not made yet: new ones, and any a stopped run left. Those made are the
    # text ids up to the one staging_state's 'text_copy_pairs_through' holds (texts are numbered on,
    # never again; a flag per text cost an update of every text's row in a first run, 1,000,000 at
    # the bench's 1M, and the checkpoint it set off: 2-3 s)
    through = int(_state(con, "text_copy_pairs_through") or 0)
    cur.execute("create or replace temp table _tt_pair_texts as select text_id from text_signatures where text_id > $1",
                [through])
    if not scalar(cur, "select count(*) from _tt_pair_texts"):  # nothing new: no bucket is read
        cur.execute("drop table _tt_pair_texts")
        return
    # candidates: texts long enough sharing a band, one of them new; in a bucket, each text is paired
    # with the bucket's first STAR_TEXTS texts (by text_id: the first read, so that a bucket's centres
    # stay as it grows) alone, so a bucket's pairs grow as its size
    cur.execute(_candidates_sql(scalar(cur, "select count(*) from _tt_pair_texts"),
                                scalar(cur, "select count(*) from text_signatures")),
                {"min_words": settings.trust.copy_min_words, "star": STAR_TEXTS,
                 "similarity": settings.trust.copy_similarity})
    cur.execute("""
        create or replace temp table _tt_unchecked as
        select c.text_hash, c.copy_hash, ntile($batches) over (order by c.text_hash, c.copy_hash) as batch
        from _tt_candidates as c
        anti join text_copy_pairs as p on p.text_hash = c.text_hash and p.copy_hash = c.copy_hash
    """, {"batches": max(1, -(-scalar(cur, "select count(*) from _tt_candidates") // BATCH_PAIRS))})
    batches = [b for (b,) in cur.execute("select distinct batch from _tt_unchecked order by batch").fetchall()]
    # the candidates' texts are read once, and each made its set of shingles once, however many
    # batches hold it (64,600 texts for 60,600 pairs at 1,000,000 bench texts; their sets grow with
    # the candidates, not the pairs' batches); read a batch at a time, every batch scanned the
    # whole table's texts
    cur.execute("""
        create or replace temp table _tt_pair_rows as
        select text_hash, min(t.rowid) as row_id
        from int_reviews_typed as t
        where t.staged and t.text_hash in (select text_hash from _tt_unchecked union select copy_hash from _tt_unchecked)
        group by text_hash
    """)
    read = cur.sql(_TEXTS_OF.format(table="_tt_pair_rows")).pl()
    sets = sketch.shingle_sets(read["review_text"])
    cur.execute("drop table _tt_pair_rows")
    for batch in batches:  # verified in batches of pairs
        pairs = cur.sql("select text_hash, copy_hash from _tt_unchecked where batch = $1", params=[batch]).pl()
        con.register("_tt_checked", pair_similarity(pairs, read["text_hash"], sets))
        con.execute("""
            insert into text_copy_pairs
            select text_hash, copy_hash, similarity from _tt_checked
            union all
            select copy_hash, text_hash, similarity from _tt_checked
        """)
        con.unregister("_tt_checked")
    con.execute("insert or replace into staging_state values ('text_copy_pairs_through', ?)",
                [str(scalar(cur, "select max(text_id) from _tt_pair_texts"))])
    cur.execute("drop table _tt_candidates")
    cur.execute("drop table _tt_unchecked")
    cur.execute("drop table _tt_pair_texts")


# The staged reviews with a text, and who wrote each: the reviewer_key, or the review itself when
# nobody is known (a review with no known reviewer counts as its own reviewer).
_TEXT_REVIEWS = """
    create or replace temp table _tt_reviews as
    select review_id, title_id, text_hash,
           coalesce(reviewer_key(source, reviewer_id, author, $anonymous),
                    'review' || chr(31) || review_id) as reviewer
    from stg_reviews
    where text_hash is not null
"""
# The same rows from trust_reviews (sql/trust/trust_reviews.sql), made already by trust_frames with the
# same reviewer_key: not computed again over stg_reviews.
_TEXT_REVIEWS_OF_TRUST = """
    create or replace temp table _tt_reviews as
    select review_id, title_id, text_hash, coalesce(reviewer, 'review' || chr(31) || review_id) as reviewer
    from trust_reviews
    where text_hash is not null
"""

# copied_text: per review, the reviews of its own text and of its verified near-copies written by
# other reviewers (texts of at least copy_min_words words; pairs of at least copy_similarity).
_COPIED = """
    with shared as (  -- texts more than one review holds
        select text_hash from _tt_reviews group by text_hash having count(distinct reviewer) > 1
    ),
    pairs as (
        select p.text_hash, p.copy_hash, p.similarity
        from text_copy_pairs as p
        where p.similarity >= $similarity
    ),
    links as (
        select text_hash, text_hash as copy_hash, 1.0 as similarity from shared
        union all
        select * from pairs
    ),
    long_links as (
        select l.*
        from links as l
        join text_signatures as s using (text_hash)
        where s.word_count >= $min_words
    ),
    by_reviewer as (  -- per text: the reviews of it and its copies, per reviewer
        select l.text_hash, r.reviewer, count(*) as reviews, count(*) filter (where l.copy_hash = l.text_hash) as exact
        from long_links as l
        join _tt_reviews as r on r.text_hash = l.copy_hash
        group by l.text_hash, r.reviewer
    ),
    final as (
        select r.review_id,
               sum(b.reviews) as copies, sum(b.exact) as exact_copies, count(*) as reviewers
        from _tt_reviews as r
        join by_reviewer as b on b.text_hash = r.text_hash and b.reviewer <> r.reviewer
        group by r.review_id
    )
    select * from final order by review_id
"""

# repeated_phrases: per title, the sampled phrases that at least 2 of its reviewers share (a
# reviewer's reviews count once: the same reviewer's copies), kept in text_title_phrases and made
# again for the titles whose reviews changed (their fingerprint: reviews, reviewers and texts).
_TITLE_FINGERPRINTS = """
    create or replace temp table _tt_titles as
    select title_id, bit_xor(hash(review_id, reviewer, text_hash)) as fingerprint, count(*) as reviews
    from _tt_reviews
    group by title_id
"""
_CHANGED_TITLES = """
    create or replace temp table _tt_changed as
    select t.title_id, t.fingerprint
    from _tt_titles as t
    left join text_title_state as k using (title_id)
    where k.fingerprint is distinct from t.fingerprint
"""
# The reviews of the changed titles with their text's number and length.
_TITLE_TEXTS = """
    create or replace temp table _tt_title_texts as
    select r.title_id, r.reviewer, s.text_id, s.word_count
    from _tt_reviews as r
    join text_signatures as s using (text_hash)  -- text_phrases names a text by its text_id
    where r.title_id in (select title_id from _tt_changed)
"""
# The kept phrase rows of the phrases some title's reviewers share often enough to be tested
# (candidates), read once: _PHRASE_COUNTS and the members' query read them, not the whole table.
_CANDIDATE_ROWS = """
    create or replace temp table _tt_candidate_rows as
    with held as (  -- the kept phrases, unnested: the candidates' alone are read on
        select text_id, unnest(phrases) as phrase from text_phrases
    ),
    hits as materialized (
        select text_id, phrase from held
        where phrase in (select phrase from text_title_phrases where reviewers >= $min_reviews)
    )
    select distinct s.text_hash, h.phrase
    from hits as h
    join text_signatures as s using (text_id)
"""
# df: the reviews of the whole warehouse holding the phrase; N: the reviews with a text.
_PHRASE_COUNTS = """
    with candidates as (
        select title_id, phrase, reviewers from text_title_phrases where reviewers >= $min_reviews
    ),
    phrase_df as (
        select p.phrase, count(*) as df
        from _tt_candidate_rows as p
        join _tt_reviews as r using (text_hash)
        group by p.phrase
    ),
    final as (
        select c.title_id, c.phrase, c.reviewers, d.df, t.reviews as title_reviews,
               (select count(*) from _tt_reviews) as total
        from candidates as c
        join phrase_df as d using (phrase)
        join _tt_titles as t using (title_id)
    )
    select * from final order by title_id, phrase
"""


def text_members(con: duckdb.DuckDBPyConnection, settings: Settings, of_trust_reviews: bool = False,
                 pairs: Future | None = None) -> pl.DataFrame:
    """The staged reviews in the subsets of copied_text, repeated_phrases and incentivized
    (MEMBERS_SCHEMA): review_id, test, and the detail in words ("near-copy of 12 reviews by 9 other
    reviewers", "shares \\"great quality for the price\\" with 31 reviews of the title", "discloses:
    \\"received this product free\\""). Call update_signatures first. With `of_trust_reviews`, the
    reviews and their reviewers are read from the trust_reviews that subsets.create_trust_reviews
    made (of these settings, since), not from stg_reviews. With `pairs` (start_copy_pairs'
    future), the phrases are counted while the pairs are extended, and copied_text waits for them."""
    trust = settings.trust
    try:
        if of_trust_reviews:
            con.execute(_TEXT_REVIEWS_OF_TRUST)
        else:
            con.execute(_TEXT_REVIEWS, {"anonymous": list(trust.anonymous_names)})
        phrased = _phrased(con, settings)
    finally:
        if pairs is not None:  # waited for in any case: its cursor must end before `con` does
            pairs.result()
    try:
        frames = [_copied(con, settings), phrased, _incentivized(con)]
    finally:
        for table in ("_tt_reviews", "_tt_titles", "_tt_changed", "_tt_title_texts", "_tt_candidate_rows"):
            con.execute(f"drop table if exists {table}")
    return pl.concat(frames).sort("test", "review_id")


def _copied(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """copied_text's members, with the copies in words."""
    found = con.sql(_COPIED, params={"similarity": settings.trust.copy_similarity,
                                     "min_words": settings.trust.copy_min_words}).pl()
    kind = (pl.when(pl.col("exact_copies") == pl.col("copies")).then(pl.lit("copy"))
            .when(pl.col("exact_copies") == 0).then(pl.lit("near-copy"))
            .otherwise(pl.lit("copy or near-copy")))
    return found.select(
        "review_id", test=pl.lit("copied_text"),
        detail=pl.format("{} of {} review{} by {} other reviewer{}", kind, pl.col("copies"),
                         pl.when(pl.col("copies") == 1).then(pl.lit("")).otherwise(pl.lit("s")),
                         pl.col("reviewers"),
                         pl.when(pl.col("reviewers") == 1).then(pl.lit("")).otherwise(pl.lit("s"))),
    ).cast(MEMBERS_SCHEMA)


def _phrased(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """repeated_phrases' members: the reviews of a title holding two of its unlikely phrases that
    are not names and that phrase_min_reviews of its reviewers hold together, with the most
    unlikely one's words."""
    trust = settings.trust
    _update_title_phrases(con, settings)
    named_version = json.dumps([signature_version(settings), NAMED_RULE])
    if _state(con, "text_named_phrases") != named_version:
        con.execute("delete from text_named_phrases")
        con.execute("insert or replace into staging_state values ('text_named_phrases', ?)", [named_version])
    con.execute(_CANDIDATE_ROWS, {"min_reviews": trust.phrase_min_reviews})
    counts = con.sql(_PHRASE_COUNTS, params={"min_reviews": trust.phrase_min_reviews}).pl()
    if counts.is_empty():
        return pl.DataFrame(schema=MEMBERS_SCHEMA)
    expected = counts["title_reviews"].cast(pl.Float64) * counts["df"] / counts["total"]
    # P(X >= c) for X ~ Poisson(expected): the survival function at c - 1
    counts = counts.with_columns(p=pl.Series(stats.poisson_tail(counts["reviewers"].to_numpy(), expected.to_numpy())))
    # a name (its cast, its brand) is what one title's honest reviews share: most of the reviews
    # holding the phrase write a word of it capitalised inside a sentence
    unlikely = counts.filter(pl.col("p") < trust.phrase_p)
    if not unlikely.is_empty():
        named = _named_counts(con, unlikely["phrase"].unique(), trust.phrase_words)
        unlikely = (unlikely.join(named, on="phrase", how="left")
                    .filter(pl.col("named").fill_null(0) < NAMED_SHARE * pl.col("df")))
    if unlikely.is_empty():
        return pl.DataFrame(schema=MEMBERS_SCHEMA)
    con.register("_tt_unlikely", unlikely.select("title_id", "phrase", "reviewers", "p"))
    try:
        holders = con.sql("""
            with holding as (  -- the texts holding an unlikely phrase (unlikely ones are candidates)
                select text_hash, phrase
                from _tt_candidate_rows
                where phrase in (select phrase from _tt_unlikely)
            ),
            held as (
                select r.review_id, r.title_id, r.reviewer, r.text_hash, u.phrase, u.reviewers, u.p
                from holding as h
                join _tt_reviews as r using (text_hash)
                join _tt_unlikely as u on u.title_id = r.title_id and u.phrase = h.phrase
            ),
            held_pairs as (  -- two unlikely phrases of one review
                select a.review_id, a.title_id, a.reviewer, a.phrase as first, b.phrase as second
                from held as a
                join held as b on b.review_id = a.review_id and b.phrase > a.phrase
            ),
            together as (  -- pairs that enough reviewers of the title hold together: a template's
                select title_id, first, second
                from held_pairs
                group by title_id, first, second
                having count(distinct reviewer) >= $min_reviews
            ),
            templated as (
                select distinct h.review_id
                from held_pairs as h
                join together as t using (title_id, first, second)
            ),
            final as (
                select review_id, text_hash, phrase, reviewers, p,
                       count(*) over (partition by review_id) as phrases
                from held
                where review_id in (select review_id from templated)
                qualify row_number() over (partition by review_id order by p, phrase) = 1
            )
            select * from final
        """, params={"min_reviews": trust.phrase_min_reviews}).pl()
    finally:
        con.unregister("_tt_unlikely")
    words = _phrase_words(con, holders.select("text_hash", "phrase"), trust.phrase_words)
    return holders.join(words, on="phrase", how="left").select(
        "review_id", test=pl.lit("repeated_phrases"),
        detail=pl.format("shares \"{}\" with {} other reviewer{} of the title{}", pl.col("words"),
                         pl.col("reviewers") - 1,
                         pl.when(pl.col("reviewers") == 2).then(pl.lit("")).otherwise(pl.lit("s")),
                         pl.when(pl.col("phrases") == 1).then(pl.lit(""))
                         .otherwise(pl.format(", and {} more unlikely phrase{}", pl.col("phrases") - 1,
                                              pl.when(pl.col("phrases") == 2).then(pl.lit("")).otherwise(pl.lit("s"))))),
    ).cast(MEMBERS_SCHEMA)


# What makes text_named_phrases' rows besides the signatures: the word rule of _cased_words.
NAMED_RULE = "capitalised inside a sentence (not after . ! ? nor I), any of the phrase's words"


def _named_counts(con: duckdb.DuckDBPyConnection, phrases: pl.Series, n: int) -> pl.DataFrame:
    """Per phrase of `phrases` (kept phrase hashes of _tt_candidate_rows): named, the reviews of
    _tt_reviews whose text writes a word of it capitalised inside a sentence (text_words' `named`).
    Whether a text does is kept per text and phrase (text_named_phrases): only the texts holding a
    phrase with no row for it yet are read (the unlikely phrases' holders were 11,000 texts at
    1,000,000 bench texts, 0.6-1.5 s to read and split again at every run)."""
    con.register("_tt_named_phrases", pl.DataFrame({"phrase": phrases}, schema={"phrase": pl.UInt64}))
    try:
        con.execute("""
            create or replace temp table _tt_named_new as
            select c.text_hash, c.phrase
            from _tt_candidate_rows as c
            anti join text_named_phrases as k using (text_hash, phrase)
            where c.phrase in (select phrase from _tt_named_phrases)
        """)
        con.execute("""
            create or replace temp table _tt_named_rows as
            select t.text_hash, min(t.rowid) as row_id
            from int_reviews_typed as t
            where t.staged and t.text_hash in (select text_hash from _tt_named_new)
            group by t.text_hash
        """)
        texts = con.sql(_TEXTS_OF.format(table="_tt_named_rows")).pl().with_row_index("i")
        words = text_words(texts.lazy().select("i", "review_text"), cased=True)
        found = (
            ngram_hashes(words.with_columns(named=pl.any_horizontal(pl.col("named").shift(-j) for j in range(n))), n)
            .filter(pl.col("named"), pl.col("g").is_in(phrases.implode()))
            .select("i", phrase="g").unique()
            .join(texts.lazy().select("i", "text_hash"), on="i")
            .select("text_hash", "phrase")
            .collect()
        )
        con.register("_tt_named", found)
        # each new (text, phrase) kept with its answer (a text no staged review holds is not read:
        # it stays out, and is read if a review holds it again)
        con.execute("""
            insert into text_named_phrases
            select new.text_hash, new.phrase, named.text_hash is not null
            from _tt_named_new as new
            semi join _tt_named_rows as read using (text_hash)
            left join _tt_named as named using (text_hash, phrase)
        """)
        return con.sql("""
            select k.phrase, count(*) as named
            from text_named_phrases as k
            join _tt_reviews as r using (text_hash)
            where k.named and k.phrase in (select phrase from _tt_named_phrases)
            group by k.phrase
        """).pl()
    finally:
        for name in ("_tt_named_phrases", "_tt_named"):  # (a name never registered: nothing to do)
            con.unregister(name)
        con.execute("drop table if exists _tt_named_rows")
        con.execute("drop table if exists _tt_named_new")


def _update_title_phrases(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Make text_title_phrases again for the titles whose reviews changed (all of them when the
    signatures or [trust] anonymous_names did), and forget the titles gone."""
    version = json.dumps([signature_version(settings), list(settings.trust.anonymous_names)])
    if _state(con, "text_title_phrases") != version:
        con.execute("delete from text_title_phrases")
        con.execute("delete from text_title_state")
        con.execute("insert or replace into staging_state values ('text_title_phrases', ?)", [version])
    con.execute(_TITLE_FINGERPRINTS)
    con.execute(_CHANGED_TITLES)
    gone = "(select title_id from _tt_changed) or title_id not in (select title_id from _tt_titles)"
    if scalar(con, "select count(*) from _tt_changed") or scalar(
            con, "select count(*) from text_title_state where title_id not in (select title_id from _tt_titles)"):
        con.execute(f"delete from text_title_phrases where title_id in {gone}")
        con.execute(f"delete from text_title_state where title_id in {gone}")
        con.execute(_TITLE_TEXTS)
        try:
            con.register("_tt_counted", _count_title_phrases(con))
            con.execute("insert into text_title_phrases select title_id, phrase, reviewers from _tt_counted")
        finally:
            con.unregister("_tt_counted")
            con.execute("drop table if exists _tt_title_texts")
        con.execute("insert into text_title_state select title_id, fingerprint from _tt_changed")


def _count_title_phrases(con: duckdb.DuckDBPyConnection, threads: int = SIGNATURE_THREADS,
                         part_words: int = PART_WORDS) -> pl.DataFrame:
    """text_title_phrases' rows (title_id, phrase, reviewers) of the reviews of _tt_title_texts:
    per title and kept phrase of its reviews' texts, the distinct reviewers holding it, when 2 or
    more. Counted by a compiled pass per title (compiled.title_phrases: an open-addressing table of
    the title's phrases, the size of its own reviews'), the titles split among `threads` threads,
    and read in parts of whole titles whose texts hold up to `part_words` words (PART_WORDS). A sort
    of every (title, phrase) key and a semi-join of the repeated ones took 3.1 s (5.6 s of CPU) at
    1,000,000 bench texts; this 1.55 s (2.5 s of CPU): bench/README.md, round 11."""
    schema = {"title_id": pl.String, "phrase": pl.UInt64, "reviewers": pl.Int64}
    # a reviewer's reviews of a title together: each is counted once per phrase
    reviews = con.sql("select title_id, reviewer, text_id, word_count from _tt_title_texts "
                      "order by title_id, reviewer").pl()
    if reviews.is_empty():
        return pl.DataFrame(schema=schema)
    title, reviewer = reviews["title_id"], reviews["reviewer"]
    new_title = (title != title.shift(1)).fill_null(True)
    who = (new_title | (reviewer != reviewer.shift(1)).fill_null(True)).cum_sum().cast(pl.Int64).to_numpy()
    starts = np.append(new_title.arg_true().to_numpy().astype(np.int64), np.int64(reviews.height))
    titles = title.filter(new_title)
    # parts of whole titles, cut where their texts' words (a bound of their phrases) pass each
    # multiple of part_words
    words = np.concatenate(([0], np.cumsum(reviews["word_count"].to_numpy(), dtype=np.int64)))[starts]
    cuts = np.searchsorted(words, np.arange(1, -(-int(words[-1]) // part_words)) * part_words)
    bounds = sorted({0, *(int(c) for c in cuts), titles.len()})
    found = [pl.DataFrame(schema=schema)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        first, end = int(starts[a]), int(starts[b])
        counted = _count_part(con, reviews["text_id"].slice(first, end - first), starts[a:b + 1] - first,
                              who[first:end], threads, whole=len(bounds) == 2)
        found.append(pl.DataFrame({"title_id": titles.slice(a, b - a).gather(counted[0]), "phrase": counted[1],
                                   "reviewers": counted[2]}, schema=schema))
    return pl.concat(found)


def _count_part(con: duckdb.DuckDBPyConnection, text_id: pl.Series, starts: np.ndarray, who: np.ndarray,
                threads: int, whole: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """compiled.title_phrases over the reviews of some titles (their text ids, the titles' first
    reviews and one's end, who wrote each): the (title index, phrase, reviewers) found. `whole`:
    these are all the changed titles (their lists are read whole when they are most of the kept ones)."""
    from reviewpipe.trust import compiled  # (numba: imported when first needed, see compiled)
    # the lists in one piece (DuckDB's default batches of 1,000,000 rows left 11 chunks to join:
    # 0.3 s at 1,000,000 bench texts); all of them, not looked up, when the texts are most of them
    # (a first run): 0.23 against 0.5 s there
    if whole and text_id.len() * 2 >= scalar(con, "select count(*) from text_phrases"):
        lists = con.sql("select text_id, phrases from text_phrases").pl(batch_size=1 << 40)
    else:
        con.register("_tt_part_texts", text_id.unique().to_frame("text_id"))
        try:
            lists = con.sql("select text_id, phrases from text_phrases "
                            "where text_id in (select text_id from _tt_part_texts)").pl(batch_size=1 << 40)
        finally:
            con.unregister("_tt_part_texts")
    none = np.zeros(0, np.int64)
    if lists.is_empty():
        return none, none.astype(np.uint64), none
    offsets, values = _list_buffers(lists["phrases"])
    rows = (text_id.to_frame("text_id")
            .join(lists.select("text_id", row=pl.int_range(pl.len(), dtype=pl.Int64)), on="text_id", how="left",
                  maintain_order="left")["row"].fill_null(-1).to_numpy())
    # writable int64 arrays, as sketch.prepare loads the kernel for: a read-only one (Polars hands
    # its numbers over without a copy) is another signature, compiled again (2-3 s) in a run
    starts, rows, who = (np.require(a, dtype=np.int64, requirements=["C", "W"]) for a in (starts, rows, who))
    # the titles split among the threads where the phrases read reach each one's share
    held = np.where(rows >= 0, offsets[np.maximum(rows, 0) + 1] - offsets[np.maximum(rows, 0)], 0)
    before = np.concatenate(([0], np.cumsum(held)))[starts]
    cuts = np.searchsorted(before, np.arange(1, threads) * before[-1] / threads)
    bounds = [0, *(int(c) for c in cuts), starts.size - 1]
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda a, b: compiled.title_phrases(a, b, starts, rows, who, offsets, values),
                              bounds[:-1], bounds[1:]))
    return tuple(np.concatenate(part) for part in zip(*parts))  # type: ignore[return-value]


def _list_buffers(lists: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A Series of lists of UInt64 with no null, as numpy arrays without a copy: the offsets
    (int64, one more than the lists) into the values. (Read from the Arrow buffers: pyarrow's own
    to_numpy imports pandas, 0.2 s in a run.)"""
    kept = lists.rechunk().to_arrow()
    if not isinstance(kept, pa.LargeListArray):
        kept = kept.cast(pa.large_list(pa.uint64()))
    offsets = np.frombuffer(kept.buffers()[1], dtype=np.int64)[kept.offset:kept.offset + len(kept) + 1]
    child = kept.values
    values = np.frombuffer(child.buffers()[1], dtype=np.uint64)[child.offset:child.offset + len(child)]
    return offsets, values


def _phrase_words(con: duckdb.DuckDBPyConnection, holders: pl.DataFrame, n: int) -> pl.DataFrame:
    """The words (phrase, words) of each phrase hash, read from one text that holds it."""
    one = holders.group_by("phrase").agg(pl.col("text_hash").min())
    con.register("_tt_one", one.select("text_hash").unique())
    try:
        texts = con.sql("""
            select t.text_hash, any_value(t.review_text) as review_text
            from int_reviews_typed as t
            where t.staged and t.text_hash in (select text_hash from _tt_one)
            group by t.text_hash
        """).pl().with_row_index("i")
    finally:
        con.unregister("_tt_one")
    words = text_words(texts.lazy().select("i", "review_text")).with_columns(
        pos=pl.int_range(pl.len()).over("i")).collect()
    grams = ngram_hashes(words.lazy(), n).collect()
    spans = (
        grams.join(texts.select("i", "text_hash"), on="i")
        .join(one.rename({"phrase": "g"}), on=["text_hash", "g"])
        .group_by("g").agg(pl.col("i").first(), pl.col("pos").first())
    )
    return (
        spans.join(words.select("i", pos_w="pos", word="word"), on="i")
        .filter(pl.col("pos_w").is_between(pl.col("pos"), pl.col("pos") + n - 1))
        .sort("g", "pos_w")
        .group_by("g", maintain_order=True).agg(pl.col("word").str.join(" ").alias("words"))
        .rename({"g": "phrase"})
    )


def _incentivized(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """incentivized's members: the reviews whose text discloses, with what it says."""
    return con.sql("""
        select r.review_id, 'incentivized' as test, 'discloses: "' || s.disclosure || '"' as detail
        from _tt_reviews as r
        join text_signatures as s using (text_hash)
        where s.disclosure is not null
        order by r.review_id
    """).pl().cast(MEMBERS_SCHEMA)
