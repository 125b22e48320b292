"""Deterministic synthetic sample: invented films and their user reviews, with realistic quirks.

Everything here is invented: film titles, people, usernames and every sentence of review text are
assembled from the word lists and templates below, never taken from the real corpora in
`../shared/data/`. The sample is the project's embedded default input and its test fixture, so it
must be byte-identical for a given seed on every machine: only `random.Random(seed)` is used,
nothing iterates over a set or hash-ordered structure, and files are written with `\\n` line
endings, UTF-8 without a BOM.

Layout written by `write_sample(folder)`:

- `titles.csv`: one row per film (`TITLES_HEADER`).
- `reviews_<year>.csv` for every year in `REVIEW_YEARS`: one row per user review (`REVIEWS_HEADER`).
  Exactly `n_reviews` data rows in total, of which `len(BAD_ROWS)` are the deliberately bad rows
  documented in `BAD_ROWS`; all other rows are valid (missing ratings and empty texts are valid).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewpipe.errors import ReviewpipeError
from reviewpipe.files import atomic_write

TITLES_HEADER: tuple[str, ...] = (
    "title_id", "title", "year", "site_rating", "site_votes",
    "user_review_count", "critic_review_count", "genres", "directors",
)
REVIEWS_HEADER: tuple[str, ...] = (
    "title_id", "author", "review_date", "rating", "helpful_votes", "total_votes",
    "review_title", "review_text",
)
# One reviews file per review year, as a site export split by year would arrive.
REVIEW_YEARS: tuple[int, ...] = tuple(range(2016, 2024))
# Uneven on purpose: volume grows to a 2020 peak and falls off, so per-year metrics have shape.
_YEAR_WEIGHTS: tuple[float, ...] = (0.55, 0.7, 0.9, 1.25, 1.7, 1.35, 1.0, 0.8)

# Below this the fixed quirks and bad rows would crowd out ordinary rows.
MIN_REVIEWS = 100
MAX_TITLES = 200


@dataclass(frozen=True)
class BadRow:
    """One deliberately bad review row: what is wrong with it and where it is written."""

    kind: str
    year: int  # written to reviews_<year>.csv
    row: int  # 1-based data record after the header (a record may span lines: quoted newlines)
    detail: str


# Positions are fixed so a reader (or a data check) can find each one; when a small sample has fewer
# rows in that file the row is appended at the file's end instead.
BAD_ROWS: tuple[BadRow, ...] = (
    BadRow("rating_not_a_number", 2017, 5, "rating is the word 'ten'"),
    BadRow("rating_above_range", 2018, 7, "rating 11, outside 1..10"),
    BadRow("rating_zero", 2019, 9, "rating 0, outside 1..10"),
    BadRow("helpful_exceeds_total", 2020, 11, "helpful_votes greater than total_votes"),
    BadRow("negative_total_votes", 2021, 13, "total_votes below zero (helpful_votes 0)"),
    BadRow("no_text_no_rating", 2022, 15, "review_title, review_text and rating all empty"),
    BadRow("impossible_date", 2021, 17, "review_date 2021-02-30, a day that does not exist"),
    BadRow("unparseable_date", 2019, 19, "review_date 'yesterday'"),
    # no longer bad for the pipeline: without an id, an identical record of one file is a review of
    # its own (issue 22); kept so that the sample's files stay as they were
    BadRow("exact_duplicate", 2020, 21, "every field equal to data row 3 of the same file"),
)
# The duplicate copies this 1-based data row of its file (an earlier, valid row).
DUPLICATE_SOURCE_ROW = 3

# ---------------------------------------------------------------------------------------------
# Invented vocabulary. Any resemblance of a combination to a real film or person is accidental.

_TITLE_ADJECTIVES = (
    "Amber", "Hollow", "Crooked", "Northern", "Paper", "Borrowed", "Copper", "Drifting", "Velvet",
    "Salt", "Iron", "Quiet", "Glass", "Winter", "Scarlet", "Restless", "Sleeping", "Distant",
)
_TITLE_NOUNS = (
    "Orchard", "Lighthouse", "Ferryman", "Cartographer", "Meridian", "Carousel", "Archive",
    "Foundry", "Crossing", "Vineyard", "Lantern", "Telegram", "Tide", "Almanac", "Orchestra",
    "Boarding House", "Signal", "Harvest",
)
_TITLE_PLACES = (
    "Dunmere", "Calloway Ridge", "Vessel Point", "Ostberg", "Marrow Creek", "Kessling",
    "Low Hadley", "Port Avelin", "Brannock", "Silverdale Bend",
)
_GENRES = (
    "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
    "Western",
)
_PERSON_FIRST = (
    "Maren", "Idris", "Constance", "Teodor", "Halvard", "Ottilie", "Bastian", "Rosalind", "Emeric",
    "Vesna", "Casimir", "Linnea", "Augustin", "Philippa", "Ruben", "Sunniva", "Desmond", "Aurelie",
)
_PERSON_LAST = (
    "Ashgrove", "Kettleby", "Ellingworth", "Dravenko", "Pellatier", "Quarrington", "Sollberg",
    "Hartigan", "Voskuijlen", "Marchbank", "Fennimore", "Okafor-Lindqvist", "Brightwater",
    "Castellane",
)
_HANDLE_ADJECTIVES = (
    "quiet", "velvet", "rusty", "lunar", "paper", "amber", "salty", "brisk", "mellow", "cosmic",
    "tidy", "gloomy", "jolly", "silver", "misty", "sleepy",
)
_HANDLE_NOUNS = (
    "fox", "owl", "reel", "lantern", "otter", "comet", "biscuit", "falcon", "pixel", "maple",
    "harbor", "sparrow", "tram", "kettle", "popcorn", "matinee",
)
_HANDLE_FIRST = (
    "dana", "milo", "priya", "tomas", "greta", "jonah", "keiko", "rafael", "ines", "bram", "ada",
    "felix", "nadia", "omar", "lotte", "viktor",
)
# Non-ASCII handles so encodings are exercised end to end; invented combinations.
_NON_ASCII_HANDLES = (
    "Zoë_Marlowe", "José-Ferrán", "Łukasz_reel", "Søren.Vestby", "Anaïs_films", "Dvořák_fan",
    "Müller_matinee", "Ingríð_S", "Çağla.kino", "Renée_watches",
)
_ASPECTS = (
    "the score", "the cinematography", "the editing", "the dialogue", "the pacing",
    "the lead performance", "the final act", "the production design", "the script",
    "the supporting cast", "the sound design", "the costume work",
)

# Review sentences by tone. VADER must read positive and negative ones clearly, so they lean on
# plain sentiment words; neutral ones avoid them (including "like", which VADER scores positive).
# "[a|b|c]" is a choice of wording, made for each review apart (_worded): people do not write one
# sentence word for word, and a sample whose reviews did would share whole phrases by the hundred,
# which the trust test repeated_phrases rightly reads as a campaign.
_POSITIVE = (
    "I [loved|adored|really enjoyed] every [minute|moment|second] of {title}.",
    "{Aspect} is [absolutely|truly|simply|just] [wonderful|lovely|marvellous|terrific].",
    "{performer} gives a [brilliant|superb|wonderful], [heartfelt|warm|moving] [performance|turn].",
    "One of the [best|finest|most enjoyable] [films|movies|pictures] I have [seen|watched|come across] in [years|ages|a long time].",
    "The story is [beautiful|lovely|gorgeous] and [genuinely|truly|deeply] [moving|touching|affecting].",
    "{director} directs with [real|great|obvious] [confidence|assurance|skill] and [warmth|heart|love].",
    "I laughed, I cried, and I would [happily|gladly|joyfully] [watch|see] it [again|a second time|twice].",
    "{Aspect} is [superb|excellent|outstanding|terrific] [from start to finish|throughout|all the way through|the whole way].",
    "A [delightful|wonderful|lovely] surprise that [deserves|has earned|merits] a [much|far] [bigger|wider|larger] audience.",
    "Every scene feels [carefully|lovingly|beautifully] [crafted|made|built] and full of [life|joy|heart].",
    "The chemistry between {performer} and {performer2} is a [joy|delight|treat|pleasure] to [watch|see|behold].",
    "[Highly|Warmly|Strongly] recommended to [anyone|everyone|all] who [loves|enjoys|cares about] [great|good|fine] cinema.",
    "It is [smart|clever|witty], [funny|hilarious|charming] and [surprisingly|wonderfully|unexpectedly] [tender|sweet|gentle].",
    "{Aspect} [alone|by itself|on its own] makes it worth [seeing|watching|the ticket].",
    "The ending left me [grinning|smiling|beaming] for [days|hours|a week].",
    "A [true|real|genuine] masterpiece [of its kind|in its genre|of a film].",
    "[Excellent|Superb|Wonderful] writing, [excellent|superb|wonderful] acting, [excellent|superb|wonderful] everything.",
    "I can't stop thinking about how [good|great|wonderful] it [was|is].",
    "{performer} has [never been better|rarely been this good|never been this good].",
    "[Gorgeous|Beautiful|Lovely] to [look at|watch] and a [pleasure|joy|delight] to [listen to|hear].",
    "My whole [family|household|gang] [enjoyed|loved|adored] it, which [almost never|hardly ever|rarely] happens.",
    "[Ten|Five|Fifteen] minutes in, I knew this would be a [favorite|favourite|keeper].",
    "A [warm|kind|gentle], [generous|big-hearted|loving] film that [trusts|respects] its audience.",
    "The final act is [thrilling|exhilarating|exciting] and [deeply|truly|wonderfully] [satisfying|rewarding].",
)
_NEGATIVE = (
    "What a [terrible|awful|dreadful] waste of [two hours|an evening|my time].",
    "{Aspect} is [dull|boring|tedious] and [lifeless|flat|dead].",
    "{performer} looks [bored|miserable|lost] in every [single|last] scene.",
    "One of the [worst|weakest|most awful] [films|movies|pictures] I have ever [sat through|endured|suffered through].",
    "The plot is a [ridiculous|stupid|pathetic] mess that makes no sense.",
    "I [hated|loathed|despised] [almost|nearly|just about] everything about it.",
    "{director} seems to have no idea what story to [tell|tell here|tell us].",
    "{Aspect} is [frankly|honestly|simply] [awful|terrible|dreadful].",
    "[Painfully|Horribly|Awfully] slow, [badly|poorly|terribly] written and [utterly|totally|completely] forgettable.",
    "I [nearly|almost] walked out [halfway through|at the midpoint|after an hour], it was that [bad|awful|terrible].",
    "The dialogue is so [bad|awful|terrible] it made me [cringe|wince|groan].",
    "Avoid this one, it is a [huge|massive|total] disappointment.",
    "[Boring|Tedious|Dull], [pretentious|smug|self-important] and [far|way|much] too long.",
    "The ending is [stupid|dumb|idiotic] and [insulting|infuriating|offensive].",
    "Even {performer} cannot save this [horrible|terrible|awful] script.",
    "I wanted to [enjoy|love] it, but it was a [miserable|painful|depressing] [chore|slog|ordeal].",
    "The jokes fall flat and the drama is [unbearable|insufferable|painful].",
    "[Lazy|Sloppy|Careless], [ugly|hideous|drab] and [completely|totally|utterly] pointless.",
    "A [sad|sorry|miserable], [cynical|greedy|soulless] cash grab.",
    "I [regret|resent] [wasting|throwing away|spending] money on it.",
    "The characters are [annoying|irritating|grating] and the twists are [predictable|obvious|stupid].",
    "{Aspect} is a [disaster|catastrophe|mess].",
    "[Honestly|Frankly|Truly] the most [disappointing|frustrating|dismal] film of the year.",
    "It wastes a [good|decent|fine] cast on a [terrible|horrible|dreadful] idea.",
)
_MIXED = (
    "{Aspect} is [lovely|fine|nice], but the story drags [badly|terribly|painfully].",
    "[Great|Strong|Fine] performances cannot [fully|quite|really] rescue a [weak|poor|thin] script.",
    "The first half is [gripping|exciting|great]; the second half [falls apart|collapses|fizzles out].",
    "It looks [beautiful|gorgeous|lovely], yet it feels [strangely|oddly|curiously] empty.",
    "{performer} is [excellent|great|superb], though the supporting cast is [weak|poor|bland].",
    "Some scenes are [brilliant|wonderful|great] and others are [painfully|terribly|awfully] dull.",
    "I [admired|respected] it more than I [enjoyed|loved] it.",
    "A good film [buried|lost|trapped] inside a [bloated|overlong|swollen], messy one.",
    "[Funny|Amusing|Witty] in places, [boring|dull|tedious] in others.",
    "The ideas are [interesting|intriguing|clever] but the execution is [clumsy|awkward|sloppy].",
    "Not bad, not great, just [fine|okay|alright].",
    "{Aspect} is [strong|great|good], but {aspect2} is a [letdown|disappointment|weak spot].",
)
_NEUTRAL = (
    "I watched {title} on a [Sunday afternoon|weeknight|rainy Saturday].",
    "The film runs [about|roughly|close to] two hours.",
    "It [came out|was released|opened] in {year}[ and was directed by {director}|; {director} directed it|, with {director} directing].",
    "{performer} plays a [schoolteacher|postman|nurse] who moves to a [small|quiet|little] coastal town.",
    "Most of the story takes place over a [single|long|cold] winter.",
    "I saw it at a [local|small|regional] festival [screening|showing].",
    "The cast includes {performer} and {performer2}.",
    "There is a subplot about a [missing|misplaced|unsent] letter.",
    "It is shot [mostly|largely|almost entirely] in black and white.",
    "I went in knowing [nothing|very little|next to nothing] about it.",
    "The runtime includes a [long|lengthy|quiet] epilogue.",
    "My review is based on the [original|first|theatrical] cut.",
    "This was my [second|third] viewing.",
    "The film is [partly|mostly|largely] in French with subtitles.",
    "It reminded me of the films my [parents|grandparents] used to watch.",
    "Watched it on a [long|late|night] flight.",
    "{Aspect} follows a [fairly|rather|mostly] traditional approach.",
    "The story is told in [three|four] chapters.",
    "It was adapted from a novel I have not read.",
    "{director} also co-wrote the screenplay.",
)
_POOLS: dict[str, tuple[str, ...]] = {
    "positive": _POSITIVE, "negative": _NEGATIVE, "mixed": _MIXED, "neutral": _NEUTRAL,
}
_REVIEW_TITLES: dict[str, tuple[str, ...]] = {
    "positive": (
        "A quiet triumph", "Worth every minute", "Simply wonderful", "Loved it",
        "An instant favorite", "Better than I expected", "Beautiful and moving", "A real gem",
    ),
    "negative": (
        "Two hours I won't get back", "What a mess", "Avoid", "Dull and pointless",
        "A huge letdown", "Painful", "Not for me at all", "Awful",
    ),
    "mixed": (
        "Good ideas, clumsy execution", "Half brilliant, half boring", "Uneven but interesting",
        "Mixed feelings", "Almost great",
    ),
    "neutral": (
        "Some thoughts", "Second viewing", "My take", "Notes after the festival",
        "A few observations", "For the record",
    ),
}
# Carries every character the entity quirk escapes (&, ", '), so escaped rows always show entities.
_ENTITY_SENTENCE = (
    "Watched it with my sister & her friends; the poster's tagline promises \"one long night\"."
)
_FORMULA_PREFIXES: dict[str, tuple[str, ...]] = {
    "=": ("=) ", "==SPOILERS== "),
    "-": ("- ", "-- minor spoilers -- "),
    "+": ("+1 ", "+ "),
}
# Sentence counts 1..15, most reviews a short paragraph, a long tail of essays.
_SENTENCE_COUNT_WEIGHTS = (6, 8, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)

# Share of valid rows given each property; counts are exact (sampled indices), never left to chance,
# so every quirk is present in every sample.
_MISSING_RATING_SHARE = 0.08
_QUIRK_SHARES: dict[str, float] = {
    "br": 0.10,  # paragraphs joined by <br /><br />, as HTML-scraped reviews arrive
    "entities": 0.03,  # &amp; &quot; &#39; left escaped
    "double_space": 0.03,
    "newline": 0.005,  # a raw newline inside the quoted CSV field
    "formula=": 0.001,  # leading characters a spreadsheet would run as a formula
    "formula-": 0.001,
    "formula+": 0.001,
    "empty_text": 0.002,  # a rating with no words: valid, just nothing to score
}
_DISAGREE_SHARE = 0.10  # words contradict the rating, e.g. 9/10 with harsh words


@dataclass(frozen=True)
class _Title:
    title_id: str
    title: str
    year: int
    quality: float  # the film's "true" mean rating; reviews scatter around it
    popularity: float  # relative share of reviews
    genres: str
    directors: tuple[str, ...]
    performers: tuple[str, str]


def write_sample(
    folder: Path, seed: int = 20240601, n_titles: int = 10, n_reviews: int = 3000
) -> list[Path]:
    """Write the synthetic sample into folder; return the files written (sorted)."""
    if not 1 <= n_titles <= MAX_TITLES:
        raise ReviewpipeError(
            f"sample: n_titles={n_titles} is out of range; use 1..{MAX_TITLES} titles."
        )
    if n_reviews < MIN_REVIEWS:
        raise ReviewpipeError(
            f"sample: n_reviews={n_reviews} is too small to hold every quirk and bad row; "
            f"use at least {MIN_REVIEWS}."
        )
    rng = random.Random(seed)
    titles = _make_titles(rng, n_titles)
    maker = _ReviewMaker(rng, titles, _make_authors(rng, max(20, n_reviews // 2)))
    # the wording of each sentence (_worded) from a generator of its own: the rows, ratings, authors
    # and dates are what the seed made before wordings were chosen
    maker.wording = random.Random(f"wording {seed}")

    n_good = n_reviews - len(BAD_ROWS)
    specials = _assign_specials(rng, n_good)
    good: list[list[str]] = []
    for i in range(n_good):
        # The first rows give every year at least one review, so every file exists with data and
        # the duplicate always has a valid row to copy.
        year = REVIEW_YEARS[i] if i < len(REVIEW_YEARS) else None
        good.append(maker.review(year=year, special=specials.get(i, "")))

    by_year: dict[int, list[list[str]]] = {year: [] for year in REVIEW_YEARS}
    for row in good:
        by_year[int(row[2][:4])].append(row)
    for rows in by_year.values():
        rows.sort(key=lambda r: (r[2], r[0], r[1]))  # date order, as an export would list them

    # The duplicate's source is picked among valid rows before any bad row goes in: in a small
    # sample a bad row appended at a file's end could otherwise sit where the source should be.
    valid = {year: list(rows) for year, rows in by_year.items()}
    # Insert in ascending row order so each bad row lands on its documented position.
    for bad in sorted(BAD_ROWS, key=lambda b: (b.year, b.row)):
        rows = by_year[bad.year]
        if bad.kind == "exact_duplicate":
            source = valid[bad.year][min(DUPLICATE_SOURCE_ROW, len(valid[bad.year])) - 1]
            bad_row = list(source)
        else:
            bad_row = _spoil(rng, maker.review(year=bad.year, special=""), bad)
        rows.insert(min(bad.row - 1, len(rows)), bad_row)

    folder.mkdir(parents=True, exist_ok=True)
    counts = _review_counts(good)
    written = [_write_csv(folder / "titles.csv", TITLES_HEADER, _title_rows(rng, titles, counts))]
    for year, rows in by_year.items():
        written.append(_write_csv(folder / f"reviews_{year}.csv", REVIEWS_HEADER, rows))
    return sorted(written)


def _make_titles(rng: random.Random, n: int) -> list[_Title]:
    """Return n invented films with distinct names, one per title_id."""
    ranks = list(range(n))
    rng.shuffle(ranks)  # so the most popular film is not always tt9000001
    names: list[str] = []
    titles: list[_Title] = []
    for i in range(n):
        name = _title_name(rng)
        while name in names:
            name = _title_name(rng)
        names.append(name)
        # Film 1 is old enough to have reviews in every year; some later films are recent, so
        # their reviews start only in their release year.
        if i == 0:
            year = rng.randint(1960, 2005)
        elif rng.random() < 0.2:
            year = rng.randint(2016, 2022)
        else:
            year = rng.randint(1960, 2015)
        n_directors = 2 if rng.random() < 0.15 else 1
        titles.append(
            _Title(
                title_id=f"tt{9000001 + i}",
                title=name,
                year=year,
                quality=rng.uniform(3.0, 9.2),
                # Zipf-like: a couple of popular films, a tail with few reviews.
                popularity=1.0 / (ranks[i] + 1) ** 1.3,
                genres=" | ".join(sorted(rng.sample(_GENRES, rng.randint(1, 3)))),
                directors=tuple(_person(rng) for _ in range(n_directors)),
                performers=(_person(rng), _person(rng)),
            )
        )
    return titles


def _title_name(rng: random.Random) -> str:
    """Return one invented film title."""
    pattern = rng.randrange(4)
    if pattern == 0:
        return f"The {rng.choice(_TITLE_ADJECTIVES)} {rng.choice(_TITLE_NOUNS)}"
    if pattern == 1:
        return f"{rng.choice(_TITLE_NOUNS)} of {rng.choice(_TITLE_PLACES)}"
    if pattern == 2:
        return f"{rng.choice(_TITLE_ADJECTIVES)} {rng.choice(_TITLE_NOUNS)}"
    noun = rng.choice(_TITLE_NOUNS)
    article = "An" if noun[0] in "AEIOU" else "A"
    return f"{article} {noun} for {rng.choice(_PERSON_FIRST)}"


def _person(rng: random.Random) -> str:
    """Return one invented full name."""
    return f"{rng.choice(_PERSON_FIRST)} {rng.choice(_PERSON_LAST)}"


def _make_authors(rng: random.Random, n: int) -> tuple[list[str], list[float]]:
    """Return n distinct invented usernames and their cumulative activity weights."""
    authors: list[str] = list(_NON_ASCII_HANDLES)
    seen = set(authors)  # membership only; order comes from the list, so output stays deterministic
    while len(authors) < n:
        pattern = rng.randrange(4)
        if pattern == 0:
            adjective, noun = rng.choice(_HANDLE_ADJECTIVES), rng.choice(_HANDLE_NOUNS)
            handle = f"{adjective}{noun}{rng.randint(1, 99)}"
        elif pattern == 1:
            handle = f"{rng.choice(_HANDLE_FIRST)}_{rng.choice(_HANDLE_NOUNS)}"
        elif pattern == 2:
            handle = f"{rng.choice(_HANDLE_FIRST).capitalize()}{rng.choice('ABCDEFGHKLMNPRSTW')}"
        else:
            handle = f"moviegoer_{rng.randint(100, 9999)}"
        if handle not in seen:
            seen.add(handle)
            authors.append(handle)
    # Heavy-tailed activity: most users write one review, a few write many.
    weights = [min(rng.paretovariate(1.6), 30.0) for _ in authors]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return authors, cumulative


def _assign_specials(rng: random.Random, n_good: int) -> dict[int, str]:
    """Return row index -> the one special property that valid row gets (disjoint sets)."""
    counts = {"missing_rating": round(_MISSING_RATING_SHARE * n_good)}
    counts.update({name: max(1, round(share * n_good)) for name, share in _QUIRK_SHARES.items()})
    # Disjoint sets keep each property easy to find and stop "empty text" meeting "missing rating",
    # which together would be an invalid row rather than a quirk.
    chosen = rng.sample(range(n_good), sum(counts.values()))
    specials: dict[int, str] = {}
    start = 0
    for name, count in counts.items():
        for index in chosen[start:start + count]:
            specials[index] = name
        start += count
    return specials


class _ReviewMaker:
    """Builds valid review rows; one user reviews one film at most once."""

    def __init__(
        self, rng: random.Random, titles: list[_Title], authors: tuple[list[str], list[float]]
    ) -> None:
        self.rng = rng
        self.titles = titles
        self.authors, self.author_weights = authors
        self.used: set[tuple[str, str]] = set()  # membership only
        self.guests = 0
        self.wording = random.Random(0)  # write_sample gives it the seed's

    def review(self, year: int | None, special: str) -> list[str]:
        """Return one valid review row as CSV fields, optionally in a given year."""
        rng = self.rng
        title = self._pick_title(year)
        if year is None:
            allowed = [(y, w) for y, w in zip(REVIEW_YEARS, _YEAR_WEIGHTS) if y >= title.year]
            year = rng.choices([y for y, _ in allowed], weights=[w for _, w in allowed])[0]
        start = dt.date(year, 1, 1)
        days = (dt.date(year + 1, 1, 1) - start).days
        review_date = (start + dt.timedelta(days=rng.randrange(days))).isoformat()

        rating = _rating(rng, title.quality)
        tone, disagrees = _tone(rng, rating)
        text = self._text(title, tone, rating, special)
        review_title = rng.choice(_REVIEW_TITLES[tone])

        # Many reviews get no votes at all (0 of 0); the rest follow a long tail.
        total = 0 if rng.random() < 0.35 else min(2500, int(rng.paretovariate(1.05) * 1.2))
        # Readers find reviews whose words contradict their score less helpful.
        share = rng.betavariate(2, 3) if disagrees else rng.betavariate(3, 2)
        helpful = min(total, round(total * share))

        rating_field = "" if special == "missing_rating" else str(rating)
        return [
            title.title_id, self._pick_author(title.title_id), review_date, rating_field,
            str(helpful), str(total), review_title, text,
        ]

    def _pick_title(self, year: int | None) -> _Title:
        """Return a film drawn by popularity, released no later than year when given."""
        candidates = [t for t in self.titles if year is None or t.year <= year]
        return self.rng.choices(candidates, weights=[t.popularity for t in candidates])[0]

    def _pick_author(self, title_id: str) -> str:
        """Return a username that has not yet reviewed this film."""
        author = self.rng.choices(self.authors, cum_weights=self.author_weights)[0]
        if (title_id, author) in self.used:
            # Prolific users run out of films: take the next user in the list who has not
            # reviewed this one, so (film, user) stays unique without skewing who writes.
            start = self.rng.randrange(len(self.authors))
            order = self.authors[start:] + self.authors[:start]
            author = next((a for a in order if (title_id, a) not in self.used), "")
            if not author:
                # A film with more reviews than the user pool: a fresh account.
                self.guests += 1
                author = f"guest_reviewer_{self.guests}"
        self.used.add((title_id, author))
        return author

    def _text(self, title: _Title, tone: str, rating: int, special: str) -> str:
        """Return review text of the given tone, with the row's quirk applied."""
        rng = self.rng
        if special == "empty_text":
            return ""
        n = rng.choices(range(1, 16), weights=_SENTENCE_COUNT_WEIGHTS)[0]
        if special in ("br", "newline", "double_space"):
            n = max(n, 3)  # these quirks live between sentences
        sentences = _sentences(rng, tone, rating, n)
        aspect, aspect2 = rng.sample(_ASPECTS, 2)
        slots = {
            "title": title.title,
            "year": title.year,
            "director": title.directors[0],
            "performer": title.performers[0],
            "performer2": title.performers[1],
            "Aspect": aspect[0].upper() + aspect[1:],
            "aspect2": aspect2,
        }
        filled = [_worded(self.wording, s).format(**slots) for s in sentences]

        if special == "entities":
            filled.insert(rng.randrange(len(filled) + 1), _ENTITY_SENTENCE)
            # & first, or the entities themselves would be escaped again.
            joined = " ".join(filled)
            return joined.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;")
        if special == "br":
            n_cuts = min(len(filled) - 1, rng.randint(1, 3))
            cuts = sorted(rng.sample(range(1, len(filled)), n_cuts))
            paragraphs = [" ".join(filled[a:b]) for a, b in zip([0, *cuts], [*cuts, len(filled)])]
            return "<br /><br />".join(paragraphs)
        if special == "newline":
            cut = rng.randrange(1, len(filled))
            return " ".join(filled[:cut]) + "\n" + " ".join(filled[cut:])
        if special == "double_space":
            return "  ".join(filled)
        text = " ".join(filled)
        if special.startswith("formula"):
            text = rng.choice(_FORMULA_PREFIXES[special[-1]]) + text
        return text


