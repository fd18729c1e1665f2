"""The PostgreSQL sink: every record upserted into ``articles``, every drop into ``dropped``.

Switched on by ``-s NEWSBOT_POSTGRES_DSN=postgresql://user@host/db`` (or the environment variable of the
same name); without it the pipeline is not built. The feed is written as always: the database is a second
copy for those who serve the records, never the only one.

- ``articles`` has one row per article identity, the seen-store's key (``SiteRules.article_key`` of the
  record's URL), so a re-crawl of a changed article updates its row and never adds a second one, whichever
  worker of a distributed crawl wrote it. Its columns follow the fields of :class:`newsbot.items.Article`
  (snake_case; dates as ``timestamptz`` with the page's UTC offset as text next to them, nested fields as
  ``jsonb``), so a field added to the item becomes a column the next time a crawl opens the database.
- ``newsbot_schema_version`` says which version of this layout the database holds; the tables are created
  on first use, under an advisory lock so that two workers starting together do not race.
- Writes are batched: a transaction of ``NEWSBOT_POSTGRES_BATCH`` rows, or whatever arrived in the last
  ``NEWSBOT_POSTGRES_FLUSH_SECONDS``, and the rest when the spider closes. A batch is COPYed and upserted
  in a thread, one batch at a time, so that the crawl goes on extracting while the database works.

No record is lost when the database goes away. Each record is appended to a journal file
(``NEWSBOT_POSTGRES_JOURNAL``; one file per batch and process) before it goes on to the feed and the
seen-store, and a batch's file is deleted only once the database has committed the batch. A batch that
fails is retried with backoff (``NEWSBOT_POSTGRES_RETRY_TIMES``, ``NEWSBOT_POSTGRES_BACKOFF``); after
the last attempt the crawl stops with one line and exit code 1, its journal kept. The next crawl of the
site on that machine writes every journal it finds (of processes no longer running) to the database
before it crawls. So whatever the feed and the seen-store hold is in the database or in a journal,
whether the database went away, the crawl was killed, or the machine lost power.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
from itemadapter import ItemAdapter
from psycopg.types.json import Jsonb
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later, create_looping_call, run_in_thread, sleep
from scrapy.utils.defer import deferred_from_coro

from newsbot.crawl import CannotStart
from newsbot.crawl.drops import drop_recorded
from newsbot.items import ISO_DATETIME_PATTERN, Article

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# The crawl's finish reason when the database stayed away: `scrapy crawl` turns it into exit code 1.
FINISH_REASON = "postgres-unavailable"


def dsn_setting(settings: Any) -> str | None:
    return settings.get("NEWSBOT_POSTGRES_DSN") or os.environ.get("NEWSBOT_POSTGRES_DSN") or None


def check_dsn(dsn: str) -> str | None:
    """Why ``dsn`` is not a connection string libpq can read, or None (nothing is connected)."""
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        return str(exc).strip().splitlines()[0]
    return None


def where(dsn: str) -> str:
    """The server a DSN names, for messages: never its password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "?"
    host, port, db = info.get("host") or "localhost", info.get("port") or "5432", info.get("dbname") or ""
    return f"{host}:{port}/{db}"


# The articles table, derived from the item ------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    field: str  # the record's field
    name: str  # the column
    sql_type: str
    dated: bool = False  # an ISO 8601 date: timestamptz, plus its offset as text in <name>_offset


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _sql_type(annotation: str) -> str:
    base = annotation.replace(" | None", "").strip()
    return {"str": "text", "bool": "boolean", "int": "integer"}.get(base, "jsonb")


def article_columns() -> list[Column]:
    """One column per field of :class:`Article`, in its order (the single source of truth for the layout)."""
    columns = []
    for item_field in fields(Article):
        dated = item_field.metadata.get("pattern") == ISO_DATETIME_PATTERN
        sql_type = "timestamptz" if dated else _sql_type(str(item_field.type))
        columns.append(Column(item_field.name, _snake(item_field.name), sql_type, dated))
    return columns


COLUMNS = article_columns()
# Bookkeeping next to the record's own fields.
_OWN_COLUMNS = {"first_seen": "timestamptz NOT NULL DEFAULT now()", "updated_at": "timestamptz NOT NULL DEFAULT now()",
                "last_crawled": "timestamptz NOT NULL DEFAULT now()", "content_hash": "text NOT NULL"}


