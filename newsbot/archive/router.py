"""Which site's rules a URL from an archive belongs to, and whether it is an article's first page.

A record goes to the site whose ``domains`` contain its host (``jateng.tribunnews.com`` is Tribun's, as
is ``www.tribunnews.com``). Within a site, the URL alone decides, before any parsing:

- ``article``: the site's article pattern matches and this is page 1 (tracking parameters aside);
- ``page``: another page of an article (``?page=2``, ``?page=all``, SINDOnews ``/5``): read only when
  its page 1 asks for it, as the spider does;
- ``other``: listings, tag and topic pages, assets, e-paper: the site's ``not_article_url`` and
  everything outside its article pattern.

Hosts no site claims are ``None``, or, with the generic rules on, go to them: every page that is not an
obvious asset is an article candidate there, since the generic rules know no URL patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsbot.core.urls import strip_tracking
from newsbot.sites import RULES, get_rules
from newsbot.sites.base import SiteRules

ARTICLE, PAGE, OTHER = "article", "page", "other"
GENERIC = "generic"

# Files that are never an article page, whatever the host.
_ASSET_PATH = re.compile(
    r"\.(?:css|js|mjs|json|xml|rss|atom|txt|ico|png|jpe?g|gif|webp|avif|svg|bmp|tiff?|mp[34]|m4[av]|webm|ogg|"
    r"wav|flac|avi|mov|mkv|pdf|zip|gz|tgz|rar|7z|exe|dmg|apk|woff2?|ttf|otf|eot|swf|csv|xlsx?|docx?|pptx?)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Route:
    rules: SiteRules
    kind: str

    @property
    def site(self) -> str:
        return self.rules.name


def site_names(spec: str | None) -> list[str]:
    """The sites a ``--sites`` value names (``all`` or None: every site with URL patterns); ValueError for
    a name no rules module defines."""
    known = [name for name in sorted(RULES) if name != GENERIC]
    if spec is None or spec.strip().lower() in ("", "all"):
        return known
    names = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [name for name in names if name not in RULES or name == GENERIC]
    if unknown:
        raise ValueError(f"unknown site {unknown[0]!r} in --sites; known: {', '.join(known)} "
                         "(use --generic for the generic rules)")
    return list(dict.fromkeys(names))


class Router:
    """Routes archive URLs to site rules by domain; see the module docstring."""

    def __init__(self, sites: Iterable[str], generic: bool = False) -> None:
        self._by_domain: dict[str, SiteRules] = {}
        for name in sites:
            rules = get_rules(name)
            for domain in rules.domains:
                self._by_domain.setdefault(domain.lower().lstrip("."), rules)
        self.generic = get_rules(GENERIC) if generic else None

    def route(self, url: str) -> Route | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        rules = self._site_for(parts.hostname)
        if rules is not None:
            return Route(rules, page_kind(rules, url))
        if self.generic is None:
            return None
        return Route(self.generic, OTHER if _ASSET_PATH.search(parts.path) else ARTICLE)

    def _site_for(self, hostname: str) -> SiteRules | None:
        # Longest suffix first: a.b.example.com, b.example.com, example.com, com.
        labels = hostname.rstrip(".").split(".")
        for start in range(len(labels)):
            rules = self._by_domain.get(".".join(labels[start:]))
            if rules is not None:
                return rules
        return None


def page_kind(rules: SiteRules, url: str) -> str:
    """``article``, ``page`` or ``other`` for a URL of ``rules``' site (see the module docstring)."""
    if not rules.is_article_url(url):
        return OTHER
    clean = strip_tracking(url)
    return ARTICLE if rules.canonical_first_page(clean) == clean else PAGE
