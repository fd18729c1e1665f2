"""The one spider behaviour every site shares: finding articles in the site's listings, fetching an
article's pages, calling the core, and remembering what was written.

Site spiders are a name and a rules class; all extraction happens in :mod:`newsbot.core.extract`, and every
site-specific fact about listings (URL patterns, sitemaps, index pages) lives in the site's rules.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.utils.url import url_is_from_any_domain
from twisted.python.failure import Failure

from newsbot.archive import expand_paths, is_warc_path
from newsbot.archive.index import start_urls as archive_start_urls
from newsbot.core.extract import build_article, pagination, parse_page
from newsbot.core.page import ParsedPage
from newsbot.core.reasons import OutOfWindow, Rejected
from newsbot.core.urls import strip_tracking
from newsbot.crawl import distributed
from newsbot.crawl.drops import failure_reason, page_dropped
from newsbot.crawl.extensions import feed_uri_params
from newsbot.crawl.feeds import last_records
from newsbot.crawl.health import rules_checked
from newsbot.crawl.replay import FETCHED, Case, CaseError, find_cases
from newsbot.crawl.seen import SeenStore
from newsbot.items import Article
from newsbot.middlewares import TRUSTED_URL, HostUnreachable
from newsbot.sites import RULES, get_rules
from newsbot.sites.base import Pagination, SiteRules
from newsbot.sites.listings import DateWindow, Entry, ListingError, parse_feed, parse_sitemap

# Replaying fixtures must be fast and must never wait on politeness meant for live servers.
REPLAY_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "RETRY_ENABLED": False,
}

# Request meta key: the article (its first page's URL) a request fetches a page of.
ARTICLE = "newsbot_article"

# Finish what is started before starting more: an article's further pages first, then articles, then
# listings. This keeps the queue (and a JOBDIR) small and records flowing from the first minute.
PRIORITY_PAGE, PRIORITY_ARTICLE, PRIORITY_LISTING = 20, 10, 0

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

# The spider arguments (``-a NAME=VALUE``) of every site spider with their one-line help: the only names
# accepted, and what ``scrapy crawl <site> -a help=true`` lists.
ARGUMENTS: dict[str, str] = {
    "url": "URL: fetch this one article (all its pages), no discovery; the seen-store does not stop it",
    "since": "YYYY-MM-DD: only articles published on or after this day (the site's local time)",
    "until": "YYYY-MM-DD: only articles published on or before this day",
    "limit": "N: stop after N records; what is left is fetched by the next run",
    "refresh": "true: fetch articles the seen-store already knows, too (they are written again)",
    "replay": "DIR: answer every request from the fixture cases under DIR instead of the network",
    "discover": "true: with replay, start from the site's listings (the default without url and replay)",
    "record": "DIR: store every live response as a new fixture case in DIR (PATH.warc.gz: as a WARC file)",
    "warc": "PATHS: read the pages from these WARC files (comma-separated, globs allowed) instead of the network",
}


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message names it and says why. ``scrapy crawl``
    reports it before the crawl starts as a usage error: one line, exit code 2."""


class CannotStart(RuntimeError):
    """The crawl cannot start for a reason outside its arguments, such as a Redis that does not answer:
    one line, exit code 1."""


