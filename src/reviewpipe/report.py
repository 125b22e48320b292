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
import json
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import markupsafe
import plotly.io as pio
import plotly.offline
import polars as pl
from plotly.subplots import make_subplots

from reviewpipe.errors import ReviewpipeError
from reviewpipe.metrics import rating_class_of
from reviewpipe.publish import published_connection

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Rows of the two review tables; the page shows excerpts of this many characters.
HELPFUL_ROWS = 25
MISMATCH_ROWS = 25
EXCERPT_CHARS = 300
# Titles drawn in the monthly trends (by dated reviews); more lines stop being readable.
TREND_TITLES = 6
# Histogram small multiples per row.
HISTOGRAM_COLUMNS = 5
# Rating classes as README's "How the measures are computed" defines them, for bar colours.
COLOURS = {"negative": "#c0392b", "middle": "#95a5a6", "positive": "#27ae60"}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
NO_SOURCE = "'none'"


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
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(page)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(tmp)  # a write through the descriptor (a full disk) names no file
        raise
    return out


# ---------------------------------------------------------------------------------------------
# Reading: the only part that touches DuckDB (called by write_report).

# Titles with rated reviews, ranked within their rating scale: weighted ratings are only comparable
# on one scale (C and m are computed per scale), so each scale gets its own leaderboard.
_RANKED = """
    ranked as (
        select
            title_id,
            coalesce(title, title_id) as title_name,
            title is not null as has_title,
            rating_scale,
            review_count,
            rated_review_count,
            rating_mean,
            weighted_rating,
            bayesian_rating,
            rating_ci_low,
            rating_ci_high,
            sentiment_mean,
            is_polarized,
            row_number() over (
                partition by rating_scale order by weighted_rating desc nulls last, title_id
            ) as position
        from agg_title_summary
        where rated_review_count > 0 and rating_scale is not null
    ),
    board as (
        select * from ranked where position <= $max_titles
    )
"""

