"""The JSON-LD parser (2018+ pages): the schema.org work's title fields and its reviews."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from reviewpipe.sources.imdb_page.reviews import OWN_REVIEWS_LINK, as_paragraphs
from reviewpipe.sources.imdb_page.shared import (
    SPACE,
    TCONST_IN_URL,
    Found,
    Row,
    first_count,
    minutes_of,
    people,
    split_lines,
)
from reviewpipe.sources.imdb_page.visible_text import visible_text

WORK_TYPES = frozenset(
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


def from_jsonld(tree: LexborHTMLParser) -> Found:
    """The title and reviews of the page's JSON-LD work (Movie, TVSeries, ...), if it has one."""
    work = next((item for item in _jsonld_objects(tree) if _types(item) & WORK_TYPES), None)
    if work is None:
        return Found()
    rating = work.get("aggregateRating")
    rating = rating if isinstance(rating, dict) else {}
    title: Row = {
        "title": displayed_text(work.get("name")),
        "year": year_of(displayed_text(work.get("datePublished"))),
        "site_rating": displayed_text(rating.get("ratingValue")),
        "site_votes": first_count(displayed_text(rating.get("ratingCount"))),
        "user_review_count": first_count(displayed_text(rating.get("reviewCount"))),
        "genres": " | ".join(_names(work.get("genre"))) or None,
        "directors": people(", ".join(_names(work.get("director")))),
        "writers": people(", ".join(_names(work.get("creator")))),
        "stars": people(", ".join(_names(work.get("actor")))),
        "country": " | ".join(_names(work.get("countryOfOrigin"))) or None,
        "language": " | ".join(_names(work.get("inLanguage"))) or None,
        "runtime_minutes": minutes_of(displayed_text(work.get("duration"))),
    }
    url = displayed_text(work.get("url")) or ""
    tconst = match[1] if (match := TCONST_IN_URL.search(url)) else None
    reviews = [_jsonld_review(review) for review in _listed(work.get("review"))]
    return Found(title=title, reviews=[r for r in reviews if any(r.values())], tconst=tconst)


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
        "author": OWN_REVIEWS_LINK.sub("", authors[0]) if authors else None,
        "review_date": display_date(
            displayed_text(review.get("dateCreated")) or displayed_text(review.get("datePublished"))
        ),
        "rating": displayed_text(rating.get("ratingValue")) if isinstance(rating, dict) else displayed_text(rating),
        "review_title": displayed_text(review.get("name")),
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


def displayed_text(value: Any) -> str | None:
    """A JSON-LD string as displayed text: entities decoded, spaces collapsed; None when empty."""
    if not isinstance(value, str):
        return None
    return SPACE.sub(" ", html.unescape(value)).strip() or None


def _names(value: Any) -> list[str]:
    """The names in a JSON-LD value of strings or {name} objects; organisations are not people."""
    names = []
    for item in _listed(value):
        if isinstance(item, dict):
            if "Organization" in _types(item):
                continue
            item = item.get("name")
        if text := displayed_text(item):
            names.append(text)
    return names


def _body_text(value: Any) -> str | None:
    """A review body as paragraphs separated by a blank line, markup and entities resolved."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    if "<br" in lowered or "<p" in lowered:
        body = LexborHTMLParser(value).body
        text = visible_text(body) if body is not None else ""
    else:
        text = html.unescape(value)
    return as_paragraphs(split_lines(text))


def year_of(value: str | None) -> str | None:
    """The year a date starts with ("1975" of "1975-03-07"), or None."""
    return value[:4] if value and value[:4].isdigit() else None


def display_date(value: str | None) -> str | None:
    """An ISO date as the page shows dates ("3 September 2002"); any other text as it is."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
