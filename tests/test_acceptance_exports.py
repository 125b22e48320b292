"""Acceptance (issue 22): the real exports in ../shared/data load through a preset, in a block of at most
5 lines each (examples/real_exports.toml), and publish exactly what the raw files say.

One run of the pipeline (no Prefect) over every source, shared by all tests of the module. Every
expected figure is counted here with plain DuckDB SQL over the raw files (read_json / read_csv in an
in-memory database), never through reviewpipe, and compared with the published tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import SHARED_DATA

from reviewpipe import pipeline
from reviewpipe.settings import Paths, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "real_exports.toml"
Z_95 = 1.959963984540054

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.slow,
    pytest.mark.skipif(
        not SHARED_DATA.is_dir(),
        reason=f"needs the real exports in {SHARED_DATA} (../shared/data from the repo root, see its "
        "README.md); that folder is absent here",
    ),
]

# source -> (kind of rating, the file as a table of the raw connection)
STARS, THUMBS = "stars", "thumbs"
REVIEW_SOURCES = {
    "yelp_reviews": STARS,
    "steam_reviews": THUMBS,
    "netflix_play_reviews": STARS,
    "amazon_fashion": STARS,
    "amazon_es": STARS,
    "hotel_reviews": THUMBS,
    "amazon_gift_cards": STARS,
}
# sources whose platform counts only the helpful side of a vote
HELPFUL_ONLY = {"yelp_reviews", "steam_reviews", "netflix_play_reviews", "amazon_fashion"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The example configuration, writing into a temporary folder instead of the repo's data/."""
    folder = tmp_path_factory.mktemp("real_exports")
    loaded = load_settings(EXAMPLE)
    return loaded.model_copy(update={
        "paths": Paths(warehouse=folder / "warehouse.duckdb", published=folder / "reports.duckdb",
                       exports=folder / "exports", samples=folder / "samples"),
        "sentiment": loaded.sentiment.model_copy(update={"workers": 1}),
    })


