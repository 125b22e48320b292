"""The report's charts: pure functions from frames to Plotly figures, built as plain dicts."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import plotly.io as pio
import polars as pl

from reviewpipe.metrics import THUMBS_SCALE, rating_class_of
from reviewpipe.report.text import (
    PARTIAL_MARK,
    plotly_text,
    scale_label,
    shorten,
    whole_percent_text,
)

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

# A figure as plotly.js takes it, {"data": [trace, ...], "layout": {...}}: built as plain dicts,
# as plotly.graph_objects validates every assignment, which made drawing the histograms slow;
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
    make_subplots itself was slow enough to matter in a report of several sources."""
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


def _interval_trace(board: pl.DataFrame, labels: list[str], custom: list[tuple[str, int]],
                    columns: tuple[str, str, str], *, name: str, hovertemplate: str) -> dict[str, Any]:
    """A leaderboard trace: per row, a grey dot at the value of columns[0] with error bars from
    columns[1] to columns[2]."""
    value, low, high = (board[c].to_list() for c in columns)
    return {
        "type": "scatter", "x": value, "y": labels, "mode": "markers",
        "name": name, "marker": {"color": "#7f8c8d", "size": 7},
        "error_x": _error_bars(value, low, high),
        "customdata": custom,
        "hovertemplate": hovertemplate,
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
        data = [
            _interval_trace(
                board, labels, custom, ("recommended_share", "recommended_share_low",
                                        "recommended_share_high"),
                name="% recommended, 95% Wilson interval",
                hovertemplate="%{customdata[0]}<br>%{x:.1%} of %{customdata[1]} recommend it"
                              "<extra></extra>",
            ),
            weighted | {"name": "weighted % recommended",
                        "hovertemplate": "%{customdata[0]}<br>weighted %{x:.1%}<extra></extra>"},
        ]
        xaxis = {"range": [-0.02, 1.02], "tickformat": ".0%", "title": {"text": "% recommended"}}
    else:
        data = [
            _interval_trace(
                board, labels, custom, ("rating_mean", "rating_ci_low", "rating_ci_high"),
                name="mean rating, 95% CI",
                hovertemplate="%{customdata[0]}<br>mean %{x:.2f} of %{customdata[1]} ratings"
                              "<extra></extra>",
            ),
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
            "marker": {"color": [COLOURS[rating_class_of(r, int(scale.top), scale.low)]
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


def sentiment_figure(stats: pl.DataFrame, min_scored_share: float = 0.8) -> Figure:
    """Per source and rating point: spread (5th–95th percentile box) and mean of sentiment_score,
    each panel titled with the share of its rated texts that are scored (PARTIAL_MARK below
    min_scored_share)."""
    groups = stats.select("source", "rating_scale").unique().sort(
        "source", "rating_scale", descending=[False, True])
    n = groups.height
    columns = min(n, SENTIMENT_COLUMNS)
    rows = math.ceil(n / columns)
    covered = stats.group_by("source", "rating_scale").agg(
        pl.col("reviews").sum(), pl.col("text_reviews").sum())
    covered = {(source, scale): (scored, texts) for source, scale, scored, texts in covered.iter_rows()}
    titles = [plotly_text(f"{source}: {scale_label(scale)}") + "<br>"
              + _coverage_note(*covered[(source, scale)], min_scored_share)
              for source, scale in groups.iter_rows()]
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
            "hovertemplate": "rating %{x}: mean %{y:.3f} over %{customdata:,} scored reviews"
                             "<extra></extra>",
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


def _coverage_note(scored: int, texts: int, min_scored_share: float) -> str:
    """A panel's second line: the share of its texts whose sentiment it shows, marked when low."""
    share = scored / texts if texts else 1.0
    mark = f" {PARTIAL_MARK}" if share < min_scored_share else ""
    return f"scored: {whole_percent_text(share)} of {texts:,} texts{mark}"


def smoothed_trends(monthly: pl.DataFrame) -> pl.DataFrame:
    """Per source, title and month of its lines: the month's reviews and the mean rating and mean
    sentiment of the TREND_WINDOW_MONTHS months up to it, null where those hold fewer than
    MIN_TREND_REVIEWS rated (scored) reviews.

    The months are the reviewed ones and the TREND_WINDOW_MONTHS after each (up to the source's last
    month): every month whose window holds a review, and one after, whose null ends the line. A
    title reviewed in 0001 and in 9999 (staging keeps those dates) is a few points, not 120,000 per
    line (a report of a few such titles grew huge and slow to draw).
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


def trends_figure(monthly: pl.DataFrame, scale: Scale, totals: pl.DataFrame | None = None,
                  min_scored_share: float = 0.8) -> Figure:
    """Small multiples of one source's trend titles: a row per title (first, when totals are given,
    a row of all the source's reviews), with its reviews per month and its 3-month rolling mean
    rating and sentiment (drawn where the window holds enough reviews; its panel says the share of
    the row's texts that are scored, with PARTIAL_MARK below min_scored_share)."""
    sums = [*TREND_SUMS, "text_review_count"]
    parts = [monthly.select("source", "title_id", "title_name", "month", *sums)]
    if totals is not None and totals.height:
        # "" is no title's id (staging refuses a blank key)
        parts.insert(0, totals.select("source", pl.lit("").alias("title_id"),
                                     pl.lit("all titles").alias("title_name"), "month", *sums))
    monthly = pl.concat(parts)
    covered = monthly.group_by("title_id").agg(pl.col("scored_review_count", "text_review_count").sum())
    covered = {title_id: (scored, texts) for title_id, scored, texts in covered.iter_rows()}
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
                     f"mean sentiment_score, {window}" + ("" if drawn[title_id][1] else too_few)
                     + "<br>" + _coverage_note(*covered[title_id], min_scored_share))
    ]
    rows = titles.height
    # about 65 px between rows of 175 px: the panel above's ticks, then two lines of panel titles
    layout = _panels(rows, 3, panel_titles, horizontal_spacing=0.05,
                     vertical_spacing=65 / (175 * rows))
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
                             "of %{customdata:,} scored texts<extra></extra>",
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
    base = _base_layout(50 + 175 * rows)
    layout |= base | {"margin": base["margin"] | {"t": 50}, "bargap": 0}
    return {"data": data, "layout": layout}


def _wrapped(text: str, width: int = 60) -> str:
    """Plotly-safe text broken into lines of about `width` characters (a hover label's width)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(plotly_text(part) for part in [*lines, line] if part)


def terms_figure(terms: pl.DataFrame) -> Figure:
    """One title's top praise terms (right, green) against its top complaint terms (left, red):
    bars of z-scores by rank, each labelled with its term; the hover gives the reviews using it, the
    sentences that mention it with their mean sentiment, and the example sentence."""
    data = []
    for side, sign, colour in (("praise", 1, COLOURS["positive"]), ("complaint", -1, COLOURS["negative"])):
        rows = terms.filter(pl.col("side") == side).sort("rank")
        custom = [
            (plotly_text(r["term"]), f"{r['z_score']:.1f}", r["positive_reviews"], r["negative_reviews"],
             r["other_reviews"], r["sentence_mentions"],
             f"{r['sentence_sentiment_mean']:+.2f}" if r["sentence_sentiment_mean"] is not None else "–",
             _wrapped(r["example"] or ""))
            for r in rows.iter_rows(named=True)
        ]
        data.append({
            "type": "bar", "orientation": "h", "name": f"{side} (z-score)",
            "x": [sign * z for z in rows["z_score"].to_list()], "y": rows["rank"].to_list(),
            "text": [plotly_text(t) for t in rows["term"]], "textposition": "outside", "cliponaxis": False,
            "marker": {"color": colour}, "customdata": custom,
            "hovertemplate": "<b>%{customdata[0]}</b> (z %{customdata[1]})<br>used by %{customdata[2]} positive, "
                             "%{customdata[3]} negative, %{customdata[4]} other reviews<br>%{customdata[5]} "
                             "sentences mention it, mean sentiment %{customdata[6]}<br><i>%{customdata[7]}</i>"
                             "<extra></extra>",
        })
    ranks = max(terms.filter(pl.col("side") != "distinctive")["rank"].max() or 1, 1)
    reach = max(terms.filter(pl.col("side") != "distinctive")["z_score"].max() or 1.0, 1.0)
    layout = _base_layout(90 + 22 * ranks) | {
        "barmode": "overlay", "bargap": 0.25, "showlegend": True,
        "yaxis": {"range": [ranks + 0.5, 0.5], "showticklabels": False, "zeroline": False},
        # room beyond the longest bar for its term
        "xaxis": {"range": [-1.9 * reach, 1.9 * reach], "zeroline": True, "zerolinecolor": "#7f8c8d",
                  "title": {"text": "← complaint · z-score · praise →"}},
    }
    return {"data": data, "layout": layout}