def _worded(rng: random.Random, template: str) -> str:
    """The template with each "[a|b|c]" replaced by one of its wordings, picked by rng."""
    return _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)


_CHOICE = re.compile(r"\[([^\[\]]*)\]")


def _rating(rng: random.Random, quality: float) -> int:
    """Return one 1..10 rating scattered around the film's quality."""
    # Review scores pile up at the ends: fans give 10, the disappointed give 1.
    p10 = 0.04 + 0.03 * max(0.0, quality - 5.0)
    p1 = 0.03 + 0.03 * max(0.0, 6.0 - quality)
    u = rng.random()
    if u < p10:
        return 10
    if u < p10 + p1:
        return 1
    return min(10, max(1, round(rng.gauss(quality, 1.9))))


def _tone(rng: random.Random, rating: int) -> tuple[str, bool]:
    """Return the tone the text is written in and whether it contradicts the rating."""
    if rating >= 8:
        tone = "positive"
    elif rating <= 3:
        tone = "negative"
    else:
        tone = "neutral" if rng.random() < 0.05 else "mixed"
    if rng.random() >= _DISAGREE_SHARE:
        return tone, False
    if tone == "positive":
        return "negative", True
    if tone == "negative":
        return "positive", True
    return ("positive" if rating <= 5 else "negative"), True


