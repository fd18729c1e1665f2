"""Site rules, one module per site, found automatically: a module in this package that defines a
:class:`SiteRules` subclass with a ``name`` is a site, and gets a spider of the same name.

A site module may hold several dated versions of its rules, as Fundus's parsers do: a redesign is a new class
(a subclass of the old one, with a higher ``version``) and the old class gets ``valid_until``, the last day
its layout was served. A page is read by the version that was valid on the day it was fetched (a replayed or
archived page: the day of its ``Date`` header or WARC record), so pages of an old layout keep their rules.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import pkgutil
from datetime import date, datetime

from newsbot.sites.base import SiteRules


def _discover() -> dict[str, tuple[type[SiteRules], ...]]:
    found: dict[str, list[type[SiteRules]]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, SiteRules) and obj.__module__ == module.__name__ and obj.name:
                found.setdefault(obj.name, []).append(obj)
    return {name: _ordered(name, classes) for name, classes in found.items()}


def _ordered(name: str, classes: list[type[SiteRules]]) -> tuple[type[SiteRules], ...]:
    """A site's versions, oldest first; refuses two classes valid until the same day or sharing a version."""
    versions = sorted(classes, key=lambda cls: cls.valid_until)
    for older, newer in itertools.pairwise(versions):
        if older.valid_until == newer.valid_until:
            raise ImportError(f"two rules of {name!r} are valid until {newer.valid_until}: {older} and {newer}; "
                              "give the older one valid_until, the last day of its layout")
    if len({cls.version for cls in versions}) != len(versions):
        raise ImportError(f"rules of {name!r} repeat a version: {[cls.version for cls in versions]}")
    return tuple(versions)


VERSIONS: dict[str, tuple[type[SiteRules], ...]] = _discover()
# The current rules of every site.
RULES: dict[str, type[SiteRules]] = {name: versions[-1] for name, versions in VERSIONS.items()}


@functools.cache
def get_rules(name: str) -> SiteRules:
    """The site's current rules."""
    try:
        return RULES[name]()
    except KeyError:
        raise KeyError(f"no site rules named {name!r}; known: {', '.join(sorted(RULES))}") from None


def rules_at(name: str, moment: date | datetime | None) -> SiteRules:
    """The version of the site's rules valid on ``moment``'s day (the current one for None or a later day)."""
    if name not in VERSIONS:
        return get_rules(name)  # raises, naming the known sites
    versions = VERSIONS[name]
    if moment is None:
        return _instance(versions[-1])
    day = moment.date() if isinstance(moment, datetime) else moment
    return _instance(next((cls for cls in versions if cls.valid_until >= day), versions[-1]))


@functools.cache
def _instance(cls: type[SiteRules]) -> SiteRules:
    return cls()
