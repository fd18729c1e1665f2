"""Boilerplate found by what it says and where it sits, not by what its markup is called.

A redesign renames every class; a heading such as "Baca Juga" or "Ringkasan Berita", a list of headline links
or a reader-comments section survives it. This module works on trafilatura's extraction tree (its ``<p>``,
``<head>``, ``<list>``, ``<quote>``... blocks) and looks each block up in the page it came from, so a rule can
ask how much of the block is link text there, or which box on the page holds it. Whole blocks are removed:

- a boilerplate heading ("Baca Juga", "Berita Terkait", "Related", ...) with the list or teasers that belong
  to it: everything extracted from the same small box on the page, or, when the heading stands loose in the
  article, the lists and link lines right after it;
- a note (an AI-summary disclaimer, an app or WhatsApp/Google News call to action) with the smallest box
  that holds it, such as the summary bullets above the disclaimer;
- a list that is mostly links, and a short line that is mostly a link (another story's headline);
- a teaser: a text inside a small card with a linked heading, one of several cards alike;
- a reader-comments section in the second half of the text, from its heading to the end.

:func:`prune` says how often each rule fired, so a crawl can count them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from lxml.etree import _Element
from lxml.html import HtmlElement

from newsbot.core.text import compile_phrases

# A heading that opens a box of links to other stories, not article text (matched against the whole block).
BOILERPLATE_HEADINGS: tuple[str, ...] = (
    # Indonesian
    r"baca (?:juga|pula)", r"(?:lihat|simak|cek) juga", r"(?:berita|artikel|video|topik) (?:terkait|lainnya|pilihan|"
    r"rekomendasi|terkini|terbaru|populer|terpopuler|menarik)", r"rekomendasi(?: (?:berita|artikel|untuk anda))?",
    r"pilihan (?:editor|redaksi)", r"terpopuler", r"populer", r"terkini", r"terbaru",
    r"direkomendasikan(?: dari editorial)?",
    r"video rekomendasi", r"ringkasan(?: berita)?", r"(?:baca|lihat) (?:berita|artikel) (?:lainnya|selengkapnya)",
    r"berita utama", r"(?:top |latest )?headlines?",
    # English
    r"related(?: (?:articles?|stories|posts|news|content|coverage|reading|links|topics|videos?))?",
    r"(?:read|see) (?:more|also|next)", r"more (?:from|on|stories|news|in)\b.{0,40}",
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in)",
    r"recommended(?: (?:for you|stories|articles|reading))?",
    r"(?:most )?(?:popular|trending)(?: (?:now|stories|articles|news|today))?", r"most (?:read|viewed|shared)",
    r"don'?t miss", r"top stories", r"latest (?:news|stories)", r"editor'?s picks?", r"up next",
    # Other languages met on news pages
    r"leggi anche", r"lesen sie auch", r"(?:voir|lire) aussi", r"(?:veja|leia) (?:tamb[ée]m|mais)", r"lea tambi[ée]n",
)
# A line that is never article text and marks the box it sits in as boilerplate.
BOILERPLATE_NOTES: tuple[str, ...] = (
    r"\*?\s*(?:ringkasan|rangkuman|artikel) ini (?:dibantu|dibuat|ditulis|dihasilkan)(?: dengan)?(?: menggunakan)?\s+"
    r"(?:ai|kecerdasan buatan)\b.*",
    r"\*?\s*(?:this )?(?:summary|article) (?:was )?(?:generated|written|created|assisted) (?:by|with|using) "
    r"(?:ai|an ai\b).*",
    r"(?:dapatkan|simak|cek|baca|ikuti|gabung|join|follow).{0,80}(?:whatsapp|google news|wa channel|telegram|"
    r"saluran wa).*",
    r"(?:download|unduh) aplikasi.*",
)
# A heading that opens the readers' comments.
COMMENT_HEADINGS: tuple[str, ...] = (
    r"\d+\s+(?:comments?|responses?|replies|komentar|tanggapan)", r"\d+\s+thoughts? on .{1,200}",
    r"comments?(?: \(\d+\))?", r"(?:leave|post|add|write) (?:a|your) (?:reply|comment)", r"reader comments",
    r"join the (?:discussion|conversation)", r"tell us what you think.{0,40}", r"discussion",
    r"(?:tinggalkan|tulis|kirim) (?:balasan|komentar)(?: anda)?", r"komentar(?: anda)?",
)

_HEADINGS = compile_phrases(f"{p}\\s*:?" for p in BOILERPLATE_HEADINGS)
_NOTES = compile_phrases(BOILERPLATE_NOTES)
_COMMENTS = compile_phrases(f"{p}\\s*:?" for p in COMMENT_HEADINGS)
_WORD = re.compile(r"\w+")

# Leaf-like page elements an extracted block can come from; containers count only with text of their own.
_LEAVES = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote", "pre", "figcaption")
_CONTAINERS = ("div", "span", "section", "article", "font", "center")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A box of boilerplate is small: at most this much text, and at most this share of the extracted text.
BOX_MAX_CHARS = 1500
BOX_MAX_SHARE = 0.4
# A link line: this share of its text is link text, in at most this many words.
LINK_LINE_RATIO, LINK_LINE_WORDS = 0.7, 30
LINK_LIST_RATIO = 0.6
# A heading loose in the article keeps removing what follows while it is this short.
FOLLOWER_WORDS = 12
# Comments start no earlier than this share of the text: a "Comments" line at the top is something else.
COMMENTS_FROM = 0.5


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()[:64]


def _text(el: _Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _words(text: str) -> int:
    return len(_WORD.findall(text))


class Source:
    """The page elements behind an extraction's blocks, found by their text (trafilatura keeps no pointers)."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self._index: dict[str, list[HtmlElement]] | None = None

    @property
    def index(self) -> dict[str, list[HtmlElement]]:
        # Built on first use: most pages need no lookup at all when nothing in them looks like boilerplate.
        if self._index is None:
            index: dict[str, list[HtmlElement]] = {}
            for el in self.root.iter(_LEAVES + _CONTAINERS):
                if el.tag in _CONTAINERS and not (el.text and el.text.strip()):
                    continue
                key = _norm(el.text_content())
                if len(key) >= 3:
                    index.setdefault(key, []).append(el)
            self._index = index
        return self._index

    def elements(self, block: _Element) -> list[HtmlElement]:
        """Every page element whose text starts like ``block``'s (the deepest last)."""
        return self.index.get(_norm(_text(block)), [])

    def element(self, block: _Element) -> HtmlElement | None:
        found = self.elements(block)
        return found[-1] if found else None