def _sentences(rng: random.Random, tone: str, rating: int, n: int) -> list[str]:
    """Return n sentence templates (fewer if a pool runs out) mixing tones around the main one."""
    if tone == "positive":
        weights = {"positive": 0.7, "neutral": 0.25, "negative": 0.05}
    elif tone == "negative":
        weights = {"negative": 0.7, "neutral": 0.25, "positive": 0.05}
    elif tone == "mixed":
        # A 7 leans positive, a 4 leans negative.
        lean = 0.07 * (min(max(rating, 4), 7) - 4)
        weights = {"positive": 0.2 + lean, "negative": 0.41 - lean, "mixed": 0.2, "neutral": 0.19}
    else:
        weights = {"neutral": 0.9, "mixed": 0.1}
    # The opening sentence always carries the main tone, so a one-line review still says something.
    kinds = [tone] + rng.choices(list(weights), weights=list(weights.values()), k=n - 1)
    picked: dict[str, list[str]] = {}
    for kind in _POOLS:
        wanted = kinds.count(kind)
        picked[kind] = rng.sample(_POOLS[kind], min(wanted, len(_POOLS[kind])))  # no repeats
    first = picked[tone].pop(0)
    rest = [s for kind in _POOLS for s in picked[kind]]
    rng.shuffle(rest)
    return [first, *rest]


