"""Listing parsing, the date window, article identity, the seen-store and the crash-safety pieces, without a crawl."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from newsbot.core.dates import WIB
from newsbot.core.page import ParsedPage
from newsbot.crawl.extensions import JobdirGuard
from newsbot.crawl.feeds import drop_partial_last_line
from newsbot.crawl.seen import SeenStore
from newsbot.middlewares import BackoffRetryMiddleware
from newsbot.sites import get_rules
from newsbot.sites.listings import DateWindow, Entry, ListingError, parse_feed, parse_sitemap

from .conftest import FIXTURES

NEWS_SITEMAP = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc><![CDATA[https://www.tribunnews.com/nasional/9000201/a]]></loc>
    <news:news><news:publication_date><![CDATA[2026-07-24T17:16:29+07:00]]></news:publication_date></news:news></url>
  <url><loc> https://www.tribunnews.com/nasional/9000202/b </loc><lastmod>2026-07-23</lastmod></url>
</urlset>"""


def test_news_sitemap_entries_carry_their_dates():
    sitemap = parse_sitemap(NEWS_SITEMAP)
    assert sitemap.children == ()
    published = datetime.fromisoformat("2026-07-24T17:16:29+07:00")
    assert sitemap.entries == (
        Entry("https://www.tribunnews.com/nasional/9000201/a", published=published),
        Entry("https://www.tribunnews.com/nasional/9000202/b", modified=datetime(2026, 7, 23, tzinfo=UTC)),
    )


def test_gzipped_sitemap_index_is_read():
    body = gzip.compress(b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
                         b"<loc>https://x.test/a.xml</loc><lastmod>2026-01-02T03:04:05Z</lastmod></sitemap></sitemapindex>")
    modified = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_sitemap(body).children == (Entry("https://x.test/a.xml", modified=modified),)


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.test/&x;</loc></url></urlset>')
    entries = parse_sitemap(xxe.encode()).entries
    assert all("TOP-SECRET" not in e.url for e in entries)


def test_entity_expansion_bombs_are_not_expanded():
    lol = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY l0 "lol">{lol}]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.test/&l9;</loc></url></urlset>')
    entries = parse_sitemap(bomb.encode()).entries
    assert all(len(e.url) < 1000 for e in entries)


@pytest.mark.parametrize("body", [b"", b"not xml at all", b"<html><body>oops</body></html>", b"\x1f\x8bnot gzip"])
def test_unreadable_listings_raise_a_listing_error(body):
    with pytest.raises(ListingError):
        parse_sitemap(body)


