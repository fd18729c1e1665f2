"""The article's text lines, from a page element or a whole page: trafilatura, then the block and line rules.

Two ways in:

- :func:`element_lines` for a site whose rules found the body element: trafilatura's fast pass on that element
  alone (the rules already chose the node; its fallbacks would only triple the cost).
- :func:`page_lines` for a page no rules describe (the generic path, and a site's fallback): trafilatura on
  the whole page, untouched, since pruning by class names before it removes whole articles on real sites.
  Its fast precision pass comes first; when that finds less than an article (under 100 words), its balanced
  pass with the readability/jusText comparison runs too and the longer text wins, so the result is never
  short of what trafilatura's default would give. An article split over sibling containers of one kind
  (trafilatura picks one) is read whole. Measured on ScrapingHub's 181 real pages: body F1 0.975, at about
  1.0x the time of ``trafilatura.extract``; the comparison on every page bought 0.0005 F1 for 1.4x the time.

Both then remove boilerplate blocks (:mod:`newsbot.core.blocks`) and boilerplate lines.
"""

from __future__ import annotations

import copy
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml.etree import SubElement, _Element
from lxml.html import HtmlElement
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

from newsbot.core.blocks import Source, link_ratio, prune
from newsbot.core.text import clean_line, drop_lines, split_lines, word_count

# Built once: trafilatura otherwise reads its settings file again on every call. Comments and tables are
# never article text on the sites with rules; fast=True skips the readability/jusText comparison, which the
# rules' own body choice makes pointless.
SITE_OPTIONS = Extractor(output_format="txt", comments=False, tables=False, images=False, formatting=False,
                         links=False, dedup=False, fast=True, recall=True)
# On an unknown page tables do carry article text (ScrapingHub: 0.950 without them, 0.953 with). The
# precision pass is fast (no comparison with readability and jusText): the comparison changed 4 of 181 real
# pages, and the one it rescued the second pass rescues too.
GENERIC_PRECISION = Extractor(output_format="txt", comments=False, tables=True, images=False, formatting=False,
                              links=False, dedup=False, fast=True, precision=True)
GENERIC_BALANCED = Extractor(output_format="txt", comments=False, tables=True, images=False, formatting=False,
                             links=False, dedup=False, fast=False)



class _OutcomesAreDebug(logging.Filter):
    """trafilatura logs each document it gives up on as a WARNING or an ERROR ("discarding data", "empty HTML
    tree", "no metadata"). Here that is an outcome, not a fault: the caller makes it a drop with its reason
    (counted, in the drop log), so those lines are DEBUG, and a crawl's WARNINGs and ERRORs stay newsbot's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.DEBUG < record.levelno < logging.CRITICAL:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def _demote_trafilatura_outcomes() -> None:
    # A logger's filters see only the records logged on that logger itself, so each of trafilatura's modules
    # gets the filter (all are loaded by the import above).
    for name in [name for name in logging.root.manager.loggerDict if name.partition(".")[0] == "trafilatura"]:
        logging.getLogger(name).addFilter(_OutcomesAreDebug())


_demote_trafilatura_outcomes()

# Below this many words the precision pass has likely missed the article: the balanced pass is asked too.
SECOND_PASS_WORDS = 100

# Continuation containers: prose blocks, and how much prose a sibling must hold to be part of the article.
_PROSE = ("p", "h2", "h3", "h4", "blockquote", "li")
_HEADS = ("h2", "h3", "h4")
_PROSE_PARAGRAPH_WORDS, _PROSE_CHUNK_WORDS = 20, 40
_CONTAINER_SHARE = 0.8


@dataclass
class Lines:
    """Text lines and how often each block rule removed something on the way."""

    lines: list[str]
    fired: Counter[str]


def text_tree(root: HtmlElement, url: str, options: Extractor) -> _Element | None:
    """trafilatura's extraction tree (``<p>``, ``<head>``, ``<list>``...) of ``root``; None when it finds none.

    trafilatura copies a tree it is handed before cleaning it, so ``root`` is left as it is.
    """
    opts = copy.copy(options)
    opts.url = opts.source = url
    document = trafilatura.bare_extraction(root, options=opts)
    return document.body if document is not None else None


def tree_lines(tree: _Element | None, source: Source, boilerplate: re.Pattern[str]) -> Lines:
    """The cleaned lines of an extraction tree, boilerplate blocks and lines removed."""
    if tree is None:
        return Lines([], Counter())
    fired = prune(tree, source)
    return Lines(drop_lines(split_lines(xmltotxt(tree, False)), boilerplate), fired)


def element_lines(element: HtmlElement, url: str, boilerplate: re.Pattern[str]) -> Lines:
    """Lines of a body element the site's rules chose (a pruned copy, free to change)."""
    source = Source(element)
    if element.tag != "html":
        # Handed a bare element, trafilatura falls back to paragraph recovery and loses in-body headings;
        # as the one <article> of a document it extracts the element whole.
        shell = lxml.html.document_fromstring("<html><body><article></article></body></html>")
        shell.find("body/article").append(element)
        element = shell
    return tree_lines(text_tree(element, url, SITE_OPTIONS), source, boilerplate)


