"""The parsed page's CSS selection: newsbot's faster XPath translation matches exactly what cssselect's does."""

from __future__ import annotations

import contextlib

import lxml.html
import pytest
from lxml.cssselect import CSSSelector

import newsbot.core.page
from newsbot.core.extract import build_article, parse_page
from newsbot.core.page import ParsedPage, css
from newsbot.core.reasons import Rejected
from newsbot.fixtures.tool import spider_for
from newsbot.sites import RULES, get_rules

from .conftest import ALL_CASES, LISTING_CASES

# Selector shapes the site rules do not use yet, so that a new rule cannot meet a translation difference.
TRICKY = [
    "div p", "div > p", "div ~ p", "div + p", "ul li:first-child a", "li:nth-child(2n+1)", "p:last-of-type",
    ".a.b", "div:not(.x) span", "[class~='x']", "[class*='art']", "[class^='det']", "[class$='content']",
    "[id|='main']", "a[href*='page=']", "h1, h2, .title", "*", "body *:not(script)", "div div div a",
    "#main .content p", "article :is(p, h2)", "span:empty", "a[rel~='next']", "[class~='']",
    "div div a", "html a", "body div p:first-child", "li:nth-child(odd) a", ".mvp-post-tags a span", "ul li a img",
    "div:not(.x) a", "header a, footer a", "main h2 + p", "div > p a", "article p:last-of-type",
    # Compounds document_css reaches through their class or id attribute, alone and in chains.
    ".detail-img .detail-caption", "div.detail-img .detail-caption", "#artimg .grey2", "div#artimg.ovh",
    "#mvp-post-feat-img .mvp-feat-caption", ".side-article.txt-article p", ".detailsAuthor #x", "#a.b",
    ".a\\ b", "*.detail-desc", "div.mt10 .grey", "#penulis", "span.x.y", ".mvp-post-tags .mvp-post-cat a",
    # Chains whose pivot (the last compound testing more than a name) is not the last compound.
    "ul li.mvp-post-tags a", "[itemprop] a", "[class] div a", "body .detail-desc p span", "div[id] div.grey time",
    "html body div.detail-img img", "#artimg div a img", "article .detailsContent p a",
    # Filed by the head walk rather than matched (ParsedPage._read_head).
    'link[rel="canonical"]',
]


def _pages() -> list[tuple[str, ParsedPage]]:
    pages = []
    for case in ALL_CASES + LISTING_CASES:
        for url, stored in case.responses.items():
            if not stored.path.name.endswith(".html"):
                continue
            with contextlib.suppress(Rejected):
                pages.append((spider_for(case), parse_page(stored.path.read_bytes(), url)))
    return pages


PAGES = _pages()


@pytest.fixture(scope="module")
def rule_selectors() -> set[str]:
    """Every selector the site rules evaluate while building every fixture page's record and following its
    pagination and listing links."""
    used: set[str] = set()

    class Recording(CSSSelector):
        # Selectors compiled by css(): subtree queries, such as a body's drop selectors.
        def __init__(self, selector: str, **kwargs) -> None:
            used.add(selector)
            super().__init__(selector, **kwargs)

    document_css = newsbot.core.page.document_css

    def recording_document_css(selector: str):
        # Selectors ParsedPage.select matches against the whole page.
        used.add(selector)
        return document_css(selector)

    css.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(newsbot.core.page, "CSSSelector", Recording)
        patch.setattr(newsbot.core.page, "document_css", recording_document_css)
        for spider, page in _pages():
            rules = get_rules(spider)
            with contextlib.suppress(Rejected):
                build_article(page, rules)
            rules.pagination(page)
            rules.next_index_page(page, rules.index_entries(page))
    css.cache_clear()
    return used


def test_rules_use_many_selectors(rule_selectors: set[str]) -> None:
    assert len(rule_selectors) > 40
    assert "div.side-article.txt-article" in rule_selectors
    # A chain document_css reads backwards, and a drop selector used on a body subtree.
    assert ".mvp-post-tags span[itemprop='keywords'] a" in rule_selectors
    assert ".mvp-related-posts" in rule_selectors or "#mvp-related-posts" in rule_selectors


