"""Feed files written through to the operating system record by record, and appended to as one document.

Scrapy's file storage buffers records in the process; a crawl that is killed loses that buffer although
the seen-store may already list those articles. Writing unbuffered makes each record a single ``write``
to the OS, so whatever a crawl has marked seen is already in the file when the process dies.

Appending (``-o``, or the daily default feed) continues the file as one document of its format, as if one
crawl had written it all: a JSON array gets more elements, an XML feed more ``<item>`` elements under its
one root, a CSV file more rows under its one header line. Scrapy's exporters would start a second
document (a second ``[``, ``<?xml``, header row), which no reader accepts. A crawl killed mid-record leaves
that record half-written; it is cut, and since it was never marked seen it is written again, whole.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FileFeedStorage, StdoutFeedStorage
from scrapy.utils.conf import feed_complete_default_values_from_settings
from scrapy.utils.defer import deferred_from_coro

from newsbot.crawl.extensions import feed_uri_params
from newsbot.items import Article

logger = logging.getLogger(__name__)


# Formats whose files are not lines: appending to them is the exporter's business (newsbot.crawl.parquet).
NOT_LINES = frozenset({"parquet"})
# Formats with one record per line: JSON Lines, and the JSON array as Scrapy writes it (one element a line).
RECORD_LINES = frozenset({"jsonlines", "jsonl", "jl", "json"})
# The attribute of an opened feed file that tells its exporter what the file already holds.
TAIL = "newsbot_tail"
# The columns of a CSV feed, the elements of an XML item: the record's fields, in its declared order.
ARTICLE_FIELDS = [f.name for f in dataclasses.fields(Article)]
# How much of a file's end is read at first to find its last whole record (a record is at most a few MB).
TAIL_WINDOW = 1 << 20


class FeedTail(NamedTuple):
    """What an existing feed file keeps when a crawl appends to it."""

    keep: int  # its first ``keep`` bytes: the format's opening and every whole record
    records: bool  # whether those bytes hold a record
    closed: bool = False  # whether what goes is the document's end (a finished crawl's), not a half record


class CannotAppend(ValueError):
    """An existing feed file cannot be continued: it is not a document of the feed's format and columns."""


class DurableFileFeedStorage(FileFeedStorage):
    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.options = feed_options or {}
        self.format = self.options.get("format")

    def open(self, spider: Spider) -> IO[bytes]:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tail = None
        # A post-processed feed (gzip...) is bytes of another format: its end is not a record's end.
        if self.write_mode == "ab" and self.format not in NOT_LINES and not self.options.get("postprocessing"):
            try:
                tail = feed_tail(path, self.options)
            except CannotAppend as exc:
                # As the Parquet feed does: the file is kept untouched, and this crawl's records still written.
                kept = free_name(path.with_name(f"{path.name}.unreadable"))
                path.rename(kept)
                logger.warning("%s cannot be appended to (%s); it is kept as %s and a new file is written",
                               path, exc, kept)
            else:
                if tail is None:
                    drop_partial_last_line(path)
                else:
                    _cut(path, tail)
        file = path.open(self.write_mode, buffering=0)
        setattr(file, TAIL, tail)
        return file


# Stats key: how many records had gone to standard output when its reader closed it (``-O - | head``).
OUTPUT_CLOSED = "newsbot/output_closed"


class PipeFeedStorage(StdoutFeedStorage):
    """``-O -`` (``stdout:``): the records on standard output, each written through as it comes.

    When the reader stops reading (``| head``), the crawl stops, as a Unix filter does, instead of logging
    a traceback for every record after it; no record that did not reach the pipe is marked seen
    (:func:`output_closed`), so a later crawl writes them.
    """

    def __init__(self, uri: str, _stdout: IO[bytes] | None = None, *,
                 feed_options: dict[str, Any] | None = None, crawler: Crawler | None = None) -> None:
        # -O - is the natural way to ask for standard output: Scrapy's warning that a pipe cannot be
        # overwritten tells the user nothing.
        super().__init__(uri, _stdout, feed_options={**(feed_options or {}), "overwrite": False})
        self.crawler = crawler
        self.pipe: _Pipe | None = None
        self.delivered = 0
        if crawler is not None:
            # Connected after the feed exporter, which writes the record: this sees whether it got through.
            # (Here, not in open(): the exporter may open the feed while handling the first record.)
            crawler.signals.connect(self._scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler, uri: str, *,
                     feed_options: dict[str, Any] | None = None) -> PipeFeedStorage:
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider: Spider) -> IO[bytes]:
        self.pipe = _Pipe(self._stdout.fileno(), self._reader_gone)
        return self.pipe  # type: ignore[return-value]

    def _scraped(self) -> None:
        if self.pipe is not None and not self.pipe.gone:
            self.delivered += 1

    def _reader_gone(self) -> None:
        if self.crawler is None or self.crawler.stats.get_value(OUTPUT_CLOSED) is not None:
            return
        records = self.delivered
        self.crawler.stats.set_value(OUTPUT_CLOSED, records)
        logger.info("standard output was closed by its reader after %d records: the crawl stops", records)
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason="output_closed"))


