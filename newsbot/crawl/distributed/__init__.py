"""Many workers, one frontier: scrapy-redis underneath, switched on by one setting.

With ``-s REDIS_URL=redis://host:port/db`` (or the environment variable ``NEWSBOT_REDIS_URL``) every worker
of a site shares, in Redis:

- ``newsbot:<site>:requests``   the request queue (scrapy-redis priority queue);
- ``newsbot:<site>:dupefilter`` the request fingerprints already queued (scrapy-redis);
- ``newsbot:<site>:seen``       the seen-store: article keys already written by any worker;
- ``newsbot:<site>:seeds``      start points pushed by ``scrapy seed <site>`` (JSON requests);
- ``newsbot:<site>:inflight``   requests a worker has taken and not finished, by worker;
- ``newsbot:<site>:worker:<id>`` one heartbeat per live worker (expires when the worker dies);
- ``newsbot:<site>:items``      the records, when ``NEWSBOT_REDIS_ITEMS`` is on (as well as the files).

A worker that dies (killed, out of memory, machine lost) stops renewing its heartbeat; the requests it had
taken are put back in the queue by the next worker that looks, so none is lost. Without REDIS_URL nothing
here is used.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis
from itemadapter import is_item
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured, ScrapyDeprecationWarning
from scrapy.http import Request
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis.scheduler import Scheduler

from newsbot.crawl import CannotStart
from newsbot.crawl.addon import CrawlerAddon

logger = logging.getLogger(__name__)
# scrapy-redis 0.9.1 still calls two APIs Scrapy 2.19 deprecates; the warnings say nothing a user can act on.
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module=r"scrapy_redis\.")

PREFIX = "newsbot:%(spider)s"
SETTINGS = {
    "SCHEDULER": "newsbot.crawl.distributed.ReliableScheduler",
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    "SCHEDULER_PERSIST": True,
    "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
    "SCHEDULER_QUEUE_KEY": f"{PREFIX}:requests",
    "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:dupefilter",
    "DUPEFILTER_KEY": f"{PREFIX}:dupefilter",
}
# A request taken this long ago no longer counts against the worker's share (its end was somehow missed).
STALE_SECONDS = 600.0
# Request meta key: the in-flight ledger entry of a request taken from the shared queue.
INFLIGHT = "newsbot_inflight"
# Sent when a request's work is over (its callback's output consumed, or its errback run).
request_done = object()


def redis_url(settings: BaseSettings) -> str | None:
    return settings.get("REDIS_URL") or os.environ.get("NEWSBOT_REDIS_URL") or None


def key(site: str, name: str) -> str:
    return f"{PREFIX % {'spider': site}}:{name}"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def switch_on(settings: BaseSettings) -> str | None:
    """Point the crawl at Redis if a URL is configured (called while the settings are still open)."""
    url = redis_url(settings)
    if url:
        settings.set("REDIS_URL", url, priority="spider")
        for name, value in SETTINGS.items():
            settings.set(name, value, priority="spider")
    return url


class Distributed(CrawlerAddon):
    """The add-on that makes a crawl a worker when ``REDIS_URL`` (or ``NEWSBOT_REDIS_URL``) names a Redis:
    the shared scheduler and duplicate filter, checked to answer before anything starts."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = switch_on(settings)
        if not url:
            return
        server = connect(url)
        try:
            server.ping()
        except redis.RedisError as exc:
            name = getattr(self.crawler.spider, "name", "crawl")
            raise CannotStart(f"{name}: cannot reach Redis at {url}: {exc}") from None
        finally:
            server.close()


def errback_done(crawler: Crawler, request: Request) -> None:
    """Called by an errback that yields nothing once it has handled ``request``'s failure: Scrapy calls
    errbacks outside the spider middlewares, where :class:`RequestDoneMiddleware` cannot see their end.
    Without Redis nothing listens, and nothing is sent."""
    if redis_url(crawler.settings):
        crawler.signals.send_catch_log(request_done, request=request)


def errback_outputs(crawler: Crawler, request: Request, outputs: Iterable[Any]) -> Iterator[Any]:
    """An errback's ``outputs`` for ``request``, handed on as :class:`RequestDoneMiddleware` hands on a
    callback's: its requests in the shared queue, and its records written, before the request is done."""
    middleware = crawler.get_spider_middleware(RequestDoneMiddleware) if redis_url(crawler.settings) else None
    if middleware is None:
        yield from outputs
        return
    work = _Work(middleware, request)
    try:
        for output in outputs:
            if work.take(output):
                yield output
    finally:
        work.end()


