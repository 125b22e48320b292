"""A saved page's bytes -> the Page: decoded, read as HTML or as text, its title ids given."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from reviewpipe.schema import REVIEW_FIELDS, TITLE_FIELDS
from reviewpipe.sources.imdb_page.saved_html import from_html
from reviewpipe.sources.imdb_page.shared import Found, Row
from reviewpipe.sources.imdb_page.text import from_text


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
        found = from_html(text)
        missing = f"no JSON-LD or microdata title, and its visible text has {_TEXT_SIGNS}"
    else:
        found = from_text(text)
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


def _page(found: Found, file_name: str) -> Page:
    """The Page for what was found: full-key rows, the page's title_id on its reviews and related titles."""
    own = _row(TITLE_FIELDS, found.title)
    # The tconst is the stable key; without one, "Title (Year)" is how the other IMDb sources name a
    # film; a page with neither still needs a key so that its reviews stay attached to it.
    title_id = found.tconst or _display_id(own["title"], own["year"]) or PurePath(file_name).name
    own["title_id"] = title_id
    titles = [own]
    for position, entry in enumerate(found.related, start=1):
        related = _row(TITLE_FIELDS, entry)
        # Entries without a title line keep a row (their rating and credits are still data).
        related["title_id"] = (
            _display_id(related["title"], related["year"]) or f"{title_id} related {position}"
        )
        related["related_to_title_id"] = title_id
        titles.append(related)
    reviews = [_row(REVIEW_FIELDS, review) | {"title_id": title_id} for review in found.reviews]
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
