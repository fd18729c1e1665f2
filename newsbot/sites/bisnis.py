"""Bisnis.com: https://{channel}.bisnis.com/read/{YYYYMMDD}/{catId}/{articleId}/{slug}."""

from __future__ import annotations

import re

from newsbot.page import ParsedPage
from newsbot.sites.base import SiteRules
from newsbot.text import Dateline


class BisnisRules(SiteRules):
    name = "bisnis"
    version = "1"
    publisher = "Bisnis.com"
    domains = ("bisnis.com",)

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

    def _labelled(self, page: ParsedPage, label: str) -> list[str]:
        # The byline block is "Penulis : X" / "Editor : Y" items in one container.
        return [t for t in page.texts(".detailsAuthor .detailsAuthorItem") if t.lower().startswith(label)]

    def author_texts(self, page: ParsedPage) -> list[str]:
        return (
            self._labelled(page, "penulis")
            or page.texts("div.authorName")
            or page.texts("div.authorNames a")
            or super().author_texts(page)
        )

    def editor_texts(self, page: ParsedPage) -> list[str]:
        return self._labelled(page, "editor") or super().editor_texts(page)
