"""WARC files in a Scrapy crawl: ``scrapy crawl <site> -a warc=`` reads its pages from the archive as
``-a replay=`` reads fixtures, and ``-a record=PATH.warc.gz`` archives a live crawl (against a copy of the
site on 127.0.0.1) so that it replays byte for byte."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsbot.archive.index import ArchiveIndex
from newsbot.archive.writer import write_cases
from newsbot.fixtures.tool import crawl, record_for, spider_for, without_volatile

from .conftest import ALL_CASES, FIXTURES, ROOT, crawl_stats
from .sitecopy import SiteServer, build_tribun_copy
from .warcs import ARCHIVED, archive_pass

SITES = sorted({spider_for(case) for case in ALL_CASES})


@pytest.mark.parametrize("site", SITES)
def test_a_crawl_of_the_archive_gives_the_replayed_records(site, fixture_warc, replayed, tmp_path):
    code, records, log = crawl(site, {"warc": str(fixture_warc)}, drop_log=tmp_path / "dropped.jsonl")
    assert code == 0, log[-4000:]
    cases = [case for case in ALL_CASES if spider_for(case) == site]
    for case in cases:
        record = record_for(case, records)
        assert record is not None, f"{case.url}: no record\n{log[-3000:]}"
        assert without_volatile(record) == without_volatile(replayed[case.directory])
    # One request per article: the archive's two URLs of one story (with and without tracking) are one.
    stats = crawl_stats(log)
    assert stats["newsbot/articles"] == len(records) == len(cases)
    assert not (tmp_path / "dropped.jsonl").exists()


def test_a_page_missing_from_the_archive_drops_its_article_as_not_in_archive(tmp_path, replayed):
    fallback = next(c for c in ALL_CASES if c.directory == FIXTURES / "tribun" / "two-page-fallback")
    no_all = tmp_path / "no-all.warc.gz"
    write_cases([fallback], no_all, date=ARCHIVED, skip=[f"{fallback.url}?page=all"])
    code, records, log = crawl("tribun", {"warc": str(no_all)})
    assert code == 0, log[-3000:]
    [record] = records
    assert without_volatile(record) == without_volatile(replayed[fallback.directory])
    assert crawl_stats(log)["newsbot/pagination/all_pages_fallback"] == 1

    no_page_2 = tmp_path / "no-page-2.warc.gz"
    write_cases([fallback], no_page_2, date=ARCHIVED, skip=[f"{fallback.url}?page=all", f"{fallback.url}?page=2"])
    code, records, log = crawl("tribun", {"warc": str(no_page_2)}, drop_log=tmp_path / "dropped.jsonl")
    # Its only article lost to the archive's gap: the crawl wrote nothing because it could not, and says so.
    assert code == 1 and records == [], log[-3000:]
    assert log.rstrip().splitlines()[-1] == ("scrapy crawl: failed: nothing written, every request failed: "
                                             "not-in-archive 1")
    [drop] = [json.loads(line) for line in (tmp_path / "dropped.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (drop["url"], drop["reason"]) == (fallback.url, "not-in-archive")
    stats = crawl_stats(log)
    assert stats["newsbot/articles"] == stats["newsbot/dropped"] == stats["newsbot/dropped/not-in-archive"] == 1


def test_a_bad_archive_argument_stops_the_crawl_before_any_request(tmp_path):
    code, records, log = crawl("tribun", {"warc": str(tmp_path / "missing.warc.gz")})
    assert code != 0 and records == []
    assert "missing.warc.gz: no such file" in log


# Recording a live crawl ---------------------------------------------------------------------------------
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0.05"]


def _live_crawl(server: SiteServer, tmp: Path, *extra: str) -> list[dict]:
    env = {**os.environ, "https_proxy": server.proxy, "http_proxy": server.proxy, "no_proxy": "",
           "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
    out = tmp / "live.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "tribun", "-O", f"{out}:jsonlines",
           "-s", f"NEWSBOT_SEEN_STORE={tmp / 'seen.sqlite'}", "-s", f"NEWSBOT_DROP_LOG={tmp / 'dropped.jsonl'}",
           "--logfile", str(tmp / "live.log"), *FAST, *extra]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, text=True, check=False, timeout=180)
    assert proc.returncode == 0, (tmp / "live.log").read_text(encoding="utf-8")[-4000:]
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _comparable(records: list[dict]) -> list[str]:
    return sorted(json.dumps(without_volatile(r), sort_keys=True) for r in records)


def test_a_recorded_live_crawl_is_archived_as_sent_and_replays_to_the_same_records(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    site = build_tribun_copy(FIXTURES)
    warc = tmp_path / "tribun.warc.gz"
    with SiteServer(site, tmp_path) as server:
        live = _live_crawl(server, tmp_path, "-a", f"record={warc}")
        fetched = {url for url, count in server.requests.items() if count}
    assert sorted(r["url"] for r in live) == sorted(site.articles)

    # Every response the server sent is in the archive, its body byte for byte, with its request.
    index = ArchiveIndex.build([warc])
    assert set(index.where) == fetched
    for url in fetched:
        archived, served = index.get(url), site.pages.get(url)
        assert archived is not None
        if served is not None:
            assert (archived.status, archived.body) == (served.status, served.body), url
    kinds, problems = [], []
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            kinds.append(record.rec_type)
            record.content_stream().read()
            problems += record.digest_checker.problems
    assert not problems
    assert kinds[0] == "warcinfo" and kinds.count("request") == kinds.count("response") == len(fetched)

    # Replayed from the archive alone (no server): the same listings, the same records.
    for args in ({"warc": str(warc), "discover": "true"}, {"warc": str(warc)}):
        code, replayed, log = crawl("tribun", args)
        assert code == 0, log[-3000:]
        assert _comparable(replayed) == _comparable(live), args
    records, stats, _ = archive_pass(tmp_path, warc)
    assert _comparable(records) == _comparable(live)
    assert stats["sites"]["tribun"]["records"] == len(live)
    # robots.txt, the sitemap index, the news sitemaps and the index pages: skipped by their URL.
    assert stats["sites"]["tribun"]["not_article"] >= 5
    assert stats["archive"]["skipped/request"] == len(fetched)


@pytest.fixture
def gzip_site():
    """127.0.0.1 serving the generic fixture page gzip-encoded, behind a redirect."""
    case = next(c for c in ALL_CASES if c.site == "generic")
    page = gzip.compress(case.responses[case.url].path.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/lama":
                self.send_response(301)
                self.send_header("Location", "/berita/pakta-baru")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/berita/pakta-baru":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page
    finally:
        server.shutdown()
        server.server_close()


def test_redirects_and_content_coding_are_recorded_as_sent_and_replayed(gzip_site, tmp_path):
    base, gzipped = gzip_site
    warc = tmp_path / "generic.warc.gz"
    local = ["-s", "NEWSBOT_ALLOW_PRIVATE_HOSTS=127.0.0.1", "-s", "DOWNLOAD_DELAY=0"]
    code, live, log = crawl("generic", {"url": f"{base}/lama", "record": str(warc)}, extra=local)
    assert code == 0 and len(live) == 1, log[-3000:]
    index = ArchiveIndex.build([warc])
    moved, page = index.get(f"{base}/lama"), index.get(f"{base}/berita/pakta-baru")
    assert moved is not None and (moved.status, moved.header(b"Location")) == (301, b"/berita/pakta-baru")
    assert page is not None and page.body == gzipped and page.header(b"Content-Encoding") == b"gzip"

    code, replayed, log = crawl("generic", {"warc": str(warc)}, extra=local)
    assert code == 0, log[-3000:]
    assert _comparable(replayed) == _comparable(live)
    records, stats, _ = archive_pass(tmp_path, warc, extra=("--generic",))
    assert _comparable(records) == _comparable(live)
    assert stats["sites"]["generic"]["skipped"] == {"redirected": 1}
