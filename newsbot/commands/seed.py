"""``scrapy seed <site>``: push a site's start points into Redis for distributed workers.

    scrapy seed tribun -s REDIS_URL=redis://10.0.0.5:6379/0                 # sitemaps, feeds, today's index
    scrapy seed tribun -a since=2026-11-01 -a until=2026-11-20 -s REDIS_URL=...   # index pages of those days
    scrapy seed tribun -a url=<article URL> -s REDIS_URL=...                 # one article
    scrapy seed tribun --reset -s REDIS_URL=...                              # forget the site's crawl state

Seeds are JSON objects ``{"url": ..., "kind": "sitemap" | "feed" | "index" | "article"}`` on the list
``newsbot:<site>:seeds``; idle workers (``scrapy crawl <site> -s REDIS_URL=...``) take them.
"""

from __future__ import annotations

import argparse

import redis
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.conf import arglist_to_dict

from newsbot.commands import ProjectCommand, check_settings
from newsbot.crawl import CannotStart, distributed
from newsbot.crawl.arguments import read_arguments
from newsbot.sites import RULES, get_rules
from newsbot.spiders.discovery import start_points

ARGUMENTS = ("since", "until", "url")


class Command(ProjectCommand, ScrapyCommand):
    usage = "[options] <site>"
    summary = "Push a site's start points into Redis for distributed workers"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="since, until or url, as for scrapy crawl")
        parser.add_argument("--reset", action="store_true",
                            help="delete the site's queue, filters, seen-store, seeds and items first")

    def check_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1 or args[0] not in RULES:
            raise UsageError(f"give one site: {', '.join(sorted(RULES))}")
        try:
            opts.spargs = arglist_to_dict(opts.spargs)
        except ValueError:
            raise UsageError("invalid -a value, use -a NAME=VALUE") from None
        unknown = sorted(set(opts.spargs) - set(ARGUMENTS))
        if unknown:
            raise UsageError(f"unknown argument {', '.join(unknown)}; scrapy seed takes {', '.join(ARGUMENTS)}")
        check_settings(self.settings, opts.set)
        if not distributed.redis_url(self.settings):
            raise UsageError("set -s REDIS_URL=redis://host:port/db (or NEWSBOT_REDIS_URL)")

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        site, spargs = args[0], opts.spargs
        url = distributed.redis_url(self.settings)
        if spargs.get("url"):
            seeds = [{"url": spargs["url"], "kind": "article"}]
        else:
            # since/until are read as a crawl reads them (an ArgumentError is a usage error).
            rules = get_rules(site)
            args = read_arguments(site, rules, {"discover": "true", "since": spargs.get("since"),
                                                "until": spargs.get("until")})
            seeds = start_points(rules, args.window, self.settings.getint("NEWSBOT_MAX_INDEX_DAYS"))
        server = distributed.connect(url)
        try:
            if opts.reset:
                print(f"deleted {distributed.reset(server, site)} keys of {site}")
            pushed = distributed.push_seeds(server, site, seeds)
        except redis.RedisError as exc:
            raise CannotStart(f"cannot use Redis at {url}: {exc}") from None
        print(f"pushed {pushed} start points to {distributed.key(site, 'seeds')}")
