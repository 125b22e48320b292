"""What a run says: its summary as markdown (the Prefect artifact), how it published, and the
published titles it shows (a preview, a leaderboard)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reviewpipe import publish
from reviewpipe.errors import ReviewpipeError
from reviewpipe.quality import quality_lines
from reviewpipe.settings import Settings

if TYPE_CHECKING:
    from reviewpipe.pipeline import RunSummary


def current_outputs(settings: Settings, summary: RunSummary) -> RunSummary:
    """Fill in a run that found nothing new with the outputs already in place."""
    summary.published_path = settings.published_path
    summary.exports = sorted(p for p in settings.exports_path.glob(f"agg_*.{settings.exports.format}"))
    summary.report = settings.exports_path / "report.html"
    summary.preview = title_preview(settings.published_path)
    return summary


def title_preview(database: Path, limit: int = 10) -> tuple[list[str], list[tuple]]:
    """The first titles of a published database's summary by review count: column names and rows."""
    return publish.query_published(
        database,
        "select title_id, title, review_count, rating_mean, weighted_rating, sentiment_mean "
        f"from agg_title_summary order by review_count desc, title_id limit {int(limit)}",
    )


def title_leaderboard(database: Path, limit: int = 100) -> tuple[list[str], list[tuple]]:
    """A published database's titles by weighted rating (numbers rounded for reading)."""
    return publish.query_published(
        database,
        "select title_id, title, review_count, round(rating_mean, 3) as rating_mean, "
        "round(weighted_rating, 3) as weighted_rating, round(sentiment_mean, 3) as sentiment_mean, "
        "is_polarized from agg_title_summary "
        f"order by weighted_rating desc nulls last, title_id limit {int(limit)}",
    )


def summary_markdown(summary: RunSummary) -> str:
    """What a run loaded, quarantined and published, as markdown (the Prefect run artifact)."""
    lines = [f"# reviewpipe run {summary.run_id}", ""]
    if summary.ingest:
        r, staged = summary.ingest.report, summary.ingest.staged
        lines += [
            (f"- files: {r.count('loaded')} loaded, {r.count('skipped')} unchanged, "
             f"{r.count('unreadable')} unreadable"),
            f"- records read: {r.records}",
            f"- staged: {staged.get('stg_reviews', 0)} reviews, {staged.get('stg_titles', 0)} title rows",
            f"- quarantined rows: {staged.get('quarantine', 0)} (table `quarantine`)",
        ]
        lines += [f"- unreadable: `{f.path}`: {f.message}" for f in r.files if f.status == "unreadable"]
    lines += [f"- sentiment: {sentiment_line(summary)}", "", "| published table | rows |", "|---|---|"]
    lines += [f"| `{table}` | {n} |" for table, n in summary.published.items()]
    if summary.published_path:
        lines += ["", f"Published database: `{summary.published_path}`{publish_how(summary)}"]
    if summary.quality:
        lines += ["", *(f"- {line.strip()}" for line in quality_lines(summary.quality))]
    return "\n".join(lines)


def sentiment_line(summary: RunSummary) -> str:
    """What the score stage did, in words: "1,200 new texts: 1,150 scored, 50 in other languages
    unscored" (or "1,200 new texts scored" when every one was)."""
    texts, unscored = summary.texts_scored, summary.texts_unscored
    if not unscored:
        return f"{texts:,} new texts scored"
    return f"{texts:,} new texts: {texts - unscored:,} scored, {unscored:,} in other languages unscored"


def publish_how(summary: RunSummary) -> str:
    """How a run that published built its database, as a parenthesis ("" for other runs)."""
    if not summary.published:
        return ""
    if summary.reviews_replaced is None:
        return " (built whole)"
    return f" ({summary.reviews_replaced} reviews replaced in a copy of the previous one)"


def require_published(settings: Settings) -> Path:
    """The published database path, or a clear error when nothing has been published yet."""
    path = settings.published_path
    if not path.exists():
        raise ReviewpipeError(f"no published database at {path} yet; run `reviewpipe run` first")
    return path
