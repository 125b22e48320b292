"""Text as the page and its charts show it: text for Plotly, excerpts, number formats."""

from __future__ import annotations

import html
import math
from typing import Any

from reviewpipe.metrics import THUMBS_SCALE


def plotly_text(value: object) -> str:
    """value as text Plotly shows literally: its pseudo-HTML tags and `$…$` TeX neutralised."""
    text = "" if value is None else str(value)
    # Plotly decodes &lt; &gt; &amp; and numeric entities after it has looked for tags and TeX
    return html.escape(text, quote=False).replace("$", "&#36;")


def shorten(text: str, limit: int) -> str:
    """text on one line, cut to at most limit characters (at a space when one is near) plus "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def number_text(value: object, digits: int = 2) -> str:
    """A table cell's value as it reads: "1,234", "3.14", "yes"/"no", "–" for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def rating_text(value: object) -> str:
    """A rating as it reads: "4.5", "7", "–" for none."""
    if value is None:
        return "–"
    f = float(value)  # type: ignore[arg-type]
    return f"{f:g}"


def review_rating_text(review: dict[str, Any]) -> str:
    """A quoted review's rating as it reads: "4.5 / 5", or (un)recommended on a thumbs source."""
    rating, scale = review["rating"], review["rating_scale"]
    if rating is None:
        return "–"
    if scale == THUMBS_SCALE:
        return "recommended" if rating == 1 else "not recommended"
    return f"{rating_text(rating)} / {scale}"


def percent_text(value: object) -> str:
    """A share as it reads: "66.7%", "–" for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.1%}"  # type: ignore[arg-type]


def scale_label(scale: int) -> str:
    """A rating scale in words: "thumbs up/down" or "ratings out of 10"."""
    return "thumbs up/down" if scale == THUMBS_SCALE else f"ratings out of {scale}"
