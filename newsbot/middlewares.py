"""Downloader middlewares: retries that back off instead of hammering a struggling server, one report per
host that cannot be reached, and a guard against URLs that are not public web pages."""

from __future__ import annotations

import ipaddress
import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import sleep
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.python.failure import Failure

from newsbot.core.reasons import Reason
from newsbot.crawl.drops import Refused

logger = logging.getLogger(__name__)

# The host itself cannot be reached: no DNS answer, connection refused, no route, connect timeout. (Scrapy's
# download handlers wrap some of Twisted's errors in their own.)
CONNECTION_ERRORS = (CannotResolveHostError, DownloadConnectionRefusedError, ConnectError, DNSLookupError)


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


class HostUnreachable(Refused):
    """A request whose host could not be reached at all (no DNS answer, connection refused, no route)."""

    def __init__(self, message: str) -> None:
        super().__init__(Reason.FETCH_FAILED, message)


def failure_level(failure: Failure) -> int:
    """The level to log a request's failure at: a host that cannot be reached has been reported once, as an
    ERROR, by :class:`HostFailureMiddleware`; each of its requests is still logged, as the history, but
    without repeating the alarm."""
    return logging.INFO if failure.check(HostUnreachable) else logging.ERROR


class HostFailureMiddleware:
    """Reports a host that cannot be reached once, not once per request, and a robots.txt that cannot be
    fetched in one line, not a traceback.

    It sits outside the retry middleware, so it sees a failure only once the retries are spent. A
    connection-level failure (DNS, refused, no route, connect timeout) becomes :class:`HostUnreachable`
    ("cannot reach www.example.com: DNS lookup failed: ..."): the first for each host is logged as an
    ERROR and kept in the stats (``newsbot/unreachable/<host>``, what ``scrapy crawl`` reports when
    nothing could be written); the request's errback still gets it. Scrapy's robots.txt middleware logs
    any failure of a robots.txt download with a traceback, unless it is an IgnoreRequest, after which it
    crawls the host as if it had no robots.txt; every robots.txt failure is handed to it as one.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostFailureMiddleware:
        return cls(crawler.stats)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):
            return
        parts = urlsplit(request.url)
        host = parts.hostname or parts.netloc
        if isinstance(exception, CONNECTION_ERRORS):
            why = str(exception).strip() or type(exception).__name__
            if host not in self.reported:
                self.reported.add(host)
                self.stats.set_value(f"newsbot/unreachable/{host}", why)
                logger.error("cannot reach %s: %s", host, why)
            raise HostUnreachable(f"cannot reach {host}: {why}") from exception
        if parts.path == "/robots.txt" and request.meta.get("dont_obey_robotstxt"):
            logger.warning("robots.txt of %s not fetched (%s: %s); its rules cannot be applied", host,
                           type(exception).__name__, exception)
            raise IgnoreRequest(f"robots.txt of {host} not fetched: {exception}") from exception


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
        trusted = request.meta.get(TRUSTED_URL) == request.url
        if trusted and parts.scheme in ("http", "https"):
            # The user's own URL may be a local one; it still has to be a web page (no file: or ftp:).
            self.trusted_origins.add((parts.scheme, parts.netloc))
            return
        if parts.path == "/robots.txt" and (parts.scheme, parts.netloc) in self.trusted_origins:
            return
        problem = unsafe_url_problem(request.url, self.allowed_hosts)
        if problem:
            raise Refused(Reason.UNSAFE_URL, f"unsafe URL {request.url}: {problem}")


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
