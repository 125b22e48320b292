"""Sentiment with vaderSentiment: its four scores per text, scored in batches across worker processes."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache

import polars as pl
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SCORE_COLUMNS = ("sentiment_compound", "sentiment_pos", "sentiment_neu", "sentiment_neg")
SCORE_SCHEMA = {name: pl.Float64 for name in SCORE_COLUMNS}


@cache
def analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: building it reads VADER's lexicon (about 7,500 entries)."""
    return SentimentIntensityAnalyzer()


def score_batch(texts: Sequence[str]) -> list[tuple[float, float, float, float]]:
    """VADER's (compound, pos, neu, neg) for each text, exactly as vaderSentiment 3.3.2 gives them."""
    polarity = analyzer().polarity_scores
    out = []
    for text in texts:
        s = polarity(text)
        out.append((s["compound"], s["pos"], s["neu"], s["neg"]))
    return out


def worker_count(configured: int) -> int:
    """The number of scoring processes: the configured number, or one per CPU core when 0."""
    return configured if configured > 0 else (os.cpu_count() or 1)


def score_batches(
    batches: Iterable[Sequence[str]], workers: int = 1
) -> Iterator[list[tuple[float, float, float, float]]]:
    """Scores for each batch, in order; with workers > 1 the batches are scored in parallel processes.

    At most two batches per worker are in flight, so a large corpus is never held in memory at once.
    """
    if workers <= 1:
        for batch in batches:
            yield score_batch(batch)
        return
    # spawn, not fork: the parent holds DuckDB's threads and locks, which a forked child must not inherit
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[list[tuple[float, float, float, float]]]] = deque()
        for batch in batches:
            pending.append(pool.submit(score_batch, list(batch)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def scores_frame(scores: Sequence[tuple[float, float, float, float]]) -> pl.DataFrame:
    """Scores as a frame with the published column names, one row per text."""
    return pl.DataFrame(list(scores), schema=SCORE_SCHEMA, orient="row")
