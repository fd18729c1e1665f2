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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from newsbot import __version__
from newsbot.core.language import detect_language
from newsbot.core.maintext import element_lines, page_lines
from newsbot.core.page import ParsedPage
from newsbot.core.pagekind import listing_problem
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


# A site body shorter than this, or than this share of the words in the page's paragraphs, is checked against
# the generic extraction; the generic text replaces it when it has this many times its words. Of the 23 site
# fixture cases the check runs on one (a short article) and never replaces the body.
CHECK_BELOW_WORDS, CHECK_BELOW_SHARE, FALLBACK_FACTOR = 150, 0.35, 2.0


@dataclass
class BodyText:
    """One page's body lines, and whether they came from the generic path instead of the site's selectors."""

    lines: list[str]
    fallback: bool = False


def body_lines(page: ParsedPage, rules: SiteRules, header: Sequence[str | None] = ()) -> BodyText:
    """The cleaned text lines of one page's body, before dateline handling.

    A site's body comes from its selectors. When they find nothing, or far fewer words than the page holds
    (a redesign renamed the container, or it now holds a teaser), the generic path reads the page instead,
    with the site's own boilerplate phrases; the record says so (``metadata.extractor`` ends in ``fallback``).
    ``header`` (headline, description) is what the whole-page reading must not take for text when it stands
    outside the article (:func:`~newsbot.core.maintext.page_lines`).
    """
    if not rules.body_selectors:
        return BodyText(rules.clean_lines(page_lines(page.tree, page.url, rules.boilerplate, header).lines, page))
    own: list[str] = []
    if rules.has_body(page):
        own = element_lines(rules.body_element(page), page.url, rules.boilerplate).lines
        words = word_count(" ".join(own))
        paragraphs = _paragraph_words(page)
        # A short body on a page whose paragraphs hold no more than twice its words is a short article (a
        # brief, a paywalled teaser): the generic reading could not find twice as much, and costs 1x
        # trafilatura. (A template without <p> is not checked once its container is found.)
        if (words >= CHECK_BELOW_WORDS and words >= CHECK_BELOW_SHARE * paragraphs) \
                or paragraphs < FALLBACK_FACTOR * words:
            return BodyText(rules.clean_lines(own, page))
    generic = page_lines(page.tree, page.url, rules.boilerplate, header).lines
    if not rules.has_body(page) or word_count(" ".join(generic)) >= FALLBACK_FACTOR * word_count(" ".join(own)):
        return BodyText(rules.clean_lines(generic, page), fallback=True)
    return BodyText(rules.clean_lines(own, page))


def _paragraph_words(page: ParsedPage) -> int:
    return sum(word_count(p.text_content()) for p in page.tree.iter("p"))


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
    hits: dict[str, bool] | None = None,
) -> Article:
    """Build the record from page 1 (metadata) and ``body_pages`` (the text, in order; page 1 if empty).

    ``downloaded`` (else the page's own fetch time, else now) is the record's ``dateDownloaded`` and picks the
    version of ``rules`` valid on that day. ``hits``, if given, receives which of the site's own rules fired
    on page 1 and whether the body took the fallback: what the layout-drift alarm counts.
    """
    if not (url or first.url):
        raise MissingUrl(f"build_article needs the page's URL (url={url!r}, first.url={first.url!r})")
    downloaded = downloaded or first.fetched or datetime.now(UTC)
    # A page of an old layout is read by the rules of its day (newsbot.sites: dated versions).
    rules = rules.at(downloaded)
    if hits is not None:
        hits.update(rules.rule_hits(first))
    headline = rules.headline(first)
    description = rules.description(first)
    pages = body_pages or (first,)
    lines: list[str] = []
    fallback = False
    for page in pages:
        text = body_lines(page, rules, (headline, description))
        lines.extend(text.lines)
        fallback |= text.fallback
    if hits is not None:
        hits["fallback"] = fallback
    if fallback:
        # The site's selectors vouch for nothing here: the page itself must look like an article.
        problem = listing_problem(first, lines) or (
            None if lines else f"no article body ({', '.join(rules.body_selectors)}) and no article text")
    else:
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
        description=description,
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
            extractor=f"newsbot/{__version__} {rules.extractor_id}" + (" fallback" if fallback else ""),
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
