"""The archive pass behind ``scrapy warc``: every article record of some WARC files through the extraction
core, with the crawl's drops and accounting, in one or more processes, into one feed.

Two phases:

1. **Read.** The files are cut into segments (a one-member-per-record gzip file into byte ranges, any
   other file whole) and each segment is read by one process. Each HTTP response record is routed by its
   URL (:mod:`newsbot.archive.router`): other hosts, non-article URLs and further pages of articles are
   only counted (their positions are kept, to be read on demand). An article's page 1 is read, checked
   and, when it is a single page, turned into its record at once: the common case costs one read.
2. **Resolve.** What needs other records of the archive (a multi-page article, a redirect, an error
   answer that a later record of the same URL may supersede) was set aside in phase 1 with its position;
   now, with the positions of every record of the known sites at hand, it is extracted the way the
   spider extracts it: the all-pages view if the archive has it, else page by page, and a page the
   archive lacks drops the article as ``not-in-archive``.

Worker processes send back small batches (records as JSON lines, drops, counts); the parent validates
nothing twice, drops duplicates within the pass (same canonical URL or body fingerprint, as
``DuplicatePipeline``), writes the feed and the drop log, and logs progress.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urljoin

from newsbot.archive.extraction import REDIRECT_CODES, ArticleDropped, Fetcher, article_record
from newsbot.archive.index import ArchiveIndex
from newsbot.archive.reader import (
    ArchiveError,
    ArchiveFile,
    HttpResponse,
    RecordHead,
    Segment,
    open_archive,
    read_at,
    scan,
    segments,
)
from newsbot.archive.router import ARTICLE, Route, Router
from newsbot.archive.workers import StopPass, run_tasks
from newsbot.core.language import warm_up
from newsbot.core.reasons import Reason
from newsbot.crawl.extensions import WarmUp, rss_mb
from newsbot.crawl.feeds import drop_partial_last_line
from newsbot.items import Article
from newsbot.schema import validation_errors
from newsbot.sites import get_rules

logger = logging.getLogger(__name__)

# A worker reports back after this many outcomes, or this many records read, whichever comes first.
BATCH_OUTCOMES = 32
BATCH_RECORDS = 5_000
# Deferred articles handed to a worker at once in phase 2.
RESOLVE_CHUNK = 16


# What workers send back ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Written:
    site: str
    url: str
    keys: tuple[str, ...]
    line: str


@dataclass(frozen=True, slots=True)
class Dropped:
    site: str
    url: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """An article record that needs other records of the archive (phase 2)."""

    site: str
    url: str
    file: int
    position: int
    ok: bool  # a 2xx answer (a multi-page article), not a redirect or an error


@dataclass
class Batch:
    outcomes: list[Written | Dropped | Deferred] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    # (url, file, position) of the known sites' records that are not an article's first page (further
    # pages, listings): what phase 2 may look up. First pages set aside carry their own position.
    located: list[tuple[str, int, int]] = field(default_factory=list)
    # Article URLs whose 2xx record phase 1 turned into a record or a drop.
    answered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rss_mb: float = 0.0


Emit = Callable[[Batch], None]


@dataclass
class PassState:
    """What every worker needs; inherited by forked workers, pickled for spawned ones."""

    files: list[ArchiveFile]
    sites: list[str]
    generic: bool
    max_size: int
    index: ArchiveIndex | None = None
    # url_key() of the article URLs answered in phase 1.
    answered: set[int] = field(default_factory=set)
    _router: Router | None = None

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router(self.sites, self.generic)
        return self._router


_STATE: PassState | None = None


def url_key(text: str) -> int:
    """A 64-bit key for a URL or duplicate key: what the pass keeps per article instead of the string
    (a collision is a chance in 10^9 among 10^5 articles). Stable across processes, unlike hash()."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest())


def install(state: PassState) -> None:
    """Make ``state`` this process's: in each worker before its first task (and here, for one process)."""
    global _STATE
    _STATE = state
    gc.set_threshold(*WarmUp.GC_THRESHOLDS)


