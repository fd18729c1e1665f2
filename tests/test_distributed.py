"""Distributed crawling on a real Redis: two workers share one site's frontier, every article is written
once across them, and a worker killed mid-crawl loses nothing."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from newsbot.crawl import CannotStart, distributed
from tools.site_copies import build_site_copy

from .conftest import FIXTURES, assert_clean_log, feed_urls, scrapy, start_scrapy

SITE = "sindonews"
ARTICLES = 60


@pytest.fixture
def frontier(redis_server: str, tmp_path: Path) -> tuple[str, Path, list[str]]:
    """A clean Redis for the site, a replayable copy of 60 articles, and the seeds pushed for it."""
    server = redis.Redis.from_url(redis_server)
    distributed.reset(server, SITE)
    tree = build_site_copy(SITE, ARTICLES, tmp_path / "copy", FIXTURES)
    case = json.loads((tree / "bench" / "case.json").read_text(encoding="utf-8"))
    articles = [url for url in case["responses"] if "/read/" in url]
    seed = scrapy("seed", SITE, "-s", f"REDIS_URL={redis_server}")
    assert seed.returncode == 0 and "pushed" in seed.stdout, seed.stdout + seed.stderr
    return redis_server, tree, articles


def worker(url: str, tree: Path, out: Path, *extra: str, slow: bool = True) -> subprocess.Popen[str]:
    args = ["crawl", SITE, "-a", f"replay={tree}", "-a", "discover=true",
            "-s", f"REDIS_URL={url}", "-o", f"{out}:jsonlines", "-s", f"NEWSBOT_DROP_LOG={out}.dropped",
            "-s", "NEWSBOT_IDLE_EXIT=6", "-s", "NEWSBOT_HEARTBEAT_SECONDS=1.5", *extra]
    if slow:
        # Slow enough that two workers both take part (an idle Scrapy engine looks at the queue every 5 s)
        # and that one can be killed mid-crawl.
        args += ["-s", "NEWSBOT_REPLAY_LATENCY=0.4", "-s", "CONCURRENT_REQUESTS=2"]
    return start_scrapy(*args, logfile=Path(f"{out}.log"))


def finished(proc: subprocess.Popen[str], out: Path) -> None:
    """The worker exited 0 and logged no error."""
    code = proc.wait(timeout=240)
    log = Path(f"{out}.log").read_text(encoding="utf-8")
    assert code == 0, log[-3000:]
    assert_clean_log(log)


def test_two_workers_share_the_crawl_and_write_every_article_once(frontier, tmp_path):
    url, tree, articles = frontier
    outs = [tmp_path / "w1.jsonl", tmp_path / "w2.jsonl"]
    procs = [worker(url, tree, out) for out in outs]
    for proc, out in zip(procs, outs, strict=True):
        finished(proc, out)
    written = [feed_urls(out) for out in outs]
    union = written[0] + written[1]
    assert sorted(union) == sorted(articles), f"missing {set(articles) - set(union)}"
    assert all(written), f"a worker did no work: {[len(w) for w in written]}"
    server = redis.Redis.from_url(url)
    assert server.scard(distributed.key(SITE, "seen")) == ARTICLES
    assert server.hlen(distributed.key(SITE, "inflight")) == 0


def test_a_killed_worker_loses_nothing(frontier, tmp_path):
    url, tree, articles = frontier
    first, second = tmp_path / "w1.jsonl", tmp_path / "w2.jsonl"
    server = redis.Redis.from_url(url)
    proc = worker(url, tree, first)
    try:
        # Killed while it holds requests: the moment between finishing one and taking the next is skipped.
        deadline = time.monotonic() + 60
        while (len(feed_urls(first)) < 8 or not server.hlen(distributed.key(SITE, "inflight"))) \
                and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert 8 <= len(feed_urls(first)) < ARTICLES, "the worker was not killed mid-crawl"
    assert_clean_log(Path(f"{first}.log").read_text(encoding="utf-8"))
    assert server.hlen(distributed.key(SITE, "inflight")) > 0, "the dead worker held no requests"

    finished(worker(url, tree, second), second)
    union = feed_urls(first) + feed_urls(second)
    assert sorted(union) == sorted(articles), (
        f"missing {set(articles) - set(union)}, twice {[u for u in set(union) if union.count(u) > 1]}")
    assert server.hlen(distributed.key(SITE, "inflight")) == 0
    log = Path(f"{second}.log").read_text(encoding="utf-8")
    assert "requests taken by workers that died" in log


def test_records_can_also_go_to_a_redis_list(frontier, tmp_path):
    url, tree, articles = frontier
    out = tmp_path / "w.jsonl"
    finished(worker(url, tree, out, "-s", "NEWSBOT_REDIS_ITEMS=true", slow=False), out)
    server = redis.Redis.from_url(url)
    items = [json.loads(raw)["url"] for raw in server.lrange(distributed.key(SITE, "items"), 0, -1)]
    assert sorted(items) == sorted(articles) == sorted(feed_urls(out))


def add_on_crawler(monkeypatch: pytest.MonkeyPatch, redis_url: str | None) -> Crawler:
    """A crawler of the project's settings (not started), with REDIS_URL set to ``redis_url`` or unset."""
    monkeypatch.delenv("NEWSBOT_REDIS_URL", raising=False)
    settings = Settings()
    settings.setmodule("newsbot.settings", priority="project")
    if redis_url:
        settings.set("REDIS_URL", redis_url, priority="cmdline")
    return Crawler(Spider, settings)