def link_ratio(el: HtmlElement) -> float:
    """The share of ``el``'s text that is link text."""
    total = len(" ".join(el.text_content().split()))
    if not total:
        return 0.0
    links = sum(len(" ".join(a.text_content().split())) for a in el.iter("a"))
    return min(links / total, 1.0)


def prune(body: _Element, source: Source) -> Counter[str]:
    """Remove boilerplate blocks from trafilatura's tree ``body`` in place; how often each rule fired."""
    fired: Counter[str] = Counter()
    blocks = list(body)
    if not blocks:
        return fired
    texts = {id(block): _text(block) for block in blocks}
    total = sum(len(t) for t in texts.values()) or 1
    doomed: set[int] = set()

    def remove(block: _Element, rule: str) -> None:
        if id(block) not in doomed:
            doomed.add(id(block))
            fired[rule] += 1

    seen = 0
    for position, block in enumerate(blocks):
        text = texts[id(block)]
        if id(block) in doomed or not text:
            continue
        if seen >= COMMENTS_FROM * total and _COMMENTS.match(text):
            for rest in blocks[position:]:
                remove(rest, "comments")
            break
        seen += len(text)
        if _HEADINGS.match(text):
            remove(block, "heading")
            box = _heading_box(block, source, total)
            if box is not None:
                for other in _blocks_inside(box, blocks, source):
                    remove(other, "heading")
            else:
                for follower in _followers(blocks[position + 1:], texts, source):
                    remove(follower, "heading")
        elif _NOTES.match(text):
            remove(block, "note")
            box = _note_box(block, source, total)
            if box is not None:
                for other in _blocks_inside(box, blocks, source):
                    remove(other, "note")
        elif block.tag == "list" and _is_link_list(block, source):
            remove(block, "link-list")
        elif block.tag in ("p", "head") and _is_link_line(block, text, source):
            remove(block, "link-line")
        elif block.tag == "p" and _is_teaser(block, source):
            remove(block, "teaser")
    for block in blocks:
        if id(block) in doomed:
            body.remove(block)
    return fired


