"""Saved IMDb title pages (visible text or HTML) -> the title, its related titles, its user reviews.

One grammar serves both forms. A .txt page is read line by line; a saved HTML page is read for its
schema.org data (JSON-LD first, then microdata) and its visible text is run through the same line
grammar, which fills what the structured data lacks (helpful votes, "More Like This", popularity).
The data is looked for wherever a layout of any year put it (2008-2012 star-box microdata, 2013-2017
title-overview microdata, 2018+ JSON-LD, any of them saved as text), never in one layout's markup.
Values stay strings as a reader sees them ("34,370", "2.9K", "3 September 2002"); staging casts them.
HTML is parsed with selectolax (lexbor), never with regular expressions: regular expressions only
ever read text that has already been taken out of the markup.
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

Row = dict[str, str | None]

TITLE_KEYS = (
    "title_id", "title", "year", "site_rating", "site_votes", "user_review_count",
    "critic_review_count", "genres", "directors", "writers", "stars", "country", "language",
    "runtime_minutes", "popularity", "related_to_title_id",
)  # fmt: skip
REVIEW_KEYS = (
    "review_id", "title_id", "author", "review_date", "rating", "review_title", "review_text",
    "helpful_votes", "total_votes",
)  # fmt: skip


class NotATitlePage(ValueError):
    """The file holds no recognisable IMDb title page; str(exc) is the reason."""


@dataclass(frozen=True)
class Page:
    """One saved title page: its own title first in titles, then its related titles; its reviews."""

    titles: list[dict[str, str | None]]
    reviews: list[dict[str, str | None]]


def parse_page(content: bytes, file_name: str) -> Page:
    """The title, its related titles and its user reviews found in one saved page (text or HTML)."""
    text = _decoded(content)
    if not text.strip():
        raise NotATitlePage(
            f"{file_name}: the file is empty; expected an IMDb title page saved as text or HTML"
        )
    if _is_html(text, file_name):
        found = _from_html(text)
        missing = f"no JSON-LD or microdata title, and its visible text has {_TEXT_SIGNS}"
    else:
        found = _from_text(text)
        missing = _TEXT_SIGNS
    if found.is_empty():
        raise NotATitlePage(
            f"{file_name}: not an IMDb title page: found {missing}; "
            "save the title page itself (as text or HTML) and try again"
        )
    return _page(found, file_name)


_TEXT_SIGNS = (
    "no 'Title (Year)' line, no site rating such as '8.1/10', no 'More Like This' entries and no "
    "user review header such as '3 September 2002 | by author'"
)


# --- What a page says, before ids are given ------------------------------------------------------


@dataclass
class _Found:
    """What one layer of a page (text, JSON-LD, microdata) says; ids are given later by _page."""

    title: Row = field(default_factory=dict)  # TITLE_KEYS fields except the two ids
    related: list[Row] = field(default_factory=list)  # the same fields, one row per related title
    reviews: list[Row] = field(default_factory=list)  # REVIEW_KEYS fields except the two ids
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


def _page(found: _Found, file_name: str) -> Page:
    """The Page for what was found: full-key rows, the page's title_id on its reviews and related titles."""
    own = _row(TITLE_KEYS, found.title)
    # The tconst is the stable key; without one, "Title (Year)" is how the other IMDb sources name a
    # film; a page with neither still needs a key so that its reviews stay attached to it.
    title_id = found.tconst or _display_id(own["title"], own["year"]) or PurePath(file_name).name
    own["title_id"] = title_id
    titles = [own]
    for position, entry in enumerate(found.related, start=1):
        related = _row(TITLE_KEYS, entry)
        # Entries without a title line keep a row (their rating and credits are still data).
        related["title_id"] = (
            _display_id(related["title"], related["year"]) or f"{title_id} related {position}"
        )
        related["related_to_title_id"] = title_id
        titles.append(related)
    reviews = [_row(REVIEW_KEYS, review) | {"title_id": title_id} for review in found.reviews]
    return Page(titles=titles, reviews=reviews)


def _row(keys: Sequence[str], values: Row) -> Row:
    """A dict with exactly keys, in order: values' entries for those keys, None for the rest."""
    row: Row = dict.fromkeys(keys)
    row.update((key, value) for key, value in values.items() if key in row)
    return row


def _display_id(title: str | None, year: str | None) -> str | None:
    """ "Title (Year)", or the bare title without a year, or None without a title."""
    if title is None:
        return None
    return f"{title} ({year})" if year else title


# --- Bytes to text -------------------------------------------------------------------------------


