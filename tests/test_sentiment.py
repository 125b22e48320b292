"""Sentiment: the pipeline's scores are vaderSentiment's, in one process or many."""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpipe.sentiment import score_batch, score_batches, scores_frame

TEXTS = [
    "I loved every minute of it!",
    "Terrible. A waste of two hours :(",
    "The film is 120 minutes long.",
    "Not bad at all, but the ending was NOT good.",
    "",
]


def test_scores_are_exactly_vader_sentiments() -> None:
    analyzer = SentimentIntensityAnalyzer()
    expected = [tuple(analyzer.polarity_scores(t)[k] for k in ("compound", "pos", "neu", "neg")) for t in TEXTS]
    assert score_batch(TEXTS) == expected
    # the examples span the three labels, so a scorer that returned constants would fail
    assert expected[0][0] > 0.05 and expected[1][0] < -0.05 and expected[2][0] == 0.0


def test_a_process_pool_gives_the_same_scores_in_order() -> None:
    batches = [TEXTS[:2], TEXTS[2:4], TEXTS[4:]]
    assert list(score_batches(batches, workers=2)) == [score_batch(b) for b in batches]


def test_scores_frame_has_the_published_columns() -> None:
    frame = scores_frame(score_batch(TEXTS[:2]))
    assert frame.columns == ["sentiment_compound", "sentiment_pos", "sentiment_neu", "sentiment_neg"]
    assert frame.height == 2
