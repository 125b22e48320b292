"""The page text parser: everything a page's visible lines say (a .txt page, or the text of saved
HTML): its own title fields, its related titles and its user reviews."""

from __future__ import annotations

import re

from reviewpipe.sources.imdb_page.related import related_titles
from reviewpipe.sources.imdb_page.reviews import user_reviews
from reviewpipe.sources.imdb_page.shared import (
    COUNT,
    LABEL_LINE,
    Found,
    Row,
    leading_count,
    minutes_of,
    people,
    pipe_list,
    split_lines,
    title_and_year,
)


def from_text(text: str) -> Found:
    """Everything the page's visible text says."""
    return from_lines(split_lines(text))


def from_lines(lines: list[str]) -> Found:
    """Everything the page's lines say: own title fields, More Like This entries, user reviews."""
    related, related_span = related_titles(lines)
    reviews, reviews_span = user_reviews(lines, related_span)
    # Credits and counts in related entries and in review bodies must not be read as the page's own.
    own = [i for i in range(len(lines)) if i not in related_span and i not in reviews_span]
    title = _own_title(lines, own)
    if title["user_review_count"] is None:
        title["user_review_count"] = _see_all_count(lines)
    return Found(title=title, related=related, reviews=reviews, tconst=_text_tconst(lines, own))


def _own_title(lines: list[str], own: list[int]) -> Row:
    """The page's own title fields, read from its own lines (not More Like This, not the reviews)."""
    title, year = next((found for i in own if (found := title_and_year(lines[i]))), (None, None))
    rating, votes = _site_rating(lines, own)
    users, critics = _review_counts(lines, own)
    return {
        "title": title,
        "year": year,
        "site_rating": rating,
        "site_votes": votes,
        "user_review_count": users,
        "critic_review_count": critics,
        "genres": pipe_list(_labelled(lines, own, ("Genres", "Genre"))),
        "directors": people(_labelled(lines, own, ("Directors", "Director"))),
        "writers": people(_labelled(lines, own, ("Writers", "Writer"))),
        "stars": people(_labelled(lines, own, ("Stars", "Star"))),
        "country": pipe_list(_labelled(lines, own, ("Countries", "Country"))),
        "language": pipe_list(_labelled(lines, own, ("Languages", "Language"))),
        "runtime_minutes": minutes_of(_labelled(lines, own, ("Runtime",))),
        "popularity": leading_count(_labelled(lines, own, ("Popularity",), colon_optional=True)),
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
        return None if value is None or LABEL_LINE.match(value) else value
    return None


# "8.1/10", or a 2008-2012 star-box: "Ratings: 7.3/10 from 1,234 users | Reviews: 246 user ..."
_SITE_RATING = re.compile(
    rf"^(?:Ratings?:\s*)?(\d{{1,2}}(?:\.\d+)?)\s*/\s*10(?:\s+from\s+({COUNT})\s+users?)?"
    r"(?:\s*\|\s*Reviews:.*)?$"
)
_VOTES_LINE = re.compile(rf"^{COUNT}$")


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
_LABELLED_COUNT = rf"({COUNT})\s*([Uu]ser|[Cc]ritic)(?:\s*[Rr]eviews?)?"
# The counts block: one or two labelled counts alone on their lines (or after "Reviews:"), apart by
# "|", "·", spaces or line breaks, so that "See all 246 user reviews" and prose are never read.
_REVIEW_COUNTS = re.compile(
    rf"(?:^|Reviews:)[ \t]*{_LABELLED_COUNT}(?:\s*[|·•]?\s*{_LABELLED_COUNT})?[ \t]*$",
    re.MULTILINE,
)
_SEE_ALL_REVIEWS = re.compile(rf"See all ({COUNT}) user reviews")


def _review_counts(lines: list[str], own: list[int]) -> tuple[str | None, str | None]:
    """The user and critic review counts of the page's own lines ("119 user 70 critic")."""
    kept = set(own)
    # Other lines are blanked, not dropped, so that counts never join across a review or entry.
    return labelled_review_counts(
        "\n".join(line if i in kept else "" for i, line in enumerate(lines))
    )


def labelled_review_counts(text: str) -> tuple[str | None, str | None]:
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