class RedisSeenStore:
    """The seen-store (same interface as :class:`newsbot.crawl.seen.SeenStore`) as one Redis set per site."""

    def __init__(self, server: redis.Redis, site: str) -> None:
        self.server = server
        self.key = key(site, "seen")

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and bool(self.server.sismember(self.key, item))

    def add(self, keys: Any, url: str) -> None:
        # The SQLite store keeps each key's URL and date for a person reading it; the shared store is read by
        # workers only, which need the keys alone: the URL would only add its bytes to every entry in memory.
        keys = list(dict.fromkeys(keys))
        if keys:
            self.server.sadd(self.key, *keys)

    def close(self) -> None:
        self.server.close()


class ReliableScheduler(Scheduler):
    """scrapy-redis's shared scheduler, plus a ledger of the requests each worker has taken.

    A request popped from the queue is recorded under this worker in ``inflight`` and removed when its
    work is over. Each worker renews a heartbeat key; entries of a worker whose heartbeat has expired are
    pushed back into the queue (by whichever worker finds them first: removing the entry is the claim).
    """

    worker: str = ""
    heartbeat_seconds: float = 5.0
    max_taken: int = 16
    taken: dict[str, float]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReliableScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.heartbeat_seconds = crawler.settings.getfloat("NEWSBOT_HEARTBEAT_SECONDS")
        scheduler.max_taken = max(1, crawler.settings.getint("CONCURRENT_REQUESTS"))
        scheduler.taken = {}
        scheduler.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        crawler.signals.connect(scheduler.finished, signal=request_done)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.left_downloader, signal=signals.request_left_downloader)
        return scheduler

    def spider_idle(self) -> None:
        # An idle worker looks for work that died with another worker before it may stop.
        if self.recover():
            raise DontCloseSpider

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.inflight_key = key(spider.name, "inflight")
        self.workers_prefix = key(spider.name, "worker:")
        self._beat()
        self.beat = create_looping_call(self._beat)
        self.beat.start(max(self.heartbeat_seconds / 3, 0.2), now=False)
        self.recover()

    def _beat(self) -> None:
        ttl = max(int(self.heartbeat_seconds * 1000), 200)
        self.server.set(self.workers_prefix + self.worker, str(time.time()), px=ttl)

    def next_request(self) -> Request | None:
        # Scrapy asks for requests until its downloader reports being full, which it only learns a moment
        # later: left alone, the first worker would drain the shared queue into its own memory and the
        # others would find nothing. A worker holds at most CONCURRENT_REQUESTS not yet downloaded.
        now = time.monotonic()
        for entry in [e for e, since in self.taken.items() if now - since > STALE_SECONDS]:
            del self.taken[entry]
        if len(self.taken) >= self.max_taken:
            return None
        request = super().next_request()
        if request is not None:
            # A redirect carries its original's entry: the original's work continues under this request.
            self.finished(request)
            entry = f"{self.worker}|{uuid.uuid4().hex}"
            self.server.hset(self.inflight_key, entry, self.queue._encode_request(request))
            request.meta[INFLIGHT] = entry
            self.taken[entry] = now
        return request

    def left_downloader(self, request: Request) -> None:
        # The share counts requests in this worker's downloader only: counting until the record is written
        # would leave Scrapy, which asks for more when a download ends, nothing to take for a while.
        self.taken.pop(request.meta.get(INFLIGHT, ""), None)

    def finished(self, request: Request) -> None:
        entry = request.meta.get(INFLIGHT)
        if entry:
            self.server.hdel(self.inflight_key, entry)
            self.taken.pop(entry, None)

    def recover(self) -> int:
        """Put back the requests of workers whose heartbeat is gone; the number put back."""
        recovered = self._put_back(lambda worker: worker != self.worker and
                                   not self.server.exists(self.workers_prefix + worker))
        if recovered:
            logger.warning("put back %d requests taken by workers that died", recovered)
            self.stats.inc_value("newsbot/distributed/recovered", recovered)
        return recovered

    def _put_back(self, taken_by: Callable[[str], bool]) -> int:
        """Push the ledger's requests of the workers ``taken_by`` selects back into the queue; removing the
        entry is the claim, so two workers never put back the same request."""
        put_back = 0
        for entry, encoded in list(self.server.hscan_iter(self.inflight_key)):
            if taken_by(entry.decode().split("|", 1)[0]) and self.server.hdel(self.inflight_key, entry):
                request = self.queue._decode_request(encoded)
                request.meta.pop(INFLIGHT, None)
                self.queue.push(request)
                put_back += 1
        return put_back

    def close(self, reason: str) -> None:
        if getattr(self, "beat", None) is not None and self.beat.running:
            self.beat.stop()
        # Requests this worker took and will not finish go back to the others at once.
        self._put_back(lambda worker: worker == self.worker)
        self.server.delete(self.workers_prefix + self.worker)
        super().close(reason)


