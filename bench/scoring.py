"""What each step of the scorer bought: texts per second on one core, on benchmark corpus texts.

    python bench/scoring.py --texts 3000

Variants, each on the same texts (bench/corpus.py, seed 7), one process:
  baseline         vaderSentiment 3.3.2 on the whole text (what bench/baseline.py does)
  before           vaderSentiment on the whole text and on each sentence (the pipeline before issue 7)
  frame, whole     reviewpipe.vader on the whole texts only, in one batch
  score_batch      reviewpipe.vader on the whole texts and all their sentences in one batch, with
                   the sentence measures (sentiment.score_batch, what the pipeline runs)
(The earlier steps, FastAnalyzer and its shared tokens, are in git history: see bench/README.md.)
Every variant's whole-text scores are checked equal to the baseline's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=3000)
    a = parser.parse_args()

    import corpus
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reviewpipe import vader
    from reviewpipe.sentiment import score_batch, sentences

    pool, lengths = corpus.sentence_pool()
    texts = [row[-1] for row in corpus.reviews(a.texts, 7, pool, lengths)]
    split = [sentences(t) for t in texts]
    original = SentimentIntensityAnalyzer()
    score_batch(texts[:10])  # builds the pipeline's lexicons

    def baseline():
        return [original.polarity_scores(t) for t in texts]

    def before():  # sentence splitting included, as in the pipeline
        out = [original.polarity_scores(t) for t in texts]
        for t in texts:
            [original.polarity_scores(s)["compound"] for s in sentences(t)]
        return out

    def frame_whole():
        return [{"compound": c, "pos": p, "neu": u, "neg": n} for c, p, u, n in vader.polarity_scores(texts)]

    def pipeline():
        return [{"compound": c, "pos": p, "neu": u, "neg": n} for c, p, u, n, *_ in score_batch(texts)]

    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} texts, {words / len(texts):.0f} words and "
          f"{sum(map(len, split)) / len(texts):.1f} sentences each on average\n")
    print(f"{'variant':<16}{'seconds':>9}{'texts/s':>10}{'vs baseline':>13}")
    reference = None
    base = None
    for name, fn in (("baseline", baseline), ("before", before), ("frame, whole", frame_whole),
                     ("score_batch", pipeline)):
        t = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t
        whole = [(r["compound"], r["pos"], r["neu"], r["neg"]) for r in result]
        reference = reference or whole
        assert whole == reference, f"{name}: whole-text scores differ from vaderSentiment's"
        base = base or seconds
        print(f"{name:<16}{seconds:>9.2f}{len(texts) / seconds:>10,.0f}{base / seconds:>12.1f}x")


if __name__ == "__main__":
    main()
