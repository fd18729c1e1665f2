"""The one spider every site shares: its start points and its callbacks, calling the core.

Site spiders are a name and a rules class; all extraction happens in :mod:`newsbot.core.extract`, and every
site-specific fact about listings (URL patterns, sitemaps, index pages) lives in the site's rules. What is
not a callback lives in a component of its own: the arguments (:mod:`newsbot.crawl.arguments`) and the
settings they imply (:mod:`newsbot.crawl.addon`), the seen-store (:mod:`newsbot.crawl.seen`), the drop
accounting (:mod:`newsbot.crawl.drops`), discovery, pagination and the run's limits (beside this module); the
listing callbacks are a mixin (:mod:`newsbot.spiders.listing`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from functools import cached_property
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot.core.extract import build_article, pagination
from newsbot.core.page import ParsedPage
from newsbot.core.reasons import Reason, Rejected
from newsbot.crawl.arguments import arguments_help, read_arguments
from newsbot.crawl.distributed import errback_done, errback_outputs, redis_url
from newsbot.crawl.drops import ARTICLE, failure_reason, page_dropped
from newsbot.crawl.health import rules_checked
from newsbot.crawl.seen import ArticleKeys, seen_store
from newsbot.items import Article
from newsbot.middlewares import TRUSTED_URL, failure_level
from newsbot.sites import get_rules
from newsbot.spiders.discovery import Discovery, given_urls, nothing_to_replay, replayed_before, start_points
from newsbot.spiders.limits import RunLimits
from newsbot.spiders.listing import ListingCallbacks
from newsbot.spiders.pagination import (
    PRIORITY_ARTICLE,
    ArticlePages,
    StoredPage,
    page_request,
    parse_response,
)


class ArticleSpider(ListingCallbacks, scrapy.Spider):
    """Base of every newsbot spider; its arguments are :data:`newsbot.crawl.arguments.ARGUMENTS`.

    Without ``url`` (and without ``replay`` or ``warc``) the spider discovers articles from the site's
    sitemaps, feeds and index pages.
    """

    rules_name = "generic"

    def __init__(self, **given: Any) -> None:
        super().__init__()
        self.rules = get_rules(self.rules_name)
        self.args = read_arguments(self.name, self.rules, given)
        self.limits = RunLimits(self.args.limit, self.args.window, self.rules.timezone)
        # Replayed or live, a site spider never follows a link or redirect off its own domains; the generic
        # rules name none, and an empty list lets Scrapy's off-site filter (and ours) admit every host.
        self.allowed_domains: list[str] = list(self.rules.domains)

    @classmethod
    def describe(cls) -> str:
        """What the spider crawls, in one line (``scrapy list``)."""
        rules = get_rules(cls.rules_name)
        if not rules.domains:
            return "any site, one article at a time (-a url=<URL>): trafilatura and the shared cleanup"
        return f"{rules.publisher or rules.name} ({', '.join(rules.domains)})"

    @classmethod
    def arguments_help(cls) -> str:
        return arguments_help(cls.name, cls.describe())

    @cached_property
    def seen(self) -> ArticleKeys | None:
        return seen_store(self.crawler)

    @cached_property
    def discovery(self) -> Discovery:
        return Discovery(self.rules, self.limits, self.crawler.stats, refresh=self.args.refresh)

    # Start points -----------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        args = self.args
        if redis_url(self.settings) and not args.url:
            # Workers share the start points pushed into Redis (scrapy seed), taken when idle.
            self.logger.info("waiting for work in Redis (push start points with: scrapy seed %s)", self.name)
            return
        if args.discover:
            for seed in start_points(self.rules, args.window, self.settings.getint("NEWSBOT_MAX_INDEX_DAYS")):
                request = self.request_from_seed(seed)
                if request is not None:
                    yield request
            return
        if args.replay is not None and not args.cases:
            self.logger.warning("%s", nothing_to_replay(args, self.name))
            self.crawler.stats.set_value("replay/no_cases", 1)
            return
        for url in given_urls(args, self.rules):
            if replayed_before(args, self.rules, url, self.seen):
                self.crawler.stats.inc_value("newsbot/discovery/seen")
                continue
            # A URL the user typed is theirs to choose, even a local one; links found in pages are not.
            yield self._article_request(url, {TRUSTED_URL: url})

    def _article_request(self, url: str, meta: dict[str, Any] | None = None) -> scrapy.Request:
        # Every article requested is counted: records + drops + skipped must add up to this at the end.
        self.crawler.stats.inc_value("newsbot/articles")
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, priority=PRIORITY_ARTICLE,
                              meta={**(meta or {}), ARTICLE: url})

    # Article pages --------------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        key = response.meta.get("newsbot_key")
        # Another request for a story already written (a resumed JOBDIR queue, a second listing host).
        if key and not self.args.refresh and self.seen is not None and key in self.seen:
            self.crawler.stats.inc_value("newsbot/skipped/seen")
            return
        try:
            first = parse_response(response)
            plan = pagination(first, self.rules)
        except Rejected as rejection:
            self.drop(response.url, rejection)
            return
        if plan is None:
            yield from self._emit(first, [first], 1, first.url)
            return
        pages = ArticlePages(plan, StoredPage.of(response))
        if plan.all_pages_url:
            yield page_request(plan.all_pages_url, pages, self.parse_all_pages, self.all_pages_failed)
        else:
            yield from self._next_page(pages)

    def parse_all_pages(self, response: Response, pages: ArticlePages) -> Iterator[Any]:
        # A non-2xx answer never gets here: HttpErrorMiddleware routes it to all_pages_failed.
        try:
            first, whole = pages.first.parse(), parse_response(response)
        except Rejected as rejection:
            self.drop(response.url, rejection)
            return
        yield from self._emit(first, [whole], pages.plan.count, pages.url)

    def all_pages_failed(self, failure: Failure) -> Iterator[Any]:
        # The one-request "all pages" view is missing (404, error): fall back to fetching page by page.
        self.crawler.stats.inc_value("newsbot/pagination/all_pages_fallback")
        yield from errback_outputs(self.crawler, failure.request,
                                   self._next_page(failure.request.cb_kwargs["pages"]))

    def parse_next_page(self, response: Response, pages: ArticlePages) -> Iterator[Any]:
        yield from self._next_page(pages.with_page(response))

    def _next_page(self, pages: ArticlePages) -> Iterator[Any]:
        if pages.next_url is not None:
            yield page_request(pages.next_url, pages, self.parse_next_page, self.on_error)
            return
        try:
            parsed = pages.parsed()
        except Rejected as rejection:
            self.drop(pages.url, rejection)
            return
        yield from self._emit(parsed[0], parsed, pages.plan.count, pages.url)

    def _emit(self, first: ParsedPage, pages: list[ParsedPage], count: int, url: str) -> Iterator[Article]:
        if not self.limits.room_for_more():
            # Fetched while the limit was being reached: left for the next run, not marked seen.
            self.crawler.stats.inc_value("newsbot/skipped/over_limit")
            return
        hits: dict[str, bool] = {}
        try:
            article = build_article(first, self.rules, body_pages=pages, page_count=count, url=url, hits=hits)
            self.limits.check(article)
        except Rejected as rejection:
            self.drop(url, rejection)
            return
        finally:
            # Dropped pages count too: a redesign that turns articles into drops is drift.
            if hits:
                self.crawler.signals.send_catch_log(rules_checked, site=self.rules.name, hits=hits)
        self.limits.written()
        yield article
        self.limits.stop_if_reached()

    # Drops: logged, counted and written by newsbot.crawl.drops.DropLog ----------------------------------
    def drop(self, url: str, rejection: Rejected) -> None:
        self.crawler.signals.send_catch_log(page_dropped, url=url, reason=rejection.reason,
                                            detail=rejection.detail, level=logging.WARNING)

    def on_error(self, failure: Failure) -> None:
        """A request for an article or one of its pages 2..N failed for good (after retries): the article is
        dropped with the reason, under its own URL also when the failing request is a redirect or a page."""
        errback_done(self.crawler, failure.request)
        reason, detail = failure_reason(failure)
        self.crawler.signals.send_catch_log(
            page_dropped, url=failure.request.meta.get(ARTICLE, failure.request.url), reason=reason, detail=detail,
            level=logging.INFO if reason is Reason.ROBOTS else failure_level(failure))

