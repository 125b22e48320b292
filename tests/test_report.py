"""The HTML report: from a real published database, self-contained, escaped, drawn in a browser."""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import re
from datetime import UTC, date, datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline
import polars as pl
import pytest
from conftest import write
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe import pipeline
from reviewpipe.errors import ReviewpipeError
from reviewpipe.report import (
    _read_report_data,
    histogram_figure,
    leaderboard_figure,
    plotly_text,
    rating_class,
    sentiment_figure,
    shorten,
    trends_figure,
    write_report,
)
from reviewpipe.settings import Paths, Settings, Source

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
    counts = re.findall(r'<div class="count"><b>([\d,]+)</b><span>([^<]+)</span>', page)
    assert counts == [("3", "titles"), ("3", "titles with reviews"), ("10", "reviews"),
                      ("0", "quarantined rows")]


def test_an_empty_database_gives_a_page_of_no_data_notes(make_settings, tmp_path: Path) -> None:
    # every row fails a check: nothing is published but the quarantine
    csv = write(tmp_path / "bad.csv", HEADER + "tt1,ann,2020-01-01,eleven,0,0,T,Text.\n"
                                              ",bob,2020-01-01,5,0,0,T,Text.\n")
    settings = make_settings({"name": "rev", "path": str(csv)}, quality={"max_quarantined_share": 1})
    pipeline.run(settings)
    page = write_report(settings.published_path, tmp_path / "report.html").read_text("utf-8")
    assert page.count('class="nodata"') == 6
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
    # 1-4 of 10 and 1-2 of 5 negative; 7-10 and 4-5 positive
    assert [rating_class(r, 10) for r in (4, 5, 6, 7)] == [
        "negative", "middle", "middle", "positive"]
    assert [rating_class(r, 5) for r in (2, 3, 4)] == ["negative", "middle", "positive"]


def test_chart_builders_leave_their_inputs_alone() -> None:
    board = pl.DataFrame({
        "position": [1, 2], "title_id": ["a", "b"], "title_name": ["A", "A"],
        "rating_scale": [5, 5],
        "rating_mean": [4.5, 3.0], "rating_ci_low": [4.0, None], "rating_ci_high": [5.0, None],
        "bayesian_rating": [4.2, 3.1], "weighted_rating": [4.4, 3.2], "rated_review_count": [10, 1],
    })
    dist = pl.DataFrame({"title_id": ["a", "a", "b"], "rating": [4.0, 5.0, 3.0],
                         "review_count": [5, 5, 1], "share": [0.5, 0.5, 1.0],
                         "rating_scale": [5, 5, 5]})
    board_copy, dist_copy = board.clone(), dist.clone()
    lead = leaderboard_figure(board, 5)
    hist = histogram_figure(board, dist, 5)
    assert board.equals(board_copy) and dist.equals(dist_copy)
    # two titles of the same name stay two rows: the rank prefix keeps the categories apart
    assert lead["data"][0]["y"] == ["1. A", "2. A"]
    assert len(hist["data"]) == 2 and hist["data"][0]["marker"]["color"] == ["#27ae60", "#27ae60"]
    assert [t["xaxis"] for t in hist["data"]] == ["x", "x2"]  # one panel each


def test_every_figure_is_valid_plotly(published: Path) -> None:
    # the figures are plain dicts (fast to build); Plotly's own classes validate every property
    report_data = _read_report_data(published, 50, generated_at=datetime.now(UTC))
    figures = [sentiment_figure(report_data.sentiment_by_rating),
               trends_figure(report_data.monthly, report_data.monthly_totals)]
    for scale in set(report_data.leaderboard["rating_scale"]):
        figures += [leaderboard_figure(report_data.leaderboard, scale),
                    histogram_figure(report_data.leaderboard, report_data.distribution, scale)]
    for figure in figures:
        assert go.Figure(figure).data  # raises on a property Plotly does not know


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
    # 2 scales x (leaderboard + histograms) + sentiment + trends
    assert charts == 6
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
    # histogram bars (every point of each scale), leaderboard and trend markers, trend lines
    assert drawn["bars"] >= 10 and drawn["markers"] >= 9 and drawn["lines"] >= 3
    assert not errors, errors
    assert not left_file, f"the page asked for {left_file}"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("[...document.querySelectorAll('b')].every(b => b.textContent !== 'bold')")
    body = page.inner_text("body")
    assert "<script>window.__pwned=1</script><b>bold</b>" in body
    assert HOSTILE_AUTHOR in body
    # in the charts too, the title name shows as typed, neither italic nor TeX
    assert any("<i>Italic</i> & $5 off$" in t for t in drawn["texts"]), drawn["texts"]
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    return shot, page.locator("#chart-histograms-10").screenshot()


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


@settings(max_examples=50, deadline=None)
@given(months=st.lists(st.tuples(st.sampled_from(["tt1", "tt2"]), _MONTHS), min_size=1, max_size=8, unique=True))
def test_trend_lines_over_any_months_staging_keeps_draw_the_months_between_as_zero_in_few_points(
    months: list[tuple[str, date]]
) -> None:
    """Months 0001..9999 (staging's date window): each title's line of reviews per month passes
    through its months' counts and is 0 over every month without reviews from the chart's first to
    its last, as a point per month would draw it, in at most 3 points per reviewed month and 2 ends
    (a point per month of 0001..9999 was 120,000 per line: 40 MB and a minute for 6 titles)."""
    monthly = pl.DataFrame({
        "title_id": [t for t, _ in months], "title_name": [f"Title {t}" for t, _ in months],
        "rating_scale": [10] * len(months), "dated_reviews": [1] * len(months),
        "month": [m for _, m in months], "review_count": list(range(1, len(months) + 1)),
        "rating_mean": [5.0] * len(months), "sentiment_mean": [0.1] * len(months),
    })
    totals = monthly.group_by("month").agg(pl.col("review_count").sum()).sort("month")
    figure = trends_figure(monthly, totals)
    first, last = min(m for _, m in months), max(m for _, m in months)
    counts = {(t, m): n for (t, m), n in zip(months, monthly["review_count"], strict=True)}
    lines = [trace for trace in figure["data"][1:] if trace.get("hovertemplate", "").endswith("reviews")]
    assert len(lines) == len({t for t, _ in months})
    for line in lines:
        title_id, x, y = line["legendgroup"], line["x"], line["y"]
        reviewed = {m for t, m in months if t == title_id}
        assert x == sorted(set(x)) and x[0] == first and x[-1] == last
        assert len(x) <= 3 * len(reviewed) + 2
        assert all(y[x.index(m)] == counts[(title_id, m)] for m in reviewed)
        assert all(n == 0 for m, n in zip(x, y, strict=True) if m not in reviewed)
        for (a, ya), (b, yb) in itertools.pairwise(zip(x, y, strict=True)):
            if (b.year - a.year) * 12 + b.month - a.month > 1:  # months between: the segment is 0 throughout
                assert ya == yb == 0, (a, b)
