"""Sentiment with vaderSentiment: whole-text scores and sentence measures per text, in processes.

See docs/sentiment.md for the choice of sentence splitter and the agreement with star ratings.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import polars as pl
import sentencex

from reviewpipe import language, vader
from reviewpipe.files import in_order

if TYPE_CHECKING:  # not imported: the scoring processes import this module alone
    from reviewpipe.ingest import FileLoad

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
# Each sentence of a text, kept in the cache beside SCORE_COLUMNS (not published per review): where
# it ends (characters from the text's start) and its compound, as the bytes of an array of each
# (SENTENCE_DTYPES, little-endian: sentence_arrays reads them). The terms stage reads them for the
# sentences that mention a term and their mean sentiment (reviewpipe.metrics.term_pass), straight
# from the bytes. (As lists, a batch's frame took 13 us a text to build against 1 us: +12 s in the
# score stage of 1,000,000 bench reviews; bench/README.md, "Issue 26's terms stage".)
SENTENCE_COLUMNS = ("sentence_ends", "sentence_compounds")
SENTENCE_SCHEMA = {"sentence_ends": pl.Binary, "sentence_compounds": pl.Binary}
SENTENCE_DTYPES = {"sentence_ends": np.dtype("<i4"), "sentence_compounds": np.dtype("<f8")}

# One row of SCORE_COLUMNS and SENTENCE_COLUMNS: the whole text's compound, pos, neu, neg; then the
# mean sentence compound, the sentence count, the positive and negative sentence shares (null
# without a sentence); then each sentence's end and compound (SENTENCE_COLUMNS' bytes).
Scores = tuple[float, float, float, float, float | None, int, float | None, float | None, bytes, bytes]

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


def sentences(text: str) -> list[str]:
    """The sentences of one text, stripped, in order: each line split by sentencex's English rules,
    corrected at "!!"/"??" and three abbreviations (above).

    A line break always ends a sentence: cleaned reviews carry their HTML breaks as newlines, and
    reviewers use them between statements that often lack an end mark ("Great cast\\nBad script").
    """
    out: list[str] = []
    for line in text.splitlines():
        # the pattern's look-behind is tried at every character (a share of scoring worth saving):
        # only lines that hold two marks in a row can match it
        marked = "!!" in line or "??" in line or "!?" in line or "?!" in line
        parts = _EMPHATIC_END.split(line) if marked else [line]
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


def sentence_arrays(ends: bytes, compounds: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A text's SENTENCE_COLUMNS as arrays: where each sentence ends (characters) and its compound."""
    return (np.frombuffer(ends, dtype=SENTENCE_DTYPES["sentence_ends"]),
            np.frombuffer(compounds, dtype=SENTENCE_DTYPES["sentence_compounds"]))


def _ends(text: str, parts: Sequence[str]) -> Iterator[int]:
    """Where each of `parts` (the text's sentences, in order) ends in it, in characters."""
    at = 0
    for part in parts:
        at = text.index(part, at) + len(part)  # sentences are stripped pieces of the text, in order
        yield at


def score_batch(texts: Sequence[str]) -> list[Scores]:
    """The SCORE_COLUMNS and SENTENCE_COLUMNS of each text: VADER's whole-text scores (exactly
    vaderSentiment 3.3.2's), then its sentence measures, then its sentences' ends and compounds.

    VADER's compound saturates on long texts (a 400-word review scores 0.99); scored sentence by
    sentence it does not. The texts and all their sentences are scored in one batch by
    reviewpipe.vader, which gives vaderSentiment's scores for many texts at once.
    """
    parts = [sentences(text) for text in texts]
    scores = vader.polarity_frame([*texts, *(s for p in parts for s in p)])
    # the sentences' compounds only (their other scores are not used), and per text the number of
    # its sentences at or past each threshold, from running counts
    compound = scores["compound"].slice(len(texts)).to_numpy()
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    at_or_above = np.r_[0, np.cumsum(compound >= POSITIVE_AT)]
    at_or_below = np.r_[0, np.cumsum(compound <= NEGATIVE_AT)]
    positives = (at_or_above[ends] - at_or_above[starts]).tolist()
    negatives = (at_or_below[ends] - at_or_below[starts]).tolist()
    compounds = compound.tolist()
    ends = np.fromiter((end for text, part in zip(texts, parts) for end in _ends(text, part)),
                       dtype=SENTENCE_DTYPES["sentence_ends"], count=int(counts.sum()))
    compound_bytes = compound.astype(SENTENCE_DTYPES["sentence_compounds"], copy=False)
    out: list[Scores] = []
    for (whole, pos, neu, neg), n, start, positive_count, negative_count in zip(
        scores.head(len(texts)).rows(), counts.tolist(), starts.tolist(), positives, negatives
    ):
        mean: float | None = None
        positive: float | None = None
        negative: float | None = None
        if n:
            mean = math.fsum(compounds[start:start + n]) / n
            positive = positive_count / n
            negative = negative_count / n
        out.append((whole, pos, neu, neg, mean, n, positive, negative, ends[start:start + n].tobytes(),
                    compound_bytes[start:start + n].tobytes()))
    return out


