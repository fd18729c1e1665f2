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
