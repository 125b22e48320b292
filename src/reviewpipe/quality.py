"""The [quality] gate: what the staged data quarantined, counted as duplicates and looks wrong in,
checked against the configured limits (quality_stage), and the lines a run prints about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewpipe.errors import ReviewpipeError
from reviewpipe.runlog import warehouse
from reviewpipe.settings import Settings
from reviewpipe.warehouse import rows

if TYPE_CHECKING:
    from reviewpipe.pipeline import RunSummary


@dataclass(frozen=True)
class QuarantineGroup:
    """Quarantined rows of one source with one reason class, and the first of them as an example."""

    source: str
    column_name: str | None
    reason_class: str  # the reason up to its first file path, numbers as N (see _QUARANTINE_GROUPS)
    rows: int
    file_path: str
    row_number: int | None
    line_number: int | None
    raw_value: str | None
    reason: str  # the example's own reason


@dataclass(frozen=True)
class SourceQuality:
    """One source's figures that the [quality] limits apply to."""

    source: str
    records: int  # rows read plus lines the reader rejected, over every file of the source
    quarantined: int  # of those, rows and lines quarantined, second copies of a review not counted
    duplicates: int  # second copies of a review (quarantined as duplicates)
    files: int
    unreadable: int
    unreadable_example: str | None = None  # the first unreadable file, by path

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.records if self.records else 0.0

    @property
    def unreadable_share(self) -> float:
        return self.unreadable / self.files if self.files else 0.0


@dataclass
class Quality:
    """What the warehouse's staged data quarantined and counted as duplicates, what looks wrong
    (warnings), and the [quality] limits it passes (breaches: then nothing new is published)."""

    sources: list[SourceQuality] = field(default_factory=list)
    groups: list[QuarantineGroup] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)


class QualityFailed(ReviewpipeError):
    """A run passed a [quality] limit: it published nothing new; `quality` says why, by reason."""

    def __init__(self, message: str, quality: Quality) -> None:
        super().__init__(message)
        self.quality = quality


# The second copy of a review, quarantined; counted apart from the other problems.
_IS_DUPLICATE = "(column_name = 'review_id' and starts_with(reason, 'duplicate of the review in'))"

# Per source: records read (rows plus the lines the reader rejected), rows and lines quarantined
# (a row with two problems once; second copies of a review apart, as duplicates), files, unreadable.
# A file the reader rejected every line of (random bytes, another encoding) counts as one
# unreadable file, not as so many quarantined "lines".
_SOURCE_QUALITY = f"""
    with files as (
        select source, file_path, sum(records_read + lines_rejected) as records,
            bool_or(status = 'unreadable') or (sum(records_read) = 0 and sum(lines_rejected) > 0)
                as is_unreadable
        from load_log
        group by source, file_path
    ),

    by_source as (
        select source, coalesce(sum(records) filter (where not is_unreadable), 0) as records,
            count(*) as files, count(*) filter (where is_unreadable) as unreadable,
            min(file_path) filter (where is_unreadable) as unreadable_example
        from files
        group by source
    ),

    problems as (
        select distinct q.source, q.file_path, q.row_number, q.line_number,
            {_IS_DUPLICATE} as is_duplicate
        from quarantine as q
        join files using (source, file_path)
        where not files.is_unreadable and (q.row_number is not null or q.line_number is not null)
    ),

    counted as (
        select source,
            count(*) filter (where not is_duplicate) as quarantined,
            count(*) filter (where is_duplicate) as duplicates
        from problems
        group by source
    ),

    final as (
        select by_source.source, by_source.records, coalesce(counted.quarantined, 0) as quarantined,
            coalesce(counted.duplicates, 0) as duplicates, by_source.files, by_source.unreadable,
            by_source.unreadable_example
        from by_source
        left join counted using (source)
    )

    select * from final order by source
"""

# Quarantined rows by source and reason class, with the first row of each class as an example.
# Reasons differ row by row ("duplicate of the review in FILE row 7", "rating 11 is outside
# 1..10"): a class is the reason up to its first '/' (file paths are absolute, and a value such as
# 3/7 is cut there too) with every number written N.
_QUARANTINE_GROUPS = f"""
    with classified as (
        select *, regexp_replace(rtrim(regexp_extract(reason, '^[^/]*')), '[0-9]+', 'N', 'g')
            as reason_class
        from quarantine
        where not {_IS_DUPLICATE}
    ),

    final as (
        select source, column_name, reason_class, count(*) as rows,
            first((file_path, row_number, line_number, raw_value, reason)
                  order by file_path, row_number nulls first, line_number) as example
        from classified
        group by source, column_name, reason_class
    )

    select source, column_name, reason_class, rows, example[1], example[2], example[3], example[4],
        example[5]
    from final
    order by source, rows desc, column_name, reason_class
"""

