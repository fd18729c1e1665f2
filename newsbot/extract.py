"""The extraction core: raw page(s) + URL + site rules -> :class:`~newsbot.items.Article`.

A pure function of its inputs (apart from ``dateDownloaded``), usable without Scrapy::

    from newsbot.extract import extract_article
    from newsbot.sites import get_rules
    record = extract_article(html_bytes, url, get_rules("tribun"))

Pages that cannot become an article raise a :class:`~newsbot.errors.Rejected` subclass with a reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import lxml.html
import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Extractor

from newsbot import __version__
from newsbot.errors import BodyTooShort, MissingUrl, NotAnArticle, Paywalled
from newsbot.items import Article, Metadata, Person
from newsbot.language import detect_language
from newsbot.page import ParsedPage
from newsbot.sites.base import SiteRules
from newsbot.text import clean_line, drop_lines, fingerprint, split_dateline, split_lines, word_count
from newsbot.urls import strip_tracking

# fast=True skips trafilatura's readability/jusText fallbacks: the rules already hand it the right node,
# and the fallbacks triple the cost. Comments and tables are never article text on these sites. Built once:
# trafilatura otherwise reads its settings file values again on every call.
_TRAFILATURA = Extractor(
    output_format="txt",
    comments=False,
    tables=False,
    images=False,
    formatting=False,
    links=False,
    dedup=False,
    fast=True,
    recall=True,
)


# Clocks and time zones disagree a little; a date more than this far after the download is not believed.
FUTURE_TOLERANCE = timedelta(days=1)


def parse_page(body: bytes | str, url: str, content_type: str | None = None) -> ParsedPage:
    """Parse a raw response once. Raises :class:`~newsbot.errors.Rejected` for empty, non-HTML or broken input."""
    return ParsedPage.parse(body, url, content_type)


def body_lines(page: ParsedPage, rules: SiteRules) -> list[str]:
    """The cleaned text lines of one page's body, before dateline handling."""
    element: HtmlElement = rules.body_element(page)
    if element.tag != "html":
        # Handed a bare element, trafilatura falls back to paragraph recovery and loses in-body headings;
        # as the one <article> of a document it extracts the element whole.
        shell = lxml.html.document_fromstring("<html><body><article></article></body></html>")
        shell.find("body/article").append(element)
        element = shell
    options = copy.copy(_TRAFILATURA)
    options.url = options.source = page.url
    text = trafilatura.extract(element, options=options) or ""
    lines = drop_lines(split_lines(text), rules.boilerplate)
    return rules.clean_lines(lines, page)


def build_article(
    first: ParsedPage,
    rules: SiteRules,
    *,
    body_pages: Sequence[ParsedPage] = (),
    page_count: int = 1,
    url: str | None = None,
    downloaded: datetime | None = None,
) -> Article:
    """Build the record from page 1 (metadata) and ``body_pages`` (the text, in order; page 1 if empty)."""
    if not (url or first.url):
        raise MissingUrl(f"build_article needs the page's URL (url={url!r}, first.url={first.url!r})")
    if not rules.has_body(first):
        raise NotAnArticle(f"no article body ({', '.join(rules.body_selectors)}) on {first.url}")
    headline = rules.headline(first)
    pages = body_pages or (first,)
    lines: list[str] = []
    for page in pages:
        lines.extend(body_lines(page, rules))
    lines = _drop_title_repeats(lines, headline)
    dateline, lines = _take_dateline(lines, rules)
    lines = _drop_trailer(lines, rules)
    body = "\n".join(lines)

    free = rules.is_accessible_for_free(first)
    if not body and not free:
        raise Paywalled(f"no visible text on {first.url}")
    words = word_count(body)
    if words < rules.min_body_words and (free or not body):
        raise BodyTooShort(f"{words} words in the body of {first.url}")

    downloaded = downloaded or datetime.now(UTC)
    published, published_raw = rules.date_published(first)
    if published and datetime.fromisoformat(published) > downloaded + FUTURE_TOLERANCE:
        # A publication date after the download is a CMS default or a typo, not a fact; the raw text stays.
        published = None
    crumbs = rules.breadcrumbs(first)
    return Article(
        url=strip_tracking(rules.canonical_first_page(url or first.url)),
        canonicalUrl=rules.canonical_url(first),
        site=rules.name,
        publisher=rules.publisher_name(first),
        headline=headline,
        description=rules.description(first),
        articleBody=body,
        authors=_people(rules.authors, first, pages[-1]),
        editors=_people(rules.editors, first, pages[-1]),
        datePublished=published,
        dateModified=rules.date_modified(first),
        datePublishedRaw=published_raw,
        articleSection=rules.section(first, crumbs),
        breadcrumbs=crumbs,
        keywords=rules.keywords(first),
        dateline=dateline,
        mainImage=rules.main_image(first),
        inLanguage=detect_language(body, fallback=first.lang),
        isAccessibleForFree=free,
        pageCount=page_count,
        wordCount=words,
        fingerprint=fingerprint(body),
        metadata=Metadata(
            dateDownloaded=downloaded.isoformat(timespec="seconds"),
            extractor=f"newsbot/{__version__} {rules.extractor_id}",
        ),
    )


def extract_article(
    body: bytes | str, url: str, rules: SiteRules, content_type: str | None = None
) -> Article:
    """One-page convenience: parse ``body`` and build its record."""
    if not isinstance(url, str) or not url:
        raise MissingUrl(f"extract_article needs the page's URL as its second argument, got {url!r}")
    return build_article(parse_page(body, url, content_type), rules, url=url)


def _people(read: Callable[[ParsedPage], list[Person]], first: ParsedPage, last: ParsedPage) -> list[Person]:
    # A signature at the end of the text ("(ian)") is on the last page of a multi-page article.
    return read(first) or (read(last) if last is not first else [])


def _drop_title_repeats(lines: list[str], headline: str | None) -> list[str]:
    # trafilatura keeps an <h1> that sits inside the body node; the headline is its own field.
    if not headline:
        return lines
    key = clean_line(headline).casefold()
    start = 0
    while start < len(lines) and lines[start].casefold() == key:
        start += 1
    return lines[start:]


def _take_dateline(lines: list[str], rules: SiteRules) -> tuple[str | None, list[str]]:
    if not lines or not rules.datelines:
        return None, lines
    place, rest = split_dateline(lines[0], rules.datelines)
    if rest == lines[0]:
        return None, lines
    return place, ([rest] if rest else []) + lines[1:]


def _drop_trailer(lines: list[str], rules: SiteRules) -> list[str]:
    if not lines or rules.trailer is None:
        return lines
    last = rules.trailer.sub("", lines[-1]).rstrip()
    return lines[:-1] + ([last] if last else [])