def _state() -> PassState:
    assert _STATE is not None, "a pass worker runs without its state"
    return _STATE


# Phase 1: read segments ---------------------------------------------------------------------------------
class OutputClosed(StopPass):
    """The feed is a pipe whose reader has stopped reading (``scrapy warc ... -O - | head``)."""

    def __init__(self, records: int) -> None:
        super().__init__(f"standard output was closed by its reader after {records} records")
        self.records = records


class _Deferral(Exception):
    """The article needs a record other than the one in hand."""


def read_segment(segment: Segment, emit: Emit) -> None:
    state = _state()
    file = state.files[segment.file]
    batch, read = Batch(), Counter[str]()
    for head in scan(file, segment.start, segment.end, counts=read):
        if isinstance(head, ArchiveError):
            batch.counts[f"archive/bad/{head.reason}"] += 1
            batch.problems.append(str(head))
        else:
            outcome = _first_look(state, segment.file, head, batch)
            if outcome is not None:
                batch.outcomes.append(outcome)
        if len(batch.outcomes) >= BATCH_OUTCOMES or read["records"] >= BATCH_RECORDS:
            batch.counts.update({f"archive/{key}": value for key, value in read.items()})
            read.clear()
            _send(emit, batch)
            batch = Batch()
    batch.counts.update({f"archive/{key}": value for key, value in read.items()})
    _send(emit, batch)


def _first_look(state: PassState, file: int, head: RecordHead, batch: Batch) -> Written | Dropped | Deferred | None:
    counts = batch.counts
    counts["archive/responses"] += 1
    route = state.router.route(head.url)
    if route is None:
        counts["archive/other_hosts"] += 1
        return None
    site = route.site
    counts[f"{site}/responses"] += 1
    if route.kind != ARTICLE:
        batch.located.append((head.url, file, head.position))
        counts[f"{site}/{route.kind}_urls"] += 1
        return None
    counts[f"{site}/articles"] += 1
    try:
        response = head.response()
    except ArchiveError as problem:
        counts[f"archive/bad/{problem.reason}"] += 1
        return Dropped(site, head.url, problem.reason, problem.detail)
    if not 200 <= response.status < 300:
        # A redirect or an error: another record of the URL may answer it, or its target may be archived.
        return Deferred(site, head.url, file, head.position, ok=False)

    def in_hand(url: str) -> HttpResponse:
        if url != response.url:
            raise _Deferral(url)
        return response

    try:
        outcome = _outcome(route, head.url, Fetcher(in_hand, route.rules.domains, state.max_size), counts)
    except _Deferral:
        return Deferred(site, head.url, file, head.position, ok=True)
    batch.answered.append(head.url)
    return outcome


def _outcome(route: Route, url: str, fetcher: Fetcher, counts: Counter[str]) -> Written | Dropped:
    try:
        article = article_record(url, route.rules, fetcher, counts)
    except ArticleDropped as dropped:
        return Dropped(route.site, dropped.url, dropped.reason, dropped.detail)
    return _written(route.site, article)


def _written(site: str, article: Article) -> Written | Dropped:
    record = article.to_dict()
    errors = validation_errors(record)
    if errors:
        return Dropped(site, article.url, Reason.INVALID_RECORD, f"record breaks the schema: {'; '.join(errors)}")
    keys = (f"url:{article.canonicalUrl or article.url}", f"body:{article.fingerprint}")
    # The feed exporter's format: UTF-8 JSON, one record per line, fields in item order.
    return Written(site, article.url, keys, json.dumps(record, ensure_ascii=False))


def _send(emit: Emit, batch: Batch) -> None:
    if batch.outcomes or batch.counts or batch.located or batch.problems:
        batch.rss_mb = rss_mb()
        emit(batch)


# Phase 2: resolve what needed the rest of the archive -----------------------------------------------------
def resolve(items: list[Deferred], emit: Emit) -> None:
    state = _state()
    batch = Batch()
    for item in items:
        outcome = _resolved(state, item, batch.counts)
        if outcome is not None:
            batch.outcomes.append(outcome)
    _send(emit, batch)