def _cp1252_for_invalid_utf8(error: UnicodeError) -> tuple[str, int]:
    """The invalid bytes of a UTF-8 decode read as cp1252, and where decoding resumes."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


# Pages saved by Windows tools mix cp1252 bytes ("Zo\xeb") into UTF-8 text: read only those bytes as
# cp1252, so that the valid UTF-8 around them ("Järvet") is kept as it is.
_DECODE_ERRORS = "reviewpipe.imdb_page.cp1252"
codecs.register_error(_DECODE_ERRORS, _cp1252_for_invalid_utf8)


def _decoded(content: bytes) -> str:
    """The bytes as text: UTF-8 without a BOM, any invalid byte read as cp1252."""
    return content.decode("utf-8", errors=_DECODE_ERRORS).removeprefix("\ufeff")


_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})


def _is_html(text: str, file_name: str) -> bool:
    """True for saved HTML: by the file's suffix, or for other suffixes when it opens with markup."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix in _HTML_SUFFIXES:
        return True
    if suffix == ".txt":
        return False
    head = text.lstrip()[:2000].lower()
    return head.startswith("<") and any(tag in head for tag in ("<html", "<!doctype html", "<body"))


# --- The page text: shared pieces ----------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# "Zerkalo (1975)", "Tempo di viaggio (TV Movie 1983)", "A Show (TV Series 2005–2010)", "X (2005/I)"
_TITLE_LINE = re.compile(
    r"^(?P<title>\S.{0,150}?)\s*\((?:(?P<kind>[A-Za-z][A-Za-z -]*?)\s+)?(?P<year>\d{4})"
    r"(?:\s*[–-]\s*(?:\d{4})?\s*)?(?:/[IVXL]+)?\)$"
)
_LABEL_LINE = re.compile(r"^[A-Z][^:]{0,40}:$")
_CREDIT_ALIAS = re.compile(r"\s*\(as [^()]*\)")
_CREDIT_LINK = re.compile(r"^(?:See full cast|See more|\d+ more credits?\b)", re.IGNORECASE)
_SEE_MORE = re.compile(r"\s*See (?:more|all)\b.*$")
_LEADING_COUNT = re.compile(r"^(\d[\d,]*)")
# A count as IMDb writes it: "34,370", "12", or short, "2.9K", "1.2M" (staging reads all of them).
_COUNT = r"\d[\d,]*(?:(?:\.\d+)?[KM])?"  # a decimal point only before K or M: "8.1" is a rating
_ANY_COUNT = re.compile(_COUNT)
_HOURS = re.compile(r"(\d+)\s*h(?:ours?|rs?)?\b\s*(?:(\d+)\s*m)?", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*min", re.IGNORECASE)
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?", re.IGNORECASE)


def _lines(text: str) -> list[str]:
    """The text's lines, trimmed, each run of whitespace (no-break spaces too) as one space."""
    return [_SPACE.sub(" ", line).strip() for line in text.splitlines()]


def _title_and_year(line: str | None) -> tuple[str, str] | None:
    """The title and year of a "Title (Year)" line, or None when the line is not one."""
    match = _TITLE_LINE.match(line or "")
    return (match["title"], match["year"]) if match else None


def _people(value: str | None) -> str | None:
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


def _pipe_list(value: str | None) -> str | None:
    """The items of a "A | B" value joined by " | ", without trailing "See more" links."""
    if not value:
        return None
    items = [_SEE_MORE.sub("", item).strip(" »") for item in value.split("|")]
    return " | ".join(item for item in items if item) or None


def _minutes(value: str | None) -> str | None:
    """Minutes of a runtime such as "108 min", "1h 48min" or "PT1H48M", or None."""
    if not value:
        return None
    if (iso := _ISO_DURATION.match(value)) and (iso[1] or iso[2]):
        return str(int(iso[1] or 0) * 60 + int(iso[2] or 0))
    if hours := _HOURS.search(value):
        return str(int(hours[1]) * 60 + int(hours[2] or 0))
    minutes = _MINUTES.search(value)
    return minutes[1] if minutes else None


def _leading_count(value: str | None) -> str | None:
    """The count a value starts with ("3,939" of "3,939 ( 225)"), or None."""
    match = _LEADING_COUNT.match(value or "")
    return match[1] if match else None


def _count(value: str | None) -> str | None:
    """The first count in a value as the page shows it ("34,370", "2.9K")."""
    match = _ANY_COUNT.search(value or "")
    if match is None:
        return None
    digits = match[0]
    # JSON-LD carries bare integers (34370); the page shows 34,370: keep one form for staging.
    return f"{int(digits):,}" if digits.isdigit() else digits


# --- The page text: the whole page ---------------------------------------------------------------


def _from_text(text: str) -> _Found:
    """Everything the page's visible text says."""
    return _from_lines(_lines(text))


def _from_lines(lines: list[str]) -> _Found:
    """Everything the page's lines say: own title fields, More Like This entries, user reviews."""
    related, related_span = _related_titles(lines)
    reviews, reviews_span = _reviews(lines, related_span)
    # Credits and counts in related entries and in review bodies must not be read as the page's own.
    own = [i for i in range(len(lines)) if i not in related_span and i not in reviews_span]
    title = _own_title(lines, own)
    if title["user_review_count"] is None:
        title["user_review_count"] = _see_all_count(lines)
    return _Found(title=title, related=related, reviews=reviews, tconst=_text_tconst(lines, own))


def _own_title(lines: list[str], own: list[int]) -> Row:
    """The page's own title fields, read from its own lines (not More Like This, not the reviews)."""
    title, year = next((found for i in own if (found := _title_and_year(lines[i]))), (None, None))
    rating, votes = _site_rating(lines, own)
    users, critics = _review_counts(lines, own)
    return {
        "title": title,
        "year": year,
        "site_rating": rating,
        "site_votes": votes,
        "user_review_count": users,
        "critic_review_count": critics,
        "genres": _pipe_list(_labelled(lines, own, ("Genres", "Genre"))),
        "directors": _people(_labelled(lines, own, ("Directors", "Director"))),
        "writers": _people(_labelled(lines, own, ("Writers", "Writer"))),
        "stars": _people(_labelled(lines, own, ("Stars", "Star"))),
        "country": _pipe_list(_labelled(lines, own, ("Countries", "Country"))),
        "language": _pipe_list(_labelled(lines, own, ("Languages", "Language"))),
        "runtime_minutes": _minutes(_labelled(lines, own, ("Runtime",))),
        "popularity": _leading_count(_labelled(lines, own, ("Popularity",), colon_optional=True)),
    }


def _labelled(
    lines: list[str], own: list[int], labels: tuple[str, ...], colon_optional: bool = False
) -> str | None:
    """The value of the first "Label: value" line, or of the line after a lone "Label:", or None."""
    colon = ":?" if colon_optional else ":"
    pattern = re.compile(rf"^(?:{'|'.join(labels)}){colon}\s*(.*)$")
    for position, i in enumerate(own):
        if (match := pattern.match(lines[i])) is None:
            continue
        if match[1]:
            return match[1]
        value = next((lines[j] for j in own[position + 1 :] if lines[j]), None)
        # An empty field ("Runtime:" straight before "Sound Mix:") is missing, not the next label.
        return None if value is None or _LABEL_LINE.match(value) else value
    return None


# "8.1/10", or a 2008-2012 star-box: "Ratings: 7.3/10 from 1,234 users | Reviews: 246 user ..."
_SITE_RATING = re.compile(
    rf"^(?:Ratings?:\s*)?(\d{{1,2}}(?:\.\d+)?)\s*/\s*10(?:\s+from\s+({_COUNT})\s+users?)?"
    r"(?:\s*\|\s*Reviews:.*)?$"
)
_VOTES_LINE = re.compile(rf"^{_COUNT}$")


def _site_rating(lines: list[str], own: list[int]) -> tuple[str | None, str | None]:
    """The site rating ("8.1" of "8.1/10") and its vote count (the line below it, "34,370")."""
    for position, i in enumerate(own):
        if match := _SITE_RATING.match(lines[i]):
            votes = match[2]
            if votes is None:
                below = next((lines[j] for j in own[position + 1 :] if lines[j]), "")
                votes = below if _VOTES_LINE.match(below) else None
            return match[1], votes
    return None, None


# A review count and the word after it ("246 user", "2.9KUser reviews", "120\ncritic"): whatever
# markup stood between them, it left a space, a line break or nothing. "1,234 users" are votes.
_LABELLED_COUNT = rf"({_COUNT})\s*([Uu]ser|[Cc]ritic)(?:\s*[Rr]eviews?)?"
# The counts block: one or two labelled counts alone on their lines (or after "Reviews:"), apart by
# "|", "·", spaces or line breaks, so that "See all 246 user reviews" and prose are never read.
_REVIEW_COUNTS = re.compile(
    rf"(?:^|Reviews:)[ \t]*{_LABELLED_COUNT}(?:\s*[|·•]?\s*{_LABELLED_COUNT})?[ \t]*$",
    re.MULTILINE,
)
_SEE_ALL_REVIEWS = re.compile(rf"See all ({_COUNT}) user reviews")


def _review_counts(lines: list[str], own: list[int]) -> tuple[str | None, str | None]:
    """The user and critic review counts of the page's own lines ("119 user 70 critic")."""
    kept = set(own)
    # Other lines are blanked, not dropped, so that counts never join across a review or entry.
    return _labelled_review_counts(
        "\n".join(line if i in kept else "" for i, line in enumerate(lines))
    )


def _labelled_review_counts(text: str) -> tuple[str | None, str | None]:
    """The user and critic review counts of text's first counts block, as the page shows them."""
    match = _REVIEW_COUNTS.search(text)
    if match is None:
        return None, None
    pairs = (match.group(1, 2), match.group(3, 4))
    counts = {label.casefold(): count for count, label in pairs if label}
    return counts.get("user"), counts.get("critic")


def _see_all_count(lines: list[str]) -> str | None:
    """The user review count of a "See all 119 user reviews" link, or None."""
    return next((match[1] for line in lines if (match := _SEE_ALL_REVIEWS.search(line))), None)


_TCONST_URL = re.compile(r"imdb\.com/title/(tt\d+)")


def _text_tconst(lines: list[str], own: list[int]) -> str | None:
    """The tconst of an IMDb title URL at the top of the text, where savers put the page's address."""
    for i in own[:5]:
        if match := _TCONST_URL.search(lines[i]):
            return match[1]
    return None


# --- The page text: More Like This ---------------------------------------------------------------
#
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


def _related_titles(lines: list[str]) -> tuple[list[Row], range]:
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
    title, year = _title_and_year(title_line) or (title_line, None)
    credits = _entry_credits(lines[widget + 1 : end])
    rating = _WIDGET.match(lines[widget])
    return {
        "title": title,
        "year": year,
        "site_rating": rating[1] if rating else None,  # None for an unrated "-/10"
        "genres": genres,
        "directors": _people(credits.get("Director")),
        "writers": _people(credits.get("Writer")),
        "stars": _people(credits.get("Star")),
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


# --- The page text: user reviews -----------------------------------------------------------------
#
# Each review is: [8/10] / Review title / "3 September 2002 | by authorSee all my reviews" / blank
# / paragraphs / "41 of 57 people found this review helpful. Was this review helpful to you? | ..."

_REVIEW_HEADER = re.compile(
    r"^(?P<date>\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}) \| by (?P<author>.+)$"
)
_HELPFUL = re.compile(r"^(\d[\d,]*) (?:out )?of (\d[\d,]*) people found this review helpful")
# 2008-2012 pages put the votes above the review they count, not below it.
_HELPFUL_ABOVE = re.compile(
    r"^(\d[\d,]*) out of (\d[\d,]*) people found the following (?:review|comment) useful:?$"
)
_REVIEW_RATING = re.compile(r"^(\d{1,2})\s*/\s*10$")
_OWN_REVIEWS_LINK = re.compile(r"\s*(?:[–-]\s*)?See all my reviews$")
_WAS_HELPFUL = "Was this review helpful to you?"
_REVIEWS_END = re.compile(
    rf"^(?:Review this title\b|See all {_COUNT} user reviews\b"
    r"|Contribute to This Page$|Recently Viewed$)"
)
_REVIEWS_HEADING = "user reviews"


def _reviews(lines: list[str], related_span: range) -> tuple[list[Row], range]:
    """The user reviews and the span of lines they take (an empty range when none)."""
    headers = [
        i for i, line in enumerate(lines) if i not in related_span and _REVIEW_HEADER.match(line)
    ]
    if not headers:
        return [], range(0)
    heads = [_review_head(lines, header) for header in headers]
    # The last review's body runs to the end of the text unless a helpful line or end marker stops
    # it; it must not run into a More Like This block placed after it.
    last_stop = related_span.start if related_span.start > headers[-1] else len(lines)
    stops = [start for start, *_ in heads[1:]] + [last_stop]
    reviews, end = [], last_stop
    for header, (_, title, rating, votes), stop in zip(headers, heads, stops, strict=True):
        review, end = _review(lines, header, title, rating, stop)
        if votes and review["helpful_votes"] is None:
            review["helpful_votes"], review["total_votes"] = votes
        reviews.append(review)
    first = heads[0][0]
    heading = next(
        (i for i in range(first - 1, -1, -1) if lines[i].casefold() == _REVIEWS_HEADING), None
    )
    return reviews, range(first if heading is None else heading, end)


def _review_head(
    lines: list[str], header: int
) -> tuple[int, str | None, str | None, tuple[str, str] | None]:
    """Where a review starts, its title, its star rating and the helpful votes written above it."""
    start, title, rating = _review_title_and_rating(lines, header)
    if start > 0 and (votes := _HELPFUL_ABOVE.match(lines[start - 1])):
        return start - 1, title, rating, (votes[1], votes[2])
    return start, title, rating, None


def _review_title_and_rating(lines: list[str], header: int) -> tuple[int, str | None, str | None]:
    """Where a review starts, its title and its star rating: the lines just above its header."""
    above = header - 1
    if above < 0:
        return header, None, None
    if rating := _REVIEW_RATING.match(lines[above]):
        return above, None, rating[1]
    if not lines[above] or _closes_section(lines[above]):
        return header, None, None
    if above >= 1 and (rating := _REVIEW_RATING.match(lines[above - 1])):
        return above - 1, lines[above], rating[1]
    return above, lines[above], None


def _closes_section(line: str) -> bool:
    """True for lines that end a review or open the reviews, which are never a review's title."""
    return bool(
        _HELPFUL.match(line)
        or _HELPFUL_ABOVE.match(line)
        or line.startswith(_WAS_HELPFUL)
        or line.casefold() == _REVIEWS_HEADING
        or _REVIEWS_END.match(line)
    )


def _review(
    lines: list[str], header: int, title: str | None, rating: str | None, stop: int
) -> tuple[Row, int]:
    """One review read from its header line up to stop, and where it ends."""
    match = _REVIEW_HEADER.match(lines[header])
    assert match is not None  # header indexes come from _REVIEW_HEADER matches
    body_from = header + 1
    # A star rating shown right under the header (no blank line) is the site's, not the reviewer's
    # prose; a score written inside the text ("4 of 4") is never taken as the rating.
    if rating is None and body_from < stop and (below := _REVIEW_RATING.match(lines[body_from])):
        rating, body_from = below[1], body_from + 1
    body_to, end, helpful, total = stop, stop, None, None
    for i in range(body_from, stop):
        if votes := _HELPFUL.match(lines[i]):
            body_to, end, helpful, total = i, i + 1, votes[1], votes[2]
            break
        if _REVIEWS_END.match(lines[i]):
            body_to = end = i
            break
    author = _OWN_REVIEWS_LINK.sub("", match["author"]).strip() or None
    return {
        "author": author,
        "review_date": match["date"],
        "rating": rating,
        "review_title": title,
        "review_text": _paragraphs(lines[body_from:body_to]),
        "helpful_votes": helpful,
        "total_votes": total,
    }, end


def _paragraphs(lines: list[str]) -> str | None:
    """The lines as paragraphs separated by one blank line, without the "Was this helpful" links."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.startswith(_WAS_HELPFUL) or line == "Report this":
            line = ""
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    return "\n\n".join(paragraphs) or None


# --- Saved HTML ----------------------------------------------------------------------------------


def _from_html(markup: str) -> _Found:
    """Everything a saved HTML page says: JSON-LD, microdata, its <title>, then its visible text."""
    tree = LexborHTMLParser(markup)
    body = tree.body
    visible = _lines(_visible_text(body)) if body is not None else []
    jsonld, microdata, text = _from_jsonld(tree), _from_microdata(tree), _from_lines(visible)
    # The <title> names the page's own title; a "Title (Year)" line of the visible text may be an
    # ad's or a "Recently Viewed" entry's, so the text's comes last.
    found = _merged([jsonld, microdata, _from_head_title(tree), text])
    found.tconst = _html_tconst(tree) or found.tconst
    helpful = [(m[1], m[2]) for line in visible if (m := _HELPFUL.match(line))]
    found.reviews = _with_helpful_in_order(found.reviews, helpful)
    return found


def _merged(layers: list[_Found]) -> _Found:
    """One layer from several: per field the first layer's value that is not None."""
    keys = {key for layer in layers for key in layer.title}
    title = {key: next((v for lay in layers if (v := lay.title.get(key))), None) for key in keys}
    return _Found(
        title=title,
        related=next((layer.related for layer in layers if layer.related), []),
        reviews=_merged_reviews([layer.reviews for layer in layers]),
        tconst=next((layer.tconst for layer in layers if layer.tconst), None),
    )


def _merged_reviews(layers: list[list[Row]]) -> list[Row]:
    """The first layer that has reviews, each review's gaps filled from its match in later ones."""
    first = next((i for i, reviews in enumerate(layers) if reviews), None)
    if first is None:
        return []
    merged = [dict(review) for review in layers[first]]
    for later in layers[first + 1 :]:
        for review, match in zip(merged, _matches(merged, later), strict=True):
            for key, value in (match or {}).items():
                if review.get(key) is None:
                    review[key] = value
    return merged


def _matches(reviews: list[Row], others: list[Row]) -> list[Row | None]:
    """For each review, the other review by the same author with the same title, else the one at the
    same position when both layers hold equally many reviews."""

    def key(review: Row) -> tuple[str, str] | None:
        author, title = review.get("author"), review.get("review_title")
        return (author.casefold(), title.casefold()) if author and title else None

    by_key = {k: other for other in reversed(others) if (k := key(other))}
    same_length = len(reviews) == len(others)
    return [
        by_key.get(key(review) or ("", "")) or (others[i] if same_length else None)
        for i, review in enumerate(reviews)
    ]


def _with_helpful_in_order(reviews: list[Row], helpful: list[tuple[str, str]]) -> list[Row]:
    """The reviews with the page's "N of M people found this review helpful" counts given in order,
    when no review has counts yet and there is exactly one count per review."""
    if any(review.get("helpful_votes") for review in reviews) or len(helpful) != len(reviews):
        return reviews
    return [
        review | {"helpful_votes": votes, "total_votes": total}
        for review, (votes, total) in zip(reviews, helpful, strict=True)
    ]


# Elements whose content is never shown; their text must not reach the line grammar.
_INVISIBLE = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "title", "iframe", "object"}
)
# Paragraph-like blocks get a blank line around them, as review paragraphs do in saved text.
_PARAGRAPHS = frozenset({"p", "blockquote", "pre", "hr", "table"})
_BLOCKS = _PARAGRAPHS | frozenset(
    "address article aside body dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup li main nav ol section summary tr ul caption".split()
)


