"""``scrapy crawl`` that exits non-zero when the crawl lost pages it was asked for.

Scrapy's own command exits 0 whenever the engine started. A replay whose fixtures do not answer a
request, or a crawl whose requests all failed, is a failure a script or CI must see.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

FAILURE_STATS = ("replay/unanswered",)


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            # The spider could not start (bad arguments, broken settings): Scrapy has logged why.
            self.exitcode = 1
            return
        stats = crawler.stats.get_stats()
        failed = {name: stats[name] for name in FAILURE_STATS if stats.get(name)}
        if failed or stats.get("finish_reason") is None:
            self.exitcode = 1
            if failed:
                print(f"crawl failed: {', '.join(f'{k}={v}' for k, v in failed.items())}")
