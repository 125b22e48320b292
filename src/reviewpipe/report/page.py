"""The report's page: the charts and tables of ReportData rendered into one self-contained HTML
file, and written."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jinja2
import markupsafe
import plotly.io as pio
import plotly.offline
import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.files import atomic_write
from reviewpipe.report.data import (
    GROUP_KEY,
    TERM_TITLES,
    TREND_TITLES,
    ReportData,
    TrustData,
    read_report_data,
)
from reviewpipe.report.figures import (
    MAX_BARS,
    MIN_TREND_REVIEWS,
    TREND_WINDOW_MONTHS,
    Figure,
    histogram_figure,
    leaderboard_figure,
    scale_of,
    sentiment_figure,
    terms_figure,
    totals_figure,
    trends_figure,
)
from reviewpipe.report.text import (
    INPUT_WORDS,
    PARTIAL_MARK,
    TRUST_INPUTS,
    coverage_text,
    language_mix_text,
    languages_text,
    number_text,
    p_value_text,
    partial_text,
    percent_text,
    rating_text,
    review_rating_text,
    shorten,
    trust_finding_text,
    trust_mean_text,
    trust_reason_text,
    trust_test_label,
    whole_percent_text,
    words_list,
)
from reviewpipe.settings import ReportSettings, SentimentSettings, TermsSettings, TrustSettings
from reviewpipe.trust import TEST_NAMES

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The page quotes excerpts of reviews of this many characters.
EXCERPT_CHARS = 300
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
NO_SOURCE = "'none'"


def write_report(published: Path, out: Path, *, max_titles: int = 50,
                 sentiment: SentimentSettings | None = None, report: ReportSettings | None = None,
                 trust: TrustSettings | None = None, terms: TermsSettings | None = None) -> Path:
    """Write the HTML report of the published database to out (atomically); the path written.
    sentiment, report and trust are the run's settings (defaults when None): the page states which
    languages sentiment covers, marks titles it covers less than report.min_scored_share of, and
    says which sources' reviews name no reviewer outside trust.anonymous_names, and whether the
    terms were counted (terms.enabled)."""
    if max_titles < 1:
        raise ReviewpipeError(f"max_titles must be at least 1, not {max_titles}")
    sentiment = sentiment or SentimentSettings()
    report = report or ReportSettings()
    trust = trust or TrustSettings()
    terms = terms or TermsSettings()
    data = read_report_data(published, max_titles, generated_at=datetime.now(UTC),
                            languages=sentiment.languages,
                            score_undetermined=sentiment.score_undetermined,
                            min_scored_share=report.min_scored_share,
                            anonymous_names=trust.anonymous_names, trust_enabled=trust.enabled,
                            terms_enabled=terms.enabled)
    page = render_report(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out, newline="\n", durable=True) as f:
        f.write(page)
    return out


@dataclass(frozen=True)
class Chart:
    """A figure placed on the page: the id of its div and the figure."""

    div_id: str
    figure: Figure

    def json(self) -> str:
        # plotly's encoder writes <, > and / as \\u escapes: no text can close the script block
        return pio.to_json(self.figure, validate=False, pretty=False)


def _mount_script(charts: list[Chart]) -> str:
    config = json.dumps(PLOTLY_CONFIG)
    lines = ["(function () {", "  var f;"]
    for c in charts:
        lines.append(f"  f = {c.json()};")
        lines.append(f'  Plotly.newPlot("{c.div_id}", f.data, f.layout, {config});')
    lines.append("})();")
    return "\n".join(lines)


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _plotly_js() -> str:
    js = plotly.offline.get_plotlyjs()
    # inlined in a <script> element, the bundle must not contain the sequence that ends one
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


@cache  # compiling the template takes longer than rendering it
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number_text
    env.filters["rating"] = rating_text
    env.filters["percent"] = percent_text
    env.filters["review_rating"] = review_rating_text
    env.filters["whole_percent"] = whole_percent_text
    env.filters["language_mix"] = language_mix_text
    env.filters["excerpt"] = lambda text: shorten(text or "", EXCERPT_CHARS)
    return env


def _groups(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """frame's rows split by GROUP_KEY (source, then scale), in the order of their first rows."""
    if not frame.height:
        return []
    return list(frame.partition_by(GROUP_KEY, maintain_order=True))


def _with_partial_notes(rows: list[dict]) -> list[dict]:
    """rows (of titles, or of reviews with their title's coverage), each with partial_note: why its
    title is marked (text.partial_text), or None when its sentiment covers enough of it."""
    return [row | {"partial_note": partial_text(row["scored_share"], row["language_mix"])
                   if row.get("is_partly_scored") else None} for row in rows]