class _LineWriter:
    """Collects text the way a browser lays it out: blocks break lines, paragraphs leave a blank."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buffer: list[str] = []
        self.gap = 0  # 1: the next text starts a line; 2: a blank line comes first

    def text(self, value: str) -> None:
        """Add inline text; whitespace runs count as one space, as in HTML."""
        value = _SPACE.sub(" ", value)
        if not value.strip():
            if self.buffer:
                self.buffer.append(" ")
            return
        if self.gap == 2 and self.lines and self.lines[-1]:
            self.lines.append("")
        self.gap = 0
        self.buffer.append(value)

    def line_break(self) -> None:
        """End the current line (<br>); two in a row leave a blank line."""
        self.lines.append("".join(self.buffer).strip())
        self.buffer = []
        self.gap = 0

    def block(self, gap: int) -> None:
        """End the current line at a block's edge."""
        if line := "".join(self.buffer).strip():
            self.lines.append(line)
        self.buffer = []
        self.gap = max(self.gap, gap)

    def result(self) -> str:
        """The collected lines, with runs of blank lines as one and none at either end."""
        self.block(0)
        kept = [line for i, line in enumerate(self.lines) if line or (i and self.lines[i - 1])]
        return "\n".join(kept).strip("\n")


def _visible_text(root: LexborNode) -> str:
    """The text a reader sees under root, one line per block and a blank line between paragraphs."""
    writer = _LineWriter()
    # An explicit stack rather than recursion: saved pages can nest deeper than Python's limit.
    stack: list[LexborNode | int] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, int):
            writer.block(item)
            continue
        if item.is_text_node:
            writer.text(item.text(deep=False))
            continue
        tag = item.tag
        if not item.is_element_node or tag in _INVISIBLE or "hidden" in item.attributes:
            continue
        if tag == "br":
            writer.line_break()
            continue
        gap = 2 if tag in _PARAGRAPHS else 1 if tag in _BLOCKS else 0
        if gap:
            writer.block(gap)
            stack.append(gap)
        stack.extend(reversed(list(item.iter(include_text=True))))
    return writer.result()


