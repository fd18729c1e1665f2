"""Bisnis.com: https://{channel}.bisnis.com/read/{YYYYMMDD}/{catId}/{articleId}/{slug}."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from newsbot.core.page import ParsedPage
from newsbot.core.text import Dateline
from newsbot.sites.base import SiteRules
from newsbot.sites.listings import Entry


class BisnisRules(SiteRules):
    name = "bisnis"
    version = "1"
    publisher = "Bisnis.com"
    domains = ("bisnis.com",)

    # How often each rule fires on this site's article pages (the layout-drift alarm's baseline).
    expected_rates: ClassVar[dict[str, float]] = {
        "body": 0.95, "headline": 0.95, "authors": 0.9, "editors": 0.8, "datePublished": 0.95, "section": 0.9,
        "keywords": 0.8, "image": 0.8,
    }

    body_selectors = ("article.detailsContent", "div.detailsContent")
    drop_selectors = (
        "[class^='baca-juga-box']", "[class*=' baca-juga-box']", ".detailsSummary", "[class*='Summary']",
        ".adsContent", ".adsLabel", ".adsBisnisPro", "[id^='div-gpt-ad']", "div.paywall", "p.disclaimer",
    )
    boilerplate_phrases = (
        r"nyaman tanpa iklan\.?\s*langganan bisnispro\.?",
        r"\*?\s*ringkasan ini dibantu dengan menggunakan ai\.?",
        r"ringkasan berita",
        r"konten premium",
        r"member of",
    )
    # "Bisnis.com, JAKARTA — ", "Bisnis.com , DENPASAR -- ", "Bisnis.com, JAKARTA - ": punctuation varies.
    datelines = (
        Dateline(re.compile(r"^(?i:bisnis\.com)\s*,\s*(?P<place>[A-Z][A-Za-z .'-]*?)\s*(?:--|[-–—])\s*")),
        Dateline(re.compile(r"^(?i:bisnis\.com)\s*(?:--|[-–—])\s*")),
    )
    title_suffix = re.compile(r"\s*[-|]\s*(?:Bisnis\.com|Bisnis)\s*$", re.IGNORECASE)

    headline_selectors = ("h1.detailsTitleCaption", "div.detailsTitle h1")
    date_selectors = ("div.detailsAttributeDates", ".authorTime")
    breadcrumb_selectors = (".breadcrumb .breadcrumbItem a.breadcrumbLink", ".breadcrumb a")
    tag_selectors = ("ul.detailsTagList a.detailsTagLink", ".detailsTagList a")
    image_selectors = ("figure.detailsCoverImg img",)
    caption_selectors = ("figcaption.detailsImgCaption", "figure.detailsCoverImg figcaption")
    paywall_selectors = ("div.paywall", ".paywallBox")

    # {channel}.bisnis.com/read/{YYYYMMDD}/{category}/{id}/{slug}; the date is the publication day.
    article_url = re.compile(
        r"^https?://[a-z0-9-]+\.bisnis\.com/read/\d{8}/\d+/(?P<id>\d+)/[a-z0-9][^/?#]*/?(?:\?[^#]*)?$"
    )
    not_article_url = re.compile(r"^https?://(?:video|epaper|foto|infografik|infografis|interaktif)\.bisnis\.com\b")
    url_date_pattern = re.compile(r"/read/(?P<date>\d{8})/")
    sitemaps = ("https://www.bisnis.com/sitemap-news.xml",)
    index_item_selector = "div.artItem, div.art--row"
    index_link_selector = "a.artLink[href]"
    # Listing dates are relative ("7 menit yang lalu"); the URL's date serves instead.
    index_date_selector = None
    index_max_pages = 50

    def index_urls(self, day: date | None) -> list[str]:
        dated = f"&date={day.isoformat()}" if day else ""
        return [f"https://www.bisnis.com/index?categoryId=0&type=indeks{dated}&page=1"]

    def next_index_page(self, page: ParsedPage, entries: Sequence[Entry]) -> str | None:
        total_input = page.first("input#total_page")
        total = total_input.get("value", "") if total_input is not None else ""
        if not total.strip().isdigit():
            label = re.search(r"dari\s+(\d+)\s+halaman", page.text(".pagingLabel") or "")
            total = label.group(1) if label else "1"
        return self.next_numbered_page(page, int(total))

    def _labelled(self, page: ParsedPage, label: str) -> list[str]:
        # The byline block is "Penulis : X" / "Editor : Y" items in one container.
        return [t for t in page.texts(".detailsAuthor .detailsAuthorItem") if t.lower().startswith(label)]

    def site_author_texts(self, page: ParsedPage) -> list[str]:
        return self._labelled(page, "penulis") or page.texts("div.authorName") or page.texts("div.authorNames a")

    def site_editor_texts(self, page: ParsedPage) -> list[str]:
        return self._labelled(page, "editor")
