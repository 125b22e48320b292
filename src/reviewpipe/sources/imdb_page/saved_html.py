"""The saved HTML parser: its JSON-LD, microdata, <title> and visible text, merged into one layer."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from reviewpipe.sources.imdb_page.jsonld import from_jsonld
from reviewpipe.sources.imdb_page.microdata import from_microdata
from reviewpipe.sources.imdb_page.reviews import HELPFUL
from reviewpipe.sources.imdb_page.shared import (
    SPACE,
    TCONST_IN_URL,
    Found,
    Row,
    split_lines,
    title_and_year,
)
from reviewpipe.sources.imdb_page.text import from_lines
from reviewpipe.sources.imdb_page.visible_text import visible_text


def from_html(markup: str) -> Found:
    """Everything a saved HTML page says: JSON-LD, microdata, its <title>, then its visible text."""
    tree = LexborHTMLParser(markup)
    body = tree.body
    visible = split_lines(visible_text(body)) if body is not None else []
    jsonld, microdata, text = from_jsonld(tree), from_microdata(tree), from_lines(visible)
    # The <title> names the page's own title; a "Title (Year)" line of the visible text may be an
    # ad's or a "Recently Viewed" entry's, so the text's comes last.
    found = _merged([jsonld, microdata, _from_head_title(tree), text])
    found.tconst = _html_tconst(tree) or found.tconst
    helpful = [(m[1], m[2]) for line in visible if (m := HELPFUL.match(line))]
    found.reviews = _with_helpful_in_order(found.reviews, helpful)
    return found


def _merged(layers: list[Found]) -> Found:
    """One layer from several: per field the first layer's value that is not None."""
    keys = {key for layer in layers for key in layer.title}
    title = {key: next((v for lay in layers if (v := lay.title.get(key))), None) for key in keys}
    return Found(
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


_OG_TITLE_SUFFIX = " - IMDb"


def _from_head_title(tree: LexborHTMLParser) -> Found:
    """Title and year from the <title> or og:title ("Zerkalo (1975) - IMDb"), when they hold them."""
    candidates = [node.text() for node in tree.css("title")]
    candidates += [
        meta.attributes.get("content") or ""
        for meta in tree.css("meta")
        if meta.attributes.get("property") == "og:title"
    ]
    for candidate in candidates:
        line = SPACE.sub(" ", candidate).strip().removesuffix(_OG_TITLE_SUFFIX)
        if found := title_and_year(line):
            return Found(title={"title": found[0], "year": found[1]})
    return Found()


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
    return next((match[1] for url in urls if (match := TCONST_IN_URL.search(url))), None)
