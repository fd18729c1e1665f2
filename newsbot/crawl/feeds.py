"""Feed files written through to the operating system record by record.

Scrapy's file storage buffers records in the process; a crawl that is killed loses that buffer although
the seen-store may already list those articles. Writing unbuffered makes each record a single ``write``
to the OS, so whatever a crawl has marked seen is already in the file when the process dies.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import IO, Any

from scrapy import Spider
from scrapy.extensions.feedexport import FileFeedStorage

logger = logging.getLogger(__name__)


# Formats whose files are not lines: appending to them is the exporter's business (newsbot.crawl.parquet).
NOT_LINES = frozenset({"parquet"})


class DurableFileFeedStorage(FileFeedStorage):
    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.format = (feed_options or {}).get("format")

    def open(self, spider: Spider) -> IO[bytes]:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.write_mode == "ab" and self.format not in NOT_LINES:
            drop_partial_last_line(path)
        return path.open(self.write_mode, buffering=0)


def drop_partial_last_line(path: Path) -> None:
    """Cut a half-written last record (a crawl killed mid-write) so that appending starts on a fresh line.

    Such a record was never marked seen, so the resumed crawl writes it again, whole.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as file:
        size = file.seek(0, 2)
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return
        # Walk back in blocks to the last newline; a record is at most a few MB.
        end, block = size, 1 << 16
        while end > 0:
            start = max(0, end - block)
            file.seek(start)
            chunk = file.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        file.truncate(keep)
    logger.warning("feed %s ended in a half-written record (%d bytes); it was cut and will be written again",
                   path, size - keep)


def last_records(path: Path, tail_bytes: int = 1 << 20) -> list[dict[str, Any]]:
    """The complete records in the last ``tail_bytes`` of a JSON Lines feed (a half-written line is skipped)."""
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
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