def _heading_box(block: _Element, source: Source, total: int) -> HtmlElement | None:
    """The page box a boilerplate heading opens: its highest ancestor (four levels up at most) that starts with
    the heading and holds more, while it stays small; None when the heading stands loose in the article."""
    limit = min(BOX_MAX_CHARS, BOX_MAX_SHARE * total)
    heading = _norm(_text(block))
    for el in reversed(source.elements(block)):
        best, node = None, el
        for _ in range(4):
            parent = node.getparent()
            if parent is None or parent.tag in ("body", "html"):
                break
            text = " ".join(parent.text_content().split())
            if len(text) > limit or not text.casefold().startswith(heading):
                break
            node = parent
            if len(text) > len(heading):
                best = node
        if best is not None:
            return best
    return None


def _note_box(block: _Element, source: Source, total: int) -> HtmlElement | None:
    """The smallest page box holding a note and something more, if it is small."""
    limit = min(BOX_MAX_CHARS, BOX_MAX_SHARE * total)
    own = len(_text(block))
    for el in reversed(source.elements(block)):
        for parent in el.iterancestors():
            if parent.tag in ("body", "html"):
                break
            size = len(" ".join(parent.text_content().split()))
            if size > own:
                if size <= limit:
                    return parent
                break
    return None


def _blocks_inside(box: HtmlElement, blocks: Iterable[_Element], source: Source) -> Iterator[_Element]:
    for block in blocks:
        el = source.element(block)
        if el is not None and (el is box or any(a is box for a in el.iterancestors())):
            yield block


def _followers(after: list[_Element], texts: dict[int, str], source: Source) -> Iterator[_Element]:
    """The blocks a loose boilerplate heading introduces: lists, link lines and short lines, up to the first
    line of prose."""
    for block in after:
        text = texts[id(block)]
        el = source.element(block)
        if not text:
            return
        if block.tag == "list" or (el is not None and link_ratio(el) >= 0.5) or _words(text) <= FOLLOWER_WORDS:
            yield block
        else:
            return


def _is_link_list(block: _Element, source: Source) -> bool:
    items = [item for item in block.iter("item") if _text(item)]
    if len(items) < 2:
        return False
    ratios = [link_ratio(el) for el in (source.element(item) for item in items) if el is not None]
    return len(ratios) >= 0.6 * len(items) and sum(ratios) / len(ratios) >= LINK_LIST_RATIO


def _is_link_line(block: _Element, text: str, source: Source) -> bool:
    if _words(text) > LINK_LINE_WORDS:
        return False
    el = source.element(block)
    return el is not None and link_ratio(el) >= LINK_LINE_RATIO


def _is_teaser(block: _Element, source: Source) -> bool:
    el = source.element(block)
    if el is None:
        return False
    node = el
    for _ in range(3):
        node = node.getparent()
        if node is None or len(node.text_content()) > 800:
            return False
        if any(h is not el and _linked(h) for h in node.iter(_HEADING_TAGS)):
            card = node
            for _ in range(3):
                if card is None or len(card.text_content()) > 1000:
                    return False
                if _alike(card) >= 3:
                    return True
                card = card.getparent()
            return False
    return False


def _linked(heading: HtmlElement) -> bool:
    parent = heading.getparent()
    return (parent is not None and parent.tag == "a") or next(heading.iter("a"), None) is not None


def _alike(el: HtmlElement) -> int:
    """How many children of ``el``'s parent share its tag and class (itself included)."""
    parent = el.getparent()
    if parent is None:
        return 0
    cls = el.get("class")
    return sum(1 for sibling in parent if sibling.tag == el.tag and sibling.get("class") == cls)
