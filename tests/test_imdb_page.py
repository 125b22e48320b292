"""reviewpipe.sources.imdb_page: saved IMDb title pages (text, HTML) -> titles, related titles, reviews.

Every page here is invented for these tests (titles, people and reviews alike); only the acceptance
test at the end reads the real seed page in ../shared/data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewpipe.schema import REVIEW_FIELDS, TITLE_FIELDS
from reviewpipe.sources.imdb_page import NotATitlePage, Page, parse_page

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEED_PAGE = SHARED_DATA / "seed_imdb_title_page" / "000_a65f4abb53367698.txt"

NBSP = "\u00a0"


def title_row(**values: str | None) -> dict[str, str | None]:
    """A full title row: the given values, None for every other key."""
    return dict.fromkeys(TITLE_FIELDS) | values


def review_row(**values: str | None) -> dict[str, str | None]:
    """A full review row: the given values, None for every other key."""
    return dict.fromkeys(REVIEW_FIELDS) | values


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


def test_html_head_title_gives_the_title() -> None:
    page = parse_page(html_page("<title>Hall Meri (TV Movie 2004) - IMDb</title>"), "hall.html")

    assert page.titles == [title_row(title_id="Hall Meri (2004)", title="Hall Meri", year="2004")]


@pytest.mark.parametrize(
    ("counts", "users", "critics"),
    [
        ("246 user | 120 critic", "246", "120"),
        ("246 user · 120 critic", "246", "120"),
        ("Reviews: 2.9K user | 1,234 critic", "2.9K", "1,234"),  # short forms kept for staging
        ("246\nuser\n|\n120\ncritic", "246", "120"),  # each word in its own element
        ("2.9KUser reviews\n12Critic reviews\n74Metascore", "2.9K", "12"),  # React's glued spans
        ("12 critic", None, "12"),
        ("1,205 users", None, None),  # a vote count, not a review count
        ("See all 246 user reviews »\nOur 3 user groups met 2 critic circles.", "246", None),
    ],
)
def test_review_counts_are_read_whatever_stands_between_them(
    counts: str, users: str | None, critics: str | None
) -> None:
    text = f"Harbour Lights (2011)\n6.2/10\n977\n{counts}\n"

    own = parse_page(text.encode(), "harbour.txt").titles[0]

    # Only "See all N user reviews" names no critic count; prose is never a count.
    assert (own["user_review_count"], own["critic_review_count"]) == (users, critics)


@pytest.mark.parametrize(
    ("below", "votes"),
    [("34,370", "34,370"), ("977", "977"), ("2.9K", "2.9K"), ("1.2M", "1.2M"), ("8.1", None)],
)
def test_vote_count_below_the_site_rating(below: str, votes: str | None) -> None:
    page = parse_page(f"Harbour Lights (2011)\n6.2/10\n{below}\n".encode(), "harbour.txt")

    # Short forms are kept for staging to read; a bare decimal is a rating, not a count.
    assert (page.titles[0]["site_rating"], page.titles[0]["site_votes"]) == ("6.2", votes)


def test_one_review_count_element_holding_both_counts() -> None:
    # The 2010 star-box: both links inside one reviewCount element.
    body = (
        "<div itemscope itemtype='http://schema.org/Movie'><h1 itemprop='name'>Salt Meadow (1991)"
        "</h1><div itemprop='aggregateRating' itemscope "
        "itemtype='http://schema.org/AggregateRating'>"
        "<span itemprop='ratingValue'>7.3</span>/10 from <span itemprop='ratingCount'>2.9K</span>"
        " users | Reviews: <span itemprop='reviewCount'><a>246 user</a> | <a>120 critic</a></span>"
        "</div></div>"
    )

    own = parse_page(html_page("", body), "salt.html").titles[0]

    assert (own["site_votes"], own["user_review_count"], own["critic_review_count"]) == (
        "2.9K",  # not "2"
        "246",
        "120",  # not 246, the first count of an element that says "critic"
    )


def test_own_rating_widget_is_not_a_related_title() -> None:
    # No More Like This heading: the widget under "Your rating:" is the reader's own, not an entry.
    text = (
        f"Rate This\nHarbour Lights (2011)\n6.2/10\n977\nYour rating:\n{widget('-')}\n\nA film.\n"
    )

    page = parse_page(text.encode(), "harbour.txt")

    assert page.titles == [
        title_row(
            title_id="Harbour Lights (2011)",
            title="Harbour Lights",
            year="2011",
            site_rating="6.2",
            site_votes="977",
        )
    ]


def test_html_head_title_wins_over_furniture_in_the_visible_text() -> None:
    # No structured data; an ad and a "Recently Viewed" strip come before the page's own heading.
    body = (
        "<div class='ad'>ADVERTISEMENT<br>Watch Now (2019)</div>"
        "<div><h3>Recently Viewed</h3><a>Night Ferry (1993)</a></div>"
        "<h1>Kuldne Liiv <span>(2015)</span></h1><div>8.0/10</div><div>977</div>"
    )

    page = parse_page(html_page("<title>Kuldne Liiv (2015) - IMDb</title>", body), "kuldne.html")

    assert page.titles == [
        title_row(
            title_id="Kuldne Liiv (2015)",
            title="Kuldne Liiv",
            year="2015",
            site_rating="8.0",
            site_votes="977",
        )
    ]


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
    assert all(tuple(row) == TITLE_FIELDS for row in page.titles)
    assert all(tuple(row) == REVIEW_FIELDS for row in page.reviews)


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


# --- Pages of other years ------------------------------------------------------------------------
#
# IMDb's title page has had several layouts, and users keep old saves. The generators below build
# one title page in the layout of each era, from what a film's page states (Film), with the counts
# written in the forms IMDb used ("1,234", "2.9K", "12"), user and critic counts separated in
# different ways, blocks in different orders, and page furniture (menus, rating widgets, ads,
# sign-in prompts) that must never be read as data:
#   2010: table-based, star-box, schema.org microdata, no JSON-LD; "N out of M people found the
#         following review useful:" above each review; "People who liked this also liked...".
#   2015: title-overview-widget, ratingValue/ratingCount/reviewCount microdata, More Like This,
#         titleUserReviewsTeaser: microdata reviews, "N of M people found this review helpful".
#   2020: React, JSON-LD in the head, data-testid blocks, counts shown as "2.9K" / "User reviews".
#   text: a 2013-2017 page saved as text ("Save as text"), as the seed page is.
#   text 2010: a 2008-2012 page saved as text.

ERAS = ("2010", "2015", "2020", "text", "text 2010")

# Strings of page furniture: none of them may appear in any field the parser returns.
FURNITURE = (
    "Your rating", "YOUR RATING", "Rate This", "Rate", "Sign In", "Sign in", "Watchlist",
    "ADVERTISEMENT", "Menu", "Showtimes", "IMDbPro", "Users rated this", "People who liked",
    "See all", "More Like This", "More like this", "Contribute", "Recently Viewed", "Share",
    "Report this", "Was this review", "found the following", "Metascore", "Watch options",
)  # fmt: skip

# Two words each, so that no name is a genre, a label or a furniture word.
NAMES = st.builds(
    "{} {}".format,
    st.sampled_from(
        ["Salt", "Night", "Kõrve", "Amber", "Still", "Vaikne", "Birch", "Ühe", "Zoë's"]
    ),
    st.sampled_from(["Meadow", "Ferry", "Harbour", "Road", "Water", "Saar", "Lights", "Järv"]),
)
PEOPLE = st.sampled_from(
    ["Ossi Kaarna", "Zoë Lindqvist", "Anne Põder", "Jüri Järvet", "Lea Vahter"]
)
GENRE_LINES = st.sampled_from(["Drama", "Drama | War", "Comedy | Romance", "Mystery | Sci-Fi"])
RATINGS = st.integers(10, 99).map(lambda tenths: f"{tenths / 10:.1f}")
SENTENCES = st.sampled_from(
    [
        "The bottles are tuned by hand.",
        "Nothing happens for an hour.",
        "A quiet film about a loud sea.",
        "I gave it 9 of 10 in my notebook.",
        "Zoë's performance holds the film together.",
    ]
)


@dataclass(frozen=True)
class Shown:
    """A count and how the page writes it ("1,234", "2.9K" or "12")."""

    value: int
    text: str


@st.composite
def shown_counts(draw: st.DrawFn, low: int = 1, high: int = 5_000_000) -> Shown:
    """A count written with thousands separators, or in IMDb's short form ("2.9K") when large."""
    value = draw(st.integers(low, high))
    if value >= 1000 and draw(st.booleans()):
        short = f"{value / 1_000_000:.1f}M" if value >= 1_000_000 else f"{value / 1000:.1f}K"
        return Shown(value, short.replace(".0", ""))
    return Shown(value, f"{value:,}")


