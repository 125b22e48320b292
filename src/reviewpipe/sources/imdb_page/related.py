"""The page text's "More Like This" entries: the related titles, with their ratings and credits."""

from __future__ import annotations

import re

from reviewpipe.sources.imdb_page.shared import Row, people, title_and_year

# Each entry is: [Title (Year)] / [Certificate: 16 ]Genre | Genre / rating widget / blank / summary
# / blank / Director(s): ... / Stars: ... -- and the next entry's title line follows the Stars line
# without a blank. The widget line is the one line every entry has, so entries are anchored on it.

# "More Like This" (2013-2017 pages), "People who liked this also liked..." (2010-2012 pages).
_RELATED_HEADING = re.compile(
    r"^(?:More Like This|People who liked this also liked\.*)$", re.IGNORECASE
)
_WIDGET = re.compile(r"^1 2 3 4 5 6 7 8 9 10 (?:(\d{1,2}(?:\.\d+)?)|-)/10\b")
_ENTRY_LABEL = re.compile(r"^(Directors?|Stars?|Writers?|Creators?):\s*(.*)$")
_GENRES = frozenset(
    "Action Adult Adventure Animation Biography Comedy Crime Documentary Drama Family Fantasy "
    "Film-Noir Game-Show History Horror Music Musical Mystery News Reality-TV Romance Sci-Fi Short "
    "Sport Talk-Show Thriller War Western".split()
)
_CERTIFICATE = "Certificate:"


def related_titles(lines: list[str]) -> tuple[list[Row], range]:
    """The More Like This entries and the span of lines they take (an empty range when none)."""
    heading = next((i for i, line in enumerate(lines) if _RELATED_HEADING.match(line)), None)
    # Without the heading, a widget line is the page's own "Rate This"/"Your rating:" widget.
    if heading is None:
        return [], range(0)
    widgets = [i for i in range(heading + 1, len(lines)) if _WIDGET.match(lines[i])]
    if not widgets:
        return [], range(0)
    starts = []
    floor = heading + 1
    for widget in widgets:
        starts.append(_prelude_start(lines, widget, floor))
        floor = widget + 1
    ends = starts[1:] + [_last_entry_end(lines, widgets[-1] + 1)]
    entries = [
        _related_entry(lines, start, widget, end)
        for start, widget, end in zip(starts, widgets, ends, strict=True)
    ]
    return entries, range(heading, ends[-1])


def _prelude_start(lines: list[str], widget: int, floor: int) -> int:
    """Where the title and genre lines above a widget line start (at most two unbroken lines)."""
    start = widget
    while start > floor and widget - start < 2:
        above = lines[start - 1]
        if not above or _WIDGET.match(above) or _ENTRY_LABEL.match(above):
            break
        start -= 1
    return start


def _last_entry_end(lines: list[str], start: int) -> int:
    """Where the last entry ends: after its summary and its Director/Stars lines."""
    seen_summary = seen_label = False
    i = start
    while i < len(lines):
        line = lines[i]
        if label := _ENTRY_LABEL.match(line):
            seen_label = True
            if not label[2]:  # "Director:" alone: its value is the next line
                i = next((j for j in range(i + 1, len(lines)) if lines[j]), len(lines) - 1)
        elif line:
            if seen_label or seen_summary:
                break
            seen_summary = True
        i += 1
    return i


def _related_entry(lines: list[str], start: int, widget: int, end: int) -> Row:
    """One More Like This entry: title and year (when given), rating, genres, directors, stars."""
    prelude = lines[start:widget]
    genres = None
    title_line = prelude[-1] if prelude else None
    if prelude and _is_genre_line(prelude[-1]):
        genres = _entry_genres(prelude[-1])
        title_line = prelude[-2] if len(prelude) == 2 else None
    title, year = title_and_year(title_line) or (title_line, None)
    credits = _entry_credits(lines[widget + 1 : end])
    rating = _WIDGET.match(lines[widget])
    return {
        "title": title,
        "year": year,
        "site_rating": rating[1] if rating else None,  # None for an unrated "-/10"
        "genres": genres,
        "directors": people(credits.get("Director")),
        "writers": people(credits.get("Writer")),
        "stars": people(credits.get("Star")),
    }


def _is_genre_line(line: str) -> bool:
    """True for an entry's genre line ("Drama | War", "Certificate: 16 Drama"), not a title line."""
    if line.startswith(_CERTIFICATE):
        return True
    return all(part.strip() in _GENRES for part in line.split("|"))


def _entry_genres(line: str) -> str | None:
    """The genres of an entry's genre line, without its "Certificate: 16" prefix."""
    parts = [part.strip() for part in line.removeprefix(_CERTIFICATE).split("|")]
    if line.startswith(_CERTIFICATE):
        # Certificates vary ("16", "PG-13", "Not Rated") but genres are one word each, so the
        # first genre is the last word before the first "|".
        words = parts[0].split()
        parts[0] = words[-1] if len(words) > 1 else ""
    genres = [part for part in parts if re.fullmatch(r"[A-Z][A-Za-z-]+", part)]
    return " | ".join(genres) or None


def _entry_credits(tail: list[str]) -> dict[str, str]:
    """An entry's credits by singular label ("Director", "Star", ...): the first value of each."""
    credits: dict[str, str] = {}
    for i, line in enumerate(tail):
        if label := _ENTRY_LABEL.match(line):
            value = label[2] or next((later for later in tail[i + 1 :] if later), "")
            credits.setdefault(label[1].rstrip("s"), value)
    return credits