def _resolved(state: PassState, item: Deferred, counts: Counter[str]) -> Written | Dropped | None:
    index = state.index
    assert index is not None, "phase 2 runs with the index of phase 1"
    if not item.ok and (url_key(item.url) in state.answered or index.where.get(item.url) != (item.file, item.position)):
        # Another record of the URL answers it (the 200 of a retry before or after this 503, a later
        # fetch): that one stands for the article.
        counts[f"{item.site}/skipped/superseded"] += 1
        return None
    route = Route(get_rules(item.site), ARTICLE)
    try:
        own = read_at(state.files[item.file], item.position)
    except ArchiveError as problem:
        return Dropped(item.site, item.url, problem.reason, problem.detail)
    if own.status in REDIRECT_CODES and (location := own.header(b"Location")):
        target = urljoin(item.url, location.decode("latin-1").strip())
        then = state.router.route(target)
        archived = url_key(target) in state.answered or target in index
        if then is not None and then.site == item.site and then.kind == ARTICLE and archived:
            # Its target's own record stands for the article (an http -> https move, a renamed slug).
            counts[f"{item.site}/skipped/redirected"] += 1
            return None
    return _outcome(route, item.url, Fetcher(index.get, route.rules.domains, state.max_size), counts)


# The pass -----------------------------------------------------------------------------------------------
@dataclass
class PassResult:
    counts: Counter[str]
    files: list[str]
    unreadable: dict[str, str]
    seconds: float
    rss_mb_at: dict[int, tuple[float, float]]

    @property
    def readable_records(self) -> int:
        return self.counts["archive/records"]

    def sites(self) -> list[str]:
        return sorted({key.split("/", 1)[0] for key in self.counts if not key.startswith("archive/")})

    def summary(self) -> dict[str, Any]:
        """The pass in numbers, as ``--stats`` writes it: files, records by fate, and per site the article
        records and what became of each (records + dropped + skipped = articles)."""
        archive = {key.removeprefix("archive/"): value for key, value in self.counts.items()
                   if key.startswith("archive/")}
        per_site = {}
        for site in self.sites():
            mine = {key.split("/", 1)[1]: value for key, value in self.counts.items() if key.startswith(f"{site}/")}
            per_site[site] = {
                "articles": mine.get("articles", 0),
                "records": mine.get("records", 0),
                "dropped": {k.removeprefix("dropped/"): v for k, v in sorted(mine.items()) if k.startswith("dropped/")},
                "skipped": {k.removeprefix("skipped/"): v for k, v in sorted(mine.items()) if k.startswith("skipped/")},
                "pages": mine.get("page_urls", 0),
                "not_article": mine.get("other_urls", 0),
                "all_pages_fallback": mine.get("pagination/all_pages_fallback", 0),
            }
        return {"files": self.files, "unreadable_files": self.unreadable, "seconds": round(self.seconds, 3),
                "archive": dict(sorted(archive.items())), "sites": per_site,
                "rss_mb_at": {str(k): {"pass": v[0], "worker": v[1]} for k, v in sorted(self.rss_mb_at.items())}}