class _Pipe(io.RawIOBase):
    """Standard output, unbuffered: a write goes to the pipe at once, or, once the reader has gone, nowhere."""

    def __init__(self, fd: int, reader_gone: Any) -> None:
        super().__init__()
        self.fd = fd
        self.reader_gone = reader_gone
        self.gone = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        if self.gone:
            return size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]
        except BrokenPipeError:
            self.gone = True
            self.reader_gone()
        return size


def output_closed(crawler: Crawler) -> bool:
    """Whether the crawl's standard-output feed lost its reader: from then on no record reaches it."""
    return crawler.stats.get_value(OUTPUT_CLOSED) is not None


def feed_tail(path: Path, options: dict[str, Any]) -> FeedTail | None:
    """Where the records of an existing JSON, XML or CSV feed file end, for appending to it; None for an
    empty or missing file and for formats of lines (JSON Lines), whose last line is the last record.
    Raises :class:`CannotAppend` when the file is not a feed of that format (a CSV file: with its columns)."""
    reader = _TAILS.get(options.get("format", ""))
    if reader is None or not path.is_file() or path.stat().st_size == 0:
        return None
    with path.open("rb") as file:
        tail = reader(file, options)
    if tail is None:
        raise CannotAppend(f"it does not end in whole {options['format'].upper()} records")
    return tail


def _first_difference(found: list[str], wanted: list[str]) -> str:
    for index, (has, writes) in enumerate(zip(found, wanted, strict=False), start=1):
        if has != writes:
            return f"column {index} is {has!r}, the feed's is {writes!r}"
    return f"it has {len(found)} columns, the feed {len(wanted)}"


def free_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... whichever does not exist yet."""
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _windows(file: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The file's last TAIL_WINDOW bytes, then ever larger ends of it, up to the whole file: (offset, bytes)."""
    size = file.seek(0, 2)
    window = TAIL_WINDOW
    while True:
        start = max(0, size - window)
        file.seek(start)
        yield start, file.read()
        if start == 0:
            return
        window *= 4


def _json_tail(file: IO[bytes], options: dict[str, Any]) -> FeedTail | None:
    # Scrapy's JSON feed: "[", then one element per line, elements separated by ",", then "]".
    if not file.read(64).lstrip().startswith(b"["):
        return None
    for start, data in _windows(file):
        body = data.rstrip()
        if body.endswith(b"]"):
            inner = data[:len(body) - 1].rstrip()
            if inner.endswith(b"["):
                return FeedTail(start + len(inner), False, closed=True)
            return FeedTail(start + len(inner), True, closed=True) if inner.endswith(b"}") else None
        # A crawl that stopped mid-array: keep up to the last element that is whole.
        lines = data.split(b"\n")
        offsets = [0]
        for line in lines[:-1]:
            offsets.append(offsets[-1] + len(line) + 1)
        for offset, line in reversed(list(zip(offsets, lines, strict=True))[start > 0:]):
            element = line.rstrip().removesuffix(b",").rstrip()
            if element.lstrip() == b"[":
                return FeedTail(start + offset + line.index(b"[") + 1, False)
            if element.endswith(b"}") and _is_object(element):
                return FeedTail(start + offset + len(element), True)
    return None


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _xml_tail(file: IO[bytes], options: dict[str, Any]) -> FeedTail | None:
    # Scrapy's XML feed: the declaration, "<items>", one "<item>...</item>" per record, "</items>". Element
    # names cannot occur in the text between them, where "<" is always escaped.
    root = options.get("item_export_kwargs", {}).get("root_element", "items").encode()
    item = options.get("item_export_kwargs", {}).get("item_element", "item").encode()
    opening = b"<%s>" % root
    head = file.read(1024)
    if not head.startswith(b"<?xml") or opening not in head:
        return None
    closing, item_end = b"</%s>" % root, b"</%s>" % item
    for start, data in _windows(file):
        body = data.rstrip()
        if body.endswith(closing):
            before = data[:len(body) - len(closing)]
            if before.rstrip().endswith(item_end):
                return FeedTail(start + len(before), True, closed=True)
            return FeedTail(start + len(before), False, closed=True) if before.rstrip().endswith(opening) else None
        end = data.rfind(item_end)
        if end >= 0:
            end += len(item_end)
            return FeedTail(start + end + data[end:end + 1].count(b"\n"), True)
        if start == 0 and (begin := data.find(opening)) >= 0:
            end = begin + len(opening)
            return FeedTail(end + data[end:end + 1].count(b"\n"), False)
    return None


