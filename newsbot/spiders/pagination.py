"""An article split over several pages: the pages still to fetch, and the pages its record is built from.

A site's rules say how an article continues (:class:`~newsbot.sites.base.Pagination`): one "all pages"
view, with pages 2..N as the fallback when that view fails. The spider's callbacks carry an
:class:`ArticlePages` from request to request; requests must stay picklable for JOBDIR, so pages travel
as bytes, not parsed trees, and are parsed again once the last one is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from newsbot.core.extract import parse_page
from newsbot.core.page import ParsedPage
from newsbot.crawl.drops import ARTICLE
from newsbot.crawl.replay import FETCHED
from newsbot.sites.base import Pagination

# Finish what is started before starting more: an article's further pages first, then articles, then
# listings. This keeps the queue (and a JOBDIR) small and records flowing from the first minute.
PRIORITY_PAGE, PRIORITY_ARTICLE, PRIORITY_LISTING = 20, 10, 0


@dataclass(frozen=True)
class StoredPage:
    """A fetched page as a request can carry it."""

    url: str
    body: bytes
    content_type: str | None
    fetched: datetime | None

    @classmethod
    def of(cls, response: Response) -> StoredPage:
        return cls(response.url, response.body, content_type(response), fetched(response))

    def parse(self) -> ParsedPage:
        page = parse_page(self.body, self.url, self.content_type)
        page.fetched = self.fetched
        return page


@dataclass(frozen=True)
class ArticlePages:
    """The pages of one article fetched so far: page 1, then pages 2.. in order."""

    plan: Pagination
    first: StoredPage
    later: tuple[StoredPage, ...] = ()

    @property
    def url(self) -> str:
        """The article's URL: its first page's."""
        return self.first.url

    @property
    def next_url(self) -> str | None:
        """The next numbered page to fetch, or None once every page is in."""
        fetched = len(self.later)
        return self.plan.page_urls[fetched] if fetched < len(self.plan.page_urls) else None

    def with_page(self, response: Response) -> ArticlePages:
        return replace(self, later=(*self.later, StoredPage.of(response)))

    def parsed(self) -> list[ParsedPage]:
        """Every page, parsed (a :class:`~newsbot.core.reasons.Rejected` for one that cannot be)."""
        return [self.first.parse(), *(page.parse() for page in self.later)]


def page_request(url: str, pages: ArticlePages, callback: Callable[..., Any],
                 errback: Callable[..., Any]) -> scrapy.Request:
    """A request for a further page (or the all-pages view) of the article ``pages`` is collecting."""
    return scrapy.Request(url, callback=callback, errback=errback, cb_kwargs={"pages": pages},
                          meta={ARTICLE: pages.url}, priority=PRIORITY_PAGE)


def parse_response(response: Response) -> ParsedPage:
    """A response, parsed once, dated by the stored copy it came from (when it did)."""
    page = parse_page(response.body, response.url, content_type(response))
    page.fetched = fetched(response)
    return page


def fetched(response: Response) -> datetime | None:
    """When a stored page (a fixture, an archive record) was fetched, as its middleware says; None: now."""
    moment = response.meta.get(FETCHED)
    return moment if isinstance(moment, datetime) else None


def content_type(response: Response) -> str | None:
    return response.headers.get("Content-Type", b"").decode("latin-1") or None
