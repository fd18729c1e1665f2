"""Downloader middlewares: retries that back off instead of hammering a struggling server, and a guard
against URLs that are not public web pages."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import sleep


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, with exponential backoff and ``Retry-After`` between attempts.

    Attempt *n* waits ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds (with up to 25 % jitter, so many requests
    failing together do not return together), or what the server's ``Retry-After`` asks, capped at
    ``RETRY_BACKOFF_MAX``. The wait holds one of the crawl's concurrent slots, which slows the crawl
    down while a site struggles: the point of backing off.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await sleep(self.delay(result, response))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await sleep(self.delay(result, None))
        return result

    def delay(self, retry: Request, response: Response | None) -> float:
        attempt = retry.meta.get("retry_times", 1)
        wanted = _retry_after(response) if response is not None else None
        if wanted is None:
            wanted = self.base * 2 ** (attempt - 1) * (1 + random.random() / 4)
        return max(0.0, min(wanted, self.cap))


def _retry_after(response: Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime.now(UTC)).total_seconds()


# Request meta key: the one URL the user gave on the command line, which is fetched even if it is local.
TRUSTED_URL = "newsbot_trusted_url"


class SafeUrlMiddleware:
    """Refuses URLs a news crawl has no business fetching, wherever they came from (a listing, a pagination
    link, a redirect): schemes other than http(s), and hosts that are loopback, private, link-local or
    otherwise not public addresses. A hostile page cannot point the crawler at the machine it runs on or at
    its internal network. (Names that resolve to private addresses are left to the network's own rules.)
    """

    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self.allowed_hosts = allowed_hosts
        # Origins of URLs the user gave: their robots.txt is fetched too, as for any site.
        self.trusted_origins: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeUrlMiddleware:
        return cls(frozenset(h.lower() for h in crawler.settings.getlist("NEWSBOT_ALLOW_PRIVATE_HOSTS")))

    def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if request.meta.get(TRUSTED_URL) == request.url:
            self.trusted_origins.add((parts.scheme, parts.netloc))
            return
        if parts.path == "/robots.txt" and (parts.scheme, parts.netloc) in self.trusted_origins:
            return
        problem = unsafe_url_problem(request.url, self.allowed_hosts)
        if problem:
            raise IgnoreRequest(f"unsafe URL {request.url}: {problem}")


def unsafe_url_problem(url: str, allowed_hosts: frozenset[str] = frozenset()) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "no host"
    if host in allowed_hosts:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"{host} is not a public address"
    return None
