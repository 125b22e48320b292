"""The HTML report: one self-contained page of charts and tables over the published database.

`write_report` is the only function here that touches disk or DuckDB: it reads the published file
read-only into small frames (the aggregation happens in DuckDB, so the page's size does not grow
with the number of reviews), hands them to pure functions that build Plotly figures and the page,
and writes the page atomically. The page needs no network: plotly.js is inlined once, there are no
web fonts, and a Content-Security-Policy with `default-src 'none'` stops the browser from fetching
anything at all. Only the page's own two scripts may run (they are allowed by their sha256 hashes),
so even text that slipped past escaping could not run a script or an inline event handler.

Reviews, titles and author names are other people's words. In HTML they are escaped by Jinja2's
autoescape; in charts they are escaped for Plotly's pseudo-HTML (`<b>`, `<a>`, `<br>` and `$…$`
TeX would otherwise be interpreted) and embedded as JSON in which `<`, `>` and `/` are `\\uXXXX`
escapes, so a `</script>` inside a title cannot end the script block.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import markupsafe
import plotly.io as pio
import plotly.offline
import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.files import atomic_write
from reviewpipe.metrics import THUMBS_SCALE, rating_class_of
from reviewpipe.publish import published_connection

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Rows of the review tables (helpful: per source); the page shows excerpts of this many characters.
HELPFUL_ROWS = 10
MISMATCH_ROWS = 25
EXCERPT_CHARS = 300
# Titles drawn in the monthly trends of each source (by dated reviews), a row of panels each.
TREND_TITLES = 6
# Trend lines are means over this many months (the month and the ones before it), drawn only where
# those months hold at least MIN_TREND_REVIEWS reviews: 96 monthly means of a few reviews each
# zigzag more than they say, and a mean of fewer than 10 ratings is mostly its noise (on 5 stars,
# a typical spread of 1.2 gives a 95% margin of about ±0.75 at 10 ratings).
TREND_WINDOW_MONTHS = 3
MIN_TREND_REVIEWS = 10
# the monthly sums the trends are smoothed from
TREND_SUMS = ["review_count", "rated_review_count", "rating_sum", "scored_review_count", "sentiment_sum"]
MONTH_MS = 28 * 24 * 3600 * 1000  # a monthly bar's width on a date axis (milliseconds)
# Histogram small multiples per row; bars per histogram at most (finer scales get a bar per 2, 5,
# 10, ... points, as a 0-10 score in tenths would otherwise be 101 bars of 2 px).
HISTOGRAM_COLUMNS = 5
MAX_BARS = 20
# Sentiment panels (one per source) per row.
SENTIMENT_COLUMNS = 3
# Rating classes as README's "How the measures are computed" defines them, for bar colours.
COLOURS = {"negative": "#c0392b", "middle": "#95a5a6", "positive": "#27ae60"}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
NO_SOURCE = "'none'"
# A leaderboard, its histograms and a source's trends hold one group: titles of one source on one
# scale (a title belongs to the source holding most of its reviews).
GROUP_KEY = ["source", "rating_kind", "rating_min", "rating_step", "rating_scale"]


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read from one published database; frames are small by design."""

    generated_at: datetime
    counts: dict[str, int]
    leaderboard: pl.DataFrame
    distribution: pl.DataFrame
    sentiment_by_rating: pl.DataFrame
    monthly: pl.DataFrame
    monthly_totals: pl.DataFrame
    helpful: pl.DataFrame
    mismatches: pl.DataFrame
    max_titles: int = 50


def write_report(published: Path, out: Path, *, max_titles: int = 50) -> Path:
    """Write the HTML report of the published database to out (atomically); the path written."""
    if max_titles < 1:
        raise ReviewpipeError(f"max_titles must be at least 1, not {max_titles}")
    data = _read_report_data(published, max_titles, generated_at=datetime.now(UTC))
    page = render_report(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out, newline="\n", durable=True) as f:
        f.write(page)
    return out


# ---------------------------------------------------------------------------------------------
# Reading: the only part that touches DuckDB (called by write_report).

# A title's source: the one holding most of its reviews (ties: the first by name), so a title
# reviewed in two sources is ranked once, with the titles of the source most of its reviews come
# from. Built once per report as a temporary table (the file stays read-only): the leaderboard, the
# distribution and the trends read it, and it groups every review.
_TITLE_SOURCES = """
    create or replace temp table title_sources as
    select
        title_id,
        source,
        count(*) over (partition by title_id) as source_count
    from reviews
    group by title_id, source
    qualify row_number() over (partition by title_id order by count(*) desc, source) = 1
"""
# Titles with rated reviews, ranked within their group: their source and rating scale. Weighted
# ratings are only comparable on one scale (C and m are computed per scale), and titles of one
# scale in two sources (restaurants and apps out of 5) are different things: each group gets its
# own leaderboard.
_RANKED = """
    ranked as (
        select
            title_sources.source,
            title_sources.source_count,
            summary.title_id,
            coalesce(summary.title, summary.title_id) as title_name,
            summary.title is not null as has_title,
            summary.rating_kind,
            summary.rating_min,
            summary.rating_step,
            summary.rating_scale,
            summary.review_count,
            summary.rated_review_count,
            summary.rating_mean,
            summary.weighted_rating,
            summary.bayesian_rating,
            summary.rating_ci_low,
            summary.rating_ci_high,
            summary.sentiment_mean,
            summary.is_polarized,
            summary.recommended_share,
            summary.recommended_share_low,
            summary.recommended_share_high,
            row_number() over (
                partition by title_sources.source, summary.rating_kind, summary.rating_min,
                    summary.rating_step, summary.rating_scale
                order by summary.weighted_rating desc nulls last, summary.title_id
            ) as position
        from agg_title_summary as summary
        join title_sources using (title_id)
        where summary.rated_review_count > 0 and summary.rating_scale is not null
    ),
    board as (
        select * from ranked where position <= $max_titles
    )
"""

