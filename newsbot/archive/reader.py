"""Reading WARC files with fastwarc, whatever state they are in.

fastwarc (Resiliparse) parses the records; this module adds what a pass over archives of unknown quality
needs:

- Each response record is met with its URL and position before its body is read, so a record of a host
  no rules know costs only its decompression.
- A record is checked before it is used: cut short (by the end of the file, or by the archiver's
  ``WARC-Truncated``), a block or payload digest that does not match, HTTP headers that do not parse.
  Each problem is an :class:`ArchiveError` with a reason code, and reading goes on with the next record.
- A corrupt gzip member breaks the stream: reading resumes at the next member that starts a WARC record.
- A gzip file with one member per record (what the WARC standard recommends, and what Common Crawl,
  warcio, wget and our own writer produce) can be split into byte ranges that different processes read,
  each record by exactly one of them, and any record can be read again from its offset.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from newsbot.core.reasons import Reason

# Reason codes: what went wrong with a file or a record. Counted by the archive pass; a record of an
# article URL that has one of these problems is dropped with it (see docs/archives.md).
# The problems of a record are drop reasons of the crawl's vocabulary; those of a whole file are not.
UNREADABLE = "unreadable"  # the file cannot be opened or read at all
NOT_WARC = "not-warc"  # the file does not start with a WARC record (plain or gzip)
CORRUPT_GZIP = Reason.CORRUPT_GZIP  # the compressed stream is broken; reading resumed at the next good member
TRUNCATED = Reason.TRUNCATED  # a record cut short: the file ends inside it, or the archiver cut its payload
DIGEST_MISMATCH = Reason.DIGEST_MISMATCH  # the record's bytes are not those its block or payload digest names
BAD_HTTP_HEADERS = Reason.BAD_HTTP_HEADERS  # the HTTP status line or headers do not parse

# File layouts. "members": gzip, one member per record (seekable, splittable); "plain": uncompressed
# (seekable); "single": one gzip stream for the whole file (records are found again by their ordinal).
MEMBERS, PLAIN, SINGLE = "members", "plain", "single"

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"WARC/1\.[01]\r?\n")
# How far into a gzip file the first member is followed to tell one member per record from one stream.
_LAYOUT_PROBE_BYTES = 64 << 20
_RESYNC_CHUNK = 1 << 20


class ArchiveError(Exception):
    """A problem with a WARC file or record: a stable ``reason`` code, a detail, and the record's URL if
    it has one."""

    def __init__(self, reason: str, detail: str = "", url: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.url = url


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    path: Path
    layout: str
    size: int

    @property
    def splittable(self) -> bool:
        return self.layout == MEMBERS


def open_archive(path: Path) -> ArchiveFile:
    """Check that ``path`` is a WARC file (plain or gzip) and find its layout; ArchiveError if it is not."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            head = stream.read(_RESYNC_CHUNK)
            if head.startswith(b"\x1f\x8b"):
                return ArchiveFile(path, _gzip_layout(stream, head, size), size)
    except OSError as exc:
        raise ArchiveError(UNREADABLE, f"{path}: {exc.strerror or exc}") from None
    if not head:
        raise ArchiveError(NOT_WARC, f"{path} is empty")
    if not _WARC_LINE.match(head):
        raise ArchiveError(NOT_WARC, f"{path} does not start with a WARC record")
    return ArchiveFile(path, PLAIN, size)


def _gzip_layout(stream: BinaryIO, head: bytes, size: int) -> str:
    inflate = zlib.decompressobj(wbits=31)
    try:
        opening = inflate.decompress(head, 16)
    except zlib.error:
        # A broken first member: the scan resumes at the next good one, as anywhere else in the file.
        return MEMBERS
    if not opening.startswith(b"WARC/"):
        raise ArchiveError(NOT_WARC, f"{stream.name} is gzip but not a WARC file")
    produced, pending = len(opening), inflate.unconsumed_tail
    try:
        while not inflate.eof and produced < _LAYOUT_PROBE_BYTES:
            if not pending:
                pending = stream.read(_RESYNC_CHUNK)
                if not pending:
                    break
            produced += len(inflate.decompress(pending, 1 << 20))
            pending = inflate.unconsumed_tail
    except zlib.error:
        return MEMBERS
    member_end = stream.tell() - len(inflate.unused_data) - len(pending)
    return MEMBERS if inflate.eof and member_end < size else SINGLE


@dataclass(frozen=True, slots=True)
class Segment:
    """The records of one file whose position lies in ``[start, end)`` (``end`` None: to the end)."""

    file: int
    start: int = 0
    end: int | None = None


