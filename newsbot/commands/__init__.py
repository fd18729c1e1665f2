"""newsbot's scrapy commands (``COMMANDS_MODULE``), and the one place where a command that cannot do its
work says so: one line on stderr and an exit code.

====  =============================================================================================
exit  meaning
====  =============================================================================================
0     done (also when nothing was new)
1     failed: nothing could be written because every request failed, a replayed request had no
      fixture, there was nothing to replay, the crawl could not start (Redis or PostgreSQL
      unreachable), or the PostgreSQL database went away mid-crawl and did not come back
2     usage error: an unknown spider, argument or option, or a value it cannot take; nothing started
====  =============================================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any, ClassVar, NoReturn

from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from scrapy.utils.conf import arglist_to_dict
from scrapy.utils.project import get_project_settings

from newsbot.crawl import CannotStart, distributed, postgres
from newsbot.crawl.arguments import ArgumentError

EXIT_FAILED, EXIT_USAGE = 1, 2
# 128 + SIGPIPE: what a shell reports for a writer whose reader went away (``-O - | head``).
EXIT_PIPE_CLOSED = 141


class OneLineErrors:
    """Mixin for a Scrapy command: its usage errors (Scrapy's :class:`UsageError`, a spider's
    :class:`ArgumentError`) end it with one line and exit code 2, a :class:`CannotStart` with one line
    and exit code 1, instead of argparse's usage banner or a traceback.

    A command implements :meth:`check_options` (runs before anything starts: no log, no crawler) and
    :meth:`run_command`.
    """

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        with self.reported():
            super().process_options(args, opts)
            # Scrapy parses the options it knows and leaves the rest among the positional arguments.
            unknown = [arg for arg in args if arg.startswith("-")]
            if unknown:
                raise UsageError(f"unknown option {unknown[0]} (scrapy {self.command_name} --help lists the options)")
            self.check_options(args, opts)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        with self.reported():
            self.run_command(args, opts)

    def check_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Refuse, with :class:`UsageError`, what cannot run."""

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        raise NotImplementedError

    @property
    def command_name(self) -> str:
        return type(self).__module__.rpartition(".")[2]

    @contextlib.contextmanager
    def reported(self) -> Iterator[None]:
        try:
            yield
        except (UsageError, ArgumentError) as exc:
            if not str(exc):
                raise  # Scrapy's own bare UsageError: it prints the command's help
            self.fail(str(exc), EXIT_USAGE)
        except CannotStart as exc:
            self.fail(str(exc), EXIT_FAILED)

    def fail(self, message: str, code: int) -> NoReturn:
        # Whatever the crawl logged went to the log; this line goes to the terminal, and is the last one.
        for handler in logging.root.handlers:
            handler.flush()
        kind = {EXIT_USAGE: "error", EXIT_PIPE_CLOSED: "stopped"}.get(code, "failed")
        print(f"scrapy {self.command_name}: {kind}: {message}", file=sys.stderr, flush=True)
        raise SystemExit(code)


def check_settings(settings: BaseSettings, given: list[str]) -> None:
    """Refuse a ``-s NAME=VALUE`` the setting cannot take, before anything reads it.

    A setting takes values of the type the project (or Scrapy) gives it by default: ``-s DOWNLOAD_DELAY=abc``
    fails here, with its name, instead of as a traceback from the component that reads it.
    """
    reference = get_project_settings()
    for name, value in arglist_to_dict(given).items():
        default = reference.get(name)
        kind = _KINDS.get(type(default))
        if kind is None:
            continue
        read, description = kind
        try:
            read(settings, name)
        except (TypeError, ValueError):
            raise UsageError(f"-s {name}={value}: {name} takes {description} (its default is {default!r})") \
                from None
    level = str(settings.get("LOG_LEVEL"))
    if not isinstance(logging.getLevelName(level.upper()), int):
        raise UsageError(f"log level {level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    url = distributed.redis_url(settings)
    if url:
        try:
            distributed.connect(url)  # parses the URL; no connection is made yet
        except ValueError as exc:
            raise UsageError(f"REDIS_URL={url}: {exc}") from None
    dsn = postgres.dsn_setting(settings)
    if dsn:
        why = postgres.check_dsn(dsn)
        if why:
            raise UsageError(f"NEWSBOT_POSTGRES_DSN is not a PostgreSQL connection string: {why}")


_KINDS: dict[type, tuple[Any, str]] = {
    bool: (BaseSettings.getbool, "true or false"),
    # Scrapy writes some settings it reads as floats with a whole default (DOWNLOAD_TIMEOUT = 180): any
    # number is accepted for them, only a non-number is refused.
    int: (BaseSettings.getfloat, "a number"),
    float: (BaseSettings.getfloat, "a number"),
    dict: (BaseSettings.getdict, "a JSON object"),
}


class ProjectCommand(OneLineErrors):
    """Mixin for a command of newsbot's own (``seed``, ``warc``), before :class:`ScrapyCommand`: run in the
    project, starting what it needs itself rather than Scrapy's crawler process; a subclass names its ``usage``
    and ``summary``. Not a ScrapyCommand itself, which Scrapy would list as a command of this package."""

    requires_project = True
    requires_crawler_process = False
    usage: ClassVar[str] = "[options]"
    summary: ClassVar[str] = ""

    def syntax(self) -> str:
        return self.usage

    def short_desc(self) -> str:
        return self.summary