_QUERIES = {
    "leaderboard": f"with {_RANKED} select * from board order by rating_scale desc, position",
    "distribution": f"""
        with {_RANKED}
        select d.title_id, d.rating, d.review_count, d.share, d.rating_scale
        from agg_rating_distribution as d
        where d.title_id in (select title_id from board)
        order by d.title_id, d.rating
    """,
    # sentiment_score per rating point: box statistics computed here, so no review rows are embedded
    "sentiment_by_rating": """
        select
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
        group by rating_scale, rating
        order by rating_scale desc, rating
    """,
    "monthly": """
        with top as (
            select title_id, sum(review_count) as dated_reviews
            from agg_monthly_trends
            group by title_id
            order by dated_reviews desc, title_id
            limit $trend_titles
        )
        select
            m.title_id,
            coalesce(s.title, m.title_id) as title_name,
            s.rating_scale,
            top.dated_reviews,
            m.month,
            m.review_count,
            m.rating_mean,
            m.sentiment_mean
        from agg_monthly_trends as m
        join top using (title_id)
        left join agg_title_summary as s using (title_id)
        order by top.dated_reviews desc, m.title_id, m.month
    """,
    "monthly_totals": """
        select month, sum(review_count) as review_count
        from agg_monthly_trends
        group by month
        order by month
    """,
    "helpful": """
        select
            h.title_id,
            coalesce(s.title, h.title_id) as title_name,
            h.helpful_votes,
            h.total_votes,
            h.helpful_wilson_lb,
            h.review_id
        from agg_top_helpful_reviews as h
        left join agg_title_summary as s on s.title_id = h.title_id
        order by h.helpful_wilson_lb desc, h.helpful_votes desc, h.total_votes desc, h.review_id
        limit $helpful_rows
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
    "mismatches": "review_text",
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


def _scale_label(scale: int) -> str:
    return f"ratings out of {scale}"


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


def _grid(rows: int, cols: int, **options: Any) -> dict[str, Any]:
    """The layout of a grid of subplots (their axes, domains and title annotations)."""
    return make_subplots(rows=rows, cols=cols, **options).to_plotly_json()["layout"]


def _panels(rows: int, cols: int, titles: list[str], *, horizontal_spacing: float,
            vertical_spacing: float) -> dict[str, Any]:
    """The layout of a grid of rows x cols titled panels, as make_subplots lays it out, made from a
    one-row grid (the columns' x domains and title positions) and a one-column grid (the rows'):
    make_subplots took 0.12-0.23 s for the 50 panels of a report's histograms, these two 0.03 s."""
    across = _grid(1, cols, subplot_titles=[" "] * cols, horizontal_spacing=horizontal_spacing)
    down = _grid(rows, 1, subplot_titles=[" "] * rows, vertical_spacing=vertical_spacing)
    def suffix(n: int) -> str:  # the n-th subplot's axes: x, y; x2, y2; ...
        return "" if n == 1 else str(n)

    layout: dict[str, Any] = {"annotations": []}
    for i in range(rows * cols):
        row, col = divmod(i, cols)
        k = suffix(i + 1)
        layout[f"xaxis{k}"] = {"anchor": f"y{k}", "domain": across[f"xaxis{suffix(col + 1)}"]["domain"]}
        layout[f"yaxis{k}"] = {"anchor": f"x{k}", "domain": down[f"yaxis{suffix(row + 1)}"]["domain"]}
        if i < len(titles):
            layout["annotations"].append({**across["annotations"][col], "text": titles[i],
                                          "y": down["annotations"][row]["y"]})
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


def leaderboard_figure(board: pl.DataFrame, scale: int) -> Figure:
    """Weighted, Bayesian and mean rating (95% CI) of one scale's leaderboard titles, best first."""
    board = board.filter(pl.col("rating_scale") == scale).sort("position")
    labels = _board_labels(board)
    mean = board["rating_mean"].to_list()
    low = board["rating_ci_low"].to_list()
    high = board["rating_ci_high"].to_list()
    names = [plotly_text(t) for t in board["title_name"]]
    custom = list(zip(names, board["rated_review_count"].to_list(), strict=True))
    data = [
        {
            "type": "scatter", "x": mean, "y": labels, "mode": "markers",
            "name": "mean rating, 95% CI", "marker": {"color": "#7f8c8d", "size": 7},
            "error_x": {
                "type": "data", "symmetric": False, "color": "#95a5a6", "thickness": 1.5,
                "array": [None if h is None or m is None else h - m
                          for h, m in zip(high, mean, strict=True)],
                "arrayminus": [None if lo is None or m is None else m - lo
                               for lo, m in zip(low, mean, strict=True)],
            },
            "customdata": custom,
            "hovertemplate": "%{customdata[0]}<br>mean %{x:.2f} of %{customdata[1]} ratings<extra></extra>",
        },
        {
            "type": "scatter", "x": board["bayesian_rating"].to_list(), "y": labels,
            "mode": "markers", "name": "Bayesian rating",
            "marker": {"symbol": "square", "color": "#8e44ad", "size": 7}, "customdata": custom,
            "hovertemplate": "%{customdata[0]}<br>Bayesian %{x:.2f}<extra></extra>",
        },
        {
            "type": "scatter", "x": board["weighted_rating"].to_list(), "y": labels,
            "mode": "markers", "name": "weighted rating",
            "marker": {"symbol": "diamond", "color": "#2471a3", "size": 10}, "customdata": custom,
            "hovertemplate": "%{customdata[0]}<br>weighted %{x:.3f}<extra></extra>",
        },
    ]
    # dots need no zero line: zoom to the values so close titles can be told apart
    shown = [v for col in ("rating_ci_low", "bayesian_rating", "weighted_rating", "rating_mean")
             for v in board[col].to_list() if v is not None]
    low_end = max(1.0, math.floor((min(shown, default=1.0) - 0.1) * 2) / 2)
    layout = _base_layout(100 + 24 * board.height) | {
        "yaxis": {"range": [board.height - 0.5, -0.5], "type": "category", "automargin": True},
        "xaxis": {"range": [low_end - 0.05, scale + 0.05], "title": {"text": f"rating (1–{scale})"}},
    }
    return {"data": data, "layout": layout}


def histogram_figure(board: pl.DataFrame, distribution: pl.DataFrame, scale: int) -> Figure:
    """Small multiples: each leaderboard title's share of ratings per point, one panel per title."""
    board = board.filter(pl.col("rating_scale") == scale).sort("position")
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
    by_title = {key[0]: part for key, part in distribution.partition_by(
        "title_id", as_dict=True, maintain_order=True).items()} if distribution.height else {}
    top = 0.0
    data = []
    for i, title_id in enumerate(board["title_id"]):
        part = by_title.get(title_id)
        if part is None:
            continue
        part = part.sort("rating")
        ratings = part["rating"].to_list()
        shares = part["share"].to_list()
        top = max([top, *(s for s in shares if s is not None)])
        data.append(_on({
            "type": "bar", "x": ratings, "y": shares, "showlegend": False,
            "marker": {"color": [COLOURS[rating_class(r, scale)] for r in ratings]},
            "customdata": part["review_count"].to_list(),
            "hovertemplate": "rating %{x}: %{customdata} reviews (%{y:.1%})<extra></extra>",
        }, i + 1))
    base = _base_layout(60 + 170 * rows)
    layout |= base | {"margin": base["margin"] | {"t": 50}, "bargap": 0.1}
    for note in layout.get("annotations", []):
        note["font"] = {**note.get("font", {}), "size": 11}
    for axis in _axes(layout, "x"):
        axis |= {"tickfont": {"size": 9}, "range": [0.5, scale + 0.5]}
        if scale <= 10:
            axis["dtick"] = 1
    for axis in _axes(layout, "y"):
        axis |= {"range": [0, max(top, 0.01) * 1.05], "tickformat": ".0%", "tickfont": {"size": 9}}
    return {"data": data, "layout": layout}


def sentiment_figure(stats: pl.DataFrame) -> Figure:
    """Per rating scale and point: spread (5th–95th percentile box) and mean of sentiment_score."""
    scales = sorted(set(stats["rating_scale"].to_list()), reverse=True)
    layout = _grid(1, len(scales), subplot_titles=[_scale_label(s) for s in scales],
                   shared_yaxes=True, horizontal_spacing=0.06)
    data = []
    for col, scale in enumerate(scales, start=1):
        part = stats.filter(pl.col("rating_scale") == scale).sort("rating")
        x = part["rating"].to_list()
        data.append(_on({
            "type": "box", "x": x, "q1": part["q1"].to_list(), "median": part["median"].to_list(),
            "q3": part["q3"].to_list(), "lowerfence": part["p05"].to_list(),
            "upperfence": part["p95"].to_list(),
            "name": "middle half; whiskers 5th–95th percentile", "legendgroup": "box",
            "showlegend": col == 1, "marker": {"color": "#2471a3"}, "boxpoints": False,
            "hoverinfo": "x+y",
        }, col))
        data.append(_on({
            "type": "scatter", "x": x, "y": part["sentiment_mean"].to_list(),
            "mode": "lines+markers", "name": "mean", "legendgroup": "mean", "showlegend": col == 1,
            "line": {"color": "#e67e22"}, "customdata": part["reviews"].to_list(),
            "hovertemplate": "rating %{x}: mean %{y:.3f} over %{customdata:,} reviews<extra></extra>",
        }, col))
    for axis in _axes(layout, "x"):
        axis |= {"dtick": 1, "title": {"text": "rating"}}
    for axis in _axes(layout, "y"):
        axis |= {"range": [-1.05, 1.05], "zeroline": True}
    layout["yaxis"]["title"] = {"text": "sentiment_score"}
    base = _base_layout(440)
    layout |= base | {"margin": base["margin"] | {"t": 80}}
    return {"data": data, "layout": layout}


def _months_drawn(reviewed: pl.Series, first: date, last: date) -> pl.Series:
    """The months of a title's trend lines, sorted: its reviewed months, the months either side of
    them and the chart's first and last month (each of first..last that holds no review is 0 reviews).

    The lines through these points are the lines through every month of first..last, but a title
    reviewed in 0001 and in 9999 (staging keeps those dates) is a few points, not 120,000 per line
    (a report of 6 such titles was 40 MB and took a minute to draw).
    """
    months = pl.concat([reviewed, reviewed.dt.offset_by("1mo"), reviewed.dt.offset_by("-1mo"),
                        pl.Series([first, last], dtype=pl.Date)]).unique()
    return months.filter(months.is_between(first, last)).sort()


def trends_figure(monthly: pl.DataFrame, totals: pl.DataFrame) -> Figure:
    """Reviews, mean rating and mean sentiment per month of the titles with most dated reviews."""
    layout = _grid(
        3, 1, shared_xaxes=True, vertical_spacing=0.06,
        subplot_titles=["reviews per month", "mean rating (on the title's own scale)",
                        "mean sentiment_score"],
    )
    data = []
    if totals.height:
        data.append(_on({
            "type": "bar", "x": totals["month"].to_list(), "y": totals["review_count"].to_list(),
            "name": "all titles", "marker": {"color": "#d5d8dc"},
            "hovertemplate": "%{x|%b %Y}: %{y:,} reviews<extra>all titles</extra>",
        }, 1))
    palette = ["#2471a3", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#b7950b", "#7f8c8d"]
    titles = monthly.select("title_id", "title_name", "rating_scale").unique(maintain_order=True)
    months_seen = pl.concat([totals["month"], monthly["month"]])
    first: date = months_seen.min()  # type: ignore[assignment]
    last: date = months_seen.max()  # type: ignore[assignment]
    for i, (title_id, name, scale) in enumerate(titles.iter_rows()):
        colour = palette[i % len(palette)]
        label = plotly_text(shorten(str(name), 40) + (f" (/{scale})" if scale else ""))
        part = monthly.filter(pl.col("title_id") == title_id).select(
            "month", "review_count", "rating_mean", "sentiment_mean")
        # months without reviews are missing from the table: counts 0 there, means a gap
        months = pl.DataFrame({"month": _months_drawn(part["month"], first, last)})
        part = months.join(part, on="month", how="left").with_columns(
            pl.col("review_count").fill_null(0))
        x = part["month"].to_list()
        # no <extra> in the hover templates: Plotly shows the trace name there, and a title never
        # becomes part of a template (where "%{…}" in it would be substituted)
        # markers too: a month between two gaps is a single point, which a line alone would not draw
        common = {"type": "scatter", "mode": "lines+markers", "x": x, "legendgroup": title_id,
                  "line": {"color": colour, "width": 1.5}, "name": label, "marker": {"size": 3}}
        data.append(_on({**common, "y": part["review_count"].to_list(),
                         "hovertemplate": "%{x|%b %Y}: %{y:,} reviews"}, 1))
        data.append(_on({**common, "y": part["rating_mean"].to_list(), "showlegend": False,
                         "hovertemplate": "%{x|%b %Y}: mean rating %{y:.2f}"}, 2))
        data.append(_on({**common, "y": part["sentiment_mean"].to_list(), "showlegend": False,
                         "hovertemplate": "%{x|%b %Y}: mean sentiment %{y:.3f}"}, 3))
    layout["yaxis3"]["range"] = [-1.05, 1.05]
    base = _base_layout(720)
    layout |= base | {"margin": base["margin"] | {"t": 80}, "barmode": "overlay"}
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
    env.filters["excerpt"] = lambda text: shorten(text or "", EXCERPT_CHARS)
    return env


def render_report(data: ReportData) -> str:
    """The whole HTML page for data: inline CSS, plotly.js once, the charts and the tables."""
    scales = sorted(set(data.leaderboard["rating_scale"].to_list()), reverse=True)
    boards = []
    charts: list[Chart] = []
    for scale in scales:
        board = data.leaderboard.filter(pl.col("rating_scale") == scale).sort("position")
        lead = Chart(f"chart-leaderboard-{scale}", leaderboard_figure(board, scale))
        hist = Chart(f"chart-histograms-{scale}", histogram_figure(board, data.distribution, scale))
        charts += [lead, hist]
        boards.append({"scale": scale, "rows": board.to_dicts(), "chart": lead.div_id,
                       "histograms": hist.div_id})
    sentiment_chart = trends_chart = None
    if data.sentiment_by_rating.height:
        sentiment_chart = Chart("chart-sentiment", sentiment_figure(data.sentiment_by_rating))
        charts.append(sentiment_chart)
    if data.monthly.height:
        trends_chart = Chart("chart-trends", trends_figure(data.monthly, data.monthly_totals))
        charts.append(trends_chart)
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
        trends_chart=trends_chart.div_id if trends_chart else None,
        helpful=data.helpful.to_dicts(),
        mismatches=data.mismatches.to_dicts(),
        trend_titles=TREND_TITLES,
        csp=csp,
        plotly_js=markupsafe.Markup(plotly_js),
        mount_script=markupsafe.Markup(mount),
    )
