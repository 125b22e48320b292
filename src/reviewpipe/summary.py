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
    summary.trust = trust_line(settings.published_path, enabled=settings.trust.enabled)
    return summary


def trust_line(database: Path, worst: int = 3, enabled: bool = True) -> str:
    """What the trust tests found in a published database, in one line: titles tested, how many fail,
    warn and pass (agg_title_summary.trust_verdict), the reviews of failing subsets
    (agg_trust_flagged_reviews, each review once) and the `worst` failing titles, most flagged
    reviews first, with their failing tests and their rating without them. With enabled false
    ([trust] enabled), that the tests are off."""
    if not enabled:
        return "off ([trust] enabled = false): no test ran"
    _, counts = publish.query_published(
        database,
        "select count(trust_verdict), count(*) filter (trust_verdict = 'fail'), "
        "count(*) filter (trust_verdict = 'warn'), count(*) filter (trust_verdict = 'pass'), "
        "(select count(distinct review_id) from agg_trust_flagged_reviews) from agg_title_summary",
    )
    tested, fail, warn, passed, flagged = counts[0]
    if not tested:
        return "no title has enough rated reviews to test ([trust] min_title_reviews)"
    line = (f"{tested} titles tested: {fail} fail a test, {warn} warn, {passed} pass; "
            f"{flagged} reviews flagged (agg_trust_flagged_reviews)")
    _, titles = publish.query_published(
        database,
        "select coalesce(s.title, s.title_id), s.failed_tests, s.rating_mean, s.adjusted_rating, "
        "count(distinct f.review_id) as flagged from agg_title_summary as s "
        "join agg_trust_flagged_reviews as f using (title_id) where s.trust_verdict = 'fail' "
        "group by s.title_id, s.title, s.failed_tests, s.rating_mean, s.adjusted_rating "
        f"order by flagged desc, s.title_id limit {int(worst)}",
    )
    if titles:
        line += "; most flagged: " + ", ".join(
            f"{title} ({tests}: {n} reviews; rating {_rating(mean)} -> {_rating(adjusted)})"
            for title, tests, mean, adjusted, n in titles)
    return line


def _rating(value: float | None) -> str:
    """A rating for reading: two decimals, "-" when there is none."""
    return "-" if value is None else f"{value:.2f}"


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
    lines += [f"- sentiment: {sentiment_line(summary)}"]
    if summary.trust:
        lines += [f"- trust: {summary.trust}"]
    lines += ["", "| published table | rows |", "|---|---|"]
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
