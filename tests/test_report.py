"""The HTML report: from a real published database, self-contained, escaped, drawn in a browser."""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.offline
import polars as pl
import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, write
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reviewpipe import pipeline
from reviewpipe.cli import main
from reviewpipe.errors import ReviewpipeError
from reviewpipe.metrics import rating_class_of
from reviewpipe.report import (
    GROUP_KEY,
    MIN_TREND_REVIEWS,
    ReportData,
    histogram_figure,
    leaderboard_figure,
    plotly_text,
    read_report_data,
    render_report,
    scale_of,
    sentiment_figure,
    shorten,
    smoothed_trends,
    totals_figure,
    trends_figure,
    write_report,
)
from reviewpipe.report.data import rank_titles, report_frame
from reviewpipe.report.text import (
    language_mix_text,
    languages_text,
    partial_text,
    whole_percent_text,
)
from reviewpipe.settings import Paths, ReportSettings, Settings, Source
from reviewpipe.state import publish_basis

HEADER = "title_id,author,review_date,rating,helpful_votes,total_votes,review_title,review_text\n"
HOSTILE_TITLE = "<script>window.__pwned=1</script><b>bold</b>"
HOSTILE_AUTHOR = '</script><img src=x onerror="window.__pwned=2">'
# a title name with Plotly pseudo-HTML and TeX delimiters: the charts must show it as typed
HOSTILE_NAME = "<i>Italic</i> & $5 off$"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def csv_field(text: str) -> str:
    """text as one CSV field (quoted, inner quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A published database from the real pipeline: two titles on a 10-point scale, one on 5 points.

    One review is a strong mismatch (9 of 10 in very negative words) with helpfulness votes, so
    its hostile headline shows in both review tables; its author is hostile too.
    """
    root = tmp_path_factory.mktemp("report")
    rows10 = [
        ("tt1", "ann", "2020-01-05", 9, 8, 10, "Loved it", "A wonderful, moving film. I loved it."),
        ("tt1", "bob", "2020-02-11", 10, 3, 4, "Great", "Great acting and a great story."),
        ("tt1", "cy", "2020-02-20", 2, 0, 0, "Dull", "Boring and far too long."),
        ("tt1", HOSTILE_AUTHOR, "2020-03-01", 9, 12, 13, HOSTILE_TITLE,
         "This is terrible. Awful, horrible, the worst. I hate it."),
        ("tt2", "dee", "2020-01-15", 4, 1, 2, "Meh", "It was fine, I guess."),
        ("tt2", "eve", "2020-03-15", 6, 0, 1, "Okay", "Nice enough, good music."),
        ("tt2", "fay", "2020-04-02", 7, 5, 5, "Good", "Good fun for the family."),
    ]
    rows5 = [
        ("tt3", "gil", "2021-05-01", 5, 2, 2, "Tasty", "Delicious, I love these."),
        ("tt3", "hal", "2021-06-01", 1, 4, 6, "Stale", "Stale and bad. Disappointing."),
        ("tt3", "ida", "2021-06-09", 4, 0, 0, "Fine", "Pretty good snack."),
    ]

    def lines(rows) -> str:
        return HEADER + "".join(
            ",".join(csv_field(str(v)) for v in row) + "\n" for row in rows)

    write(root / "r10.csv", lines(rows10))
    write(root / "r5.csv", lines(rows5))
    write(root / "titles.csv", "title_id,title,site_rating,site_votes\ntt1,First Film,7.9,1200\n"
                               + f"tt3,{csv_field(HOSTILE_NAME)},,\n")
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[
            Source(name="titles", kind="titles", path=str(root / "titles.csv")),
            Source(name="films", path=str(root / "r10.csv"), rating_scale=10),
            Source(name="snacks", path=str(root / "r5.csv"), rating_scale=5),
        ],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    return settings.published_path


WORDS = ["Wonderful, I loved it.", "Awful. I hate it.", "It was fine.", "Good, nice staff.",
         "Terrible and slow.", "Great!"]


@pytest.fixture(scope="module")
def mixed_published(tmp_path_factory) -> Path:
    """A published database of mixed sources: restaurants (5 stars, helpful votes alone, 12 reviews
    a month for one title over 6 months), apps (5 stars with vote totals; one title also has a
    review among the restaurants), notes (no ratings), films (10 points), games (thumbs, helpful
    votes alone), halves (0.5..5 in halves) and scores (0..10 in tenths)."""
    root = tmp_path_factory.mktemp("mixed")
    header = "title_id,author,review_date,rating,helpful_votes,review_text\n"
    restaurants = [("diner", f"u{m}-{k}", f"2021-{m:02d}-{k + 1:02d}", 1 + (m + k) % 5, k,
                    WORDS[(m * 12 + k) % len(WORDS)]) for m in range(1, 7) for k in range(12)]
    restaurants += [("cafe", "ann", "2021-03-04", 4, 0, "Nice."), ("shared", "bob", "2021-03-05", 2, 1, "Meh.")]
    write(root / "restaurants.csv",
          header + "".join(",".join(csv_field(str(v)) for v in r) + "\n" for r in restaurants))
    write(root / "apps.csv", HEADER + "shared,cy,2021-01-01,5,3,4,Good,Good app.\n"
          "shared,dee,2021-01-02,4,1,2,Fine,Fine app.\nshared,eve,2021-02-02,1,0,3,Bad,Crashes.\n"
          "chat,fay,2021-02-03,3,2,2,Ok,It works.\n")
    write(root / "notes.csv", "title_id,author,review_date,review_text\n"
          "memo,gil,2021-04-01,Useful notes.\nmemo,hal,2021-04-02,Hard to use.\n")
    write(root / "films.csv", HEADER + "film,ida,2020-05-05,9,4,5,Yes,A wonderful film.\n")
    write(root / "games.csv", header + "chess,jo,2021-01-01,Recommended,12,Great game.\n"
          "chess,kim,2021-01-02,Recommended,0,Fun.\nchess,lee,2021-01-03,Not Recommended,3,Dull.\n")
    write(root / "halves.csv", header + "flick,mo,2021-01-01,4.5,,Lovely.\nflick,ned,2021-01-02,0.5,,Awful.\n")
    write(root / "scores.csv", header + "album,oli,2021-01-01,9.6,,Superb.\nalbum,pat,2021-01-02,7.2,,Fine.\n")
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[
            Source(name="restaurants", path=str(root / "restaurants.csv"), rating_scale=5),
            Source(name="apps", path=str(root / "apps.csv"), rating_scale=5),
            Source(name="notes", path=str(root / "notes.csv"), rating_scale=5),
            Source(name="films", path=str(root / "films.csv"), rating_scale=10),
            Source(name="games", path=str(root / "games.csv"), rating_scale="thumbs"),
            Source(name="halves", path=str(root / "halves.csv"), rating_scale=5, rating_min=0.5,
                   rating_step=0.5),
            Source(name="scores", path=str(root / "scores.csv"), rating_scale=10, rating_min=0,
                   rating_step=0.1),
        ],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    return settings.published_path


