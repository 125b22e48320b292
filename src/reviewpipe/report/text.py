"""Text as the page and its charts show it: text for Plotly, excerpts, number formats."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
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


# ---- languages: what sentiment covers ---------------------------------------------------------------

# Names of the languages a page most often names; any other shows as its ISO 639-1 code.
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish",
    "pt": "Portuguese", "ru": "Russian", "sv": "Swedish", "tr": "Turkish", "zh": "Chinese",
}
# What marks a title (or a panel) whose sentiment covers too few of its reviews, in the tables and
# the charts alike.
PARTIAL_MARK = "⚠"


def languages_text(codes: Sequence[str]) -> str:
    """Languages in words, as a sentence lists them: "English", "English and Spanish"."""
    names = [LANGUAGE_NAMES.get(code, code) for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def whole_percent_text(share: float | None) -> str:
    """A share in whole percent, never rounded to 0% or 100% unless it is: "62%", "<1%", ">99%"."""
    if share is None or math.isnan(share):
        return "–"
    percent = round(share * 100)
    if percent == 0 and share > 0:
        return "<1%"
    if percent == 100 and share < 1:
        return ">99%"
    return f"{percent}%"


def language_mix_text(mix: Sequence[dict[str, Any]] | None, key: str = "share") -> str:
    """A title's languages and their shares of its reviews with text, most first: "en 74%, es 24%"
    (key "unscored_share": the shares of those without a score, languages without any left out)."""
    return ", ".join(f"{part['language']} {whole_percent_text(part[key])}"
                     for part in mix or [] if part[key])


def coverage_text(languages: Sequence[str], text_reviews: int, scored_reviews: int) -> str:
    """The sentence that says what sentiment covers: its languages, and the share of the reviews
    with text it scored."""
    covered = f"Sentiment covers reviews in {languages_text(languages)} ([sentiment] languages)"
    if not text_reviews:
        return covered + "."
    return (f"{covered}; {whole_percent_text(scored_reviews / text_reviews)} of the "
            f"{text_reviews:,} reviews with text are scored.")


def partial_text(scored_share: float, mix: Sequence[dict[str, Any]] | None) -> str:
    """Why a title is marked: the share of its reviews its sentiment comes from, and the languages
    of the others."""
    unscored = language_mix_text(mix, "unscored_share")
    return (f"sentiment from {whole_percent_text(scored_share)} of its reviews: "
            f"{whole_percent_text(1 - scored_share)} are in languages it does not cover"
            + (f" ({unscored})" if unscored else ""))
