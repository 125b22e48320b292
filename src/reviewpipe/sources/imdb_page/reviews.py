"""The page text's user reviews: header, title, star rating, paragraphs and helpful votes of each."""

from __future__ import annotations

import re

from reviewpipe.sources.imdb_page.shared import COUNT, Row

# Each review is: [8/10] / Review title / "3 September 2002 | by authorSee all my reviews" / blank
# / paragraphs / "41 of 57 people found this review helpful. Was this review helpful to you? | ..."

_REVIEW_HEADER = re.compile(
    r"^(?P<date>\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}) \| by (?P<author>.+)$"
)
HELPFUL = re.compile(r"^(\d[\d,]*) (?:out )?of (\d[\d,]*) people found this review helpful")
# 2008-2012 pages put the votes above the review they count, not below it.
_HELPFUL_ABOVE = re.compile(
    r"^(\d[\d,]*) out of (\d[\d,]*) people found the following (?:review|comment) useful:?$"
)
_REVIEW_RATING = re.compile(r"^(\d{1,2})\s*/\s*10$")
OWN_REVIEWS_LINK = re.compile(r"\s*(?:[–-]\s*)?See all my reviews$")
_WAS_HELPFUL = "Was this review helpful to you?"
_REVIEWS_END = re.compile(
    rf"^(?:Review this title\b|See all {COUNT} user reviews\b"
    r"|Contribute to This Page$|Recently Viewed$)"
)
_REVIEWS_HEADING = "user reviews"


def user_reviews(lines: list[str], related_span: range) -> tuple[list[Row], range]:
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
        HELPFUL.match(line)
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
        if votes := HELPFUL.match(lines[i]):
            body_to, end, helpful, total = i, i + 1, votes[1], votes[2]
            break
        if _REVIEWS_END.match(lines[i]):
            body_to = end = i
            break
    author = OWN_REVIEWS_LINK.sub("", match["author"]).strip() or None
    return {
        "author": author,
        "review_date": match["date"],
        "rating": rating,
        "review_title": title,
        "review_text": as_paragraphs(lines[body_from:body_to]),
        "helpful_votes": helpful,
        "total_votes": total,
    }, end


def as_paragraphs(lines: list[str]) -> str | None:
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
