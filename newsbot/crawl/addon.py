"""The Scrapy add-on that turns a spider's arguments into settings.

Scrapy builds the spider first and then, before any other component, runs the add-ons' ``update_settings``
on settings that are still open; they are frozen right after the extensions are built. So this add-on sees
the arguments already checked (:class:`~newsbot.crawl.arguments.RunArguments`, the spider's ``args``) and
switches the download path before the middlewares that read it exist: ``replay`` serves fixture cases,
``warc`` serves WARC records, ``record`` stores what a live crawl fetched. It also names the default feed.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from newsbot.archive import is_warc_path
from newsbot.crawl.arguments import RunArguments

# Replaying fixtures or an archive must be fast and must never wait on politeness meant for live servers.
REPLAY_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "RETRY_ENABLED": False,
}


class CrawlerAddon:
    """An add-on that reads its crawler (the spider, already built) when it updates the settings."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlerAddon:
        return cls(crawler)


class SpiderArguments(CrawlerAddon):
    """Settings a run's spider arguments imply, at the spider's priority (over the project's settings,
    under ``-s``)."""

    def update_settings(self, settings: BaseSettings) -> None:
        args = getattr(self.crawler.spider, "args", None)
        if isinstance(args, RunArguments):
            apply_arguments(args, settings)
        if not settings.getdict("FEEDS") and settings.get("NEWSBOT_FEED"):
            # A default, not a setting: Scrapy adds -o/-O feeds to FEEDS, and a user who names a feed wants
            # only that one.
            settings.set("FEEDS", {settings.get("NEWSBOT_FEED"): {
                "format": "jsonlines", "encoding": "utf8", "store_empty": False}}, priority="spider")


def apply_arguments(args: RunArguments, settings: BaseSettings) -> None:
    """Point the download path at the fixtures, the archive or the recorder that ``args`` name."""
    if args.replay is not None:
        settings.set("REPLAY_DIR", str(args.replay), priority="spider")
    if args.warc:
        settings.set("WARC_PATHS", [str(path) for path in args.warc], priority="spider")
    if args.replay is not None or args.warc:
        for name, value in REPLAY_SETTINGS.items():
            settings.set(name, value, priority="spider")
    if args.record is not None:
        record_to = "WARC_RECORD" if is_warc_path(args.record) else "RECORD_DIR"
        settings.set(record_to, str(args.record), priority="spider")
