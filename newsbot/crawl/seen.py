"""The seen-store: which articles earlier runs already wrote, so a daily crawl fetches only new ones.

Keys are article identities (``SiteRules.article_key``), not raw URLs, so one story reached on two hosts
or with two slugs is one article. An article is marked only once its record has been handed to the feed,
so a crash never marks an article that was not written. SQLite keeps it in one file with no server; WAL
mode lets a reader (another crawl, a notebook) look while a crawl writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsbot.crawl import distributed
from newsbot.crawl.feeds import RECORD_LINES, last_records, local_feeds, output_closed
from newsbot.items import Article

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    first_seen TEXT NOT NULL
)
"""


class SeenStore:
    """A persistent set of article keys, backed by one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A record is already in the feed file when its key is written; losing the last few keys on a power
        # cut costs a refetch, never a record, so full fsync per article is not worth its price.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return self._db.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def add(self, keys: Iterable[str], url: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._db.executemany("INSERT OR IGNORE INTO seen (key, url, first_seen) VALUES (?, ?, ?)",
                             [(key, url, now) for key in dict.fromkeys(keys)])

    def close(self) -> None:
        self._db.close()


class ArticleKeys(Protocol):
    """What a store is kept for: a set of article keys that only grows."""

    def __contains__(self, key: object) -> bool: ...

    def add(self, keys: Iterable[str], url: str) -> None: ...

    def close(self) -> None: ...


class SeenRecorder:
    """Extension: the seen-store of a crawl (``NEWSBOT_SEEN_STORE``, or Redis when the crawl is distributed).

    Built before the feed exporter (its order in ``EXTENSIONS`` is below 0), so that on ``spider_opened``
    it reads the feed files' last records before the exporter opens them, and it listens to
    ``item_scraped`` only from then on, after the exporter: a record is on disk before its article is
    marked, and a crash between the two never loses a record; the records at the end of the feed count as
    seen, so such a crash does not write a record twice either.
    """

    def __init__(self, crawler: Crawler, store: ArticleKeys) -> None:
        self.crawler = crawler
        self.store = store
        for handler, signal in ((self.spider_opened, signals.spider_opened),
                                (self.spider_closed, signals.spider_closed)):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenRecorder:
        name = getattr(crawler.spider, "name", "crawl")
        if url := distributed.redis_url(crawler.settings):
            return cls(crawler, distributed.RedisSeenStore(distributed.connect(url), name))
        if template := crawler.settings.get("NEWSBOT_SEEN_STORE"):
            return cls(crawler, SeenStore(Path(template % {"name": name})))
        raise NotConfigured

    def spider_opened(self) -> None:
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        for path, options in local_feeds(self.crawler):
            if not path.is_file() or options.get("format") not in RECORD_LINES:
                continue
            for record in last_records(path):
                self.store.add(self._keys(record.get("url"), record.get("canonicalUrl")), record.get("url") or "")

    def item_scraped(self, item: Any) -> None:
        # After the exporter: once standard output has lost its reader, a record scraped did not reach it.
        if isinstance(item, Article) and not output_closed(self.crawler):
            self.store.add(self._keys(item.url, item.canonicalUrl), item.url)

    def spider_closed(self) -> None:
        self.store.close()

    def _keys(self, *urls: object) -> list[str]:
        """The keys of a record: its URL's and its canonical URL's article identity."""
        rules = getattr(self.crawler.spider, "rules", None)
        key = rules.article_key if rules is not None else str
        return [key(u) for u in urls if isinstance(u, str) and u]


def seen_store(crawler: Crawler) -> ArticleKeys | None:
    """The crawl's seen-store, or None when it has none (``NEWSBOT_SEEN_STORE`` empty). Only once the
    extensions are built: from ``spider_opened`` on."""
    recorder = crawler.get_extension(SeenRecorder)
    return recorder.store if recorder is not None else None
