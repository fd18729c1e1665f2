"""End to end through Scrapy's real download path: a copy of Tribunnews on 127.0.0.1 (robots.txt, a sitemap
index, news sitemaps, a two-page index and 25 articles, multi-page ones included), crawled by
``scrapy crawl tribun`` with no URL, exactly as on the live site."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from .conftest import FIXTURES, SCRAPY_ENV, assert_clean_log, feed_urls, start_scrapy
from .sitecopy import SiteCopy, SiteServer, build_tribun_copy

# Fast but otherwise default settings: robots.txt, retries, pipelines and feeds all stay on.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0.05"]


@pytest.fixture(scope="module")
def site() -> SiteCopy:
    return build_tribun_copy(FIXTURES)


def scrapy_crawl(server: SiteServer, tmp: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**SCRAPY_ENV, "https_proxy": server.proxy, "http_proxy": server.proxy, "no_proxy": ""}
    return start_scrapy("crawl", "tribun", "-o", f"{tmp / 'out.jsonl'}:jsonlines",
                        "-s", f"NEWSBOT_SEEN_STORE={tmp / 'seen.sqlite'}",
                        "-s", f"NEWSBOT_DROP_LOG={tmp / 'dropped.jsonl'}",
                        *FAST, *extra, logfile=tmp / "crawl.log", env=env)


def records(tmp: Path) -> list[str]:
    return feed_urls(tmp / "out.jsonl")


def finish(proc: subprocess.Popen[str], tmp: Path, timeout: float = 120, expect_errors: Iterable[str] = ()) -> None:
    code = proc.wait(timeout=timeout)
    log = (tmp / "crawl.log").read_text(encoding="utf-8")
    assert code == 0, log[-4000:]
    assert_clean_log(log, expect_errors)


def test_live_crawl_writes_every_article_once_and_a_second_run_fetches_none(site, tmp_path):
    with SiteServer(site, tmp_path) as server:
        finish(scrapy_crawl(server, tmp_path), tmp_path)
        first = records(tmp_path)
        assert sorted(first) == sorted(site.articles)
        assert all(server.requests[url] == 1 for url in site.articles), "an article was fetched twice"
        assert not any(server.requests[url] for url in site.forbidden), "robots.txt was not obeyed"
        assert not any("/tag/" in url or "/topic/" in url for url in server.requests), "a non-article was fetched"
        fetched_before = server.requests.copy()

        finish(scrapy_crawl(server, tmp_path), tmp_path)
        assert records(tmp_path) == first, "the second run wrote records again"
        again = {url for url in server.requests if server.requests[url] > fetched_before[url]}
        refetched = again & set(site.articles)
        assert again and not refetched, f"the second run refetched articles: {refetched}"
        log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
        last = [line for line in log.splitlines() if "finished (finished): " in line][-1]
        assert ", 0 records (" in last and f"already seen {len(site.articles)}" in last, last


def test_live_crawl_honours_limit(site, tmp_path):
    with SiteServer(site, tmp_path) as server:
        finish(scrapy_crawl(server, tmp_path, "-a", "limit=5"), tmp_path)
    written = records(tmp_path)
    assert len(written) == 5 and len(set(written)) == 5


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["pause", "kill"])
def test_killed_crawl_resumed_with_jobdir_writes_every_article_exactly_once(site, tmp_path, stop):
    jobdir = ["-s", f"JOBDIR={tmp_path / 'job'}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
    # Slow pages, so the crawl is still running when it is stopped.
    with SiteServer(site, tmp_path, delay=0.15) as server:
        proc = scrapy_crawl(server, tmp_path, *jobdir)
        try:
            deadline = time.monotonic() + 60
            while len(records(tmp_path)) < 4 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            proc.send_signal(stop)
            proc.wait(timeout=60)
        finally:
            proc.kill()
        interrupted = records(tmp_path)
        assert 4 <= len(interrupted) < len(site.articles), "the crawl was not stopped mid-way"

        finish(scrapy_crawl(server, tmp_path, *jobdir), tmp_path)
    written = records(tmp_path)
    assert sorted(written) == sorted(site.articles), (
        f"missing {set(site.articles) - set(written)}, twice {[u for u in set(written) if written.count(u) > 1]}")