@dataclass(frozen=True)
class Related:
    """One More Like This entry as the page shows it."""

    title: str
    year: int
    rating: str
    genres: str
    director: str
    star: str


@dataclass(frozen=True)
class Review:
    """One user review as the page shows it."""

    title: str
    author: str
    day: dt.date
    paragraphs: tuple[str, ...]
    rating: int | None
    helpful: tuple[int, int] | None


@dataclass(frozen=True)
class Film:
    """What one generated title page states, and how it is laid out."""

    tconst: str
    title: str
    year: int
    rating: str
    votes: Shown
    users: Shown
    critics: Shown | None
    related: tuple[Related, ...]
    reviews: tuple[Review, ...]
    separator: str  # between "246 user" and "120 critic"
    joint: str  # between a count and its word
    one_count_element: bool  # both counts inside one reviewCount element (2010)
    furniture: bool
    reviews_first: bool  # the reviews come before More Like This


RELATED = st.builds(
    Related, title=NAMES, year=st.integers(1950, 2023), rating=RATINGS, genres=GENRE_LINES,
    director=PEOPLE, star=PEOPLE,
)  # fmt: skip
REVIEWS = st.builds(
    Review,
    title=NAMES,
    author=st.sampled_from(["nightowl", "Zoë K.", "lumi_ja", "tedg", "sea-ward 1970"]),
    day=st.dates(dt.date(1999, 1, 1), dt.date(2023, 12, 31)),
    paragraphs=st.lists(SENTENCES, min_size=1, max_size=3).map(tuple),
    rating=st.one_of(st.none(), st.integers(1, 10)),
    helpful=st.one_of(
        st.none(),
        st.integers(0, 2000).flatmap(lambda n: st.tuples(st.just(n), st.integers(n, 3000))),
    ),
)


