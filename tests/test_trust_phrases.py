"""repeated_phrases on real film reviews: a film's cast is not a campaign, a short template is.

One pipeline run (module-scoped) over the real IMDb reviews of ../shared/data/imdb_movie_reviews_helpful
(every film with a movieReviews.csv) with a campaign planted on Pulp Fiction: 30 new accounts each
writing a 12-word template between a real sentence of their own and the film's title. The Avengers'
1,995 real reviews share phrases naming its cast ("fury samuel l jackson" in 73 of them) and rate it
higher than the rest; before names were left out, that was a failing repeated_phrases subset.
"""

from __future__ import annotations

import csv
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.settings import load_settings
from reviewpipe.trust import sketch, texts
from reviewpipe.warehouse import open_warehouse

REPO = Path(__file__).resolve().parents[1]
IMDB = REPO.parent / "shared" / "data" / "imdb_movie_reviews_helpful"
sys.path.insert(0, str(REPO / "bench"))

import trust_harness as h  # noqa: E402

# 12 words: 9 phrases of 4 words, of which the half sample keeps two or more (the test asserts the
# campaign is found, so a template keeping fewer would show here)
TEMPLATE = "honestly the greatest thing i have watched this year so go see it"
CAMPAIGN = 30


def _planted_rows(rng: random.Random) -> list[list[Any]]:
    """The campaign's rows in the IMDb file layout: new accounts, ten stars, one day."""
    with open(IMDB / "Pulp Fiction" / "movieReviews.csv", encoding="utf-8", newline="") as f:
        real = [r["Review"] for r in csv.DictReader(f) if r["Review"]]
    rows = []
    for i in range(CAMPAIGN):
        own = rng.choice(real).split(". ")[0].strip()
        text = f"{own}. {TEMPLATE[0].upper()}{TEMPLATE[1:]}, Pulp Fiction is {rng.choice(['a must', 'great', 'superb'])}."
        rows.append(["12 May 2021", f"fan_{i}_{rng.randint(1000, 9999)}", 0, 0, 10, "Wow", text])
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The pipeline over the IMDb films and the campaign: text_members of its warehouse, its
    repeated_phrases rows of agg_trust_tests by title and the planted review ids' authors."""
    if not IMDB.is_dir():
        pytest.skip(f"real corpora not present at {IMDB} (see ../shared/data)")
    project = tmp_path_factory.mktemp("phrases")
    for path in sorted(IMDB.glob("*/movieReviews.csv")):
        (project / "corpus" / path.parent.name).mkdir(parents=True)
        # copied: the source reader refuses links (it reads files where they are)
        shutil.copyfile(path, project / "corpus" / path.parent.name / "movieReviews.csv")
    with open(project / "corpus" / "Pulp Fiction" / "movieReviews_planted.csv", "w", encoding="utf-8",
              newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(h.IMDB_HEADER)
        w.writerows(_planted_rows(random.Random(25)))
    (project / "reviewpipe.toml").write_text(h.config_text(h.IMDB_SOURCES, {}))
    h.run_pipeline(project)
    settings_ = load_settings(project / "reviewpipe.toml")
    with open_warehouse(settings_.warehouse_path) as con:
        texts.update_signatures(con, settings_)
        members = texts.text_members(con, settings_)
        planted = {r for (r,) in con.execute(
            "select review_id from stg_reviews where author like 'fan\\_%' escape '\\'").fetchall()}
    with duckdb.connect(str(project / "data" / "reports.duckdb"), read_only=True) as pub:
        tests = {t: (v, n) for t, v, n in pub.execute(
            "select title_id, verdict, subset_reviews from agg_trust_tests where test = 'repeated_phrases'"
        ).fetchall()}
    return {"members": members, "tests": tests, "planted": planted}


def phrased(run: dict[str, Any]) -> pl.DataFrame:
    return run["members"].filter(pl.col("test") == "repeated_phrases")


@pytest.mark.acceptance
def test_the_avengers_cast_is_not_a_failing_subset(run) -> None:
    # its reviews name the cast (left out: most holders capitalise a word of the phrase) and share
    # ordinary phrases of its topic ("on the big screen", "to save the world", "waiting for this
    # movie") mostly one by one, not in pairs 5 reviewers hold together: 31 reviews of 1,995 are left
    # (in the harness's copy), too few for a subset that fails. Which of its phrases are kept is the
    # hash sample's choice: 31 with the sketch's word hash, 14 with Polars' hash before it
    verdict, size = run["tests"].get("The Avengers", ("none", 0))
    assert verdict != "fail", (verdict, size)
    assert size <= 40
    assert not any(v == "fail" for t, (v, _) in run["tests"].items() if t != "Pulp Fiction"), run["tests"]


@pytest.mark.acceptance
def test_a_twelve_word_template_in_30_reviews_is_found(run) -> None:
    found = phrased(run)
    assert len(run["planted"]) == CAMPAIGN
    assert run["planted"] <= set(found["review_id"])
    detail = found.filter(pl.col("review_id").is_in(list(run["planted"])))["detail"]
    # the most unlikely phrase is one of the template's (or its seam with the film's name), shared
    # by the 29 other accounts
    assert all(" with 29 other reviewers of the title, and " in d for d in detail), detail[0]
    assert run["tests"]["Pulp Fiction"][0] in ("warn", "fail")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["The", "film", "Samuel", "L.", "Jackson", "I", "I'm", "is", "great.",
                                 "really", "Fury!", "and", "Captain", "America", "--", "\n", "wow?"]),
                min_size=1, max_size=25))
def test_cased_words_are_the_same_words_with_names_marked(tokens: list[str]) -> None:
    text = " ".join(tokens)
    frame = pl.LazyFrame({"i": [0], "review_text": [text]}).with_columns(pl.col("i").cast(pl.UInt32))
    plain = texts.text_words(frame).collect()
    cased = texts.text_words(frame, cased=True).collect()
    # the case flag changes no word and no hash: the kept phrases are the same with it
    assert cased.drop("named").equals(plain)
    # a name is never the text's first word, never "I", never a word after . ! or ?
    raw = [t for t in text.replace("\n", " ").split(" ") if t]
    kept = [k for k, t in enumerate(raw) if t.lower().strip(sketch.PUNCTUATION)]
    assert len(kept) == cased.height
    for k, flag in zip(kept, cased["named"].to_list()):
        if flag:
            assert k > 0 and raw[k].strip(sketch.PUNCTUATION)[0].isupper()
            assert raw[k].lower().strip(sketch.PUNCTUATION) not in texts._I_WORDS
            assert not raw[k - 1].rstrip("\"')]").endswith((".", "!", "?"))
