"""Accounting for every article page that did not become a record.

A crawl that runs for days must say what it did not write and why. Every such page is counted in the
stats as ``newsbot/dropped/<reason>`` and written, with its URL and reason, to
``output/<site>/dropped-<date>.jsonl`` (setting ``NEWSBOT_DROP_LOG``; empty turns the file off).

Reasons are stable codes (see the README): the extraction rejections of :mod:`newsbot.core.reasons`
(``empty``, ``not-html``, ``unparseable``, ``not-article``, ``too-short``, ``paywalled``, ``out-of-window``),
the pipelines' ``invalid-record`` and ``duplicate``, and the download failures below.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DropItem, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsbot.middlewares import HostUnreachable

logger = logging.getLogger(__name__)

# Sent by a spider for a page it gives up on: page_dropped(url=..., reason=..., detail=...).
page_dropped = object()


class Dropped(DropItem):
    """A pipeline's refusal of a record, with a stable reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# The reasons of pages that were never read: their request failed (after the retries) or was refused. A crawl
# whose every page ended so wrote nothing because it could not, not because nothing was new.
FETCH_REASONS = frozenset({"http-error", "fetch-failed", "truncated", "too-large", "redirect-loop", "off-site",
                           "robots", "unsafe-url", "not-in-fixtures", "ignored"})


def failure_reason(failure: Failure) -> tuple[str, str]:
    """(reason, detail) for a request that failed for good (after retries)."""
    error = failure.value
    message = failure.getErrorMessage()
    if isinstance(error, IgnoreRequest) and isinstance(getattr(error, "reason", None), str):
        # A refusal that names its own drop reason (a page a WARC archive lacks: newsbot.archive).
        return error.reason, message
    if isinstance(error, HttpError):
        return "http-error", f"HTTP {error.response.status}"
    if isinstance(error, DownloadCancelledError) or (isinstance(error, IgnoreRequest) and "MAXSIZE" in message):
        return "too-large", message
    if isinstance(error, ResponseDataLossError):
        return "truncated", message
    if isinstance(error, HostUnreachable):
        return "fetch-failed", message
    if isinstance(error, IgnoreRequest):
        for marker, reason in (("robots.txt", "robots"), ("offsite", "off-site"), ("max redirections", "redirect-loop"),
                               ("unsafe URL", "unsafe-url"), ("replay:", "not-in-fixtures")):
            if marker in message:
                return reason, message
        return "ignored", message
    return "fetch-failed", f"{type(error).__name__}: {message}"


class DropLog:
    """Counts and writes every dropped page: spiders send ``page_dropped``, pipelines raise :class:`Dropped`."""

    def __init__(self, crawler: Crawler, template: str) -> None:
        self.crawler = crawler
        self.template = template
        self.file: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DropLog:
        log = cls(crawler, crawler.settings.get("NEWSBOT_DROP_LOG") or "")
        crawler.signals.connect(log.page_dropped, signal=page_dropped)
        crawler.signals.connect(log.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(log.spider_closed, signal=signals.spider_closed)
        return log

    def page_dropped(self, url: str, reason: str, detail: str = "", spider: Spider | None = None) -> None:
        self.record(url, reason, detail)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        reason = getattr(exception, "reason", "dropped")
        self.record(getattr(item, "url", ""), reason, str(exception))

    def record(self, url: str, reason: str, detail: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("newsbot/dropped")
        stats.inc_value(f"newsbot/dropped/{reason}")
        if not self.template:
            return
        if self.file is None:
            spider = self.crawler.spider
            path = Path(self.template % {"name": spider.name if spider else "crawl",
                                         "date": datetime.now(UTC).strftime("%Y-%m-%d")})
            path.parent.mkdir(parents=True, exist_ok=True)
            # Unbuffered, as the feed: what is counted is on disk even if the crawl is killed.
            self.file = path.open("ab", buffering=0)
        line = {"url": url, "reason": reason, "detail": detail[:500],
                "time": datetime.now(UTC).isoformat(timespec="seconds")}
        self.file.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))

    def spider_closed(self) -> None:
        if self.file is not None:
            self.file.close()


class DropLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Response | None,
                spider: Spider | None = None) -> LogFormatterResult:
        return {"level": logging.WARNING, "msg": "dropped record %(url)s: %(exception)s",
                "args": {"url": getattr(item, "url", "?"), "exception": exception}}