@st.composite
def films(draw: st.DrawFn) -> Film:
    """A film's page: its figures, related titles, reviews and a layout's free choices."""
    return Film(
        tconst=f"tt{draw(st.integers(1, 9_999_999)):07d}",
        title=draw(NAMES),
        year=draw(st.integers(1920, 2023)),
        rating=draw(RATINGS),
        votes=draw(shown_counts(5)),
        users=draw(shown_counts()),
        critics=draw(st.one_of(st.none(), shown_counts(high=20_000))),
        related=tuple(draw(st.lists(RELATED, max_size=3, unique_by=lambda r: r.title))),
        reviews=tuple(draw(st.lists(REVIEWS, max_size=3, unique_by=lambda r: r.title))),
        separator=draw(st.sampled_from([" | ", " · ", " ", "\n"])),
        joint=draw(st.sampled_from([" ", "\n", "  "])),
        one_count_element=draw(st.booleans()),
        furniture=draw(st.booleans()),
        reviews_first=draw(st.booleans()),
    )


def day_text(day: dt.date) -> str:
    """A date as IMDb's pages show review dates: "3 September 2002"."""
    return f"{day.day} {day:%B} {day.year}"


def counts_html(film: Film, each: bool) -> str:
    """The "246 user | 120 critic" links, each count and word around film.joint; each count in its
    own reviewCount element when each, else both in one."""
    joint = {" ": " ", "\n": "<br>", "  ": " <span class='x'> </span> "}[film.joint]
    separator = {" | ": " <span class='ghost'>|</span> ", " · ": " · ", " ": " ", "\n": "<br>"}
    count = "<span itemprop='reviewCount'>{}</span>" if each else "{}"
    parts = [f"<a href='reviews'>{count.format(f'{film.users.text}{joint}user')}</a>"]
    if film.critics:
        critics = count.format(f"{film.critics.text}{joint}critic")
        parts.append(f"<a href='externalreviews'>{critics}</a>")
    links = separator[film.separator].join(parts)
    return links if each else f"<span itemprop='reviewCount'>{links}</span>"


