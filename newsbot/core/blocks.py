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
from collections.abc import Iterator, Sequence

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
    r"berita utama", r"(?:top |latest )?headlines?", r"(?:konten|artikel|berita) (?:premium|eksklusif)",
    r"khusus (?:pelanggan|member)", r"(?:premium|subscriber) content",
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
    # Subscription prompts: the paywall's box, not the article.
    r".{0,120}\b(?:sudah berlangganan|already (?:a )?subscri(?:ber|bed))\?.{0,120}",
    r"(?:langganan|berlangganan|subscribe) sekarang.{0,80}", r"silakan (?:login|masuk) untuk .{0,120}",
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

# Page elements an extracted block can come from (a list block from its ul or ol); containers count only
# with text of their own.
_LEAVES = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote", "pre", "figcaption",
           "ul", "ol", "dl", "table")
_CONTAINERS = ("div", "span", "section", "article", "font", "center")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# trafilatura's blocks that hold other blocks, and can open with a heading of their own.
_BOXES = ("quote", "list", "table", "div")
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
    # Without any whitespace: trafilatura joins list items with none, the page has newlines between them.
    return "".join(text.split()).casefold()[:56]


def _text(el: _Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _words(text: str) -> int:
    return len(_WORD.findall(text))


class Source:
    """The page elements behind an extraction's blocks, found by their text (trafilatura keeps no pointers).

    A short text can stand on a page several times ("Ambang Batas Parlemen" as a subheading and as a tag link
    at the foot), so blocks are matched in order: each to the first element with its text after the element
    the block before it matched, as the extraction keeps the page's order.
    """

    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self._index: dict[str, list[tuple[int, HtmlElement]]] | None = None

    @property
    def index(self) -> dict[str, list[tuple[int, HtmlElement]]]:
        """Normalized text prefix -> (document position, element), in document order."""
        # Built on first use: a page with no block to look up never pays for it.
        if self._index is None:
            index: dict[str, list[tuple[int, HtmlElement]]] = {}
            for position, el in enumerate(self.root.iter(_LEAVES + _CONTAINERS)):
                if el.tag in _CONTAINERS and not (el.text and el.text.strip()):
                    continue
                key = _norm(el.text_content())
                if len(key) >= 3:
                    index.setdefault(key, []).append((position, el))
            self._index = index
        return self._index

    def match(self, blocks: Sequence[_Element]) -> list[HtmlElement | None]:
        """The page element each of ``blocks`` came from (None where it cannot be found), in order."""
        found: list[HtmlElement | None] = []
        last = -1
        for block in blocks:
            candidates = self.index.get(_norm(_text(block)))
            if not candidates:
                found.append(None)
                continue
            later = next((c for c in candidates if c[0] > last), None)
            position, el = later or candidates[-1]
            found.append(el)
            last = max(last, position)
        return found


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
    # Keyed by id(): ``blocks`` holds every block for the whole call, so no id is reused.
    texts = {id(block): _text(block) for block in blocks}
    total = sum(len(t) for t in texts.values()) or 1
    origin = {id(block): el for block, el in zip(blocks, source.match(blocks), strict=True) if el is not None}
    doomed: set[int] = set()

    def remove(block: _Element, rule: str) -> None:
        if id(block) not in doomed:
            doomed.add(id(block))
            fired[rule] += 1

    def remove_box(box: HtmlElement | None, rule: str) -> None:
        for other in blocks:
            el = origin.get(id(other))
            if box is not None and el is not None and (el is box or any(a is box for a in el.iterancestors())):
                remove(other, rule)

    seen = 0
    for position, block in enumerate(blocks):
        text = texts[id(block)]
        el = origin.get(id(block))
        if id(block) in doomed or not text:
            continue
        if seen >= COMMENTS_FROM * total and _COMMENTS.match(text):
            for rest in blocks[position:]:
                remove(rest, "comments")
            break
        seen += len(text)
        if _HEADINGS.match(text):
            remove(block, "heading")
            box = _heading_box(text, el, total)
            if box is not None:
                remove_box(box, "heading")
            else:
                for follower in _followers(blocks[position + 1:], texts, origin):
                    remove(follower, "heading")
        elif block.tag in _BOXES and _HEADINGS.match(_opening(block)):
            # A box whose first line is a boilerplate heading: "Ringkasan Berita:" and its bullets in a quote.
            remove(block, "heading")
        elif _NOTES.match(text):
            remove(block, "note")
            remove_box(_note_box(text, el, total), "note")
        elif block.tag == "list" and _is_link_list(block, source):
            remove(block, "link-list")
        elif block.tag in ("p", "head") and _is_link_line(text, el):
            remove(block, "link-line")
        elif block.tag == "p" and el is not None and _is_teaser(el):
            remove(block, "teaser")
    for block in blocks:
        if id(block) in doomed:
            body.remove(block)
    return fired


def _opening(block: _Element) -> str:
    """The first line of a box: its own text before its first child, else its first child's text."""
    own = " ".join((block.text or "").split())
    if own:
        return own
    return _text(block[0]) if len(block) else ""


def _heading_box(heading: str, el: HtmlElement | None, total: int) -> HtmlElement | None:
    """The page box a boilerplate heading opens: its highest ancestor (four levels up at most) that starts with
    the heading and holds more, while it stays small; None when the heading stands loose in the article."""
    if el is None:
        return None
    limit = min(BOX_MAX_CHARS, BOX_MAX_SHARE * total)
    key = heading.casefold()
    best, node = None, el
    for _ in range(4):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        text = " ".join(parent.text_content().split())
        if len(text) > limit or not text.casefold().startswith(key):
            break
        node = parent
        if len(text) > len(heading):
            best = node
    return best


def _note_box(note: str, el: HtmlElement | None, total: int) -> HtmlElement | None:
    """The smallest page box holding a note and something more, if it is small."""
    if el is None:
        return None
    limit = min(BOX_MAX_CHARS, BOX_MAX_SHARE * total)
    for parent in el.iterancestors():
        if parent.tag in ("body", "html"):
            break
        size = len(" ".join(parent.text_content().split()))
        if size > len(note):
            return parent if size <= limit else None
    return None


def _followers(after: list[_Element], texts: dict[int, str], origin: dict[int, HtmlElement]) -> Iterator[_Element]:
    """The blocks a loose boilerplate heading introduces: lists, link lines and short lines, up to the first
    line of prose."""
    for block in after:
        text = texts[id(block)]
        el = origin.get(id(block))
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
    # The items are page elements of their own (li), matched apart from the blocks.
    ratios = [link_ratio(el) for el in source.match(items) if el is not None]
    return len(ratios) >= 0.6 * len(items) and sum(ratios) / len(ratios) >= LINK_LIST_RATIO


def _is_link_line(text: str, el: HtmlElement | None) -> bool:
    return el is not None and _words(text) <= LINK_LINE_WORDS and link_ratio(el) >= LINK_LINE_RATIO


def _is_teaser(el: HtmlElement) -> bool:
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
