"""``scrapy crawl`` that checks everything it can before the crawl starts and exits non-zero when the crawl
could not do its work (see :mod:`newsbot.commands` for the exit codes).

Scrapy's own command exits 0 whenever the engine started, and a spider argument it cannot use surfaces
as an asyncio traceback. Here the spider, its arguments and the ``-s`` settings are checked first (one
line, exit 2), and after the crawl a replay whose fixtures did not answer a request, or a crawl that
wrote nothing because every request failed, is a failure a script or CI must see (one line, exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newsbot.commands import EXIT_FAILED, EXIT_PIPE_CLOSED, OneLineErrors, check_settings
from newsbot.crawl import CannotStart
from newsbot.crawl.arguments import ArgumentError
from newsbot.crawl.drops import FETCH_REASONS
from newsbot.crawl.feeds import OUTPUT_CLOSED
from newsbot.spiders.base import ArticleSpider

logger = logging.getLogger(__name__)


class Command(OneLineErrors, ScrapyCrawlCommand):
    spidercls: type[Any]

    def long_desc(self) -> str:
        return ("Run a newsbot spider by name (scrapy list shows them, one line each). "
                "scrapy crawl <spider> -a help=true lists its arguments (-a NAME=VALUE), one line each. "
                "Exit code 0: done; 1: nothing could be written, a replayed request had no fixture, the "
                "crawl could not start, or its PostgreSQL database went away; 2: a usage error, reported "
                "before anything starts; 141: standard output (-O -) was closed by its reader.")

    def check_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        names = sorted(loader.list())
        if len(args) != 1:
            raise UsageError(f"give one spider: {', '.join(names)}")
        if args[0] not in names:
            raise UsageError(f"unknown spider {args[0]!r}; the spiders are {', '.join(names)}")
        self.spidercls = loader.load(args[0])
        if not issubclass(self.spidercls, ArticleSpider):
            return
        if "help" in opts.spargs:
            print(self.spidercls.arguments_help())
            raise SystemExit(0)
        check_settings(self.settings, opts.set)
        # The arguments are read exactly as the crawl will read them, but now, before any log or reactor.
        self.spidercls(**opts.spargs)

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        crawler = self._create_crawler(self.spidercls)
        failed_start = _start_failures(self.crawler_process.crawl(crawler, **opts.spargs))
        self.crawler_process.start()
        if failed_start:
            error = failed_start[0]
            if isinstance(error, UsageError | ArgumentError | CannotStart):
                raise error
            # Anything else is a bug: its traceback is what a report needs.
            logger.error("the crawl could not start", exc_info=(type(error), error, error.__traceback__))
            self.fail(f"the crawl could not start: {type(error).__name__}: {error}", EXIT_FAILED)
        if self.crawler_process.bootstrap_failed:
            self.fail("the crawl could not start (see the log above)", EXIT_FAILED)
        closed = crawler.stats.get_value(OUTPUT_CLOSED)
        if closed is not None:
            self.fail(f"standard output was closed by its reader after {closed} records", EXIT_PIPE_CLOSED)
        why = failure(crawler)
        if why:
            self.fail(why, EXIT_FAILED)


def _start_failures(started: Any) -> list[BaseException]:
    """Collects the exception a crawl failed to start with, so that it is reported once, here, and not
    also as asyncio's "Task exception was never retrieved" traceback."""
    caught: list[BaseException] = []
    if isinstance(started, asyncio.Future):
        def done(task: asyncio.Future[Any]) -> None:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                caught.append(error)
        started.add_done_callback(done)
    elif started is not None:  # a Twisted Deferred (CrawlerProcess with a non-asyncio reactor)
        started.addErrback(lambda f: caught.append(f.value))
    return caught


def failure(crawler: Crawler) -> str | None:
    """Why a finished crawl failed, in one line, or None if it did its work (writing nothing new counts)."""
    stats = crawler.stats.get_stats()
    if stats.get("finish_reason") is None:
        return "the crawl did not finish (see the log above)"
    if stats.get("newsbot/failed"):
        # A component that had to stop the crawl (the PostgreSQL sink whose database stayed away) says why.
        return str(stats["newsbot/failed"])
    if stats.get("replay/no_cases"):
        return "nothing to replay (see the warning above)"
    unanswered = stats.get("replay/unanswered", 0)
    if unanswered:
        return f"{unanswered} replayed request{'s' * (unanswered > 1)} had no fixture (replay/unanswered)"
    if stats.get("item_scraped_count", 0):
        return None
    dropped = {key.removeprefix("newsbot/dropped/"): n for key, n in stats.items()
               if key.startswith("newsbot/dropped/")}
    failed = {reason: n for reason, n in dropped.items() if reason in FETCH_REASONS}
    if stats.get("newsbot/listings/fetch_failed"):
        failed["listings"] = stats["newsbot/listings/fetch_failed"]
    # Anything that was read (a listing, a page judged not to be an article, an article already seen) means
    # the crawl worked and found nothing to write.
    read = sum(n for reason, n in dropped.items() if reason not in FETCH_REASONS) \
        + stats.get("newsbot/listings/fetched", 0) + stats.get("newsbot/discovery/seen", 0) \
        + sum(n for key, n in stats.items() if key.startswith("newsbot/skipped/"))
    if not failed or read:
        return None
    counts = ", ".join(f"{reason} {n}" for reason, n in sorted(failed.items(), key=lambda kv: -kv[1]))
    unreachable = [f"cannot reach {key.removeprefix('newsbot/unreachable/')} ({why})"
                   for key, why in stats.items() if key.startswith("newsbot/unreachable/")]
    return f"nothing written, every request failed: {counts}" + "".join(f"; {u}" for u in unreachable)
