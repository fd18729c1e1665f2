"""The extraction core: raw page(s) + URL + site rules -> :class:`~newsbot.items.Article`.

A pure function of its inputs (apart from ``dateDownloaded``), usable without Scrapy::

    from newsbot.core.extract import extract_article
    from newsbot.sites import get_rules
    record = extract_article(html_bytes, url, get_rules("tribun"))

Pages that cannot become an article raise a :class:`~newsbot.core.reasons.Rejected` subclass with a reason.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from newsbot import __version__
from newsbot.core.language import detect_language
from newsbot.core.maintext import element_lines, page_lines
from newsbot.core.page import ParsedPage
from newsbot.core.reasons import BodyTooShort, ExtractionError, MissingUrl, NotAnArticle, Paywalled, Rejected
from newsbot.core.text import clean_line, fingerprint, split_dateline, word_count
from newsbot.core.urls import strip_tracking
from newsbot.items import Article, Metadata, Person
from newsbot.sites.base import Pagination, SiteRules

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")

# Clocks and time zones disagree a little; a date more than this far after the download is not believed.
FUTURE_TOLERANCE = timedelta(days=1)


def typed_failures(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turns an unexpected exception inside extraction into :class:`ExtractionError`: one page's bug must not
    escape into the crawl, where its article would be neither a record nor a drop. The traceback is logged at
    DEBUG; the drop carries the exception's type and message."""

    @functools.wraps(function)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except (Rejected, MissingUrl):  # a judgement on the page, or the caller's mistake: not a bug in here
            raise
        except Exception as exc:
            logger.debug("%s failed", function.__name__, exc_info=True)
            raise ExtractionError(f"{type(exc).__name__}: {exc}"[:300]) from exc

    return guarded


@typed_failures
def parse_page(body: bytes | str, url: str, content_type: str | None = None) -> ParsedPage:
    """Parse a raw response once. Raises :class:`~newsbot.core.reasons.Rejected` for empty, non-HTML or broken input."""
    return ParsedPage.parse(body, url, content_type)


def body_lines(page: ParsedPage, rules: SiteRules) -> list[str]:
    """The cleaned text lines of one page's body, before dateline handling."""
    if rules.body_selectors:
        found = element_lines(rules.body_element(page), page.url, rules.boilerplate)
    else:
        found = page_lines(page.tree, page.url, rules.boilerplate)
    return rules.clean_lines(found.lines, page)


@typed_failures
def pagination(page: ParsedPage, rules: SiteRules) -> Pagination | None:
    """How to fetch the rest of a multi-page article (:meth:`SiteRules.pagination`), or None."""
    return rules.pagination(page)


@typed_failures
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
    problem = rules.not_article(first, lines)
    if problem:
        raise NotAnArticle(f"{problem} on {first.url}")
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
