"""Why a page did not become an article: :class:`Reason`, every drop reason of newsbot in one vocabulary,
and the typed rejections of the extraction core, each carrying one.

The reason code is what the crawl counts (``newsbot/dropped/<reason>``), logs and writes to the drop log,
so it is part of the public interface: codes are never renamed, only added. The README's table of reasons
has one row per member (a test holds them together).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class Reason(StrEnum):
    """Every reason an article page can be dropped for, from the extraction core to the drop log."""

    # The page was read and judged by the extraction core (a Rejected below).
    EMPTY = "empty"
    NOT_HTML = "not-html"
    UNPARSEABLE = "unparseable"
    NOT_ARTICLE = "not-article"
    TOO_SHORT = "too-short"
    PAYWALLED = "paywalled"
    OUT_OF_WINDOW = "out-of-window"
    EXTRACTION_ERROR = "extraction-error"
    # The record was refused by a pipeline.
    INVALID_RECORD = "invalid-record"
    DUPLICATE = "duplicate"
    DROPPED = "dropped"  # a pipeline of another project dropped it without a reason of its own
    # The page could not be fetched, or its request was refused.
    HTTP_ERROR = "http-error"
    FETCH_FAILED = "fetch-failed"
    TRUNCATED = "truncated"
    TOO_LARGE = "too-large"
    REDIRECT_LOOP = "redirect-loop"
    OFF_SITE = "off-site"
    ROBOTS = "robots"
    UNSAFE_URL = "unsafe-url"
    NOT_IN_FIXTURES = "not-in-fixtures"
    IGNORED = "ignored"
    # Reading a web archive: the page is missing from it, or its record is broken.
    NOT_IN_ARCHIVE = "not-in-archive"
    CORRUPT_GZIP = "corrupt-gzip"
    DIGEST_MISMATCH = "digest-mismatch"
    BAD_HTTP_HEADERS = "bad-http-headers"


# The reasons of pages that were never read: their request failed (after the retries) or was refused, or the
# archive a crawl reads from lacks the page or holds it broken. A crawl whose every page ended so wrote nothing
# because it could not, not because nothing was new.
FETCH_REASONS = frozenset({Reason.HTTP_ERROR, Reason.FETCH_FAILED, Reason.TRUNCATED, Reason.TOO_LARGE,
                           Reason.REDIRECT_LOOP, Reason.OFF_SITE, Reason.ROBOTS, Reason.UNSAFE_URL,
                           Reason.NOT_IN_FIXTURES, Reason.IGNORED, Reason.NOT_IN_ARCHIVE, Reason.CORRUPT_GZIP,
                           Reason.DIGEST_MISMATCH, Reason.BAD_HTTP_HEADERS})


class Rejected(Exception):
    """A page that cannot become an article; each subclass names its :class:`Reason`."""

    reason: ClassVar[Reason]

    def __init_subclass__(cls, reason: Reason | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if reason is not None:
            cls.reason = reason

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class EmptyPage(Rejected, reason=Reason.EMPTY):
    """The response has no content at all."""


class NotHtml(Rejected, reason=Reason.NOT_HTML):
    """The response is not an HTML document (PDF, image, JSON, binary...)."""


class Unparseable(Rejected, reason=Reason.UNPARSEABLE):
    """The bytes could not be parsed into a document."""


class NotAnArticle(Rejected, reason=Reason.NOT_ARTICLE):
    """An HTML page, but not an article page (index, tag, video, error page...)."""


class BodyTooShort(Rejected, reason=Reason.TOO_SHORT):
    """An article page whose extracted body is empty or too short to be a record."""


class OutOfWindow(Rejected, reason=Reason.OUT_OF_WINDOW):
    """An article published outside the crawl's ``since``/``until`` window (known only once fetched)."""


class Paywalled(Rejected, reason=Reason.PAYWALLED):
    """A paywalled article with no visible text at all: nothing to write until it is read with access."""


class ExtractionError(Rejected, reason=Reason.EXTRACTION_ERROR):
    """A bug, not the page's fault: extraction raised an unexpected exception. The page is dropped with the
    exception's type and message, so the crawl goes on and the article is accounted for."""


class MissingUrl(ValueError):
    """Not a rejection of a page but a caller's mistake: the core was given no URL for the page. It needs
    one: it resolves the page's links against it and it is the record's ``url``."""
