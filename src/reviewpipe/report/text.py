"""Text as the page and its charts show it: text for Plotly, excerpts, number formats."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from reviewpipe.metrics import THUMBS_SCALE
from reviewpipe.trust.stats import EFFECT_TOLERANCE


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


# ---- trust: the tests' findings in words ------------------------------------------------------------

# What each trust test's subset is (reviewpipe.trust.TESTS), as the verb phrase after "41 of 55
# rated reviews"; tests/test_report_trust.py checks that every test has one.
TRUST_SUBSETS = {
    "one_review_accounts": "come from accounts with no other review",
    "single_day_reviewers": "come from reviewers whose reviews (two or more) were all written on one "
                            "day",
    "burst": "were written on days with far more reviews of the title than its own rate predicts",
    "copied_text": "are copies or near-copies of a review by another reviewer",
    "repeated_phrases": "share a phrase with several other reviews of the title, more than the "
                        "corpus makes likely",
    "incentivized": "disclose a free or discounted product given in exchange for the review",
    "unverified": "are not marked by the site as a verified purchase",
    "rating_deviation": "come from reviewers whose ratings sit far from each title's consensus "
                        "across their history",
    "review_ring": "come from accounts of a ring: reviewers who reviewed at least three titles "
                   "together, within days, more often than chance",
}
# What a test needs of a review (trust_inputs.sql's column, in words), to say why it could not run.
TRUST_INPUTS = {
    "one_review_accounts": "with_reviewer", "single_day_reviewers": "with_reviewer",
    "rating_deviation": "with_reviewer", "review_ring": "with_reviewer", "burst": "with_date", "copied_text": "with_text",
    "repeated_phrases": "with_text", "incentivized": "with_text",
    "unverified": "with_verified_flag",
}
INPUT_WORDS = {
    "with_reviewer": "a reviewer id or an author name outside [trust] anonymous_names",
    "with_date": "a date",
    "with_text": "a text",
    "with_verified_flag": "a verified-purchase flag",
}


def trust_test_label(test: str) -> str:
    """A trust test's name as a sentence says it: "one-review accounts", "copied text"."""
    return {"one_review_accounts": "one-review accounts",
            "single_day_reviewers": "single-day reviewers"}.get(test, test.replace("_", " "))


