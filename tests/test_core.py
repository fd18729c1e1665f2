"""The extraction core on its own: typed rejections for bad input, and the normalization helpers."""

from __future__ import annotations

import codecs
import json
import re
import sys

import pytest

from newsbot.core.dates import parse_human, parse_iso
from newsbot.core.extract import build_article, extract_article, parse_page
from newsbot.core.people import parse_people
from newsbot.core.reasons import BodyTooShort, EmptyPage, MissingUrl, NotAnArticle, NotHtml, Rejected
from newsbot.core.text import Dateline, collapse_spaces, split_dateline
from newsbot.core.urls import strip_tracking
from newsbot.schema import validation_errors
from newsbot.sites import get_rules
from newsbot.sites.base import SiteRules

from .conftest import FIXTURES

URL = "https://news.example.com/2024/06/21/judul"
GENERIC = get_rules("generic")
ARTICLE_HTML = (FIXTURES / "generic/republisher-translated-putin-korut/page.html").read_bytes()


@pytest.mark.parametrize(
    ("body", "content_type", "error", "code"),
    [
        (b"", "text/html", EmptyPage, "empty"),
        (b"   \n\t ", None, EmptyPage, "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", NotHtml, "not-html"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None, NotHtml, "not-html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html", NotHtml, "not-html"),
        (json.dumps({"headline": "x"}).encode(), "application/json", NotHtml, "not-html"),
        (b"just some plain text, no markup at all", None, NotHtml, "not-html"),
        (b"<html><head><title>Indeks</title></head><body><ul><li><a href='/a'>A</a></li></ul></body></html>",
         "text/html", BodyTooShort, "too-short"),
    ],
    ids=["empty", "whitespace", "pdf-typed", "pdf-sniffed", "png-as-html", "json", "plain-text", "index-page"],
)
def test_bad_input_is_rejected_with_a_typed_reason(body, content_type, error, code):
    with pytest.raises(error) as info:
        extract_article(body, URL, GENERIC, content_type)
    # The code is what the crawl counts and writes: a public interface, spelt out here.
    assert info.value.reason == code
    assert str(info.value).startswith(code)


@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
])
def test_a_utf16_or_utf32_page_is_read_by_its_byte_order_mark(encoding, bom):
    body = bom + ARTICLE_HTML.decode("utf-8").encode(encoding)
    assert b"\x00" in body[:1024]
    # The header's charset is wrong, as servers' often are: the byte order mark decides.
    record = extract_article(body, URL, GENERIC, "text/html; charset=UTF-8").to_dict()
    expected = extract_article(ARTICLE_HTML, URL, GENERIC).to_dict()
    record.pop("metadata"), expected.pop("metadata")
    assert record == expected


@pytest.mark.parametrize("url", [None, ""])
def test_a_missing_url_is_a_typed_error_that_says_so(url):
    with pytest.raises(MissingUrl, match="extract_article needs the page's URL as its second argument"):
        extract_article(ARTICLE_HTML, url, GENERIC)
    assert issubclass(MissingUrl, ValueError) and not issubclass(MissingUrl, Rejected)


def test_a_record_becomes_json_through_to_dict():
    record = extract_article(ARTICLE_HTML, URL, GENERIC)
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps(record)
    assert json.loads(json.dumps(record.to_dict(), ensure_ascii=False)) == record.to_dict()


class _Strict(SiteRules):
    name = "strict"
    body_selectors = ("div#article-body",)


def test_site_rules_without_their_body_container_fall_back_to_the_generic_path_and_say_so():
    # Issue #14: a redesign that renames the container must not silence the site.
    hits: dict[str, bool] = {}
    record = build_article(parse_page(ARTICLE_HTML, URL), _Strict(), hits=hits)
    assert record.articleBody == extract_article(ARTICLE_HTML, URL, GENERIC).articleBody
    assert record.metadata.extractor.endswith("strict/1 fallback")
    assert hits["body"] is False and hits["fallback"] is True