def related_html(film: Film, heading: str) -> str:
    """The related titles block, one entry per title in the widget layout of 2010-2017 pages."""
    entries = "".join(
        f"<div class='rec_item'><div><a href='/title/tt1/'>{r.title}</a> ({r.year})</div>"
        f"<div>{r.genres}</div>"
        f"<div class='rating'>1 2 3 4 5 6 7 8 9 10 <span>{r.rating}</span>/10 X</div>"
        f"<p>A story of {r.title}.</p><div>Director: {r.director}</div><div>Stars: {r.star}</div>"
        + ("<div><button>Add to Watchlist</button></div>" if film.furniture else "")
        + "</div>"
        for r in film.related
    )
    return (
        f"<div class='article' id='titleRecs'><h2>{heading}</h2>{entries}</div>" if entries else ""
    )


def review_meta_html(review: Review) -> str:
    """A review's date and author line, as 2010-2017 pages show it."""
    return (
        f"<div class='comment-meta'>{day_text(review.day)} | by <a href='/user/ur1/'>"
        f"<span itemprop='author'>{review.author}</span></a> – <a>See all my reviews</a></div>"
    )


def nav_html(film: Film) -> str:
    """Menus, sign-in prompts and an ad: furniture at the top of a page."""
    if not film.furniture:
        return ""
    return (
        "<div id='nb20'><ul><li><a>Menu</a></li><li><a>Movies, TV &amp; Showtimes</a></li>"
        "<li><a>IMDbPro</a></li><li><a>Watchlist</a></li><li><a>Sign In</a></li></ul></div>"
        "<div class='ad'>ADVERTISEMENT<br>Watch Now (2019)<br>9.9/10</div>"
    )


def footer_html(film: Film) -> str:
    """Furniture at the bottom of a page."""
    if not film.furniture:
        return ""
    return (
        "<div><h3>Contribute to This Page</h3></div><div><h3>Recently Viewed</h3>"
        "<a>Watch Now (2019)</a></div><div>Sign in for more access</div>"
    )


