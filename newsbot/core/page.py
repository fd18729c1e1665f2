"""A response parsed once: the lxml tree, meta tags and JSON-LD that every field reads."""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import lxml.etree
import lxml.html
from cssselect import HTMLTranslator, parse
from cssselect.parser import Class, CombinedSelector, Element, Hash, Tree
from cssselect.xpath import XPathExpr
from lxml.cssselect import CSSSelector
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

from newsbot.core.reasons import EmptyPage, NotHtml, Unparseable
from newsbot.core.text import clean_line

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")
ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "BlogPosting", "ReportageNews", "AnalysisNewsArticle", "OpinionNewsArticle",
     "LiveBlogPosting", "BackgroundNewsArticle", "Report"}
)
# Magic numbers of the binary formats a news crawl meets most: PDF, images, archives, media.
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"ID3",
                 b"\x00\x00\x00", b"OggS", b"fLaC")
_WRAPPERS = re.compile(r"</?(?:div|span|section|font|center)\b[^>]*>", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_XML_DECLARATION_BYTES = re.compile(_XML_DECLARATION.pattern.encode(), re.IGNORECASE)
_MARKUP_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<", re.DOTALL)
# The page's canonical links, as ParsedPage.select files them while reading the head.
CANONICAL_LINK = 'link[rel="canonical"]'


# cssselect's own translation for HTML documents.
_TRANSLATOR = HTMLTranslator()


@functools.cache
def css(selector: str) -> CSSSelector:
    """A compiled CSS selector (compiled once per process: translating CSS to XPath is not free)."""
    return CSSSelector(selector, translator=_TRANSLATOR)


@functools.cache
def document_css(selector: str) -> lxml.etree.XPath:
    """:func:`css` for matching against a whole document, with two rewrites that find the same elements faster.

    - A descendant chain starts from its pivot: the last compound that tests more than a name. In a whole
      document ``.tags span[itemprop=keywords] a`` are the ``a`` elements below such ``span`` elements that
      have a ``.tags`` above them: ``descendant-or-self::span[@itemprop = ..][ancestor::*[..]]//a``. The walk
      over the document tests only the pivot (``span`` elements here), the climb starts from its few matches,
      and the search below them is small; walking every element testing ``.tags`` first, or climbing from
      every ``a``, cost 2-4x more on the bench pages. A pivot that is the first compound is a plain forward
      walk (``#box a``). (Below a subtree's root the climb would also accept ancestors outside the subtree,
      so :func:`css` serves there.)
    - A compound that tests only classes and an id (``.x``, ``div.x``, ``#x``) reaches its elements through
      their attribute: ``*/@class[contains(., "x") and ..]/parent::*``. libxml2 then visits only the
      elements that have the attribute instead of evaluating a predicate on each element, which builds and
      frees a node-set every time: a whole-document ``.x`` takes about half as long (see :func:`_attribute_step`).

    What they buy, in callgrind instructions of the whole extraction of 40 bench pages (2026-12-02): without
    the pivot the pass costs 2.2% more, without the attribute steps 8.0% more, without both 13.2% more. The
    tests hold every rule selector's matches to cssselect's on every fixture page.
    """
    parsed = parse(selector)
    if len(parsed) != 1 or parsed[0].pseudo_element is not None:
        return css(selector)
    compounds = []
    node = parsed[0].parsed_tree
    while isinstance(node, CombinedSelector):
        if node.combinator != " ":
            return css(selector)
        compounds.append(node.subselector)
        node = node.selector
    compounds.append(node)
    compounds.reverse()
    exprs = [_TRANSLATOR.xpath(compound) for compound in compounds]
    through_attribute = [_attribute_step(compound) for compound in compounds]
    steps = [attribute or _step(expr) for attribute, expr in zip(through_attribute, exprs, strict=True)]
    last = len(compounds) - 1
    pivot = last if exprs[last].condition else max((i for i in range(last) if exprs[i].condition), default=last)
    # A pivot that tests every element with a predicate ("[itemprop] a") gains nothing over cssselect's walk.
    if exprs[pivot].element == "*" and not through_attribute[pivot] and pivot > 0:
        return css(selector)
    if pivot == last == 0 and not through_attribute[0]:
        return css(selector)
    above = ""
    for expr in exprs[:pivot]:
        above = f"ancestor::{_step(expr)}" + (f"[{above}]" if above else "")
    path = f"descendant-or-self::{steps[pivot]}" + (f"[{above}]" if above else "")
    return lxml.etree.XPath("//".join([path, *steps[pivot + 1:]]))


def _step(expr: XPathExpr) -> str:
    return f"{expr.element}[{expr.condition}]" if expr.condition else expr.element


def _attribute_step(compound: Tree) -> str | None:
    """A location step for a compound of an element name (or none), classes and ids, through the attribute.

    ``div.a.b`` becomes ``div/@class[<a and b are tokens of .>]/parent::*``; the tests are cssselect's own
    (``contains(concat(' ', normalize-space(.), ' '), ' a ')``, after the cheap ``contains(., 'a')``) applied
    to the attribute instead of the element. None for any other compound, or a class name cssselect could
    never match (empty or containing whitespace).
    """
    classes: list[str] = []
    ids: list[str] = []
    node = compound
    while isinstance(node, Class | Hash):
        if isinstance(node, Class):
            classes.append(node.class_name)
        else:
            ids.append(node.id)
        node = node.selector
    if not isinstance(node, Element) or node.namespace is not None or not (classes or ids):
        return None
    if any(not name or any(ch.isspace() for ch in name) for name in classes):
        return None
    element = _TRANSLATOR.xpath(node).element
    literal = _TRANSLATOR.xpath_literal
    if classes:
        tests = " and ".join(f"contains(., {literal(name)}) and "
                             f"contains(concat(' ', normalize-space(.), ' '), {literal(f' {name} ')})"
                             for name in classes)
        path, rest = f"{element}/@class[{tests}]/parent::*", ids
    else:
        path, rest = f"{element}/@id[. = {literal(ids[0])}]/parent::*", ids[1:]
    return path + "".join(f"[@id = {literal(name)}]" for name in rest)


def _check_is_html(body: bytes, content_type: str | None) -> None:
    if not body or body.isspace():  # not body.strip(): that copies the whole page to test it
        raise EmptyPage("the response body is empty")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and not mime.startswith(HTML_TYPES):
        raise NotHtml(f"content type {mime!r}")
    start = body[:65536]
    encoding, bom = read_bom(start)
    if encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        # A UTF-16 or UTF-32 page says so in its first bytes; its NUL bytes are its encoding, not a binary
        # format, so the markup is looked for in its text.
        start = start[len(bom):].decode(encoding, errors="ignore").encode("utf-8")
    head = start[:1024]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise NotHtml("binary content")
    if not _MARKUP_START.match(head) and b"<html" not in head.lower() and b"<body" not in start.lower():
        raise NotHtml("no markup")


# Encodings that map every byte to a character: a page declared in one of them decodes "successfully"
# whatever it really is, so the declaration alone proves nothing.
_SINGLE_BYTE = re.compile(r"^(?:cp125\d|windows-125\d|iso8859-\d+|latin[-_]?1|ascii|us-ascii)$")


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(encoding, text) of a page, trusting the bytes over a declaration they contradict.

    Pages lie about their charset: a UTF-8 page served as ISO-8859-1 (a misconfigured server) and an
    undeclared windows-1252 page both occur. Valid UTF-8 with multi-byte sequences is almost never
    anything else, and bytes that are not valid UTF-8 in an undeclared page are most likely windows-1252.
    """
    bom, _ = read_bom(body)
    declared = bom or http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    try:
        as_utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    if as_utf8 is not None and (declared in (None, "utf-8", "utf8")
                                or (_SINGLE_BYTE.match(declared) and not body.isascii())):
        # Already decoded: no second pass through w3lib for the commonest case, a valid UTF-8 page.
        return "utf-8", as_utf8.removeprefix("\ufeff")
    if as_utf8 is None and (declared is None or declared in ("utf-8", "utf8")):
        return "cp1252", body.decode("cp1252", errors="replace")
    return html_to_unicode(content_type, body)


def _load_json_ld(raw: str) -> Any:
    raw = raw.strip().removeprefix("<!--").removesuffix("-->").strip()
    raw = raw.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        # Hand-written JSON-LD often carries raw newlines inside strings or trailing commas.
        repaired = re.sub(r",\s*([}\]])", r"\1", raw.replace("\n", " ").replace("\r", " "))
        try:
            return json.loads(repaired)
        except json.JSONDecodeError:
            return None


def _flatten(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _flatten(item)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _flatten(node["@graph"])


def ld_types(node: dict[str, Any]) -> set[str]:
    types = node.get("@type", ())
    return {types} if isinstance(types, str) else {t for t in types if isinstance(t, str)}


@dataclass
class ParsedPage:
    url: str
    tree: lxml.html.HtmlElement
    meta: dict[str, list[str]] = field(default_factory=dict)
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    encoding: str = "utf-8"
    # When the page was fetched, if the response says (a replayed or archived page); None: just now.
    fetched: datetime | None = None
    # Field methods ask for the same selectors again (bylines, paywall, dates); the tree is never changed
    # (the body is pruned on a copy), so each selector's matches are looked up once per page.
    _selected: dict[str, list[lxml.html.HtmlElement]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, body: bytes | str, url: str, content_type: str | None = None) -> ParsedPage:
        """Parse a response. Raises :class:`EmptyPage`, :class:`NotHtml` or :class:`Unparseable`."""
        if isinstance(body, str):
            raw = body.encode("utf-8", "surrogatepass")
            encoding, text = "utf-8", body
            _check_is_html(raw, content_type)
        else:
            _check_is_html(body, content_type)
            encoding, text = decode_html(body, content_type)
        text = _XML_DECLARATION.sub("", text, count=1)
        source: bytes | str = text
        parser = _parser()
        if encoding == "utf-8" and isinstance(body, bytes):
            # Bytes known to be UTF-8 are parsed as they are: handed the text, lxml would encode it again.
            source = _XML_DECLARATION_BYTES.sub(b"", body.removeprefix(codecs.BOM_UTF8), count=1)
            parser = _parser("utf-8")
        try:
            tree = lxml.html.document_fromstring(source, parser=parser)
            if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
                # Nesting beyond libxml2's depth limit (2048 even with huge_tree) is silently cut away, text
                # and all. Such pages are broken or hostile; layout wrappers carry no text, so reading the
                # page without them keeps its words (a site's body selector may then not match).
                tree = lxml.html.document_fromstring(_WRAPPERS.sub("", text), parser=_parser())
        except (lxml.etree.ParserError, ValueError) as exc:
            raise Unparseable(str(exc)) from exc
        if tree is None:
            raise Unparseable("no document element")
        page = cls(url=url, tree=tree, encoding=encoding)
        page._read_head()
        return page

    def _read_head(self) -> None:
        # One walk for the meta tags, the JSON-LD blocks and the canonical links, which every record reads;
        # the links are filed under their selector, so select(CANONICAL_LINK) finds them without a walk.
        canonical = self._selected[CANONICAL_LINK] = []
        for el in self.tree.iter("meta", "link", "script"):
            if el.tag == "meta":
                key = el.get("property") or el.get("name") or el.get("itemprop")
                content = el.get("content")
                if key and content is not None:
                    self.meta.setdefault(key.strip().lower(), []).append(content.strip())
            elif el.tag == "link":
                if el.get("rel") == "canonical":
                    canonical.append(el)
            elif el.get("type") == "application/ld+json":
                self.json_ld.extend(_flatten(_load_json_ld(el.text or "")))

    # Reading helpers every field uses.
    def select(self, selector: str, root: lxml.html.HtmlElement | None = None) -> list[lxml.html.HtmlElement]:
        if root is not None:
            return css(selector)(root)
        found = self._selected.get(selector)
        if found is None:
            found = self._selected[selector] = document_css(selector)(self.tree)
        return found

    def first(self, *selectors: str) -> lxml.html.HtmlElement | None:
        """The first element matching the first selector that matches anything."""
        for selector in selectors:
            found = self.select(selector)
            if found:
                return found[0]
        return None

    def text(self, *selectors: str) -> str | None:
        """Whitespace-normalized text of the first element matched by the first matching selector."""
        el = self.first(*selectors)
        return (clean_line(el.text_content()) or None) if el is not None else None

    def texts(self, selector: str) -> list[str]:
        return [t for t in (clean_line(el.text_content()) for el in self.select(selector)) if t]

    def meta_content(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key.lower(), ()):
                if value:
                    return value
        return None

    def ld_of_type(self, types: frozenset[str] | set[str]) -> list[dict[str, Any]]:
        return [node for node in self.json_ld if ld_types(node) & types]

    @functools.cached_property
    def article_ld(self) -> dict[str, Any]:
        """The page's article JSON-LD object (merged if it is split over several blocks), or {}."""
        merged: dict[str, Any] = {}
        for node in self.ld_of_type(ARTICLE_TYPES):
            for key, value in node.items():
                merged.setdefault(key, value)
        return merged

    @property
    def lang(self) -> str | None:
        value = self.tree.get("lang") or self.meta_content("og:locale", "content-language", "language")
        return value.split("-")[0].split("_")[0].lower() if value else None


@functools.cache
def _parser(encoding: str | None = None) -> lxml.html.HTMLParser:
    # huge_tree lifts libxml2's depth and text-size caps; remove_comments drops noise at parse time. With an
    # encoding, the parser ignores the page's own charset declaration (decode_html has already judged it).
    return lxml.html.HTMLParser(remove_comments=True, huge_tree=True, default_doctype=False, encoding=encoding)
