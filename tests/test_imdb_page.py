"""reviewpipe.sources.imdb_page: saved IMDb title pages (text, HTML) -> titles, related titles, reviews.

Every page here is invented for these tests (titles, people and reviews alike); only the acceptance
test at the end reads the real seed page in ../shared/data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.sources.imdb_page import (
    REVIEW_KEYS,
    TITLE_KEYS,
    NotATitlePage,
    Page,
    parse_page,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEED_PAGE = SHARED_DATA / "seed_imdb_title_page" / "000_a65f4abb53367698.txt"

NBSP = "\u00a0"


def title_row(**values: str | None) -> dict[str, str | None]:
    """A full title row: the given values, None for every other key."""
    return dict.fromkeys(TITLE_KEYS) | values


def review_row(**values: str | None) -> dict[str, str | None]:
    """A full review row: the given values, None for every other key."""
    return dict.fromkeys(REVIEW_KEYS) | values


def widget(rating: str) -> str:
    """The star-widget line a More Like This entry shows, no-break spaces and all."""
    return f"{NBSP} {NBSP} 1 2 3 4 5 6 7 8 9 10 {rating}/10 X {NBSP}"


# --- Page text -----------------------------------------------------------------------------------

# Laid out like a saved IMDb title page: rating block, title line, credits, popularity, More Like
# This (entries 1 and 4 have no title line; entry 3 is a TV movie), details, then three reviews.
GLASS_HARP_TEXT = f"""7.4/10
1,205
12 user 3 critic

Die Glasharfe{NBSP}(1988)

A lighthouse keeper on a northern island builds an instrument out of salvaged bottles.

Director:

Jüri Järvet (as J. Jarvet)

Writers:

Zoë Lindqvist (as Zoe Lindqvist), Jüri Järvet
Reviews
Popularity
12,345 ( 17)

More Like This{NBSP}

Drama | Mystery
{widget("7.0")}

A ferryman carries one passenger too many across a frozen bay.

Director: Ossi Kaarna
Stars: Lea Vahter, Ossi Kaarna
Salt Meadow (1991)
Certificate: 12 Drama
{widget("6.8")}

Two sisters inherit a farm that the sea is slowly taking back.

Directors: Ossi Kaarna, Zoë Lindqvist
Stars: Maarja Kask
Night Ferry (TV Movie 1993)
Documentary
{widget("6.1")}

The last winter of a ferry line, told by its crew ... See full summary{NBSP}»

Director: Ossi Kaarna
Stars: Lea Vahter
Comedy | Romance
{widget("5.9")}

A piano tuner falls for the one client whose piano is perfectly in tune.

Director: Anne Põder
Stars: Kaja Tamm, Priit Org
Edit

Cast

Cast overview, first billed only:
Maarja Kask ... Keeper's daughter
Edit

Genres:

Drama{NBSP}| Fantasy

Country:

Estonia

Language:

Estonian | Finnish

Runtime:

97 min

User Reviews

A harp made of glass
12 March 2004 | by nightowlSee all my reviews

The bottles are tuned by hand, and you can hear every one of them.

Mari's Rating -- 9 of 10: see it on the biggest screen you can.


7 of 9 people found this review helpful.{NBSP} Was this review helpful to you? | Report this
Too slow for me
1 April 2005 | by Zoë K.See all my reviews

Nothing happens for an hour.
Then nothing happens again.

Was this review helpful to you? | Report this
8/10
Quiet and strange
2 May 2006 | by lumi_ja

Stays with you.

1,024 of 1,310 people found this review helpful.{NBSP} Was this review helpful to you? | Report this
Review this title | See all 12 user reviews{NBSP}»

