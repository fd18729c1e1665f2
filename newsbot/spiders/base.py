"""The one spider behaviour every site shares: start points, fetching an article's pages, calling the core.

Site spiders are a name and a rules class; all extraction happens in :mod:`newsbot.extract`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot.errors import Rejected
from newsbot.extract import build_article, parse_page
from newsbot.items import Article
from newsbot.page import ParsedPage
from newsbot.replay import find_cases
from newsbot.sites import RULES, get_rules
from newsbot.sites.base import Pagination, SiteRules

# Replaying fixtures must be fast and must never wait on politeness meant for live servers.
REPLAY_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "RETRY_ENABLED": False,
}


class ArticleSpider(scrapy.Spider):
    """Base of every newsbot spider.

    Arguments (``-a name=value``):
      url     one article URL to fetch and extract;
      replay  a fixture case, site folder or tree of cases to replay offline instead of the network;
      record  a directory to record every live response into, as a new fixture case.
    """

    rules_name: ClassVar[str] = "generic"

    def __init__(self, url: str | None = None, replay: str | None = None, record: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not (url or replay):
            raise ValueError(f"{self.name}: give an article with -a url=<URL> or fixtures with -a replay=<DIR>")
        self.rules: SiteRules = get_rules(self.rules_name)
        self.url = url
        self.replay = Path(replay) if replay else None
        self.record = Path(record) if record else None
        if self.rules.domains and not self.replay:
            self.allowed_domains = list(self.rules.domains)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are still open here (frozen right after the spider is built), so spider arguments can
        # switch the download path: replay serves fixtures, record stores what a live crawl fetched.
        settings = crawler.settings
        if spider.replay is not None:
            settings.set("REPLAY_DIR", str(spider.replay), priority="spider")
            for name, value in REPLAY_SETTINGS.items():
                settings.set(name, value, priority="spider")
        if spider.record is not None:
            settings.set("RECORD_DIR", str(spider.record), priority="spider")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls_for_run():
            yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error)

    def start_urls_for_run(self) -> list[str]:
        if self.replay is not None:
            return [case.url for case in find_cases(self.replay) if self._owns_case_site(case.site)]
        return [self.url] if self.url else []

    def _owns_case_site(self, site: str) -> bool:
        # In a tree holding several sites' cases, each spider replays its own; a case folder outside the
        # fixtures/<site>/ convention is replayed by whichever spider it is given to.
        return site == self.name or site not in RULES

    # Article pages --------------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        try:
            first = self._parse(response)
            plan = self.rules.pagination(first)
        except Rejected as rejection:
            self.drop(response.url, rejection)
            return
        if plan is None or plan.count <= 1:
            yield from self._emit(first, [first], 1, first.url)
            return
        first_page = _stored(response)
        if plan.all_pages_url:
            yield scrapy.Request(plan.all_pages_url, callback=self.parse_all_pages, errback=self.all_pages_failed,
                                 cb_kwargs={"first_page": first_page, "plan": plan}, dont_filter=True)
        else:
            yield from self._next_page(first_page, plan, [])

    def parse_all_pages(self, response: Response, first_page: dict[str, Any], plan: Pagination) -> Iterator[Any]:
        # A non-2xx answer never gets here: HttpErrorMiddleware routes it to all_pages_failed.
        try:
            first, whole = self._restore(first_page), self._parse(response)
        except Rejected as rejection:
            self.drop(response.url, rejection)
            return
        yield from self._emit(first, [whole], plan.count, first_page["url"])

    def all_pages_failed(self, failure: Failure) -> Iterator[Any]:
        # The one-request "all pages" view is missing (404, error): fall back to fetching page by page.
        kwargs = failure.request.cb_kwargs
        self.crawler.stats.inc_value("newsbot/pagination/all_pages_fallback")
        yield from self._next_page(kwargs["first_page"], kwargs["plan"], [])

    def parse_next_page(self, response: Response, first_page: dict[str, Any], plan: Pagination,
                        done: list[dict[str, Any]]) -> Iterator[Any]:
        yield from self._next_page(first_page, plan, [*done, _stored(response)])

    def _next_page(self, first_page: dict[str, Any], plan: Pagination, done: list[dict[str, Any]]) -> Iterator[Any]:
        if len(done) < len(plan.page_urls):
            yield scrapy.Request(plan.page_urls[len(done)], callback=self.parse_next_page, errback=self.on_error,
                                 cb_kwargs={"first_page": first_page, "plan": plan, "done": done}, dont_filter=True)
            return
        try:
            first = self._restore(first_page)
            pages = [first, *(self._restore(p) for p in done)]
        except Rejected as rejection:
            self.drop(first_page["url"], rejection)
            return
        yield from self._emit(first, pages, plan.count, first_page["url"])

    def _emit(self, first: ParsedPage, pages: list[ParsedPage], count: int, url: str) -> Iterator[Article]:
        try:
            yield build_article(first, self.rules, body_pages=pages, page_count=count, url=url,
                                downloaded=datetime.now(UTC))
        except Rejected as rejection:
            self.drop(url, rejection)

    # Parsing and accounting ------------------------------------------------------------------------------
    def _parse(self, response: Response) -> ParsedPage:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        return parse_page(response.body, response.url, content_type)

    def _restore(self, stored: dict[str, Any]) -> ParsedPage:
        return parse_page(stored["body"], stored["url"], stored["content_type"])

    def drop(self, url: str, rejection: Rejected) -> None:
        """Account for a page that did not become a record: logged with its URL, counted by reason."""
        self.crawler.stats.inc_value("newsbot/dropped")
        self.crawler.stats.inc_value(f"newsbot/dropped/{rejection.reason}")
        self.logger.warning("dropped %s: %s", url, rejection)

    def on_error(self, failure: Failure) -> None:
        request = failure.request
        self.crawler.stats.inc_value("newsbot/fetch_failed")
        self.logger.error("fetch failed for %s: %s", request.url, failure.getErrorMessage())


def _stored(response: Response) -> dict[str, Any]:
    # Requests must stay picklable for JOBDIR, so pages travel as bytes, not parsed trees.
    return {"url": response.url, "body": response.body,
            "content_type": response.headers.get("Content-Type", b"").decode("latin-1") or None}
