"""Why a page did not become an article: typed rejections, each with a stable reason code.

The reason code is what the crawl counts (``newsbot/dropped/<reason>``) and logs, so it is part of the
public interface: codes are never renamed, only added.
"""

from __future__ import annotations


class Rejected(Exception):
    """A page that cannot become an article. ``reason`` is a stable machine-readable code."""

    reason = "rejected"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class EmptyPage(Rejected):
    """The response has no content at all."""

    reason = "empty"


class NotHtml(Rejected):
    """The response is not an HTML document (PDF, image, JSON, binary...)."""

    reason = "not-html"


class Unparseable(Rejected):
    """The bytes could not be parsed into a document."""

    reason = "unparseable"


class NotAnArticle(Rejected):
    """An HTML page, but not an article page (index, tag, video, error page...)."""

    reason = "not-article"


class BodyTooShort(Rejected):
    """An article page whose extracted body is empty or too short to be a record."""

    reason = "too-short"


class OutOfWindow(Rejected):
    """An article published outside the crawl's ``since``/``until`` window (known only once fetched)."""

    reason = "out-of-window"


class Paywalled(Rejected):
    """A paywalled article with no visible text at all: nothing to write until it is read with access."""

    reason = "paywalled"


class ExtractionError(Rejected):
    """A bug, not the page's fault: extraction raised an unexpected exception. The page is dropped with the
    exception's type and message, so the crawl goes on and the article is accounted for."""

    reason = "extraction-error"


class MissingUrl(ValueError):
    """Not a rejection of a page but a caller's mistake: the core was given no URL for the page. It needs
    one: it resolves the page's links against it and it is the record's ``url``."""
