"""Dated rule versions (issue #14, Fundus style): a redesign is a new version of a site's rules, the old one is
dated, and each page is read by the version of the day it was fetched."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

import pytest

from newsbot import sites
from newsbot.core.extract import build_article, parse_page
from newsbot.fixtures.case import EXPECTED_FILE
from newsbot.fixtures.tool import field_differences, without_volatile
from newsbot.sites import rules_at
from newsbot.sites.base import SiteRules
from newsbot.sites.tribun import TribunRules

from .conftest import ALL_CASES, crawl
from .redesign import redesign_html


class _Old(SiteRules):
    name = "demo"
    version = "1"
    valid_until = date(2026, 6, 30)


class _New(_Old):
    version = "2"
    valid_until = date.max


def test_versions_are_ordered_and_picked_by_the_day_a_page_was_fetched(monkeypatch):
    monkeypatch.setitem(sites.VERSIONS, "demo", sites._ordered("demo", [_New, _Old]))
    assert rules_at("demo", date(2026, 6, 30)).version == "1"  # valid_until is the last day of the old layout
    assert rules_at("demo", datetime(2026, 7, 1, 0, 0, tzinfo=UTC)).version == "2"
    assert rules_at("demo", None).version == "2"


def test_two_versions_valid_until_the_same_day_or_sharing_a_number_are_refused():
    class Twin(_Old):
        version = "3"

    with pytest.raises(ImportError, match="valid until 2026-06-30"):
        sites._ordered("demo", [_Old, Twin, _New])

    class Same(_New):
        valid_until = date(2027, 1, 1)
        version = "1"

    with pytest.raises(ImportError, match="repeat a version"):
        sites._ordered("demo", [_Old, Same, _New])


def test_every_site_has_one_current_version():
    for name, versions in sites.VERSIONS.items():
        assert versions[-1].valid_until == date.max, name
        assert sites.RULES[name] is versions[-1]


# A redesign of Tribunnews handled as a new version: the 2027 layout renames the body container.
class _Tribun2027(TribunRules):
    version = "2"
    body_selectors = ("div.q3045fba8",)  # what tests/redesign.py renames 'side-article' to


def _tribun_versions(monkeypatch):
    class Tribun2026(TribunRules):
        valid_until = date(2026, 12, 31)

    # In a real module these are two classes of newsbot/sites/tribun.py; here they are swapped in.
    Tribun2026.__name__ = "TribunRules"
    monkeypatch.setitem(sites.VERSIONS, "tribun", sites._ordered("tribun", [Tribun2026, _Tribun2027]))
    return Tribun2026


def test_a_page_of_the_old_layout_keeps_the_old_version_and_its_exact_record(monkeypatch):
    old = _tribun_versions(monkeypatch)
    for case in [c for c in ALL_CASES if c.site == "tribun" and len(c.responses) == 1]:
        stored = case.responses[case.url]
        page = parse_page(stored.path.read_bytes(), case.url, stored.headers.get("Content-Type"))
        page.fetched = parsedate_to_datetime(stored.headers["Date"])  # in 2024-2026, as every fixture's
        record = build_article(page, old(), url=case.url).to_dict()
        expected = json.loads((case.directory / EXPECTED_FILE).read_text(encoding="utf-8"))
        assert record["metadata"]["extractor"].endswith("tribun/1")
        assert not field_differences(expected, without_volatile(record)), case.directory.name


def test_a_page_of_the_new_layout_is_read_by_the_new_version_without_a_fallback(monkeypatch):
    _tribun_versions(monkeypatch)
    case = next(c for c in ALL_CASES if c.site == "tribun" and c.directory.name == "id-url-2026")
    stored = case.responses[case.url]
    redesigned = redesign_html(stored.path.read_bytes(), sites.get_rules("tribun"))
    page = parse_page(redesigned, case.url, "text/html; charset=UTF-8")
    page.fetched = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    hits: dict[str, bool] = {}
    record = build_article(page, sites.get_rules("tribun"), url=case.url, hits=hits)
    expected = json.loads((case.directory / EXPECTED_FILE).read_text(encoding="utf-8"))
    assert record.metadata.extractor.endswith("tribun/2")
    assert hits["body"] is True and hits["fallback"] is False
    assert record.articleBody == expected["articleBody"]


def test_a_replayed_page_is_dated_by_its_stored_date_header():
    # Every fixture response carries the Date it was served with: replay takes dateDownloaded (and so the
    # version of the rules) from it, as an archive pass takes it from the WARC record.
    case = next(c for c in ALL_CASES if c.site == "bisnis" and c.directory.name == "seed-putin-korut")
    code, records, _ = crawl("bisnis", {"replay": str(case.directory)})
    assert code == 0
    assert records[0]["metadata"]["dateDownloaded"] == "2024-06-21T05:15:00+00:00"
