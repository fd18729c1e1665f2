"""Site rules, one module per site. :func:`get_rules` is the registry."""

from __future__ import annotations

import functools

from newsbot.sites.base import SiteRules
from newsbot.sites.generic import GenericRules

RULES: dict[str, type[SiteRules]] = {cls.name: cls for cls in (GenericRules,)}


@functools.cache
def get_rules(name: str) -> SiteRules:
    try:
        return RULES[name]()
    except KeyError:
        raise KeyError(f"no site rules named {name!r}; known: {', '.join(sorted(RULES))}") from None
