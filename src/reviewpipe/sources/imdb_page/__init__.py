"""Saved IMDb title pages (visible text or HTML) -> the title, its related titles, its user reviews.

One grammar serves both forms. A .txt page is read line by line; a saved HTML page is read for its
schema.org data (JSON-LD first, then microdata) and its visible text is run through the same line
grammar, which fills what the structured data lacks (helpful votes, "More Like This", popularity).
The data is looked for wherever a layout of any year put it (2008-2012 star-box microdata, 2013-2017
title-overview microdata, 2018+ JSON-LD, any of them saved as text), never in one layout's markup.
Values stay strings as a reader sees them ("34,370", "2.9K", "3 September 2002"); staging casts them.
HTML is parsed with selectolax (lexbor), never with regular expressions: regular expressions only
ever read text that has already been taken out of the markup.

page          bytes -> Page: decoding, HTML or text, the title ids
text          the page text parser (own title fields), with related (More Like This) and reviews
saved_html    the saved HTML parser: jsonld, microdata, <title> and visible_text merged
shared        what the parsers share: Found, the line splitter, values as a page shows them
"""

from reviewpipe.sources.imdb_page.page import NotATitlePage, Page, parse_page

__all__ = ["NotATitlePage", "Page", "parse_page"]
