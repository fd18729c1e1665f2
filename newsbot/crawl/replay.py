"""Fixture cases: loading them, replaying them instead of the network, and recording new ones.

A case is a directory holding ``case.json`` (the start URL and a map of URL -> stored response), the
response files it names, and ``expected.json``. An article case (the default ``kind``) expects one record;
a listing case (``"kind": "listing"``) holds a site's sitemaps, feeds and index pages, and its
``expected.json`` names the articles discovery must find in them. The format is a contract other tools
rely on; see the README.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import sleep

from newsbot.core.reasons import Reason
from newsbot.crawl.drops import Refused

logger = logging.getLogger(__name__)

CASE_FILE = "case.json"
# Request meta key: when a stored response (a fixture, an archive record) was fetched, as a datetime; the
# spider dates the page by it (dateDownloaded, and the version of the site's rules), not by now.
FETCHED = "newsbot_fetched"
EXPECTED_FILE = "expected.json"
CASE_KINDS = ("article", "listing")


class CaseError(ValueError):
    """A fixture case that breaks the format: what is wrong, and in which file."""


@dataclass(frozen=True)
class StoredResponse:
    path: Path
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    directory: Path
    url: str
    responses: dict[str, StoredResponse]
    kind: str = "article"

    @property
    def site(self) -> str:
        """By convention ``fixtures/<site>/<case>/``: the parent folder names the site."""
        return self.directory.parent.name

    @classmethod
    def load(cls, directory: Path) -> Case:
        path = directory / CASE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CaseError(f"{path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise CaseError(f"{path}: needs a string 'url'")
        kind = data.get("kind", "article")
        if kind not in CASE_KINDS:
            raise CaseError(f"{path}: kind must be one of {', '.join(CASE_KINDS)}, not {kind!r}")
        raw_responses = data.get("responses")
        if not isinstance(raw_responses, dict) or not raw_responses:
            raise CaseError(f"{path}: needs a non-empty 'responses' object")
        root = directory.resolve()
        responses = {}
        for url, spec in raw_responses.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
                raise CaseError(f"{path}: response for {url} needs a 'file'")
            file = (directory / spec["file"]).resolve()
            # A case may only serve its own files: no ../ escapes out of the fixture tree.
            if not file.is_relative_to(root):
                raise CaseError(f"{path}: {spec['file']!r} is outside the case directory")
            if not file.is_file():
                raise CaseError(f"{path}: response file {spec['file']!r} does not exist")
            headers = spec.get("headers") or {}
            if not isinstance(headers, dict):
                raise CaseError(f"{path}: headers of {url} must be an object")
            headers = {str(k): str(v) for k, v in headers.items()}
            responses[url] = StoredResponse(file, int(spec.get("status", 200)), headers)
        return cls(directory=directory, url=data["url"], responses=responses, kind=kind)


def http_date(raw: str | bytes | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when it is missing or no date."""
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_cases(root: Path) -> list[Case]:
    """Every case at or under ``root`` (one case, a site folder or any tree), in path order."""
    root = Path(root)
    if not root.exists():
        raise CaseError(f"{root}: no such fixture directory")
    if (root / CASE_FILE).is_file():
        return [Case.load(root)]
    return [Case.load(p.parent) for p in sorted(root.rglob(CASE_FILE))]


def response_map(cases: list[Case]) -> dict[str, StoredResponse]:
    """URL -> stored response over all ``cases``; one URL answered differently by two cases is an error."""
    merged: dict[str, StoredResponse] = {}
    for case in cases:
        for url, stored in case.responses.items():
            known = merged.get(url)
            if known is not None and known != stored and known.path.read_bytes() != stored.path.read_bytes():
                raise CaseError(f"{url} is answered differently by {known.path} and {stored.path}")
            merged.setdefault(url, stored)
    return merged


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
        root = crawler.settings.get("REPLAY_DIR")
        if not root:
            raise NotConfigured
        return cls(crawler, Path(root))

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
        directory = crawler.settings.get("RECORD_DIR")
        if not directory:
            raise NotConfigured
        return cls(crawler, Path(directory))

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


def iter_case_dirs(root: Path) -> Iterator[Path]:
    yield from (case.directory for case in find_cases(root))
