"""Is a page an article? The judgement made on the page itself, where no site's body selectors can make it:
by the generic rules, and by a site's rules when they fall back to the generic path.

A page is a listing (an index, a tag or search page, a feed) when nothing on it declares an article
(JSON-LD, ``og:type``, a publication time) and its extracted text is little prose and mostly the texts of
links: menu entries and the headlines of other pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newsbot.core.page import ParsedPage
from newsbot.core.text import clean_line, word_count

# Meta tags that carry the publication time, in the order they are trusted (Open Graph, itemprop, Dublin Core,
# and the names of the common CMSs and analytics tags).
PUBLISHED_META = ("article:published_time", "og:published_time", "og:article:published_time", "datepublished",
                  "pubdate", "publishdate", "publish-date", "publish_date", "published_time", "publication_date",
                  "sailthru.date", "parsely-pub-date", "article.published", "date", "dc.date", "dc.date.issued",
                  "dcterms.created", "dcterms.date", "citation_publication_date")
# Root elements of the XML listings (sitemaps, feeds) that an HTML parser wraps in a body.
_XML_LISTINGS = frozenset({"urlset", "sitemapindex", "rss", "feed", "rdf:rdf", "rdf"})
# Prose: lines of a sentence or more. A listing has less than this many words of it, and either this share
# and number of its lines are link texts, or this many distinct headline links (four words or more).
MIN_PROSE_WORDS = 40
LISTING_LINK_SHARE, MIN_LISTING_LINKS, MIN_HEADLINES = 0.5, 5, 10
_SENTENCE_END = re.compile(r"[.!?…\"'”’)]\s*$")


def declares_article(page: ParsedPage) -> bool:
    og_type = (page.meta_content("og:type") or "").strip().lower()
    return bool(page.article_ld) or og_type == "article" or page.meta_content(*PUBLISHED_META) is not None


def listing_problem(page: ParsedPage, lines: Sequence[str]) -> str | None:
    """Why the page with these extracted lines is no article (an XML listing, an index page), or None."""
    body = page.tree.find("body")
    first = body[0].tag if body is not None and len(body) else None
    if isinstance(first, str) and first.lower() in _XML_LISTINGS:
        return f"an XML {first} document (a sitemap or feed)"
    if declares_article(page):
        return None
    # A line that is the text of a link is a menu entry or another page's headline, however long.
    link_texts = [clean_line(a.text_content()) for a in page.tree.iter("a")]
    linked = {text.casefold() for text in link_texts}
    prose = sum(word_count(line) for line in lines if line.casefold() not in linked and _is_prose(line))
    if prose >= MIN_PROSE_WORDS:
        return None
    links = sum(line.casefold() in linked for line in lines)
    headlines = len({text for text in link_texts if word_count(text) >= 4})
    if (links >= MIN_LISTING_LINKS and links >= LISTING_LINK_SHARE * len(lines)) or headlines >= MIN_HEADLINES:
        return (f"{prose} words of prose, {links} of {len(lines)} lines are links, {headlines} headline links "
                "and no article markup (a listing page)")
    return None


def _is_prose(line: str) -> bool:
    words = word_count(line)
    return words >= 15 or len(line) >= 80 or (words >= 8 and bool(_SENTENCE_END.search(line)))
