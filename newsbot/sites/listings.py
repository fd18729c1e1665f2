"""Where articles are found: sitemaps, sitemap indexes and RSS/Atom feeds, read safely, and the date window
a crawl is bounded by.

Listing XML comes from the network, so it is parsed without entity expansion, without DTD loading and
without network access: a billion-laughs or XXE payload yields nothing, not a hang or a file read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from lxml import etree

from newsbot.core.dates import parse_iso

# A gzipped sitemap is at most 50 MB unpacked (sitemaps.org); anything bigger is refused, not inflated.
MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One URL a listing points to, with whatever dates the listing gives for it."""

    url: str
    published: datetime | None = None
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: an index (``children`` are further sitemaps) or a urlset (``entries`` are pages)."""

    children: tuple[Entry, ...] = ()
    entries: tuple[Entry, ...] = ()


class ListingError(ValueError):
    """A listing document that cannot be read (not XML, too large, wrong root)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           recover=True, remove_comments=True, remove_pis=True)


def _root(body: bytes) -> etree._Element:
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    if not body.strip():
        raise ListingError("empty document")
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ListingError(f"not XML: {exc}") from exc
    if root is None:
        raise ListingError("not XML")
    return root


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise ListingError(f"bad gzip data: {exc}") from exc
    if len(data) > MAX_XML_BYTES or inflater.unconsumed_tail:
        raise ListingError(f"gzipped listing is larger than {MAX_XML_BYTES} bytes unpacked")
    return data


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(node: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in node.iter() if _local(child.tag) == name)


def _text(node: etree._Element, name: str) -> str | None:
    for child in _children(node, name):
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def _iso(raw: str | None) -> datetime | None:
    normalized = parse_iso(raw, UTC)
    return datetime.fromisoformat(normalized) if normalized else None


def parse_sitemap(body: bytes) -> Sitemap:
    """A sitemap index or urlset (sitemaps.org, with Google News' ``news:publication_date``)."""
    root = _root(body)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        return Sitemap(children=tuple(
            Entry(loc, modified=_iso(_text(node, "lastmod")))
            for node in _children(root, "sitemap") if (loc := _text(node, "loc"))
        ))
    if kind == "urlset":
        return Sitemap(entries=tuple(
            Entry(loc, published=_iso(_text(node, "publication_date")), modified=_iso(_text(node, "lastmod")))
            for node in _children(root, "url") if (loc := _text(node, "loc"))
        ))
    raise ListingError(f"not a sitemap: root element <{kind}>")


def parse_feed(body: bytes) -> tuple[Entry, ...]:
    """The items of an RSS 2.0 or Atom feed, with their publication dates."""
    root = _root(body)
    kind = _local(root.tag)
    if kind == "rss":
        return tuple(
            Entry(link, published=_rfc822(_text(item, "pubDate")))
            for item in _children(root, "item") if (link := _text(item, "link"))
        )
    if kind == "feed":
        entries = []
        for item in _children(root, "entry"):
            link = next((el.get("href") for el in _children(item, "link")
                         if el.get("rel", "alternate") == "alternate" and el.get("href")), None)
            if link:
                entries.append(Entry(link, published=_iso(_text(item, "published")),
                                     modified=_iso(_text(item, "updated"))))
        return tuple(entries)
    raise ListingError(f"not a feed: root element <{kind}>")


def _rfc822(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The publication days a crawl collects: ``since`` and ``until`` inclusive, as local days of the site.

    An open end is unbounded. A listing entry whose date is unknown is admitted; the article's own date
    decides once it is fetched.
    """

    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, since: str | None, until: str | None) -> DateWindow:
        window = cls(_day(since, "since"), _day(until, "until"))
        if window.since and window.until and window.since > window.until:
            raise ValueError(f"since={since} is after until={until}")
        return window

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def admits_day(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def admits(self, moment: datetime | None, tz: timezone) -> bool:
        """Whether a publication moment falls in the window (unknown moments are admitted)."""
        return moment is None or self.admits_day(moment.astimezone(tz).date())

    def admits_entry(self, entry: Entry, tz: timezone, url_day: date | None = None) -> bool:
        if entry.published is not None:
            return self.admits(entry.published, tz)
        if url_day is not None:
            return self.admits_day(url_day)
        # Only a lower bound follows from a modification date: a page last changed before ``since``
        # was published before it too, but one changed later may have been published at any time.
        return entry.modified is None or self.since is None or entry.modified.astimezone(tz).date() >= self.since

    def days(self, today: date, limit: int) -> list[date]:
        """The window's days, newest first, ending at ``until`` (or today) and at most ``limit`` of them."""
        last = min(self.until or today, today)
        first = self.since or last
        count = min((last - first).days + 1, limit)
        return [last - timedelta(days=n) for n in range(max(count, 0))]


def _day(raw: str | None, name: str) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a date; use YYYY-MM-DD") from None
