"""Small crawler extensions and hooks wired in settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from newsbot.language import warm_up


class LanguageWarmUp:
    """Loads langdetect's profiles when the spider opens, so the first record does not pay for it."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguageWarmUp:
        ext = cls()
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self) -> None:
        warm_up()


def feed_uri_params(params: dict[str, Any], spider: Spider) -> dict[str, Any]:
    """Adds ``%(date)s`` (UTC day of the crawl's start) to feed URIs: one file per site and day."""
    return {**params, "date": datetime.now(UTC).strftime("%Y-%m-%d")}