_QUERIES = {
    "leaderboard": f"with {_RANKED} select * from board order by source, rating_scale desc, position",
    "distribution": f"""
        with {_RANKED}
        select d.title_id, d.rating, d.review_count, d.share, d.rating_scale
        from agg_rating_distribution as d
        where d.title_id in (select title_id from board)
        order by d.title_id, d.rating
    """,
    # sentiment_score per source and rating point: box statistics computed here, so no review rows
    # are embedded
    "sentiment_by_rating": """
        select
            source,
            rating_scale,
            rating,
            count(*) as reviews,
            avg(sentiment_score) as sentiment_mean,
            quantile_cont(sentiment_score, 0.05) as p05,
            quantile_cont(sentiment_score, 0.25) as q1,
            quantile_cont(sentiment_score, 0.5) as median,
            quantile_cont(sentiment_score, 0.75) as q3,
            quantile_cont(sentiment_score, 0.95) as p95
        from reviews
        where rating is not null and sentiment_score is not null and rating_scale is not null
        group by source, rating_scale, rating
        order by source, rating_scale desc, rating
    """,
    # Per source, its titles with most dated reviews, and their source's reviews per month as sums
    # (the page smooths them over months, which means cannot be): only that source's reviews, so a
    # title's lines are on one scale.
    "monthly": """
        with dated as (
            select title_sources.source, reviews.title_id, count(*) as dated_reviews
            from reviews
            join title_sources using (title_id, source)
            where reviews.review_date is not null
            group by all
        ),
        top as (
            select
                source,
                title_id,
                dated_reviews,
                row_number() over (partition by source order by dated_reviews desc, title_id)
                    as position
            from dated
            qualify position <= $trend_titles
        ),
        final as (
            select
                top.source,
                top.position,
                top.title_id,
                coalesce(summary.title, top.title_id) as title_name,
                -- a title without ratings has no scale in agg_title_summary: its source's top
                coalesce(summary.rating_kind, 'stars') as rating_kind,
                coalesce(summary.rating_min, 1.0) as rating_min,
                coalesce(summary.rating_step, 1.0) as rating_step,
                coalesce(summary.rating_scale, max(reviews.rating_scale)) as rating_scale,
                date_trunc('month', reviews.review_date)::date as month,
                count(*) as review_count,
                count(reviews.rating) as rated_review_count,
                sum(reviews.rating) as rating_sum,
                count(reviews.sentiment_score) as scored_review_count,
                sum(reviews.sentiment_score) as sentiment_sum
            from reviews
            join top using (title_id, source)
            left join agg_title_summary as summary using (title_id)
            where reviews.review_date is not null
            group by top.source, top.position, top.title_id, summary.title, summary.rating_kind,
                summary.rating_min, summary.rating_step, summary.rating_scale, month
        )
        select * from final order by source, position, month
    """,
    # every dated review, per source and month: the stacked bars, and each source's first row of
    # trends (all its titles)
    "monthly_totals": """
        select
            source,
            date_trunc('month', review_date)::date as month,
            count(*) as review_count,
            count(rating) as rated_review_count,
            sum(rating) as rating_sum,
            count(sentiment_score) as scored_review_count,
            sum(sentiment_score) as sentiment_sum
        from reviews
        where review_date is not null
        group by all
        order by source, month
    """,
    # Per source (the review's own) and ranking: votes on one platform are not comparable with
    # another's, and a source counting helpful votes alone is ranked by them ('helpful_votes'),
    # never together with shares of voters ('helpful_ratio'); see agg_top_helpful_reviews.
    "helpful": """
        with voted as (
            select
                reviews.source,
                h.ranked_by,
                h.title_id,
                coalesce(s.title, h.title_id) as title_name,
                h.helpful_votes,
                h.total_votes,
                h.helpful_wilson_lb,
                h.review_id,
                row_number() over (
                    partition by reviews.source, h.ranked_by
                    order by h.helpful_wilson_lb desc nulls last, h.helpful_votes desc,
                        h.total_votes desc nulls last, h.review_id
                ) as position
            from agg_top_helpful_reviews as h
            join reviews using (title_id, review_id)
            left join agg_title_summary as s using (title_id)
            qualify position <= $helpful_rows
        )
        select * from voted order by source, ranked_by desc, position
    """,
    "mismatches": """
        select
            m.read_order,
            m.title_id,
            coalesce(s.title, m.title_id) as title_name,
            m.review_title,
            m.author,
            m.review_date,
            m.rating,
            m.rating_scale,
            m.sentiment_score,
            m.mismatch,
            m.review_id
        from agg_rating_sentiment_mismatches as m
        left join agg_title_summary as s on s.title_id = m.title_id
        order by m.read_order
        limit $mismatch_rows
    """,
}