class ArticleSpider(scrapy.Spider):
    """Base of every newsbot spider; its arguments are :data:`ARGUMENTS`.

    Without ``url`` (and without ``replay``) the spider discovers articles from the site's sitemaps,
    feeds and index pages.
    """

    rules_name: ClassVar[str] = "generic"
    arguments: ClassVar[dict[str, str]] = ARGUMENTS

    def __init__(self, url: str | None = None, replay: str | None = None, record: str | None = None,
                 discover: str | None = None, since: str | None = None, until: str | None = None,
                 limit: str | None = None, refresh: str | None = None, warc: str | None = None,
                 **unknown: Any) -> None:
        if unknown:
            raise ArgumentError(self._unknown_arguments(unknown))
        super().__init__()
        self.rules: SiteRules = get_rules(self.rules_name)
        self.url = _absolute_url(url)
        self.record = Path(record) if record else None
        try:
            self.warc = expand_paths([warc]) if warc else []
        except ValueError as exc:
            raise ArgumentError(f"warc: {exc}") from None
        if self.warc and replay:
            raise ArgumentError(f"{self.name}: give either -a replay=... or -a warc=..., not both")
        try:
            self.window = DateWindow.from_args(since, until)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        self.limit = _positive_int(limit, "limit")
        self.refresh = _flag(refresh, "refresh", default=False)
        self.discover = _flag(discover, "discover", default=url is None and replay is None and not warc)
        if url and self.discover:
            raise ArgumentError(f"{self.name}: -a url=... fetches one article; it cannot be combined with discover")
        if self.discover and not self.rules.discovers:
            raise ArgumentError(f"{self.name}: this site has no listings to discover articles from; "
                                "give an article with -a url=<URL> or fixtures with -a replay=<DIR>")
        self.replay = Path(replay) if replay else None
        self.cases = self._replay_cases(self.replay, url) if self.replay is not None else []
        # Replayed or live, a site spider never follows a link or redirect off its own domains; the generic
        # rules name none, and an empty list lets Scrapy's off-site filter (and ours) admit every host.
        self.allowed_domains: list[str] = list(self.rules.domains)
        self.seen: SeenStore | distributed.RedisSeenStore | None = None
        self.distributed = False
        self.seeds: distributed.Seeds | None = None
        self.records = 0
        # Article keys requested in this run: one story listed twice (sitemap and index) is fetched once.
        self._requested: set[str] = set()

    @classmethod
    def describe(cls) -> str:
        """What the spider crawls, in one line (``scrapy list``)."""
        rules = get_rules(cls.rules_name)
        if not rules.domains:
            return "any site, one article at a time (-a url=<URL>): trafilatura and the shared cleanup"
        return f"{rules.publisher or rules.name} ({', '.join(rules.domains)})"

    @classmethod
    def arguments_help(cls) -> str:
        """One line per argument, as ``scrapy crawl <site> -a help=true`` prints them."""
        rows = [(f"{name}={text.partition(': ')[0]}", text.partition(": ")[2]) for name, text in cls.arguments.items()]
        width = max(len(usage) for usage, _ in rows)
        lines = [f"scrapy crawl {cls.name}: {cls.describe()}", "arguments (-a NAME=VALUE):"]
        lines += [f"  {usage:<{width}}  {meaning}" for usage, meaning in rows]
        return "\n".join(lines)

    def _unknown_arguments(self, unknown: dict[str, Any]) -> str:
        names = sorted(unknown)
        hints = [f" (did you mean {close[0]}?)" if (close := difflib.get_close_matches(n, self.arguments, 1))
                 else "" for n in names]
        given = ", ".join(f"{name}{hint}" for name, hint in zip(names, hints, strict=True))
        return (f"unknown argument {given}; {self.name} takes {', '.join(self.arguments)} "
                f"(scrapy crawl {self.name} -a help=true says what each does)")

    def _replay_cases(self, root: Path, url: str | None) -> list[Case]:
        """The article cases this run replays: the one that starts from ``url``, or all of this site's."""
        try:
            cases = [case for case in find_cases(root) if case.kind == "article"]
        except CaseError as exc:
            raise ArgumentError(f"replay: {exc}") from None
        if url is None:
            return [case for case in cases if self._owns_case_site(case.site)]
        wanted = self.rules.article_key(url)
        found = [case for case in cases if self.rules.article_key(case.url) == wanted]
        if not found:
            raise ArgumentError(f"url={url} is not in the fixtures: no case under {root} starts from it")
        return found[:1]

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
        if spider.warc:
            # An archive is replayed like fixtures: pages come from WARC files, at once.
            settings.set("WARC_PATHS", [str(path) for path in spider.warc], priority="spider")
            for name, value in REPLAY_SETTINGS.items():
                settings.set(name, value, priority="spider")
        if spider.record is not None:
            record_to = "WARC_RECORD" if is_warc_path(spider.record) else "RECORD_DIR"
            settings.set(record_to, str(spider.record), priority="spider")
        if not settings.getdict("FEEDS") and settings.get("NEWSBOT_FEED"):
            # A default, not a setting: Scrapy adds -o/-O feeds to FEEDS, and a user who names a feed wants
            # only that one.
            settings.set("FEEDS", {settings.get("NEWSBOT_FEED"): {
                "format": "jsonlines", "encoding": "utf8", "store_empty": False}}, priority="spider")
        redis_url = distributed.switch_on(settings)
        store = settings.get("NEWSBOT_SEEN_STORE")
        if redis_url:
            server = distributed.connect(redis_url)
            try:
                server.ping()
            except distributed.redis.RedisError as exc:
                raise CannotStart(f"{spider.name}: cannot reach Redis at {redis_url}: {exc}") from None
            spider.distributed = True
            spider.seen = distributed.RedisSeenStore(server, spider.name)
            # Kept on the spider: Scrapy's signals hold their receivers only weakly.
            spider.seeds = distributed.Seeds(spider, server, settings.getfloat("NEWSBOT_IDLE_EXIT"))
            spider.seeds.attach(crawler)
        elif store:
            spider.seen = SeenStore(Path(store % {"name": spider.name}))
        crawler.signals.connect(spider._connect_recorder, signal=signals.spider_opened)
        crawler.signals.connect(spider._close_store, signal=signals.spider_closed)
        crawler.signals.connect(spider._request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _connect_recorder(self) -> None:
        # Connected only now, after every extension: the feed exporter has written a record by the time
        # this handler marks it seen, so a crash between the two never loses a record...
        self.crawler.signals.connect(self._mark_seen, signal=signals.item_scraped)
        # ...and the records at the end of this run's feed files count as seen, so such a crash does not
        # write a record twice either: the feed is the truth, the seen-store remembers it.
        if self.seen is not None:
            for path in self._local_feed_paths():
                for record in last_records(path):
                    self.seen.add(self._keys(record.get("url"), record.get("canonicalUrl")), record.get("url") or "")

    def _local_feed_paths(self) -> list[Path]:
        params = feed_uri_params({"name": self.name}, self)
        paths = []
        for uri in self.settings.getdict("FEEDS"):
            try:
                target = str(uri) % params
            except (KeyError, ValueError, TypeError):
                continue
            if "://" in target and not target.startswith("file://"):
                continue
            paths.append(Path(target.removeprefix("file://")))
        return [p for p in paths if p.is_file()]

    def _mark_seen(self, item: Any) -> None:
        if self.seen is not None and isinstance(item, Article):
            self.seen.add(self._keys(item.url, item.canonicalUrl), item.url)

    def _keys(self, *urls: object) -> list[str]:
        """The seen-store keys of a record: its URL's and its canonical URL's article identity."""
        return [self.rules.article_key(u) for u in urls if isinstance(u, str) and u]

    def _close_store(self) -> None:
        if self.seen is not None:
            self.seen.close()

    # Start points -----------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.distributed and not self.url:
            # Workers share the start points pushed into Redis (scrapy newsbot-seed), taken when idle.
            self.logger.info("waiting for work in Redis (push start points with: scrapy seed %s)", self.name)
            return
        if self.discover:
            for request in self.listing_requests():
                yield request
            return
        if self.replay is not None and not self.cases:
            self._nothing_to_replay()
            return
        for url in self.start_urls_for_run():
            if self._replayed_before(url):
                self.crawler.stats.inc_value("newsbot/discovery/seen")
                continue
            # A URL the user typed is theirs to choose, even a local one; links found in pages are not.
            yield self._article_request(url, {TRUSTED_URL: url})

    def start_urls_for_run(self) -> list[str]:
        if self.warc:
            return archive_start_urls(self.warc, self.rules)
        if self.replay is not None:
            return [case.url for case in self.cases]
        return [self.url] if self.url else []

    def _replayed_before(self, url: str) -> bool:
        # Replayed cases are articles like any other: one an earlier run wrote is not written again. A URL
        # the user names (-a url) is fetched whatever the seen-store says, replayed or not.
        return (self.replay is not None and self.url is None and not self.refresh and self.seen is not None
                and self.rules.article_key(url) in self.seen)

    def _nothing_to_replay(self) -> None:
        assert self.replay is not None
        sites = sorted({case.site for case in find_cases(self.replay) if case.kind == "article"})
        found = f"its article cases are {', '.join(sites)} cases" if sites else "it holds no article case"
        self.logger.warning("replay: nothing to replay for %s under %s (%s); give a folder of %s cases, "
                            "e.g. fixtures/%s", self.name, self.replay, found, self.name, self.name)
        self.crawler.stats.set_value("replay/no_cases", 1)

    def _owns_case_site(self, site: str) -> bool:
        # In a tree holding several sites' cases, each spider replays its own; a case folder outside the
        # fixtures/<site>/ convention is replayed by whichever spider it is given to.
        return site == self.name or site not in RULES

    def start_points(self, max_index_days: int) -> list[dict[str, str]]:
        """The site's listings for this run, as seeds: sitemaps, feeds and the index pages of the window's days."""
        seeds = [{"url": url, "kind": "sitemap"} for url in self.rules.sitemaps]
        seeds += [{"url": url, "kind": "feed"} for url in self.rules.feeds]
        days = self.window.days(datetime.now(self.rules.timezone).date(), max_index_days) \
            if self.window.bounded else [None]
        seeds += [{"url": url, "kind": "index"} for day in days for url in self.rules.index_urls(day)]
        return seeds

    def listing_requests(self) -> Iterator[scrapy.Request]:
        for seed in self.start_points(self.settings.getint("NEWSBOT_MAX_INDEX_DAYS")):
            request = self.request_from_seed(seed)
            if request is not None:
                yield request

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

    def _listing(self, url: str, callback: Any, *, root: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.listing_failed, dont_filter=root,
                              priority=PRIORITY_LISTING)

    # Listings ---------------------------------------------------------------------------------------
    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            sitemap = parse_sitemap(response.body)
        except ListingError as exc:
            yield from self._bad_listing(response, exc)
            return
        follow = self.rules.sitemap_follow
        for child in sitemap.children:
            if follow is not None and not follow.search(child.url):
                continue
            # A sitemap last changed before ``since`` lists nothing newer.
            if self.window.since and child.modified and \
                    child.modified.astimezone(self.rules.timezone).date() < self.window.since:
                continue
            self.crawler.stats.inc_value("newsbot/listings/sitemaps_followed")
            yield self._listing(child.url, self.parse_sitemap)
        yield from self._articles(sitemap.entries, response.url)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = parse_feed(response.body)
        except ListingError as exc:
            yield from self._bad_listing(response, exc)
            return
        yield from self._articles(entries, response.url)

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            page = self._parse(response)
        except Rejected as rejection:
            yield from self._bad_listing(response, rejection)
            return
        entries = self.rules.index_entries(page)
        yield from self._articles(entries, response.url)
        # Index pages run newest first: once a whole page predates ``since``, later pages are older still.
        dated = [e.published for e in entries if e.published is not None]
        exhausted = bool(dated) and self.window.since is not None and all(
            d.astimezone(self.rules.timezone).date() < self.window.since for d in dated)
        next_url = None if exhausted or not entries else self.rules.next_index_page(page, entries)
        if next_url and self._room_for_more():
            self.crawler.stats.inc_value("newsbot/listings/index_pages_followed")
            yield self._listing(next_url, self.parse_index)

    def _articles(self, entries: Iterable[Entry], listing: str) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        stats.inc_value("newsbot/listings/fetched")
        for entry in entries:
            url = self.rules.canonical_first_page(strip_tracking(entry.url))
            if not self.rules.is_article_url(url):
                stats.inc_value("newsbot/discovery/not_article")
                continue
            if not self.window.admits_entry(entry, self.rules.timezone, self.rules.url_date(url)):
                stats.inc_value("newsbot/discovery/out_of_window")
                continue
            key = self.rules.article_key(url)
            if key in self._requested:
                stats.inc_value("newsbot/discovery/repeated")
                continue
            if not self.refresh and self.seen is not None and key in self.seen:
                # Counted once per article, however many listings name it.
                self._requested.add(key)
                stats.inc_value("newsbot/discovery/seen")
                continue
            if not self._room_for_more():
                stats.inc_value("newsbot/discovery/over_limit")
                continue
            self._requested.add(key)
            stats.inc_value("newsbot/discovery/articles")
            yield self._article_request(url, {"newsbot_key": key, "newsbot_listing": listing})

    def _article_request(self, url: str, meta: dict[str, Any] | None = None) -> scrapy.Request:
        # Every article requested is counted: records + drops + skipped must add up to this at the end.
        self.crawler.stats.inc_value("newsbot/articles")
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, priority=PRIORITY_ARTICLE,
                              meta={**(meta or {}), ARTICLE: url})

    def _room_for_more(self) -> bool:
        return self.limit is None or self.records < self.limit

    def _bad_listing(self, response: Response, problem: Exception) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("newsbot/listings/unreadable")
        self.logger.error("listing %s unreadable: %s", response.url, problem)
        yield from ()

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.signals.send_catch_log(distributed.request_done, request=failure.request)
        self.crawler.stats.inc_value("newsbot/listings/fetch_failed")
        self.logger.log(_failure_level(failure), "listing fetch failed for %s: %s", failure.request.url,
                        failure.getErrorMessage())

    # Article pages --------------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        key = response.meta.get("newsbot_key")
        # Another request for a story already written (a resumed JOBDIR queue, a second listing host).
        if key and not self.refresh and self.seen is not None and key in self.seen:
            self.crawler.stats.inc_value("newsbot/skipped/seen")
            return
        try:
            first = self._parse(response)
            plan = pagination(first, self.rules)
        except Rejected as rejection:
            self.drop(response.url, rejection)
            return
        if plan is None or plan.count <= 1:
            yield from self._emit(first, [first], 1, first.url)
            return
        first_page = _stored(response)
        if plan.all_pages_url:
            yield scrapy.Request(plan.all_pages_url, callback=self.parse_all_pages, errback=self.all_pages_failed,
                                 cb_kwargs={"first_page": first_page, "plan": plan}, meta={ARTICLE: first_page["url"]},
                                 priority=PRIORITY_PAGE)
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
        self.crawler.signals.send_catch_log(distributed.request_done, request=failure.request)
        self.crawler.stats.inc_value("newsbot/pagination/all_pages_fallback")
        yield from self._next_page(kwargs["first_page"], kwargs["plan"], [])

    def parse_next_page(self, response: Response, first_page: dict[str, Any], plan: Pagination,
                        done: list[dict[str, Any]]) -> Iterator[Any]:
        yield from self._next_page(first_page, plan, [*done, _stored(response)])

    def _next_page(self, first_page: dict[str, Any], plan: Pagination, done: list[dict[str, Any]]) -> Iterator[Any]:
        if len(done) < len(plan.page_urls):
            yield scrapy.Request(plan.page_urls[len(done)], callback=self.parse_next_page, errback=self.on_error,
                                 cb_kwargs={"first_page": first_page, "plan": plan, "done": done},
                                 meta={ARTICLE: first_page["url"]},
                                 priority=PRIORITY_PAGE)
            return
        try:
            first = self._restore(first_page)
            pages = [first, *(self._restore(p) for p in done)]
        except Rejected as rejection:
            self.drop(first_page["url"], rejection)
            return
        yield from self._emit(first, pages, plan.count, first_page["url"])

    def _emit(self, first: ParsedPage, pages: list[ParsedPage], count: int, url: str) -> Iterator[Article]:
        if not self._room_for_more():
            # Fetched while the limit was being reached: left for the next run, not marked seen.
            self.crawler.stats.inc_value("newsbot/skipped/over_limit")
            return
        hits: dict[str, bool] = {}
        try:
            article = build_article(first, self.rules, body_pages=pages, page_count=count, url=url, hits=hits)
            published = datetime.fromisoformat(article.datePublished) if article.datePublished else None
            if not self.window.admits(published, self.rules.timezone):
                raise OutOfWindow(f"published {article.datePublished}")
        except Rejected as rejection:
            self.drop(url, rejection)
            return
        finally:
            # Dropped pages count too: a redesign that turns articles into drops is drift.
            if hits:
                self.crawler.signals.send_catch_log(rules_checked, site=self.rules.name, hits=hits)
        self.records += 1
        yield article
        if self.limit is not None and self.records >= self.limit:
            raise CloseSpider("limit")

    # Parsing and accounting ------------------------------------------------------------------------------
    def _parse(self, response: Response) -> ParsedPage:
        page = parse_page(response.body, response.url, _content_type(response))
        page.fetched = _fetched(response)
        return page

    def _restore(self, stored: dict[str, Any]) -> ParsedPage:
        page = parse_page(stored["body"], stored["url"], stored["content_type"])
        page.fetched = stored.get("fetched")
        return page

    def drop(self, url: str, rejection: Rejected) -> None:
        """Account for a page that did not become a record (see :meth:`_drop_article`)."""
        self._drop_article(url, rejection.reason, rejection.detail, level=logging.WARNING)

    def _drop_article(self, url: str, reason: str, detail: str, *, level: int) -> None:
        # Logged with its URL here; counted by reason and written to the drop log by newsbot.crawl.drops.DropLog.
        self.logger.log(level, "dropped %s: %s", url, f"{reason}: {detail}" if detail else reason)
        self.crawler.signals.send_catch_log(page_dropped, url=url, reason=reason, detail=detail)

    def on_error(self, failure: Failure) -> None:
        """A request for an article or one of its pages 2..N failed for good (after retries): the article is
        dropped with the reason, under its own URL also when the failing request is a redirect or a page."""
        request = failure.request
        self.crawler.signals.send_catch_log(distributed.request_done, request=request)
        reason, detail = failure_reason(failure)
        self._drop_article(request.meta.get(ARTICLE, request.url), reason, detail,
                           level=logging.INFO if reason == "robots" else _failure_level(failure))

    # Scrapy drops some requests at scheduling without calling their errback: redirects off the site's
    # domains (its off-site filter) and URLs its duplicate filter has seen (a resumed JOBDIR crawl). The
    # article they belong to is accounted here.
    def _request_scheduled(self, request: scrapy.Request) -> None:
        article = request.meta.get(ARTICLE)
        if article and not request.dont_filter and self.allowed_domains and \
                not url_is_from_any_domain(request.url, self.allowed_domains):
            self._drop_article(article, "off-site", f"led to {request.url}", level=logging.ERROR)

    def _request_dropped(self, request: scrapy.Request) -> None:
        article = request.meta.get(ARTICLE)
        if not article:
            return
        if request.meta.get("redirect_urls"):
            # Redirected back to a URL already fetched: a loop the duplicate filter cut short.
            detail = " -> ".join([*request.meta["redirect_urls"], request.url])
            self._drop_article(article, "redirect-loop", detail, level=logging.ERROR)
        else:
            self.crawler.stats.inc_value("newsbot/skipped/already_requested")