def page_2010(film: Film) -> bytes:
    """The page as a 2008-2012 table-based page with microdata and no JSON-LD."""
    your_rating = (
        "<div class='rating rating-list'><span>Your rating:</span> 1 2 3 4 5 6 7 8 9 10 "
        "<span class='rating-rating'>-/10</span> X</div>"
        if film.furniture
        else ""
    )
    counts = counts_html(film, each=not film.one_count_element)
    reviews = "".join(
        "<div>"
        + (
            f"<small>{r.helpful[0]:,} out of {r.helpful[1]:,} people found the following review "
            "useful:</small><br>"
            if r.helpful
            else ""
        )
        + f"<a href='/review/rw1/'><h3>{r.title}</h3></a>{review_meta_html(r)}"
        + "".join(f"<p>{p}</p>" for p in r.paragraphs)
        + "</div>"
        for r in film.reviews
    )
    reviews_block = (
        f"<div class='article'><h2>User Reviews</h2>{reviews}"
        f"<div class='see-more'><a>Review this title</a> | <a>See all {film.users.text} user "
        "reviews</a> »</div></div>"
        if film.reviews
        else ""
    )
    related = related_html(film, "People who liked this also liked...")
    blocks = [reviews_block, related] if film.reviews_first else [related, reviews_block]
    body = (
        f"{nav_html(film)}<div id='tn15'><table id='title-overview-widget-layout'><tr>"
        f"<td id='overview-top' itemscope itemtype='http://schema.org/Movie'>"
        f"<h1 class='header' itemprop='name'>{film.title} <span class='nobr'>"
        f"(<a href='/year/{film.year}/'>{film.year}</a>)</span></h1>"
        "<div class='star-box giga-star'>"
        f"{your_rating}"
        "<div class='star-box-details' itemtype='http://schema.org/AggregateRating' itemscope "
        "itemprop='aggregateRating'>Ratings: "
        f"<strong><span itemprop='ratingValue'>{film.rating}</span></strong>"
        "<span class='mellow'>/<span itemprop='bestRating'>10</span></span> from "
        f"<a href='ratings'><span itemprop='ratingCount'>{film.votes.text}</span> users</a>"
        f" <span class='ghost'>|</span> Reviews: {counts}</div></div>"
        "</td></tr></table>"
        f"<div id='maindetails_center_bottom'>{''.join(blocks)}</div></div>{footer_html(film)}"
    )
    head = (
        f"<title>{film.title} ({film.year}) - IMDb</title>"
        f"<link rel='canonical' href='http://www.imdb.com/title/{film.tconst}/'>"
    )
    return html_page(head, body)


def review_2015_html(review: Review) -> str:
    """One review of a 2013-2017 titleUserReviewsTeaser: microdata, then its helpful line."""
    rating = (
        "<span itemprop='reviewRating' itemscope itemtype='http://schema.org/Rating'>"
        f"<meta itemprop='ratingValue' content='{review.rating}'></span>"
        if review.rating
        else ""
    )
    votes = (
        f"{review.helpful[0]:,} of {review.helpful[1]:,} people found this review helpful. "
        if review.helpful
        else ""
    )
    return (
        "<div itemprop='review' itemscope itemtype='http://schema.org/Review'>"
        f"{rating}<a href='/review/rw1/'><strong itemprop='name'>{review.title}</strong></a>"
        f"<meta itemprop='datePublished' content='{review.day.isoformat()}'>"
        f"{review_meta_html(review)}"
        f"<div><p itemprop='reviewBody'>{'<br><br>'.join(review.paragraphs)}</p></div></div>"
        f"<div class='yn'>{votes}Was this review helpful to you? <button>Yes</button> "
        "<button>No</button> | <a>Report this</a></div><hr>"
    )


def page_2015(film: Film) -> bytes:
    """The page as a 2013-2017 title-overview-widget page with microdata and no JSON-LD."""
    rate_this = (
        "<div class='star-rating-widget'><span>Rate This</span>"
        "<div>1 2 3 4 5 6 7 8 9 10 -/10 X</div></div>"
        if film.furniture
        else ""
    )
    reviews = (
        "<div class='article' id='titleUserReviewsTeaser'><h2>User Reviews</h2>"
        f"<div class='user-comments'>{''.join(review_2015_html(r) for r in film.reviews)}"
        f"<div class='see-more'><a>Review this title</a> <span>|</span> <a>See all "
        f"{film.users.text} user reviews</a> »</div></div></div>"
        if film.reviews
        else ""
    )
    related = related_html(film, "More Like This")
    blocks = [reviews, related] if film.reviews_first else [related, reviews]
    body = (
        f"{nav_html(film)}<div id='pagecontent' itemscope itemtype='http://schema.org/Movie'>"
        "<div id='title-overview-widget' class='heroic-overview'><div class='title_block'>"
        "<div class='title_bar_wrapper'><div class='ratings_wrapper'>"
        "<div class='imdbRating' itemtype='http://schema.org/AggregateRating' "
        "itemprop='aggregateRating' itemscope><div class='ratingValue'>"
        f"<strong><span itemprop='ratingValue'>{film.rating}</span></strong>"
        "<span class='grey'>/</span><span class='grey' itemprop='bestRating'>10</span></div>"
        f"<a href='ratings'><span class='small' itemprop='ratingCount'>{film.votes.text}</span>"
        f"</a></div>{rate_this}</div><div class='titleBar'><div class='title_wrapper'>"
        f"<h1 itemprop='name'>{film.title}&nbsp;<span id='titleYear'>"
        f"(<a href='/year/{film.year}/'>{film.year}</a>)</span></h1></div></div></div></div>"
        "<div class='plot_summary_wrapper'><div class='titleReviewBar'>"
        "<div class='titleReviewBarItem titleReviewbarItemBorder'><div><h4>Reviews</h4></div>"
        f"<div><span class='subText'>{counts_html(film, each=True)}</span></div></div>"
        "<div class='titleReviewBarItem'><div>Popularity</div></div></div></div></div>"
        f"{''.join(blocks)}</div>{footer_html(film)}"
    )
    head = f"<link rel='canonical' href='https://www.imdb.com/title/{film.tconst}/'>"
    return html_page(head, body)


