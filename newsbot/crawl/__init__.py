"""The crawl's Scrapy components, one concern each, switched on in :mod:`newsbot.settings`."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


def setting_path(crawler: Crawler, name: str) -> Path:
    """The path the setting ``name`` holds; raises NotConfigured, which leaves the component off, when the
    setting is empty (a component that works on a file or folder is on only when one is named)."""
    value = crawler.settings.get(name)
    if not value:
        raise NotConfigured
    return Path(value)


class CannotStart(RuntimeError):
    """The crawl cannot start for a reason outside its arguments, such as a Redis that does not answer:
    one line, exit code 1."""
