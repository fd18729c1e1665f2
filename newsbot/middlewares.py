"""Downloader middlewares: retries that back off instead of hammering a server that asked us to slow down."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
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
