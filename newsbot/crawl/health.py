"""The layout-drift alarm: how often each of a site's own rules fires, against what the site expects.

A redesign renames the classes a site's rules select by. The crawl keeps writing records (the body falls back
to the generic path, metadata to JSON-LD and meta tags), so field coverage alone would not show it: what
changes is that the site's own rules stop firing. For every article page the spider sends
:data:`rules_checked` with the rules that fired (:meth:`SiteRules.rule_hits`, plus ``fallback``). This
extension keeps the last ``NEWSBOT_HEALTH_WINDOW`` pages per site and, whenever that window is full (and once
more at the end of a shorter crawl), compares each rule's hit rate with the rate the site declares in
``expected_rates``:

- a rule firing on less than ``NEWSBOT_DRIFT_RATIO`` of its expected rate raises a WARNING with the words
  ``layout drift``, the site, the rule and both rates; so does a window in which more than half of the
  records took the fallback;
- the progress line names the rules in drift;
- at the end a health report goes to ``NEWSBOT_HEALTH_REPORT`` (``output/<site>/health-<date>.json``): per
  rule the hits, the pages, the rate, the expected rate and whether it is in drift.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

# Sent by the spider for every article page it built (or tried to build) a record from:
# rules_checked(site=<name>, hits={rule: fired, ..., "fallback": took_it}).
rules_checked = object()

# A crawl shorter than the window is judged at its end if it has at least this many pages.
MIN_PAGES = 5
# More than this share of the window's records taking the fallback is drift whatever the rules say.
FALLBACK_SHARE = 0.5


class LayoutHealth:
    def __init__(self, crawler: Crawler, window: int, ratio: float, report: str) -> None:
        self.crawler = crawler
        self.window_size = window
        self.ratio = ratio
        self.report = report
        self.expected: dict[str, float] = {}
        self.site = ""
        self.window: deque[dict[str, bool]] = deque(maxlen=window)
        self.hits: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.pages = 0
        self.drift: dict[str, tuple[float, float]] = {}
        self.judged_full_window = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LayoutHealth:
        window = crawler.settings.getint("NEWSBOT_HEALTH_WINDOW")
        if window <= 0:
            raise NotConfigured
        health = cls(crawler, window, crawler.settings.getfloat("NEWSBOT_DRIFT_RATIO"),
                     crawler.settings.get("NEWSBOT_HEALTH_REPORT") or "")
        crawler.signals.connect(health.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(health.rules_checked, signal=rules_checked)
        crawler.signals.connect(health.spider_closed, signal=signals.spider_closed)
        return health

    def spider_opened(self, spider: Any) -> None:
        rules = getattr(spider, "rules", None)
        self.site = getattr(rules, "name", spider.name)
        self.expected = dict(getattr(rules, "expected_rates", {}) or {})

    def rules_checked(self, site: str, hits: dict[str, bool]) -> None:
        if not self.expected:
            return  # rules that declare no expected rates (the generic ones) have no layout to drift from
        self.pages += 1
        self.window.append(hits)
        stats = self.crawler.stats
        for rule, fired in hits.items():
            self.seen[rule] += 1
            self.hits[rule] += fired
            if fired:
                stats.inc_value(f"newsbot/rules/{rule}")
        if hits.get("fallback"):
            stats.inc_value("newsbot/fallback")
            stats.inc_value(f"newsbot/fallback/{site}")
        if len(self.window) == self.window_size:
            self.judged_full_window = True
            self.judge()

    def judge(self) -> None:
        """Compare the window's rates with the expected ones; warn about each rule that newly drifted."""
        if not self.window:
            return
        now: dict[str, tuple[float, float]] = {}
        for rule, expected in self.expected.items():
            seen = [hits[rule] for hits in self.window if rule in hits]
            if not seen:
                continue
            rate = sum(seen) / len(seen)
            if rate < self.ratio * expected:
                now[rule] = (rate, expected)
        fallback = sum(bool(hits.get("fallback")) for hits in self.window) / len(self.window)
        if fallback > FALLBACK_SHARE:
            now["fallback"] = (fallback, FALLBACK_SHARE)
        for rule, (rate, expected) in now.items():
            if rule in self.drift:
                continue
            if rule == "fallback":
                logger.warning("layout drift on %s: %.0f%% of the last %d records took the generic fallback "
                               "(expected at most %.0f%%)", self.site, 100 * rate, len(self.window), 100 * expected)
            else:
                logger.warning("layout drift on %s: rule %s fired on %.0f%% of the last %d pages (expected %.0f%%)",
                               self.site, rule, 100 * rate, len(self.window), 100 * expected)
        self.drift = now
        self.crawler.stats.set_value("newsbot/drift", self.summary() or None)

    def summary(self) -> str:
        """The rules in drift, for the progress line: ``body 0% (expected 95%), authors 10% (expected 90%)``."""
        return ", ".join(f"{rule} {100 * rate:.0f}% (expected {100 * expected:.0f}%)"
                         for rule, (rate, expected) in self.drift.items())

    def spider_closed(self) -> None:
        if not self.expected or not self.pages:
            return
        if not self.judged_full_window and self.pages >= MIN_PAGES:
            self.judge()
        if self.report:
            self.write_report()

    def write_report(self) -> None:
        path = Path(self.report % {"name": self.site, "date": datetime.now(UTC).strftime("%Y-%m-%d")})
        path.parent.mkdir(parents=True, exist_ok=True)
        rules = {rule: {"hits": self.hits[rule], "pages": self.seen[rule],
                        "rate": round(self.hits[rule] / self.seen[rule], 4) if self.seen[rule] else None,
                        "expected": self.expected.get(rule), "drift": rule in self.drift}
                 for rule in sorted(self.seen)}
        report = {"site": self.site, "pages": self.pages, "window": self.window_size, "drift_ratio": self.ratio,
                  "rules": rules, "drift": {rule: {"rate": round(rate, 4), "expected": expected}
                                            for rule, (rate, expected) in self.drift.items()},
                  "written": datetime.now(UTC).isoformat(timespec="seconds")}
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
