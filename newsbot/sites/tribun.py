"""Tribunnews: www.tribunnews.com/{section}/{yyyy}/{mm}/{dd}/{slug}, /{section}/{id}/{slug}, and the
regional hosts {region}.tribunnews.com. Multi-page articles are read whole through ``?page=all``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from newsbot.core.page import ParsedPage
from newsbot.core.text import Dateline
from newsbot.core.urls import strip_tracking, with_query
from newsbot.sites.base import Pagination, SiteRules
from newsbot.sites.listings import Entry

_OUTLET = r"(?i:[\w-]+(?:\.[\w-]+)*\.(?:com|co\.id|id))"
_CREDIT_LINE = re.compile(r"^(?:laporan|reporter)\s+(?:wartawan|reporter|kontributor)\b.*$", re.IGNORECASE)


class TribunRules(SiteRules):
    name = "tribun"
    version = "1"
    publisher = "Tribunnews.com"
    domains = ("tribunnews.com",)

    # How often each rule fires on this site's article pages (the layout-drift alarm's baseline).
    expected_rates: ClassVar[dict[str, float]] = {
        "body": 0.95, "headline": 0.95, "authors": 0.9, "editors": 0.8, "datePublished": 0.95,
        "keywords": 0.8, "image": 0.8,
    }

    body_selectors = ("div.side-article.txt-article", "div.txt-article")
    drop_selectors = (
        "p.baca", "blockquote.summary-article", "div.ads-placeholder", "[id^='div-gpt-ad']",
        "[class*='rekomendasi']", "[id*='rekomendasi']",
    )
    boilerplate_phrases = (
        r"berita rekomendasi",
        r"artikel ini telah tayang di .*",
        r"baca berita .{0,60} lainnya di google news\.?",
        r"dapatkan berita pilihan(?: di whatsapp anda)?",
        r"di whatsapp anda",
        r"baca whatsapp tribunnews",
        r"medium large larger",
        r"halaman(?:\s*\d+)*(?:\s*/\s*\d+)?",
        r"ringkasan berita\s*:?",
    )
    # "TRIBUNNEWS.COM - " names only the outlet; "SURYA.CO.ID, SURABAYA - " and "JAKARTA - " name a place.
    datelines = (
        Dateline(re.compile(rf"^{_OUTLET}\s*[-–—]{{1,2}}\s+")),
        Dateline(re.compile(rf"^(?:{_OUTLET}\s*,\s*)?(?P<place>[A-Z][A-Z .'-]{{1,30}}?)\s*[-–—]{{1,2}}\s+")),
    )
    title_suffix = re.compile(r"\s*-\s*(?:Halaman\s+\w+|Tribunnews\.com)(?:\s*-\s*Tribunnews\.com)?\s*$")

    headline_selectors = ("h1#arttitle", "h1.f50")
    author_selectors = ("#penulis a", "div.credit #penulis")
    editor_selectors = ("#editor a",)
    # Sidebars and index widgets carry <time> too: the article's own sits under "Tayang:" in the header.
    date_selectors = ("div.mt10 div.grey time", "div.mt10 time", "#article time[datetime]", "time[datetime]")
    tag_selectors = ("div[itemprop='keywords'] h5.tagcloud3 a", "h5.tagcloud3 a")
    image_selectors = ("div#artimg a.glightbox img", "img.imgfull")
    caption_selectors = ("div#artimg div.arial.f12.pt5.grey2", "div#artimg .grey2")

    # /{section}/{id}/{slug} (since 2025), /{section}/{yyyy}/{mm}/{dd}/{slug}, regional /{yyyy}/{mm}/{dd}/{slug}.
    article_url = re.compile(
        r"^https?://(?:[a-z0-9-]+\.)*tribunnews\.com/(?:[a-z0-9-]+/){0,2}"
        r"(?:(?P<id>\d{5,10})|\d{4}/\d{2}/\d{2})/[a-z0-9][a-z0-9-]*/?(?:\?[^#]*)?$"
    )
    not_article_url = re.compile(
        r"^https?://(?:(?:video|foto|m\.video)\.[^/]+|[^/]+/(?:tag|topic|video|videos|foto|photo|index-news|search|"
        r"tribunners|amp)(?:[/?]|$))"
    )
    url_date_pattern = re.compile(r"/(?P<date>\d{4}/\d{2}/\d{2})/")
    # The index is a sitemapindex of per-section news sitemaps; -web and -images repeat older and media URLs.
    sitemaps = ("https://www.tribunnews.com/sitemap.xml",)
    sitemap_follow = re.compile(r"/sitemap-news\.xml$")
    index_item_selector = "ul.lsi > li.ptb15"
    index_link_selector = "h3 a[href]"
    index_date_selector = "time"
    # Page 11 and beyond repeat page 10.
    index_max_pages = 10

    def index_urls(self, day: date | None) -> list[str]:
        base = "https://www.tribunnews.com/index-news"
        return [f"{base}?date={day.year}-{day.month}-{day.day}" if day else base]

    def next_index_page(self, page: ParsedPage, entries: Sequence[Entry]) -> str | None:
        last = max((int(m.group(1)) for a in page.select("#paginga .paging a[href], div.paging a[href]")
                    if (m := re.search(r"[?&]page=(\d+)", a.get("href", "")))), default=1)
        return self.next_numbered_page(page, last)

    def clean_lines(self, lines: list[str], page: ParsedPage) -> list[str]:
        # "Laporan Wartawan Tribunnews.com, <name>" opens some bodies: a credit, the dateline follows it.
        if lines and _CREDIT_LINE.match(lines[0]):
            return lines[1:]
        return lines

    def canonical_first_page(self, url: str) -> str:
        return strip_tracking(url, drop=("page",))

    def pagination(self, page: ParsedPage) -> Pagination | None:
        count = _page_count(page)
        if count <= 1:
            return None
        first = self.canonical_first_page(page.url)
        return Pagination(
            count=count,
            all_pages_url=with_query(first, page="all"),
            page_urls=tuple(with_query(first, page=str(n)) for n in range(2, count + 1)),
        )


def _page_count(page: ParsedPage) -> int:
    total = page.text("div.paging span.total-page")
    if total and (match := re.search(r"/\s*(\d+)", total)):
        return int(match.group(1))
    numbers = [int(m.group(1)) for a in page.select("div.paging a[rel^='page-']")
               if (m := re.match(r"page-(\d+)$", a.get("rel", "")))]
    return max(numbers, default=1)
