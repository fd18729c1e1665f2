"""Rules for any site without its own module: the article found on the whole page (:mod:`newsbot.core.maintext`),
the shared block and line cleanup, and metadata read from what every site publishes (JSON-LD, meta tags) and
checked against what the page shows.

No body or drop selectors: pruning by class-name substrings before trafilatura (``[class*='share']``) removed
whole articles on real pages, so nothing is removed by its name here."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from htmldate import find_date
from lxml.html import HtmlElement

from newsbot.core.dates import parse_human, parse_iso
from newsbot.core.page import ParsedPage
from newsbot.core.pagekind import listing_problem
from newsbot.core.people import parse_people
from newsbot.core.text import Dateline, clean_line
from newsbot.core.urls import host
from newsbot.items import Image, Person
from newsbot.sites.base import SiteRules, ld_names, ld_text, split_meta

# Elements that show a page's own dates on most templates, in the order they are trusted.
_DATE_CARRIERS = ("[itemprop='datePublished']", "time", "[class*='date']", "[class*='publish']", "[class*='time']",
                  "[class*='meta']")
# How far after the headline (in elements) the article's date is looked for, and how long its text may be.
_DATE_NEAR_HEADLINE, _DATE_MAX_CHARS = 40, 100
# Bylines as templates mark them up; the texts must be short to be names.
_BYLINE_SELECTORS = ("[itemprop='author'] [itemprop='name']", "[itemprop='author']", "a[rel~='author']", ".byline",
                     "[class*='byline']", "[class*='author-name']", "[class^='author']", "[class*=' author']")
_BYLINE_MAX_CHARS = 80
# "Editor : Heryadi", "Penyunting: X", "Edited by X": an editor the page names with a label.
_EDITOR_LABEL = re.compile(r"^(?:editor|penyunting|redaktur|edited by)\s*:?\s*(?P<name>\S.{1,60})$", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—:·•»]\s+")

class GenericRules(SiteRules):
    name = "generic"
    version = "2"
    tag_selectors = ("[class*='tags'] a[href*='/tag/']", "a[rel~='tag']")
    caption_selectors = ("[class*='featured'] figcaption", "[class*='featured'] .wp-caption-text")
    datelines = (
        Dateline(re.compile(r"^(?P<place>[A-Z][A-Z .']{2,30}?)(?:,\s*[\w .]+?)?\s*[-–—]{1,2}\s+")),
    )

    def not_article(self, page: ParsedPage, lines: Sequence[str]) -> str | None:
        return listing_problem(page, lines)

    def headline(self, page: ParsedPage) -> str | None:
        """The title the page declares (JSON-LD, ``og:title``, ``<title>``) without the site's name: the first
        that a visible ``<h1>`` agrees with, else the first. An ``<h1>`` that agrees with none is a section name
        or a logo ("Nasional", "Okezone.com - Experience The Zone") and is used only when nothing is declared."""
        declared = [t for t in (ld_text(page.article_ld.get("headline")),
                                page.meta_content("og:title", "twitter:title"), page.text("title")) if t]
        site_names = self._site_names(page)
        titles = [_without_site_name(t, site_names) for t in declared]
        for title in titles:
            if any(_agree(h1, title) for h1 in page.texts("h1")):
                return title
        if titles:
            return titles[0]
        h1s = page.texts("h1")
        return h1s[0] if len(h1s) == 1 else None

    def _site_names(self, page: ParsedPage) -> list[str]:
        names = [page.meta_content("og:site_name") or "", *ld_names(page.article_ld.get("publisher"))]
        netloc = host(page.url) or ""
        names.append(re.sub(r"^(?:www|m|amp)\.", "", netloc))
        names.append(netloc.split(".")[-2] if netloc.count(".") >= 1 else netloc)
        return [n.casefold() for n in names if n]

    def visible_date(self, page: ParsedPage) -> str | None:
        """The date the page shows with the article: the first short text after the headline that reads as a
        date (templates put it right below), else the first date-carrying element that does."""
        heading = self._headline_element(page)
        if heading is not None:
            for count, el in enumerate(_following(heading)):
                if count >= _DATE_NEAR_HEADLINE:
                    break
                text = clean_line(el.text_content()) if el.text and el.text.strip() else ""
                if text and len(text) <= _DATE_MAX_CHARS and parse_human(text, self.timezone):
                    return text
        for selector in _DATE_CARRIERS:
            for el in page.select(selector)[:20]:
                text = clean_line(el.text_content())
                if text and len(text) <= _DATE_MAX_CHARS and parse_human(text, self.timezone):
                    return text
        return None

    def _headline_element(self, page: ParsedPage) -> HtmlElement | None:
        headline = self.headline(page)
        return next((h for h in page.select("h1") if headline and _agree(clean_line(h.text_content()), headline)),
                    None)

    def date_published(self, page: ParsedPage) -> tuple[str | None, str | None]:
        iso, raw = super().date_published(page)
        if iso is None:
            # htmldate reads URL paths, scripts and free text the selectors above do not; it gives the day only.
            day = find_date(page.tree, extensive_search=False, original_date=True)
            if day:
                iso = parse_iso(day, self.timezone)
                raw = raw or day
        return iso, raw

    def main_image(self, page: ParsedPage) -> Image | None:
        image = super().main_image(page)
        if image is None or image.caption:
            return image
        # The caption is the one of the figure that shows the lead image.
        name = image.url.rsplit("/", 1)[-1]
        for img in page.select("figure img"):
            src = img.get("data-src") or img.get("src") or ""
            if name and src.rsplit("/", 1)[-1] == name:
                figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
                caption = figure.find(".//figcaption") if figure is not None else None
                if caption is not None and clean_line(caption.text_content()):
                    return Image(url=image.url, caption=clean_line(caption.text_content()))
        return image

    def author_texts(self, page: ParsedPage) -> list[str]:
        """Authors from JSON-LD or meta, less any name the page itself labels as its editor (some CMSs put the
        editor's profile there); else the visible byline. The outlet's own name is nobody's byline."""
        not_authors = {p.name.casefold() for p in self.editors(page)} | set(self._site_names(page))
        declared = ld_names(page.article_ld.get("author")) or split_meta(page.meta_content("author"))
        declared = [name for name in declared if clean_line(name).casefold() not in not_authors]
        if declared:
            return declared
        for selector in _BYLINE_SELECTORS:
            found = [t for t in page.texts(selector) if len(t) <= _BYLINE_MAX_CHARS and not _EDITOR_LABEL.match(t)
                     and t.casefold() not in not_authors]
            if found:
                return found[:5]
        return []

    def editors(self, page: ParsedPage) -> list[Person]:
        people = super().editors(page)
        return people or parse_people(self._labelled_editors(page))

    def _labelled_editors(self, page: ParsedPage) -> list[str]:
        names = []
        for el in page.select("[class*='editor'], [class*='author'], [class*='credit']")[:20]:
            match = _EDITOR_LABEL.match(clean_line(el.text_content()))
            if match:
                names.append(match["name"])
        return names



def _following(el: HtmlElement) -> Iterator[HtmlElement]:
    """The elements after ``el`` in document order (its descendants first)."""
    yield from el.iterdescendants()
    for ancestor in [el, *el.iterancestors()]:
        for sibling in ancestor.itersiblings():
            yield sibling
            yield from sibling.iterdescendants()


def _agree(h1: str, title: str) -> bool:
    """Whether a visible heading and a declared title name the same article."""
    a, b = _key(h1), _key(title)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 0.6 * len(longer) and longer.startswith(shorter)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _without_site_name(title: str, site_names: list[str]) -> str:
    """``title`` without a leading or trailing part that names the site ("Headline - Okezone News")."""
    cuts = list(_TITLE_SEPARATORS.finditer(title))
    start, end = 0, len(title)
    # Trailing parts first ("Headline | Section | Site"), then leading ones ("Site: Headline").
    for cut in reversed(cuts):
        if cut.start() <= start or not _names_site(title[cut.end():end], site_names):
            break
        end = cut.start()
    for cut in cuts:
        if cut.end() >= end or not _names_site(title[start:cut.start()], site_names):
            break
        start = cut.end()
    return clean_line(title[start:end])


def _names_site(part: str, site_names: list[str]) -> bool:
    key = _key(part).replace(" ", "")
    return bool(key) and any(key in name or name in key for name in (_key(n).replace(" ", "") for n in site_names)
                             if name)
