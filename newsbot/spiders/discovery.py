"""Finding articles in a site's listings: the start points of a run, and which listed URLs to request.

A listed URL is requested once per run, only if it is an article URL of the site, may be in the run's
date window, is not in the seen-store (unless ``refresh``) and the run's limit leaves room; each other
outcome is counted as ``newsbot/discovery/<why>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from scrapy.statscollectors import StatsCollector

from newsbot.archive.index import start_urls as archive_start_urls
from newsbot.core.page import ParsedPage
from newsbot.core.urls import strip_tracking
from newsbot.crawl.arguments import RunArguments
from newsbot.crawl.seen import ArticleKeys
from newsbot.fixtures.case import find_cases
from newsbot.sites.base import SiteRules
from newsbot.sites.listings import DateWindow, Entry, Sitemap
from newsbot.spiders.limits import RunLimits


def start_points(rules: SiteRules, window: DateWindow, max_index_days: int) -> list[dict[str, str]]:
    """The site's listings for a run, as seeds: sitemaps, feeds and the index pages of the window's days."""
    seeds = [{"url": url, "kind": "sitemap"} for url in rules.sitemaps]
    seeds += [{"url": url, "kind": "feed"} for url in rules.feeds]
    days = window.days(datetime.now(rules.timezone).date(), max_index_days) if window.bounded else [None]
    seeds += [{"url": url, "kind": "index"} for day in days for url in rules.index_urls(day)]
    return seeds


def given_urls(args: RunArguments, rules: SiteRules) -> list[str]:
    """The article URLs a run without discovery starts from: the archive's articles of the site (``warc``),
    the replayed cases' (``replay``) or the one ``url``."""
    if args.warc:
        return archive_start_urls(list(args.warc), rules)
    if args.replay is not None:
        return [case.url for case in args.cases]
    return [args.url] if args.url else []


def replayed_before(args: RunArguments, rules: SiteRules, url: str, seen: ArticleKeys | None) -> bool:
    """Whether a replayed case was written by an earlier run: replayed cases are articles like any other.
    A URL the user names (``-a url``) is fetched whatever the seen-store says, replayed or not."""
    return args.replay is not None and args.url is None and not args.refresh and seen is not None \
        and rules.article_key(url) in seen


def nothing_to_replay(args: RunArguments, spider: str) -> str:
    """Why a replay folder holds nothing this spider replays, and what to give instead."""
    root = args.replay
    sites = sorted({case.site for case in find_cases(root) if case.kind == "article"}) if root else []
    found = f"its article cases are {', '.join(sites)} cases" if sites else "it holds no article case"
    return (f"replay: nothing to replay for {spider} under {root} ({found}); give a folder of {spider} cases, "
            f"e.g. fixtures/{spider}")


class Discovery:
    """The listed articles of one run still to request."""

    def __init__(self, rules: SiteRules, limits: RunLimits, stats: StatsCollector, *, refresh: bool) -> None:
        self.rules = rules
        self.limits = limits
        self.stats = stats
        self.refresh = refresh
        # Article keys requested in this run: one story listed twice (sitemap and index) is fetched once.
        self.requested: set[str] = set()

    def sitemaps_to_follow(self, sitemap: Sitemap) -> Iterator[str]:
        """The child sitemaps of a sitemap index the site follows that may list articles of the window."""
        follow = self.rules.sitemap_follow
        for child in sitemap.children:
            # A sitemap last changed before ``since`` lists nothing newer.
            if (follow is None or follow.search(child.url)) and not self.limits.before_window(child.modified):
                self.stats.inc_value("newsbot/listings/sitemaps_followed")
                yield child.url

    def next_index_page(self, page: ParsedPage, entries: list[Entry]) -> str | None:
        """The index page after ``page`` if it may still list articles of the window, and the limit leaves room."""
        # Index pages run newest first: once a whole page predates ``since``, later pages are older still.
        dated = [e.published for e in entries if e.published is not None]
        if not entries or (dated and all(self.limits.before_window(d) for d in dated)):
            return None
        next_url = self.rules.next_index_page(page, entries)
        if not next_url or not self.limits.room_for_more():
            return None
        self.stats.inc_value("newsbot/listings/index_pages_followed")
        return next_url

    def articles(self, entries: Iterable[Entry], seen: ArticleKeys | None) -> Iterator[tuple[str, str]]:
        """(URL of the first page, article key) of each entry to request."""
        stats, rules = self.stats, self.rules
        stats.inc_value("newsbot/listings/fetched")
        for entry in entries:
            url = rules.canonical_first_page(strip_tracking(entry.url))
            if not rules.is_article_url(url):
                stats.inc_value("newsbot/discovery/not_article")
                continue
            if not self.limits.admits_entry(entry, rules.url_date(url)):
                stats.inc_value("newsbot/discovery/out_of_window")
                continue
            key = rules.article_key(url)
            if key in self.requested:
                stats.inc_value("newsbot/discovery/repeated")
                continue
            if not self.refresh and seen is not None and key in seen:
                # Counted once per article, however many listings name it.
                self.requested.add(key)
                stats.inc_value("newsbot/discovery/seen")
                continue
            if not self.limits.room_for_more():
                stats.inc_value("newsbot/discovery/over_limit")
                continue
            self.requested.add(key)
            stats.inc_value("newsbot/discovery/articles")
            yield url, key