@pytest.fixture(scope="module")
def pub(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published database of one cold run over every source, read-only."""
    pipeline.run(settings)
    con = duckdb.connect(str(settings.published_path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def raw() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB holding each raw file as a table, in file order (`n`: 1 = first record).

    A table created from one read keeps the file's order (DuckDB preserves insertion order), so
    rowid numbers the records. Each table also gets `kept`: the record is its review's first copy
    (the pipeline keeps the first row of a review and counts the others as duplicates).
    """
    con = duckdb.connect()
    data = SHARED_DATA
    reads = {
        "yelp_reviews": ("read_json", data / "yelp_open_dataset/review_sample.json", "review_id"),
        "yelp_businesses": ("read_json", data / "yelp_open_dataset/business_sample.json", None),
        "steam_reviews": ("read_csv", data / "steam_reviews/steam_reviews.csv", None),
        "netflix_play_reviews": ("read_csv", data / "google_play_netflix/netflix_reviews.csv",
                                 "reviewId"),
        # one review per reviewer, product, day and variant bought (style); identical records
        # in these are copies (the preset's documented id)
        "amazon_fashion": ("read_json", data / "amazon2018_5core/AMAZON_FASHION_5.json",
                           "reviewerID, asin, unixReviewTime, style::varchar"),
        "amazon_es": ("read_json", data / "amazon_reviews_multi_es/dataset_es_dev.json", "review_id"),
        "hotel_reviews": ("read_csv", data / "op_spam_deceptive_hotel/deceptive-opinion.csv", None),
        "amazon_gift_cards": ("read_csv", data / "amazon_customer_reviews_tsv_sample/"
                              "amazon_reviews_us_Gift_Card_v1_00.tsv", "review_id"),
    }
    for table, (reader, path, key) in reads.items():
        options = ", all_varchar = true" if reader == "read_csv" else ""
        if path.suffix == ".tsv":  # Amazon's TSV is never quoted: a lone " is text
            options += ", delim = '\t', quote = '', escape = ''"
        con.execute(f"create table one as select * from {reader}(?{options})", [str(path)])
        # a source without an id keeps every record apart (the default id holds its position)
        partition = key or "rowid"
        con.execute(
            f"""
            create table {table} as
            select rowid + 1 as n, *, row_number() over (partition by {partition} order by rowid) = 1 as kept
            from one order by rowid
            """
        )
        con.execute("drop table one")
    yield con
    con.close()


# The rating each raw record publishes, and its helpful and total votes, as SQL over its table.
RATING = {
    "yelp_reviews": "stars::int",
    "steam_reviews": "case recommendation when 'Recommended' then 1 when 'Not Recommended' then 0 end",
    "netflix_play_reviews": "score::int",
    "amazon_fashion": "overall::int",
    "amazon_es": "stars::int",
    "hotel_reviews": "case polarity when 'positive' then 1 when 'negative' then 0 end",
    "amazon_gift_cards": "star_rating::int",
}
HELPFUL = {
    "yelp_reviews": "useful",
    "steam_reviews": "helpful::bigint",
    "netflix_play_reviews": "thumbsUpCount::bigint",
    "amazon_fashion": "coalesce(replace(vote, ',', '')::bigint, 0)",  # absent when 0, "1,341"
    "amazon_gift_cards": "helpful_votes::bigint",
}
TITLE = {
    "yelp_reviews": "business_id",
    "steam_reviews": "title",
    "netflix_play_reviews": "'com.netflix.mediaclient'",  # the example's one added line
    "amazon_fashion": "asin",
    "amazon_es": "product_id",
    "hotel_reviews": "hotel",
    "amazon_gift_cards": "product_id",
}


def test_each_export_is_a_block_of_at_most_five_lines() -> None:
    # the bar: name, path, preset and at most one more line under [[sources]]
    text = EXAMPLE.read_text(encoding="utf-8")
    blocks = text.split("[[sources]]")[1:]
    assert len(blocks) == len(REVIEW_SOURCES) + 1  # and the Yelp businesses, as titles
    for block in blocks:
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        assert len(lines) + 1 <= 5, block
        assert any(re.match(r'preset = "\w+"$', line) for line in lines), block


def test_every_file_loads_whole(pub, raw) -> None:
    logged = dict(pub.execute(
        "select source, records_read from load_log where status = 'loaded'").fetchall())
    expected = {t: raw.execute(f"select count(*) from {t}").fetchone()[0]
                for t in [*REVIEW_SOURCES, "yelp_businesses"]}
    assert logged == expected


def test_reviews_published_per_source(pub, raw) -> None:
    published = dict(pub.execute("select source, count(*) from reviews group by source").fetchall())
    # every usable record's first copy: no row of these exports has a problem of its own
    expected = {t: raw.execute(f"select count(*) from {t} where kept").fetchone()[0]
                for t in REVIEW_SOURCES}
    assert published == expected
    # the figures of the data's SOURCE.txt files: 5,661 distinct Google Play ids of 5,999 rows,
    # 3,108 distinct Amazon 2018 records of 3,176, and every Steam and op_spam record kept
    assert (expected["netflix_play_reviews"], expected["amazon_fashion"]) == (5661, 3108)
    assert (expected["steam_reviews"], expected["hotel_reviews"]) == (10572, 1600)


def test_quarantine_holds_only_the_duplicates_with_their_reason(pub, raw) -> None:
    quarantined = {
        (source, column): count for source, column, count in pub.execute(
            "select source, column_name, count(*) from quarantine group by all").fetchall()
    }
    duplicates = {t: raw.execute(f"select count(*) from {t} where not kept").fetchone()[0]
                  for t in REVIEW_SOURCES}
    assert quarantined == {(t, "review_id"): n for t, n in duplicates.items() if n}
    assert duplicates["netflix_play_reviews"] == 338 and duplicates["amazon_fashion"] == 68
    reasons = pub.execute("select distinct reason from quarantine").fetchall()
    assert all(reason.startswith("duplicate of the review in") for (reason,) in reasons), reasons


def test_duplicates_name_the_copy_kept(pub, raw) -> None:
    # each quarantined Google Play row is a later copy of a reviewId the file has before it
    rows = pub.execute(
        "select row_number from quarantine where source = 'netflix_play_reviews' order by 1"
    ).fetchall()
    later = raw.execute("select n from netflix_play_reviews where not kept order by n").fetchall()
    assert rows == later


@pytest.mark.parametrize("source", list(REVIEW_SOURCES))
def test_rating_distribution(pub, raw, source) -> None:
    expected = dict(raw.execute(
        f"select {RATING[source]} as r, count(*) from {source} where kept group by r").fetchall())
    titles = f"select distinct title_id from reviews where source = '{source}'"
    published = dict(pub.execute(
        f"select rating::int, sum(review_count)::bigint from agg_rating_distribution "
        f"where title_id in ({titles}) group by all having sum(review_count) > 0").fetchall())
    assert published == expected
    # every point of the scale is in each title's histogram, 0 included
    points = {0, 1} if REVIEW_SOURCES[source] == THUMBS else {1, 2, 3, 4, 5}
    per_title = pub.execute(
        f"select title_id, list(distinct rating::int order by rating::int) from agg_rating_distribution "
        f"where title_id in ({titles}) group by title_id").fetchall()
    assert per_title and all(set(ratings) == points for _, ratings in per_title)
    kinds = pub.execute(
        f"select distinct rating_kind, rating_scale from agg_title_summary where title_id in ({titles})"
    ).fetchall()
    assert kinds == ([(THUMBS, 1)] if REVIEW_SOURCES[source] == THUMBS else [(STARS, 5)])


@pytest.mark.parametrize("source", sorted(HELPFUL))
def test_helpful_counts(pub, raw, source) -> None:
    expected = raw.execute(f"select sum({HELPFUL[source]}) from {source} where kept").fetchone()[0]
    helpful, with_total, with_ratio = pub.execute(
        "select sum(helpful_votes), count(total_votes), count(helpful_ratio) from reviews "
        "where source = ?", [source]).fetchone()
    assert helpful == expected
    titles = f"select distinct title_id from reviews where source = '{source}'"
    ranked_by = pub.execute(
        f"select distinct ranked_by from agg_top_helpful_reviews where title_id in ({titles})"
    ).fetchall()
    if source in HELPFUL_ONLY:
        # no total is known: no ratio, no Wilson bound, ranked by helpful votes alone
        assert (with_total, with_ratio) == (0, 0)
        assert ranked_by == [("helpful_votes",)]
    else:
        total = raw.execute(f"select sum(total_votes::bigint) from {source} where kept").fetchone()[0]
        assert pub.execute("select sum(total_votes) from reviews where source = ?",
                           [source]).fetchone()[0] == total
        assert ranked_by == [("helpful_ratio",)]


def test_per_title_counts(pub, raw) -> None:
    for source in REVIEW_SOURCES:
        expected = dict(raw.execute(
            f"select {TITLE[source]} as t, count(*) from {source} where kept group by t").fetchall())
        published = dict(pub.execute(
            "select title_id, review_count from agg_title_summary where title_id in "
            "(select title_id from reviews where source = ?)", [source]).fetchall())
        assert published == expected, source


@pytest.mark.parametrize("source", ["steam_reviews", "hotel_reviews"])
def test_thumbs_share_recommended_with_its_wilson_interval(pub, raw, source) -> None:
    counts = raw.execute(
        f"select {TITLE[source]}, count(*), count(*) filter ({RATING[source]} = 1) from {source} "
        "group by all").fetchall()
    published = {t: rest for t, *rest in pub.execute(
        "select title_id, recommended_share, recommended_share_low, recommended_share_high "
        "from agg_title_summary where title_id in (select title_id from reviews where source = ?)",
        [source]).fetchall()}
    assert set(published) == {t for t, _, _ in counts}
    for title, n, up in counts:
        p = up / n
        centre = (p + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
        half = Z_95 * math.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n * n)) / (1 + Z_95**2 / n)
        assert published[title] == pytest.approx([p, centre - half, centre + half], abs=1e-9), title


