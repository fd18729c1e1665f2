"""An article from archived responses: the spider's steps, with the archive as the network.

:func:`article_record` does what :class:`~newsbot.spiders.base.ArticleSpider` does with an article URL
(fetch page 1, parse it, follow its pagination: the one-request ``all pages`` view, or page by page when
that fails, then :func:`~newsbot.core.extract.build_article`), and :class:`Fetcher` answers URLs as Scrapy's
downloader middlewares would (redirects within the site's domains, non-2xx answers as errors, content
coding undone, the download size limit kept). So an archived page gives the record a replayed crawl gives,
and a page that would be dropped is dropped with the crawl's reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.url import url_is_from_any_domain

from newsbot.archive.reader import ArchiveError, HttpResponse
from newsbot.core.extract import build_article, parse_page
from newsbot.core.page import ParsedPage
from newsbot.core.reasons import Reason, Rejected
from newsbot.items import Article
from newsbot.sites.base import SiteRules

# What a page the archive does not hold is dropped as (in a pass and in `scrapy crawl -a warc=`).
NOT_IN_ARCHIVE = Reason.NOT_IN_ARCHIVE
# Scrapy's RedirectMiddleware: the codes it follows and how many times (REDIRECT_MAX_TIMES).
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
REDIRECT_MAX_TIMES = 20


class FetchFailed(Exception):
    """A URL the archive cannot answer as a usable page: the crawl's drop reason and a detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class ArticleDropped(Exception):
    """An article that does not become a record, under the URL the spider would drop it with."""

    url: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """What a spider callback reads of a response: its final URL, Content-Type and decoded body."""

    url: str
    content_type: str | None
    body: bytes
    date: datetime


# Looks a URL up in the archive: its response, None when the archive has no record of it, or ArchiveError.
Lookup = Callable[[str], HttpResponse | None]


class Fetcher:
    def __init__(self, lookup: Lookup, domains: Sequence[str], max_size: int) -> None:
        self.lookup = lookup
        self.domains = list(domains)
        self.max_size = max_size

    def fetch(self, url: str) -> FetchedPage:
        chain = [url]
        while True:
            try:
                response = self.lookup(chain[-1])
            except ArchiveError as problem:
                raise FetchFailed(problem.reason, problem.detail or chain[-1]) from None
            if response is None:
                raise FetchFailed(NOT_IN_ARCHIVE, f"{chain[-1]} is not in the archive")
            location = response.header(b"Location")
            if response.status in REDIRECT_CODES and location:
                chain.append(self._redirect_target(chain, location))
                continue
            if not 200 <= response.status < 300:
                raise FetchFailed(Reason.HTTP_ERROR, f"HTTP {response.status}")
            return FetchedPage(chain[-1], response.content_type, self._decoded(response), response.date)

    def _redirect_target(self, chain: list[str], location: bytes) -> str:
        target = urljoin(chain[-1], location.decode("latin-1").strip())
        if target in chain:
            # Scrapy's duplicate filter stops a redirect back to a URL already fetched.
            raise FetchFailed(Reason.REDIRECT_LOOP, " -> ".join([*chain, target]))
        if len(chain) > REDIRECT_MAX_TIMES:
            raise FetchFailed(Reason.REDIRECT_LOOP, f"max redirections reached at {target}")
        if self.domains and not url_is_from_any_domain(target, self.domains):
            raise FetchFailed(Reason.OFF_SITE, f"led to {target}")
        return target

    def _decoded(self, response: HttpResponse) -> bytes:
        if self.max_size and len(response.body) > self.max_size:
            raise FetchFailed(Reason.TOO_LARGE, f"{len(response.body)} bytes, over DOWNLOAD_MAXSIZE ({self.max_size})")
        encodings = [value for name, value in response.headers if name.lower() == b"content-encoding"]
        if not encodings:
            return response.body
        # Scrapy's own decoders, as HttpCompressionMiddleware applies them: the same bytes as a crawl gets.
        to_decode, _ = HttpCompressionMiddleware._split_encodings(encodings)
        body = response.body
        try:
            for encoding in to_decode:
                body = HttpCompressionMiddleware._decode(body, encoding, self.max_size)
        except _DecompressionMaxSizeExceeded as exc:
            raise FetchFailed(Reason.TOO_LARGE, f"over DOWNLOAD_MAXSIZE once decompressed: {exc}") from None
        except Exception as exc:  # zlib, brotli and zstd each raise their own error type
            raise FetchFailed(Reason.FETCH_FAILED, f"{type(exc).__name__}: {exc}") from None
        return body


def article_record(url: str, rules: SiteRules, fetcher: Fetcher, counts: Counter[str] | None = None) -> Article:
    """The record of the article at ``url``, or ArticleDropped (see the module docstring).

    Exceptions the lookup raises other than ArchiveError (a page the caller cannot look up yet) pass through.
    """
    try:
        page = fetcher.fetch(url)
    except FetchFailed as failed:
        raise ArticleDropped(url, failed.reason, failed.detail) from None
    try:
        first = _parse(page)
        plan = rules.pagination(first)
    except Rejected as rejection:
        raise ArticleDropped(page.url, rejection.reason, rejection.detail) from None
    if plan is None:
        return _build(rules, first, [first], 1, first.url, page.date)
    if plan.all_pages_url:
        try:
            whole = fetcher.fetch(plan.all_pages_url)
        except FetchFailed:
            # As the spider: the one-request view is missing or an error, so the pages are read one by one.
            if counts is not None:
                counts[f"{rules.name}/pagination/all_pages_fallback"] += 1
        else:
            try:
                whole_page = _parse(whole)
            except Rejected as rejection:
                raise ArticleDropped(whole.url, rejection.reason, rejection.detail) from None
            return _build(rules, first, [whole_page], plan.count, page.url, page.date)
    rest = []
    for page_url in plan.page_urls:
        try:
            rest.append(fetcher.fetch(page_url))
        except FetchFailed as failed:
            raise ArticleDropped(page.url, failed.reason, failed.detail) from None
    try:
        pages = [first, *(_parse(p) for p in rest)]
    except Rejected as rejection:
        raise ArticleDropped(page.url, rejection.reason, rejection.detail) from None
    return _build(rules, first, pages, plan.count, page.url, page.date)


def _parse(page: FetchedPage) -> ParsedPage:
    return parse_page(page.body, page.url, page.content_type)


def _build(rules: SiteRules, first: ParsedPage, pages: list[ParsedPage], count: int, url: str,
           downloaded: datetime) -> Article:
    try:
        return build_article(first, rules, body_pages=pages, page_count=count, url=url, downloaded=downloaded)
    except Rejected as rejection:
        raise ArticleDropped(url, rejection.reason, rejection.detail) from None
