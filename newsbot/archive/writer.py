"""Writing WARC files with fastwarc: one gzip member per record (seekable and splittable, as the standard
recommends), block and payload digests on every HTTP record, flushed record by record."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType

from newsbot import __version__
from newsbot.fixtures.case import Case

Headers = Sequence[tuple[str | bytes, str | bytes]]


class WarcFileWriter:
    """Appends records to ``path`` (``.warc.gz``: gzip members; ``.warc``: plain)."""

    def __init__(self, path: Path, *, compression_level: int = 6) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO = path.open("ab")
        self._gzip = GzipWriter(self._file, compression_level=compression_level) \
            if path.name.lower().endswith(".gz") else None

    def __enter__(self) -> WarcFileWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def warcinfo(self, fields: dict[str, str]) -> str:
        block = "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode("utf-8")
        return self._write(WarcRecordType.warcinfo, None, "application/warc-fields", block, datetime.now(UTC))

    def response(self, url: str, status: int, headers: Headers, body: bytes, *, date: datetime | None = None,
                 protocol: str = "HTTP/1.1", reason: str | None = None, ip_address: str | None = None,
                 concurrent_to: str | None = None) -> str:
        """Write one HTTP response; returns its WARC-Record-ID."""
        reason = reason if reason is not None else _reason(status)
        head = f"{protocol} {status} {reason}".rstrip().encode("latin-1") + b"\r\n" + _header_block(headers)
        extra = {"WARC-IP-Address": ip_address, "WARC-Concurrent-To": concurrent_to}
        return self._write(WarcRecordType.response, url, "application/http; msgtype=response", head + body,
                           date or datetime.now(UTC), payload=body, extra=extra)

    def request(self, url: str, method: str, target: str, headers: Headers, body: bytes = b"", *,
                date: datetime | None = None, protocol: str = "HTTP/1.1", concurrent_to: str | None = None) -> str:
        head = f"{method} {target} {protocol}".encode("latin-1") + b"\r\n" + _header_block(headers)
        return self._write(WarcRecordType.request, url, "application/http; msgtype=request", head + body,
                           date or datetime.now(UTC), payload=body, extra={"WARC-Concurrent-To": concurrent_to})

    def _write(self, kind: WarcRecordType, url: str | None, content_type: str, block: bytes, date: datetime, *,
               payload: bytes | None = None, extra: dict[str, str | None] | None = None) -> str:
        record = WarcRecord()
        record.init_headers(kind)
        record.record_date = date
        if url is not None:
            record.headers["WARC-Target-URI"] = url
        record.headers["Content-Type"] = content_type
        for name, value in (extra or {}).items():
            if value:
                record.headers[name] = value
        record.set_bytes_content(block)
        digest = hashlib.sha1(payload).digest() if payload is not None else None
        record.write(self._gzip or self._file, checksum_data=True, payload_digest=digest)
        if self._gzip is not None:
            self._gzip.finish()  # closes this record's gzip member: the next record starts a new one
        self._file.flush()
        return record.record_id or ""

    def close(self) -> None:
        if self._gzip is not None:
            self._gzip.close()
        if not self._file.closed:
            self._file.close()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header_block(headers: Headers) -> bytes:
    lines = [_bytes(name) + b": " + _bytes(value) + b"\r\n" for name, value in headers]
    return b"".join(lines) + b"\r\n"


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1", "replace")


def write_cases(cases: Iterable[Case], path: Path, *, date: datetime | None = None,
                skip: Iterable[str] = ()) -> int:
    """An archive of fixture cases: each stored response as a response record (its status and headers as
    case.json gives them), ``skip`` URLs left out. Returns the number of responses written."""
    left_out = set(skip)
    written = 0
    with WarcFileWriter(path) as warc:
        warc.warcinfo({"software": f"newsbot/{__version__}", "format": "WARC File Format 1.1",
                       "description": "fixture cases"})
        for case in cases:
            for url, stored in case.responses.items():
                if url in left_out:
                    continue
                headers = stored.headers or {"Content-Type": "text/html; charset=UTF-8"}
                body = stored.path.read_bytes()
                warc.response(url, stored.status, [*headers.items(), ("Content-Length", str(len(body)))], body,
                              date=date)
                written += 1
    return written