def _flat_text(node: LexborNode) -> str | None:
    """The node's visible text on one line, or None when it shows none."""
    return _SPACE.sub(" ", _visible_text(node)).strip() or None


_OG_TITLE_SUFFIX = " - IMDb"


def _from_head_title(tree: LexborHTMLParser) -> _Found:
    """Title and year from the <title> or og:title ("Zerkalo (1975) - IMDb"), when they hold them."""
    candidates = [node.text() for node in tree.css("title")]
    candidates += [
        meta.attributes.get("content") or ""
        for meta in tree.css("meta")
        if meta.attributes.get("property") == "og:title"
    ]
    for candidate in candidates:
        line = _SPACE.sub(" ", candidate).strip().removesuffix(_OG_TITLE_SUFFIX)
        if found := _title_and_year(line):
            return _Found(title={"title": found[0], "year": found[1]})
    return _Found()


_TCONST_IN_URL = re.compile(r"/title/(tt\d+)")


def _html_tconst(tree: LexborHTMLParser) -> str | None:
    """The page's tconst from its canonical link, og:url or pageId meta tag, or None."""
    urls = [
        link.attributes.get("href") or ""
        for link in tree.css("link")
        if "canonical" in (link.attributes.get("rel") or "").lower().split()
    ]
    for meta in tree.css("meta"):
        key = meta.attributes.get("property") or meta.attributes.get("name")
        content = meta.attributes.get("content") or ""
        if key == "og:url":
            urls.append(content)
        elif key in ("pageId", "imdb:pageConst"):
            urls.append(f"/title/{content}/")
    return next((match[1] for url in urls if (match := _TCONST_IN_URL.search(url))), None)


