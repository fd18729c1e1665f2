"""Site rules, one module per site, found automatically: a module in this package that defines a
:class:`SiteRules` subclass with a ``name`` is a site, and gets a spider of the same name."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from newsbot.sites.base import SiteRules


def _discover() -> dict[str, type[SiteRules]]:
    found: dict[str, type[SiteRules]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, SiteRules) and obj.__module__ == module.__name__ and obj.name:
                if obj.name in found:
                    raise ImportError(f"two site rules are named {obj.name!r}: {found[obj.name]} and {obj}")
                found[obj.name] = obj
    return found


RULES: dict[str, type[SiteRules]] = _discover()


@functools.cache
def get_rules(name: str) -> SiteRules:
    try:
        return RULES[name]()
    except KeyError:
        raise KeyError(f"no site rules named {name!r}; known: {', '.join(sorted(RULES))}") from None