def page_2020(film: Film) -> bytes:
    """The page as a 2018+ React page: JSON-LD in the head, data-testid blocks in the body."""
    featured = film.reviews[:1]  # the JSON-LD and the page show one featured review
    data = {
        "@context": "https://schema.org",
        "@type": "Movie",
        "url": f"/title/{film.tconst}/",
        "name": film.title,
        "datePublished": f"{film.year}-05-01",
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingCount": film.votes.value,
            "bestRating": 10,
            "worstRating": 1,
            "ratingValue": float(film.rating),
        },
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": r.author},
                "dateCreated": r.day.isoformat(),
                "name": r.title,
                "reviewBody": "\n\n".join(r.paragraphs),
            }
            | ({"reviewRating": {"@type": "Rating", "ratingValue": r.rating}} if r.rating else {})
            for r in featured
        ],
    }
    # Score and label: glued spans as React writes them, spaced, or each in its own block.
    pair = {
        " ": "<span class='score'>{}</span> <span class='label'>{}</span>",
        "\n": "<div class='score'>{}</div><div class='label'>{}</div>",
        "  ": "<span class='score'>{}</span><span class='label'>{}</span>",
    }[film.joint]
    counts = [pair.format(film.users.text, "User reviews")]
    if film.critics:
        counts.append(pair.format(film.critics.text, "Critic reviews"))
    counts.append(pair.format("74", "Metascore"))
    your_rating = (
        # Saved while signed in: the reader's own rating, not the site's.
        "<div data-testid='hero-rating-bar__user-rating'><div>YOUR RATING</div>"
        "<button><span>8</span><span>/10</span></button></div>"
        if film.furniture
        else ""
    )
    cards = "".join(
        f"<div class='ipc-poster-card'><div class='ipc-rating-star'>{r.rating}</div>"
        f"<button>Rate</button><a href='/title/tt1/'><div>{r.title}</div></a>"
        "<button>Watch options</button></div>"
        for r in film.related
    )
    related = f"<section><h3>More like this</h3>{cards}</section>" if cards else ""
    reviews = "".join(
        f"<div class='review-card'>{f'<div>{r.rating}/10</div>' if r.rating else ''}"
        f"<h3>{r.title}</h3>{''.join(f'<p>{p}</p>' for p in r.paragraphs)}"
        f"<ul><li>{r.author}</li><li>{r.day:%b} {r.day.day}, {r.day.year}</li></ul>"
        f"<div>Helpful • {r.helpful[0] if r.helpful else 0}</div></div>"
        for r in featured
    )
    reviews = (
        f"<section><h3>User reviews<span>{film.users.text}</span></h3>{reviews}"
        f"<a>See all {film.users.text} user reviews</a></section>"
    )
    blocks = [reviews, related] if film.reviews_first else [related, reviews]
    nav = (
        "<nav><label>Menu</label><a>IMDbPro</a><a>Watchlist</a><a>Sign In</a></nav>"
        if film.furniture
        else ""
    )
    body = (
        f"{nav}<section><h1 data-testid='hero-title-block__title'>{film.title}</h1>"
        f"<ul data-testid='hero-title-block__metadata'><li><a>{film.year}</a></li><li>PG-13</li>"
        "</ul><div data-testid='hero-rating-bar__aggregate-rating'><div>IMDb RATING</div><a>"
        "<div data-testid='hero-rating-bar__aggregate-rating__score'>"
        f"<span>{film.rating}</span><span>/10</span></div><div>{film.votes.text}</div></a></div>"
        f"{your_rating}<ul data-testid='reviewContent-all-reviews'>"
        f"{''.join(f'<li><a>{count}</a></li>' for count in counts)}</ul></section>"
        f"{''.join(blocks)}{footer_html(film)}"
    )
    head = (
        f"<title>{film.title} ({film.year}) - IMDb</title>"
        f"<link rel='canonical' href='https://www.imdb.com/title/{film.tconst}/'>{jsonld(data)}"
    )
    return html_page(head, body)


