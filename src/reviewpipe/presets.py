"""Presets: the settings that read a well-known export layout, named in a source as `preset = "<name>"`.

A preset supplies a source's kind, format, reader options, column mapping and rating settings; the
source's own keys override it field by field, and `options` and `columns` key by key (settings.Source
merges them before validating). Each preset's `doc` names the layout it reads and the choices in its
mapping; `layout` lists the columns (JSON keys) every file of that layout has, which is how
`reviewpipe add-source` recognises one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# google-play-scraper and app-store-scraper write no app id: the file's name without its extensions
# ("netflix_reviews.csv.gz" -> "netflix_reviews") is the title, unless columns.title_id says otherwise.
FILE_STEM = r"regexp_extract(filename, '([^/\\]+?)(\.[A-Za-z0-9]+)*$', 1)"


@dataclass(frozen=True)
class Preset:
    """One export layout and the source settings that read it."""

    name: str
    doc: str
    layout: tuple[str, ...]
    # every field the preset reads is mapped, even one named as its column: a column named in
    # another letter case ("Review_ID") is then still read (DuckDB binds names case-insensitively)
    settings: dict[str, Any] = field(default_factory=dict)


_PRESETS = (
    Preset(
        "yelp",
        "Yelp Open Dataset reviews (yelp_academic_dataset_review.json, JSON lines): review_id, "
        "user_id, business_id, stars 1-5, useful (helpful votes only: Yelp counts no total), funny, "
        "cool, text, date. The title is the business_id; load the business file with "
        "preset yelp_business for names.",
        ("review_id", "user_id", "business_id", "stars", "useful", "funny", "cool", "text", "date"),
        {"format": "json", "rating_scale": 5,
         "columns": {"review_id": "review_id", "title_id": "business_id", "author": "user_id",
                     "reviewer_id": "user_id", "rating": "stars", "review_text": "text", "review_date": "date",
                     "helpful_votes": "useful"}},
    ),
    Preset(
        "yelp_business",
        "Yelp Open Dataset businesses (yelp_academic_dataset_business.json), as titles: business_id, "
        "name, stars in half steps 1-5 (the site rating), review_count (its votes and user "
        "reviews), categories (genres).",
        ("business_id", "name", "address", "city", "state", "postal_code", "latitude", "longitude",
         "stars", "review_count", "is_open", "attributes", "categories", "hours"),
        {"kind": "titles", "format": "json", "rating_scale": 5, "rating_step": 0.5,
         "columns": {"title_id": "business_id", "title": "name", "site_rating": "stars",
                     "site_votes": "review_count", "user_review_count": "review_count",
                     "genres": "categories"}},
    ),
    Preset(
        "steam",
        "Steam user reviews as scraped (Kaggle's steam_reviews.csv): date_posted, funny, helpful "
        "(helpful votes only), hour_played, is_early_access_review, recommendation "
        "(\"Recommended\" / \"Not Recommended\", a thumbs rating), review, title (the game). "
        "No review id: the default one keeps each record apart.",
        ("date_posted", "funny", "helpful", "hour_played", "is_early_access_review",
         "recommendation", "review", "title"),
        {"format": "csv", "rating_scale": "thumbs",
         "columns": {"title_id": "title", "review_date": "date_posted", "rating": "recommendation",
                     "review_text": "review", "helpful_votes": "helpful"}},
    ),
    Preset(
        "google_play",
        "google-play-scraper's reviews export (CSV): reviewId, userName, content, score 1-5, "
        "thumbsUpCount (helpful votes only), reviewCreatedVersion, at, appVersion. reviewId is the "
        "review's id: a review scraped twice (or edited in between) is one review, its later copies "
        "counted as duplicates. The export names no app: the title is the file's name without "
        "extensions; set columns.title_id (e.g. \"'com.netflix.mediaclient'\") to name it.",
        ("reviewId", "userName", "content", "score", "thumbsUpCount", "at"),
        {"format": "csv", "rating_scale": 5,
         "columns": {"review_id": "reviewId", "title_id": FILE_STEM, "author": "userName",
                     "review_text": "content", "rating": "score", "helpful_votes": "thumbsUpCount",
                     "review_date": '"at"'}},  # quoted: AT is an SQL keyword
    ),
    Preset(
        "app_store",
        "app-store-scraper's reviews saved as CSV: date, review, rating 1-5, isEdited, title (the "
        "review's headline), userName (set format = \"json\" for the same records as JSON). No app "
        "and no review id: the title is the file's name without extensions (set columns.title_id "
        "to name it), and the default id keeps each record apart.",
        ("date", "review", "rating", "isEdited", "title", "userName"),
        {"format": "csv", "rating_scale": 5,
         "columns": {"title_id": FILE_STEM, "author": "userName", "review_date": "date",
                     "rating": "rating", "review_title": "title", "review_text": "review"}},
    ),
    Preset(
        "amazon_2018",
        "Amazon Review Data (2018), McAuley lab (e.g. AMAZON_FASHION_5.json, JSON lines): overall "
        "1-5, verified, reviewTime, reviewerID, asin (the title), style, reviewerName, reviewText, "
        "summary, unixReviewTime, vote (helpful votes only: a string like \"1,341\", absent when 0), "
        "image. No review id: reviewerID, asin, unixReviewTime and style (the variant bought) "
        "identify one; a review the site copied onto every variant (asin) of a product stays one "
        "review per asin, and records identical in those are counted as duplicates.",
        ("overall", "reviewerID", "asin", "reviewerName", "unixReviewTime"),
        {"format": "json", "rating_scale": 5,
         # every key named, so that the optional ones (vote, style, reviewText) are columns of
         # every file, null where a record lacks them
         "options": {"columns": {
             "overall": "VARCHAR", "verified": "VARCHAR", "reviewTime": "VARCHAR",
             "reviewerID": "VARCHAR", "asin": "VARCHAR", "style": "JSON", "reviewerName": "VARCHAR",
             "reviewText": "VARCHAR", "summary": "VARCHAR", "unixReviewTime": "VARCHAR",
             "vote": "VARCHAR", "image": "JSON"}},
         "columns": {
             "review_id": "md5(concat_ws(chr(31), reviewerID, asin, unixReviewTime, style))",
             "title_id": "asin", "author": "reviewerName", "reviewer_id": "reviewerID",
             "verified_purchase": "verified", "rating": "overall",
             "review_title": "summary", "review_text": "reviewText",
             "review_date": "to_timestamp(unixReviewTime::bigint)::date",
             "helpful_votes": "coalesce(vote, '0')"}},
    ),
    Preset(
        "amazon_2023",
        "Amazon Reviews 2023, McAuley lab (<Category>.jsonl): rating 1-5, title (the review's "
        "headline), text, images, asin (the variant), parent_asin (the product: the title), "
        "user_id, timestamp in milliseconds, helpful_vote (helpful votes only), verified_purchase. "
        "No review id: user_id, asin and timestamp identify one.",
        ("rating", "title", "text", "asin", "parent_asin", "user_id", "timestamp", "helpful_vote",
         "verified_purchase"),
        {"format": "json", "rating_scale": 5,
         "columns": {"review_id": "concat_ws('-', user_id, asin, \"timestamp\")",
                     "title_id": "parent_asin", "author": "user_id", "reviewer_id": "user_id",
                     "verified_purchase": "verified_purchase", "rating": "rating",
                     "review_title": "title", "review_text": "text",
                     "review_date": "epoch_ms(\"timestamp\"::bigint)::date",
                     "helpful_votes": "helpful_vote"}},
    ),
    Preset(
        "amazon_tsv",
        "Amazon Customer Reviews Dataset (amazon_reviews_us_<Category>_v1_00.tsv, tab-separated, "
        "unquoted): marketplace, customer_id, review_id, product_id (the title), product_parent, "
        "product_title, product_category, star_rating 1-5, helpful_votes, total_votes, vine, "
        "verified_purchase, review_headline, review_body, review_date. Load the same files again "
        "with preset amazon_tsv_products for the product names.",
        ("marketplace", "customer_id", "review_id", "product_id", "product_title",
         "product_category", "star_rating", "helpful_votes", "total_votes", "verified_purchase",
         "review_headline", "review_body", "review_date"),
        {"format": "tsv", "rating_scale": 5,
         "columns": {"review_id": "review_id", "title_id": "product_id", "author": "customer_id",
                     "reviewer_id": "customer_id", "verified_purchase": "verified_purchase",
                     "rating": "star_rating", "review_title": "review_headline",
                     "review_text": "review_body", "review_date": "review_date",
                     "helpful_votes": "helpful_votes", "total_votes": "total_votes"}},
    ),
    Preset(
        "amazon_tsv_products",
        "The products named in Amazon Customer Reviews Dataset files (the amazon_tsv layout), as "
        "titles: product_id, product_title, product_category (genres).",
        ("marketplace", "customer_id", "review_id", "product_id", "product_title",
         "product_category", "star_rating", "helpful_votes", "total_votes", "verified_purchase",
         "review_headline", "review_body", "review_date"),
        {"kind": "titles", "format": "tsv", "rating_scale": 5,
         "columns": {"title_id": "product_id", "title": "product_title",
                     "genres": "product_category"}},
    ),
    Preset(
        "amazon_fine_food",
        "Amazon Fine Food Reviews, SNAP (Reviews.csv): Id, ProductId (the title), UserId, "
        "ProfileName, HelpfulnessNumerator / HelpfulnessDenominator (helpful of total votes), "
        "Score 1-5, Time in unix seconds, Summary, Text. The id is 'aff-' and Id, so that it "
        "cannot meet another source's numeric ids.",
        ("Id", "ProductId", "UserId", "ProfileName", "HelpfulnessNumerator",
         "HelpfulnessDenominator", "Score", "Time", "Summary", "Text"),
        {"format": "csv", "rating_scale": 5,
         "columns": {"review_id": "'aff-' || Id", "title_id": "ProductId", "author": "ProfileName",
                     "reviewer_id": "UserId",
                     "review_date": "to_timestamp(\"Time\"::bigint)::date", "rating": "Score",
                     "review_title": "Summary", "review_text": "Text",
                     "helpful_votes": "HelpfulnessNumerator",
                     "total_votes": "HelpfulnessDenominator"}},
    ),
    Preset(
        "amazon_reviews_multi",
        "Multilingual Amazon Reviews Corpus, MARC (dataset_<lang>_<split>.json, JSON lines): "
        "review_id, product_id (the title), reviewer_id, stars \"1\"-\"5\" (strings), review_body, "
        "review_title, language (the review's, ISO 639-1), product_category. No dates and no votes.",
        ("review_id", "product_id", "reviewer_id", "stars", "review_body", "review_title",
         "language", "product_category"),
        {"format": "json", "rating_scale": 5,
         "columns": {"review_id": "review_id", "title_id": "product_id", "author": "reviewer_id",
                     "reviewer_id": "reviewer_id", "rating": "stars", "review_title": "review_title",
                     "review_text": "review_body", "review_language": "language"}},
    ),
    Preset(
        "op_spam",
        "Deceptive Opinion Spam corpus, Ott et al. (deceptive-opinion.csv): deceptive "
        "(truthful/deceptive), hotel (the title), polarity (positive/negative: a thumbs rating), "
        "source, text. No ids, dates or votes: the default id keeps each record apart.",
        ("deceptive", "hotel", "polarity", "source", "text"),
        {"format": "csv", "rating_scale": "thumbs",
         "columns": {"title_id": "hotel", "rating": "polarity", "review_text": "text"}},
    ),
    Preset(
        "imdb_title_basics",
        "IMDb's non-commercial dataset title.basics.tsv(.gz), as titles: tconst, titleType, "
        "primaryTitle, originalTitle, isAdult, startYear, endYear, runtimeMinutes, genres; nulls "
        "written \\N.",
        ("tconst", "titleType", "primaryTitle", "originalTitle", "startYear", "runtimeMinutes",
         "genres"),
        {"kind": "titles", "format": "tsv", "options": {"nullstr": "\\N"},
         "columns": {"title_id": "tconst", "title": "primaryTitle", "year": "startYear",
                     "runtime_minutes": "runtimeMinutes", "genres": "genres"}},
    ),
    Preset(
        "imdb_title_ratings",
        "IMDb's non-commercial dataset title.ratings.tsv(.gz), as titles: tconst, averageRating "
        "(1-10, the site rating), numVotes; nulls written \\N.",
        ("tconst", "averageRating", "numVotes"),
        {"kind": "titles", "format": "tsv", "rating_scale": 10, "options": {"nullstr": "\\N"},
         "columns": {"title_id": "tconst", "site_rating": "averageRating",
                     "site_votes": "numVotes"}},
    ),
)
PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}


def preset_settings(name: str) -> dict[str, Any]:
    """The source settings of the preset called name; ValueError naming the known ones if none is."""
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is not known; use one of: {', '.join(PRESETS)}")
    return PRESETS[name].settings


def with_preset(given: dict[str, Any], known_fields: Iterable[str]) -> dict[str, Any]:
    """A source's settings as given, over its preset's: the given keys win, `options` and `columns`
    key by key. Preset keys that are not in known_fields are left out."""
    base = preset_settings(given["preset"])
    known = set(known_fields)
    merged = {key: value for key, value in base.items() if key in known}
    for key, value in given.items():
        if key in ("options", "columns") and isinstance(value, dict):
            merged[key] = {**base.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def recognise(columns: Iterable[str]) -> list[Preset]:
    """The presets whose layout a file with these columns has (letter case aside), the most specific
    (longest layout) first; reviews before titles among equals."""
    have = {c.lower() for c in columns}
    fits = [p for p in _PRESETS if {c.lower() for c in p.layout} <= have]
    return sorted(fits, key=lambda p: (-len(p.layout), p.settings.get("kind", "reviews") != "reviews"))
