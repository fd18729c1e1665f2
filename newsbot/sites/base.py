"""What every site's rules share. A site module subclasses :class:`SiteRules`, fills in its declarative
data (selectors, boilerplate phrases, datelines) and overrides a field method only where its markup needs it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

import lxml.html

from newsbot.core.dates import WIB, parse_human, parse_iso
from newsbot.core.page import CANONICAL_LINK, ParsedPage, css
from newsbot.core.pagekind import PUBLISHED_META
from newsbot.core.people import parse_people
from newsbot.core.text import Dateline, clean_line, clean_or_none, compile_phrases, dedupe
from newsbot.core.urls import absolute, host, query_int, strip_tracking, with_query
from newsbot.items import Breadcrumb, Image, Person
from newsbot.sites.listings import Entry

# Lines that are boilerplate on Indonesian news pages (and their translated republishers) whatever the
# site: related-article prompts, ad labels, share and app prompts, video-player chrome, source links.
COMMON_BOILERPLATE: tuple[str, ...] = (
    r"baca juga\s*:?.*",
    r"baca (?:berita|artikel) (?:lainnya|selengkapnya).*",
    r"(?:lihat|simak) juga\s*:.*",
    r"advertisement",
    r"iklan(?:\s+\d+)?",
    r"konten artikel",
    r"source link",
    r"sumber\s*:\s*\S.{0,60}",
    r"scroll (?:to continue|untuk melanjutkan).*",
    r"(?:artikel|konten|berita) (?:ini )?(?:berlanjut|bersambung) (?:di bawah|setelah) (?:ini|iklan).*",
    r"lanjutkan membaca",
    r"continue reading",
    r"memuat\s*(?:\.\.\.|…)",
    r"kami mohon maaf, tetapi video ini gagal dimuat\.?",
    r"video (?:yang )?direkomendasikan",
    r"direkomendasikan dari editorial",
    r"(?:berita|artikel) (?:rekomendasi|terkait|lainnya|terkini|terpopuler)",
    r"(?:ikuti|follow) (?:kami|us)(?: di| on)?\b.{0,60}",
    r"(?:dapatkan|simak|cek|baca|ikuti|gabung).{0,80}(?:whatsapp|google news|wa channel|telegram|saluran wa).*",
    r"(?:download|unduh) aplikasi.*",
    r"(?:bagikan|share)(?: artikel ini| this(?: article)?)?\s*:?",
    r"tulis komentar anda",
    r"klik (?:di ?sini|disini) untuk.*",
    r"zoom-?in",
    # A credit line is metadata (authors, editors), not text: "Editor : Dimas Prakoso", "Pewarta: Rina".
    r"(?:editor|penyunting|redaktur|penulis|reporter|pewarta|kontributor|fotografer|edited by)\s*:\s*"
    r"[^\s:][^.!?]{0,60}",
)


# Elements that are never article text on any site: media and their captions, code, ad inserts, embeds.
NON_TEXT_SELECTORS: tuple[str, ...] = ("figure", "figcaption", "script", "style", "ins", "iframe", "noscript")


@dataclass(frozen=True, slots=True)
class Pagination:
    """How a multi-page article is fetched whole.

    ``all_pages_url`` answers the whole text in one response; ``page_urls`` (pages 2..N) are the fallback
    when it fails. ``count`` is the number of pages the site splits the article into.
    """

    count: int
    all_pages_url: str | None
    page_urls: tuple[str, ...]


class SiteRules:
    """Rules for one site. Subclasses set the class attributes; the defaults suit an unknown site."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    # The last day pages in this version's layout were served; date.max for the current layout. A redesign
    # adds a subclass with the new rules and a higher version, and dates the old one (see newsbot.sites).
    valid_until: ClassVar[date] = date.max
    publisher: ClassVar[str | None] = None
    domains: ClassVar[tuple[str, ...]] = ()
    timezone: ClassVar[timezone] = WIB

    # Body: the first matching selector's element is the body; nothing matching means the whole page.
    body_selectors: ClassVar[tuple[str, ...]] = ()
    # Removed from the body element before trafilatura sees it (as are NON_TEXT_SELECTORS).
    drop_selectors: ClassVar[tuple[str, ...]] = ()
    # Whole lines removed after trafilatura (regexes, matched case-insensitively against the entire line).
    boilerplate_phrases: ClassVar[tuple[str, ...]] = ()
    # Dateline prefixes of the first body line; a ``place`` group names the place.
    datelines: ClassVar[tuple[Dateline, ...]] = ()
    # A trailing marker on the body's last line ("***", "(ian)") that is not article text.
    trailer: ClassVar[re.Pattern[str] | None] = re.compile(r"\s*(?:\*{3,}|-{3,}|#{3,})\s*$")
    title_suffix: ClassVar[re.Pattern[str] | None] = None

    headline_selectors: ClassVar[tuple[str, ...]] = ("h1",)
    author_selectors: ClassVar[tuple[str, ...]] = ()
    editor_selectors: ClassVar[tuple[str, ...]] = ()
    date_selectors: ClassVar[tuple[str, ...]] = ()
    section_selectors: ClassVar[tuple[str, ...]] = ()
    breadcrumb_selectors: ClassVar[tuple[str, ...]] = ()
    tag_selectors: ClassVar[tuple[str, ...]] = ()
    image_selectors: ClassVar[tuple[str, ...]] = ()
    caption_selectors: ClassVar[tuple[str, ...]] = ()
    paywall_selectors: ClassVar[tuple[str, ...]] = ()
    # The share of article pages each of the site's own rules (see rule_hits) fires on: the layout-drift alarm
    # (newsbot.crawl.health) warns when one falls well below it. Pagination is counted but has no expected rate: how
    # many articles run over several pages is the newsroom's choice, not the layout's.
    expected_rates: ClassVar[dict[str, float]] = {}
    # A body shorter than this (in words) is no article, unless a paywall explains it.
    min_body_words: ClassVar[int] = 20

    # Discovery: which URLs are articles, and the listings that name them. A site with no listings (the
    # generic rules) is crawled from URLs given on the command line only.
    # An article URL matches ``article_url``; a named group ``id`` is the site's stable article id.
    article_url: ClassVar[re.Pattern[str] | None] = None
    # Vetoes URLs the pattern would admit: tag, topic, video, photo, e-paper pages.
    not_article_url: ClassVar[re.Pattern[str] | None] = None
    # A ``date`` group (YYYYMMDD or YYYY/MM/DD) in this pattern is the article's publication day.
    url_date_pattern: ClassVar[re.Pattern[str] | None] = None
    sitemaps: ClassVar[tuple[str, ...]] = ()
    # Children of a sitemap index worth reading (news sitemaps, post sitemaps); None follows them all.
    sitemap_follow: ClassVar[re.Pattern[str] | None] = None
    feeds: ClassVar[tuple[str, ...]] = ()
    # Index (listing) pages: each item, its link and its visible date.
    index_item_selector: ClassVar[str | None] = None
    index_link_selector: ClassVar[str] = "a[href]"
    index_date_selector: ClassVar[str | None] = None
    # Safety cap on an index's pagination, for sites whose pages repeat or never end.
    index_max_pages: ClassVar[int] = 10

    def __init__(self) -> None:
        self.boilerplate = compile_phrases(COMMON_BOILERPLATE + self.boilerplate_phrases)

    @property
    def extractor_id(self) -> str:
        return f"{self.name}/{self.version}"

    def at(self, moment: date | datetime | None) -> SiteRules:
        """The version of these rules valid on ``moment``'s day; rules outside the registry are their own."""
        from newsbot.sites import VERSIONS, rules_at  # the registry imports this module: a late import

        versions = VERSIONS.get(self.name, ())
        if not any(isinstance(self, cls) or issubclass(cls, type(self)) for cls in versions):
            return self
        return rules_at(self.name, moment)

    # Body -------------------------------------------------------------------------------------------
    def body_element(self, page: ParsedPage) -> lxml.html.HtmlElement:
        """A pruned copy of the element holding the article text (the page's root for an unknown site)."""
        found = page.first(*self.body_selectors) if self.body_selectors else None
        root = copy.deepcopy(found if found is not None else page.tree)
        for selector in NON_TEXT_SELECTORS + self.drop_selectors:
            for el in css(selector)(root):
                # A selector matches the element it is run on too; the body itself is never dropped.
                if el is not root:
                    el.drop_tree()
        return root

    def has_body(self, page: ParsedPage) -> bool:
        return not self.body_selectors or page.first(*self.body_selectors) is not None

    def not_article(self, page: ParsedPage, lines: Sequence[str]) -> str | None:
        """Why a page whose body was found is still no article (an index, a feed), or None. The site rules'
        body selectors already tell articles apart; the generic rules must judge the page itself."""
        return None

    def clean_lines(self, lines: list[str], page: ParsedPage) -> list[str]:
        """Site-specific line cleanup after the shared one; the default keeps every line."""
        return lines

    # Layout health ----------------------------------------------------------------------------------
    def rule_hits(self, page: ParsedPage) -> dict[str, bool]:
        """Which of the site's own rules fired on ``page`` (not the JSON-LD and meta fallbacks behind them):
        what the layout-drift alarm counts. A rule the site does not declare is left out."""
        hits: dict[str, bool] = {}
        if self.body_selectors:
            hits["body"] = page.first(*self.body_selectors) is not None
        if type(self).headline_selectors != SiteRules.headline_selectors:
            hits["headline"] = page.text(*self.headline_selectors) is not None
        hits["authors"] = bool(self.site_author_texts(page))
        hits["editors"] = bool(self.site_editor_texts(page))
        if self.date_selectors:
            hits["datePublished"] = bool(self.visible_date(page))
        if self.section_selectors or self.breadcrumb_selectors:
            hits["section"] = page.first(*self.section_selectors, *self.breadcrumb_selectors) is not None
        if self.tag_selectors:
            hits["keywords"] = page.first(*self.tag_selectors) is not None
        if self.image_selectors:
            hits["image"] = page.first(*self.image_selectors) is not None
        hits["pagination"] = self.pagination(page) is not None
        return hits

    # Pagination -------------------------------------------------------------------------------------
    def pagination(self, page: ParsedPage) -> Pagination | None:
        """How to fetch the rest of a multi-page article, or None for a single page."""
        return None

    def canonical_first_page(self, url: str) -> str:
        """The URL of page 1 for any page of an article (the record's ``url``)."""
        return url

    # Discovery --------------------------------------------------------------------------------------
    @property
    def discovers(self) -> bool:
        return bool(self.sitemaps or self.feeds or self.index_item_selector)

    def is_article_url(self, url: str) -> bool:
        if self.article_url is None or not self.article_url.match(url):
            return False
        return self.not_article_url is None or not self.not_article_url.search(url)

    def article_key(self, url: str) -> str:
        """The article's identity for the seen-store: the site's id where its URLs carry one, else the URL
        without tracking, scheme, ``www.``/``m.`` host prefix or trailing slash."""
        match = self.article_url.match(url) if self.article_url is not None else None
        if match is not None and "id" in match.groupdict() and match["id"]:
            return f"{self.name}:{match['id']}"
        parts = urlsplit(strip_tracking(self.canonical_first_page(url)))
        netloc = re.sub(r"^(?:www|m|amp)\.", "", parts.netloc.lower())
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.name}:{netloc}{parts.path.rstrip('/')}{query}"

    def url_date(self, url: str) -> date | None:
        match = self.url_date_pattern.search(url) if self.url_date_pattern is not None else None
        if match is None:
            return None
        digits = re.sub(r"\D", "", match["date"])
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            return None

    def index_urls(self, day: date | None) -> list[str]:
        """First pages of the site's index for ``day`` (None: the latest articles)."""
        return []

    def index_entries(self, page: ParsedPage) -> list[Entry]:
        """The links of an index page with their visible dates (all links; the spider filters articles)."""
        if not self.index_item_selector:
            return []
        entries = []
        for item in page.select(self.index_item_selector):
            links = page.select(self.index_link_selector, item)
            url = absolute(page.url, links[0].get("href")) if links else None
            if not url:
                continue
            shown = page.select(self.index_date_selector, item) if self.index_date_selector else []
            published = parse_human(shown[0].text_content(), self.timezone) if shown else None
            entries.append(Entry(url, published=datetime.fromisoformat(published) if published else None))
        return entries

    def next_index_page(self, page: ParsedPage, entries: Sequence[Entry]) -> str | None:
        """The index page after ``page``, or None on the last one."""
        return None

    def next_numbered_page(self, page: ParsedPage, last: int) -> str | None:
        """For indexes paged by ``?page=N``: the next page's URL, up to ``last`` and ``index_max_pages``."""
        current = query_int(page.url, "page", 1)
        if current >= min(last, self.index_max_pages):
            return None
        return with_query(page.url, page=str(current + 1))

    # Metadata fields ---------------------------------------------------------------------------------
    def headline(self, page: ParsedPage) -> str | None:
        title = ld_text(page.article_ld.get("headline")) or page.text(*self.headline_selectors)
        if title:
            return clean_or_none(title)
        # Only the document-level titles carry a " - Site Name" suffix.
        title = page.meta_content("og:title", "twitter:title") or page.text("title")
        if title and self.title_suffix is not None:
            title = self.title_suffix.sub("", title)
        return clean_or_none(title)

    def description(self, page: ParsedPage) -> str | None:
        text = page.meta_content("description", "og:description", "twitter:description") or ld_text(
            page.article_ld.get("description")
        )
        return clean_or_none(re.sub(r"\s+-\s+Halaman\s+\d+\s*$", "", text)) if text else None

    def authors(self, page: ParsedPage) -> list[Person]:
        return parse_people(self.author_texts(page))

    def editors(self, page: ParsedPage) -> list[Person]:
        return parse_people(self.editor_texts(page))

    def author_texts(self, page: ParsedPage) -> list[str]:
        """Byline texts, each later split into people: the site's own, else JSON-LD and meta."""
        return (self.site_author_texts(page) or ld_names(page.article_ld.get("author"))
                or split_meta(page.meta_content("author")))

    def editor_texts(self, page: ParsedPage) -> list[str]:
        return self.site_editor_texts(page) or ld_names(page.article_ld.get("editor"))

    def site_author_texts(self, page: ParsedPage) -> list[str]:
        """Bylines the site's own markup gives (its author selectors); a site with a byline block of its own
        overrides this, not :meth:`author_texts`, so that the layout-drift alarm sees whether it fired."""
        return _first_texts(page, self.author_selectors)

    def site_editor_texts(self, page: ParsedPage) -> list[str]:
        return _first_texts(page, self.editor_selectors)

    def visible_date(self, page: ParsedPage) -> str | None:
        return page.text(*self.date_selectors) if self.date_selectors else None

    def date_published(self, page: ParsedPage) -> tuple[str | None, str | None]:
        """(ISO date, raw string as shown) of the original publication."""
        visible = self.visible_date(page)
        machine = (
            ld_text(page.article_ld.get("datePublished"))
            or page.meta_content(*PUBLISHED_META)
            or _time_datetime(page)
        )
        shown = parse_human(visible, self.timezone)
        iso = parse_iso(machine, self.timezone) or shown or parse_human(machine, self.timezone)
        if iso and shown and iso.endswith("+00:00") and iso[:16] == shown[:16]:
            # Some CMSs tag local time as UTC ("10:15Z" on a page showing 10:15 WIB): the page is right.
            iso = iso[:19] + shown[19:]
        return iso, clean_or_none(visible or machine)

    def date_modified(self, page: ParsedPage) -> str | None:
        raw = ld_text(page.article_ld.get("dateModified")) or page.meta_content(
            "article:modified_time", "og:updated_time", "datemodified", "last-modified"
        )
        return parse_iso(raw, self.timezone)

    def breadcrumbs(self, page: ParsedPage) -> list[Breadcrumb]:
        for node in page.ld_of_type({"BreadcrumbList"}):
            crumbs = _ld_breadcrumbs(node, page.url)
            if crumbs:
                return crumbs
        for selector in self.breadcrumb_selectors:
            links = page.select(selector)
            if links:
                return [Breadcrumb(name=clean_line(a.text_content()) or None, url=absolute(page.url, a.get("href")))
                        for a in links]
        return []

    def section(self, page: ParsedPage, crumbs: Sequence[Breadcrumb]) -> str | None:
        value = ld_text(page.article_ld.get("articleSection")) or page.meta_content("article:section")
        if not value and self.section_selectors:
            value = page.text(*self.section_selectors)
        if not value:
            # The trail's last crumb is often the article itself, and its first the home page: neither is a section.
            sections = [c for c in crumbs if not self._is_page_crumb(c, page) and not _is_home_crumb(c)]
            value = sections[-1].name if sections else None
        return clean_or_none(value)

    def _is_page_crumb(self, crumb: Breadcrumb, page: ParsedPage) -> bool:
        if crumb.url and strip_tracking(crumb.url).rstrip("/") in {
                strip_tracking(u).rstrip("/") for u in (page.url, self.canonical_url(page)) if u}:
            return True
        headline = self.headline(page)
        return bool(crumb.name and headline and crumb.name.casefold() == headline.casefold())

    def keywords(self, page: ParsedPage) -> list[str]:
        for selector in self.tag_selectors:
            found = page.texts(selector)
            if found:
                return _tags(found)
        ld = page.article_ld.get("keywords")
        if isinstance(ld, list):
            return _tags(str(k) for k in ld)
        tags = page.meta.get("article:tag") or []
        text = ld if isinstance(ld, str) else page.meta_content("news_keywords", "keywords")
        return _tags([*tags, *split_meta(text)])

    def main_image(self, page: ParsedPage) -> Image | None:
        url = page.meta_content("og:image", "og:image:url", "twitter:image") or _ld_image(page.article_ld.get("image"))
        if not url and self.image_selectors:
            img = page.first(*self.image_selectors)
            if img is not None:
                url = img.get("data-src") or img.get("src")
        url = absolute(page.url, url)
        if not url:
            return None
        caption = page.text(*self.caption_selectors) if self.caption_selectors else None
        return Image(url=url, caption=caption)

    def is_accessible_for_free(self, page: ParsedPage) -> bool:
        flag = page.article_ld.get("isAccessibleForFree")
        if isinstance(flag, str):
            flag = flag.strip().lower() not in ("false", "0", "no")
        if flag is False:
            return False
        return not (self.paywall_selectors and page.first(*self.paywall_selectors) is not None)

    def canonical_url(self, page: ParsedPage) -> str | None:
        link = page.first(CANONICAL_LINK)
        href = link.get("href") if link is not None else page.meta_content("og:url")
        return absolute(page.url, href)

    def publisher_name(self, page: ParsedPage) -> str | None:
        if self.publisher:
            return self.publisher
        org = page.article_ld.get("publisher")
        return ld_names(org)[0] if ld_names(org) else page.meta_content("og:site_name") or host(page.url) or None


