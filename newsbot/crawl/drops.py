"""Accounting for every article page that did not become a record.

A crawl that runs for days must say what it did not write and why. Every such page is counted in the
stats as ``newsbot/dropped/<reason>`` and written, with its URL and reason, to
``output/<site>/dropped-<date>.jsonl`` (setting ``NEWSBOT_DROP_LOG``; empty turns the file off).

Reasons are the members of :class:`newsbot.core.reasons.Reason` (the README's table lists them). They
arrive in three ways, all typed: the spider sends :data:`page_dropped` (a core rejection, or a request that
failed: :func:`failure_reason`), a pipeline raises :class:`Dropped`, and the scheduler's signals tell of a
request Scrapy dropped without calling its errback (:class:`DropLog` listens).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DropItem, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.url import url_is_from_any_domain
from twisted.python.failure import Failure

from newsbot.core.reasons import FETCH_REASONS, Reason

__all__ = [
    "ARTICLE",
    "FETCH_REASONS",
    "DropLog",
    "DropLogFormatter",
    "Dropped",
    "Refused",
    "drop_recorded",
    "failure_reason",
    "page_dropped",
]

logger = logging.getLogger(__name__)

# Sent by a spider for a page it gives up on: page_dropped(url=..., reason=<Reason>, detail=..., level=...),
# level being the logging level of its line (WARNING for a page judged, ERROR for one that could not be read).
page_dropped = object()
# Sent by DropLog for every drop it records, however it arrived: drop_recorded(url=..., reason=<Reason>,
# detail=...). A sink that keeps drops elsewhere (newsbot.crawl.postgres) listens to this one signal.
drop_recorded = object()

# Request meta key: the article (its first page's URL) a request fetches a page of; its drop is the article's.
ARTICLE = "newsbot_article"


class Dropped(DropItem):
    """A pipeline's refusal of a record, with its reason."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Refused(IgnoreRequest):
    """A request one of newsbot's downloader middlewares refuses, with the drop reason of its article."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Scrapy's own refusals are plain IgnoreRequests that only their message tells apart (a gzip bomb's names
# DOWNLOAD_MAXSIZE; robots.txt, the off-site filter and the redirect limit name themselves).
_SCRAPY_REFUSALS = (("MAXSIZE", Reason.TOO_LARGE), ("robots.txt", Reason.ROBOTS), ("offsite", Reason.OFF_SITE),
                    ("max redirections", Reason.REDIRECT_LOOP))


def failure_reason(failure: Failure) -> tuple[Reason, str]:
    """(reason, detail) for a request that failed for good (after retries)."""
    error = failure.value
    message = failure.getErrorMessage()
    if isinstance(error, Refused):
        return error.reason, message
    if isinstance(error, HttpError):
        return Reason.HTTP_ERROR, f"HTTP {error.response.status}"
    if isinstance(error, DownloadCancelledError):
        return Reason.TOO_LARGE, message
    if isinstance(error, ResponseDataLossError):
        return Reason.TRUNCATED, message
    if isinstance(error, IgnoreRequest):
        for marker, reason in _SCRAPY_REFUSALS:
            if marker in message:
                return reason, message
        return Reason.IGNORED, message
    return Reason.FETCH_FAILED, f"{type(error).__name__}: {message}"


class DropLog:
    """Logs, counts and writes every dropped page: spiders send ``page_dropped``, pipelines raise
    :class:`Dropped` (Scrapy logs those, with :class:`DropLogFormatter`).

    It also accounts for the requests Scrapy drops at scheduling without calling their errback: redirects
    off the spider's ``allowed_domains`` (its off-site filter) and URLs its duplicate filter has seen (a
    redirect loop, or a resumed JOBDIR crawl). The article such a request belongs to is a drop, or a skip.
    """

    def __init__(self, crawler: Crawler, template: str) -> None:
        self.crawler = crawler
        self.template = template
        self.file: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DropLog:
        log = cls(crawler, crawler.settings.get("NEWSBOT_DROP_LOG") or "")
        crawler.signals.connect(log.page_dropped, signal=page_dropped)
        crawler.signals.connect(log.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(log.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(log.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(log.spider_closed, signal=signals.spider_closed)
        return log

    def page_dropped(self, url: str, reason: Reason, detail: str = "", level: int = logging.WARNING,
                     spider: Spider | None = None) -> None:
        logger.log(level, "dropped %s: %s", url, f"{reason}: {detail}" if detail else reason)
        self.record(url, reason, detail)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        reason = exception.reason if isinstance(exception, Dropped) else Reason.DROPPED
        self.record(getattr(item, "url", ""), reason, str(exception))

    def request_scheduled(self, request: Request) -> None:
        article = request.meta.get(ARTICLE)
        domains = getattr(self.crawler.spider, "allowed_domains", None)
        if article and not request.dont_filter and domains and not url_is_from_any_domain(request.url, domains):
            self.page_dropped(article, Reason.OFF_SITE, f"led to {request.url}", logging.ERROR)

    def request_dropped(self, request: Request) -> None:
        article = request.meta.get(ARTICLE)
        if not article:
            return
        if request.meta.get("redirect_urls"):
            # Redirected back to a URL already fetched: a loop the duplicate filter cut short.
            loop = " -> ".join([*request.meta["redirect_urls"], request.url])
            self.page_dropped(article, Reason.REDIRECT_LOOP, loop, logging.ERROR)
        else:
            self.crawler.stats.inc_value("newsbot/skipped/already_requested")

    def record(self, url: str, reason: Reason, detail: str) -> None:
        self.crawler.signals.send_catch_log(drop_recorded, url=url, reason=reason, detail=detail)
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
