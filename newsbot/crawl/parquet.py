"""The Parquet feed (``-O out.parquet``, ``FEEDS`` format ``parquet``): one Arrow schema for every site and run.

Records are written with pyarrow in row groups of ``row_group_size`` records (1000 unless the feed's
``item_export_kwargs`` say otherwise) as they arrive, so a long crawl holds one row group in memory, not the
feed. The columns are :func:`newsbot.schema.arrow.load_arrow_schema`'s, whatever the records hold, so files
from different sites and runs concatenate without a cast.

A Parquet file is readable only once its footer is written, at the end of the crawl, while the seen-store
marks an article as soon as its record reaches the feed. So that a killed crawl loses nothing, each record
also goes, unbuffered, to a journal next to the file (``out.parquet.journal``, JSON Lines, the JSON Lines
feed's own bytes); the journal is removed once the footer is written. A crawl killed mid-way leaves
``out.parquet`` without a footer (unreadable) and the journal holding every record marked seen; the next
crawl writing that file starts it with the journal's records, so they are in the feed exactly once.

Appending (``-o``) to a finished Parquet file is impossible (the footer ends it); ``scrapy crawl`` refuses
it before anything starts (:func:`check_feeds`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import UsageError
from scrapy.exporters import BaseItemExporter
from scrapy.settings import BaseSettings

from newsbot.crawl.feeds import drop_partial_last_line

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

ROW_GROUP_SIZE = 1000
JOURNAL_SUFFIX = ".journal"


def journal_path(feed: Path) -> Path:
    """Where the records of a Parquet feed still being written are kept until its footer is."""
    return feed.with_name(feed.name + JOURNAL_SUFFIX)


class ArticleParquetExporter(BaseItemExporter):
    """Writes records to a Parquet file in row groups, with the shipped Arrow schema."""

    def __init__(self, file: IO[bytes], *, row_group_size: int = ROW_GROUP_SIZE, **kwargs: Any) -> None:
        # pyarrow is imported by a crawl that writes Parquet, not by every crawl (it takes a third of a second).
        import pyarrow as pa
        import pyarrow.parquet as pq

        from newsbot.schema import arrow

        super().__init__(dont_fail=True, **kwargs)
        self._pa, self._pq, self._to_row = pa, pq, arrow.to_row
        self.file = file
        self.row_group_size = max(1, int(row_group_size))
        self.schema = _selected(arrow.load_arrow_schema(), self.fields_to_export)
        self.rows: list[dict[str, Any]] = []
        name = getattr(file, "name", None)
        # Only a local file can have a journal; another storage (stdout, a temporary file for S3) has no
        # seen-store guarantee to keep beyond Scrapy's own.
        self.journal_path = journal_path(Path(name)) if isinstance(name, str) and os.path.isfile(name) else None
        self.journal: IO[bytes] | None = None
        self.writer: Any = None
        # (url, fingerprint) of the records carried over from a killed crawl's journal (see export_item).
        self.carried: set[tuple[str, str]] = set()

    def start_exporting(self) -> None:
        carried = self._carry_journal()
        self.writer = self._pq.ParquetWriter(self.file, self.schema, compression="zstd")
        if self.journal_path is not None:
            self.journal = self.journal_path.open("ab", buffering=0)
        if carried:
            for record in carried:
                self.carried.add((record.get("url"), record.get("fingerprint")))
                self.rows.append(self._to_row(record))
                if len(self.rows) >= self.row_group_size:
                    self._write_row_group()

    def export_item(self, item: Any) -> None:
        record = _as_record(item)
        if self.carried and (record.get("url"), record.get("fingerprint")) in self.carried:
            # A killed crawl can die between journalling a record and marking its article seen; this run then
            # fetches the article again. The same text is already in the file (a changed one is written).
            self.carried.discard((record.get("url"), record.get("fingerprint")))
            logger.info("%s is already in %s (carried over from the stopped crawl)", record.get("url"), self.file.name)
            return
        if self.journal is not None:
            self.journal.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self.rows.append(self._to_row(record))
        if len(self.rows) >= self.row_group_size:
            self._write_row_group()

    def finish_exporting(self) -> None:
        self._write_row_group()
        self.writer.close()
        if self.journal is not None:
            self.journal.close()
            # The footer is in the file now, so every journalled record is readable from it.
            self.journal_path.unlink(missing_ok=True)

    def _write_row_group(self) -> None:
        if self.rows:
            self.writer.write_table(self._pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def _carry_journal(self) -> Iterator[dict[str, Any]] | None:
        """The records a killed crawl left in the journal, to be written first; the file it left (no footer)
        is emptied. Without a journal, appending to a finished Parquet file is refused."""
        journal = self.journal_path
        has_data = self.file.tell() > 0
        if journal is None or not journal.exists():
            if has_data:
                raise ValueError(f"{self.file.name}: a Parquet file cannot be appended to; use -O to replace it")
            return None
        drop_partial_last_line(journal)
        if has_data:
            self.file.truncate(0)
            self.file.seek(0)  # the footer's offsets count from where the writer starts
        count = sum(1 for _ in journal.open("rb"))
        logger.warning("%s: the crawl writing it was stopped before its footer; its %d records, kept in %s, are "
                       "written first", self.file.name, count, journal)
        return _journal_records(journal)


def _journal_records(journal: Path) -> Iterator[dict[str, Any]]:
    with journal.open("rb") as lines:
        for line in lines:
            yield json.loads(line)


def _as_record(item: Any) -> dict[str, Any]:
    to_dict = getattr(item, "to_dict", None)
    return to_dict() if callable(to_dict) else ItemAdapter(item).asdict()


def _selected(schema: pa.Schema, names: Any) -> pa.Schema:
    """The columns of the feed's ``fields`` (each date with its offset), or all of them."""
    if not names:
        return schema
    import pyarrow as pa

    from newsbot.schema.arrow import OFFSET_SUFFIX

    wanted = set(names)  # a dict's keys are the item's field names
    return pa.schema([f for f in schema if f.name in wanted or f.name.removesuffix(OFFSET_SUFFIX) in wanted])


def check_feeds(settings: BaseSettings) -> None:
    """Refuse, before the crawl starts, a Parquet feed that would have to be appended to."""
    for uri, options in settings.getdict("FEEDS").items():
        fmt = (options or {}).get("format")
        path = Path(str(uri).removeprefix("file://"))
        if fmt != "parquet" or (options or {}).get("overwrite"):
            continue
        if path.is_file() and path.stat().st_size > 0 and not journal_path(path).exists():
            raise UsageError(f"-o {uri}: a Parquet file cannot be appended to (it ends in its footer); "
                             f"use -O to replace it, or a new name per run")