def related_lines(film: Film, heading: str, gap: list[str]) -> list[str]:
    """The related titles block of a text save: heading, then entries as the seed page's, with gap
    after each entry's Stars line (the seed has none: the next title line follows at once)."""
    lines = [heading] if film.related else []
    for r in film.related:
        lines += [f"{r.title} ({r.year})", r.genres, widget(r.rating), "", f"A story of {r.title}."]
        lines += ["", f"Director: {r.director}", f"Stars: {r.star}", *gap]
    return lines


def page_text(film: Film) -> bytes:
    """The page saved as text, laid out as the seed page (a 2013-2017 page) is."""
    counts = f"{film.users.text}{film.joint}user"
    if film.critics:
        counts += f"{film.separator}{film.critics.text}{film.joint}critic"
    top = ["Menu", "Movies, TV & Showtimes", "IMDbPro", "Watchlist", "Sign In", "ADVERTISEMENT"]
    lines = top if film.furniture else []
    lines += [f"{film.rating}/10", film.votes.text, counts]
    if film.furniture:
        lines += ["Rate This", f"{NBSP} {NBSP} 1 2 3 4 5 6 7 8 9 10 -/10 X {NBSP}"]
        lines += ["Your rating:", "8/10"]  # saved while signed in: the reader's, not the site's
    lines += ["", f"{film.title}{NBSP}({film.year})", "", "A story told slowly.", ""]
    related = related_lines(film, f"More Like This{NBSP}", gap=[])
    reviews = ["", "User Reviews", ""] if film.reviews else []
    for r in film.reviews:
        reviews += [f"{r.rating}/10"] if r.rating else []
        reviews += [r.title, f"{day_text(r.day)} | by {r.author}See all my reviews", ""]
        for paragraph in r.paragraphs:
            reviews += [paragraph, ""]
        votes = (
            f"{r.helpful[0]:,} of {r.helpful[1]:,} people found this review helpful.{NBSP} "
            if r.helpful
            else ""
        )
        reviews += ["", f"{votes}Was this review helpful to you? | Report this"]
    if film.reviews:
        see_all = f"See all {film.users.text} user reviews{NBSP}»"
        reviews += [f"Review this title | {see_all}" if film.furniture else see_all, ""]
    lines += [*reviews, *related] if film.reviews_first else [*related, *reviews]
    if film.furniture:
        lines += ["", "Contribute to This Page", "", "Recently Viewed", "Watch Now (2019)"]
    return "\n".join(lines).encode()


