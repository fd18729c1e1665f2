"""SINDOnews: {kanal}.sindonews.com/read/{id}/{subId}/{slug}-{unixTs}. Page 2+ adds an offset segment
(/5, /10); ``?showpage=all`` has the whole text but no NewsArticle JSON-LD, so metadata comes from page 1."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from newsbot.core.page import ParsedPage
from newsbot.core.people import parse_people
from newsbot.core.text import Dateline, clean_line
from newsbot.core.urls import absolute, strip_tracking, with_query
from newsbot.items import Person
from newsbot.sites.base import Pagination, SiteRules, ld_names
from newsbot.sites.listings import Entry

_PAGE_OFFSET = re.compile(r"(/read/\d+/\d+/[^/?#]+)/\d+$")
_INDEX_PAGE_SIZE = 20
_SIGNATURE = re.compile(r"^\([a-z]{2,5}\)$")


class SindonewsRules(SiteRules):
    name = "sindonews"
    version = "1"
    publisher = "SINDOnews.com"
    domains = ("sindonews.com",)

    # How often each rule fires on this site's article pages (the layout-drift alarm's baseline).
    expected_rates: ClassVar[dict[str, float]] = {
        "body": 0.95, "headline": 0.95, "authors": 0.9, "editors": 0.7, "datePublished": 0.95, "image": 0.8,
    }

    body_selectors = ("div#detail-desc", "div.detail-desc")
    drop_selectors = (
        ".editor", "[class^='v-']", "[class*=' v-']", "[id^='ads_']", ".adsbygoogle", "[id^='div-gpt-ad']",
    )
    boilerplate_phrases = (
        # The desk editor's initials on a line of their own.
        r"\([a-z]{2,5}\)",
        r"tulis komentar anda",
        r"video rekomendasi",
        r"dapatkan berita terkini dan kejutan menarik dari sindonews\.com.*",
    )
    datelines = (
        Dateline(re.compile(r"^(?P<place>[A-Z][A-Z .'-]{1,30}?)\s*[-–—]{1,2}\s+")),
        Dateline(re.compile(r"^(?i:sindonews\.com)\s*[-–—]{1,2}\s+")),
    )
    # The desk editor's initials close the text, "(ian)": a signature, kept out of the body also when the
    # span that holds them (.editor) is renamed.
    trailer = re.compile(r"\s*(?:\([a-z]{2,5}\)|\*{3,}|-{3,}|#{3,})\s*$")
    title_suffix = re.compile(r"\s*[-|]\s*SINDOnews(?:\.com)?\s*$", re.IGNORECASE)

    headline_selectors = ("article h1.detail-title", "h1.detail-title")
    author_selectors = (".detail-nama-redaksi a[rel='author']", ".detail-nama-redaksi a")
    date_selectors = (".detail-date-artikel",)
    image_selectors = (".detail-img img",)
    caption_selectors = (".detail-img .detail-caption", ".detail-img figcaption", ".detail-img .caption")

    # {kanal}.sindonews.com/read/{id}/{rubric}/{slug}-{unixTs}[/{offset}]: the id is the article across kanal hosts.
    article_url = re.compile(
        r"^https?://[a-z0-9-]+\.sindonews\.com/read/(?P<id>\d+)/\d+/[^/?#]+-\d{9,11}(?:/\d+)?/?(?:\?[^#]*)?$"
    )
    # Asset, CDN, video, photo and index hosts are not article hosts even with a /read/ path.
    not_article_url = re.compile(r"^https?://(?:e|pict|hi-lite|scope|media|index|video|photo|foto)\.sindonews\.com\b")
    sitemaps = ("https://www.sindonews.com/sitemap-news.xml",)
    index_item_selector = ".warp-article"
    index_link_selector = ".title-article a[href]"
    index_date_selector = ".date-article"
    index_max_pages = 50

    def index_urls(self, day: date | None) -> list[str]:
        if day is None:
            return ["https://www.sindonews.com/indeks"]
        return [f"https://www.sindonews.com/indeks/0/0?t={day.isoformat()}"]

    def next_index_page(self, page: ParsedPage, entries: Sequence[Entry]) -> str | None:
        link = page.first("a[rel='next']")
        if link is not None:
            return absolute(page.url, link.get("href"))
        # Without a next link, a full page (20 items) means there may be more at the next offset.
        if len(entries) < _INDEX_PAGE_SIZE:
            return None
        parts = urlsplit(page.url)
        match = re.match(r"^/indeks(?:/(\d+)/(\d+))?/?$", parts.path)
        if match is None:
            return None
        cid, offset = int(match.group(1) or 0), int(match.group(2) or 0) + _INDEX_PAGE_SIZE
        if offset >= _INDEX_PAGE_SIZE * self.index_max_pages:
            return None
        return urlunsplit(parts._replace(path=f"/indeks/{cid}/{offset}"))

    def site_editor_texts(self, page: ParsedPage) -> list[str]:
        # The desk editor signs with initials in parentheses at the end of the body: "(ian)", in a div.editor;
        # under another class name, the last such signature in the article is the same one.
        found = page.texts("div#detail-desc .editor, div.detail-desc .editor") or page.texts("article .editor")
        if found:
            return found
        scope = page.first(*self.body_selectors, "article")
        scope = page.tree if scope is None else scope
        signatures = (clean_line(el.text_content()) for el in reversed(list(scope.iter("div", "span", "p", "em"))))
        return next(([text] for text in signatures if _SIGNATURE.match(text)), [])

    def editors(self, page: ParsedPage) -> list[Person]:
        # Initials are not a name parse_people would keep: they are the editor as the site writes it.
        people = [Person(name=raw.strip().strip("()").strip(), nameRaw=raw) for raw in self.site_editor_texts(page)]
        return [p for p in people if p.name] or parse_people(ld_names(page.article_ld.get("editor")))

    def canonical_first_page(self, url: str) -> str:
        parts = urlsplit(strip_tracking(url, drop=("showpage",)))
        return urlunsplit(parts._replace(path=_PAGE_OFFSET.sub(r"\1", parts.path)))

    def pagination(self, page: ParsedPage) -> Pagination | None:
        links = page.select(".paging-artikel ul li a")
        numbers = [int(a.text_content().strip()) for a in links if a.text_content().strip().isdigit()]
        count = max(numbers, default=1)
        if count <= 1:
            return None
        first = self.canonical_first_page(page.url)
        all_link = page.first(".paging-all a[href*='showpage=all']")
        all_url = absolute(page.url, all_link.get("href")) if all_link is not None else None
        pages = [absolute(page.url, a.get("href")) for a in links if a.get("data-ci-pagination-page")]
        return Pagination(
            count=count,
            all_pages_url=all_url or with_query(first, showpage="all"),
            page_urls=tuple(u for u in pages if u),
        )
