"""The HTML report: one self-contained page of charts and tables over the published database.

`write_report` is the only function here that writes: it reads the published file read-only into
small frames (`data`: the aggregation happens in DuckDB, in the queries of sql/report/, so the
page's size does not grow with the number of reviews), hands them to pure functions that build
Plotly figures (`figures`) and the page (`page`), and writes the page atomically. The page needs no
network: plotly.js is inlined once, there are no web fonts, and a Content-Security-Policy with
`default-src 'none'` stops the browser from fetching anything at all. Only the page's own two
scripts may run (they are allowed by their sha256 hashes), so even text that slipped past escaping
could not run a script or an inline event handler.

Reviews, titles and author names are other people's words. In HTML they are escaped by Jinja2's
autoescape; in charts they are escaped for Plotly's pseudo-HTML (`<b>`, `<a>`, `<br>` and `$…$`
TeX would otherwise be interpreted; `text.plotly_text`) and embedded as JSON in which `<`, `>` and
`/` are `\\uXXXX` escapes, so a `</script>` inside a title cannot end the script block.
"""

from reviewpipe.report.data import GROUP_KEY, ReportData, read_report_data
from reviewpipe.report.figures import (
    MIN_TREND_REVIEWS,
    Scale,
    histogram_bins,
    histogram_figure,
    leaderboard_figure,
    scale_of,
    sentiment_figure,
    smoothed_trends,
    totals_figure,
    trends_figure,
)
from reviewpipe.report.page import render_report, write_report
from reviewpipe.report.text import plotly_text, shorten

__all__ = [
    "GROUP_KEY",
    "MIN_TREND_REVIEWS",
    "ReportData",
    "Scale",
    "histogram_bins",
    "histogram_figure",
    "leaderboard_figure",
    "plotly_text",
    "read_report_data",
    "render_report",
    "scale_of",
    "sentiment_figure",
    "shorten",
    "smoothed_trends",
    "totals_figure",
    "trends_figure",
    "write_report",
]
