"""The run log: the runs table (record_run_start, record_run_end), a run's temporary files beside
the outputs (its new database, its go-live journal) and what is done with them after a failure
(abandon_run), and the warehouse connection each stage of a run writes through."""

from __future__ import annotations

import glob
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewpipe import publish, state
from reviewpipe.ingest import IngestReport, forget_source
from reviewpipe.settings import Settings
from reviewpipe.warehouse import (
    claim_warehouse,
    configuration_name,
    note_run_id,
    open_warehouse,
    rows,
    scalar,
    transaction,
)

if TYPE_CHECKING:
    from reviewpipe.pipeline import RunSummary
    from reviewpipe.stages import LiveCopy


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def warehouse(settings: Settings) -> Any:
    """The warehouse connection a stage writes through (a context manager)."""
    return open_warehouse(settings.warehouse_path, wait=settings.lock_wait_seconds,
                          memory_limit=settings.memory_limit)


def take_over_warehouse(settings: Settings) -> str | None:
    """Make this configuration the warehouse's owner (the caller holds the run lock); the previous
    owner when it was another. What that one loaded is forgotten first, so that this configuration
    publishes only its own files (the sentiment cache, a function of each text alone, is kept); a
    kill in between leaves the old owner, whose next run reloads."""
    me = configuration_name(settings.config_file)
    with warehouse(settings) as con:
        owner = scalar(con, "select configuration from warehouse_owner")
        if owner not in (None, me):
            for (source,) in rows(con, "select distinct source from load_log order by 1"):
                forget_source(con, source)
        claim_warehouse(con, settings.warehouse_path, me, take_over=True)
    return owner if owner not in (None, me) else None


def new_database_path(settings: Settings, run_id: str) -> Path:
    """Where a run builds its published database before it goes live."""
    published = settings.published_path
    return published.with_name(f".{published.name}.{run_id}.tmp")


def go_live_journal(settings: Settings, run_id: str) -> Path:
    """Where a run's go-live journal is kept (beside the published database)."""
    published = settings.published_path
    return published.with_name(f".{published.name}.{run_id}.golive")


def discard_run_files(settings: Settings, *run_ids: str) -> None:
    """Remove what the given runs (failed, or killed) left under temporary names; nothing else, so
    that a pipeline with another warehouse that shares these folders keeps its files."""
    pattern = re.compile(r"^\..+\.(?P<run_id>[^.]+)\.(tmp|tmp\.wal|golive\.part)$")
    for folder in (settings.published_path.parent, settings.exports_path):
        for leftover in folder.glob(".*"):
            match = pattern.match(leftover.name)
            if match and match["run_id"] in run_ids:
                leftover.unlink(missing_ok=True)


def record_run_start(settings: Settings, run_id: str) -> None:
    """Log the run as running; a run still logged as running was killed (this one holds the run lock):
    it is logged as interrupted, its go-live, if it began one, is rolled back (finished, if it was
    logged as succeeded) and its temporary files are removed. Only this warehouse's runs are
    looked at: another pipeline that shares the published folder keeps its files. A warehouse of
    another configuration is refused before anything is touched (warehouse.claim_warehouse)."""
    note_run_id(settings.warehouse_path, run_id)  # for `reviewpipe status` while the run goes on
    with warehouse(settings) as con:
        claim_warehouse(con, settings.warehouse_path, configuration_name(settings.config_file))
        status = dict(rows(con, "select run_id, status from runs"))
        published = settings.published_path
        for journal in published.parent.glob(f".{glob.escape(published.name)}.*.golive"):
            killed = journal.name[len(published.name) + 2: -len(".golive")]
            if status.get(killed) == "succeeded":
                publish.finish(journal)
            elif killed in status:
                publish.roll_back(journal)
        discard_run_files(settings, *(r for r, s in status.items() if s in ("running", "interrupted")))
        con.execute(
            "update runs set status = 'interrupted', finished_at = ?, message = 'the run stopped "
            "without finishing (killed, or the machine stopped); nothing of it was published' "
            "where status = 'running'",
            [_now()],
        )
        con.execute(
            "insert into runs (run_id, started_at, status) values (?, ?, 'running')",
            [run_id, _now()],
        )


def record_run_end(settings: Settings, summary: RunSummary, error: BaseException | None = None) -> None:
    """Log the run's outcome and figures. A run that went live logs each output's signature (for
    outputs_current) in the same transaction as its success, then drops the old outputs' backups;
    if that transaction fails, its go-live is rolled back (and its files removed), so that the
    outputs stay those of the last run logged succeeded."""
    journal = go_live_journal(settings, summary.run_id)
    went_live = error is None and journal.exists()
    report = summary.ingest.report if summary.ingest else IngestReport()
    staged = summary.ingest.staged if summary.ingest else {}
    try:
        with warehouse(settings) as con, transaction(con):
            if went_live:
                state.went_live(con, settings, journal)
            con.execute(
                """
                update runs set finished_at = ?, status = ?, files_loaded = ?, files_skipped = ?,
                    files_unreadable = ?, records_read = ?, rows_quarantined = ?,
                    reviews_published = ?, titles_published = ?, message = ?, inputs_hash = ?
                where run_id = ?
                """,
                [
                    _now(), "failed" if error else "succeeded", report.count("loaded"),
                    report.count("skipped"), report.count("unreadable"), report.records,
                    staged.get("quarantine"), summary.published.get("reviews"),
                    summary.published.get("titles"),
                    str(error) if error else unchanged_message(summary),
                    None if error or not summary.ingest else summary.ingest.inputs_hash, summary.run_id,
                ],
            )
    except BaseException:
        if went_live:
            publish.roll_back(journal)
            discard_run_files(settings, summary.run_id)
        raise
    if went_live:
        publish.finish(journal)


def unchanged_message(summary: RunSummary) -> str | None:
    """What a run that found nothing new says (None for any other run)."""
    since = summary.ingest.unchanged_since if summary.ingest else None
    if since is None:
        return None
    return (f"nothing new since run {since}: no file changed and neither did the settings, so the "
            "published tables, exports and report are current")


def abandon_run(settings: Settings, summary: RunSummary, error: BaseException,
                live_copy: LiveCopy | None) -> None:
    """After a run failed: its go-live, if it began one, rolled back (the old outputs back), its
    temporary files removed, the failure logged."""
    if live_copy is not None:
        live_copy.wait()
    publish.roll_back(go_live_journal(settings, summary.run_id))
    discard_run_files(settings, summary.run_id)
    record_run_end(settings, summary, error)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
