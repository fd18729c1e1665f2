"""The spider's listing callbacks: sitemaps, feeds and index pages, each turned into article requests and the
further listings it leads to (a sitemap index's children, an index page's next page).

A mixin of :class:`newsbot.spiders.base.ArticleSpider`: Scrapy calls callbacks on the spider, and a request
kept in a JOBDIR queue names its callback as a spider method, so these stay methods and live here only to
keep the article callbacks readable on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot.core.reasons import Rejected
from newsbot.crawl.distributed import errback_done
from newsbot.middlewares import failure_level
from newsbot.sites.listings import Entry, ListingError, parse_feed, parse_sitemap
from newsbot.spiders.pagination import PRIORITY_LISTING, parse_response

if TYPE_CHECKING:
    from newsbot.crawl.seen import ArticleKeys
    from newsbot.sites.base import SiteRules
    from newsbot.spiders.discovery import Discovery

_Listing = TypeVar("_Listing")


class ListingCallbacks:
    """Listing callbacks; the spider provides the rules, discovery, seen-store and article requests."""

    rules: SiteRules
    discovery: Discovery
    seen: ArticleKeys | None
    crawler: Any
    logger: Any
    _article_request: Callable[..., scrapy.Request]

    def request_from_seed(self, seed: dict[str, Any]) -> scrapy.Request | None:
        """A start point as a request: a listing (sitemap, feed, index page) or one article."""
        url, kind = seed.get("url"), seed.get("kind", "article")
        if not isinstance(url, str):
            self.logger.error("ignored a seed without a url: %r", seed)
            return None
        if kind == "article":
            return self._article_request(url)
        callbacks = {"sitemap": self.parse_sitemap, "feed": self.parse_feed, "index": self.parse_index}
        if kind not in callbacks:
            self.logger.error("ignored a seed of unknown kind %r: %s", kind, url)
            return None
        # The site's own start points change between runs, so they are fetched again even on a resumed
        # crawl (dont_filter); everything found in a page goes through the duplicate and off-site filters
        # (Scrapy skips its off-site check for dont_filter requests).
        return self._listing(url, callbacks[kind], root=True)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if (sitemap := self._read(response, lambda: parse_sitemap(response.body))) is not None:
            for url in self.discovery.sitemaps_to_follow(sitemap):
                yield self._listing(url, self.parse_sitemap)
            yield from self._articles(sitemap.entries, response.url)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if (entries := self._read(response, lambda: parse_feed(response.body))) is not None:
            yield from self._articles(entries, response.url)

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        if (page := self._read(response, lambda: parse_response(response))) is None:
            return
        entries = self.rules.index_entries(page)
        yield from self._articles(entries, response.url)
        if next_url := self.discovery.next_index_page(page, entries):
            yield self._listing(next_url, self.parse_index)

    def listing_failed(self, failure: Failure) -> None:
        errback_done(self.crawler, failure.request)
        self.crawler.stats.inc_value("newsbot/listings/fetch_failed")
        self.logger.log(failure_level(failure), "listing fetch failed for %s: %s", failure.request.url,
                        failure.getErrorMessage())

    def _listing(self, url: str, callback: Any, *, root: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.listing_failed, dont_filter=root,
                              priority=PRIORITY_LISTING)

    def _read(self, response: Response, parse: Callable[[], _Listing]) -> _Listing | None:
        """A listing, parsed; None (logged and counted) for one that cannot be read."""
        try:
            return parse()
        except (ListingError, Rejected) as problem:
            self.crawler.stats.inc_value("newsbot/listings/unreadable")
            self.logger.error("listing %s unreadable: %s", response.url, problem)
            return None

    def _articles(self, entries: Iterable[Entry], listing: str) -> Iterator[scrapy.Request]:
        for url, key in self.discovery.articles(entries, self.seen):
            yield self._article_request(url, {"newsbot_key": key, "newsbot_listing": listing})
