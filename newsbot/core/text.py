"""Text-level helpers shared by every site: whitespace, boilerplate lines, datelines, hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Zero-width characters and the BOM survive HTML decoding and break exact comparisons.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WORD = re.compile(r"\w+")


def clean_line(text: str) -> str:
    """NFC-normalize, drop invisible characters and collapse every run of whitespace to one space."""
    if not text.isascii():  # an O(1) test; ASCII text is NFC already and holds no invisible characters
        text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return collapse_spaces(text)


def collapse_spaces(text: str) -> str:
    """Every run of whitespace as one space, none at the ends.

    ``str.split()`` cuts at exactly the characters ``re``'s ``\\s`` matches in a str pattern (both ask
    ``Py_UNICODE_ISSPACE``; tests/test_core.py checks every code point), and is five times faster than
    ``re.sub(r"\\s+", " ", text).strip()``, which rewrites every single space too.
    """
    return " ".join(text.split())


def clean_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_line(text) or None


def split_lines(text: str) -> list[str]:
    """The non-empty, cleaned lines of ``text``."""
    return [line for line in (clean_line(raw) for raw in text.splitlines()) if line]


def compile_phrases(patterns: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex that matches a whole line equal to any of ``patterns``."""
    body = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(rf"^(?:{body})$", re.IGNORECASE)


def drop_lines(lines: Sequence[str], boilerplate: re.Pattern[str]) -> list[str]:
    return [line for line in lines if not boilerplate.match(line)]


@dataclass(frozen=True, slots=True)
class Dateline:
    """A dateline rule: ``pattern`` matches the prefix at the start of the body; its ``place`` group, if it
    took part in the match, is the place. A match without a place (an outlet-only prefix) is still removed."""

    pattern: re.Pattern[str]


def split_dateline(first_line: str, rules: Sequence[Dateline]) -> tuple[str | None, str]:
    """Return (place or None, the line without its dateline prefix)."""
    for rule in rules:
        match = rule.pattern.match(first_line)
        if match is None:
            continue
        place = match.groupdict().get("place")
        rest = first_line[match.end():].lstrip()
        return (clean_line(place).upper() if place else None), rest
    return None, first_line


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def fingerprint(text: str) -> str:
    """Stable SHA-256 of the body: case-folded and whitespace-collapsed, so trivial reflows hash equal."""
    normalized = collapse_spaces(unicodedata.normalize("NFC", text).casefold())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def dedupe(items: Iterable[str]) -> list[str]:
    """Keep the first of each case-insensitively equal item, in order, dropping empties."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out