# What the report shows of each review it quotes, from `reviews`. Texts are stored ZSTD-compressed
# and in title order: a condition "title and id" per review (joined by `or`) reads only the blocks
# of those titles (0.045 s for 25 reviews of 1M), where IN lists or a join on the quoted ids
# decompress every text of the table (0.5-0.9 s), and one query per review costs 4-7 ms each.
_QUOTING = {
    "helpful": "author, review_title, review_date, rating, rating_scale, review_text",
    "mismatches": "source, review_text",
}
_QUOTED = "select title_id, review_id, {} from reviews where false"
_QUOTED_REVIEW = " or (title_id = ? and review_id = ?)"

_COUNTS = """
    select
        (select count(*) from agg_title_summary) as titles,
        (select count(*) from agg_title_summary where review_count > 0) as reviewed_titles,
        (select count(*) from agg_title_summary where review_count > 0 and rated_review_count = 0)
            as unrated_titles,
        (select count(*) from reviews) as reviews,
        (select count(*) from (select distinct source, file_path, row_number, line_number
                               from quarantine)) as quarantined
"""


def _read_report_data(published: Path, max_titles: int, *, generated_at: datetime) -> ReportData:
    """The frames the report shows, read from the published database opened read-only."""
    params = {
        "max_titles": max_titles,
        "trend_titles": TREND_TITLES,
        "helpful_rows": HELPFUL_ROWS,
        "mismatch_rows": MISMATCH_ROWS,
    }
    # Only the fixed queries above run here, so external access stays as it is: turning it off
    # would turn it off for every connection of this process to the file (DuckDB shares one
    # instance per file), such as the run's export, which writes its CSVs while this reads.
    with published_connection(published) as con:
        try:
            frames = {}
            con.execute(_TITLE_SOURCES)
            for name, sql in _QUERIES.items():
                used = {k: v for k, v in params.items() if f"${k}" in sql}
                frames[name] = con.sql(sql, params=used).pl()
            for name, columns in _QUOTING.items():
                keys = frames[name].select("title_id", "review_id").rows()
                quoted = con.sql(_QUOTED.format(columns) + _QUOTED_REVIEW * len(keys),
                                 params=[v for key in keys for v in key]).pl()
                frames[name] = frames[name].join(
                    quoted, on=["title_id", "review_id"], how="left", maintain_order="left"
                ).drop("review_id")
            counts_frame = con.sql(_COUNTS).pl()
        except duckdb.CatalogException as exc:
            raise ReviewpipeError(
                f"{published} lacks a table or column the report needs "
                f"({str(exc).splitlines()[0]}); it was published by another version of "
                "reviewpipe: run `reviewpipe run` to rebuild it"
            ) from exc
    counts = {k: int(v) for k, v in counts_frame.row(0, named=True).items()}
    return ReportData(
        generated_at=generated_at.replace(microsecond=0),
        counts=counts,
        max_titles=max_titles,
        **frames,
    )


# ---------------------------------------------------------------------------------------------
# Pure helpers: text for Plotly, excerpts, number formats.


def plotly_text(value: object) -> str:
    """value as text Plotly shows literally: its pseudo-HTML tags and `$…$` TeX neutralised."""
    text = "" if value is None else str(value)
    # Plotly decodes &lt; &gt; &amp; and numeric entities after it has looked for tags and TeX
    return html.escape(text, quote=False).replace("$", "&#36;")


def shorten(text: str, limit: int) -> str:
    """text on one line, cut to at most limit characters (at a space when one is near) plus "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def rating_class(rating: float, scale: int, minimum: float | None = None) -> str:
    """negative, middle or positive: README's rating classes, metrics.rating_class's rule (the lowest
    and highest two fifths from rating_min, default 1, 0 on thumbs, to the top)."""
    return rating_class_of(rating, scale, minimum)


def _number(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _rating(value: object) -> str:
    if value is None:
        return "–"
    f = float(value)  # type: ignore[arg-type]
    return f"{f:g}"


def _review_rating(review: dict[str, Any]) -> str:
    """A quoted review's rating as it reads: "4.5 / 5", or (un)recommended on a thumbs source."""
    rating, scale = review["rating"], review["rating_scale"]
    if rating is None:
        return "–"
    if scale == THUMBS_SCALE:
        return "recommended" if rating == 1 else "not recommended"
    return f"{_rating(rating)} / {scale}"


