"""What the page parsers share: the layer each one finds (Found) and the readers of values as a page
shows them (lines, "Title (Year)", credits, runtimes, counts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Row = dict[str, str | None]


@dataclass
class Found:
    """What one layer of a page (text, JSON-LD, microdata) says; ids are given later by parse_page."""

    title: Row = field(default_factory=dict)  # TITLE_FIELDS fields except the two ids
    related: list[Row] = field(default_factory=list)  # the same fields, one row per related title
    reviews: list[Row] = field(default_factory=list)  # REVIEW_FIELDS fields except the two ids
    tconst: str | None = None

    def is_empty(self) -> bool:
        """True when the layer found no title, rating, related title, review or tconst."""
        return not (
            self.title.get("title")
            or self.title.get("site_rating")
            or self.related
            or self.reviews
            or self.tconst
        )


SPACE = re.compile(r"\s+")
# "Zerkalo (1975)", "Tempo di viaggio (TV Movie 1983)", "A Show (TV Series 2005–2010)", "X (2005/I)"
_TITLE_LINE = re.compile(
    r"^(?P<title>\S.{0,150}?)\s*\((?:(?P<kind>[A-Za-z][A-Za-z -]*?)\s+)?(?P<year>\d{4})"
    r"(?:\s*[–-]\s*(?:\d{4})?\s*)?(?:/[IVXL]+)?\)$"
)
LABEL_LINE = re.compile(r"^[A-Z][^:]{0,40}:$")
_CREDIT_ALIAS = re.compile(r"\s*\(as [^()]*\)")
_CREDIT_LINK = re.compile(r"^(?:See full cast|See more|\d+ more credits?\b)", re.IGNORECASE)
_SEE_MORE = re.compile(r"\s*See (?:more|all)\b.*$")
_LEADING_COUNT = re.compile(r"^(\d[\d,]*)")
# A count as IMDb writes it: "34,370", "12", or short, "2.9K", "1.2M" (staging reads all of them).
COUNT = r"\d[\d,]*(?:(?:\.\d+)?[KM])?"  # a decimal point only before K or M: "8.1" is a rating
_ANY_COUNT = re.compile(COUNT)
_HOURS = re.compile(r"(\d+)\s*h(?:ours?|rs?)?\b\s*(?:(\d+)\s*m)?", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*min", re.IGNORECASE)
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?", re.IGNORECASE)


def split_lines(text: str) -> list[str]:
    """The text's lines, trimmed, each run of whitespace (no-break spaces too) as one space."""
    return [SPACE.sub(" ", line).strip() for line in text.splitlines()]


def title_and_year(line: str | None) -> tuple[str, str] | None:
    """The title and year of a "Title (Year)" line, or None when the line is not one."""
    match = _TITLE_LINE.match(line or "")
    return (match["title"], match["year"]) if match else None


def people(value: str | None) -> str | None:
    """Names of a credits value joined by ", ", without "(as ...)" aliases and "See full cast" links."""
    if not value:
        return None
    parts = _CREDIT_ALIAS.sub("", value).split("|")
    names = [
        name.strip(" »")
        for part in parts
        if not _CREDIT_LINK.match(part.strip())
        for name in part.split(",")
    ]
    return ", ".join(name for name in names if name) or None


def pipe_list(value: str | None) -> str | None:
    """The items of a "A | B" value joined by " | ", without trailing "See more" links."""
    if not value:
        return None
    items = [_SEE_MORE.sub("", item).strip(" »") for item in value.split("|")]
    return " | ".join(item for item in items if item) or None


def minutes_of(value: str | None) -> str | None:
    """Minutes of a runtime such as "108 min", "1h 48min" or "PT1H48M", or None."""
    if not value:
        return None
    if (iso := _ISO_DURATION.match(value)) and (iso[1] or iso[2]):
        return str(int(iso[1] or 0) * 60 + int(iso[2] or 0))
    if hours := _HOURS.search(value):
        return str(int(hours[1]) * 60 + int(hours[2] or 0))
    minutes = _MINUTES.search(value)
    return minutes[1] if minutes else None


def leading_count(value: str | None) -> str | None:
    """The count a value starts with ("3,939" of "3,939 ( 225)"), or None."""
    match = _LEADING_COUNT.match(value or "")
    return match[1] if match else None


def first_count(value: str | None) -> str | None:
    """The first count in a value as the page shows it ("34,370", "2.9K")."""
    match = _ANY_COUNT.search(value or "")
    if match is None:
        return None
    digits = match[0]
    # JSON-LD carries bare integers (34370); the page shows 34,370: keep one form for staging.
    return f"{int(digits):,}" if digits.isdigit() else digits


TCONST_IN_URL = re.compile(r"/title/(tt\d+)")
