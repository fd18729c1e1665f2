"""Fixture cases in place of the network: the downloader middleware that answers requests from them, and the
one that records a live crawl as a new case. The case format itself is :mod:`newsbot.fixtures.case`."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import sleep

from newsbot.core.reasons import Reason
from newsbot.crawl import setting_path
from newsbot.crawl.drops import Refused
from newsbot.fixtures.case import CASE_FILE, find_cases, response_map

logger = logging.getLogger(__name__)

# Request meta key: when a stored response (a fixture, an archive record) was fetched, as a datetime; the
# spider dates the page by it (dateDownloaded, and the version of the site's rules), not by now.
FETCHED = "newsbot_fetched"


def http_date(raw: str | bytes | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when it is missing or no date."""
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FixtureReplayMiddleware:
    """Answers every request from the fixture cases of ``REPLAY_DIR``; nothing reaches the network.

    A request no case answers fails (its errback logs it with its URL), is counted as ``replay/unanswered``,
    and makes the crawl command exit non-zero. A missing robots.txt is answered 404 (allow all), as a site
    without one would.
    """

    def __init__(self, crawler: Crawler, root: Path) -> None:
        self.crawler = crawler
        self.responses = response_map(find_cases(root))
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.latency = crawler.settings.getfloat("NEWSBOT_REPLAY_LATENCY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FixtureReplayMiddleware:
        return cls(crawler, setting_path(crawler, "REPLAY_DIR"))

    async def process_request(self, request: Request) -> Response:
        if self.latency:
            # Replayed answers come back at once and skip the downloader's per-site queue (this middleware
            # answers before it); a latency makes a replayed crawl last like a live one, e.g. to test
            # several workers sharing one queue.
            await sleep(self.latency)
        stats = self.crawler.stats
        stored = self.responses.get(request.url)
        if stored is None:
            if urlsplit(request.url).path == "/robots.txt":
                stats.inc_value("replay/robots_default")
                return Response(url=request.url, status=404, body=b"", request=request)
            stats.inc_value("replay/unanswered")
            # Not logged here: the request's errback logs it once, with the article or listing it was for.
            raise Refused(Reason.NOT_IN_FIXTURES, f"replay: no fixture answers {request.url}")
        stats.inc_value("replay/answered")
        # The download size limit holds for replayed pages too, so a stored 20 MB page ends as it would live.
        maxsize = request.meta.get("download_maxsize", self.maxsize)
        size = stored.path.stat().st_size
        if maxsize and size > maxsize:
            raise DownloadCancelledError(f"Received {size} bytes which is larger than download max size "
                                         f"({maxsize}) in request {request}.")
        body = stored.path.read_bytes()
        headers = stored.headers or {"Content-Type": "text/html; charset=UTF-8"}
        # The stored Content-Type decides the class; sniffing the body is only for responses stored without one.
        cls = responsetypes.from_args(headers=Headers(headers), url=request.url)
        if cls is Response:
            cls = responsetypes.from_args(headers=Headers(headers), url=request.url, body=body)
        fetched = http_date(headers.get("Date"))
        if fetched is not None:
            request.meta[FETCHED] = fetched
        return cls(url=request.url, status=stored.status, headers=headers, body=body, request=request)


class FixtureRecorderMiddleware:
    """Records every response of a live crawl into a case directory (``RECORD_DIR``): ``case.json`` plus one
    file per response. The first article request's URL becomes the case's start URL."""

    def __init__(self, crawler: Crawler, directory: Path) -> None:
        self.directory = directory
        self.start_url: str | None = None
        self.responses: dict[str, dict[str, Any]] = {}
        crawler.signals.connect(self.write_case, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FixtureRecorderMiddleware:
        return cls(crawler, setting_path(crawler, "RECORD_DIR"))

    def process_response(self, request: Request, response: Response) -> Response:
        if urlsplit(request.url).path == "/robots.txt":
            return response
        self.start_url = self.start_url or request.url
        name = f"page-{len(self.responses) + 1}-{hashlib.sha1(request.url.encode()).hexdigest()[:8]}.html"
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_bytes(response.body)
        content_type = response.headers.get("Content-Type", b"text/html").decode("latin-1")
        self.responses[request.url] = {"file": name, "status": response.status,
                                       "headers": {"Content-Type": content_type}}
        return response

    def write_case(self) -> None:
        if not self.start_url:
            logger.error("record: nothing was fetched; no case written to %s", self.directory)
            return
        case = {"url": self.start_url, "responses": self.responses}
        (self.directory / CASE_FILE).write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        logger.info("record: wrote %s with %d responses", self.directory / CASE_FILE, len(self.responses))
