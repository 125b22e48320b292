"""Acceptance: the pipeline's whole-text score is faithful VADER, shown on the VADER paper's data.

Reads the four human-rated files in ../shared/data/vader_groundtruth (see its SOURCE.txt) and checks
that the Pearson r of `score_batch`'s compound with the human mean is what PyPI vaderSentiment 3.3.2
gives, scored text by text: 0.872, 0.427, 0.590, 0.503 (the paper's Table 4 has 0.881, 0.451, 0.565,
0.492, from the 2014 lexicon and code). A scorer that normalised, truncated or split the text before
the whole-text score would miss these in the third decimal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reviewpipe.sentiment import score_batches

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GROUND_TRUTH = DATA / "vader_groundtruth"

# file stem -> (rows, Pearson r of vaderSentiment 3.3.2's compound with the human mean, 3 decimals)
EXPECTED = {
    "tweets": (4200, 0.872),
    "movieReviewSnippets": (10605, 0.427),
    "amazonReviewSnippets": (3708, 0.590),
    "nytEditorialSnippets": (5190, 0.503),
}

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.slow,
    pytest.mark.skipif(
        not GROUND_TRUTH.is_dir(),
        reason=f"real corpora not present at {GROUND_TRUTH} (see ../shared/data)",
    ),
]


def ground_truth(name: str) -> tuple[list[float], list[str]]:
    """The human means and texts of one *_GroundTruth.txt file, in file order."""
    # bytes, not read_text: its universal newlines would hide the CRLF this splits on. utf-8-sig
    # drops a BOM if there is one; rows end in CRLF, the last in nothing; splitting on the first two
    # tabs only keeps any tab or quote inside the text as it is (csv would eat the quotes)
    raw = (GROUND_TRUTH / f"{name}_GroundTruth.txt").read_bytes().decode("utf-8-sig")
    means, texts = [], []
    for number, line in enumerate(raw.split("\r\n"), start=1):
        if not line:
            continue
        # a whole file read as one row would cost VADER hours (its time grows faster than the text)
        assert "\n" not in line, f"{name}_GroundTruth.txt line {number}: a row holds a line break"
        fields = line.split("\t", 2)
        assert len(fields) == 3, f"{name}_GroundTruth.txt line {number}: expected id, mean, text"
        means.append(float(fields[1]))
        texts.append(fields[2])
    return means, texts


def test_whole_text_compound_reproduces_vader_on_its_ground_truth() -> None:
    corpora = {name: ground_truth(name) for name in EXPECTED}
    # one stream of batches over all four files, so the two worker processes start once
    texts = [t for _, ts in corpora.values() for t in ts]
    batches = [texts[i : i + 1000] for i in range(0, len(texts), 1000)]
    compounds = [row[0] for batch in score_batches(batches, workers=2) for row in batch]

    measured, start = {}, 0
    for name, (means, ts) in corpora.items():
        scores = compounds[start : start + len(ts)]
        start += len(ts)
        measured[name] = (len(ts), round(float(np.corrcoef(scores, means)[0, 1]), 3))
    assert measured == EXPECTED


def _compare(texts: list[str]) -> list[int]:
    """Indexes of the texts whose scores differ between the pipeline's scorer and vaderSentiment 3.3.2
    applied as the definitions say: to the whole text, and to each of its sentences."""
    import functools
    import math

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reviewpipe.sentiment import NEGATIVE_AT, POSITIVE_AT, score_batch, sentences

    # vaderSentiment's scores are a function of the string alone, so each distinct string is scored
    # once: most texts are one sentence (the text itself), and texts and sentences repeat
    polarity_scores = functools.cache(SentimentIntensityAnalyzer().polarity_scores)

    def reference(text: str) -> tuple:
        whole = polarity_scores(text)
        parts = sentences(text)
        compounds = [polarity_scores(s)["compound"] for s in parts]
        n = len(compounds)
        return (whole["compound"], whole["pos"], whole["neu"], whole["neg"],
                math.fsum(compounds) / n if n else None, n,
                sum(c >= POSITIVE_AT for c in compounds) / n if n else None,
                sum(c <= NEGATIVE_AT for c in compounds) / n if n else None,
                np.array(ends(text, parts), "<i4").tobytes(), np.array(compounds, "<f8").tobytes())

    def ends(text: str, parts: list[str]) -> list[int]:  # where each sentence ends: after the one before
        out, at = [], 0
        for part in parts:
            at = text.find(part, at) + len(part)
            out.append(at)
        return out

    return [i for i, (t, row) in enumerate(zip(texts, score_batch(texts), strict=True)) if row != reference(t)]


def test_the_scorer_gives_vaders_scores_on_every_real_text_and_sentence() -> None:
    """Every review text and title in ../shared/data, scored by the pipeline (reviewpipe.vader) and by
    vaderSentiment 3.3.2: the whole text's neg, neu, pos and compound, and the sentence measures made
    of each sentence's compound, must be equal (==, not close) for every one."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from corpus import real_texts

    texts = [text for _, text in real_texts(DATA)]
    assert len(texts) > 67_000
    chunk = 2_000
    chunks = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        differing = [start * chunk + i for start, bad in enumerate(pool.map(_compare, chunks)) for i in bad]
    assert differing == [], [texts[i][:200] for i in differing[:5]]
    # and the texts that exercise the rules the fast path rewrites are among them
    lowered = [t.lower() for t in texts]
    assert sum(" but " in t for t in lowered) > 10_000
    assert sum("n't" in t for t in lowered) > 10_000
    assert sum(" least " in t for t in lowered) > 500
    assert sum(" kind of " in t for t in lowered) > 500
