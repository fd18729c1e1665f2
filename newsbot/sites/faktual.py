"""Faktual Indonesia: a WordPress site on the Zox News theme (``mvp-`` classes; ``zox-`` on its sibling theme).

The domain is believed to be faktual-indonesia.com; set ``FAKTUAL_DOMAINS`` (comma-separated) to change it.
"""

from __future__ import annotations

import os
import re
from typing import ClassVar

from newsbot.core.text import Dateline
from newsbot.sites.base import SiteRules

DEFAULT_DOMAIN = "faktual-indonesia.com"


class FaktualRules(SiteRules):
    name = "faktual"
    version = "1"
    publisher = "Faktual Indonesia"
    domains = tuple(filter(None, (d.strip() for d in os.environ.get("FAKTUAL_DOMAINS", DEFAULT_DOMAIN).split(","))))

    # How often each rule fires on this site's article pages (the layout-drift alarm's baseline).
    expected_rates: ClassVar[dict[str, float]] = {
        "body": 0.95, "headline": 0.95, "authors": 0.9, "datePublished": 0.95, "section": 0.9,
        "keywords": 0.8, "image": 0.8,
    }

    body_selectors = ("#mvp-content-main", "#zox-content-main", ".mvp-content-main")
    drop_selectors = (
        ".mvp-post-add-main", ".mvp-ad-label", "[class*='mvp-ad']", "[id*='mvp-post-bot-ad']", ".mvp-cont-read-wrap",
        "#mvp-related-posts", "[class*='zox-ad']", ".sharedaddy", "#jp-relatedposts", ".jp-relatedposts", ".wp-caption",
    )
    boilerplate_phrases = (
        r"related topics\s*:?",
        r"you may like",
        r"click to comment",
        r"up next",
        r"don't miss",
    )
    # "FAKTUAL-INDONESIA: " names the outlet only; "FAKTUAL-INDONESIA, SURABAYA: " adds the place.
    datelines = (
        Dateline(re.compile(r"^(?i:faktual[- ]indonesia)\s*(?:,\s*(?P<place>[A-Z][A-Z .'-]{1,30}?))?\s*[:–—-]\s+")),
        Dateline(re.compile(r"^(?P<place>[A-Z][A-Z .'-]{1,30}?)\s*[:–—-]\s+")),
    )
    title_suffix = re.compile(r"\s*[-|–]\s*Faktual[ -]Indonesia\s*$", re.IGNORECASE)

    headline_selectors = ("h1.mvp-post-title", "h1.entry-title", "h1.zox-post-title")
    author_selectors = (".mvp-author-info-name span.author-name a", ".mvp-author-info-name a",
                        "#mvp-author-box-wrap .mvp-author-box-name a")
    date_selectors = ("time.post-date", ".mvp-author-info-date time")
    section_selectors = ("h3.mvp-post-cat span.mvp-post-cat", "span.mvp-post-cat")
    tag_selectors = (".mvp-post-tags span[itemprop='keywords'] a", ".mvp-post-tags a")
    image_selectors = ("#mvp-post-feat-img img",)
    caption_selectors = ("span.mvp-feat-caption", "#mvp-post-feat-img figcaption")

    # Post permalinks: /{slug}/ (or /{yyyy}/{mm}/{dd}/{slug}/); WordPress's own paths are not posts.
    article_url = re.compile(
        rf"^https?://(?:www\.)?(?:{'|'.join(re.escape(d) for d in domains)})/"
        r"(?:\d{4}/\d{2}/(?:\d{2}/)?)?[a-z0-9%][a-z0-9%-]*/?(?:\?[^#]*)?$"
    )
    not_article_url = re.compile(
        r"^https?://[^/]+/(?:category|tag|author|page|feed|comments|search|amp|wp-[a-z-]+|xmlrpc\.php|"
        r"redaksi|kontak|contact|tentang-kami|about|pedoman-media-siber|privacy-policy|kebijakan-privasi)(?:[/?.]|$)"
    )
    url_date_pattern = re.compile(r"/(?P<date>\d{4}/\d{2}/\d{2})/")
    # WordPress core sitemaps, or Yoast/RankMath ones; only post sitemaps list articles.
    sitemaps = tuple(f"https://{d}/wp-sitemap.xml" for d in domains[:1])
    sitemap_follow = re.compile(r"(?:wp-sitemap-posts-post-\d+|post-sitemap\d*)\.xml$")
    feeds = tuple(f"https://{d}/feed/" for d in domains[:1])