class ArchivePass:
    """One pass over ``paths``; see the module docstring. ``feed`` and ``drop_log`` are files to write (None:
    none); ``append`` keeps what the feed holds."""

    def __init__(self, paths: Sequence[Path], *, sites: Iterable[str], generic: bool = False, processes: int = 1,
                 feed: Path | None = None, append: bool = False, drop_log: Path | None = None,
                 max_size: int = 10 * 1024 * 1024, segment_bytes: int = 16 << 20,
                 progress_interval: float = 60.0) -> None:
        self.paths = list(paths)
        self.sites = list(sites)
        self.generic = generic
        self.processes = max(1, processes)
        self.feed_path, self.append, self.drop_log_path = feed, append, drop_log
        self.max_size = max_size
        self.segment_bytes = max(1, segment_bytes)
        self.progress_interval = progress_interval
        self.counts: Counter[str] = Counter()
        # What the pass keeps per article: three 64-bit keys (its two duplicate keys, its URL answered).
        self.seen: set[int] = set()
        self.answered: set[int] = set()
        # Set aside for phase 2, and where phase 2 looks records up.
        self.deferred: list[Deferred] = []
        self.index = ArchiveIndex([])
        self._answered_later: set[str] = set()
        self.rss_mb_at: dict[int, tuple[float, float]] = {}
        self._feed: BinaryIO | None = None
        self._drops: BinaryIO | None = None
        self._outcomes = 0
        self._problems_logged = 0
        self._last_progress = time.monotonic()

    def run(self) -> PassResult:
        started = time.perf_counter()
        files, unreadable = [], {}
        for path in self.paths:
            try:
                files.append(open_archive(path))
            except ArchiveError as problem:
                unreadable[str(path)] = problem.reason
                self.counts[f"archive/files_unreadable/{problem.reason}"] += 1
                logger.error("skipped %s: %s", path, problem)
        self.counts["archive/files"] = len(self.paths)
        state = PassState(files, self.sites, self.generic, self.max_size)
        self.index = ArchiveIndex(files)
        # Loaded once here, so forked workers share the language profiles instead of each loading them.
        warm_up()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*WarmUp.GC_THRESHOLDS)
        self._last_progress = time.monotonic()
        try:
            self._open_outputs()
            units = segments(files, self._segment_bytes(files))
            lost = run_tasks(read_segment, units, self.processes, self._handle, setup=partial(install, state),
                             describe=lambda unit: _describe(files, unit))
            if self.deferred:
                state.index, state.answered = self.index, self.answered
                chunks = [self.deferred[i:i + RESOLVE_CHUNK] for i in range(0, len(self.deferred), RESOLVE_CHUNK)]
                lost += run_tasks(resolve, chunks, self.processes, self._handle, setup=partial(install, state),
                                  describe=lambda chunk: f"{len(chunk)} multi-page or redirected articles")
            for why, count in lost.items():
                self.counts[f"archive/units_{why}"] += count
        finally:
            self._close_outputs()
        result = PassResult(self.counts, [str(p) for p in self.paths], unreadable, time.perf_counter() - started,
                            self.rss_mb_at)
        self._log_progress(final=True)
        return result

    def _segment_bytes(self, files: list[ArchiveFile]) -> int:
        if self.processes == 1:
            return self.segment_bytes
        # Many segments per process, so that the last one to finish is a short wait for the others.
        total = sum(file.size for file in files if file.splittable)
        return max(1 << 18, min(self.segment_bytes, total // (self.processes * 32) or 1))

    # Batches from the workers ------------------------------------------------------------------------------
    def _handle(self, batch: Batch) -> None:
        self.counts.update(batch.counts)
        for url, file, position in batch.located:
            self.index.add(url, file, position)
        self.answered.update(map(url_key, batch.answered))
        for problem in batch.problems:
            if self._problems_logged < 20:
                logger.warning("archive: %s", problem)
            self._problems_logged += 1
        for outcome in batch.outcomes:
            if isinstance(outcome, Deferred):
                self._set_aside(outcome)
                continue
            self._outcomes += 1
            if isinstance(outcome, Written):
                self._write(outcome)
            else:
                self._drop(outcome.site, outcome.url, outcome.reason, outcome.detail)
            if self._outcomes % 1000 == 0:
                # This process (the feed, the duplicate keys, the index) and the worker that sent the batch.
                self.rss_mb_at[self._outcomes] = (rss_mb(), batch.rss_mb)
        if self.progress_interval > 0 and time.monotonic() - self._last_progress >= self.progress_interval:
            self._log_progress()

    def _set_aside(self, item: Deferred) -> None:
        self.deferred.append(item)
        # Phase 2 reads a URL from its 2xx record if there is one, else from its last record.
        if item.ok:
            self._answered_later.add(item.url)
            self.index.where[item.url] = (item.file, item.position)
        elif item.url not in self._answered_later:
            self.index.add(item.url, item.file, item.position)

    def _write(self, written: Written) -> None:
        keys = [url_key(key) for key in written.keys]
        if self.seen.intersection(keys):
            self._drop(written.site, written.url, Reason.DUPLICATE, f"duplicate of an earlier record: {written.url}")
            return
        self.seen.update(keys)
        if self._feed is not None:
            try:
                self._feed.write(written.line.encode("utf-8") + b"\n")
            except BrokenPipeError:
                raise OutputClosed(sum(v for k, v in self.counts.items() if k.endswith("/records"))) from None
        self.counts[f"{written.site}/records"] += 1

    def _drop(self, site: str, url: str, reason: str, detail: str) -> None:
        self.counts[f"{site}/dropped/{reason}"] += 1
        if self._drops is not None:
            line = {"url": url, "reason": reason, "detail": detail[:500],
                    "time": datetime.now(UTC).isoformat(timespec="seconds")}
            self._drops.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))

    def _open_outputs(self) -> None:
        if self.feed_path is not None:
            self.feed_path.parent.mkdir(parents=True, exist_ok=True)
            if self.append:
                drop_partial_last_line(self.feed_path)
            # Unbuffered, as the crawl's feed: a killed pass loses at most the record being written.
            self._feed = self.feed_path.open("ab" if self.append else "wb", buffering=0)
        if self.drop_log_path is not None:
            self.drop_log_path.parent.mkdir(parents=True, exist_ok=True)
            self._drops = self.drop_log_path.open("ab", buffering=0)

    def _close_outputs(self) -> None:
        for file in (self._feed, self._drops):
            if file is not None:
                file.close()

    # Progress ----------------------------------------------------------------------------------------------
    def _log_progress(self, final: bool = False) -> None:
        self._last_progress = time.monotonic()
        logger.info("%s: %s", "finished" if final else "progress", progress_line(self.counts))


