"""Sentiment: whole-text scores are vaderSentiment's, sentence measures are VADER per sentence, in
one process or many."""

from __future__ import annotations

import contextlib
import math
import signal
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpipe import vader
from reviewpipe.sentiment import (
    SCORE_COLUMNS,
    SCORE_SCHEMA,
    even_batch_size,
    score_batch,
    score_batches,
    scores_frame,
    scoring_pool,
    sentence_arrays,
    sentences,
)

VADER = SentimentIntensityAnalyzer()

TEXTS = [
    "I loved every minute of it!",
    "Terrible. A waste of two hours :(",
    "The film is 120 minutes long.",
    "Not bad at all, but the ending was NOT good.",
    "I loved this film. The ending was terrible.",
    "Wow!!! Best movie ever!!!\nBad sound\n\nMr. Smith, e.g., was wonderful...",
    "",
]


def compound(text: str) -> float:
    return VADER.polarity_scores(text)["compound"]


def test_whole_text_scores_are_exactly_vader_sentiments() -> None:
    expected = [
        tuple(VADER.polarity_scores(t)[k] for k in ("compound", "pos", "neu", "neg")) for t in TEXTS
    ]
    assert [row[:4] for row in score_batch(TEXTS)] == expected
    # the examples span the three labels, so a scorer that returned constants would fail
    assert expected[0][0] > 0.05 and expected[1][0] < -0.05 and expected[2][0] == 0.0


def test_one_positive_and_one_negative_sentence() -> None:
    text = "I loved this film. The ending was terrible."
    loved, terrible = compound("I loved this film."), compound("The ending was terrible.")
    # 'loved' puts the first sentence above +0.05 (0.5994), 'terrible' the second below -0.05
    # (-0.4767)
    assert loved >= 0.05 and terrible <= -0.05
    (row,) = score_batch([text])
    # two sentences, one of each sign: shares 1/2 and 1/2, mean of the two compounds (0.06135); the
    # whole text says 0.2023, because VADER sums the word valences before normalising
    assert row[4:8] == ((loved + terrible) / 2, 2, 0.5, 0.5)
    assert row[0] == compound(text)
    # the first sentence ends after its 18 characters, the second at the text's end (43)
    assert [a.tolist() for a in sentence_arrays(*row[8:])] == [[18, 43], [loved, terrible]]


def test_a_neutral_sentence_counts_in_neither_share() -> None:
    text = "The film is 120 minutes long. It was great!"
    neutral, great = compound("The film is 120 minutes long."), compound("It was great!")
    assert neutral == 0.0 and great >= 0.05  # no lexicon word in the first; 'great!' in the second
    (row,) = score_batch([text])
    assert row[4:8] == ((neutral + great) / 2, 2, 0.5, 0.0)


