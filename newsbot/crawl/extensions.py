"""Small crawler extensions and hooks wired in settings."""

from __future__ import annotations

import gc
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.log import LogCounterHandler, get_scrapy_root_handler

from newsbot.core.language import warm_up
from newsbot.crawl import setting_path

logger = logging.getLogger(__name__)


class OnSpiderOpened:
    """An extension whose work is done once, in :meth:`spider_opened`."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OnSpiderOpened:
        ext = cls()
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self) -> None:
        raise NotImplementedError


class WarmUp(OnSpiderOpened):
    """Prepares the process for a long crawl when the spider opens.

    - Loads langdetect's profiles, so the first record does not pay for them.
    - Takes everything loaded so far out of the garbage collector's sight (``gc.freeze()``): the profiles
      are a few hundred thousand long-lived objects that every full collection would walk again, which
      cost more per page than the detection itself.
    - Collects less often (``gc.set_threshold(10_000, 20, 20)`` instead of 700, 10, 10): a crawl allocates
      many short-lived objects per page while holding its queue of requests, and each older-generation
      collection walks that queue. Measured on 2,000 faktual pages (``gc.callbacks``, start-up included),
      time in the collector fell from 0.84 s to 0.56 s per crawl; peak memory did not change.
    """

    GC_THRESHOLDS = (10_000, 20, 20)

    def spider_opened(self) -> None:
        warm_up()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*self.GC_THRESHOLDS)


class LogLevelFloor(OnSpiderOpened):
    """Makes ``LOG_LEVEL`` the level of the loggers too, not only of Scrapy's handler.

    Scrapy sets the root logger to NOTSET (and its own ``scrapy`` logger to DEBUG) and filters at its handler,
    so each call below ``LOG_LEVEL`` still builds a record and looks up its caller before the handler drops
    it: trafilatura makes three such debug calls per article and Scrapy two per page ("Crawled", "Scraped
    from"). With the loggers at ``LOG_LEVEL`` those calls return at once; what is logged is the same.
    Done when the spider opens, since each crawler resets the root logger when it starts. A process that
    installs its own logging (``LOG_INSTALL_ROOT_HANDLER = False``) is left alone.
    """

    def spider_opened(self) -> None:
        handler = get_scrapy_root_handler()
        if handler is None or handler.level <= logging.DEBUG:
            return
        logging.root.setLevel(handler.level)
        scrapy_logger = logging.getLogger("scrapy")
        if scrapy_logger.level < handler.level:
            scrapy_logger.setLevel(handler.level)


class LogCount:
    """Counts the crawl's log lines by level (``log_count/<LEVEL>``), from the moment its extensions are built
    to the stats dump: the counts match the log.

    Scrapy's own LogCount (replaced in settings) counts between ``spider_opened`` and ``spider_closed`` only,
    which leaves out every line logged while the crawl starts (enabled components, overridden settings, an
    extension's warning, "Spider opened") and closes (the last progress line, the feed stored): a replay
    logged a screen of INFO lines under ``log_count/INFO: 1``. Only the lines logged before the crawler
    builds its extensions (Scrapy's version banner, the add-ons) and after the dump are not counted.
    LogLevelFloor is untouched: records below ``LOG_LEVEL`` are still never made, so not counted either.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.handler: LogCounterHandler | None = LogCounterHandler(crawler, level=crawler.settings.get("LOG_LEVEL"))
        logging.root.addHandler(self.handler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LogCount:
        ext = cls(crawler)
        # The stats are dumped while the spider closes; the engine stops after that.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        if self.handler is not None:
            logging.root.removeHandler(self.handler)
            self.handler = None


def feed_uri_params(params: dict[str, Any], spider: Spider) -> dict[str, Any]:
    """Adds ``%(date)s`` (UTC day of the crawl's start) to feed URIs: one file per site and day."""
    return {**params, "date": datetime.now(UTC).strftime("%Y-%m-%d")}


class Progress:
    """Periodic progress lines a person can follow on a long crawl, replacing Scrapy's LogStats:

    ``progress: 1200 pages (58/min), 1100 records (52/min), dropped 31 (too-short 20, http-error 11), ...``

    The interval is ``NEWSBOT_PROGRESS_INTERVAL`` seconds (0 turns it off); a final line is logged at close.
    """

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: Any = None
        self.last_pages = self.last_records = 0
        self.last_time = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("NEWSBOT_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.last_time = time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.log(final=reason)

    def log(self, final: str | None = None) -> None:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        records = stats.get_value("item_scraped_count", 0)
        now = time.monotonic()
        minutes = max(now - self.last_time, 1e-9) / 60
        page_rate, record_rate = (pages - self.last_pages) / minutes, (records - self.last_records) / minutes
        self.last_pages, self.last_records, self.last_time = pages, records, now
        dropped = {key.rsplit("/", 1)[1]: value for key, value in stats.get_stats().items()
                   if key.startswith("newsbot/dropped/")}
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items(), key=lambda kv: -kv[1]))
        parts = [
            f"{pages} pages ({page_rate:.0f}/min)",
            f"{records} records ({record_rate:.0f}/min)",
            f"dropped {sum(dropped.values())}" + (f" ({reasons})" if reasons else ""),
            f"already seen {stats.get_value('newsbot/discovery/seen', 0) + stats.get_value('newsbot/skipped/seen', 0)}",
        ]
        drift = stats.get_value("newsbot/drift")
        if drift:
            parts.append(f"layout drift: {drift}")
        prefix = f"finished ({final})" if final else "progress"
        logger.info("%s: %s", prefix, ", ".join(parts))


class JobdirGuard:
    """Makes ``JOBDIR`` survive a crawl that was killed rather than paused.

    Scrapy writes its request queue state only on a clean shutdown; after a ``kill -9``, an out-of-memory
    kill or a power cut the queue files are half-written and the next run crashes on them while
    scheduling, silently losing every request after the crash. A marker file present while a crawl runs
    tells the next run the previous one died: its queue is moved aside (kept for inspection) and the crawl
    starts from the listings again, where the seen-store skips everything already written.
    """

    MARKER = "newsbot.running"

    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobdirGuard:
        guard = cls(setting_path(crawler, "JOBDIR"))
        guard.recover()
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def recover(self) -> None:
        marker = self.jobdir / self.MARKER
        if marker.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            for name in ("requests.queue", "requests.seen"):
                path = self.jobdir / name
                if path.exists():
                    path.rename(self.jobdir / f"{name}.unclean-{stamp}")
            logger.warning("JOBDIR %s: the previous crawl did not shut down cleanly; its request queue was "
                           "moved aside (*.unclean-%s) and discovery starts again from the listings",
                           self.jobdir, stamp)
        self.jobdir.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def spider_closed(self) -> None:
        # The scheduler has saved its queue state by now (it closes before spider_closed is sent).
        (self.jobdir / self.MARKER).unlink(missing_ok=True)


def rss_mb() -> float:
    """This process's resident memory in MiB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