# ---- languages: which analyzer scores a text ---------------------------------------------------------

# A sentiment analyzer: the SCORE_COLUMNS of each text, for texts in its language. One per language
# code; [sentiment] languages may list only these. A lexicon for another language goes here, as a
# function like score_batch; the stages do not change.
Analyzer = Callable[[Sequence[str]], list[Scores]]
ANALYZERS: dict[str, Analyzer] = {"en": score_batch}

# One analysed text: its language detection, the language whose analyzer scored it (None when no
# analyzer did) and its scores (None when unscored).
Analysed = tuple[language.Detection, str | None, Scores | None]


def scores_language(
    declared: str | None, detected: str, guess: str, languages: Sequence[str], score_undetermined: bool
) -> str | None:
    """The language whose analyzer scores a review, or None when the review is not scored.

    The review's language is the declared one (its source's `language` or review_language column)
    when there is one, else the detected one; it is scored when that language is in `languages`.
    An undetermined ("und") text is scored in its detectors' best guess when that is in
    `languages` and score_undetermined is set. The same rule, in SQL, is the macro scores_language
    (sql/schema/macros.sql), which the metrics stage applies to every review.
    """
    review_language = declared or detected
    if review_language in languages:
        return review_language
    if review_language == language.UNDETERMINED and score_undetermined and guess in languages:
        return guess
    return None


def analyze_batch(
    items: Sequence[tuple[str, str | None]], languages: Sequence[str] = ("en",), score_undetermined: bool = True
) -> list[Analysed]:
    """Each (text, language to score it in or None) detected and, where an analyzer reads it, scored.

    A text given a language is scored in it whatever it is detected as (a source declared it);
    the others are scored when scores_language(None, ...) of their detection names a language.
    Texts are scored in one call per analyzer.
    """
    detections = language.detect([text for text, _ in items])
    chosen = [
        given or scores_language(None, found, guess, languages, score_undetermined)
        for (_, given), (found, _, guess) in zip(items, detections)
    ]
    scores: list[Scores | None] = [None] * len(items)
    for code in dict.fromkeys(c for c in chosen if c is not None):
        positions = [i for i, c in enumerate(chosen) if c == code]
        for i, row in zip(positions, ANALYZERS[code]([items[i][0] for i in positions])):
            scores[i] = row
    return list(zip(detections, chosen, scores))


def analyzer(languages: Sequence[str], score_undetermined: bool) -> Callable[[Sequence[tuple[str, str | None]]], list[Analysed]]:
    """analyze_batch with the run's settings, as one picklable function of a batch (for a pool or Dask)."""
    return functools.partial(analyze_batch, languages=tuple(languages), score_undetermined=score_undetermined)


def worker_count(configured: int) -> int:
    """The number of scoring processes: the configured number, or one per CPU core when 0."""
    return configured if configured > 0 else (os.cpu_count() or 1)


def even_batch_size(texts: int, batch_size: int, workers: int) -> int:
    """At most batch_size texts per batch, in a number of batches that the workers share evenly.

    10,000 texts in batches of 2,000 left one of two workers a third batch to score alone while
    the other waited; in six batches of 1,667 both finish together.
    """
    batches = max(1, math.ceil(math.ceil(texts / batch_size) / workers)) * workers
    return max(1, math.ceil(texts / batches))