# --- Saved HTML: JSON-LD -------------------------------------------------------------------------

_WORK_TYPES = frozenset(
    {
        "Movie", "TVSeries", "TVEpisode", "TVSeason", "TVMiniSeries", "TVSpecial", "TVMovie",
        "CreativeWork", "CreativeWorkSeries", "VideoGame", "ShortFilm", "PodcastSeries",
        "PodcastEpisode",
    }
)  # fmt: skip
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _from_jsonld(tree: LexborHTMLParser) -> _Found:
    """The title and reviews of the page's JSON-LD work (Movie, TVSeries, ...), if it has one."""
    work = next((item for item in _jsonld_objects(tree) if _types(item) & _WORK_TYPES), None)
    if work is None:
        return _Found()
    rating = work.get("aggregateRating")
    rating = rating if isinstance(rating, dict) else {}
    title: Row = {
        "title": _text(work.get("name")),
        "year": _year(_text(work.get("datePublished"))),
        "site_rating": _text(rating.get("ratingValue")),
        "site_votes": _count(_text(rating.get("ratingCount"))),
        "user_review_count": _count(_text(rating.get("reviewCount"))),
        "genres": " | ".join(_names(work.get("genre"))) or None,
        "directors": _people(", ".join(_names(work.get("director")))),
        "writers": _people(", ".join(_names(work.get("creator")))),
        "stars": _people(", ".join(_names(work.get("actor")))),
        "country": " | ".join(_names(work.get("countryOfOrigin"))) or None,
        "language": " | ".join(_names(work.get("inLanguage"))) or None,
        "runtime_minutes": _minutes(_text(work.get("duration"))),
    }
    url = _text(work.get("url")) or ""
    tconst = match[1] if (match := _TCONST_IN_URL.search(url)) else None
    reviews = [_jsonld_review(review) for review in _listed(work.get("review"))]
    return _Found(title=title, reviews=[r for r in reviews if any(r.values())], tconst=tconst)