def segments(files: list[ArchiveFile], target_bytes: int) -> list[Segment]:
    """Work units of about ``target_bytes`` of compressed input each; only one-member-per-record gzip
    files are split (a member start can be found again from any byte, a plain record start cannot)."""
    units = []
    for number, file in enumerate(files):
        pieces = max(1, -(-file.size // target_bytes)) if file.splittable else 1
        bounds = [file.size * k // pieces for k in range(pieces)]
        units += [Segment(number, start, end) for start, end in zip(bounds, [*bounds[1:], None], strict=True)]
    return units


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An archived HTTP response, as a downloader would hand it on: transfer coding removed, content coding
    (gzip, br...) kept for the decoder, as on the wire."""

    url: str
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    date: datetime

    def header(self, name: bytes) -> bytes | None:
        """The last value of header ``name``, as Scrapy's ``Headers.get`` answers."""
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return values[-1] if values else None

    @property
    def content_type(self) -> str | None:
        value = self.header(b"Content-Type")
        return value.decode("latin-1") if value else None


class RecordHead:
    """A response record as the scan meets it: URL and position now, the response on request (only until
    the scan moves on)."""

    __slots__ = ("_record", "broken", "position", "url")

    def __init__(self, record: WarcRecord, url: str, position: int) -> None:
        self._record = record
        self.url = url
        self.position = position
        self.broken = False

    def response(self) -> HttpResponse:
        try:
            return _http_response(self._record, self.url)
        except OSError as exc:
            # The gzip stream broke inside this record: the scan resumes after it.
            self.broken = True
            raise ArchiveError(CORRUPT_GZIP, str(exc), self.url) from None


def scan(file: ArchiveFile, start: int = 0, end: int | None = None,
         counts: Counter[str] | None = None) -> Iterator[RecordHead | ArchiveError]:
    """The HTTP response records of ``file`` positioned in ``[start, end)``, in file order.

    Stream breaks and records too broken to have a URL are yielded as ArchiveError; the other record
    types are only counted (``counts["records"]``, ``counts["skipped/<type>"]``).
    """
    counts = counts if counts is not None else Counter()
    with file.path.open("rb") as stream:
        position = start if start == 0 else _next_start(stream, file, start, end)
        resumed = False
        while position is not None:
            stream.seek(position)
            last: int | None = None
            try:
                for ordinal, record in enumerate(ArchiveIterator(stream, parse_http=False)):
                    here = ordinal if file.layout == SINGLE else record.stream_pos
                    if end is not None and here >= end:
                        return
                    last = here
                    counts["records"] += 1
                    head = _head(record, here, counts)
                    if head is None:
                        continue
                    yield head
                    if isinstance(head, RecordHead) and head.broken:
                        break
                else:
                    return
            except OSError as exc:
                # Counted once per broken stretch: a resumed read that fails before its first record is
                # the same corruption met again.
                if last is not None or not resumed:
                    yield ArchiveError(CORRUPT_GZIP, f"{file.path} after byte {last or position}: {exc}")
            if file.layout == SINGLE:
                return  # one stream: nothing after a break can be found again
            position = _next_start(stream, file, (last if last is not None else position) + 1, end)
            resumed = True


def _head(record: WarcRecord, position: int, counts: Counter[str]) -> RecordHead | ArchiveError | None:
    if record.record_type != WarcRecordType.response:
        counts[f"skipped/{record.record_type}"] += 1
        return None
    url = (record.headers.get("WARC-Target-URI") or "").strip().strip("<>")
    if not url:
        return ArchiveError(TRUNCATED, f"a response record at byte {position} has no WARC-Target-URI")
    if record.headers.get("Content-Length") is None:
        # The file ends inside the WARC headers: the URL is there, what would say it is HTTP may not be.
        return RecordHead(record, url, position)
    if not record.is_http:
        counts["skipped/non-http"] += 1
        return None
    return RecordHead(record, url, position)


def read_at(file: ArchiveFile, position: int) -> HttpResponse:
    """The response record at ``position`` (a byte offset; a record ordinal in a single-stream file)."""
    with file.path.open("rb") as stream:
        if file.layout == SINGLE:
            for ordinal, record in enumerate(ArchiveIterator(stream, parse_http=False)):
                if ordinal == position:
                    return _http_response(record, _target(record))
            raise ArchiveError(TRUNCATED, f"no record {position} in {file.path}")
        stream.seek(position)
        for record in ArchiveIterator(stream, parse_http=False):
            return _http_response(record, _target(record))
    raise ArchiveError(TRUNCATED, f"no record at byte {position} of {file.path}")


def _target(record: WarcRecord) -> str:
    return (record.headers.get("WARC-Target-URI") or "").strip().strip("<>")


def _http_response(record: WarcRecord, url: str) -> HttpResponse:
    declared = (record.headers.get("Content-Length") or "").strip()
    if not declared.isdigit():
        raise ArchiveError(TRUNCATED, "the WARC headers are cut short", url)
    block_digest = record.headers.get("WARC-Block-Digest")
    if block_digest:
        # Reads the block once and keeps it readable; afterwards content_length is what the file holds.
        intact = record.verify_block_digest()
        if record.content_length < int(declared):
            raise ArchiveError(TRUNCATED, f"{record.content_length} of {declared} bytes in the file", url)
        if not intact:
            raise ArchiveError(DIGEST_MISMATCH, f"block digest {block_digest}", url)
    record.parse_http()
    http = record.http_headers
    status = http.status_code
    if status is None:
        raise ArchiveError(BAD_HTTP_HEADERS, f"status line {http.status_line!r}", url)
    payload_length = record.content_length
    body = record.reader.read()
    if len(body) < payload_length:
        raise ArchiveError(TRUNCATED, f"{len(body)} of {payload_length} payload bytes in the file", url)
    payload_digest = record.headers.get("WARC-Payload-Digest")
    if not block_digest and payload_digest and _digest_differs(payload_digest, body):
        raise ArchiveError(DIGEST_MISMATCH, f"payload digest {payload_digest}", url)
    cut = record.headers.get("WARC-Truncated")
    if cut:
        raise ArchiveError(TRUNCATED, f"the archiver cut the payload ({cut})", url)
    headers = tuple(http.items_bytes())
    headers, body = _undo_transfer_coding(headers, body)
    try:
        date = record.record_date
    except (ValueError, OSError):
        date = datetime.now(UTC)
    return HttpResponse(url, status, headers, body, date)


def _digest_differs(spec: str, body: bytes) -> bool:
    algorithm, _, value = spec.partition(":")
    try:
        digest = hashlib.new(algorithm.strip().lower().replace("-", ""), body).digest()
    except ValueError:
        return False  # an algorithm we do not know: nothing to check against
    value = value.strip()
    for decode in (base64.b32decode, bytes.fromhex, base64.b64decode):
        try:
            return decode(value) != digest  # type: ignore[operator]
        except (ValueError, binascii.Error):
            continue
    return False


def _undo_transfer_coding(headers: tuple[tuple[bytes, bytes], ...],
                          body: bytes) -> tuple[tuple[tuple[bytes, bytes], ...], bytes]:
    names = {name.lower(): value for name, value in headers}
    if b"chunked" in names.get(b"transfer-encoding", b"").lower():
        whole = _dechunk(body)
        if whole is not None:
            # The downloader removes chunking before anyone sees the body; so does the archive.
            headers = tuple(h for h in headers if h[0].lower() != b"transfer-encoding")
            body = whole
    encoding = names.get(b"content-encoding", b"").strip().lower()
    if encoding in (b"gzip", b"x-gzip") and not body.startswith(b"\x1f\x8b"):
        # Some archivers store the payload already decoded but keep the header; decoding it again would fail.
        headers = tuple(h for h in headers if h[0].lower() != b"content-encoding")
    return headers, body


def _dechunk(body: bytes) -> bytes | None:
    parts, position = [], 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return None
        try:
            size = int(body[position:line_end].split(b";")[0], 16)
        except ValueError:
            return None
        if size == 0:
            return b"".join(parts)
        start = line_end + 2
        if start + size > len(body):
            return None
        parts.append(body[start:start + size])
        position = start + size + 2


def _next_start(stream: BinaryIO, file: ArchiveFile, origin: int, end: int | None) -> int | None:
    """The first byte at or after ``origin`` (and before ``end``) where a WARC record starts."""
    magic = _GZIP_MAGIC if file.layout == MEMBERS else b"WARC/1."
    position = origin
    while end is None or position < end:
        stream.seek(position)
        # A marker must start before ``end``: no need to read further than that.
        wanted = _RESYNC_CHUNK if end is None else min(_RESYNC_CHUNK, end - position + len(magic) - 1)
        chunk = stream.read(wanted)
        if len(chunk) < len(magic):
            return None
        found = chunk.find(magic)
        while found >= 0:
            candidate = position + found
            if end is not None and candidate >= end:
                return None
            if _starts_record(stream, file, candidate):
                return candidate
            found = chunk.find(magic, found + 1)
        # Overlap the chunks so a marker split across two reads is still found.
        position += len(chunk) - len(magic) + 1
    return None


def _starts_record(stream: BinaryIO, file: ArchiveFile, candidate: int) -> bool:
    if file.layout == MEMBERS:
        stream.seek(candidate)
        try:
            return zlib.decompressobj(wbits=31).decompress(stream.read(1 << 16), 16).startswith(b"WARC/")
        except zlib.error:
            return False
    stream.seek(max(0, candidate - 1))
    before_and_line = stream.read(16)
    if candidate > 0 and not before_and_line.startswith(b"\n"):
        return False
    return bool(_WARC_LINE.match(before_and_line[1:] if candidate > 0 else before_and_line))