# JSON-LD value helpers: schema.org lets most properties be a string, an object or a list of either.
def ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    return clean_or_none(value) if isinstance(value, str) else None


def ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and clean_line(name):
            names.append(clean_line(name))
    return names


def _ld_image(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value if isinstance(value, str) else None


def _ld_breadcrumbs(node: dict[str, Any], base: str) -> list[Breadcrumb]:
    items = node.get("itemListElement") or []
    if not isinstance(items, list):
        return []
    crumbs = []
    for item in sorted((i for i in items if isinstance(i, dict)), key=lambda i: _position(i.get("position"))):
        target = item.get("item")
        name, url = item.get("name"), None
        if isinstance(target, dict):
            name = name or target.get("name")
            url = target.get("@id") or target.get("url")
        elif isinstance(target, str):
            url = target
        crumbs.append(Breadcrumb(name=clean_or_none(name) if isinstance(name, str) else None,
                                 url=absolute(base, url) if isinstance(url, str) else None))
    return crumbs


def _first_texts(page: ParsedPage, selectors: Sequence[str]) -> list[str]:
    for selector in selectors:
        found = page.texts(selector)
        if found:
            return found
    return []


def _is_home_crumb(crumb: Breadcrumb) -> bool:
    return bool(crumb.url) and urlsplit(crumb.url).path in ("", "/")


def _tags(texts: Iterable[str]) -> list[str]:
    # Tag clouds often show tags as hashtags ("# IHSG hari ini"); the tag is the words.
    return dedupe(clean_line(t).lstrip("#").lstrip() for t in texts)


def _position(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def split_meta(text: str | None) -> list[str]:
    return [t for t in (clean_line(part) for part in (text or "").split(",")) if t]


def _time_datetime(page: ParsedPage) -> str | None:
    el = page.first("time[datetime]")
    return el.get("datetime") if el is not None else None