def progress_line(counts: Counter[str]) -> str:
    """``1200 WARC records, 450 responses of other hosts; tribun 30 articles: 28 records, dropped 2
    (too-short 2); bad records 1 (truncated 1)``."""
    parts = [f"{counts['archive/records']} WARC records", f"{counts['archive/other_hosts']} responses of other hosts"]
    sites = sorted({key.split("/", 1)[0] for key in counts if not key.startswith("archive/")})
    for site in sites:
        dropped = {k.rsplit("/", 1)[1]: v for k, v in counts.items() if k.startswith(f"{site}/dropped/") and v}
        skipped = sum(v for k, v in counts.items() if k.startswith(f"{site}/skipped/"))
        text = (f"{site} {counts[f'{site}/articles']} articles: {counts[f'{site}/records']} records, "
                f"dropped {sum(dropped.values())}")
        if dropped:
            text += " (" + ", ".join(f"{r} {n}" for r, n in sorted(dropped.items(), key=lambda kv: -kv[1])) + ")"
        if skipped:
            text += f", skipped {skipped}"
        parts.append(text)
    bad = {k.rsplit("/", 1)[1]: v for k, v in counts.items() if k.startswith("archive/bad/") and v}
    if bad:
        parts.append(f"bad records {sum(bad.values())} (" + ", ".join(f"{r} {n}" for r, n in sorted(bad.items())) + ")")
    unreadable = {k.rsplit("/", 1)[1]: v for k, v in counts.items() if k.startswith("archive/files_unreadable/")}
    if unreadable:
        parts.append(f"unreadable files {sum(unreadable.values())} ("
                     + ", ".join(f"{r} {n}" for r, n in sorted(unreadable.items())) + ")")
    return "; ".join(parts)


def _describe(files: list[ArchiveFile], unit: Segment) -> str:
    path = files[unit.file].path
    if unit.start == 0 and unit.end is None:
        return str(path)
    return f"{path} bytes {unit.start}-{unit.end if unit.end is not None else 'end'}"