def _jsonld_objects(tree: LexborHTMLParser) -> Iterator[dict[str, Any]]:
    """Every top-level JSON-LD object of the page, @graph members included."""
    for script in tree.css("script"):
        if (script.attributes.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            # Numbers stay the literal text the page wrote ("8.1", not 8.1000000001).
            data = json.loads(script.text(), parse_int=str, parse_float=str, strict=False)
        except ValueError:
            continue  # one broken block must not hide the rest of the page
        for item in _listed(data):
            if isinstance(item, dict):
                yield item
                yield from (g for g in _listed(item.get("@graph")) if isinstance(g, dict))


def _jsonld_review(review: Any) -> Row:
    """One JSON-LD review: author, date, rating, title and body."""
    if not isinstance(review, dict):
        return {}
    rating = review.get("reviewRating")
    authors = _names(review.get("author"))
    return {
        "author": _OWN_REVIEWS_LINK.sub("", authors[0]) if authors else None,
        "review_date": _display_date(
            _text(review.get("dateCreated")) or _text(review.get("datePublished"))
        ),
        "rating": _text(rating.get("ratingValue")) if isinstance(rating, dict) else _text(rating),
        "review_title": _text(review.get("name")),
        "review_text": _body_text(review.get("reviewBody")),
    }


def _listed(value: Any) -> list[Any]:
    """The value as a list: itself when a list, [] when None, else a one-item list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(item: dict[str, Any]) -> set[str]:
    """The schema.org type names of a JSON-LD object ("Movie"), without any URL prefix."""
    return {str(t).rstrip("/").rsplit("/", 1)[-1] for t in _listed(item.get("@type"))}


def _text(value: Any) -> str | None:
    """A JSON-LD string as displayed text: entities decoded, spaces collapsed; None when empty."""
    if not isinstance(value, str):
        return None
    return _SPACE.sub(" ", html.unescape(value)).strip() or None


def _names(value: Any) -> list[str]:
    """The names in a JSON-LD value of strings or {name} objects; organisations are not people."""
    names = []
    for item in _listed(value):
        if isinstance(item, dict):
            if "Organization" in _types(item):
                continue
            item = item.get("name")
        if text := _text(item):
            names.append(text)
    return names


def _body_text(value: Any) -> str | None:
    """A review body as paragraphs separated by a blank line, markup and entities resolved."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    if "<br" in lowered or "<p" in lowered:
        body = LexborHTMLParser(value).body
        text = _visible_text(body) if body is not None else ""
    else:
        text = html.unescape(value)
    return _paragraphs(_lines(text))


def _year(value: str | None) -> str | None:
    """The year a date starts with ("1975" of "1975-03-07"), or None."""
    return value[:4] if value and value[:4].isdigit() else None


def _display_date(value: str | None) -> str | None:
    """An ISO date as the page shows dates ("3 September 2002"); any other text as it is."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# --- Saved HTML: microdata -----------------------------------------------------------------------


def _from_microdata(tree: LexborHTMLParser) -> _Found:
    """The title and reviews of the page's schema.org microdata (itemscope/itemprop), if any."""
    items = tree.css("[itemscope]")
    work = next((item for item in items if _item_type(item) in _WORK_TYPES), None)
    reviews = [_microdata_review(item) for item in items if _item_type(item) == "Review"]
    props = _item_properties(work) if work is not None else {}
    rating_item = next(
        (node for node in props.get("aggregateRating", []) if "itemscope" in node.attributes),
        None,
    ) or next((item for item in items if _item_type(item) == "AggregateRating"), None)
    # Older pages put ratingValue straight on the work, without an AggregateRating item.
    rating = _item_properties(rating_item) if rating_item is not None else props
    counts = rating.get("reviewCount", []) or props.get("reviewCount", [])
    users, critics = _microdata_review_counts(counts)
    name = _prop_text(_first(props, "name"))
    title, year = _title_and_year(name) or (name, None)
    found = {
        "title": title,
        "year": year or _year(_prop_value(_first(props, "datePublished"))),
        "site_rating": _prop_text(_first(rating, "ratingValue")),
        "site_votes": _count(_prop_text(_first(rating, "ratingCount"))),
        "user_review_count": users,
        "critic_review_count": critics,
        "genres": " | ".join(_texts(props.get("genre", []))) or None,
        "directors": _people(", ".join(_persons(props.get("director", [])))),
        "writers": _people(", ".join(_persons(props.get("creator", [])))),
        "stars": _people(", ".join(_persons(props.get("actors", []) + props.get("actor", [])))),
        "country": " | ".join(_persons(props.get("countryOfOrigin", []))) or None,
        "language": " | ".join(_texts(props.get("inLanguage", []))) or None,
        "runtime_minutes": _minutes(
            _prop_value(_first(props, "duration")) or _prop_text(_first(props, "duration"))
        ),
    }
    url = _prop_value(_first(props, "url")) or ""
    tconst = match[1] if (match := _TCONST_IN_URL.search(url)) else None
    return _Found(title=found, reviews=reviews, tconst=tconst)


def _item_type(node: LexborNode) -> str:
    """The schema.org type name of an itemscope element ("Movie"), or ""."""
    return (node.attributes.get("itemtype") or "").strip().rstrip("/").rsplit("/", 1)[-1]


def _item_properties(item: LexborNode) -> dict[str, list[LexborNode]]:
    """Each property of a microdata item and the elements holding it, in document order."""
    properties: dict[str, list[LexborNode]] = {}
    stack = list(reversed(list(item.iter())))
    while stack:
        node = stack.pop()
        for name in (node.attributes.get("itemprop") or "").split():
            properties.setdefault(name, []).append(node)
        # A nested item's own properties belong to it, not to this item.
        if "itemscope" not in node.attributes:
            stack.extend(reversed(list(node.iter())))
    return properties


def _first(properties: dict[str, list[LexborNode]], name: str) -> LexborNode | None:
    """The first element holding a property, or None."""
    nodes = properties.get(name)
    return nodes[0] if nodes else None


def _prop_value(node: LexborNode | None) -> str | None:
    """A property's machine value: content, datetime or href attribute, or None."""
    if node is None:
        return None
    attributes = node.attributes
    for attribute in ("content", "datetime", "href"):
        if value := (attributes.get(attribute) or "").strip():
            return value
    return None


def _prop_text(node: LexborNode | None) -> str | None:
    """A property as a reader sees it: its visible text, else its content attribute."""
    if node is None:
        return None
    if node.tag == "meta":
        return _text(node.attributes.get("content"))
    return _flat_text(node) or _text(_prop_value(node))


def _texts(nodes: list[LexborNode]) -> list[str]:
    """The displayed text of each element that shows some."""
    return [text for node in nodes if (text := _prop_text(node))]


def _persons(nodes: list[LexborNode]) -> list[str]:
    """Names of person properties: a nested item's name, else the element's text; no organisations."""
    names = []
    for node in nodes:
        if "itemscope" in node.attributes:
            if _item_type(node) == "Organization":
                continue
            name = _prop_text(_first(_item_properties(node), "name")) or _prop_text(node)
        else:
            name = _prop_text(node)
        if name:
            names.append(name)
    return names


def _microdata_review_counts(nodes: list[LexborNode]) -> tuple[str | None, str | None]:
    """User and critic review counts of reviewCount elements ("119 user", "70 critic", or one
    element holding "246 user | 120 critic")."""
    texts = [_prop_text(node) or "" for node in nodes]
    users, critics = _labelled_review_counts("\n".join(texts))
    if users is None and critics is None:
        # A count without a word (content="246") is the user review count, as in JSON-LD.
        users = next((count for text in texts if (count := _count(text))), None)
    return users, critics


_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _microdata_review(item: LexborNode) -> Row:
    """One microdata review: author, date, rating, title and body."""
    props = _item_properties(item)
    authors = _persons(props.get("author", []))
    date = _first(props, "datePublished") or _first(props, "dateCreated")
    rating_node = _first(props, "reviewRating")
    if rating_node is not None and "itemscope" in rating_node.attributes:
        rating_node = _first(_item_properties(rating_node), "ratingValue")
    rating = _prop_value(rating_node) or _prop_text(rating_node)
    rating_number = _ANY_NUMBER.search(rating or "")
    body = _first(props, "reviewBody")
    return {
        "author": (_OWN_REVIEWS_LINK.sub("", authors[0]).strip() or None) if authors else None,
        "review_date": _display_date(_prop_value(date) or _prop_text(date)),
        "rating": rating_number[0] if rating_number else None,
        "review_title": _prop_text(_first(props, "name")),
        "review_text": _paragraphs(_lines(_visible_text(body))) if body is not None else None,
    }