def _failure_level(failure: Failure) -> int:
    # A host that cannot be reached has been reported once, as an ERROR, by HostFailureMiddleware; each of
    # its requests is still logged, as the history, but without repeating the alarm.
    return logging.INFO if failure.check(HostUnreachable) else logging.ERROR


def _stored(response: Response) -> dict[str, Any]:
    # Requests must stay picklable for JOBDIR, so pages travel as bytes, not parsed trees.
    return {"url": response.url, "body": response.body, "content_type": _content_type(response),
            "fetched": _fetched(response)}


def _fetched(response: Response) -> datetime | None:
    """When a stored page (a fixture, an archive record) was fetched, as its middleware says; None: now."""
    fetched = response.meta.get(FETCHED)
    return fetched if isinstance(fetched, datetime) else None


def _content_type(response: Response) -> str | None:
    return response.headers.get("Content-Type", b"").decode("latin-1") or None


def _flag(value: str | None, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ArgumentError(f"{name}={value!r}: use true or false")


def _positive_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ArgumentError(f"{name}={value!r} is not a whole number") from None
    if number < 1:
        raise ArgumentError(f"{name}={value!r} must be at least 1")
    return number


def _absolute_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    # A URL without a scheme cannot even become a request. Other schemes (file:, ftp:) are well-formed
    # URLs that the crawl refuses to fetch, and are dropped as unsafe-url like any such link.
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.hostname):
        raise ArgumentError(f"url={value!r} is not an absolute URL; give one like https://www.example.com/news/1")
    return value