def _percent(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.1%}"  # type: ignore[arg-type]


def _scale_label(scale: int) -> str:
    return "thumbs up/down" if scale == THUMBS_SCALE else f"ratings out of {scale}"


# ---------------------------------------------------------------------------------------------
# Pure chart builders: frames in, figures out.


# A figure as plotly.js takes it, {"data": [trace, ...], "layout": {...}}: built as plain dicts,
# as plotly.graph_objects validates every assignment (a report's histograms took 0.6 s that way);
# tests/test_report.py validates each one with go.Figure.
Figure = dict[str, Any]


def _base_layout(height: int) -> dict[str, Any]:
    return {
        "template": _template(),
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 40},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        # at the very top of the figure, above any subplot titles
        "legend": {"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0},
        "hoverlabel": {"align": "left"},
    }


@cache
def _template() -> dict[str, Any]:
    return pio.templates["plotly_white"].to_plotly_json()


def _panels(rows: int, cols: int, titles: list[str], *, horizontal_spacing: float,
            vertical_spacing: float) -> dict[str, Any]:
    """The layout of a grid of rows x cols panels titled in reading order, laid out as
    make_subplots lays them out (axes x, y; x2, y2; ...; a title centred above each panel):
    make_subplots itself took 0.16 s a grid, seconds for a report of several sources."""
    width = (1 - horizontal_spacing * (cols - 1)) / cols
    height = (1 - vertical_spacing * (rows - 1)) / rows
    layout: dict[str, Any] = {"annotations": []}
    for i in range(rows * cols):
        row, col = divmod(i, cols)
        k = "" if i == 0 else str(i + 1)
        left = col * (width + horizontal_spacing)
        top = 1 - row * (height + vertical_spacing)
        layout[f"xaxis{k}"] = {"anchor": f"y{k}", "domain": [left, min(1.0, left + width)]}
        layout[f"yaxis{k}"] = {"anchor": f"x{k}", "domain": [max(0.0, top - height), top]}
        if i < len(titles):
            layout["annotations"].append({
                "text": titles[i], "x": left + width / 2, "y": top, "xref": "paper",
                "yref": "paper", "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                "font": {"size": 16},
            })
    return layout


def _axes(layout: dict[str, Any], letter: str) -> list[dict[str, Any]]:
    """Every x (letter "x") or y axis of a layout, in subplot order."""
    axes = [(int(k[5:] or 1), v) for k, v in layout.items() if k.startswith(f"{letter}axis")]
    return [axis for _, axis in sorted(axes, key=lambda kv: kv[0])]


