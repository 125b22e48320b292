"""Sentiment with vaderSentiment: whole-text scores and sentence measures per text, in processes.

See docs/sentiment.md for the choice of sentence splitter and the agreement with star ratings.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache

import polars as pl
import sentencex

from reviewpipe.vader import FastAnalyzer

SCORE_COLUMNS = (
    "sentiment_compound",
    "sentiment_pos",
    "sentiment_neu",
    "sentiment_neg",
    "sentence_compound_mean",
    "sentence_count",
    "positive_sentence_share",
    "negative_sentence_share",
)
SCORE_SCHEMA = {
    name: (pl.Int64 if name == "sentence_count" else pl.Float64) for name in SCORE_COLUMNS
}

# One row of SCORE_COLUMNS: the whole text's compound, pos, neu, neg; then the mean sentence
# compound, the sentence count, the positive and negative sentence shares (null without a sentence).
Scores = tuple[float, float, float, float, float | None, int, float | None, float | None]

# VADER's thresholds for a positive / negative score (vaderSentiment README, "About the Scoring").
# Fixed, not settings.sentiment.threshold: the shares are cached by text hash alone.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

# sentencex 1.0.32 ends a sentence after these, but in reviews a name or number follows them
# ("Ms. Hayworth", "Kill Bill Vol. 1", "approx. three hours").
_NOT_A_SENTENCE_END = frozenset({"Ms.", "Vol.", "approx."})
# sentencex 1.0.32 does not end a sentence at "!!" or "??" before the word "I" ("Wow!!! I loved
# it"); in reviews two or more of them before a capital end one, so lines are cut there first.
_EMPHATIC_END = re.compile(r"(?<=[!?][!?])\s+(?=[A-Z])")


@cache
def analyzer() -> FastAnalyzer:
    """One analyzer per process: building it reads VADER's lexicon (about 7,500 entries).

    vaderSentiment 3.3.2's scores, computed by reviewpipe.vader.FastAnalyzer in linear time.
    """
    return FastAnalyzer()


def sentences(text: str) -> list[str]:
    """The sentences of one text, stripped, in order: each line split by sentencex's English rules,
    corrected at "!!"/"??" and three abbreviations (above).

    A line break always ends a sentence: cleaned reviews carry their HTML breaks as newlines, and
    reviewers use them between statements that often lack an end mark ("Great cast\\nBad script").
    """
    out: list[str] = []
    for line in text.splitlines():
        parts = _EMPHATIC_END.split(line)
        segments = [segment for part in parts for segment in sentencex.segment("en", part)]
        carry = ""
        for segment in segments:
            carry += segment
            words = segment.rsplit(None, 1)
            if words and words[-1] in _NOT_A_SENTENCE_END:
                continue
            if carry.strip():
                out.append(carry.strip())
            carry = ""
        if carry.strip():
            out.append(carry.strip())
    return out


def text_scores(text: str) -> Scores:
    """The SCORE_COLUMNS of one text: VADER's whole-text scores, then its sentence measures."""
    parts = sentences(text)
    # VADER's compound saturates on long texts (a 400-word review scores 0.99); scored sentence by
    # sentence it does not. The sentences are scored from the text's own tokens (FastAnalyzer).
    whole, compounds = analyzer().scores_with_sentences(text, parts)
    n = len(compounds)
    mean: float | None = None
    positive: float | None = None
    negative: float | None = None
    if n:
        mean = math.fsum(compounds) / n
        positive = sum(c >= POSITIVE_AT for c in compounds) / n
        negative = sum(c <= NEGATIVE_AT for c in compounds) / n
    return (
        whole["compound"],
        whole["pos"],
        whole["neu"],
        whole["neg"],
        mean,
        n,
        positive,
        negative,
    )


def score_batch(texts: Sequence[str]) -> list[Scores]:
    """The SCORE_COLUMNS of each text; the first four exactly vaderSentiment 3.3.2's scores."""
    return [text_scores(text) for text in texts]


def worker_count(configured: int) -> int:
    """The number of scoring processes: the configured number, or one per CPU core when 0."""
    return configured if configured > 0 else (os.cpu_count() or 1)


def score_batches(batches: Iterable[Sequence[str]], workers: int = 1) -> Iterator[list[Scores]]:
    """Scores for each batch, in order; with workers > 1 the batches are scored in parallel.

    At most two batches per worker are in flight, so a large corpus is never held in memory at once.
    """
    if workers <= 1:
        for batch in batches:
            yield score_batch(batch)
        return
    # spawn, not fork: the parent holds DuckDB's threads and locks, which a forked child must not
    # inherit
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[list[Scores]]] = deque()
        for batch in batches:
            pending.append(pool.submit(score_batch, list(batch)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def scores_frame(scores: Sequence[Scores]) -> pl.DataFrame:
    """Scores as a frame with the published column names, one row per text."""
    return pl.DataFrame(list(scores), schema=SCORE_SCHEMA, orient="row")
