"""The microdata parser (2008-2017 pages): the schema.org items' (itemscope/itemprop) title fields and
reviews."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from reviewpipe.sources.imdb_page.jsonld import WORK_TYPES, display_date, displayed_text, year_of
from reviewpipe.sources.imdb_page.reviews import OWN_REVIEWS_LINK, as_paragraphs
from reviewpipe.sources.imdb_page.shared import (
    TCONST_IN_URL,
    Found,
    Row,
    first_count,
    minutes_of,
    people,
    split_lines,
    title_and_year,
)
from reviewpipe.sources.imdb_page.text import labelled_review_counts
from reviewpipe.sources.imdb_page.visible_text import flat_text, visible_text


def from_microdata(tree: LexborHTMLParser) -> Found:
    """The title and reviews of the page's schema.org microdata (itemscope/itemprop), if any."""
    items = tree.css("[itemscope]")
    work = next((item for item in items if _item_type(item) in WORK_TYPES), None)
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
    title, year = title_and_year(name) or (name, None)
    found = {
        "title": title,
        "year": year or year_of(_prop_value(_first(props, "datePublished"))),
        "site_rating": _prop_text(_first(rating, "ratingValue")),
        "site_votes": first_count(_prop_text(_first(rating, "ratingCount"))),
        "user_review_count": users,
        "critic_review_count": critics,
        "genres": " | ".join(_texts(props.get("genre", []))) or None,
        "directors": people(", ".join(_persons(props.get("director", [])))),
        "writers": people(", ".join(_persons(props.get("creator", [])))),
        "stars": people(", ".join(_persons(props.get("actors", []) + props.get("actor", [])))),
        "country": " | ".join(_persons(props.get("countryOfOrigin", []))) or None,
        "language": " | ".join(_texts(props.get("inLanguage", []))) or None,
        "runtime_minutes": minutes_of(
            _prop_value(_first(props, "duration")) or _prop_text(_first(props, "duration"))
        ),
    }
    url = _prop_value(_first(props, "url")) or ""
    tconst = match[1] if (match := TCONST_IN_URL.search(url)) else None
    return Found(title=found, reviews=reviews, tconst=tconst)


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
        return displayed_text(node.attributes.get("content"))
    return flat_text(node) or displayed_text(_prop_value(node))


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
    users, critics = labelled_review_counts("\n".join(texts))
    if users is None and critics is None:
        # A count without a word (content="246") is the user review count, as in JSON-LD.
        users = next((count for text in texts if (count := first_count(text))), None)
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
        "author": (OWN_REVIEWS_LINK.sub("", authors[0]).strip() or None) if authors else None,
        "review_date": display_date(_prop_value(date) or _prop_text(date)),
        "rating": rating_number[0] if rating_number else None,
        "review_title": _prop_text(_first(props, "name")),
        "review_text": as_paragraphs(split_lines(visible_text(body))) if body is not None else None,
    }