@pytest.fixture(scope="module")
def mixed_report(mixed_published: Path) -> Path:
    return write_report(mixed_published, mixed_published.parent / "exports" / "report.html")


def test_a_mixed_report_groups_titles_by_source_and_shows_each_in_its_own_terms(
    mixed_published: Path, mixed_report: Path
) -> None:
    page = mixed_report.read_text(encoding="utf-8")
    board = page[page.index('<section id="leaderboard">'):page.index('<section id="histograms">')]
    groups = {h: sorted(re.findall(r'<td class="text">([\w-]+)', part))
              for h, part in (p.split("</h3>", 1) for p in board.split("<h3>")[1:])}
    # "shared" has 3 reviews among the apps and 1 among the restaurants: it is ranked with the apps
    assert groups == {"apps: 5-point scale: top 2": ["chat", "shared"],
                      "films: 10-point scale: top 1": ["film"],
                      "games: thumbs up/down, as % recommended: top 1": ["chess"],
                      "halves: ratings 0.5–5 in steps of 0.5: top 1": ["flick"],
                      "restaurants: 5-point scale: top 2": ["cafe", "diner"],
                      "scores: ratings 0–10 in steps of 0.1: top 1": ["album"]}
    assert "(reviews from 2 sources)" in board
    # 2 of 3 recommend chess: 66.7%, Wilson interval 20.8%–93.9%; no mean rating or Bayesian column
    games = board[board.index("<h3>games"):board.index("<h3>halves")]
    assert "<b>66.7%</b>" in games and "20.8%–93.9%" in games and "Bayesian" not in games
    histograms = page[page.index('<section id="histograms">'):page.index('<section id="sentiment">')]
    assert re.findall(r"<h3>(\w+):", histograms) == ["apps", "films", "halves", "restaurants", "scores"]
    # every step of each scale is a bar, labelled as it reads; 101 tenths are 11 bars of 10 tenths
    report_data = read_report_data(mixed_published, 50, generated_at=datetime.now(UTC))
    bars = {board["source"][0]: histogram_figure(board, report_data.distribution)["data"][0]["x"]
            for board in report_data.leaderboard.partition_by(GROUP_KEY)
            if board["rating_kind"][0] == "stars"}
    assert bars["halves"] == ["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"]
    assert bars["scores"] == [f"{n}–{n}.9" for n in range(10)] + ["10"]
    assert bars["films"] == [str(n) for n in range(1, 11)]
    helpful = page[page.index('<section id="helpful">'):page.index('<section id="mismatches">')]
    assert "<h3>restaurants: by helpful votes (the source counts no total)</h3>" in helpful
    assert "11 found this helpful" in helpful and "11 of 11" not in helpful
    assert "3 of 4 found this helpful" in helpful
    games = helpful[helpful.index("<h3>games"):]
    assert games.startswith("<h3>games: by helpful votes") and "12 found this helpful" in games
    assert ">recommended<" in games and ">not recommended<" in games and "Wilson" not in games
    trends = page[page.index('<section id="trends">'):page.index('<section id="helpful">')]
    # a title of each source with dated reviews; the unrated notes get their own group too
    assert re.findall(r"<h3>(\w+):", trends) == [
        "apps", "films", "games", "halves", "notes", "restaurants", "scores"]
    assert "at least 10 rated" in trends


@pytest.fixture(scope="module")
def report(published: Path) -> Path:
    return write_report(published, published.parent / "exports" / "report.html")