def score_batches(
    batches: Iterable[Sequence[Any]], workers: int = 1, pool: ProcessPoolExecutor | None = None,
    fn: Callable[[Sequence[Any]], list[Any]] = score_batch,
) -> Iterator[list[Any]]:
    """fn of each batch (scores, or with `analyzer(...)` each text's language and scores), in order;
    with workers > 1 the batches are done in parallel, in `pool` (a `scoring_pool` of `workers`
    processes) when given, else in a pool started here.

    At most two batches per worker are in flight, so a large corpus is never held in memory at once.
    """
    if workers <= 1:
        for batch in batches:
            yield fn(batch)
        return
    with nullcontext(pool) if pool is not None else scoring_pool(workers) as scoring:
        yield from in_order(lambda batch: scoring.submit(fn, list(batch)), batches, 2 * workers)


@contextmanager
def scoring_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` scoring processes, started at once: each imports the scorer and builds
    its lexicons while the caller goes on, e.g. finding the texts to score."""
    # spawn, not fork: the parent holds DuckDB's threads and locks, which a forked child must not
    # inherit
    context = multiprocessing.get_context("spawn")
    with _polars_threads_in_workers(workers):
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            with _main_not_rerun():
                for _ in range(workers):  # a submit to a pool without an idle process spawns one
                    pool.submit(_ready)
            yield pool
        finally:
            # its processes exit while the caller goes on (waiting for them would hold it up)
            pool.shutdown(wait=False, cancel_futures=True)


class PoolAhead:
    """A scoring pool started before the score stage needs it: `start()`, or `loaded(file)` for each
    file ingest loads, which starts it once the files' records exceed `min_records` (a run with more
    new texts than a batch; below that, starting processes costs more than it saves: scoring a few
    texts is quicker than starting a process, which imports the scorer and builds its lexicons).
    Its processes start while ingest goes on; `pool` for the score stage (None until started),
    closed when the `with` block ends."""

    def __init__(self, workers: int, min_records: int = 0) -> None:
        self.workers = workers
        self.min_records = min_records
        self.records = 0
        self.pool: ProcessPoolExecutor | None = None
        self._stack = ExitStack()

    def start(self) -> None:
        if self.pool is None and self.workers > 1:
            self.pool = self._stack.enter_context(scoring_pool(self.workers))

    def loaded(self, file: FileLoad) -> None:
        self.records += file.records
        if self.records > self.min_records:
            self.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool = None
        self._stack.close()


@contextmanager
def _main_not_rerun() -> Iterator[None]:
    """While the pool spawns its processes, the parent's __main__ names no file or module.

    A spawned process first runs the parent's __main__ again (as __mp_main__) unless it names
    neither; for the `reviewpipe` command that is the CLI, which imports the whole pipeline:
    work repeated in every process, on the cores ingest is using. The scoring processes need only the
    functions they are sent, which live in this module.
    """
    main = sys.modules["__main__"]
    file, spec = main.__dict__.pop("__file__", None), getattr(main, "__spec__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = spec
        if file is not None:
            main.__file__ = file


def _die_with_parent(parent: int) -> None:
    """Make this scoring process die (SIGKILL) when the process that started it dies, on Linux.

    Else a killed run leaves its scoring processes waiting for work for ever (their queues' pipes
    have both ends open in each of them), and with them multiprocessing's resource tracker, which
    exits once the last process holding its pipe is gone. The kernel sends the signal when the
    thread that started this process ends (prctl(2)), so the thread that enters scoring_pool must
    outlive the pool: in pipeline.run and in the flow it is the main thread.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL) != 0:
        return
    # the parent may have died before the prctl call: then this process has another parent already
    if os.getppid() != parent:
        os._exit(1)


def _ready() -> None:
    """Make a scoring process ready to score: its lexicons built, its language models loaded."""
    vader.polarity_scores(["ready"])
    language.load()


@contextmanager
def _polars_threads_in_workers(workers: int) -> Iterator[None]:
    """While the pool starts its processes (they copy this environment), give each one the cores
    divided by the workers as Polars threads, unless POLARS_MAX_THREADS is set: with one worker per
    core, more threads than cores made scoring slower."""
    if "POLARS_MAX_THREADS" in os.environ:
        yield
        return
    os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        yield
    finally:
        del os.environ["POLARS_MAX_THREADS"]


def scores_frame(scores: Sequence[Scores]) -> pl.DataFrame:
    """Scores as a frame with the published column names, one row per text (the sentences' ends and
    compounds left out)."""
    return pl.DataFrame([row[:len(SCORE_COLUMNS)] for row in scores], schema=SCORE_SCHEMA, orient="row")
