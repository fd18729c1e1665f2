"""Bylines to people: labels, outlets, agencies and job titles removed, multi-name bylines split."""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsbot.core.text import clean_line
from newsbot.items import Person

_LABEL = re.compile(
    r"^(?:laporan\s+(?:wartawan|reporter|kontributor)(?:\s+[\w.]+\.(?:com|co\.id|id))?|penulis|editor|"
    r"penyunting|redaktur|reporter|wartawan|kontributor|jurnalis|oleh|by|written\s+by|author|"
    r"editing\s+by|edited\s+by)\b\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
# " - Bisnis.com", "| Tribunnews.com", "(Antara)": an outlet or agency attached to the name.
_OUTLET_SUFFIX = re.compile(r"\s*(?:[-–—|/]\s*)?(?:[\w-]+\.)+(?:com|co\.id|id|net|org)\b.*$", re.IGNORECASE)
_PARENTHESIZED = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_SEPARATORS = re.compile(r"\s*(?:,|;|&|\s/\s|\bdan\b|\band\b)\s*", re.IGNORECASE)
AGENCIES = frozenset(
    {"antara", "reuters", "afp", "ap", "associated press", "xinhua", "bloomberg", "anadolu", "kyodo",
     "newswire", "tim redaksi", "redaksi", "admin"}
)


def _clean_name(part: str) -> str | None:
    name = _OUTLET_SUFFIX.sub("", _PARENTHESIZED.sub("", part))
    name = _LABEL.sub("", name).strip(" -–—|:.,")
    if not name or name.casefold() in AGENCIES or not re.search(r"[^\W\d_]", name):
        return None
    return name


def parse_people(raw_texts: Iterable[str]) -> list[Person]:
    """Every person named by ``raw_texts`` (each one byline element's text), in order, without duplicates.

    Each person's ``nameRaw`` is the byline text it came from. Agency-only bylines ("Reuters") are
    dropped: they name no person.
    """
    people: list[Person] = []
    seen: set[str] = set()
    for raw in raw_texts:
        raw = clean_line(raw)
        body = _LABEL.sub("", raw)
        for part in _SEPARATORS.split(body):
            name = _clean_name(part)
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                people.append(Person(name=name, nameRaw=raw))
    return people
