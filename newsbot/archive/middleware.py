"""The archive in a Scrapy crawl: answering requests from WARC files, and recording a crawl as WARC.

``scrapy crawl <site> -a warc=PATH[,PATH...]`` sets ``WARC_PATHS``: :class:`WarcReplayMiddleware` answers
every request from the archive, as :class:`~newsbot.crawl.replay.FixtureReplayMiddleware` answers from fixture
cases, and the spider starts from the archive's article URLs of its site. ``-a record=PATH.warc.gz`` sets
``WARC_RECORD``: :class:`WarcRecorderMiddleware` writes each request and the response it got, as they went
over the wire (content coding kept), so that ``-a warc=`` replays the crawl byte for byte.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from newsbot import __version__
from newsbot.archive.extraction import NOT_IN_ARCHIVE
from newsbot.archive.index import ArchiveIndex, open_index
from newsbot.archive.reader import ArchiveError
from newsbot.archive.writer import WarcFileWriter
from newsbot.core.reasons import Reason
from newsbot.crawl import setting_path
from newsbot.crawl.drops import Refused
from newsbot.crawl.replay import FETCHED

logger = logging.getLogger(__name__)


class ArchiveMiss(Refused):
    """A request the archive cannot answer, with its drop reason."""


class WarcReplayMiddleware:
    """Answers every request from the WARC files of ``WARC_PATHS``; nothing reaches the network.

    A URL the archive lacks fails as ``not-in-archive`` (counted ``warc/unanswered``), a broken record
    with its reason (``truncated``, ``digest-mismatch``...); a missing robots.txt is answered 404.
    """

    def __init__(self, crawler: Crawler, index: ArchiveIndex) -> None:
        self.crawler = crawler
        self.index = index
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        crawler.stats.set_value("warc/urls", len(index))
        for reason in index.unreadable.values():
            crawler.stats.inc_value(f"warc/files_unreadable/{reason}")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcReplayMiddleware:
        paths = crawler.settings.getlist("WARC_PATHS")
        if not paths:
            raise NotConfigured
        return cls(crawler, open_index(tuple(Path(p) for p in paths)))

    def process_request(self, request: Request) -> Response:
        stats = self.crawler.stats
        try:
            archived = self.index.get(request.url)
        except ArchiveError as problem:
            stats.inc_value(f"warc/bad/{problem.reason}")
            # Looking a URL up reads one record: only a record's problems (drop reasons) can arise here.
            reason = problem.reason if isinstance(problem.reason, Reason) else Reason.FETCH_FAILED
            raise ArchiveMiss(reason, f"warc: {request.url}: {problem}") from None
        if archived is None:
            if urlsplit(request.url).path == "/robots.txt":
                stats.inc_value("warc/robots_default")
                return Response(url=request.url, status=404, body=b"", request=request)
            stats.inc_value("warc/unanswered")
            raise ArchiveMiss(NOT_IN_ARCHIVE, f"warc: {request.url} is not in the archive")
        stats.inc_value("warc/answered")
        maxsize = request.meta.get("download_maxsize", self.maxsize)
        if maxsize and len(archived.body) > maxsize:
            raise DownloadCancelledError(f"Received {len(archived.body)} bytes which is larger than download max "
                                         f"size ({maxsize}) in request {request}.")
        headers = Headers(list(archived.headers))
        cls = responsetypes.from_args(headers=headers, url=request.url)
        if cls is Response:
            cls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
        # Dated by its WARC record, as `scrapy warc` dates it: dateDownloaded and the rules' version follow.
        request.meta[FETCHED] = archived.date
        return cls(url=request.url, status=archived.status, headers=headers, body=archived.body, request=request)


class WarcRecorderMiddleware:
    """Writes every request and its response to the WARC file ``WARC_RECORD`` (appended to).

    It sits next to the download handler (priority 990), so it sees the response before any other
    middleware: redirects and error answers are recorded too, and the body keeps its content coding,
    as the WARC standard wants. The transfer coding is gone (the downloader removed it), so the header
    naming it is left out.
    """

    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path
        self.writer: WarcFileWriter | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        return cls(crawler, setting_path(crawler, "WARC_RECORD"))

    def spider_opened(self) -> None:
        self.writer = WarcFileWriter(self.path)
        spider = self.crawler.spider
        self.writer.warcinfo({"software": f"newsbot/{__version__} (Scrapy)", "format": "WARC File Format 1.1",
                              "isPartOf": spider.name if spider else "newsbot"})

    def spider_closed(self) -> None:
        if self.writer is not None:
            self.writer.close()
            logger.info("record: wrote %s (%d responses)", self.path,
                        self.crawler.stats.get_value("warc/recorded", 0))

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is None:
            return response
        now = datetime.now(UTC)
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = [(b"Host", parts.netloc.encode("latin-1")), *_pairs(request.headers)]
        request_id = self.writer.request(request.url, request.method, target, request_headers, request.body or b"",
                                         date=now)
        headers = [(k, v) for k, v in _pairs(response.headers) if k.lower() != b"transfer-encoding"]
        if not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"Content-Length", str(len(response.body)).encode()))
        ip = response.ip_address
        self.writer.response(request.url, response.status, headers, response.body, date=now,
                             protocol=_protocol(response), ip_address=str(ip) if ip else None,
                             concurrent_to=request_id)
        self.crawler.stats.inc_value("warc/recorded")
        return response


def _pairs(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, values in headers.items() for value in values]


def _protocol(response: Response) -> str:
    protocol = (response.protocol or "HTTP/1.1").upper()
    # Scrapy names HTTP/2 "h2"; a WARC status line wants the HTTP-version form.
    return "HTTP/2" if protocol in ("H2", "HTTP/2.0") else protocol