def _spoil(rng: random.Random, row: list[str], bad: BadRow) -> list[str]:
    """Return a copy of a valid row made invalid in exactly the way bad.kind names."""
    row = list(row)
    if bad.kind == "rating_not_a_number":
        row[3] = "ten"
    elif bad.kind == "rating_above_range":
        row[3] = "11"
    elif bad.kind == "rating_zero":
        row[3] = "0"
    elif bad.kind == "helpful_exceeds_total":
        total = rng.randint(1, 5)
        row[4], row[5] = str(total + rng.randint(1, 10)), str(total)
    elif bad.kind == "negative_total_votes":
        row[4], row[5] = "0", str(-rng.randint(1, 5))
    elif bad.kind == "no_text_no_rating":
        row[3], row[6], row[7] = "", "", ""
    elif bad.kind == "impossible_date":
        row[2] = f"{bad.year}-02-30"
    elif bad.kind == "unparseable_date":
        row[2] = "yesterday"
    else:
        raise ValueError(f"unknown bad row kind {bad.kind!r}")
    return row


def _review_counts(rows: Sequence[Sequence[str]]) -> dict[str, int]:
    """Return the number of valid sample reviews per title_id."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[0]] = counts.get(row[0], 0) + 1
    return counts


def _title_rows(
    rng: random.Random, titles: list[_Title], counts: dict[str, int]
) -> list[list[str]]:
    """Return one titles.csv row per film, site figures consistent with the sample."""
    total_popularity = sum(t.popularity for t in titles)
    rows: list[list[str]] = []
    for t in titles:
        share = t.popularity / total_popularity
        votes = max(250, int(share * 1_500_000 * rng.uniform(0.5, 1.5)))
        sample_count = counts.get(t.title_id, 0)
        rows.append([
            t.title_id,
            t.title,
            str(t.year),
            f"{t.quality:.1f}",
            # Users' exports often keep the site's thousands separators ("34,370").
            f"{votes:,}" if rng.random() < 0.5 else str(votes),
            # The site holds more reviews than the sample, never fewer.
            str(sample_count * rng.randint(2, 6) + rng.randint(0, 40)),
            str(max(1, int(rng.uniform(0.05, 0.2) * votes ** 0.5))),
            t.genres,
            ", ".join(t.directors),
        ])
    return rows


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """Return path after atomically replacing it with header and rows as UTF-8 CSV."""
    with atomic_write(path, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path