def requests_done(crawler: Crawler) -> list[Request]:
    sent: list[Request] = []

    def done(request: Request) -> None:
        sent.append(request)

    # Scrapy holds signal receivers weakly: the crawler keeps this one alive as long as the test needs it.
    crawler.test_receiver = done  # type: ignore[attr-defined]
    crawler.signals.connect(done, signal=distributed.request_done)
    return sent


def test_without_redis_the_add_on_changes_no_setting_and_no_request_done_is_sent(monkeypatch):
    crawler = add_on_crawler(monkeypatch, None)
    before = crawler.settings.copy_to_dict()
    distributed.Distributed(crawler).update_settings(crawler.settings)
    assert crawler.settings.copy_to_dict() == before
    assert crawler.settings.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"
    sent = requests_done(crawler)
    distributed.errback_done(crawler, Request("https://nasional.sindonews.com/read/1/12/a-1"))
    assert sent == []


def test_with_redis_the_add_on_switches_the_scheduler_and_an_errback_reports_its_end(monkeypatch, redis_server):
    crawler = add_on_crawler(monkeypatch, redis_server)
    distributed.Distributed(crawler).update_settings(crawler.settings)
    assert crawler.settings.get("SCHEDULER") == "newsbot.crawl.distributed.ReliableScheduler"
    assert crawler.settings.get("DUPEFILTER_CLASS") == "scrapy_redis.dupefilter.RFPDupeFilter"
    sent = requests_done(crawler)
    request = Request("https://nasional.sindonews.com/read/1/12/a-1")
    distributed.errback_done(crawler, request)
    assert sent == [request]


def test_a_redis_that_does_not_answer_stops_the_crawl_before_it_starts(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    crawler = add_on_crawler(monkeypatch, f"redis://127.0.0.1:{port}/0")
    with pytest.raises(CannotStart, match=rf"cannot reach Redis at redis://127.0.0.1:{port}/0"):
        distributed.Distributed(crawler).update_settings(crawler.settings)


class _Engine:
    """What the middleware needs of the engine: scheduling a request, here noted with what was done by then."""

    def __init__(self, sent: list[Request]) -> None:
        self.sent = sent
        self.scheduled: list[tuple[str, int]] = []

    def crawl(self, request: Request) -> None:
        self.scheduled.append((request.url, len(self.sent)))


async def _outputs(response, middleware):
    async def callback_output():
        yield Request("https://nasional.sindonews.com/read/2/12/b-2")
        yield {"url": response.url}
        yield Request("https://nasional.sindonews.com/read/3/12/c-3")

    return [output async for output in middleware.process_spider_output(response, callback_output())]


def test_a_request_is_done_only_once_its_requests_are_queued_and_its_records_written(monkeypatch, redis_server):
    # Scrapy schedules a callback's requests from a queue it fills from the output: a worker killed after the
    # output ended and before they were scheduled lost them (test_a_killed_worker_loses_nothing, now and then).
    import asyncio

    from scrapy.http import HtmlResponse

    crawler = add_on_crawler(monkeypatch, redis_server)
    sent = requests_done(crawler)
    crawler.engine = engine = _Engine(sent)  # type: ignore[assignment]
    middleware = distributed.RequestDoneMiddleware.from_crawler(crawler)
    request = Request("https://nasional.sindonews.com/read/1/12/a-1")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    passed_on = asyncio.run(_outputs(response, middleware))
    # Both requests were in the shared queue while the callback ran, and none was passed on to be scheduled
    # later; the record was passed on to the pipelines, and the request is not done until it is written.
    assert engine.scheduled == [("https://nasional.sindonews.com/read/2/12/b-2", 0),
                                ("https://nasional.sindonews.com/read/3/12/c-3", 0)]
    assert passed_on == [{"url": request.url}] and sent == []
    middleware.item_finished(passed_on[0])
    assert sent == [request]


def test_an_errback_s_requests_and_records_are_handed_on_as_a_callback_s(monkeypatch, redis_server):
    # The page-by-page fallback yields from an errback, which Scrapy runs outside the spider middlewares.
    crawler = add_on_crawler(monkeypatch, redis_server)
    sent = requests_done(crawler)
    crawler.engine = engine = _Engine(sent)  # type: ignore[assignment]
    middleware = distributed.RequestDoneMiddleware.from_crawler(crawler)
    monkeypatch.setattr(crawler, "get_spider_middleware", lambda cls: middleware if cls is type(middleware) else None)
    request = Request("https://nasional.sindonews.com/read/1/12/a-1?showpage=all")
    page = Request("https://nasional.sindonews.com/read/1/12/a-1/2")
    record = {"url": "https://nasional.sindonews.com/read/1/12/a-1"}
    passed_on = list(distributed.errback_outputs(crawler, request, iter([page, record])))
    assert engine.scheduled == [(page.url, 0)] and passed_on == [record] and sent == []
    middleware.item_finished(record)
    assert sent == [request]