def test_star_sources_have_no_recommended_share(pub) -> None:
    stars = [s for s, kind in REVIEW_SOURCES.items() if kind == STARS]
    shares = pub.execute(
        "select count(recommended_share) from agg_title_summary where title_id in "
        f"(select title_id from reviews where source in ({', '.join('?' * len(stars))}))",
        stars).fetchone()[0]
    assert shares == 0


def test_yelp_businesses_are_titles_with_their_half_star_ratings(pub, raw) -> None:
    expected = sorted(raw.execute(
        "select business_id, stars, review_count from yelp_businesses").fetchall())
    published = sorted(pub.execute(
        "select title_id, site_rating, site_votes from titles where title_id in (select unnest(?))",
        [[row[0] for row in expected]]).fetchall())
    assert published == expected
    # half steps arrive as they are (the SOURCE.txt's "business stars in halves")
    assert any(stars % 1 == 0.5 for _, stars, _ in published)
    # names as given, where there is nothing to clean (titles' entities and runs of spaces are
    # cleaned, as every title's are)
    plain = dict(raw.execute(
        "select business_id, name from yelp_businesses "
        "where not regexp_matches(name, '&[#a-zA-Z0-9]+;|\\s\\s|^\\s|\\s$')").fetchall())
    names = dict(pub.execute("select title_id, title from titles where title_id in (select unnest(?))",
                             [list(plain)]).fetchall())
    assert names == plain and len(plain) > 4900