# Sources with enough ratings, all in the lower half of the scale: 5-star data configured as
# 10-point loads without a problem, and every figure on it is wrong. Thumbs (scale 1) never.
_SCALE_MISFITS = """
    select source, rating_scale, count(rating) as rated, max(rating) as highest
    from stg_reviews
    where rating is not null and rating_scale > 1
    group by source, rating_scale
    having count(rating) >= ? and max(rating) <= rating_scale / 2
    order by source, rating_scale
"""
SCALE_MISFIT_MIN_RATINGS = 20


def quality_stage(settings: Settings, summary: RunSummary) -> Quality:
    """The staged data's quality (summary.quality), checked against [quality]: past a limit this
    raises QualityFailed, so that a run publishes nothing new. Runs after metrics, before publish,
    in every way of running the stages (pipeline.STAGES, walked by pipeline.run and the flow alike,
    a run with nothing new too)."""
    with warehouse(settings) as con:
        quality = Quality(
            sources=[SourceQuality(*row) for row in rows(con, _SOURCE_QUALITY)],
            groups=[QuarantineGroup(*row) for row in rows(con, _QUARANTINE_GROUPS)],
            warnings=[
                f"source {source!r}: all {rated} ratings are at most {highest:g}, half of its "
                f"rating_scale = {scale} or less; if its ratings are out of {highest:g}, set "
                f"rating_scale = {highest:g}"
                for source, scale, rated, highest in rows(con, _SCALE_MISFITS, [SCALE_MISFIT_MIN_RATINGS])
            ],
        )
    limits = settings.quality
    for s in quality.sources:
        if s.quarantined_share > limits.max_quarantined_share:
            commonest = next(g for g in quality.groups if g.source == s.source and (
                g.row_number is not None or g.line_number is not None))
            quality.breaches.append(
                f"source {s.source!r} has {s.quarantined} of its {s.records} records quarantined "
                f"({s.quarantined_share:.1%}), above [quality] max_quarantined_share = "
                f"{limits.max_quarantined_share:g} (most often: {example(commonest)})")
        if s.unreadable_share > limits.max_unreadable_share:
            quality.breaches.append(
                f"source {s.source!r} has {s.unreadable} of its {s.files} files unreadable "
                f"({s.unreadable_share:.0%}), above [quality] max_unreadable_share = "
                f"{limits.max_unreadable_share:g} (the first: {s.unreadable_example})")
    summary.quality = quality
    if quality.breaches:
        raise QualityFailed(
            "the run published nothing new, the last good outputs stay in place: "
            + "; ".join(quality.breaches)
            + ". Fix the files or the source's mapping (the reasons and an example of each are "
            "listed above, all of them in table quarantine), or raise the limit in [quality]",
            quality,
        )
    return quality


def quality_lines(quality: Quality) -> list[str]:
    """The run's closing lines: rows quarantined by source and reason (each with its first row),
    duplicates by source, warnings; plain text, one item a line."""
    lines = []
    for s in quality.sources:
        groups = [g for g in quality.groups if g.source == s.source]
        if s.quarantined or groups:
            lines.append(f"Quarantined in source {s.source!r}: {s.quarantined} of {s.records} records "
                         f"({s.quarantined_share:.1%})" + (f", {s.unreadable} of {s.files} files unreadable"
                                                          if s.unreadable else "") + ":")
            lines += [f"  {example(g)}" for g in groups]
    lines += [f"Duplicates in source {s.source!r}: {s.duplicates} second "
              f"{'copy' if s.duplicates == 1 else 'copies'} of a review (quarantined, see table "
              "quarantine)" for s in quality.sources if s.duplicates]
    lines += [f"WARNING {w}" for w in quality.warnings]
    return lines


def example(group: QuarantineGroup) -> str:
    """A reason class's count and its first occurrence: file, row (or line), column, value, reason."""
    unit = ("row" if group.row_number is not None else "line" if group.line_number is not None
            else "file")
    place = ("" if unit == "file" else f" {unit} {group.row_number or group.line_number}")
    column = f", column {group.column_name}" if group.column_name else ""
    shown = group.raw_value if group.raw_value is None or len(group.raw_value) <= 60 else (
        group.raw_value[:57] + "...")
    value = f", value {shown!r}" if shown is not None else ""
    plural = "s" if group.rows != 1 else ""
    return f"{group.rows} {unit}{plural} like {group.file_path}{place}{column}{value}: {group.reason}"