def page_lines(root: HtmlElement, url: str, boilerplate: re.Pattern[str], header: Sequence[str | None] = ()) -> Lines:
    """Lines of the article on a whole page, found without any site rules.

    ``header`` holds texts that are the page's, not the article's, when they stand outside the article's
    container: the headline and the summary line (dek) that templates repeat above the text.
    """
    source = Source(root)
    best = _read(root, url, GENERIC_PRECISION, source, boilerplate, header)
    if word_count(" ".join(best.lines)) < SECOND_PASS_WORDS:
        other = _read(root, url, GENERIC_BALANCED, source, boilerplate, header)
        if word_count(" ".join(other.lines)) > word_count(" ".join(best.lines)):
            best = other
    return best


def _read(root: HtmlElement, url: str, options: Extractor, source: Source, boilerplate: re.Pattern[str],
          header: Sequence[str | None]) -> Lines:
    tree = text_tree(root, url, options)
    if tree is not None:
        known = {clean_line(text).casefold() for text in header if text}
        # Found without the header's blocks: next to a short article they would pull it up to the whole page.
        container = _main_container(tree, source, known)
        if container is not None:
            _read_continuations(tree, container)
            _drop_header(tree, source, container, known)
    return tree_lines(tree, source, boilerplate)


def _is_header(block: _Element, known: set[str]) -> bool:
    return bool(known) and clean_line("".join(block.itertext())).casefold() in known


def _drop_header(tree: _Element, source: Source, container: HtmlElement, known: set[str]) -> None:
    """Remove blocks that repeat the headline or the dek from outside the article's container. Inside it, a
    line equal to the description is the article's lead (most pages derive the description from it)."""
    if not known:
        return
    blocks = list(tree)
    for block, el in zip(blocks, source.match(blocks), strict=True):
        if el is not None and _is_header(block, known) and el is not container \
                and not any(a is container for a in el.iterancestors()):
            tree.remove(block)


def _read_continuations(tree: _Element, container: HtmlElement) -> None:
    """Add the prose of sibling containers alike to the one trafilatura read (an article split into chunks)."""
    node = container
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            return
        if node.get("class"):
            before: list[HtmlElement] = []
            after: list[HtmlElement] = []
            mine = parent.index(node)
            for sibling in parent:
                if sibling is not node and sibling.tag == node.tag and sibling.get("class") == node.get("class") \
                        and _is_prose_chunk(sibling):
                    (before if parent.index(sibling) < mine else after).extend(_prose_blocks(sibling))
            if before or after:
                _insert(tree, before, after)
                return
        node = parent


def _main_container(tree: _Element, source: Source, header: set[str] = frozenset()) -> HtmlElement | None:
    """The deepest page element holding most of the extracted text (the header's blocks left out)."""
    weight: Counter[HtmlElement] = Counter()
    matched = 0
    blocks = list(tree)
    for block, el in zip(blocks, source.match(blocks), strict=True):
        if el is None or _is_header(block, header):
            continue
        size = len(" ".join("".join(block.itertext()).split()))
        matched += size
        weight[el] += size
        for ancestor in el.iterancestors():
            weight[ancestor] += size
    if not matched:
        return None
    holders = [el for el, size in weight.items() if size >= _CONTAINER_SHARE * matched]
    return max(holders, key=lambda el: sum(1 for _ in el.iterancestors()), default=None)


def _prose_blocks(chunk: HtmlElement) -> list[HtmlElement]:
    """The outermost prose elements of ``chunk``, in order."""
    found = []
    for el in chunk.iter(_PROSE):
        parent = el.getparent()
        while parent is not None and parent is not chunk and parent.tag not in _PROSE:
            parent = parent.getparent()
        if parent is chunk:
            found.append(el)
    return found


def _is_prose_chunk(chunk: HtmlElement) -> bool:
    prose = [words for words, el in ((word_count(el.text_content()), el) for el in chunk.iter("p"))
             if words >= _PROSE_PARAGRAPH_WORDS and link_ratio(el) < 0.3]
    return sum(prose) >= _PROSE_CHUNK_WORDS


def _insert(tree: _Element, before: list[HtmlElement], after: list[HtmlElement]) -> None:
    known = {" ".join("".join(block.itertext()).split()) for block in tree}

    def new_block(el: HtmlElement) -> _Element | None:
        text = clean_line(el.text_content())
        if not text or text in known:
            return None
        block = SubElement(tree, "head" if el.tag in _HEADS else "p")
        block.text = text
        return block

    for el in after:
        new_block(el)
    for offset, block in enumerate(b for b in map(new_block, before) if b is not None):
        tree.insert(offset, block)  # moves the block from the end, where SubElement put it
