"""The spider arguments (``-a NAME=VALUE``) of every site spider: their one-line help, and reading them into
:class:`RunArguments`, refusing what cannot be used with :class:`ArgumentError` before anything starts.

``scrapy crawl`` reads the arguments twice, exactly the same way: once before any log or reactor (a usage
error is one line and exit code 2) and once when the crawler builds the spider.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsbot.archive import expand_paths
from newsbot.fixtures.case import Case, CaseError, find_cases
from newsbot.sites import RULES
from newsbot.sites.base import SiteRules
from newsbot.sites.listings import DateWindow

# The only names accepted, and what ``scrapy crawl <site> -a help=true`` lists (value: meaning).
ARGUMENTS: dict[str, str] = {
    "url": "URL: fetch this one article (all its pages), no discovery; the seen-store does not stop it",
    "since": "YYYY-MM-DD: only articles published on or after this day (the site's local time)",
    "until": "YYYY-MM-DD: only articles published on or before this day",
    "limit": "N: stop after N records; what is left is fetched by the next run",
    "refresh": "true: fetch articles the seen-store already knows, too (they are written again)",
    "replay": "DIR: answer every request from the fixture cases under DIR instead of the network",
    "discover": "true: with replay, start from the site's listings (the default without url and replay)",
    "record": "DIR: store every live response as a new fixture case in DIR (PATH.warc.gz: as a WARC file)",
    "warc": "PATHS: read the pages from these WARC files (comma-separated, globs allowed) instead of the network",
}

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message names it and says why. ``scrapy crawl``
    reports it before the crawl starts as a usage error: one line, exit code 2."""


@dataclass(frozen=True)
class RunArguments:
    """What one run of a site spider was asked to do, checked."""

    url: str | None = None
    window: DateWindow = field(default_factory=DateWindow)
    limit: int | None = None
    refresh: bool = False
    discover: bool = False
    replay: Path | None = None
    # The article cases this run replays (with ``replay``): the one that starts from ``url``, or all the site's.
    cases: tuple[Case, ...] = ()
    record: Path | None = None
    warc: tuple[Path, ...] = ()


def read_arguments(spider: str, rules: SiteRules, given: dict[str, Any]) -> RunArguments:
    """The arguments ``given`` to the spider named ``spider`` (reading ``rules``), or :class:`ArgumentError`."""
    unknown = sorted(set(given) - set(ARGUMENTS))
    if unknown:
        raise ArgumentError(_unknown_arguments(spider, unknown))
    url, replay = _absolute_url(given.get("url")), given.get("replay")
    try:
        warc = tuple(expand_paths([given["warc"]])) if given.get("warc") else ()
    except ValueError as exc:
        raise ArgumentError(f"warc: {exc}") from None
    if warc and replay:
        raise ArgumentError(f"{spider}: give either -a replay=... or -a warc=..., not both")
    try:
        window = DateWindow.from_args(given.get("since"), given.get("until"))
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    limit = given.get("limit")
    limit = positive_int(limit, f"limit={limit!r}") if limit not in (None, "") else None
    refresh = _flag(given.get("refresh"), "refresh", default=False)
    discover = _flag(given.get("discover"), "discover", default=url is None and replay is None and not warc)
    if url and discover:
        raise ArgumentError(f"{spider}: -a url=... fetches one article; it cannot be combined with discover")
    if discover and not rules.discovers:
        raise ArgumentError(f"{spider}: this site has no listings to discover articles from; "
                            "give an article with -a url=<URL> or fixtures with -a replay=<DIR>")
    replay_root = Path(replay) if replay else None
    cases = _replay_cases(spider, rules, replay_root, url) if replay_root is not None else ()
    record = given.get("record")
    return RunArguments(url=url, window=window, limit=limit, refresh=refresh, discover=discover, replay=replay_root,
                        cases=cases, record=Path(record) if record else None, warc=warc)


def arguments_help(spider: str, description: str) -> str:
    """One line per argument, as ``scrapy crawl <site> -a help=true`` prints them."""
    rows = [(f"{name}={text.partition(': ')[0]}", text.partition(": ")[2]) for name, text in ARGUMENTS.items()]
    width = max(len(usage) for usage, _ in rows)
    lines = [f"scrapy crawl {spider}: {description}", "arguments (-a NAME=VALUE):"]
    lines += [f"  {usage:<{width}}  {meaning}" for usage, meaning in rows]
    return "\n".join(lines)


def owns_case_site(spider: str, site: str) -> bool:
    """Whether ``spider`` replays a case of ``site``: in a tree holding several sites' cases each spider
    replays its own; a case folder outside the fixtures/<site>/ convention is replayed by whichever spider
    it is given to."""
    return site == spider or site not in RULES


def _replay_cases(spider: str, rules: SiteRules, root: Path, url: str | None) -> tuple[Case, ...]:
    try:
        cases = [case for case in find_cases(root) if case.kind == "article"]
    except CaseError as exc:
        raise ArgumentError(f"replay: {exc}") from None
    if url is None:
        return tuple(case for case in cases if owns_case_site(spider, case.site))
    wanted = rules.article_key(url)
    found = [case for case in cases if rules.article_key(case.url) == wanted]
    if not found:
        raise ArgumentError(f"url={url} is not in the fixtures: no case under {root} starts from it")
    return tuple(found[:1])


def _unknown_arguments(spider: str, names: list[str]) -> str:
    hints = [f" (did you mean {close[0]}?)" if (close := difflib.get_close_matches(n, ARGUMENTS, 1)) else ""
             for n in names]
    given = ", ".join(f"{name}{hint}" for name, hint in zip(names, hints, strict=True))
    return (f"unknown argument {given}; {spider} takes {', '.join(ARGUMENTS)} "
            f"(scrapy crawl {spider} -a help=true says what each does)")


def _flag(value: str | None, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ArgumentError(f"{name}={value!r}: use true or false")


def positive_int(value: str, shown: str) -> int:
    """``value`` as a whole number of at least 1, or :class:`ArgumentError` naming it as ``shown``."""
    try:
        number = int(value)
    except ValueError:
        raise ArgumentError(f"{shown} is not a whole number") from None
    if number < 1:
        raise ArgumentError(f"{shown} must be at least 1")
    return number


def _absolute_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    # A URL without a scheme cannot even become a request. Other schemes (file:, ftp:) are well-formed
    # URLs that the crawl refuses to fetch, and are dropped as unsafe-url like any such link.
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.hostname):
        raise ArgumentError(f"url={value!r} is not an absolute URL; give one like https://www.example.com/news/1")
    return value