def words_list(items: Sequence[str]) -> str:
    """items as a sentence lists them: "a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def trust_mean_text(value: float, *, thumbs: bool) -> str:
    """A trust subset's (or a title's adjusted) mean rating as it reads: "4.87", or "95.0%"
    recommended on a thumbs source (ratings 0/1)."""
    return percent_text(value) if thumbs else f"{value:.2f}"


def trust_finding_text(row: dict[str, Any], *, thumbs: bool, rating_min: float, rating_scale: float,
                       sources: str) -> str:
    """One sentence from a row of agg_trust_tests (with trust_tests.sql's counts of a failing
    subset's ratings): the subset's size and what it is, its share against the baseline of
    `sources` (the words for the title's sources), and the two mean ratings."""
    x, n = row["subset_reviews"], row["tested_reviews"]
    baseline = (f"against {whole_percent_text(row['baseline_share'])} for the other titles {sources}"
                if row["baseline_share"] is not None else f"no other title {sources} to compare")
    text = (f"{x:,} of {n:,} rated reviews {TRUST_SUBSETS[row['test']]} "
            f"({whole_percent_text(row['subset_share'])}, {baseline})")
    subset_mean, rest_mean = row["subset_rating_mean"], row["rest_rating_mean"]
    if subset_mean is None:
        return text + "."
    # The ratings of a failing subset are listed (agg_trust_flagged_reviews): its count at the
    # scale's end the subset leans to, said only when those rows are exactly the subset's rated
    # reviews on the title's scale (a warning subset is not listed: no count).
    extreme = None
    if not thumbs and row.get("flagged_rated") is not None \
            and row["flagged_rated"] == row["flagged_on_scale"] == x and x > 0:
        low = (row["rating_difference"] or 0) < 0
        count = row["flagged_bottom"] if low else row["flagged_top"]
        point = rating_min if low else rating_scale
        extreme = (f"all of them give {point:g} of {rating_scale:g}" if count == x else
                   f"{count:,} of the {x:,} give {point:g} of {rating_scale:g}")
    if thumbs:
        rates = f"{trust_mean_text(subset_mean, thumbs=True)} of them recommend it"
        rest = (f" against {trust_mean_text(rest_mean, thumbs=True)} of the rest"
                if rest_mean is not None else " (no other tested review to compare)")
    else:
        rates = f"they rate it {trust_mean_text(subset_mean, thumbs=False)}"
        rest = (f" against {trust_mean_text(rest_mean, thumbs=False)} for the rest"
                if rest_mean is not None else " (no other tested review to compare)")
    if extreme:
        return f"{text}; {extreme}, and {rates}{rest}."
    return f"{text}; {rates}{rest}."


def trust_questions(row: dict[str, Any], span: float) -> tuple[bool, bool, bool] | None:
    """Whether a row of agg_trust_tests answers yes to each question (the subset is unusually
    large; it rates the title differently) and whether its subset, unusually large, is dominant (at
    least dominant_min_reviews reviews and dominant_share of the title's tested reviews), as its
    verdict's description in agg_trust_tests reads, with the parameters it ran with (`parameters`)
    and the scale's span; None when a parameter is missing."""
    params = dict(part.split("=", 1) for part in (row.get("parameters") or "").split(";") if "=" in part)
    try:
        alpha, ratio = float(params["alpha"]), float(params["min_share_ratio"])
        min_subset, effect = int(params["min_subset_reviews"]), float(params["min_rating_effect"])
        dominant_share, dominant_min = float(params["dominant_share"]), int(params["dominant_min_reviews"])
    except (KeyError, ValueError):
        return None
    share_p, rating_p = row["share_p_value"], row["rating_p_value"]
    large = (share_p is not None and share_p < alpha and row["baseline_share"] is not None
             and row["subset_share"] >= ratio * row["baseline_share"]
             and row["subset_reviews"] >= min_subset)
    differs = (rating_p is not None and rating_p < alpha and row["rating_difference"] is not None
               and abs(row["rating_difference"]) >= (effect - EFFECT_TOLERANCE) * span)
    return large, differs, (large and row["subset_share"] >= dominant_share
                            and row["subset_reviews"] >= dominant_min)


def trust_verdict(answers: tuple[bool, bool, bool]) -> str:
    """The verdict trust_questions' answers give (stats.verdicts' rule)."""
    large, differs, dominant = answers
    return "fail" if (large and differs) or dominant else "warn" if large or differs else "pass"


def trust_reason_text(row: dict[str, Any], span: float) -> str | None:
    """Why a row warns, or fails without rating the title differently, in words: which question
    it answers yes; None when the row's parameters, read back, do not give its verdict (never a
    reason it may not have) or when it fails on both questions (its finding says both)."""
    answers = trust_questions(row, span)
    if answers is None or trust_verdict(answers) != row["verdict"]:
        return None
    large, differs, dominant = answers
    if row["verdict"] == "fail":
        return ("the subset is most of the title's tested reviews, so the rating is mostly its own, "
                "whatever it rates" if dominant and not differs else None)
    if row["verdict"] != "warn":
        return None
    return ("the subset is unusually large, but does not rate the title differently enough"
            if large else "the subset rates the title differently, but is not unusually large")


def p_value_text(value: float | None) -> str:
    """A corrected p-value as it reads: "0.003", "2e-12", "0", "–" for none (agg_trust_tests'
    share_p_value is 0 when nothing elsewhere is picked and the title's subset is not empty)."""
    if value is None or math.isnan(value):
        return "–"
    if value == 0:
        return "0"
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.0e}"