def _same_matches(selectors: set[str] | list[str]) -> list[str]:
    differences = []
    for spider, page in PAGES:
        roots = [page.tree, *page.tree.iter("article", "main")]
        for selector in selectors:
            stock = CSSSelector(selector)
            for root in roots:
                if stock(root) != css(selector)(root):
                    differences.append(f"{spider} {page.url} {root.tag}: {selector!r}")
    return differences


def test_rule_selectors_match_as_cssselect_does(rule_selectors: set[str]) -> None:
    assert _same_matches(rule_selectors) == []


def test_other_selector_shapes_match_as_cssselect_does() -> None:
    assert _same_matches(TRICKY) == []


def test_page_selection_matches_cssselect_on_every_page(rule_selectors: set[str]) -> None:
    # ParsedPage.select reads a descendant chain backwards over the whole document (document_css). first()
    # stops at the first selector that matches, so the recording misses some: the rules' own tuples too.
    declared = {s for rules in RULES.values() for name, value in vars(rules).items()
                if name.endswith("_selectors") for s in value}
    assert {"#mvp-content-main", "div#detail-desc", "#zox-content-main"} <= declared
    selectors = sorted(rule_selectors | declared | set(TRICKY))
    differences = [f"{page.url}: {selector!r}" for _, page in PAGES for selector in selectors
                   if page.select(selector) != CSSSelector(selector)(page.tree)]
    assert differences == []


@pytest.mark.parametrize(("selector", "expected"), [
    ("#a", "1"),  # two elements carry the id: the first one
    ("div#a", "2"),  # the first "a" is a <p>: the walk finds the div
    ("section#a", None),
    ("#b", "4"),  # an id with spaces around it is not "b"
    ("#c", None),
    ("#d", "6"),
])
def test_first_on_awkward_ids(selector: str, expected: str | None) -> None:
    page = parse_page(b'<html><body><p id="a">1</p><div id="a">2</div><div id=" b ">3</div><i id="b">4</i>'
                      b'<span id="">5</span><b id="d">6</b></body></html>', "https://example.com/")
    el = page.first(selector)
    assert (el.text if el is not None else None) == expected
    stock = CSSSelector(selector)(page.tree)
    assert el is (stock[0] if stock else None)


def test_class_test_is_a_whole_token_not_a_substring() -> None:
    tree = lxml.html.fromstring(
        "<div><p class='detail'>a</p><p class='details'>b</p><p class='x\tdetail\n'>c</p><p>d</p></div>")
    assert [p.text for p in css(".detail")(tree)] == ["a", "c"]
    assert [p.text for p in css("div .details")(tree)] == ["b"]
    page = ParsedPage(url="https://example.com/", tree=tree)
    assert [p.text for p in page.select(".detail")] == ["a", "c"]
    assert [p.text for p in page.select("div p.details")] == ["b"]


def _html_files() -> list:
    return sorted({stored.path for case in ALL_CASES + LISTING_CASES for stored in case.responses.values()
                   if stored.path.name.endswith(".html")})


@pytest.mark.parametrize("body", [
    *[path.read_bytes() for path in _html_files()],
    # A UTF-8 page whose declarations say otherwise, one with a BOM, one with an XML declaration.
    b'<html><head><meta charset="iso-8859-1"></head><body><p>caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d</p></body></html>',
    b'\xef\xbb\xbf<html><body><p>\xe2\x80\x94 s\xc3\xa9l\xc3\xa9ksi</p></body></html>',
    b'<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>caf\xc3\xa9</p></body></html>',
], ids=lambda body: f"{len(body)}b")
def test_utf8_bytes_parse_to_the_same_tree_as_their_text(body: bytes) -> None:
    from_bytes = ParsedPage.parse(body, "https://example.com/")
    from_text = ParsedPage.parse(body.decode("utf-8").removeprefix("\ufeff"), "https://example.com/")
    assert from_bytes.encoding == "utf-8"
    assert lxml.html.tostring(from_bytes.tree) == lxml.html.tostring(from_text.tree)