def _not_run_text(tests: list[str], source: str, inputs: dict[str, int] | None) -> str:
    """Why tests (run on none of a group's tested titles) could not run there: what the source's
    reviews give each test (trust_inputs.sql), the tests that need the same input together."""
    by_input: dict[str, list[str]] = {}
    for test in tests:
        by_input.setdefault(TRUST_INPUTS[test], []).append(trust_test_label(test))
    parts = []
    for column, labels in by_input.items():
        have = (inputs or {}).get(column, 0)
        words = INPUT_WORDS[column]
        why = (f"none of the reviews of {source} has {words}" if not have else
               f"{have:,} of the {(inputs or {}).get('reviews', 0):,} reviews of {source} have {words}")
        parts.append(f"{words_list(labels)}: {why}")
    return "; ".join(parts)


def _trust_groups(trust: TrustData) -> list[dict]:
    """The trust section's groups (a source on one scale, as the leaderboards), titles in
    leaderboard order: each tested title with its verdict, adjusted rating, a sentence per failing
    or warning test, its passing tests and the tests with no row; the tests run on none of the
    group's titles, with why (once per source); the flagged reviews of its failing titles."""
    if not trust.titles.height:
        return []
    tests_by_title = ({k: part.to_dicts() for (k,), part in
                       trust.tests.partition_by("title_id", as_dict=True, maintain_order=True).items()}
                      if trust.tests.height else {})
    flagged_by_title = ({k: part.to_dicts() for (k,), part in
                         trust.flagged.partition_by("title_id", as_dict=True,
                                                    maintain_order=True).items()}
                        if trust.flagged.height else {})
    inputs = {row["source"]: row for row in trust.inputs.to_dicts()}
    explained: set[str] = set()
    groups = []
    for board in _groups(trust.titles):
        scale = scale_of(board)
        source = board["source"][0]
        rows = board.to_dicts()
        tested = [r for r in rows if r["trust_verdict"] is not None]
        ran = {t["test"] for r in tested for t in tests_by_title.get(r["title_id"], [])}
        titles = []
        for r in tested:
            tests = tests_by_title.get(r["title_id"], [])
            sources = (f"in {source}" if r["source_count"] == 1 else "in its sources")
            findings = [{"test": trust_test_label(t["test"]), "verdict": t["verdict"],
                         "text": trust_finding_text(t, thumbs=scale.is_thumbs, rating_min=scale.low,
                                                    rating_scale=scale.top, sources=sources),
                         "p_values": f"corrected p: share {p_value_text(t['share_p_value'])}, "
                                     f"rating {p_value_text(t['rating_p_value'])}",
                         "why": trust_reason_text(t, scale.top - scale.low)}
                        for t in tests if t["verdict"] in ("fail", "warn")]
            own = {t["test"] for t in tests}
            flagged = [f | {"findings": [{"test": trust_test_label(g["test"]), "detail": g["detail"]}
                                         for g in f["findings"]]}
                       for f in flagged_by_title.get(r["title_id"], [])]
            titles.append(r | {
                "published": trust_mean_text(r["recommended_share" if scale.is_thumbs
                                               else "rating_mean"], thumbs=scale.is_thumbs)
                             if r["rating_mean"] is not None else "–",
                "adjusted": trust_mean_text(r["adjusted_rating"], thumbs=scale.is_thumbs)
                            if r["adjusted_rating"] is not None else None,
                "findings": findings,
                "passes": [trust_test_label(t["test"]) for t in tests if t["verdict"] == "pass"],
                "no_row": [trust_test_label(t) for t in TEST_NAMES if t in ran and t not in own],
                "flagged": flagged,
                "flagged_reviews": flagged[0]["flagged_reviews"] if flagged else 0,
            })
        not_run = [t for t in TEST_NAMES if t not in ran]
        note = None
        if tested and not_run and source not in explained:
            explained.add(source)
            note = _not_run_text(not_run, source, inputs.get(source))
        groups.append({"source": source, "scale": scale, "heading": scale.heading(),
                       "titles": titles, "untested": len(rows) - len(tested), "not_run": note})
    return groups


def _term_groups(terms: pl.DataFrame, charts: list[Chart]) -> list[dict]:
    """The terms section's groups (a source on one scale, as the leaderboards), titles in
    leaderboard order: each with its diverging chart (added to charts) and its terms by side."""
    groups = []
    for board in _groups(terms):
        titles = []
        for (title_id,), rows in board.partition_by("title_id", as_dict=True, maintain_order=True).items():
            first = rows.row(0, named=True)
            chart = None
            if rows.filter(pl.col("side") != "distinctive").height:
                chart = Chart(f"chart-terms-{len(charts) + 1}", terms_figure(rows))
                charts.append(chart)
            sides = {side: rows.filter(pl.col("side") == side).sort("rank").to_dicts()
                     for side in ("praise", "complaint", "distinctive")}
            titles.append({"title_id": title_id, "title_name": first["title_name"], "has_title": first["has_title"],
                           "position": first["position"], "chart": chart.div_id if chart else None, **sides})
        groups.append({"source": board["source"][0], "heading": scale_of(board).heading(), "titles": titles})
    return groups