Contribute to This Page
"""


def test_page_text_title_related_titles_and_reviews() -> None:
    page = parse_page(GLASS_HARP_TEXT.encode("utf-8"), "glass_harp.txt")

    assert isinstance(page, Page)
    own = "Die Glasharfe (1988)"  # no tconst in page text: "<title> (<year>)" is the key
    assert page.titles[0] == title_row(
        title_id=own,
        title="Die Glasharfe",
        year="1988",
        site_rating="7.4",
        site_votes="1,205",  # kept as the page shows it; staging casts
        user_review_count="12",
        critic_review_count="3",
        genres="Drama | Fantasy",  # the no-break space before "|" reads as a space
        directors="Jüri Järvet",  # "(as J. Jarvet)" is a credit alias, not a name
        writers="Zoë Lindqvist, Jüri Järvet",
        country="Estonia",
        language="Estonian | Finnish",
        runtime_minutes="97",
        popularity="12,345",  # "( 17)" is the rank change, not the rank
    )
    assert page.titles[1:] == [
        # No title line: keyed by its position in More Like This so that it is not dropped.
        title_row(
            title_id=f"{own} related 1",
            site_rating="7.0",
            genres="Drama | Mystery",
            directors="Ossi Kaarna",
            stars="Lea Vahter, Ossi Kaarna",
            related_to_title_id=own,
        ),
        # Its title line sits after entry 1's Stars line; "Certificate: 12" is not a genre.
        title_row(
            title_id="Salt Meadow (1991)",
            title="Salt Meadow",
            year="1991",
            site_rating="6.8",
            genres="Drama",
            directors="Ossi Kaarna, Zoë Lindqvist",
            stars="Maarja Kask",
            related_to_title_id=own,
        ),
        # "(TV Movie 1993)": the kind is dropped from title and year.
        title_row(
            title_id="Night Ferry (1993)",
            title="Night Ferry",
            year="1993",
            site_rating="6.1",
            genres="Documentary",
            directors="Ossi Kaarna",
            stars="Lea Vahter",
            related_to_title_id=own,
        ),
        title_row(
            title_id=f"{own} related 4",
            site_rating="5.9",
            genres="Comedy | Romance",
            directors="Anne Põder",
            stars="Kaja Tamm, Priit Org",
            related_to_title_id=own,
        ),
    ]
    assert page.reviews == [
        review_row(
            title_id=own,
            author="nightowl",  # the glued "See all my reviews" link is not part of the name
            review_date="12 March 2004",
            rating=None,  # "9 of 10" is written inside the text, not a rating the page states
            review_title="A harp made of glass",
            review_text=(
                "The bottles are tuned by hand, and you can hear every one of them.\n\n"
                "Mari's Rating -- 9 of 10: see it on the biggest screen you can."
            ),
            helpful_votes="7",
            total_votes="9",
        ),
        # No helpful line: no votes, and the "Was this review helpful" link is not text.
        review_row(
            title_id=own,
            author="Zoë K.",
            review_date="1 April 2005",
            review_title="Too slow for me",
            review_text="Nothing happens for an hour.\nThen nothing happens again.",
        ),
        # "8/10" straight above the review title is the rating the page shows for it.
        review_row(
            title_id=own,
            author="lumi_ja",
            review_date="2 May 2006",
            rating="8",
            review_title="Quiet and strange",
            review_text="Stays with you.",
            helpful_votes="1,024",
            total_votes="1,310",
        ),
    ]


def test_page_text_with_missing_counts_and_fields_gives_nulls() -> None:
    text = (
        "Harbour Lights (2011)\n\n6.2/10\n\nA short film about a lighthouse.\n\n"
        "Runtime:\n\nSound Mix:\n\nMono\n"
    )

    page = parse_page(text.encode(), "harbour.txt")

    # No vote count under the rating, no review counts, and an empty Runtime field.
    assert page.titles == [
        title_row(
            title_id="Harbour Lights (2011)", title="Harbour Lights", year="2011", site_rating="6.2"
        )
    ]
    assert page.reviews == []


def test_page_text_with_only_a_title_line_is_a_page() -> None:
    page = parse_page("Kõrvemaa (TV Series 1999–2001)\n".encode(), "korvemaa.txt")

    # Series years read as their first year.
    assert page == Page(
        titles=[title_row(title_id="Kõrvemaa (1999)", title="Kõrvemaa", year="1999")], reviews=[]
    )


def test_page_text_keeps_non_ascii_and_reads_stray_cp1252_bytes() -> None:
    # Valid UTF-8 ("Järvet") with one cp1252 byte ("\xeb" = ë) mixed in, a BOM and CRLF line ends.
    content = (
        b"\xef\xbb\xbfStill Water (2001)\r\n\r\nDirector:\r\n\r\n"
        + "Jüri Järvet, Zo".encode()
        + b"\xeb Kask\r\n"
    )

    page = parse_page(content, "still_water.txt")

    assert page.titles[0] == title_row(
        title_id="Still Water (2001)",
        title="Still Water",
        year="2001",
        directors="Jüri Järvet, Zoë Kask",
    )


def test_page_text_url_gives_the_tconst() -> None:
    text = "https://www.imdb.com/title/tt9900001/\n\nNorth Light (2003)\n7.0/10\n"

    page = parse_page(text.encode(), "north_light.txt")

    assert page.titles[0]["title_id"] == "tt9900001"
    assert page.titles[0]["title"] == "North Light"


# --- Saved HTML ----------------------------------------------------------------------------------


def html_page(head: str = "", body: str = "") -> bytes:
    """A minimal saved HTML document."""
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def jsonld(data: object) -> str:
    """A JSON-LD script element holding data."""
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def test_html_with_jsonld_only() -> None:
    head = '<link rel="canonical" href="https://www.imdb.com/title/tt9900002/">' + jsonld(
        {
            "@context": "https://schema.org",
            "@type": "Movie",
            "url": "/title/tt9900002/",
            "name": "Birch &amp; Salt",  # IMDb escapes entities inside JSON-LD strings
            "datePublished": "1997-11-02",
            "genre": ["Drama", "Music"],
            "director": {"@type": "Person", "name": "Zoë Lindqvist"},
            "creator": [
                {"@type": "Person", "name": "Jüri Järvet"},
                {"@type": "Organization", "url": "/company/co0000001/"},
            ],
            "actor": [{"@type": "Person", "name": "Lea Vahter"}],
            "duration": "PT1H48M",
            "aggregateRating": {"ratingCount": 2048, "ratingValue": 7.9},
            "review": [
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": "nightowl"},
                    "dateCreated": "2004-03-12",
                    "name": "Sings like a choir",
                    "reviewBody": "First part.\n\nSecond part, with Ted&apos;s 4 of 4.",
                    "reviewRating": {"@type": "Rating", "ratingValue": 9},
                },
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": "lumi_ja"},
                    "datePublished": "2005-04-01",
                    "name": "Not for me",
                    "reviewBody": "Too quiet.<br/><br/>Far too quiet.",
                },
            ],
        }
    )
    # The visible text holds the helpful counts only, in review order.
    body = (
        "<h1>Birch &amp; Salt</h1>"
        "<div><p>First part.</p><div>3 of 4 people found this review helpful.</div></div>"
        "<div><p>Too quiet.</p><div>0 of 2 people found this review helpful.</div></div>"
    )

    page = parse_page(html_page(head, body), "birch.html")

    assert page.titles == [
        title_row(
            title_id="tt9900002",  # the canonical link's tconst
            title="Birch & Salt",
            year="1997",
            site_rating="7.9",
            site_votes="2,048",  # written as the page shows counts
            genres="Drama | Music",
            directors="Zoë Lindqvist",
            writers="Jüri Järvet",  # the production company is not a writer
            stars="Lea Vahter",
            runtime_minutes="108",
        )
    ]
    assert page.reviews == [
        review_row(
            title_id="tt9900002",
            author="nightowl",
            review_date="12 March 2004",  # ISO dates read as the page shows dates
            rating="9",
            review_title="Sings like a choir",
            review_text="First part.\n\nSecond part, with Ted's 4 of 4.",
            helpful_votes="3",
            total_votes="4",
        ),
        review_row(
            title_id="tt9900002",
            author="lumi_ja",
            review_date="1 April 2005",
            review_title="Not for me",
            review_text="Too quiet.\n\nFar too quiet.",
            helpful_votes="0",
            total_votes="2",
        ),
    ]


# Older schema.org microdata, laid out the way IMDb's title pages of the 2010s marked it up.
MICRODATA_BODY = """
<div id="pagecontent" itemscope itemtype="http://schema.org/Movie">
  <h1 itemprop="name">Vaikne Saar&nbsp;<span id="titleYear">(<a href="/year/1979/">1979</a>)</span></h1>
  <meta itemprop="datePublished" content="1980-02-14">
  <div itemprop="aggregateRating" itemscope itemtype="http://schema.org/AggregateRating">
    <strong><span itemprop="ratingValue">6.9</span></strong>/<span itemprop="bestRating">10</span>
    <span itemprop="ratingCount">3,120</span>
    <a href="reviews"><span itemprop="reviewCount">41 user</span></a>
    <a href="externalreviews"><span itemprop="reviewCount">5 critic</span></a>
  </div>
  <time itemprop="duration" datetime="PT95M">95 min</time>
  <a href="/genre/Drama"><span itemprop="genre">Drama</span></a> |
  <a href="/genre/War"><span itemprop="genre">War</span></a>
  <div itemprop="director" itemscope itemtype="http://schema.org/Person">
    Director: <a href="/name/nm1"><span itemprop="name">Anne Põder</span></a> (as A. Poder)
  </div>
  <div>Writers:
    <span itemprop="creator" itemscope itemtype="http://schema.org/Person"><span itemprop="name">Priit Org</span></span>,
    <span itemprop="creator" itemscope itemtype="http://schema.org/Organization"><span itemprop="name">Tallinnfilm</span></span>
  </div>
  <div>Stars: <span itemprop="actors"><span itemprop="name">Kaja Tamm</span></span>,
    <span itemprop="actors"><span itemprop="name">Zoë Kask</span></span></div>
  <div itemprop="review" itemscope itemtype="http://schema.org/Review">
    <div itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">
      <span itemprop="ratingValue">7</span>/10</div>
    <strong itemprop="name">An island holds its breath</strong>
    <span itemprop="author" itemscope itemtype="http://schema.org/Person"><a><span itemprop="name">seaward</span></a></span>
    <meta itemprop="datePublished" content="2009-06-30">
    <div itemprop="reviewBody">One line.<br><br>Another line, rated 10/10 by my aunt.</div>
  </div>
  <div itemprop="review" itemscope itemtype="http://schema.org/Review">
    <strong itemprop="name">Grey</strong>
    <span itemprop="author">Jüri K.</span>
    <span itemprop="datePublished">7 July 2010</span>
    <p itemprop="reviewBody">Grey sea, grey film.</p>
  </div>
