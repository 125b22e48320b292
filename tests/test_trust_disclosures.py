"""The default [trust] disclosure_patterns (settings.DISCLOSURE_PATTERNS), read by texts.disclosures:
what they take for a disclosure of a free or discounted product, what they must not, and how many
texts of each real corpus they match (docs/trust.md, "Incentivized": the figures are measured there,
each match read)."""

from __future__ import annotations

import csv
import json
import re

import polars as pl
import pytest
from conftest import SHARED_DATA

from reviewpipe.settings import DISCLOSURE_PATTERNS, Settings
from reviewpipe.trust import parameters_by_test
from reviewpipe.trust.texts import disclosure_version, disclosures

PATTERNS = list(DISCLOSURE_PATTERNS)


def _found(text: str) -> str | None:
    return disclosures(pl.Series("t", [text]), PATTERNS)[0]


# Written for this test in the ways real disclosures read (Amazon Vine, product-testing clubs,
# "free for review" sellers, critics' copies): each must be found.
DISCLOSING = [
    "I received this blender free of charge in exchange for my honest review.",
    "Got these at a discounted rate in exchange for an unbiased opinion.",
    "Our family was one of a few chosen to receive the new crackers for free to do a product review.",
    "I am a BzzAgent and was sent a box of these to try.",
    "Received via Influenster for testing purposes.",
    "I was offered a bag to taste because of Vine, and I am glad I was.",
    "As part of the Amazon Vine program I received two cans.",
    "I received samples of each flavour from the company to try, so this review is based on them.",
    "The earbuds were provided to me free of charge.",
    "This kettle was sent at no cost for review purposes; my opinions are my own.",
    "I agreed to write this review in exchange for a copy of the DVD.",
    "Came here for a Yelp Elite event and everything we tasted was lovely.",
    "Product received for free. Great game with friends.",
]

# Each must not be: shopping, perks, service, plots, critics and plants.
NOT_DISCLOSING = [
    "I found it cheaper at the discount store down the road.",
    "Free shipping and it arrived in two days.",
    "The sample size of the other reviews is tiny.",
    "They gave us a free sample of the salsa at the counter.",
    "Got the game for free on a weekend pass.",
    "The company sent me a replacement within a week.",
    "The hotel provided free wifi and a complimentary breakfast.",
    "I saw the film early for review purposes and it did not disappoint.",
    "Heard about this place through the grape vine.",
    "The tomatoes on the vine were already soft.",
    "Loki offers the aliens the earth in exchange for the Tesseract.",
    "After hearing about it from a fellow Yelp Elite, we went.",
    "The manager comped our desserts after the long wait.",
    "Check in on Yelp for free sake.",
    "I bought it at a discount during the sale and it broke after a week.",
    "You can get a free trial and cancel any time.",
]


@pytest.mark.parametrize("text", DISCLOSING)
def test_disclosures_real_reviews_use_are_found(text: str) -> None:
    found = _found(text)
    assert found is not None and found in text.lower()


@pytest.mark.parametrize("text", NOT_DISCLOSING)
def test_what_is_not_a_disclosure_is_not_found(text: str) -> None:
    assert _found(text) is None


def test_polars_reads_every_default_pattern_as_re_does() -> None:
    # disclosures() runs the patterns in Polars' engine; each must mean there what it means in `re`
    for text in DISCLOSING + NOT_DISCLOSING:
        lower = text.lower()
        for p in PATTERNS:
            by_re = re.search(p, lower)
            by_polars = pl.Series([lower]).str.extract(f"({p})", 1)[0]
            assert by_polars == (by_re.group(0) if by_re else None), (p, text)


def test_incentivized_names_its_pattern_list() -> None:
    settings = Settings()
    named = parameters_by_test(settings)["incentivized"].split(";")
    version = disclosure_version(PATTERNS)[:8]
    assert named[-1] == f"disclosure_patterns={len(PATTERNS)}:{version}"
    # another list is another value; the other tests do not name it
    fewer = settings.model_copy(update={"trust": settings.trust.model_copy(
        update={"disclosure_patterns": PATTERNS[:-1]})})
    assert parameters_by_test(fewer)["incentivized"] != parameters_by_test(settings)["incentivized"]
    assert all("disclosure_patterns" not in v for k, v in parameters_by_test(settings).items()
               if k != "incentivized")


def _csv(path, column: str, **kw) -> list[str]:
    with open(path, encoding="utf-8", newline="", errors="replace") as f:
        return [r[column] for r in csv.DictReader(f, **kw) if r.get(column)]


def _real_texts() -> dict[str, list[str]]:
    d = SHARED_DATA
    csv.field_size_limit(10**9)
    imdb: list[str] = []
    for p in sorted(d.glob("imdb_movie_reviews_helpful/*/movieReviews.csv")):
        imdb += _csv(p, "Review")
    return {
        "amazon2018": [json.loads(line).get("reviewText") or ""
                       for line in open(d / "amazon2018_5core/AMAZON_FASHION_5.json", encoding="utf-8")],
        "fine_food": _csv(d / "amazon_fine_food_sample/Reviews.csv", "Text"),
        "gift_card": _csv(d / "amazon_customer_reviews_tsv_sample/amazon_reviews_us_Gift_Card_v1_00.tsv",
                          "review_body", delimiter="\t", quoting=csv.QUOTE_NONE),
        "yelp": [json.loads(line)["text"] for line in open(d / "yelp_open_dataset/review_sample.json", encoding="utf-8")],
        "steam": _csv(d / "steam_reviews/steam_reviews.csv", "review"),
        "google_play": _csv(d / "google_play_netflix/netflix_reviews.csv", "content"),
        "imdb": imdb,
        "aclimdb": [p.read_text(encoding="utf-8", errors="replace")
                    for p in sorted(d.glob("aclimdb_subset/aclImdb/test/*/*.txt"))],
        "op_spam": _csv(d / "op_spam_deceptive_hotel/deceptive-opinion.csv", "text"),
        "amazon_es": [json.loads(line)["review_body"]
                      for line in open(d / "amazon_reviews_multi_es/dataset_es_dev.json", encoding="utf-8")],
    }


# docs/trust.md ("Incentivized"): every match read, each a disclosure (Steam's: its own label)
REAL_MATCHES = {"amazon2018": 0, "fine_food": 17, "gift_card": 0, "yelp": 1, "steam": 1259, "google_play": 0,
                "imdb": 0, "aclimdb": 1, "op_spam": 0, "amazon_es": 0}


@pytest.mark.acceptance
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real corpora not present at {SHARED_DATA}")
def test_the_real_corpora_disclose_as_docs_trust_md_counts() -> None:
    counts = {name: int(disclosures(pl.Series("t", texts), PATTERNS).is_not_null().sum())
              for name, texts in _real_texts().items()}
    assert counts == REAL_MATCHES