def render_report(data: ReportData) -> str:
    """The whole HTML page for data: inline CSS, plotly.js once, the charts and the tables."""
    boards = []
    charts: list[Chart] = []
    for i, board in enumerate(_groups(data.leaderboard), start=1):
        board = board.sort("position")
        scale = scale_of(board)
        lead = Chart(f"chart-leaderboard-{i}", leaderboard_figure(board))
        charts.append(lead)
        hist = None
        if not scale.is_thumbs:  # a thumbs title's two bars are its % recommended, on the board
            hist = Chart(f"chart-histograms-{i}", histogram_figure(board, data.distribution))
            charts.append(hist)
        boards.append({"source": board["source"][0], "scale": scale, "heading": scale.heading(),
                       "rows": _with_partial_notes(board.to_dicts()), "chart": lead.div_id,
                       "histograms": hist.div_id if hist else None})
    sentiment_chart = totals_chart = None
    if data.sentiment_by_rating.height:
        sentiment_chart = Chart("chart-sentiment",
                                sentiment_figure(data.sentiment_by_rating, data.min_scored_share))
        charts.append(sentiment_chart)
    if data.monthly_totals.height:
        totals_chart = Chart("chart-trends-totals", totals_figure(data.monthly_totals))
        charts.append(totals_chart)
    trends = []
    drawn_sources: set[str] = set()
    for i, group in enumerate(_groups(data.monthly), start=1):
        scale = scale_of(group)
        source = group["source"][0]
        # the source's own row goes with its first group (a source's titles are on its scale, but
        # for a title that also has reviews on a higher scale elsewhere)
        totals = None if source in drawn_sources else data.monthly_totals.filter(
            pl.col("source") == source)
        drawn_sources.add(source)
        chart = Chart(f"chart-trends-{i}", trends_figure(group, scale, totals, data.min_scored_share))
        charts.append(chart)
        trends.append({"source": group["source"][0], "heading": scale.heading(),
                       "chart": chart.div_id})
    terms = _term_groups(data.terms, charts)
    plotly_js = _plotly_js() if charts else ""
    mount = _mount_script(charts) if charts else ""
    script_hashes = " ".join(_csp_hash(s) for s in (plotly_js, mount) if s)
    csp = (
        f"default-src {NO_SOURCE}; "
        f"script-src {script_hashes or NO_SOURCE}; "
        # plotly.js adds <style> rules and inline style attributes at run time
        "style-src 'unsafe-inline'; "
        # the modebar's "download as PNG" renders through data: and blob: images
        "img-src data: blob:; "
        "base-uri 'none'; form-action 'none'"
    )
    return _environment().get_template("report.html.j2").render(
        data=data,
        counts=data.counts,
        generated_at=data.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        boards=boards,
        sentiment_chart=sentiment_chart.div_id if sentiment_chart else None,
        totals_chart=totals_chart.div_id if totals_chart else None,
        trends=trends,
        helpful=[{"source": part["source"][0], "ranked_by": part["ranked_by"][0],
                  "rows": part.to_dicts()}
                 for part in data.helpful.partition_by("source", "ranked_by", maintain_order=True)]
                if data.helpful.height else [],
        mismatches=_with_partial_notes(data.mismatches.to_dicts()),
        coverage=coverage_text(data.languages, data.counts.get("text_reviews", 0),
                               data.counts.get("scored_reviews", 0)),
        scored_share=(data.counts["scored_reviews"] / data.counts["text_reviews"]
                      if data.counts.get("text_reviews") else None),
        languages=languages_text(data.languages),
        score_undetermined=data.score_undetermined,
        min_scored_share=data.min_scored_share,
        partial_mark=PARTIAL_MARK,
        trust=_trust_groups(data.trust),
        trust_counts=data.trust.counts,
        trust_enabled=data.trust.enabled,
        terms=terms,
        terms_enabled=data.terms_enabled,
        term_titles=TERM_TITLES,
        trend_titles=TREND_TITLES,
        trend_window=TREND_WINDOW_MONTHS,
        min_trend_reviews=MIN_TREND_REVIEWS,
        max_bars=MAX_BARS,
        csp=csp,
        plotly_js=markupsafe.Markup(plotly_js),
        mount_script=markupsafe.Markup(mount),
    )
