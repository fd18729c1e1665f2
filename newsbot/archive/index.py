"""Where each URL's response lies in a set of WARC files, so that any of them can be read on demand."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from newsbot.archive.reader import ArchiveError, ArchiveFile, HttpResponse, open_archive, read_at, scan
from newsbot.archive.router import ARTICLE, GENERIC, Router, site_names
from newsbot.sites.base import SiteRules

logger = logging.getLogger(__name__)


class ArchiveIndex:
    """URL -> (file, position) of its response record. When the archive holds a URL more than once, the
    last record answers it, as the last fetch is what the crawler kept (a 503 then a 200 after a retry)."""

    def __init__(self, files: Sequence[ArchiveFile]) -> None:
        self.files = list(files)
        self.where: dict[str, tuple[int, int]] = {}
        self.unreadable: dict[str, str] = {}
        self.counts: Counter[str] = Counter()

    @classmethod
    def build(cls, paths: Sequence[Path]) -> ArchiveIndex:
        """Scan ``paths`` (headers only; bodies are read when asked for). Unreadable files and broken
        stretches are logged and counted, never fatal."""
        files = []
        unreadable = {}
        for path in paths:
            try:
                files.append(open_archive(path))
            except ArchiveError as problem:
                unreadable[str(path)] = problem.reason
                logger.error("warc: skipped %s: %s", path, problem)
        index = cls(files)
        index.unreadable = unreadable
        for number, file in enumerate(files):
            for head in scan(file, counts=index.counts):
                if isinstance(head, ArchiveError):
                    index.counts[f"bad/{head.reason}"] += 1
                    logger.warning("warc: %s", head)
                else:
                    index.add(head.url, number, head.position)
        return index

    def add(self, url: str, file: int, position: int) -> None:
        if (file, position) > self.where.get(url, (-1, -1)):
            self.where[url] = (file, position)

    def __contains__(self, url: str) -> bool:
        return url in self.where

    def __len__(self) -> int:
        return len(self.where)

    def get(self, url: str) -> HttpResponse | None:
        """The response archived for ``url``, None if there is none; ArchiveError if its record is broken."""
        where = self.where.get(url)
        return None if where is None else read_at(self.files[where[0]], where[1])

    def article_urls(self, site: str) -> list[str]:
        """The first pages of ``site``'s articles in the archive, in archive order: where a crawl of the
        archive starts. For the generic rules: every page of a host no other site claims."""
        router = Router(site_names(None), generic=True) if site == GENERIC else Router([site])
        urls = []
        for url in sorted(self.where, key=self.where.__getitem__):
            route = router.route(url)
            if route is not None and route.site == site and route.kind == ARTICLE:
                urls.append(url)
        return urls


@functools.lru_cache(maxsize=4)
def open_index(paths: tuple[Path, ...]) -> ArchiveIndex:
    """One index per set of files and process: the spider (start URLs) and the replay middleware share it."""
    return ArchiveIndex.build(paths)


def start_urls(paths: Sequence[Path], rules: SiteRules) -> list[str]:
    """Where a crawl of the archive starts: the first page of each of the site's articles in it, once per
    article (one story under two URLs, one with tracking parameters, is fetched once, as in discovery)."""
    keys: set[str] = set()
    urls = []
    for url in open_index(tuple(paths)).article_urls(rules.name):
        key = rules.article_key(url)
        if key not in keys:
            keys.add(key)
            urls.append(url)
    return urls