def _column_definitions() -> list[tuple[str, str]]:
    definitions = []
    for column in COLUMNS:
        definitions.append((column.name, column.sql_type))
        if column.dated:
            definitions.append((f"{column.name}_offset", "text"))
    return definitions


def _create_statements() -> list[str]:
    columns = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in _column_definitions())
    own = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in _OWN_COLUMNS.items())
    return [
        "CREATE TABLE IF NOT EXISTS newsbot_schema_version "
        "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        f"CREATE TABLE IF NOT EXISTS articles (\n    key text PRIMARY KEY,\n    {columns},\n    {own}\n)",
        "CREATE INDEX IF NOT EXISTS articles_site ON articles (site)",
        "CREATE INDEX IF NOT EXISTS articles_date_published ON articles (date_published)",
        "CREATE INDEX IF NOT EXISTS articles_fingerprint ON articles (fingerprint)",
        "CREATE TABLE IF NOT EXISTS dropped (id uuid PRIMARY KEY, site text NOT NULL, url text NOT NULL, "
        "reason text NOT NULL, detail text NOT NULL, time timestamptz NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dropped_site_reason ON dropped (site, reason)",
    ]


def _upsert_statement() -> str:
    """Rows COPYed into the session's staging table go into articles: new keys inserted, known ones updated."""
    names = ", ".join(ARTICLE_NAMES)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in ARTICLE_NAMES[1:])
    return (
        f"INSERT INTO articles ({names}) SELECT {names} FROM newsbot_incoming "
        f"ON CONFLICT (key) DO UPDATE SET {updates}, last_crawled = now(), "
        "updated_at = CASE WHEN articles.content_hash IS DISTINCT FROM EXCLUDED.content_hash "
        "THEN now() ELSE articles.updated_at END "
        # A record older than the row (a journal written long after) never overwrites a newer crawl.
        "WHERE coalesce(EXCLUDED.metadata->>'dateDownloaded', '') >= coalesce(articles.metadata->>'dateDownloaded', '')"
    )


ARTICLE_NAMES = ["key"] + [name for name, _ in _column_definitions()] + ["content_hash"]
UPSERT = _upsert_statement()
COPY_INCOMING = f"COPY newsbot_incoming ({', '.join(ARTICLE_NAMES)}) FROM STDIN"
INSERT_DROP = ("INSERT INTO dropped (id, site, url, reason, detail, time) VALUES (%s, %s, %s, %s, %s, %s) "
               "ON CONFLICT (id) DO NOTHING")


def _clean(value: Any) -> Any:
    """PostgreSQL's text and jsonb cannot hold NUL characters; anything else a page has, they can."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _timestamp(text: Any) -> tuple[datetime | None, str | None]:
    if not isinstance(text, str):
        return None, None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, None
    if moment.tzinfo is None:
        return None, None
    offset = text[-6:] if re.search(r"[+-]\d{2}:\d{2}$", text) else "+00:00"
    return moment, offset


def content_json(record: dict[str, Any]) -> str:
    """The record without its metadata, as JSON: what changed is the article, not when it was fetched."""
    return json.dumps({k: v for k, v in record.items() if k != "metadata"}, ensure_ascii=False)


def article_row(key: str, record: dict[str, Any], content_hash: str | None = None) -> tuple[Any, ...]:
    """The row of one record (as :meth:`Article.to_dict` gives it), in the order of :data:`ARTICLE_NAMES`."""
    if content_hash is None:
        content_hash = hashlib.sha256(content_json(record).encode()).hexdigest()
    if _has_nul(record):
        record = _clean(record)
    row: list[Any] = [key]
    for column in COLUMNS:
        value = record.get(column.field)
        if column.dated:
            row.extend(_timestamp(value))
        elif column.sql_type == "jsonb":
            row.append(None if value is None else Jsonb(value))
        else:
            row.append(value)
    row.append(content_hash)
    return tuple(row)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    return False


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` for records, a third of its cost: the record's values are never copied (they
    are strings, numbers and the item's own small dataclasses), only its dataclasses turned into dicts."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            return value
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    return {name: plain(getattr(value, name)) for name in names}


def article_entry(key: str, record: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A record's journal entry and its journal line; the record is serialized once, for both the line and
    the content hash."""
    content = content_json(record)
    content_hash = hashlib.sha256(content.encode()).hexdigest()
    entry = {"kind": "article", "key": key, "hash": content_hash, "record": record}
    line = (f'{{"kind": "article", "key": {json.dumps(key, ensure_ascii=False)}, "hash": "{content_hash}", '
            f'"metadata": {json.dumps(record.get("metadata"), ensure_ascii=False)}, "content": {content}}}\n')
    return entry, line.encode("utf-8")


