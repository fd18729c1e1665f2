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

A Parquet file ends in its footer, so appending (``-o``, or a daily file written by every hourly run)
rewrites it: the finished file is copied aside (``out.parquet.previous``), its row groups are written to the
new file one at a time, then the new records; the copy is removed with the journal.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

from newsbot.crawl.feeds import drop_partial_last_line, free_name

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

ROW_GROUP_SIZE = 1000
JOURNAL_SUFFIX = ".journal"
PREVIOUS_SUFFIX = ".previous"


def journal_path(feed: Path) -> Path:
    """Where the records of a Parquet feed still being written are kept until its footer is."""
    return feed.with_name(feed.name + JOURNAL_SUFFIX)


def previous_path(feed: Path) -> Path:
    """Where a finished Parquet file being appended to is kept until the new one has its footer."""
    return feed.with_name(feed.name + PREVIOUS_SUFFIX)


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
        local = isinstance(name, str) and os.path.isfile(name)
        self.journal_path = journal_path(Path(name)) if local else None
        self.previous_path = previous_path(Path(name)) if local else None
        self.journal: IO[bytes] | None = None
        self.writer: Any = None
        # (url, fingerprint) of the records carried over from a killed crawl's journal (see export_item).
        self.carried: set[tuple[str, str]] = set()

    def start_exporting(self) -> None:
        previous, carried = self._earlier_records()
        self.writer = self._pq.ParquetWriter(self.file, self.schema, compression="zstd")
        if previous is not None:
            earlier = self._pq.ParquetFile(previous)
            for group in range(earlier.num_row_groups):  # one row group in memory at a time
                self.writer.write_table(earlier.read_row_group(group, columns=self.schema.names))
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
            # The footer is in the file now: every record of the journal and the earlier file is readable there.
            self.journal_path.unlink(missing_ok=True)
            self.previous_path.unlink(missing_ok=True)

    def _write_row_group(self) -> None:
        if self.rows:
            self.writer.write_table(self._pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def _earlier_records(self) -> tuple[Path | None, Iterator[dict[str, Any]]]:
        """What the file must start with: an earlier finished file's row groups (appending, ``-o``) and the
        records a stopped crawl left in the journal. The file is emptied: what it held is in those two.

        The steps are ordered so that a crawl killed between any two of them leaves the next run the same
        sources: the finished file is copied aside before the journal exists, and both before truncating.
        """
        has_data = self.file.tell() > 0
        if self.journal_path is None:
            if has_data:
                raise ValueError(f"{self.file.name}: a Parquet feed can only be appended to as a local file")
            return None, iter(())
        journal, previous = self.journal_path, self.previous_path
        stopped = journal.exists()
        if has_data and not stopped and not previous.exists():
            shutil.copyfile(self.file.name, previous)  # a finished file: its footer must move to the end
        if stopped:
            drop_partial_last_line(journal)
        self.journal = journal.open("ab", buffering=0)
        if has_data:
            self.file.truncate(0)
            self.file.seek(0)  # the footer's offsets count from where the writer starts
        # -O replaces the file: an earlier file left aside by a stopped append is not part of it.
        appending = "a" in getattr(self.file, "mode", "")
        earlier = previous if appending and previous.exists() else None
        if earlier is not None:
            try:
                found = self._pq.ParquetFile(earlier)
                if not found.schema_arrow.equals(self.schema):
                    raise ValueError("its columns are not this feed's")
            except (OSError, ValueError, self._pa.ArrowException) as exc:
                # Not a Parquet file, or not one of ours: kept untouched, and this crawl's records still written.
                kept = free_name(earlier.with_name(f"{Path(self.file.name).name}.unreadable"))
                earlier.rename(kept)
                logger.warning("%s cannot be appended to (%s); it is kept as %s and a new file is written",
                               self.file.name, exc, kept)
                earlier = None
            else:
                logger.info("%s: appending; its %d earlier records are written first", self.file.name,
                            found.metadata.num_rows)
        if not stopped:
            return earlier, iter(())
        count = sum(1 for _ in journal.open("rb"))
        logger.warning("%s: the crawl writing it was stopped before its footer; its %d records, kept in %s, are "
                       "written first", self.file.name, count, journal)
        return earlier, _journal_records(journal)


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
