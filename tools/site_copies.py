"""Replayable copies of a site with as many distinct articles as a benchmark needs, made from its fixtures.

Each copy of a fixture article gets a URL of its own that the site's own ``article_url`` admits (the site's
article id replaced, or for a site whose URLs carry no id, the slug prefixed) and one paragraph of its own
as the first child of the element the site's ``body_selectors`` choose, so no two copies are duplicates.
Nothing here knows a site's URL shapes or body classes: they come from its rules module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import lxml.html

from newsbot.core.page import ParsedPage
from newsbot.fixtures.case import Case, find_cases
from newsbot.sites import RULES, get_rules
from newsbot.sites.base import SiteRules

# The sites a copy can be made of: those with listings to discover the copies from.
SITES: tuple[str, ...] = tuple(sorted(name for name in RULES if get_rules(name).discovers))
# Copies' article ids start here, far from the fixtures' own ids.
FIRST_ID = 5_000_000


def copy_url(rules: SiteRules, template: str, n: int) -> str:
    """The URL of the ``n``-th copy of the article at ``template``, in the site's own URL shape."""
    match = rules.article_url.match(template) if rules.article_url is not None else None
    if match is None:
        raise ValueError(f"{template} is not a {rules.name} article URL")
    if match.groupdict().get("id"):
        start, end = match.span("id")
        url = template[:start] + str(FIRST_ID + n) + template[end:]
    else:
        parts = urlsplit(template)
        head, _, slug = parts.path.rstrip("/").rpartition("/")
        tail = "/" if parts.path.endswith("/") else ""
        url = urlunsplit(parts._replace(path=f"{head}/salinan-bench-{n}-{slug}{tail}"))
    if not rules.is_article_url(url):
        raise ValueError(f"the copy URL {url} of {template} is no {rules.name} article URL")
    return url


def with_paragraph(rules: SiteRules, body: bytes, url: str, paragraph: str) -> bytes:
    """The page ``body`` with ``paragraph`` as the first child of its article body element."""
    page = ParsedPage.parse(body, url)
    element = page.first(*rules.body_selectors)
    if element is None:
        raise ValueError(f"{url}: none of {rules.name}'s body selectors matches")
    added = lxml.html.fragment_fromstring(f"<p>{paragraph}</p>")
    added.tail, element.text = element.text, None
    element.insert(0, added)
    return lxml.html.tostring(page.tree, encoding=page.encoding, doctype="<!DOCTYPE html>")


def templates(fixtures: Path, site: str) -> list[Case]:
    """The site's single-page article cases, the templates of its copies."""
    found = [c for c in find_cases(fixtures / site) if c.kind == "article" and len(c.responses) == 1]
    if not found:
        raise ValueError(f"{fixtures / site} holds no single-page article case to copy")
    return found


def build_site_copy(site: str, pages: int, workdir: Path, fixtures: Path) -> Path:
    """A replay tree (``workdir/<site>/bench/``) in which the site's listings name ``pages`` distinct articles,
    copies of its single-page fixture articles from ``fixtures``; returns ``workdir/<site>``."""
    rules = get_rules(site)
    sources = templates(fixtures, site)
    case_dir = workdir / site / "bench"
    case_dir.mkdir(parents=True)
    responses: dict[str, Any] = {}
    urls = []
    for n in range(pages):
        template = sources[n % len(sources)]
        url = copy_url(rules, template.url, n)
        body = template.responses[template.url].path.read_bytes()
        # The page names its own URL (canonical link, og:url, JSON-LD): the copy names its new one.
        body = body.replace(template.url.split("?")[0].encode(), url.encode())
        body = with_paragraph(rules, body, url, f"Paragraf salinan bench nomor {n} membuat artikel ini berbeda "
                                                "dari salinan lainnya.")
        name = f"a{n}.html"
        (case_dir / name).write_bytes(body)
        responses[url] = {"file": name}
        urls.append(url)
    items = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    (case_dir / "sitemap.xml").write_text(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>', encoding="utf-8")
    (case_dir / "empty.html").write_text("<html><body><p>kosong</p></body></html>", encoding="utf-8")
    (case_dir / "feed.xml").write_text('<rss version="2.0"><channel></channel></rss>', encoding="utf-8")
    for sitemap in rules.sitemaps:
        responses[sitemap] = {"file": "sitemap.xml", "headers": {"Content-Type": "application/xml"}}
    for feed in rules.feeds:
        responses[feed] = {"file": "feed.xml", "headers": {"Content-Type": "application/rss+xml"}}
    for index in rules.index_urls(None):
        responses[index] = {"file": "empty.html"}
    case = {"kind": "listing", "url": (rules.sitemaps or rules.feeds)[0], "responses": responses}
    (case_dir / "case.json").write_text(json.dumps(case), encoding="utf-8")
    return workdir / site


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None,
                    made_of: str = "the site copies") -> argparse.Namespace:
    """``parser``'s arguments with ``--fixtures DIR`` (default ./fixtures: what ``made_of`` is built from), a
    folder that does not exist refused in one line and exit code 2 before any work starts."""
    parser.add_argument("--fixtures", type=Path, default=Path("fixtures"),
                        help=f"the fixture tree, source of {made_of} (default: ./fixtures)")
    args = parser.parse_args(argv)
    if not args.fixtures.is_dir():
        parser.exit(2, f"{parser.prog}: error: no fixture folder {args.fixtures} (give --fixtures DIR)\n")
    return args