def test_site_rules_without_their_body_container_still_reject_a_page_with_no_article():
    links = "".join(f'<li><a href="/a/{n}">Judul berita lain nomor {n} hari ini</a></li>' for n in range(30))
    index = f"<html><head><title>Indeks</title></head><body><ul>{links}</ul></body></html>"
    with pytest.raises(NotAnArticle, match="listing page"):
        extract_article(index, URL, _Strict())


def test_core_record_validates_and_is_deterministic():
    first = extract_article(ARTICLE_HTML, URL + "?utm_source=x", GENERIC).to_dict()
    second = extract_article(ARTICLE_HTML.decode("utf-8"), URL, GENERIC).to_dict()
    assert validation_errors(first) == []
    assert first["url"] == URL
    for volatile in ("metadata",):
        first.pop(volatile), second.pop(volatile)
    assert first == second
    assert first["inLanguage"] == "id"
    assert "Konten artikel" not in first["articleBody"]
    assert "\n\n" not in first["articleBody"]


def test_bytes_are_decoded_by_their_declared_charset():
    paragraphs = "".join(
        f"<p>Paragraf {n}: caf\u00e9 na\u00efve r\u00e9sum\u00e9, berita panjang ke-{n} untuk diuji hari ini.</p>"
        for n in range(1, 6)
    )
    text = f"<html><head><meta charset='windows-1252'></head><body><article>{paragraphs}</article></body></html>"
    record = extract_article(text.encode("windows-1252"), URL, GENERIC, "text/html")
    assert "caf\u00e9 na\u00efve r\u00e9sum\u00e9" in record.articleBody


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026-07-24T12:40+07:00", "2026-07-24T12:40:00+07:00"),
        ("2024/06/21 10:15:00", "2024-06-21T10:15:00+07:00"),
        ("2024-06-21T03:15:00Z", "2024-06-21T03:15:00+00:00"),
        ("2024-06-21T10:15:00.000+0700", "2024-06-21T10:15:00+07:00"),
    ],
)
def test_machine_dates_normalize_to_iso_with_offset(raw, iso):
    assert parse_iso(raw) == iso


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Jumat, 21 Juni 2024 | 10:15", "2024-06-21T10:15:00+07:00"),
        ("Kamis, 14 September 2023 - 20:22 WIB", "2023-09-14T20:22:00+07:00"),
        ("Jum'at, 24 Juli 2026 - 14:00 WIB", "2026-07-24T14:00:00+07:00"),
        ("Sabtu, 17 Agt 2024 09:05 WITA", "2024-08-17T09:05:00+08:00"),
        ("Selasa, 31 Des 2024 23:59 WIT", "2024-12-31T23:59:00+09:00"),
        ("21 Juni 2024", "2024-06-21T00:00:00+07:00"),
    ],
)
def test_human_dates_normalize_to_iso_with_offset(raw, iso):
    assert parse_human(raw) == iso


@pytest.mark.parametrize("raw", ["", "kemarin", "31 Februari 2024 10:00", "2024-13-01", "7 menit yang lalu"])
def test_unparseable_dates_are_none(raw):
    assert parse_iso(raw) is None
    assert parse_human(raw) is None


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Penulis : Aprianus Doni Tolok - Bisnis.com", ["Aprianus Doni Tolok"]),
        ("Andi Saputra, Budi Santoso dan Citra Lestari", ["Andi Saputra", "Budi Santoso", "Citra Lestari"]),
        ("Reza Deni & Ibriza Fasti Ifhami", ["Reza Deni", "Ibriza Fasti Ifhami"]),
        ("Laporan Wartawan Tribunnews.com, Reza Deni", ["Reza Deni"]),
        ("Budi Santoso (Antara)", ["Budi Santoso"]),
        ("Editor: Bobby Wiratama", ["Bobby Wiratama"]),
        ("Reuters", []),
        ("Byron Kusuma", ["Byron Kusuma"]),
    ],
)
def test_bylines_become_names(raw, names):
    people = parse_people([raw])
    assert [p.name for p in people] == names
    assert all(p.nameRaw == raw for p in people)