def test_line_breaks_end_sentences_and_abbreviations_do_not() -> None:
    text = "Wow!!! Best movie ever!!!\nBad sound\n\nMr. Smith, e.g., was wonderful..."
    expected = ["Wow!!!", "Best movie ever!!!", "Bad sound", "Mr. Smith, e.g., was wonderful..."]
    assert sentences(text) == expected
    parts = [compound(s) for s in expected]  # 0.6884, 0.7249, -0.5423, 0.5719: three up, one down
    (row,) = score_batch([text])
    assert row[4] == pytest.approx(math.fsum(parts) / 4, abs=1e-15)
    assert row[5:8] == (4, 0.75, 0.25)
    # "Wow!!!" ends at 6, then " Best movie ever!!!" at 25, the line break, "Bad sound" at 35, two
    # line breaks, and the last sentence at the text's end
    assert [a.tolist() for a in sentence_arrays(*row[8:])] == [[6, 25, 35, len(text)], parts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sentencex 1.0.32 ends a sentence after these three; reviewpipe keeps them inside one
        (
            "I was enamored of Ms. Hayworth. She sings.",
            ["I was enamored of Ms. Hayworth.", "She sings."],
        ),
        ("Kill Bill Vol. 1 is a blast. Go.", ["Kill Bill Vol. 1 is a blast.", "Go."]),
        ("It lasts approx. three hours. Too long.", ["It lasts approx. three hours.", "Too long."]),
        # and it keeps "!!" or "??" and a following "I" in one sentence; reviewpipe cuts there
        ("Wow!!! I loved it!", ["Wow!!!", "I loved it!"]),
        ("Really?? I doubt it.", ["Really??", "I doubt it."]),
        # sentencex's own rules: quotes stay with their sentence, a missing space still ends one
        (
            'He says "I will be back." Then he leaves.',
            ['He says "I will be back."', "Then he leaves."],
        ),
        (
            "I rated it 10/10.The acting was superb.",
            ["I rated it 10/10.", "The acting was superb."],
        ),
        ("It was okay... The sequel is better.", ["It was okay...", "The sequel is better."]),
        ("Great cast\nTerrible script", ["Great cast", "Terrible script"]),
        ("  \n\n  ", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n \n"])
def test_a_blank_text_has_no_sentences_and_null_sentence_measures(text: str) -> None:
    (row,) = score_batch([text])
    whole = VADER.polarity_scores(text)
    assert row == (whole["compound"], whole["pos"], whole["neu"], whole["neg"], None, 0, None, None, b"", b"")


def test_a_process_pool_gives_the_same_scores_in_order() -> None:
    batches = [TEXTS[:2], TEXTS[2:4], TEXTS[4:6], TEXTS[6:]]
    expected = [score_batch(b) for b in batches]
    assert list(score_batches(batches, workers=2)) == expected
    # a pool started ahead (the pipeline starts it while it looks for the texts to score)
    with scoring_pool(2) as pool:
        assert list(score_batches(batches, 2, pool)) == expected


def test_the_scoring_processes_do_not_run_the_parents_main_module_again(tmp_path) -> None:
    # the `reviewpipe` command's __main__ imports the CLI and the whole pipeline; a spawned process
    # runs its parent's __main__ again unless it names no file or module
    import subprocess
    import sys

    script = tmp_path / "main_script.py"
    script.write_text(
        "import pathlib, sys\n"
        "if __name__ == '__mp_main__':\n"
        f"    pathlib.Path({str(tmp_path / 'rerun')!r}).touch()\n"
        "from reviewpipe import sentiment\n"
        "if __name__ == '__main__':\n"
        "    before = (__file__, __spec__)\n"
        "    with sentiment.scoring_pool(2) as pool:\n"
        "        print(pool.submit(sentiment.score_batch, ['I loved it.']).result())\n"
        "    assert (__file__, __spec__) == before\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert str(score_batch(["I loved it."])) in done.stdout
    assert not (tmp_path / "rerun").exists()


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux's")

# A process that starts a scoring pool of `workers` processes, has them score (and, when busy, keeps
# them scoring), says "ready" and waits to be killed.
POOL_OWNER = """
import sys, time
from reviewpipe import sentiment

if __name__ == "__main__":
    workers, busy = int(sys.argv[1]), sys.argv[2] == "busy"
    with sentiment.scoring_pool(workers) as pool:
        for future in [pool.submit(sentiment.score_batch, ["Fine."]) for _ in range(workers)]:
            future.result()
        if busy:
            for _ in range(workers):
                pool.submit(sentiment.score_batch, ["I loved it. It was long!!! Too long."] * 200_000)
            time.sleep(0.5)
        print("ready", flush=True)
        time.sleep(120)
"""


@linux_only
@pytest.mark.parametrize(("workers", "busy"), [(2, "idle"), (3, "busy")])
def test_scoring_processes_and_their_resource_tracker_end_with_a_killed_parent(
    tmp_path, workers: int, busy: str
) -> None:
    # pipeline.run in a process that is killed: no `reviewpipe run` and its watcher to clean up
    import psutil

    script = tmp_path / "pool_owner.py"
    script.write_text(POOL_OWNER)
    owner = subprocess.Popen([sys.executable, str(script), str(workers), busy], stdout=subprocess.PIPE,
                             text=True)
    started: list[psutil.Process] = []
    try:
        assert owner.stdout.readline() == "ready\n"
        started = psutil.Process(owner.pid).children(recursive=True)
        assert len(started) == workers + 1  # and multiprocessing's resource tracker
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        gone, left = psutil.wait_procs(started, timeout=10)
        assert [p.cmdline() for p in left] == []
    finally:
        for p in [psutil.Process(owner.pid), *started] if owner.poll() is None else started:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()


@linux_only
@pytest.mark.parametrize("parent", ["init", "itself", "its parent"])
def test_a_scoring_process_whose_parent_died_before_it_was_ready_exits(parent: str) -> None:
    # the parent may die before the prctl call: the process then has another parent and must exit
    # at once (the signal would never come); with its real parent it goes on
    expected = {"init": "1", "itself": "os.getpid()", "its parent": "os.getppid()"}[parent]
    done = subprocess.run(
        [sys.executable, "-c", "import os; from reviewpipe.sentiment import _die_with_parent; "
         f"_die_with_parent({expected}); print('went on')"],
        capture_output=True, text=True, timeout=60)
    went_on = parent == "its parent"
    expected_end = (0, "went on\n", "") if went_on else (1, "", "")
    assert (done.returncode, done.stdout, done.stderr) == expected_end


def test_scores_frame_has_the_published_columns_and_types() -> None:
    frame = scores_frame(score_batch(["I loved this film. The ending was terrible.", ""]))
    loved, terrible = compound("I loved this film."), compound("The ending was terrible.")
    expected = pl.DataFrame(
        {
            "sentiment_compound": [0.2023, 0.0],  # VADER's whole-text scores, as in the test above
            "sentiment_pos": [0.3, 0.0],
            "sentiment_neu": [0.462, 0.0],
            "sentiment_neg": [0.238, 0.0],
            "sentence_compound_mean": [
                (loved + terrible) / 2,
                None,
            ],  # the empty text has no sentence
            "sentence_count": [2, 0],
            "positive_sentence_share": [0.5, None],
            "negative_sentence_share": [0.5, None],
        },
        schema=SCORE_SCHEMA,
    )
    assert_frame_equal(frame, expected)
    assert tuple(frame.columns) == SCORE_COLUMNS
    assert frame.schema["sentence_count"] == pl.Int64


SENTENCE = st.sampled_from(
    [
        "I loved it!",
        "The plot is awful.",
        "It runs two hours.",
        "Mr. Smith is great.",
        "Bad sound!",
        "Wow!!!",
        "What??",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(SENTENCE, max_size=8), st.sampled_from([" ", "\n", "\n\n"]))
def test_sentence_measures_stay_in_their_ranges(parts: list[str], separator: str) -> None:
    text = separator.join(parts)
    whole, pos, neu, neg, mean, count, positive, negative, *sentence = score_batch([text])[0]
    ends, compounds = (a.tolist() for a in sentence_arrays(*sentence))
    # each sentence ends where its part does, with its own compound
    assert ends == [sum(len(p) + len(separator) for p in parts[:i + 1]) - len(separator) for i in range(len(parts))]
    assert compounds == [compound(p) for p in parts]
    # every part is one sentence whatever joins them, so the count is the number of parts (no part
    # ends in "..." or lacks an end mark: whether "great... I loved it" is one sentence or two is a
    # judgement call that sentencex makes)
    assert count == len(parts)
    if count == 0:
        assert mean is None and positive is None and negative is None
    else:
        assert mean is not None and positive is not None and negative is not None
        assert -1.0 <= mean <= 1.0 and -1.0 <= whole <= 1.0
        assert 0.0 <= positive <= 1.0 and 0.0 <= negative <= 1.0 and positive + negative <= 1.0


# Tokens that drive every rule reviewpipe.vader rewrites: lexicon words (in CAPS too), boosters and
# dampeners, negations, "no", "but", "kind of", "least", idioms, emoji, emoticons, ! and ?.
_TRICKY = [
    "good", "GOOD", "bad", "BAD", "great", "love", "hate", "no", "not", "isn't", "never", "so", "this",
    "without", "doubt", "very", "extremely", "slightly", "kind", "of", "sort", "at", "least", "but",
    "BUT", "or", "nor", "the", "movie", "plot", "cut", "the", "mustard", "hand", "to", "mouth",
    "bad", "ass", "yeah", "right", "the", "bomb", ":)", ":(", "<3", "😀", "💔", "👍", "!", "!!", "?", "???",
    "funny.", "(wonderful)", "awful!", "fine,", "kinda", "uh", "hm", "lol", "ok",
]


_TRICKY_TEXT = st.builds(
    lambda tokens, separator: separator.join(tokens),
    st.lists(st.sampled_from(_TRICKY), max_size=60),
    st.sampled_from([" ", "  ", "\n"]),
)


# about 400 texts, scored in batches of up to 9 (the rules must not reach across texts in a batch)
@settings(max_examples=80, deadline=None)
@given(st.lists(_TRICKY_TEXT, min_size=1, max_size=9))
def test_the_frame_scorer_gives_vaders_four_scores(texts: list[str]) -> None:
    expected = [tuple(VADER.polarity_scores(t)[k] for k in ("compound", "pos", "neu", "neg")) for t in texts]
    assert vader.polarity_scores(texts) == expected


def measured_as_defined(text: str) -> tuple:
    """A text's SCORE_COLUMNS as the docs define them, with vaderSentiment scoring each sentence."""
    scores = VADER.polarity_scores(text)
    compounds = [compound(s) for s in sentences(text)]
    n = len(compounds)
    # where each sentence ends: the end of its first place in the text after the sentence before
    ends, at = [], 0
    for s in sentences(text):
        at = text.find(s, at) + len(s)
        ends.append(at)
    if not n:
        return scores["compound"], scores["pos"], scores["neu"], scores["neg"], None, 0, None, None, [], []
    return (scores["compound"], scores["pos"], scores["neu"], scores["neg"], math.fsum(compounds) / n, n,
            sum(c >= 0.05 for c in compounds) / n, sum(c <= -0.05 for c in compounds) / n, ends, compounds)


# batches of texts with and without sentences, so each text's measures must come from its own
@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.lists(SENTENCE, max_size=6).map(" ".join), _TRICKY_TEXT,
                          st.sampled_from(["", " ", "\n"])), min_size=1, max_size=9))
def test_a_batchs_sentence_measures_are_vader_per_sentence(texts: list[str]) -> None:
    got = score_batch(texts)
    hexed = lambda v: float.hex(v) if isinstance(v, float) else [hexed(x) for x in v] if isinstance(v, list) else v  # noqa: E731
    got = [(*row[:8], *(a.tolist() for a in sentence_arrays(*row[8:]))) for row in got]
    assert [[hexed(v) for v in row] for row in got] == [[hexed(v) for v in measured_as_defined(t)] for t in texts]
    assert [type(row[5]) for row in got] == [int] * len(texts)


def test_worker_processes_get_the_cores_divided_among_them_as_polars_threads(monkeypatch) -> None:
    import os

    from reviewpipe.sentiment import _polars_threads_in_workers

    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with _polars_threads_in_workers(4):
        assert os.environ["POLARS_MAX_THREADS"] == "2"
    assert "POLARS_MAX_THREADS" not in os.environ  # the parent's environment is left as it was
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")  # a user's own setting wins
    with _polars_threads_in_workers(4):
        assert os.environ["POLARS_MAX_THREADS"] == "3"


@given(texts=st.integers(1, 100_000), batch_size=st.integers(1, 5_000), workers=st.integers(1, 8))
def test_batches_are_at_most_batch_size_and_the_workers_share_them_evenly(texts, batch_size, workers) -> None:
    size = even_batch_size(texts, batch_size, workers)
    sizes = [min(size, texts - start) for start in range(0, texts, size)]
    per_worker = math.ceil(math.ceil(texts / batch_size) / workers)  # batches, as batch_size needs
    # score_batches hands batch k to the worker that is free: with batches of equal size, worker k % workers
    loads = [sum(sizes[k::workers]) for k in range(workers)]
    assert 1 <= size <= batch_size
    assert len(sizes) <= per_worker * workers
    # each worker scores its share of the texts, give or take one text per batch
    assert max(loads) <= math.ceil(texts / workers) + per_worker


def test_ten_thousand_texts_go_to_two_workers_in_six_batches() -> None:
    # in batches of 2,000, one worker would score a third batch alone while the other waits
    assert even_batch_size(10_000, 2_000, 2) == 1_667