def _csv_tail(file: IO[bytes], options: dict[str, Any]) -> FeedTail | None:
    # Rows end in "\r\n" (the csv module's default); a field that holds a line break is quoted, so a row ends
    # at the last "\r\n" before which the quotes are balanced.
    header, found, _ = file.read(1 << 16).partition(b"\r\n")
    if not found:
        return None
    columns = csv_columns(options)
    if (names := next(csv.reader([header.decode("utf-8", "replace")]), [])) != columns:
        raise CannotAppend(f"its columns are not this feed's: {_first_difference(names, columns)}")
    header_end = len(header) + 2
    size = file.seek(0, 2)
    # The end of the file first; the whole of it only if its last row is longer than that (or it is no CSV).
    for start in dict.fromkeys((max(0, size - TAIL_WINDOW), 0)):
        file.seek(0)
        quotes = 0
        while file.tell() < start:
            quotes += file.read(min(1 << 24, start - file.tell())).count(b'"')
        data = file.read()
        end = len(data)
        while (end := data.rfind(b"\r\n", 0, end)) >= 0:
            if (quotes + data.count(b'"', 0, end)) % 2 == 0:
                keep = start + end + 2
                return FeedTail(keep, keep > header_end) if keep >= header_end else None
    return None


def csv_columns(options: dict[str, Any]) -> list[str]:
    """The header row a CSV feed with these options writes."""
    fields = options.get("fields") or ARTICLE_FIELDS
    return list(fields.values()) if isinstance(fields, dict) else list(fields)


_TAILS = {"json": _json_tail, "xml": _xml_tail, "csv": _csv_tail}


def _cut(path: Path, tail: FeedTail) -> None:
    size = path.stat().st_size
    if size == tail.keep:
        return
    with path.open("rb+") as file:
        file.truncate(tail.keep)
    if not tail.closed:
        logger.warning("feed %s ended in a half-written record (%d bytes); it was cut and will be written again",
                       path, size - tail.keep)


def local_feeds(crawler: Crawler) -> list[tuple[Path, dict[str, Any]]]:
    """The crawl's feeds that are local files, with their options completed from the settings."""
    spider = crawler.spider
    params = feed_uri_params({"name": spider.name if spider is not None else "crawl"}, spider)
    feeds = []
    for uri, options in crawler.settings.getdict("FEEDS").items():
        try:
            target = str(uri) % params
        except (KeyError, ValueError, TypeError):
            continue
        if "://" in target and not target.startswith("file://"):
            continue
        options = feed_complete_default_values_from_settings(dict(options or {}), crawler.settings)
        feeds.append((Path(target.removeprefix("file://")), options))
    return feeds


def drop_partial_last_line(path: Path) -> None:
    """Cut a half-written last record (a crawl killed mid-write) so that appending starts on a fresh line.

    Such a record was never marked seen, so the resumed crawl writes it again, whole.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as file:
        file.seek(-1, 2)
        if file.read(1) == b"\n":
            return
        keep = next((start + data.rfind(b"\n") + 1 for start, data in _windows(file) if b"\n" in data), 0)
    _cut(path, FeedTail(keep, keep > 0))


def last_records(path: Path, tail_bytes: int = 1 << 20) -> list[dict[str, Any]]:
    """The complete records in the last ``tail_bytes`` of a JSON Lines feed, or of a JSON array feed, which
    Scrapy writes one element a line (a half-written line is skipped)."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - tail_bytes))
        chunk = file.read()
    lines = chunk.split(b"\n")
    if size > tail_bytes:
        lines = lines[1:]  # the first line of the window is cut in the middle
    records = []
    for line in lines[:-1]:  # the last piece has no newline: empty, or a record still being written
        try:
            record = json.loads(line.rstrip().removesuffix(b","))
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