def page_text_2010(film: Film) -> bytes:
    """A 2008-2012 page saved as text: title first, the star-box's figures on one line."""
    counts = f"{film.users.text}{film.joint}user"
    if film.critics:
        counts += f"{film.separator}{film.critics.text}{film.joint}critic"
    lines = ["Menu", "Sign in with Facebook", "ADVERTISEMENT"] if film.furniture else []
    lines += [f"{film.title} ({film.year})", ""]
    lines += ["Your rating: 1 2 3 4 5 6 7 8 9 10 -/10 X"] if film.furniture else []
    lines += [f"Ratings: {film.rating}/10 from {film.votes.text} users | Reviews: {counts}", ""]
    related = related_lines(film, "People who liked this also liked...", gap=[""])
    reviews = ["User Reviews", ""] if film.reviews else []
    for r in film.reviews:
        if r.helpful:
            reviews += [
                f"{r.helpful[0]:,} out of {r.helpful[1]:,} people found the following review "
                "useful:"
            ]
        reviews += [r.title, f"{day_text(r.day)} | by {r.author} – See all my reviews", ""]
        for paragraph in r.paragraphs:
            reviews += [paragraph, ""]
    if film.reviews:
        see_all = f"See all {film.users.text} user reviews »"
        reviews += [see_all if film.furniture else f"Review this title | {see_all}", ""]
    lines += [*reviews, *related] if film.reviews_first else [*related, *reviews]
    lines += ["Sign in for more access"] if film.furniture else []
    return "\n".join(lines).encode()


PAGE_BUILDERS = {
    "2010": page_2010, "2015": page_2015, "2020": page_2020, "text": page_text,
    "text 2010": page_text_2010,
}  # fmt: skip


def expected_page(film: Film, era: str) -> Page:
    """What the parser must read from film's page of era: the figures exactly as the page shows."""
    own_id = f"{film.title} ({film.year})" if era.startswith("text") else film.tconst
    titles = [
        title_row(
            title_id=own_id,
            title=film.title,
            year=str(film.year),
            site_rating=film.rating,
            # JSON-LD gives the exact vote count, written as the page writes exact counts.
            site_votes=f"{film.votes.value:,}" if era == "2020" else film.votes.text,
            user_review_count=film.users.text,
            critic_review_count=film.critics.text if film.critics else None,
        )
    ]
    # React's "More like this" cards show no credits and no genres; they are not read (yet).
    for r in film.related if era != "2020" else ():
        titles.append(
            title_row(
                title_id=f"{r.title} ({r.year})",
                title=r.title,
                year=str(r.year),
                site_rating=r.rating,
                genres=r.genres,
                directors=r.director,
                stars=r.star,
                related_to_title_id=own_id,
            )  # fmt: skip
        )
    reviews = [
        review_row(
            title_id=own_id,
            author=r.author,
            review_date=day_text(r.day),
            # 2010 pages show no star rating with a review; "9 of 10" in a text is prose.
            rating=str(r.rating) if r.rating and "2010" not in era else None,
            review_title=r.title,
            review_text="\n\n".join(r.paragraphs),
            # React pages show only "Helpful • 41", not out of how many.
            helpful_votes=f"{r.helpful[0]:,}" if r.helpful and era != "2020" else None,
            total_votes=f"{r.helpful[1]:,}" if r.helpful and era != "2020" else None,
        )
        for r in (film.reviews[:1] if era == "2020" else film.reviews)
    ]
    return Page(titles=titles, reviews=reviews)


def furniture_in(page: Page) -> list[str]:
    """Every furniture string found in any field of the page, with the field's value."""
    values = [v for row in page.titles + page.reviews for v in row.values() if v]
    return [f"{word!r} in {value!r}" for value in values for word in FURNITURE if word in value]


@pytest.mark.parametrize("era", ERAS)
@settings(max_examples=40, deadline=None)
@given(film=films())
def test_pages_of_every_era_read_exactly_without_furniture(era: str, film: Film) -> None:
    page = parse_page(
        PAGE_BUILDERS[era](film), "page.txt" if era.startswith("text") else "page.html"
    )

    assert furniture_in(page) == []
    assert page.titles[0] == expected_page(film, era).titles[0]
    assert page == expected_page(film, era)