def test_rss_and_atom_feeds():
    rss = b"""<rss version="2.0"><channel><item><link>https://faktual-indonesia.com/a/</link>
              <pubDate>Fri, 21 Jun 2024 03:15:32 +0000</pubDate></item></channel></rss>"""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="https://x.test/b"/>
               <published>2024-06-21T10:15:32+07:00</published></entry></feed>"""
    moment = datetime.fromisoformat("2024-06-21T10:15:32+07:00")
    assert parse_feed(rss) == (Entry("https://faktual-indonesia.com/a/", published=moment),)
    assert parse_feed(atom) == (Entry("https://x.test/b", published=moment),)


def test_the_window_uses_the_sites_local_day():
    window = DateWindow.from_args("2024-06-21", "2024-06-21")
    # 17:30 UTC on the 20th is 00:30 WIB on the 21st.
    assert window.admits(datetime(2024, 6, 20, 17, 30, tzinfo=UTC), WIB)
    assert not window.admits(datetime(2024, 6, 21, 17, 30, tzinfo=UTC), WIB)
    assert window.admits(None, WIB)
    # Only a lower bound follows from a modification date.
    assert not window.admits_entry(Entry("u", modified=datetime(2024, 6, 1, tzinfo=UTC)), WIB)
    assert window.admits_entry(Entry("u", modified=datetime(2024, 8, 1, tzinfo=UTC)), WIB)
    assert not window.admits_entry(Entry("u"), WIB, url_day=date(2024, 6, 22))


def test_window_days_run_newest_first_and_stop_at_today():
    window = DateWindow.from_args("2026-11-19", None)
    assert window.days(date(2026, 11, 21), 366) == [date(2026, 11, 21), date(2026, 11, 20), date(2026, 11, 19)]
    assert window.days(date(2026, 11, 21), 2) == [date(2026, 11, 21), date(2026, 11, 20)]


ARTICLE_URLS = {
    "tribun": (
        ["https://www.tribunnews.com/nasional/7827148/baleg-dpr", "https://surabaya.tribunnews.com/2024/06/21/pemkot-x",
         "https://www.tribunnews.com/internasional/2024/06/21/putin-x?page=2"],
        ["https://www.tribunnews.com/tag/abc", "https://www.tribunnews.com/topic/abc", "https://www.tribunnews.com/index-news",
         "https://www.tribunnews.com/video/2024/06/21/abc", "https://www.tribunnews.com/foto/2024/06/21/abc",
         "https://www.tribunnews.com/nasional", "https://video.tribunnews.com/view/123456/abc"],
    ),
    "sindonews": (
        ["https://ekbis.sindonews.com/read/1731562/178/ihsg-ditutup-1784538402",
         "https://www.sindonews.com/read/1731562/178/ihsg-ditutup-1784538402/5"],
        ["https://pict.sindonews.com/read/1/2/a-1234567890", "https://video.sindonews.com/play/1/a",
         "https://www.sindonews.com/topic/123/abc", "https://index.sindonews.com/index/0/2026-07-24"],
    ),
    "bisnis": (
        ["https://ekonomi.bisnis.com/read/20240717/9/1783120/bi-tahan", "https://premium.bisnis.com/read/20240624/620/1776105/a"],
        ["https://video.bisnis.com/read/20240717/9/1783120/bi-tahan", "https://epaper.bisnis.com/edition/20240715/x",
         "https://www.bisnis.com/topic/18731/harga-nikel", "https://ekonomi.bisnis.com/makro"],
    ),
    "faktual": (
        ["https://faktual-indonesia.com/korea-utara-membantah/", "https://faktual-indonesia.com/2024/06/21/a-b/"],
        ["https://faktual-indonesia.com/category/internasional/", "https://faktual-indonesia.com/tag/pon-xxi/",
         "https://faktual-indonesia.com/author/gungdewan/", "https://faktual-indonesia.com/feed/",
         "https://faktual-indonesia.com/wp-sitemap.xml", "https://example.com/korea-utara-membantah/"],
    ),
}


@pytest.mark.parametrize("site", sorted(ARTICLE_URLS))
def test_article_urls_and_non_articles(site):
    rules = get_rules(site)
    articles, others = ARTICLE_URLS[site]
    assert [u for u in articles if not rules.is_article_url(u)] == []
    assert [u for u in others if rules.is_article_url(u)] == []


@pytest.mark.parametrize(("site", "one", "other"), [
    ("sindonews", "https://ekbis.sindonews.com/read/1731562/178/ihsg-1784538402",
     "https://www.sindonews.com/read/1731562/178/ihsg-1784538402/5?showpage=all"),
    ("tribun", "https://www.tribunnews.com/internasional/2024/06/21/putin-x",
     "https://m.tribunnews.com/internasional/2024/06/21/putin-x?page=2&utm_source=x"),
    ("bisnis", "https://ekonomi.bisnis.com/read/20240717/9/1783120/bi-tahan",
     "https://ekonomi.bisnis.com/read/20240717/9/1783120/bi-tahan-suku-bunga"),
    ("faktual", "https://faktual-indonesia.com/a-b/", "https://www.faktual-indonesia.com/a-b?fbclid=x"),
])
def test_one_story_on_two_urls_has_one_key(site, one, other):
    rules = get_rules(site)
    assert rules.article_key(one) == rules.article_key(other)


def page(site: str, file: str, url: str) -> ParsedPage:
    return ParsedPage.parse((FIXTURES / site / "listings" / file).read_bytes(), url)


def test_index_pagination_of_each_site():
    tribun = get_rules("tribun")
    first = page("tribun", "index-news.html", "https://www.tribunnews.com/index-news")
    assert tribun.next_index_page(first, tribun.index_entries(first)) == "https://www.tribunnews.com/index-news?page=2"
    second = page("tribun", "index-news-page-2.html", "https://www.tribunnews.com/index-news?page=2")
    assert tribun.next_index_page(second, tribun.index_entries(second)) is None

    bisnis = get_rules("bisnis")
    url = "https://www.bisnis.com/index?categoryId=0&type=indeks&page=1"
    first = page("bisnis", "index-page-1.html", url)
    assert bisnis.next_index_page(first, bisnis.index_entries(first)) == url[:-1] + "2"

    sindo = get_rules("sindonews")
    short = page("sindonews", "indeks.html", "https://www.sindonews.com/indeks")
    assert sindo.next_index_page(short, sindo.index_entries(short)) is None
    full = [Entry(f"https://x.test/{n}") for n in range(20)]
    assert sindo.next_index_page(ParsedPage.parse(b"<html><body></body></html>", "https://www.sindonews.com/indeks/0/20?t=2026-07-20"),
                                 full) == "https://www.sindonews.com/indeks/0/40?t=2026-07-20"


def test_index_entries_carry_the_visible_date():
    sindo = get_rules("sindonews")
    entries = sindo.index_entries(page("sindonews", "indeks-2026-07-20.html", "https://www.sindonews.com/indeks/0/0?t=2026-07-20"))
    assert entries and all(e.published and e.published.astimezone(WIB).date() == date(2026, 7, 20) for e in entries)


def test_seen_store_persists_across_opens(tmp_path):
    store = SeenStore(tmp_path / "seen.sqlite")
    store.add(["tribun:1", "tribun:1", "tribun:x.com/a"], "https://x.com/a")
    store.close()
    again = SeenStore(tmp_path / "seen.sqlite")
    assert "tribun:1" in again and "tribun:x.com/a" in again and "tribun:2" not in again and len(again) == 2


def test_a_half_written_last_record_is_cut(tmp_path):
    feed = tmp_path / "out.jsonl"
    feed.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    drop_partial_last_line(feed)
    assert feed.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    drop_partial_last_line(feed)
    assert feed.read_bytes() == b'{"a": 1}\n{"b": 2}\n'


def test_jobdir_of_a_killed_crawl_is_moved_aside(tmp_path):
    jobdir = tmp_path / "job"
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / JobdirGuard.MARKER).write_text("123\n")
    guard = JobdirGuard(jobdir)
    guard.recover()
    assert not (jobdir / "requests.queue").exists()
    assert any(p.name.startswith("requests.queue.unclean-") for p in jobdir.iterdir())
    guard.spider_closed()
    assert not (jobdir / JobdirGuard.MARKER).exists()
    # A cleanly paused crawl keeps its queue.
    (jobdir / "requests.queue").mkdir()
    JobdirGuard(jobdir).recover()
    assert (jobdir / "requests.queue").exists()


def test_backoff_grows_and_obeys_retry_after():
    mw = BackoffRetryMiddleware(Settings({"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 60.0}))
    retry = Request("https://x.test/a", meta={"retry_times": 3})
    assert 8.0 <= mw.delay(retry, None) <= 10.0
    told = Response("https://x.test/a", status=429, headers={"Retry-After": "120"})
    assert mw.delay(retry, told) == 60.0
    told = Response("https://x.test/a", status=503, headers={"Retry-After": "5"})
    assert mw.delay(retry, told) == 5.0