def test_the_report_is_one_file_that_loads_nothing_from_elsewhere(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    # only the page's own two inline scripts: plotly.js, then the charts
    assert len(re.findall(r"<script\b", page, re.IGNORECASE)) == 2
    assert page.lower().count("</script") == 2, "some text closed a script block"
    # the markup outside the scripts names nothing to fetch (plotly.js itself holds URLs as strings
    # for links a user could add to a chart; the policy below stops those too)
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b[^>]*\b(src|href|data)\s*=",
                         markup, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", markup, re.IGNORECASE)
    assert not re.search(r"@import|@font-face|url\(", markup, re.IGNORECASE)
    # plotly.js is inlined exactly once, without MathJax
    assert page.count(plotly.offline.get_plotlyjs()[:2000]) == 1
    assert "mathjax" not in markup.lower()
    # and the browser is told to fetch nothing at all
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert policy
    assert html.unescape(policy.group(1)).startswith("default-src 'none'; script-src 'sha256-")


def test_other_peoples_words_are_escaped(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert HOSTILE_TITLE not in page and "<img" not in page and "<b>bold" not in page
    # headline in both review tables, author in both, HTML-escaped by Jinja's autoescape
    assert page.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;") == 2
    assert page.count("&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;") == 2
    # in chart JSON the title is escaped for Plotly, and < > / are \u escapes (no "</" can occur)
    assert "&lt;i&gt;Italic&lt;\\u002fi&gt; &amp; &#36;5 off&#36;" in page
    assert "<i>Italic" not in page


def test_both_review_tables_quote_the_reviews_texts(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    excerpts = re.findall(r'<div class="excerpt">(.*?)</div>', page, re.DOTALL)
    # the mismatch is in both tables with its own words; the most helpful reviews with theirs
    assert excerpts.count("This is terrible. Awful, horrible, the worst. I hate it.") == 2
    assert "A wonderful, moving film. I loved it." in excerpts and "Great acting and a great story." in excerpts


def test_the_report_reads_the_database_without_changing_it(published: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    out = tmp_path / "nested" / "report.html"
    out.parent.mkdir()
    out.write_text("old")
    assert write_report(published, out, max_titles=1) == out
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    # written whole under a temporary name, then renamed: nothing else is left in the folder
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    page = out.read_text(encoding="utf-8")
    # max_titles=1: one title per scale; tt1 (weighted 7.07) beats tt2 (6.16)
    board = page[page.index('<section id="leaderboard">'):page.index('<section id="histograms">')]
    assert "First Film" in board and "tt2" not in board
    assert "10-point scale: top 1" in page and "5-point scale: top 1" in page


def test_the_leaderboard_ranks_titles_by_weighted_rating_within_each_scale(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    board = page[page.index('<section id="leaderboard">'):page.index('<section id="histograms">')]
    # 10 points: C = mean of 7.5 and 5.67 = 6.583, m = median of 4 and 3 ratings = 3.5;
    # tt1 4/7.5·7.5 + 3.5/7.5·6.583 = 7.072, tt2 3/6.5·5.667 + 3.5/6.5·6.583 = 6.160.
    # 5 points: tt3 is the only title, so its weighted rating is its own mean 3.333
    weighted = re.findall(r"<td class=\"num\"><b>([\d.]+)</b></td>", board)
    assert weighted == ["7.072", "6.160", "3.333"]
    assert board.index("10-point scale") < board.index("First Film") < board.index("tt2") \
        < board.index("5-point scale") < board.index("Italic")


def test_the_header_counts_titles_reviews_and_quarantined_rows(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    # 3 titles, all reviewed; 10 reviews; nothing quarantined
    counts = re.findall(r'<div class="count"><b>([^<]+)</b><span>([^<]+)</span>', page)
    # every text is English: all of them are scored
    assert counts == [("3", "titles"), ("3", "titles with reviews"), ("10", "reviews"),
                      ("100%", "of reviews with text scored for sentiment"), ("0", "quarantined rows")]
    assert ("Sentiment covers reviews in English ([sentiment] languages); 100% of the 10 reviews "
            "with text are scored.") in page
    assert 'class="partial-note"' not in page


def test_an_empty_database_gives_a_page_of_no_data_notes(make_settings, tmp_path: Path) -> None:
    # every row fails a check: nothing is published but the quarantine
    csv = write(tmp_path / "bad.csv", HEADER + "tt1,ann,2020-01-01,eleven,0,0,T,Text.\n"
                                              ",bob,2020-01-01,5,0,0,T,Text.\n")
    settings = make_settings({"name": "rev", "path": str(csv)}, quality={"max_quarantined_share": 1})
    pipeline.run(settings)
    page = write_report(settings.published_path, tmp_path / "report.html").read_text("utf-8")
    # one per section (the trust and terms sections' included)
    assert page.count('class="nodata"') == 8
    assert "<script" not in page  # no charts, so no plotly.js either
    assert '<b>2</b><span>quarantined rows</span>' in page


def test_a_missing_database_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ReviewpipeError, match="run `reviewpipe run` first"):
        write_report(tmp_path / "none.duckdb", tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_text_for_charts_shows_literally() -> None:
    # Plotly reads tags and $…$ TeX in text; entities it decodes only after that
    assert plotly_text("<b>x</b> & $y$") == "&lt;b&gt;x&lt;/b&gt; &amp; &#36;y&#36;"
    assert plotly_text(None) == ""


def test_shorten_cuts_at_a_word_and_marks_the_cut() -> None:
    assert shorten("short  text\n", 20) == "short text"
    assert shorten("one two three four", 10) == "one two…"
    # no space in the first half: cut inside the word rather than keep almost nothing
    assert shorten("a " + "x" * 30, 10) == "a " + "x" * 8 + "…"


def test_rating_classes_follow_the_readme() -> None:
    # the histograms' bar colours: 1-4 of 10 and 1-2 of 5 negative; 7-10 and 4-5 positive
    assert [rating_class_of(r, 10) for r in (4, 5, 6, 7)] == [
        "negative", "middle", "middle", "positive"]
    assert [rating_class_of(r, 5) for r in (2, 3, 4)] == ["negative", "middle", "positive"]


def test_chart_builders_leave_their_inputs_alone() -> None:
    board = pl.DataFrame({
        "position": [1, 2], "title_id": ["a", "b"], "title_name": ["A", "A"],
        "source": ["s", "s"], "rating_kind": ["stars"] * 2, "rating_min": [1.0] * 2,
        "rating_step": [1.0] * 2, "rating_scale": [5, 5],
        "rating_mean": [4.5, 3.0], "rating_ci_low": [4.0, None], "rating_ci_high": [5.0, None],
        "bayesian_rating": [4.2, 3.1], "weighted_rating": [4.4, 3.2], "rated_review_count": [10, 1],
    })
    dist = pl.DataFrame({"title_id": ["a", "a", "b"], "rating": [4.0, 5.0, 3.0],
                         "review_count": [5, 5, 1], "share": [0.5, 0.5, 1.0],
                         "rating_scale": [5, 5, 5]})
    board_copy, dist_copy = board.clone(), dist.clone()
    lead = leaderboard_figure(board)
    hist = histogram_figure(board, dist)
    assert board.equals(board_copy) and dist.equals(dist_copy)
    # two titles of the same name stay two rows: the rank prefix keeps the categories apart
    assert lead["data"][0]["y"] == ["1. A", "2. A"]
    # every point of the scale is a bar (1-3 red and grey, 4-5 green), 0 where nobody gave it
    assert len(hist["data"]) == 2 and hist["data"][0]["x"] == ["1", "2", "3", "4", "5"]
    assert hist["data"][0]["y"] == [0, 0, 0, 0.5, 0.5]
    assert hist["data"][0]["marker"]["color"][3:] == ["#27ae60", "#27ae60"]
    assert [t["xaxis"] for t in hist["data"]] == ["x", "x2"]  # one panel each


def test_every_figure_is_valid_plotly(published: Path) -> None:
    # the figures are plain dicts (fast to build); Plotly's own classes validate every property
    report_data = read_report_data(published, 50, generated_at=datetime.now(UTC))
    figures = [sentiment_figure(report_data.sentiment_by_rating),
               totals_figure(report_data.monthly_totals)]
    for group in report_data.monthly.partition_by(GROUP_KEY):
        figures.append(trends_figure(group, scale_of(group)))
    for board in report_data.leaderboard.partition_by(GROUP_KEY):
        figures += [leaderboard_figure(board), histogram_figure(board, report_data.distribution)]
    for figure in figures:
        assert go.Figure(figure).data  # raises on a property Plotly does not know


# Sources of a mixed warehouse: kind, lowest point, step and top of their scales
MIXED_SOURCES = {
    "apps": ("stars", 1.0, 1.0, 5), "films": ("stars", 1.0, 1.0, 10),
    "games": ("thumbs", 0.0, 1.0, 1), "halves": ("stars", 0.5, 0.5, 5),
    "restaurants": ("stars", 1.0, 1.0, 5),
}


def mixed_report_data(titles: list[dict[str, int]]) -> tuple[ReportData, dict[str, str]]:
    """The report's data read by its own queries from a DuckDB database holding `reviews` and
    `agg_title_summary` rows for titles t0, t1, ... with the given reviews per source; and each
    title's expected source: the one with most of its reviews, the first by name on a tie."""
    con = duckdb.connect()
    con.execute("create table reviews (title_id varchar, source varchar, rating_scale int)")
    con.executemany("insert into reviews values (?, ?, ?)", [
        (f"t{i}", source, MIXED_SOURCES[source][3])
        for i, counts in enumerate(titles) for source, n in counts.items() for _ in range(n)])
    # a title's scale is its reviews' highest, as metrics takes it; its weighted rating some value
    con.execute("""
        create table agg_title_summary as
        select
            title_id, null::varchar as title, count(*) as review_count,
            count(*) as rated_review_count, 1.0::double as rating_mean,
            0.0::double as rating_ci_low, 1.0::double as rating_ci_high,
            1.0::double as bayesian_rating, hash(title_id) % 97 / 97 as weighted_rating,
            0.5::double as recommended_share, 0.25::double as recommended_share_low,
            0.75::double as recommended_share_high, 0.1::double as sentiment_mean,
            false as is_polarized, count(*) as scored_review_count, 1.0::double as scored_share,
            max(rating_scale) as rating_scale,
            arg_max(kind, (rating_scale, source)) as rating_kind,
            arg_max(low, (rating_scale, source)) as rating_min,
            arg_max(step, (rating_scale, source)) as rating_step
        from reviews
        join (select unnest($kinds, recursive := true)) as scales using (source)
        group by title_id
    """, {"kinds": [{"source": s, "kind": k, "low": lo, "step": st_}
                    for s, (k, lo, st_, _) in MIXED_SOURCES.items()]})
    con.execute("""
        create table agg_title_languages as
        select title_id, 'en' as review_language, review_count, 1.0::double as review_share,
            review_count as scored_review_count
        from agg_title_summary
    """)
    rank_titles(con, 50)
    leaderboard = report_frame(con, "leaderboard", {})
    expected = {f"t{i}": min(counts, key=lambda s: (-counts[s], s)) for i, counts in enumerate(titles)}
    return report_data(leaderboard=leaderboard), expected


def report_data(**frames: pl.DataFrame) -> ReportData:
    """ReportData holding frames, and no rows in the others."""
    empty = pl.DataFrame()
    no_frames = dict.fromkeys(("leaderboard", "sentiment_by_rating", "monthly", "monthly_totals",
                               "helpful", "mismatches"), empty)
    return ReportData(
        generated_at=datetime.now(UTC), counts=dict.fromkeys(
            ("titles", "reviewed_titles", "unrated_titles", "reviews", "text_reviews", "scored_reviews",
             "quarantined"), 0),
        distribution=pl.DataFrame(schema={"title_id": pl.String, "rating": pl.Float64,
                                          "review_count": pl.Int64, "share": pl.Float64}),
        **(no_frames | frames),
    )


@settings(max_examples=20, deadline=None)
@given(titles=st.lists(st.dictionaries(st.sampled_from(sorted(MIXED_SOURCES)), st.integers(1, 3),
                                       min_size=1, max_size=3), min_size=1, max_size=8))
def test_every_title_is_ranked_once_in_the_group_of_its_source_on_one_scale(
    titles: list[dict[str, int]]
) -> None:
    data, expected = mixed_report_data(titles)
    board = data.leaderboard
    # each title once, with the source holding most of its reviews
    assert sorted(board["title_id"]) == sorted(expected)
    assert dict(board.select("title_id", "source").iter_rows()) == expected
    for group in board.partition_by(GROUP_KEY):
        # no group mixes sources, kinds or scales, and its ranks are 1..n by weighted rating
        assert group.select(GROUP_KEY).unique().height == 1
        assert sorted(group["position"]) == list(range(1, group.height + 1))
        ranked = group.sort("position")["weighted_rating"].to_list()
        assert ranked == sorted(ranked, reverse=True)
    # on the page: a heading per group, then exactly that group's titles; thumbs as % recommended
    page = render_report(data)
    section = page[page.index('<section id="leaderboard">'):page.index('<section id="histograms">')]
    shown = {}
    for part in section.split("<h3>")[1:]:
        heading = part[:part.index("</h3>")]
        source = heading.split(":")[0]
        ids = re.findall(r'<td class="text">(t\d+)', part)
        assert ids and all(expected[i] == source for i in ids), (heading, ids)
        shown |= dict.fromkeys(ids, heading)
        # a title takes its scale from all its reviews (the highest): one kind per group, thumbs
        # groups as % recommended
        kinds = set(board.filter(pl.col("title_id").is_in(ids))["rating_kind"])
        assert len(kinds) == 1 and ("% recommended" in heading) == (kinds == {"thumbs"})
    assert shown.keys() == expected.keys()


_VOTED = st.tuples(st.sampled_from(["steam", "yelp", "imdb"]), st.integers(0, 2000),
                   st.one_of(st.none(), st.integers(0, 2000)))


@settings(max_examples=25, deadline=None)
@given(voted=st.lists(_VOTED, min_size=1, max_size=12))
def test_helpful_only_reviews_read_n_found_this_helpful_and_are_never_ranked_with_shares(
    voted: list[tuple[str, int, int | None]]
) -> None:
    """Reviews of any sources, with a known total or helpful votes alone (ranked_by
    'helpful_votes'): each shows in its source's table of its own ranking; a helpful-only one reads
    "12 found this helpful" (never "12 of 12", no ratio), one with a total "41 of 57 found this
    helpful" with its Wilson bound."""
    rows = [
        {"source": source, "ranked_by": "helpful_votes" if total is None else "helpful_ratio",
         "title_name": f"T{i}", "helpful_votes": helpful if total is None else min(helpful, total),
         "total_votes": total, "helpful_wilson_lb": None if total is None else 0.5,
         "author": "a", "review_title": None, "review_date": None, "rating": 1.0,
         "rating_scale": 1 if source == "steam" else 5, "review_text": f"text {i}"}
        for i, (source, helpful, total) in enumerate(voted)
    ]
    # the report reads them in source and ranking order
    helpful = pl.DataFrame(rows).sort("source", "ranked_by", maintain_order=True)
    page = render_report(report_data(helpful=helpful))
    section = page[page.index('<section id="helpful">'):page.index('<section id="mismatches">')]
    seen = set()
    for part in section.split("<h3>")[1:]:
        heading = part[:part.index("</h3>")]
        source, by_votes = heading.split(":")[0], "by helpful votes" in heading
        for text, cell in re.findall(r'<div class="excerpt">(text \d+)</div>.*?'
                                     r'<td class="num helpful">([^<]*)</td>', part, re.DOTALL):
            row = rows[int(text.split()[1])]
            assert (row["source"], row["ranked_by"] == "helpful_votes") == (source, by_votes)
            if by_votes:
                assert cell == f"{row['helpful_votes']:,} found this helpful"
            else:
                assert cell == f"{row['helpful_votes']:,} of {row['total_votes']:,} found this helpful"
            seen.add(text)
        assert ("Wilson bound" in part) != by_votes
    assert seen == {f"text {i}" for i in range(len(rows))}
    assert not re.search(r"(\d+) of \1 found", "".join(
        p for p in section.split("<h3>") if "by helpful votes" in p[:200]))


# ---------------------------------------------------------------------------------------------
# What sentiment covers (issue 24): reviews in languages without an analyzer are unscored

SPANISH = SHARED_DATA / "amazon_reviews_multi_es" / "dataset_es_dev.json"
# German 5-star reviews full of English false friends ("war", "also", "fast", "die", "bad"): VADER
# read them as negative English, so they were mismatches before they were left unscored
GERMAN = ["Das Essen war hervorragend und der Service sehr freundlich, also fast perfekt.",
          "Die Zimmer waren sauber, das Bad war neu und die Lage ist wirklich ausgezeichnet."]
ENGLISH = {
    5: "A wonderful film, beautifully acted, and I loved every minute of it.",
    4: "A good film with a clever story, although the ending felt a little rushed.",
    2: "A slow and rather dull film; the story never really went anywhere.",
    1: "A boring film with poor acting and a plot that made no sense at all.",
}
# a 5-star review in very negative English words: the one mismatch of the partly scored title
MISMATCH = "This is terrible. Awful, horrible acting, the worst film I have seen. I hate it."


def spanish_reviews(stars: str, n: int) -> list[str]:
    """The first n texts of amazon_reviews_multi_es with these stars and over 80 characters (long
    enough that their language is never undetermined)."""
    texts = []
    with SPANISH.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["stars"] == stars and len(row["review_body"]) > 80:
                texts.append(row["review_body"])
                if len(texts) == n:
                    return texts
    raise AssertionError(f"amazon_reviews_multi_es has fewer than {n} long {stars}-star texts")


@pytest.fixture(scope="module")
def multilingual_published(tmp_path_factory) -> Path:
    """A published database of one 5-star source, from the real pipeline: `english` (6 English
    reviews and 1 Spanish: 86% scored) and `foreign` (2 English, one of them a mismatch, 4 real
    Spanish reviews of amazon_reviews_multi_es and the 2 German ones: 25% scored)."""
    if not SPANISH.exists():
        pytest.skip(f"{SPANISH} is not here (../shared/data)")
    root = tmp_path_factory.mktemp("multilingual")
    five, one = spanish_reviews("5", 3), spanish_reviews("1", 2)
    rows = [("english", r, ENGLISH[r]) for r in (5, 4, 2, 1, 5, 4)] + [("english", 5, five[0])]
    rows += [("foreign", 4, ENGLISH[4]), ("foreign", 5, MISMATCH)]
    rows += [("foreign", 5, five[1]), ("foreign", 5, five[2]), ("foreign", 1, one[0]),
             ("foreign", 1, one[1]), ("foreign", 5, GERMAN[0]), ("foreign", 5, GERMAN[1])]
    write(root / "films.csv", HEADER + "".join(
        ",".join(csv_field(str(v)) for v in (title, f"u{i}", f"2021-0{1 + i % 6}-01", rating, 0, 0, "T",
                                              text)) + "\n"
        for i, (title, rating, text) in enumerate(rows)))
    settings = Settings(
        paths=Paths(warehouse=root / "w.duckdb", published=root / "reports.duckdb",
                    exports=root / "exports", samples=root / "samples"),
        sources=[Source(name="films", path=str(root / "films.csv"), rating_scale=5)],
        sentiment={"workers": 1},
    )
    pipeline.run(settings)
    return settings.published_path


@pytest.fixture(scope="module")
def multilingual_report(multilingual_published: Path) -> Path:
    # the run wrote it with the default settings; rendered again here, as `reviewpipe report` does
    return write_report(multilingual_published, multilingual_published.parent / "report.html")


def section(page: str, name: str) -> str:
    """The page's <section id=name>, up to the next section."""
    start = page.index(f'<section id="{name}">')
    return page[start:page.index("</section>", start)]


def test_the_report_says_which_languages_sentiment_covers_and_how_much(
    multilingual_published: Path, multilingual_report: Path
) -> None:
    page = multilingual_report.read_text(encoding="utf-8")
    # 8 English reviews of 15 with text are scored: the 5 Spanish and 2 German ones are not
    sentence = ("Sentiment covers reviews in English ([sentiment] languages); 53% of the 15 reviews "
                "with text are scored.")
    assert sentence in page and sentence in section(page, "sentiment")
    assert "<b>53%</b><span>of reviews with text scored for sentiment</span>" in page
    with duckdb.connect(str(multilingual_published), read_only=True) as con:
        languages = dict(con.sql("select review_language, count(*) from reviews group by all").fetchall())
    assert languages == {"en": 8, "es": 5, "de": 2}
    board = section(page, "leaderboard")
    rows = {m.group(1): m.group(0) for m in re.finditer(
        r'<tr[^>]*>\s*<td class="num">\d+</td>\s*<td class="text">(\w+).*?</tr>', board, re.DOTALL)}
    # each title's scored share and language mix, most reviews first
    assert "<td class=\"num\">86%</td>" in rows["english"] and "en 86%, es 14%" in rows["english"]
    assert "<td class=\"num\">25%</td>" in rows["foreign"] and "es 50%, de 25%, en 25%" in rows["foreign"]


def test_a_title_sentiment_covers_too_little_of_is_marked_not_ranked_as_complete(
    multilingual_report: Path
) -> None:
    page = multilingual_report.read_text(encoding="utf-8")
    board = section(page, "leaderboard")
    notes = re.findall(r'<div class="partial-note">(.*?)</div>', board)
    # only `foreign` (25% < 80%) is marked; `english` (86%) is not
    assert notes == ["⚠ sentiment from 25% of its reviews: 75% are in languages it does not cover "
                     "(es 50%, de 25%)"]
    marked = board[board.index('class="partly-scored"'):]
    assert marked.index("foreign") < marked.index('<span class="partial"') < marked.index("</tr>")
    # its one mismatch is marked too: it speaks for a quarter of its title's reviews
    mismatches = section(page, "mismatches")
    assert mismatches.count('class="partial-note"') == 1 and MISMATCH in mismatches
    # and the sentiment panel and the trend rows that hold it say so in their titles
    assert "scored: 53% of 15 texts ⚠" in page
    assert "scored: 25% of 8 texts ⚠" in page and "scored: 86% of 7 texts" in page


def test_unscored_reviews_count_nowhere_as_neutral(multilingual_published: Path,
                                                   multilingual_report: Path) -> None:
    data = read_report_data(multilingual_published, 50, generated_at=datetime.now(UTC))
    # per rating, the boxes and means hold the English reviews alone (1, 1, 1 and 5 of them at
    # 1, 2, 4 and 5 stars), while every rated text is counted as text: 0 would pull the 5-star mean
    by_rating = dict(zip(data.sentiment_by_rating["rating"].to_list(),
                         data.sentiment_by_rating.select("reviews", "text_reviews").rows()))
    assert by_rating == {1.0: (1, 3), 2.0: (1, 1), 4.0: (3, 3), 5.0: (3, 8)}
    with duckdb.connect(str(multilingual_published), read_only=True) as con:
        unscored = con.execute("""select count(*), count(sentiment_score), count(*) filter (
                                  where sentiment_label = 'neutral' or sentence_sentiment_label = 'neutral')
                              from reviews where review_language <> 'en'""").fetchone()
        mean5 = con.execute("select avg(sentiment_score) from reviews where rating = 5 "
                        "and review_language = 'en'").fetchone()[0]
    assert unscored == (7, 0, 0)
    assert data.sentiment_by_rating.filter(pl.col("rating") == 5)["sentiment_mean"][0] == pytest.approx(mean5)
    # no Spanish or German review is a mismatch, though VADER read the German ones as negative
    texts = [t for t in data.mismatches["review_text"].to_list()]
    assert texts == [MISMATCH]
    page = multilingual_report.read_text(encoding="utf-8")
    assert all(html.escape(t)[:40] not in section(page, "mismatches") for t in GERMAN)


def test_the_marks_follow_report_min_scored_share(multilingual_published: Path, tmp_path: Path) -> None:
    # through the command, as a user sets it: 0.2 marks no title (foreign has 25%)
    config = write(tmp_path / "reviewpipe.toml",
                   f"[paths]\npublished = {str(multilingual_published)!r}\n"
                   "[report]\nmin_scored_share = 0.2\n")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "less than\n    20% of their reviews" in page or "less than 20%" in " ".join(page.split())
    assert 'class="partial-note"' not in page and "texts ⚠" not in page
    # 0.9: english (86%) is marked as well
    page = write_report(multilingual_published, tmp_path / "r2.html",
                        report=ReportSettings(min_scored_share=0.9)).read_text(encoding="utf-8")
    assert section(page, "leaderboard").count('class="partial-note"') == 2
    with pytest.raises(ValidationError, match="min_scored_share"):
        ReportSettings(min_scored_share=1.5)


@settings(max_examples=200, deadline=None)
@given(share=st.floats(0, 1))
def test_a_share_in_whole_percent_is_0_or_100_only_when_it_is(share: float) -> None:
    text = whole_percent_text(share)
    assert (text == "0%") == (share == 0) and (text == "100%") == (share == 1)
    assert text in ("<1%", ">99%") or abs(int(text[:-1]) - share * 100) <= 0.5


def test_language_texts_name_the_languages_and_their_shares() -> None:
    assert languages_text(["en"]) == "English"
    assert languages_text(["en", "es", "xx"]) == "English, Spanish and xx"
    mix = [{"language": "es", "share": 0.625, "unscored_share": 0.625},
           {"language": "en", "share": 0.25, "unscored_share": 0.0},
           {"language": "und", "share": 0.125, "unscored_share": 0.125}]
    assert language_mix_text(mix) == "es 62%, en 25%, und 12%"
    # languages whose reviews are all scored are not among the unscored
    assert partial_text(0.25, mix) == ("sentiment from 25% of its reviews: 75% are in languages it "
                                       "does not cover (es 62%, und 12%)")
    assert language_mix_text(None) == ""


# ---------------------------------------------------------------------------------------------
# In a real browser


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (never `playwright install`: no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); "
                    "`make test` installs it with apt-get when it can")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (test extra)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_the_page_draws_its_charts_offline_and_runs_no_foreign_script(
    browser, report: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        shot, chart_shot = look_at_the_page(context, report, tmp_path)
    finally:
        context.close()
    assert shot.stat().st_size > 20_000
    assert_not_blank(chart_shot)


def look_at_the_page(context, report: Path, tmp_path: Path) -> tuple[Path, bytes]:
    """Open the report, check what it drew and ran; a full-page screenshot and one of a chart."""
    page = context.new_page()
    errors: list[str] = []
    left_file: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def only_files(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            left_file.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:", "blob:"))
            else left_file.append(r.url))
    page.goto(report.as_uri())
    charts = page.locator("div.chart").count()
    # 2 groups (films, snacks) x (leaderboard + histograms + trends) + sentiment + reviews per month
    assert charts == 8
    page.wait_for_function(
        "n => [...document.querySelectorAll('div.chart')]"
        ".filter(d => d.querySelector('.main-svg')).length >= n", arg=charts, timeout=30_000)
    drawn = page.evaluate("""() => ({
        bars: document.querySelectorAll('.js-plotly-plot .barlayer .point path').length,
        boxes: document.querySelectorAll('.js-plotly-plot .boxlayer path.box').length,
        markers: document.querySelectorAll('.js-plotly-plot .scatterlayer .point').length,
        lines: document.querySelectorAll('.js-plotly-plot .scatterlayer path.js-line').length,
        texts: [...document.querySelectorAll('.js-plotly-plot text')].map(t => t.textContent),
    })""")
    # a box per rating point given: 2, 4, 6, 7, 9, 10 of 10 and 1, 4, 5 of 5
    assert drawn["boxes"] == 9
    # histogram bars (every point of each scale), leaderboard markers, the sentiment means' lines
    # (no trend line: no 3 months of the fixture hold 10 reviews of a title)
    assert drawn["bars"] >= 10 and drawn["markers"] >= 9 and drawn["lines"] >= 2
    assert not errors, errors
    assert not left_file, f"the page asked for {left_file}"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("[...document.querySelectorAll('b')].every(b => b.textContent !== 'bold')")
    body = page.inner_text("body")
    assert "<script>window.__pwned=1</script><b>bold</b>" in body
    assert HOSTILE_AUTHOR in body
    # the trust section is drawn too: no title of the fixture has the 10 rated reviews a test needs
    assert page.locator("#trust").is_visible() and "No title has been tested." in body
    # in the charts too, the title name shows as typed, neither italic nor TeX
    assert any("<i>Italic</i> & $5 off$" in t for t in drawn["texts"]), drawn["texts"]
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    return shot, page.locator("#chart-histograms-1").screenshot()


def assert_not_blank(png: bytes) -> None:
    """The PNG shows a drawing: many colours (bars, text, grid), not one flat fill."""
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional; the size alone says something was drawn
        assert len(png) > 5_000
        return
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, "the chart screenshot is (almost) one colour"
    # the red, grey and green of the rating classes are all there
    present = {c for _, c in colours or []}
    for wanted in ((0xC0, 0x39, 0x2B), (0x95, 0xA5, 0xA6), (0x27, 0xAE, 0x60)):
        assert wanted in present or colours is None, f"no bar of colour {wanted}"


_MONTHS = st.builds(date, st.integers(1, 9999), st.integers(1, 12), st.just(1))


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


@settings(max_examples=60, deadline=None)
@given(reviewed=st.dictionaries(
    st.tuples(st.sampled_from(["tt1", "tt2"]), st.one_of(_MONTHS, st.builds(
        date, st.just(2020), st.integers(1, 12), st.just(1)))),
    # reviews, rated reviews and their ratings' sum (1-5 each), scored texts and their sum
    st.tuples(st.integers(1, 12), st.integers(0, 12), st.integers(0, 12)),
    min_size=1, max_size=10,
))
def test_trend_lines_are_3_month_means_drawn_only_over_enough_reviews_in_few_points(
    reviewed: dict[tuple[str, date], tuple[int, int, int]]
) -> None:
    """Months 0001..9999 (staging's date window), dense and sparse: each point of a title's lines
    is the mean over the 3 calendar months up to it (months without reviews count as none), null
    when they hold fewer than MIN_TREND_REVIEWS rated (scored) reviews; a line never joins two
    points more than a month apart (a null ends it first); at most 4 points per reviewed month
    (a point per month of 0001..9999 was 120,000 per line: 40 MB and a minute for 6 titles)."""
    rows = [(t, m, n, rated, rated * (1 + (n % 5)), scored, scored * 0.25)
            for (t, m), (n, rated, scored) in reviewed.items()]
    monthly = pl.DataFrame(rows, orient="row", schema={
        "title_id": pl.String, "month": pl.Date, "review_count": pl.Int64,
        "rated_review_count": pl.Int64, "rating_sum": pl.Float64,
        "scored_review_count": pl.Int64, "sentiment_sum": pl.Float64,
    }).with_columns(source=pl.lit("src"))
    lines = smoothed_trends(monthly)
    last = max(m for _, m in reviewed)
    by_key = {(t, m): row for t, m, *row in rows}
    for (title_id,), part in lines.partition_by("title_id", as_dict=True).items():
        months = part["month"].to_list()
        own = [m for t, m in reviewed if t == title_id]
        assert months == sorted(set(months)) and set(own) <= set(months)
        assert len(months) <= 4 * len(own) and max(months) <= last
        for month, count, rating, sentiment in part.select(
                "month", "review_count", "rating_mean", "sentiment_mean").iter_rows():
            window = [by_key[(title_id, m)] for m in own if 0 <= months_between(m, month) < 3]
            assert count == by_key.get((title_id, month), [0])[0]
            for value, n_at, sum_at in ((rating, 1, 2), (sentiment, 3, 4)):
                n = sum(w[n_at] for w in window)
                if n < MIN_TREND_REVIEWS:
                    assert value is None, (month, window)
                else:
                    assert value == pytest.approx(sum(w[sum_at] for w in window) / n)
        for (a, ra, sa), (b, _, _) in itertools.pairwise(part.select(
                "month", "rating_mean", "sentiment_mean").iter_rows()):
            if months_between(a, b) > 1:
                assert ra is None and sa is None, (a, b)
        # every month whose window holds a rated review is drawn (up to the source's last month)
        for m in own:
            for k in range(3):
                index = m.year * 12 + m.month - 1 + k
                assert index > last.year * 12 + last.month - 1 or \
                    date(index // 12, index % 12 + 1, 1) in months


def open_drawn(context, report: Path):  # type: ignore[no-untyped-def]
    """The report opened in a new page of context once every chart is drawn, and the list its
    console errors and page errors go to."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    charts = page.locator("div.chart").count()
    page.wait_for_function(
        "n => [...document.querySelectorAll('div.chart')]"
        ".filter(d => d.querySelector('.main-svg')).length >= n", arg=charts, timeout=30_000)
    return page, errors


def test_a_mixed_report_draws_in_the_browser(browser, mixed_report: Path, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page, errors = open_drawn(context, mixed_report)
        # the 3-month means of the diner and of all the restaurants are the only trend lines with
        # 10+ reviews behind them
        lines = page.evaluate("""() => [...document.querySelectorAll(
            '#trends .js-plotly-plot .scatterlayer path.js-line')].map(p => p.getAttribute('d'))""")
        assert len([d for d in lines if d and "L" in d]) == 4, lines
        assert not errors, errors
        page.screenshot(path=str(tmp_path / "mixed.png"), full_page=True)
        assert_not_blank(page.locator("#histograms").screenshot())
    finally:
        context.close()


def test_the_browser_shows_the_mark_of_a_partly_scored_title(
    browser, multilingual_report: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page, errors = open_drawn(context, multilingual_report)
        note = page.locator("#leaderboard .partial-note")
        assert note.count() == 1 and note.is_visible()
        assert note.inner_text().startswith("⚠ sentiment from 25% of its reviews")
        mark = page.locator("#leaderboard tr.partly-scored span.partial")
        assert mark.is_visible() and mark.get_attribute("title").startswith("sentiment from 25%")
        # the charts' panel titles carry it too: the sentiment panel and two rows of trends
        texts = page.evaluate("""() => [...document.querySelectorAll(
            '#sentiment .js-plotly-plot text, #trends .js-plotly-plot text')].map(t => t.textContent)""")
        assert sum("⚠" in t for t in texts) == 3, texts
        assert not errors, errors
        page.screenshot(path=str(tmp_path / "multilingual.png"), full_page=True)
    finally:
        context.close()


def test_a_new_min_scored_share_rebuilds_the_report(tmp_path: Path) -> None:
    # the report is an output: a run after [report] min_scored_share changed is not "nothing new"
    paths = Paths(warehouse=tmp_path / "w.duckdb", published=tmp_path / "r.duckdb",
                  exports=tmp_path / "exports", samples=tmp_path / "samples")
    assert publish_basis(Settings(paths=paths)) != publish_basis(
        Settings(paths=paths, report={"min_scored_share": 0.5}))


def check_terms_section(page, screenshot: Path, hovers: int = 3) -> int:
    """The drawn page's terms section: each title's chart has its praise bars (green, right) and
    complaint bars (red, left) labelled with the terms its table lists, each example holds its term,
    and (in the first `hovers` charts: a hover takes a few tenths of a second) a bar's hover tells the
    term's sentences, mean sentiment and example; the titles drawn."""
    titles = page.locator("#terms .title-terms")
    drawn = 0
    shot: list = []  # the first drawn title's block, and the colours of its sides' bars
    for i in range(titles.count()):
        block = titles.nth(i)
        if not block.locator("div.chart").count():
            continue
        drawn += 1
        rows = block.locator("table.terms tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")
        assert rows, i
        bars = block.evaluate("""b => [...b.querySelectorAll('.barlayer .trace')].map(t => ({
            colour: t.querySelector('.point path')?.style.fill,
            labels: [...t.querySelectorAll('.point text')].map(x => x.textContent)}))""")
        # the praise trace, then the complaint trace (either may have no bar)
        by_side = {side: [r[1] for r in rows if r[0] == side] for side in ("praise", "complaint")}
        assert [b["labels"] for b in bars if b["labels"]] == [by_side[s] for s in by_side if by_side[s]], (bars, rows)
        colours = {"praise": (0x27, 0xAE, 0x60), "complaint": (0xC0, 0x39, 0x2B)}
        assert [b["colour"] for b in bars if b["labels"]] == [f"rgb{colours[s]}" for s in by_side if by_side[s]]
        shot = shot or [block, {colours[s] for s in by_side if by_side[s]}]
        for side, term, z, sentences, mean, example in rows:
            assert float(z) >= 1.96 and int(sentences.replace(",", "")) >= 1 and -1 <= float(mean) <= 1, term
            words = example.lower().replace("\u2019", "'")
            assert term.split(" ")[0] in words, (term, example)
        if drawn > hovers:
            continue
        # a bar's hover: the term, its sentences and mean sentiment, its example
        bar = block.locator(".barlayer .point path").first
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        block.locator(".hoverlayer .hovertext").wait_for(timeout=5_000)
        hover = block.locator(".hoverlayer .hovertext").text_content()
        first = rows[0] if by_side["praise"] else next(r for r in rows if r[0] == "complaint")
        assert first[1] in hover and "sentences mention it" in hover and "mean sentiment" in hover, hover
        page.mouse.move(0, 0)
    if shot:
        shot[0].screenshot(path=str(screenshot))
        from PIL import Image  # (the test extra's Pillow)
        colours = {c for _, c in Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20)}
        assert len(colours) > 20 and shot[1] <= colours  # its sides' bars drawn
    return drawn
