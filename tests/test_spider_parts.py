"""The spider's own components, without a crawl: the pages of a multi-page article and the run's limits."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request

from newsbot.crawl.replay import FETCHED
from newsbot.sites.base import Pagination
from newsbot.sites.listings import DateWindow, Entry
from newsbot.spiders.limits import RunLimits
from newsbot.spiders.pagination import ArticlePages, StoredPage

FIRST = "https://www.tribunnews.com/nasional/2024/06/21/judul"
WIB = timezone(timedelta(hours=7))


def response(url: str, text: str, fetched: datetime | None = None) -> HtmlResponse:
    meta = {FETCHED: fetched} if fetched else {}
    return HtmlResponse(url, body=f"<html><body><p>{text}</p></body></html>".encode(), encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url, meta=meta))


def test_an_article_s_pages_are_fetched_in_order_survive_pickling_and_keep_their_fetch_time():
    then = datetime(2024, 6, 21, 3, 0, tzinfo=UTC)
    plan = Pagination(count=3, all_pages_url=None, page_urls=(f"{FIRST}?page=2", f"{FIRST}?page=3"))
    pages = ArticlePages(plan, StoredPage.of(response(FIRST, "satu", then)))
    assert pages.url == FIRST and pages.next_url == f"{FIRST}?page=2"
    pages = pages.with_page(response(f"{FIRST}?page=2", "dua", then))
    # What a JOBDIR queue stores between the requests.
    pages = pickle.loads(pickle.dumps(pages))
    assert pages.next_url == f"{FIRST}?page=3"
    pages = pages.with_page(response(f"{FIRST}?page=3", "tiga"))
    assert pages.next_url is None
    parsed = pages.parsed()
    assert [page.url for page in parsed] == [FIRST, f"{FIRST}?page=2", f"{FIRST}?page=3"]
    assert [page.fetched for page in parsed] == [then, then, None]


def test_the_limit_stops_the_crawl_after_the_last_record_and_not_before():
    limits = RunLimits(2, DateWindow(), WIB)
    limits.written()
    limits.stop_if_reached()
    assert limits.room_for_more()
    limits.written()
    assert not limits.room_for_more()
    with pytest.raises(CloseSpider) as stopped:
        limits.stop_if_reached()
    assert stopped.value.reason == "limit"
    unlimited = RunLimits(None, DateWindow(), WIB)
    for _ in range(1000):
        unlimited.written()
    unlimited.stop_if_reached()
    assert unlimited.room_for_more()


def test_the_window_is_judged_on_the_site_s_local_day():
    limits = RunLimits(None, DateWindow(since=date(2024, 6, 21)), WIB)
    # 18:00 UTC on the 20th is already the 21st in Jakarta.
    evening = datetime(2024, 6, 20, 18, 0, tzinfo=UTC)
    assert not limits.before_window(evening)
    assert limits.before_window(evening - timedelta(hours=2))
    assert not limits.before_window(None)
    assert limits.admits_entry(Entry(FIRST, published=evening), None)
    assert not limits.admits_entry(Entry(FIRST, published=evening - timedelta(hours=2)), None)