</div>
"""


def test_html_with_microdata_only() -> None:
    head = '<meta property="og:url" content="http://www.imdb.com/title/tt9900003/">'

    page = parse_page(html_page(head, MICRODATA_BODY), "vaikne_saar.htm")

    assert page.titles == [
        title_row(
            title_id="tt9900003",  # from og:url
            title="Vaikne Saar",
            year="1979",  # the title's year, not the 1980 release date
            site_rating="6.9",
            site_votes="3,120",
            user_review_count="41",
            critic_review_count="5",
            genres="Drama | War",
            directors="Anne Põder",  # the Person's name, without the "(as ...)" text around it
            writers="Priit Org",  # Tallinnfilm is an Organization
            stars="Kaja Tamm, Zoë Kask",
            runtime_minutes="95",
        )
    ]
    # No helpful lines anywhere on the page: votes stay None.
    assert page.reviews == [
        review_row(
            title_id="tt9900003",
            author="seaward",
            review_date="30 June 2009",
            rating="7",  # the reviewRating item, not the "10/10" inside the body
            review_title="An island holds its breath",
            review_text="One line.\n\nAnother line, rated 10/10 by my aunt.",
        ),
        review_row(
            title_id="tt9900003",
            author="Jüri K.",
            review_date="7 July 2010",
            review_title="Grey",
            review_text="Grey sea, grey film.",
        ),
    ]


def test_html_with_jsonld_and_microdata_prefers_jsonld_and_fills_gaps() -> None:
    # JSON-LD names the work differently and has no critic count, no genre and no review rating.
    head = jsonld(
        {
            "@type": "Movie",
            "url": "https://www.imdb.com/title/tt9900004/",
            "name": "Silent Island",
            "datePublished": "1979-05-01",
            "aggregateRating": {"ratingValue": "7.0", "ratingCount": "3125", "reviewCount": "42"},
            "review": [
                {
                    "author": {"name": "seaward"},
                    "dateCreated": "2009-06-30",
                    "name": "An island holds its breath",
                    "reviewBody": "One line, as JSON-LD tells it.",
                }
            ],
        }
    )

    page = parse_page(html_page(head, MICRODATA_BODY), "silent_island.html")

    assert page.titles == [
        title_row(
            title_id="tt9900004",  # JSON-LD url (no canonical link on this page)
            title="Silent Island",  # JSON-LD wins over the microdata "Vaikne Saar"
            year="1979",
            site_rating="7.0",
            site_votes="3,125",
            user_review_count="42",
            critic_review_count="5",  # only microdata has it
            genres="Drama | War",
            directors="Anne Põder",
            writers="Priit Org",
            stars="Kaja Tamm, Zoë Kask",
            runtime_minutes="95",
        )
    ]
    # JSON-LD holds one review; the microdata review by the same author with the same title gives
    # its rating. The second microdata review is not in JSON-LD, which is the preferred layer.
    assert page.reviews == [
        review_row(
            title_id="tt9900004",
            author="seaward",
            review_date="30 June 2009",
            rating="7",
            review_title="An island holds its breath",
            review_text="One line, as JSON-LD tells it.",
        )
    ]


def test_html_without_structured_data_reads_its_visible_text() -> None:
    # Only visible text: the same layout as a saved text page, as a browser would lay it out.
    body = """
    <script>var hidden = "Ignored Film (1950)";</script>
    <style>.x { }</style>
    <div class="ratings"><div>8.0/10</div><div>977</div><div>9 user 1 critic</div></div>
    <h1>Kuldne Liiv <span>(<a>2015</a>)</span></h1>
    <div class="credit"><h4>Director:</h4> <a>Mihkel Rand</a> (as M. Rand)</div>
    <div class="credit"><h4>Stars:</h4> <a>Zoë Kask</a>, <a>Jüri Järvet</a></div>
    <div><h3>More Like This</h3>
      <div class="rec">
        <div>Drama | Sport</div>
        <div>1 2 3 4 5 6 7 8 9 10 <span>6.5</span>/10 X</div>
        <p>A rowing team trains through a winter.</p>
        <div>Director: Priit Org</div>
        <div>Stars: Kaja Tamm</div>
      </div>
      <div class="rec">
        <div>Amber Road (2012)</div>
        <div>Certificate: PG-13 Adventure</div>
        <div>1 2 3 4 5 6 7 8 9 10 7.2/10 X</div>
        <p>Smugglers cross a border of dunes.</p>
        <div>Director: Anne Põder</div>
        <div>Stars: Lea Vahter</div>
      </div>
    </div>
    <div><h4>Country:</h4> Estonia</div>
    <div><h4>Language:</h4> Estonian | Russian</div>
    <div><h4>Runtime:</h4> 1h 41min</div>
    <h2>User Reviews</h2>
    <div class="review">
      <h3>Sand in everything</h3>
      <div>9 August 2016 | by <a>duneviewer</a><a>See all my reviews</a></div>
      <p>Beautiful to look at.</p>
      <p>My score: 3 of 5.</p>
      <div>12 of 20 people found this review helpful. Was this review helpful to you? | Report this</div>
    </div>
    <div>Review this title | See all 9 user reviews »</div>
    """

    page = parse_page(html_page("<title>Kuldne Liiv (2015) - IMDb</title>", body), "kuldne.html")

    own = "Kuldne Liiv (2015)"  # no tconst anywhere: "<title> (<year>)"
    assert page.titles == [
        title_row(
            title_id=own,
            title="Kuldne Liiv",
            year="2015",
            site_rating="8.0",
            site_votes="977",
            user_review_count="9",
            critic_review_count="1",
            directors="Mihkel Rand",
            stars="Zoë Kask, Jüri Järvet",
            country="Estonia",
            language="Estonian | Russian",
            runtime_minutes="101",  # 1h 41min
        ),
        title_row(
            title_id=f"{own} related 1",
            site_rating="6.5",
            genres="Drama | Sport",
            directors="Priit Org",
            stars="Kaja Tamm",
            related_to_title_id=own,
        ),
        title_row(
            title_id="Amber Road (2012)",
            title="Amber Road",
            year="2012",
            site_rating="7.2",
            genres="Adventure",  # the certificate "PG-13" is not a genre
            directors="Anne Põder",
            stars="Lea Vahter",
            related_to_title_id=own,
        ),
    ]
    assert page.reviews == [
        review_row(
            title_id=own,
            author="duneviewer",
            review_date="9 August 2016",
            review_title="Sand in everything",
            review_text="Beautiful to look at.\n\nMy score: 3 of 5.",
            helpful_votes="12",
            total_votes="20",
        )
    ]


def test_html_head_title_is_the_last_resort_for_the_title() -> None:
    page = parse_page(html_page("<title>Hall Meri (TV Movie 2004) - IMDb</title>"), "hall.html")

    assert page.titles == [title_row(title_id="Hall Meri (2004)", title="Hall Meri", year="2004")]


# --- Not a title page ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "file_name", "reason"),
    [
        (b"", "empty.txt", "empty"),
        (b"  \r\n\n", "blank.html", "empty"),
        (
            html_page("<title>Kitchen notes</title>", "<h1>Soup</h1><p>Boil water. Add salt.</p>"),
            "soup.html",
            "no JSON-LD or microdata title",
        ),
        (
            b"It was a long winter.\n\nThe ferry stopped running in January, and nobody came.\n",
            "story.txt",
            "no 'Title (Year)' line",
        ),
    ],
)
def test_files_without_a_title_page_raise(content: bytes, file_name: str, reason: str) -> None:
    with pytest.raises(NotATitlePage) as raised:
        parse_page(content, file_name)

    message = str(raised.value)
    assert file_name in message
    assert reason in message
    assert isinstance(raised.value, ValueError)


def test_jsonld_of_another_kind_is_not_a_title_page() -> None:
    head = jsonld({"@type": "WebSite", "name": "Some Site", "url": "https://example.org/"})

    with pytest.raises(NotATitlePage, match="site.html"):
        parse_page(html_page(head, "<p>Welcome.</p>"), "site.html")


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=400), as_html=st.booleans())
def test_any_bytes_give_a_full_page_or_not_a_title_page(content: bytes, as_html: bool) -> None:
    # Missing parts are None, never errors: anything else than NotATitlePage is a bug.
    try:
        page = parse_page(content, "any.html" if as_html else "any.txt")
    except NotATitlePage:
        return
    assert all(tuple(row) == TITLE_KEYS for row in page.titles)
    assert all(tuple(row) == REVIEW_KEYS for row in page.reviews)


# --- The real seed page --------------------------------------------------------------------------


@pytest.mark.acceptance
@pytest.mark.skipif(not SEED_PAGE.exists(), reason=f"real seed page absent: {SEED_PAGE}")
def test_seed_page() -> None:
    page = parse_page(SEED_PAGE.read_bytes(), SEED_PAGE.name)

    own = page.titles[0]
    assert own["title_id"] == "Zerkalo (1975)"
    assert (own["title"], own["year"]) == ("Zerkalo", "1975")
    assert (own["site_rating"], own["site_votes"]) == ("8.1", "34,370")
    assert (own["user_review_count"], own["critic_review_count"]) == ("119", "70")
    assert own["popularity"] == "3,939"
    assert own["genres"] == "Biography | Drama"
    assert own["directors"] == "Andrei Tarkovsky"
    assert own["writers"] == "Aleksandr Misharin, Andrei Tarkovsky"
    assert (own["country"], own["language"]) == ("Soviet Union", "Russian | Spanish")
    assert own["runtime_minutes"] is None  # the page's Runtime field is empty

    [review] = page.reviews
    assert review["author"] == "tedg"
    assert review["review_date"] == "3 September 2002"
    assert review["review_title"] == "Reflections Reflections Reflections"
    assert (review["helpful_votes"], review["total_votes"]) == ("41", "57")
    assert review["rating"] is None  # the reviewer's own "4 of 4" is prose, not a rating
    assert review["review_text"].count("\n\n") >= 5  # paragraphs stay apart
    assert "helpful" not in review["review_text"]  # neither the votes line nor its links

    # The seed's More Like This holds 12 entries (one rating widget each); 5 have no title line.
    related = page.titles[1:]
    assert len(related) == 12
    assert all(row["related_to_title_id"] == "Zerkalo (1975)" for row in related)
    assert [row["title_id"] for row in related if row["title"] is None] == [
        f"Zerkalo (1975) related {n}" for n in (1, 8, 9, 10, 12)
    ]
    nostalgia = next(row for row in related if row["title_id"] == "Nostalgia (1983)")
    assert (nostalgia["site_rating"], nostalgia["directors"]) == ("8.1", "Andrei Tarkovsky")
    assert nostalgia["genres"] == "Drama"  # after the "Certificate: 16" prefix
    tempo = next(row for row in related if row["title"] == "Tempo di viaggio")
    assert (tempo["year"], tempo["site_rating"]) == ("1983", "7.3")