def drop_row(entry: dict[str, Any]) -> tuple[Any, ...]:
    entry = _clean(entry)
    return (uuid.UUID(entry["id"]), entry["site"], entry["url"], entry["reason"], entry["detail"],
            datetime.fromisoformat(entry["time"]))


# The database ---------------------------------------------------------------------------------------
class Database:
    """One connection, the layout, and batched writes in one transaction each."""

    def __init__(self, dsn: str, connect_timeout: float = 10.0) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self.connection: psycopg.Connection[Any] | None = None

    def connect(self) -> None:
        self.close()
        self.connection = psycopg.connect(self.dsn, connect_timeout=max(1, int(self.connect_timeout)),
                                          application_name="newsbot")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def prepare(self) -> None:
        """Create the tables on first use, add columns for fields the item gained, refuse a newer layout."""
        assert self.connection is not None
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('newsbot-schema'))")
            for statement in _create_statements():
                cursor.execute(statement)
            cursor.execute("SELECT max(version) FROM newsbot_schema_version")
            found = cursor.fetchone()[0]  # type: ignore[index]
            if found is not None and found > SCHEMA_VERSION:
                raise CannotStart(f"the database {where(self.dsn)} holds newsbot's table layout version {found}, "
                                  f"newer than this newsbot's {SCHEMA_VERSION}: upgrade newsbot")
            for name, sql_type in _column_definitions():
                cursor.execute(f"ALTER TABLE articles ADD COLUMN IF NOT EXISTS {name} {sql_type}")
            if found is None:
                cursor.execute("INSERT INTO newsbot_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))

    def write(self, entries: list[dict[str, Any]]) -> None:
        """Write journal entries (articles and drops) in one transaction."""
        assert self.connection is not None
        articles: dict[str, tuple[Any, ...]] = {}
        drops = []
        for entry in entries:
            if entry.get("kind") == "article":
                # Within a batch the later record of an article wins, as it would one batch later.
                articles[entry["key"]] = article_row(entry["key"], entry["record"], entry.get("hash"))
            else:
                drops.append(drop_row(entry))
        with self.connection.transaction(), self.connection.cursor() as cursor:
            if articles:
                # COPY into a staging table, then one upsert: half the cost of a statement per row. Sorted, so
                # that two workers upserting overlapping batches take their row locks in one order.
                cursor.execute("CREATE TEMP TABLE IF NOT EXISTS newsbot_incoming "
                               "(LIKE articles INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                with cursor.copy(COPY_INCOMING) as copy:
                    for key in sorted(articles):
                        copy.write_row(articles[key])
                cursor.execute(UPSERT)
            if drops:
                cursor.executemany(INSERT_DROP, drops)


# The journal ----------------------------------------------------------------------------------------
@dataclass
class Segment:
    """One file of the journal: the records of one batch, locked for as long as the process holds it (so
    another run can tell a live journal from one left behind)."""

    path: Path
    file: IO[bytes]

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.file.close()


class Journal:
    """This process's records not yet committed to the database, one JSON line each. Records are appended
    to the current segment; a batch handed to the database takes that segment with it (``rotate``), and
    the segment is deleted once the database has committed the batch."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.prefix = f"pending-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.count = 0
        self.segment = self._open()

    def _open(self) -> Segment:
        self.count += 1
        path = self.directory / f"{self.prefix}-{self.count:06d}.jsonl"
        file = path.open("ab", buffering=0)
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return Segment(path, file)

    def append(self, entry: dict[str, Any], line: bytes | None = None) -> None:
        # Unbuffered: the entry is with the OS before the record reaches the feed.
        self.segment.file.write(line or (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))

    def rotate(self) -> Segment:
        """The current segment, closed to new records, which go to a new one."""
        full, self.segment = self.segment, self._open()
        return full

    def close(self, keep: bool) -> None:
        if keep:
            self.segment.file.close()
        else:
            self.segment.discard()

    def left_behind(self) -> Iterator[tuple[Path, IO[bytes]]]:
        """Journals of processes that are gone, each opened and locked (so two runs never both take one)."""
        for path in sorted(self.directory.glob("pending-*.jsonl")):
            if path.name.startswith(self.prefix):
                continue
            try:
                file = path.open("rb")
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()  # a crawl still running owns it
                continue
            yield path, file


def read_entries(file: IO[bytes]) -> list[dict[str, Any]]:
    entries = []
    for line in file.read().split(b"\n"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the half-written last line of a killed process: its record never reached the feed
        if isinstance(entry, dict):
            if "content" in entry:  # an article: its record was written as content and metadata
                entry["record"] = {**entry.pop("content"), "metadata": entry.pop("metadata")}
            entries.append(entry)
    return entries


def _chunks(entries: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(entries), size):
        yield entries[start:start + size]


# The pipeline ---------------------------------------------------------------------------------------
class PostgresPipeline:
    """Item pipeline (and drop listener) writing the crawl to PostgreSQL; see the module docstring."""

    def __init__(self, crawler: Crawler, dsn: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = Database(dsn, settings.getfloat("NEWSBOT_POSTGRES_CONNECT_TIMEOUT"))
        self.batch_size = max(1, settings.getint("NEWSBOT_POSTGRES_BATCH"))
        self.flush_seconds = settings.getfloat("NEWSBOT_POSTGRES_FLUSH_SECONDS")
        self.retry_times = max(0, settings.getint("NEWSBOT_POSTGRES_RETRY_TIMES"))
        self.backoff = settings.getfloat("NEWSBOT_POSTGRES_BACKOFF")
        self.pending: list[dict[str, Any]] = []
        self.down: str | None = None  # why the database was given up on
        self.failed_attempts = 0
        # The batch being written (or waiting for its retry) and its journal segment.
        self.batch: tuple[list[dict[str, Any]], Segment] | None = None
        self.closing = False
        self.timer: Any = None
        spider = crawler.spider
        assert spider is not None
        self.site = spider.name
        self.article_key = spider.rules.article_key
        template = settings.get("NEWSBOT_POSTGRES_JOURNAL") or "output/%(name)s/postgres-pending"
        self.journal = Journal(Path(template % {"name": self.site}))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PostgresPipeline:
        dsn = dsn_setting(crawler.settings)
        if not dsn:
            raise NotConfigured
        pipeline = cls(crawler, dsn)
        # Before anything is crawled: a database that cannot be reached or set up stops the command here.
        try:
            pipeline.database.connect()
            pipeline.database.prepare()
            pipeline.write_left_behind()
        except psycopg.Error as exc:
            pipeline.journal.close(keep=False)
            pipeline.database.close()
            raise CannotStart(f"{pipeline.site}: cannot use PostgreSQL at {where(dsn)}: {_reason(exc)}") from None
        except CannotStart:
            pipeline.journal.close(keep=False)
            pipeline.database.close()
            raise
        crawler.signals.connect(pipeline.drop, signal=drop_recorded)
        return pipeline

    def write_left_behind(self) -> None:
        """Write the journals earlier runs left (the database was away, or the crawl was killed), first."""
        for path, file in self.journal.left_behind():
            with file:
                entries = read_entries(file)
                for chunk in _chunks(entries, self.batch_size):
                    self.account(chunk, self.write_now(chunk))
                path.unlink(missing_ok=True)
            if entries:
                logger.info("postgres: wrote %d entries an earlier run left pending in %s", len(entries), path)
                self.stats.inc_value("newsbot/postgres/recovered", len(entries))

    def open_spider(self) -> None:
        if self.flush_seconds > 0:
            self.timer = create_looping_call(self.flush)
            self.timer.start(self.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        record = plain(item) if isinstance(item, Article) else ItemAdapter(item).asdict()
        self.add(*article_entry(self.article_key(record["url"]), record))
        return item

    def drop(self, url: str, reason: str, detail: str) -> None:
        # str(): a Reason is a StrEnum, which psycopg would otherwise write by its member name.
        self.add({"kind": "drop", "id": uuid.uuid4().hex, "site": self.site, "url": url, "reason": str(reason),
                  "detail": detail[:500], "time": datetime.now(UTC).isoformat(timespec="seconds")})

    def add(self, entry: dict[str, Any], line: bytes | None = None) -> None:
        self.journal.append(entry, line)
        self.pending.append(entry)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Hand what is pending to the database, unless a batch is still on its way (it then waits)."""
        if self.batch is not None or self.down or not self.pending:
            return
        self.batch = (self.pending, self.journal.rotate())
        self.pending = []
        self.start_write()

    def start_write(self) -> None:
        deferred_from_coro(self.write_batch())

    async def write_batch(self) -> None:
        """The batch is written in a thread, so that the crawl goes on extracting while the database works.
        A lost database is retried later, with backoff; after the last retry the crawl is stopped."""
        assert self.batch is not None
        entries, segment = self.batch
        try:
            refused = await run_in_thread(self.write_now, entries)
        except psycopg.OperationalError as exc:
            self.failed_attempts += 1
            if self.failed_attempts > self.retry_times:
                self.give_up(exc)
                return
            delay = self.backoff * 2 ** (self.failed_attempts - 1)
            logger.warning("postgres: %s unreachable (%s); retrying in %.1f s", where(self.database.dsn),
                           _reason(exc), delay)
            self.stats.inc_value("newsbot/postgres/retries")
            # Not a sleep: the crawl (and a distributed worker's heartbeat) goes on; the batch waits in its
            # journal segment, and new records in the next one.
            call_later(delay, self.start_write)
            return
        self.failed_attempts = 0
        self.account(entries, refused)
        segment.discard()
        self.batch = None
        if len(self.pending) >= self.batch_size or (self.closing and self.pending):
            self.flush()

    def write_now(self, entries: list[dict[str, Any]]) -> list[tuple[Any, str]]:
        """Write ``entries`` (in whatever thread calls it); the entries the server refused, with why."""
        try:
            if self.database.connection is None or self.database.connection.closed:
                self.database.connect()
            try:
                self.database.write(entries)
                return []
            except psycopg.OperationalError:
                raise
            except psycopg.Error:
                # Not the connection: a value the server refused. Row by row, so that one bad record costs
                # only itself (it is still in the feed).
                refused = []
                for entry in entries:
                    try:
                        self.database.write([entry])
                    except psycopg.OperationalError:
                        raise
                    except psycopg.Error as exc:
                        refused.append((entry.get("record", entry).get("url"), _reason(exc)))
                return refused
        except psycopg.OperationalError:
            self.database.close()
            raise

    def account(self, entries: list[dict[str, Any]], refused: list[tuple[Any, str]]) -> None:
        for url, why in refused:
            logger.warning("postgres: could not write %s (%s); it is in the feed only", url, why)
        if refused:
            self.stats.inc_value("newsbot/postgres/refused", len(refused))
        written = sum(1 for entry in entries if entry["kind"] == "article")
        self.stats.inc_value("newsbot/postgres/articles", written)
        self.stats.inc_value("newsbot/postgres/drops", len(entries) - written)
        self.stats.inc_value("newsbot/postgres/batches")

    def give_up(self, error: BaseException) -> None:
        self.down = (f"{self.site}: PostgreSQL at {where(self.database.dsn)} went away ({_reason(error)}) and did "
                     f"not come back after {self.retry_times} retries; the crawl stopped, and the records it "
                     f"could not write wait in {self.journal.directory} for the next run")
        logger.error("postgres: %s", self.down)
        self.stats.set_value("newsbot/failed", self.down)
        engine = self.crawler.engine
        if engine is not None and not self.closing:
            deferred_from_coro(engine.close_spider_async(reason=FINISH_REASON))

    async def close_spider(self) -> None:
        self.closing = True
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        # The last batches, with their retries, before the crawl ends.
        while not self.down and (self.batch is not None or self.pending):
            self.flush()
            await sleep(0.01)
        # What the database lacks stays in the journal for the next run.
        if self.batch is not None:
            self.batch[1].file.close()
        self.journal.close(keep=bool(self.pending))
        self.database.close()


def _reason(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