def test_dateline_place_and_outlet_only_prefixes():
    import re

    rules = (Dateline(re.compile(r"^(?:TRIBUNNEWS\.COM|(?P<place>[A-Z]{3,}))\s*-\s+")),)
    assert split_dateline("JAKARTA - Presiden berkata.", rules) == ("JAKARTA", "Presiden berkata.")
    assert split_dateline("TRIBUNNEWS.COM - Presiden berkata.", rules) == (None, "Presiden berkata.")
    assert split_dateline("Presiden berkata.", rules) == (None, "Presiden berkata.")


def test_tracking_parameters_are_removed_and_the_rest_kept():
    url = "https://x.com/a/b?page=2&utm_source=fb&utm_medium=social&fbclid=1&id=7#top"
    assert strip_tracking(url) == "https://x.com/a/b?page=2&id=7"


@pytest.mark.parametrize(
    ("meta_time", "published"),
    [
        # Some CMSs tag local time as UTC: the wall clock equals the shown WIB time, so the page is right.
        ("2024-06-21T10:15:00Z", "2024-06-21T10:15:00+07:00"),
        # A genuine UTC time (03:15Z is 10:15 WIB) is kept as given.
        ("2024-06-21T03:15:00Z", "2024-06-21T03:15:00+00:00"),
    ],
)
def test_utc_tagged_times_against_the_shown_local_time(meta_time, published):
    paragraphs = "".join(f"<p>Paragraf ke-{n} dari berita ekonomi yang panjang untuk diuji.</p>" for n in range(6))
    html = (
        f"<html><head><meta name='publishdate' content='{meta_time}'></head><body><h1>Judul</h1>"
        "<div class='detailsAttributeDates'>Jumat, 21 Juni 2024 | 10:15</div>"
        f"<article class='detailsContent'>{paragraphs}</article></body></html>"
    )
    record = extract_article(html, "https://ekonomi.bisnis.com/read/20240621/9/1/judul", get_rules("bisnis"))
    assert record.datePublished == published
    assert record.datePublishedRaw == "Jumat, 21 Juni 2024 | 10:15"


def test_every_site_has_its_rules_registered_and_a_spider():
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    from newsbot.sites import RULES

    assert set(RULES) == {"generic", "bisnis", "tribun", "sindonews", "faktual"}
    # What scrapy crawl and scrapy list find: one spider per rules module, named as the site.
    assert sorted(get_spider_loader(get_project_settings()).list()) == sorted(RULES)


def test_faktual_body_is_found_when_its_container_is_not_a_div():
    case = FIXTURES / "faktual/short-news"
    html = (case / "page1.html").read_text(encoding="utf-8")
    url = json.loads((case / "case.json").read_text(encoding="utf-8"))["url"]
    as_section = html.replace('<div id="mvp-content-main"', '<section id="mvp-content-main"').replace(
        "</div><!--mvp-content-main-->", "</section><!--mvp-content-main-->")
    assert as_section != html
    rules = get_rules("faktual")
    assert extract_article(as_section, url, rules).articleBody == extract_article(html, url, rules).articleBody


def test_collapse_spaces_is_the_whitespace_regex_exactly():
    # str.split() and re's \s must agree on every code point for collapse_spaces to replace the regex.
    space_re = re.compile(r"\s")
    assert {cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()} == {
        cp for cp in range(sys.maxunicode + 1) if space_re.match(chr(cp))}
    for text in ["", "   ", " a  b\t\nc\u00a0\u2003d\u3000 ", "\u200bx\u200b", "a\u0085b\u2028c\u2029d\x1ce"]:
        assert collapse_spaces(text) == re.sub(r"\s+", " ", text).strip()
