"""The bench's memory probe: an extension its crawls turn on (see :mod:`tools.bench_settings`), never a
user's crawl."""

from __future__ import annotations

import json
import time
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsbot.crawl.extensions import rss_mb

# The settings module of the bench's crawls: the project's, with this probe on.
BENCH_SETTINGS = "tools.bench_settings"


class MemoryProbe:
    """For benchmarks: resident memory every 100 responses and the crawl's duration, written as JSON to the
    file ``NEWSBOT_MEMORY_PROBE`` names when the spider closes (off when it is empty)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pages = 0
        self.rss: dict[str, float] = {}
        self.peak = 0.0
        self.started = 0.0
        self.cpu_started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryProbe:
        path = crawler.settings.get("NEWSBOT_MEMORY_PROBE")
        if not path:
            raise NotConfigured
        probe = cls(Path(path))
        crawler.signals.connect(probe.opened, signal=signals.spider_opened)
        crawler.signals.connect(probe.response, signal=signals.response_received)
        crawler.signals.connect(probe.closed, signal=signals.spider_closed)
        return probe

    def opened(self) -> None:
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()

    def response(self) -> None:
        self.pages += 1
        if self.pages % 100 == 0:
            rss = rss_mb()
            self.peak = max(self.peak, rss)
            self.rss[str(self.pages)] = rss

    def closed(self) -> None:
        self.peak = max(self.peak, rss_mb())
        self.path.write_text(json.dumps({"pages": self.pages, "seconds": time.perf_counter() - self.started,
                                         "cpu_seconds": time.process_time() - self.cpu_started,
                                         "peak_rss_mb": self.peak, "rss_mb_at": self.rss}), encoding="utf-8")
