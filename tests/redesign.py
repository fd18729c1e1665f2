"""A scripted redesign of a site's pages, as a real one goes: the article container and the boilerplate blocks
get new class and id names, the container an extra wrapper, and blocks move. Nothing else changes: the
metadata markup (headline, byline, dates, tags) keeps its names, as the issue's measured redesigns did.
"""

from __future__ import annotations

import re
import shutil
import zlib
from pathlib import Path

import lxml.html
from cssselect import parse
from cssselect.parser import Attrib, Class, Hash

from newsbot.fixtures.case import CASE_FILE, Case
from newsbot.sites.base import SiteRules

_HTML_TYPES = ("text/html", "application/xhtml")
# Block-level boxes a redesign moves around (an inline signature such as "(ian)" stays where it is).
_BOXES = ("div", "aside", "section", "ul", "ol", "blockquote", "figure", "p", "table")


def renamed(token: str) -> str:
    """A stable new name that shares no substring a selector could still match."""
    return f"q{zlib.crc32(token.encode()):08x}"


def selector_names(selectors: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(exact names, name fragments) of the classes and ids ``selectors`` test: ``.x``/``#x`` name them whole,
    ``[class^='x']``, ``[class*='x']``, ``[id^='x']`` only by a fragment."""
    exact: set[str] = set()
    fragments: set[str] = set()
    for selector in selectors:
        for tree in parse(selector):
            stack = [tree.parsed_tree]
            while stack:
                node = stack.pop()
                if isinstance(node, Class):
                    exact.add(node.class_name)
                elif isinstance(node, Hash):
                    exact.add(node.id)
                elif isinstance(node, Attrib) and node.attrib in ("class", "id") and node.value:
                    fragments.add(node.value.value.strip())
                stack.extend(child for name in ("selector", "subselector") if (child := getattr(node, name, None)))
    return exact, {f for f in fragments if f}


def redesign_html(html: bytes, rules: SiteRules, *, container_too: bool = True) -> bytes:
    """``html`` redesigned: boilerplate blocks renamed and moved, and unless ``container_too`` is false, the
    article container renamed and wrapped (false: the site's own markup with boilerplate under new names)."""
    root = lxml.html.document_fromstring(html)
    body = root.xpath("|".join(_xpath(s) for s in rules.body_selectors)) if rules.body_selectors else []
    container = body[0] if body else None
    boilerplate = [el for selector in rules.drop_selectors for el in root.cssselect(selector)]
    exact, fragments = selector_names((rules.body_selectors if container_too else ()) + rules.drop_selectors)

    def new_name(token: str) -> str:
        return renamed(token) if token in exact or any(f in token for f in fragments) else token

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("class"):
            el.set("class", " ".join(new_name(t) for t in el.get("class").split()))
        if el.get("id"):
            el.set("id", new_name(el.get("id")))
    if container is not None:
        # Blocks move: the first boilerplate box inside the article goes to its top.
        inside = [el for el in boilerplate if el.tag in _BOXES and any(a is container for a in el.iterancestors())]
        if inside:
            block = inside[0]
            tail = block.tail
            block.getparent().remove(block)
            block.tail = None
            container.insert(0, block)
            if tail and tail.strip():
                container.text = (container.text or "") + tail
        if container_too:
            # An extra wrapper around the article container.
            wrapper = lxml.html.Element("div", {"class": "layout-2027"})
            container.addprevious(wrapper)
            wrapper.append(container)
    return lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")


def _xpath(selector: str) -> str:
    from cssselect import HTMLTranslator

    return HTMLTranslator().css_to_xpath(selector)


def redesign_case(case: Case, rules: SiteRules, target: Path, *, container_too: bool = True) -> Path:
    """A copy of ``case`` in ``target`` with every HTML response redesigned (other files copied as they are)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(case.directory / CASE_FILE, target / CASE_FILE)
    for stored in case.responses.values():
        destination = target / stored.path.relative_to(case.directory.resolve())
        destination.parent.mkdir(parents=True, exist_ok=True)
        content_type = stored.headers.get("Content-Type", "text/html")
        data = stored.path.read_bytes()
        if content_type.startswith(_HTML_TYPES) and re.search(rb"<html", data[:2048], re.IGNORECASE):
            data = redesign_html(data, rules, container_too=container_too)
        destination.write_bytes(data)
    return target


def shingle_f1(expected: str, actual: str, n: int = 4) -> float:
    """The ScrapingHub benchmark's body F1 for one document (4-token shingles as multisets)."""
    from collections import Counter

    def shingles(text: str) -> Counter[tuple[str, ...]]:
        tokens = re.findall(r"\w+", text)
        return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])

    true, pred = shingles(expected), shingles(actual)
    tp = sum((true & pred).values())
    precision = tp / sum(pred.values()) if pred else 0.0
    recall = tp / sum(true.values()) if true else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