def _on(trace: dict[str, Any], k: int) -> dict[str, Any]:
    """trace drawn on the k-th subplot's axes (1 is the first)."""
    suffix = "" if k == 1 else str(k)
    return {**trace, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def _board_labels(board: pl.DataFrame) -> list[str]:
    # a rank prefix keeps two titles of the same name apart on a category axis
    return [
        plotly_text(f"{p}. {shorten(str(t), 48)}")
        for p, t in zip(board["position"], board["title_name"], strict=True)
    ]


@dataclass(frozen=True)
class Scale:
    """A group's rating scale: its kind ('stars' or 'thumbs'), lowest point, step and top point."""

    kind: str
    low: float
    step: float
    top: float

    @property
    def is_thumbs(self) -> bool:
        return self.kind == "thumbs"

    def heading(self) -> str:
        """The scale in words, as a group's heading names it."""
        if self.is_thumbs:
            return "thumbs up/down, as % recommended"
        if self.low == 1 and self.step == 1:
            return f"{self.top:g}-point scale"
        return f"ratings {self.low:g}–{self.top:g} in steps of {self.step:g}"


def scale_of(board: pl.DataFrame) -> Scale:
    """The one rating scale of a group's rows (a group never mixes scales or kinds)."""
    keys = board.select("rating_kind", "rating_min", "rating_step", "rating_scale").unique()
    if keys.height != 1:
        raise ValueError(f"a group holds {keys.height} rating scales: {keys.rows()}")
    kind, low, step, top = keys.row(0)
    return Scale(kind=kind, low=float(low), step=float(step), top=float(top))


def _error_bars(value: list, low: list, high: list) -> dict[str, Any]:
    return {
        "type": "data", "symmetric": False, "color": "#95a5a6", "thickness": 1.5,
        "array": [None if h is None or v is None else h - v for h, v in zip(high, value, strict=True)],
        "arrayminus": [None if lo is None or v is None else v - lo
                       for lo, v in zip(low, value, strict=True)],
    }


def leaderboard_figure(board: pl.DataFrame) -> Figure:
    """One group's leaderboard titles, best first: weighted, Bayesian and mean rating with its 95%
    CI; for thumbs, the share recommended with its 95% Wilson interval and the weighted share."""
    scale = scale_of(board)
    board = board.sort("position")
    labels = _board_labels(board)
    names = [plotly_text(t) for t in board["title_name"]]
    custom = list(zip(names, board["rated_review_count"].to_list(), strict=True))
    weighted = {
        "type": "scatter", "x": board["weighted_rating"].to_list(), "y": labels,
        "mode": "markers", "name": "weighted rating",
        "marker": {"symbol": "diamond", "color": "#2471a3", "size": 10}, "customdata": custom,
        "hovertemplate": "%{customdata[0]}<br>weighted %{x:.3f}<extra></extra>",
    }
    if scale.is_thumbs:
        share = board["recommended_share"].to_list()
        data = [
            {
                "type": "scatter", "x": share, "y": labels, "mode": "markers",
                "name": "% recommended, 95% Wilson interval", "marker": {"color": "#7f8c8d", "size": 7},
                "error_x": _error_bars(share, board["recommended_share_low"].to_list(),
                                       board["recommended_share_high"].to_list()),
                "customdata": custom,
                "hovertemplate": "%{customdata[0]}<br>%{x:.1%} of %{customdata[1]} recommend it"
                                 "<extra></extra>",
            },
            weighted | {"name": "weighted % recommended",
                        "hovertemplate": "%{customdata[0]}<br>weighted %{x:.1%}<extra></extra>"},
        ]
        xaxis = {"range": [-0.02, 1.02], "tickformat": ".0%", "title": {"text": "% recommended"}}
    else:
        mean = board["rating_mean"].to_list()
        data = [
            {
                "type": "scatter", "x": mean, "y": labels, "mode": "markers",
                "name": "mean rating, 95% CI", "marker": {"color": "#7f8c8d", "size": 7},
                "error_x": _error_bars(mean, board["rating_ci_low"].to_list(),
                                       board["rating_ci_high"].to_list()),
                "customdata": custom,
                "hovertemplate": "%{customdata[0]}<br>mean %{x:.2f} of %{customdata[1]} ratings"
                                 "<extra></extra>",
            },
            {
                "type": "scatter", "x": board["bayesian_rating"].to_list(), "y": labels,
                "mode": "markers", "name": "Bayesian rating",
                "marker": {"symbol": "square", "color": "#8e44ad", "size": 7}, "customdata": custom,
                "hovertemplate": "%{customdata[0]}<br>Bayesian %{x:.2f}<extra></extra>",
            },
            weighted,
        ]
        # dots need no zero line: zoom to the values so close titles can be told apart
        shown = [v for col in ("rating_ci_low", "bayesian_rating", "weighted_rating", "rating_mean")
                 for v in board[col].to_list() if v is not None]
        low_end = max(scale.low, math.floor((min(shown, default=scale.low) - 0.1) * 2) / 2)
        margin = 0.01 * (scale.top - scale.low)
        xaxis = {"range": [low_end - margin, scale.top + margin],
                 "title": {"text": f"rating ({scale.low:g}–{scale.top:g})"}}
    layout = _base_layout(100 + 24 * board.height) | {
        "yaxis": {"range": [board.height - 0.5, -0.5], "type": "category", "automargin": True},
        "xaxis": xaxis,
    }
    return {"data": data, "layout": layout}


def _bin_sizes() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, ...: points per histogram bar, the smallest that fits MAX_BARS."""
    for power in itertools.count():
        for m in (1, 2, 5):
            yield m * 10**power


def histogram_bins(distribution: pl.DataFrame, scale: Scale) -> pl.DataFrame:
    """Per title of distribution and bar of its scale: the bar's label, lowest point, reviews and
    share; a bar per point of the scale, or per 2, 5, 10, ... points when it has over MAX_BARS."""
    points = round((scale.top - scale.low) / scale.step) + 1
    per_bin = next(k for k in _bin_sizes() if math.ceil(points / k) <= MAX_BARS)
    bins = math.ceil(points / per_bin)
    # decimals enough for the step: 0.1 * 3 is 0.30000000000000004 in floating point
    digits = max(0, -math.floor(math.log10(scale.step))) + 1
    lows = [round(scale.low + b * per_bin * scale.step, digits) for b in range(bins)]
    highs = [round(min(lo + (per_bin - 1) * scale.step, scale.top), digits) for lo in lows]
    labels = [f"{lo:g}" if hi == lo else f"{lo:g}–{hi:g}" for lo, hi in zip(lows, highs, strict=True)]
    axis = pl.DataFrame({"bin": range(bins), "label": labels, "bin_low": lows},
                        schema={"bin": pl.Int64, "label": pl.String, "bin_low": pl.Float64})
    counted = (
        distribution.with_columns(
            bin=((pl.col("rating") - scale.low) / scale.step).round().cast(pl.Int64) // per_bin)
        .group_by("title_id", "bin")
        .agg(pl.col("review_count").sum(), pl.col("share").sum())
    )
    # every bar of the scale for every title, 0 where no review has a rating in it
    return (
        distribution.select("title_id").unique().join(axis, how="cross")
        .join(counted, on=["title_id", "bin"], how="left")
        .with_columns(pl.col("review_count").fill_null(0), pl.col("share").fill_null(0.0))
        .sort("title_id", "bin")
    )


def histogram_figure(board: pl.DataFrame, distribution: pl.DataFrame) -> Figure:
    """Small multiples: each of one group's leaderboard titles' share of ratings per point of its
    scale (or per bar of points), one panel per title."""
    scale = scale_of(board)
    board = board.sort("position")
    n = board.height
    # a fixed number of columns keeps every panel the same size, however few titles there are
    columns = HISTOGRAM_COLUMNS
    rows = max(1, math.ceil(n / columns))
    titles = [plotly_text(f"{p}. {shorten(str(t), 30)}")
              for p, t in zip(board["position"], board["title_name"], strict=True)]
    layout = _panels(
        rows, columns, titles,
        # about 45 px between rows of 170 px, however many rows (make_subplots needs < 1/(rows-1))
        horizontal_spacing=0.03, vertical_spacing=45 / (170 * rows),
    )
    bars = histogram_bins(distribution.filter(pl.col("title_id").is_in(board["title_id"].implode())),
                          scale)
    by_title = {key[0]: part for key, part in bars.partition_by(
        "title_id", as_dict=True, maintain_order=True).items()} if bars.height else {}
    top = 0.0
    data = []
    for i, title_id in enumerate(board["title_id"]):
        part = by_title.get(title_id)
        if part is None:
            continue
        shares = part["share"].to_list()
        top = max(top, *shares)
        data.append(_on({
            "type": "bar", "x": part["label"].to_list(), "y": shares, "showlegend": False,
            "marker": {"color": [COLOURS[rating_class(r, int(scale.top), scale.low)]
                                  for r in part["bin_low"]]},
            "customdata": part["review_count"].to_list(),
            "hovertemplate": "rating %{x}: %{customdata} reviews (%{y:.1%})<extra></extra>",
        }, i + 1))
    base = _base_layout(60 + 170 * rows)
    layout |= base | {"margin": base["margin"] | {"t": 50}, "bargap": 0.1}
    for note in layout.get("annotations", []):
        note["font"] = {**note.get("font", {}), "size": 11}
    for axis in _axes(layout, "x"):
        # bars on a category axis: every step of the scale keeps its place, labelled as it reads
        axis |= {"tickfont": {"size": 9}, "type": "category"}
    for axis in _axes(layout, "y"):
        axis |= {"range": [0, max(top, 0.01) * 1.05], "tickformat": ".0%", "tickfont": {"size": 9}}
    return {"data": data, "layout": layout}


def sentiment_figure(stats: pl.DataFrame) -> Figure:
    """Per source and rating point: spread (5th–95th percentile box) and mean of sentiment_score."""
    groups = stats.select("source", "rating_scale").unique().sort(
        "source", "rating_scale", descending=[False, True])
    n = groups.height
    columns = min(n, SENTIMENT_COLUMNS)
    rows = math.ceil(n / columns)
    titles = [plotly_text(f"{source}: {_scale_label(scale)}") for source, scale in groups.iter_rows()]
    thumbs = [scale == THUMBS_SCALE for _, scale in groups.iter_rows()]
    # about 100 px between rows of 300 px: an axis title, then the next row's panel titles
    layout = _panels(rows, columns, titles, horizontal_spacing=0.06,
                     vertical_spacing=100 / (300 * rows))
    data = []
    for k, (source, scale) in enumerate(groups.iter_rows(), start=1):
        part = stats.filter((pl.col("source") == source) & (pl.col("rating_scale") == scale)).sort("rating")
        x = part["rating"].to_list()
        data.append(_on({
            "type": "box", "x": x, "q1": part["q1"].to_list(), "median": part["median"].to_list(),
            "q3": part["q3"].to_list(), "lowerfence": part["p05"].to_list(),
            "upperfence": part["p95"].to_list(),
            "name": "middle half; whiskers 5th–95th percentile", "legendgroup": "box",
            "showlegend": k == 1, "marker": {"color": "#2471a3"}, "boxpoints": False,
            "hoverinfo": "x+y",
        }, k))
        data.append(_on({
            "type": "scatter", "x": x, "y": part["sentiment_mean"].to_list(),
            "mode": "lines+markers", "name": "mean", "legendgroup": "mean", "showlegend": k == 1,
            "line": {"color": "#e67e22"}, "customdata": part["reviews"].to_list(),
            "hovertemplate": "rating %{x}: mean %{y:.3f} over %{customdata:,} reviews<extra></extra>",
        }, k))
    # the whole scale (from 0 or 1, as the lowest rating given says), not just the points given
    lows = stats.group_by("source", "rating_scale").agg(low=pl.col("rating").min().clip(upper_bound=1))
    lows = {(source, scale): low for source, scale, low in lows.iter_rows()}
    for axis, (source, scale), is_thumbs in zip(_axes(layout, "x"), groups.iter_rows(), thumbs,
                                                strict=False):
        axis |= {"title": {"text": "rating"}, "range": [lows[(source, scale)] - 0.5, scale + 0.5]}
        if is_thumbs:
            axis |= {"tickvals": [0, 1], "ticktext": ["not recommended", "recommended"]}
    for axis in _axes(layout, "y"):
        axis |= {"range": [-1.05, 1.05], "zeroline": True}
    layout["yaxis"]["title"] = {"text": "sentiment_score"}
    base = _base_layout(80 + 300 * rows)
    layout |= base | {"margin": base["margin"] | {"t": 80}}
    return {"data": data, "layout": layout}


def smoothed_trends(monthly: pl.DataFrame) -> pl.DataFrame:
    """Per source, title and month of its lines: the month's reviews and the mean rating and mean
    sentiment of the TREND_WINDOW_MONTHS months up to it, null where those hold fewer than
    MIN_TREND_REVIEWS rated (scored) reviews.

    The months are the reviewed ones and the TREND_WINDOW_MONTHS after each (up to the source's last
    month): every month whose window holds a review, and one after, whose null ends the line. A
    title reviewed in 0001 and in 9999 (staging keeps those dates) is a few points, not 120,000 per
    line (a report of 6 such titles was 40 MB and took a minute to draw).
    """
    key = ["source", "title_id"]
    last = pl.col("month").max().over("source")
    grid = pl.concat([
        monthly.select(*key, pl.col("month").dt.offset_by(f"{k}mo"), last.alias("last"))
        for k in range(TREND_WINDOW_MONTHS + 1)
    ]).filter(pl.col("month") <= pl.col("last")).drop("last").unique()
    window = f"{TREND_WINDOW_MONTHS}mo"  # a window by dates: months without reviews count as such

    def rolling(column: str) -> pl.Expr:
        return pl.col(column).rolling_sum_by("month", window_size=window).over(key)

    def mean(total: str, count: str) -> pl.Expr:
        return pl.when(rolling(count) >= MIN_TREND_REVIEWS).then(rolling(total) / rolling(count))

    sums = TREND_SUMS
    return (
        grid.join(monthly.select(*key, "month", *sums), on=[*key, "month"], how="left")
        .with_columns(pl.col(sums).fill_null(0))
        .sort(*key, "month")
        .select(
            *key, "month", "review_count",
            rated_in_window=rolling("rated_review_count"),
            rating_mean=mean("rating_sum", "rated_review_count"),
            scored_in_window=rolling("scored_review_count"),
            sentiment_mean=mean("sentiment_sum", "scored_review_count"),
        )
    )


def totals_figure(totals: pl.DataFrame) -> Figure:
    """Dated reviews per month, stacked by source."""
    palette = ["#2471a3", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#b7950b", "#7f8c8d"]
    data = [
        {
            "type": "bar", "x": part["month"].to_list(), "y": part["review_count"].to_list(),
            "name": plotly_text(source), "marker": {"color": palette[i % len(palette)]},
            "hovertemplate": "%{x|%b %Y}: %{y:,} reviews", "width": MONTH_MS,
        }
        for i, ((source,), part) in enumerate(totals.partition_by(
            "source", as_dict=True, maintain_order=True).items())
    ]
    layout = _base_layout(260) | {
        "barmode": "stack", "bargap": 0,
        "yaxis": {"title": {"text": "reviews per month"}}, "xaxis": {"type": "date"},
    }
    layout["margin"] = layout["margin"] | {"t": 30}
    return {"data": data, "layout": layout}


def trends_figure(monthly: pl.DataFrame, scale: Scale, totals: pl.DataFrame | None = None) -> Figure:
    """Small multiples of one source's trend titles: a row per title (first, when totals are given,
    a row of all the source's reviews), with its reviews per month and its 3-month rolling mean
    rating and sentiment (drawn where the window holds enough reviews)."""
    sums = TREND_SUMS
    parts = [monthly.select("source", "title_id", "title_name", "month", *sums)]
    if totals is not None and totals.height:
        # "" is no title's id (staging refuses a blank key)
        parts.insert(0, totals.select("source", pl.lit("").alias("title_id"),
                                     pl.lit("all titles").alias("title_name"), "month", *sums))
    monthly = pl.concat(parts)
    titles = monthly.select("title_id", "title_name").unique(maintain_order=True)
    lines = smoothed_trends(monthly)
    rating_name = "% recommended" if scale.is_thumbs else "mean rating"
    window = f"{TREND_WINDOW_MONTHS}-month rolling"
    drawn = lines.group_by("title_id").agg(
        rating=pl.col("rating_mean").is_not_null().any(),
        sentiment=pl.col("sentiment_mean").is_not_null().any())
    drawn = dict(zip(drawn["title_id"], drawn.select("rating", "sentiment").rows(), strict=True))
    # an empty panel says why, rather than look like a drawing that failed
    too_few = f" (no {TREND_WINDOW_MONTHS} months with {MIN_TREND_REVIEWS}+)"
    panel_titles = [
        text
        for title_id, name in titles.iter_rows()
        for text in (plotly_text(shorten(str(name), 40)) + ": reviews per month",
                     f"{rating_name}, {window}" + ("" if drawn[title_id][0] else too_few),
                     f"mean sentiment_score, {window}" + ("" if drawn[title_id][1] else too_few))
    ]
    rows = titles.height
    layout = _panels(rows, 3, panel_titles, horizontal_spacing=0.05,
                     vertical_spacing=50 / (160 * rows))
    first: date = monthly["month"].min()  # type: ignore[assignment]
    last: date = monthly["month"].max()  # type: ignore[assignment]
    data = []
    for row, title_id in enumerate(titles["title_id"]):
        part = lines.filter(pl.col("title_id") == title_id)
        x = part["month"].to_list()
        k = 3 * row + 1
        data.append(_on({
            "type": "bar", "x": x, "y": part["review_count"].to_list(), "showlegend": False,
            "marker": {"color": "#95a5a6"}, "hovertemplate": "%{x|%b %Y}: %{y:,} reviews<extra></extra>",
            # a month wide whatever the axis spans (bars on a date axis are as wide as the gap
            # between their nearest dates, a sliver for a title reviewed in one month)
            "width": MONTH_MS,
        }, k))
        # markers too: a month between two gaps is a single point, which a line alone would not draw
        common = {"type": "scatter", "mode": "lines+markers", "x": x, "showlegend": False,
                  "marker": {"size": 3}, "line": {"width": 1.5}}
        rating_format = ".1%" if scale.is_thumbs else ".2f"
        data.append(_on(common | {
            "y": part["rating_mean"].to_list(), "line": {"width": 1.5, "color": "#2471a3"},
            "customdata": part["rated_in_window"].to_list(),
            "hovertemplate": f"3 months to %{{x|%b %Y}}: {rating_name} %{{y:{rating_format}}} "
                             "of %{customdata:,} rated reviews<extra></extra>",
        }, k + 1))
        data.append(_on(common | {
            "y": part["sentiment_mean"].to_list(), "line": {"width": 1.5, "color": "#e67e22"},
            "customdata": part["scored_in_window"].to_list(),
            "hovertemplate": "3 months to %{x|%b %Y}: mean sentiment %{y:.3f} "
                             "of %{customdata:,} texts<extra></extra>",
        }, k + 2))
    # at least a year wide: the months of a source reviewed in one month are bars, not slivers
    pad = timedelta(days=max(16, (365 - (last - first).days) // 2))
    # within the days a date holds: reviews of 0001-01 or 9999-12 are kept (staging's window)
    span = [(first - min(pad, first - date.min)).isoformat(), (last + min(pad, date.max - last)).isoformat()]
    for axis in _axes(layout, "x"):
        axis |= {"type": "date", "range": span, "tickfont": {"size": 9}}
    rating_axis = ({"range": [-0.02, 1.02], "tickformat": ".0%"} if scale.is_thumbs
                   else {"range": [scale.low - 0.02 * (scale.top - scale.low),
                                   scale.top + 0.02 * (scale.top - scale.low)]})
    for i, axis in enumerate(_axes(layout, "y")):
        axis |= {"tickfont": {"size": 9}}
        if i % 3 == 1:
            axis |= rating_axis
        elif i % 3 == 2:
            axis |= {"range": [-1.05, 1.05], "zeroline": True}
    for note in layout.get("annotations", []):
        note["font"] = {**note.get("font", {}), "size": 11}
    base = _base_layout(40 + 160 * rows)
    layout |= base | {"margin": base["margin"] | {"t": 40}, "bargap": 0}
    return {"data": data, "layout": layout}


# ---------------------------------------------------------------------------------------------
# The page.


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
    env.filters["number"] = _number
    env.filters["rating"] = _rating
    env.filters["percent"] = _percent
    env.filters["review_rating"] = _review_rating
    env.filters["excerpt"] = lambda text: shorten(text or "", EXCERPT_CHARS)
    return env


def _groups(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """frame's rows split by GROUP_KEY (source, then scale), in the order of their first rows."""
    if not frame.height:
        return []
    return list(frame.partition_by(GROUP_KEY, maintain_order=True))


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
                       "rows": board.to_dicts(), "chart": lead.div_id,
                       "histograms": hist.div_id if hist else None})
    sentiment_chart = totals_chart = None
    if data.sentiment_by_rating.height:
        sentiment_chart = Chart("chart-sentiment", sentiment_figure(data.sentiment_by_rating))
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
        chart = Chart(f"chart-trends-{i}", trends_figure(group, scale, totals))
        charts.append(chart)
        trends.append({"source": group["source"][0], "heading": scale.heading(),
                       "chart": chart.div_id})
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
        mismatches=data.mismatches.to_dicts(),
        trend_titles=TREND_TITLES,
        trend_window=TREND_WINDOW_MONTHS,
        min_trend_reviews=MIN_TREND_REVIEWS,
        max_bars=MAX_BARS,
        csp=csp,
        plotly_js=markupsafe.Markup(plotly_js),
        mount_script=markupsafe.Markup(mount),
    )