class _Work:
    """What one request's callback (or errback) handed on, and whether all of it is safe: the output itself
    and each record it yielded are pending until the output ends and the record is written."""

    def __init__(self, middleware: RequestDoneMiddleware, request: Request) -> None:
        self.middleware, self.request = middleware, request
        self.pending = 1  # the output, until end()

    def take(self, output: Any) -> bool:
        """Hand on one output: a request is scheduled now (False: it is not to be passed on); an item is
        passed on (True) and awaited."""
        if isinstance(output, Request):
            # Scheduled now, into the shared queue: Scrapy schedules a callback's requests from a queue it
            # fills from this output, so they would reach Redis only after the output is used up, and a
            # worker killed in between would have finished this request with its requests nowhere.
            self.middleware.crawler.engine.crawl(output)
            return False
        if is_item(output):
            self.pending += 1
            self.middleware.waiting[id(output)] = self
        return True

    def end(self) -> None:
        """The output ended, or one of its records was written (or dropped)."""
        self.pending -= 1
        if self.pending == 0:
            self.middleware.crawler.signals.send_catch_log(request_done, request=self.request)


class RequestDoneMiddleware:
    """Spider middleware, the outermost one: a request's work is over when the requests its callback
    yielded are in the shared queue and the records it produced have been through the pipelines and the
    feed.

    (Scrapy hands items to the pipelines, and requests to the scheduler, from a queue it fills from the
    callback's output, so the end of the output is not yet the end of the work: a worker killed in between
    would otherwise lose those records and requests.)
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.waiting: dict[int, _Work] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestDoneMiddleware:
        if not redis_url(crawler.settings):
            raise NotConfigured
        middleware = cls(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(middleware.item_finished, signal=signal)
        return middleware

    async def process_spider_output(self, response: Any, result: Any) -> Any:
        work = _Work(self, response.request)
        try:
            async for output in result:
                if work.take(output):
                    yield output
        finally:
            work.end()

    def item_finished(self, item: Any) -> None:
        work = self.waiting.pop(id(item), None)
        if work is not None:
            work.end()


class RedisItemsPipeline:
    """Also pushes every record, as one JSON string, onto ``newsbot:<site>:items`` (``NEWSBOT_REDIS_ITEMS``)."""

    def __init__(self, server: redis.Redis) -> None:
        self.server = server

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItemsPipeline:
        url = redis_url(crawler.settings)
        if not url or not crawler.settings.getbool("NEWSBOT_REDIS_ITEMS"):
            raise NotConfigured
        pipeline = cls(connect(url))
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        from itemadapter import ItemAdapter

        spider = self.crawler.spider
        self.server.rpush(key(spider.name, "items"), json.dumps(ItemAdapter(item).asdict(), ensure_ascii=False))
        return item


class SeedFeeder:
    """Extension: an idle worker takes start points pushed into Redis (``scrapy seed``) and turns them into
    requests with its spider's ``request_from_seed``; it exits after ``NEWSBOT_IDLE_EXIT`` idle seconds."""

    def __init__(self, crawler: Crawler, server: redis.Redis, idle_exit: float) -> None:
        self.crawler = crawler
        self.server = server
        self.idle_exit = idle_exit
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedFeeder:
        url = redis_url(crawler.settings)
        if not url:
            raise NotConfigured
        feeder = cls(crawler, connect(url), crawler.settings.getfloat("NEWSBOT_IDLE_EXIT"))
        crawler.signals.connect(feeder.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(feeder.busy, signal=signals.response_received)
        crawler.signals.connect(feeder.spider_closed, signal=signals.spider_closed)
        return feeder

    def busy(self) -> None:
        self.idle_since = None

    def spider_idle(self) -> None:
        spider = self.crawler.spider
        started = 0
        for _ in range(64):
            raw = self.server.lpop(key(spider.name, "seeds"))
            if raw is None:
                break
            request = spider.request_from_seed(json.loads(raw))
            if request is not None:
                self.crawler.engine.crawl(request)
                started += 1
        if started:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.idle_exit <= 0 or now - self.idle_since < self.idle_exit:
            raise DontCloseSpider
        logger.info("idle for %.0f s with an empty queue: this worker stops", now - self.idle_since)

    def spider_closed(self) -> None:
        self.server.close()


def push_seeds(server: redis.Redis, site: str, seeds: list[dict[str, Any]]) -> int:
    if seeds:
        server.rpush(key(site, "seeds"), *(json.dumps(seed) for seed in seeds))
    return len(seeds)


def reset(server: redis.Redis, site: str) -> int:
    """Delete everything newsbot keeps in Redis for ``site``: queue, filters, seen-store, seeds, items."""
    keys = list(server.scan_iter(match=key(site, "*")))
    return int(server.delete(*keys)) if keys else 0
