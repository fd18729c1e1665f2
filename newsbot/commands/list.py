"""``scrapy list``: one line per spider, its name and what it crawls."""

from __future__ import annotations

import argparse

from scrapy.commands.list import Command as ScrapyListCommand
from scrapy.spiderloader import get_spider_loader

from newsbot.commands import OneLineErrors


class Command(OneLineErrors, ScrapyListCommand):
    def short_desc(self) -> str:
        return "List the spiders, one line each: name and what it crawls"

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        names = sorted(loader.list())
        width = max(map(len, names), default=0)
        for name in names:
            describe = getattr(loader.load(name), "describe", None)
            print(f"{name:<{width}}  {describe()}" if describe else name)
