"""The scrapy commands a user runs: list, crawl -a url=..., crawl -a replay=..., and their exit codes."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings

from newsbot.crawl.extensions import LogLevelFloor
from newsbot.fixtures.case import CaseError, find_cases
from newsbot.sites import RULES

from .conftest import FIXTURES, ROOT, SCRAPY_ENV, assert_clean_log, crawl, crawl_stats, scrapy

CASE = FIXTURES / "generic/republisher-translated-putin-korut"
EXPECTED = json.loads((CASE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def local_site():
    """A real HTTP server on 127.0.0.1 serving the generic fixture page (and no robots.txt)."""
    page = (CASE / "page.html").read_bytes()
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/berita/"):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_crawl_generic_url_fetches_one_page_and_emits_one_record(local_site):
    base, hits = local_site
    url = f"{base}/berita/rusia-korea-utara?utm_source=newsletter"
    code, records, log = crawl("generic", {"url": url}, extra=["-s", "DOWNLOAD_DELAY=0"])
    assert code == 0, log[-3000:]
    assert len(records) == 1
    record = records[0]
    assert record["url"] == f"{base}/berita/rusia-korea-utara"
    assert record["articleBody"] == EXPECTED["articleBody"]
    assert record["headline"] == EXPECTED["headline"]
    assert "/robots.txt" in hits, "robots.txt must be consulted on a live crawl"


def test_replay_of_the_generic_case_matches_expected():
    code, records, log = crawl("generic", {"replay": str(CASE)})
    assert code == 0, log[-3000:]
    assert [r["url"] for r in records] == [EXPECTED["url"]]
    assert "replay/answered" in log


def test_a_request_no_fixture_answers_fails_loudly(tmp_path):
    case = tmp_path / "generic" / "missing-page"
    case.mkdir(parents=True)
    (case / "page.html").write_text("<html><body><p>x</p></body></html>")
    (case / "case.json").write_text(json.dumps(
        {"url": "https://example.com/asked", "responses": {"https://example.com/other": {"file": "page.html"}}}
    ))
    code, records, log = crawl("generic", {"replay": str(case)},
                               expect_errors=["no fixture answers https://example.com/asked"])
    assert code == 1
    assert records == []
    # Logged once, by the spider that asked for it (not also by the replay middleware).
    [line] = [line for line in log.splitlines() if "no fixture answers https://example.com/asked" in line]
    assert "ERROR: dropped https://example.com/asked: not-in-fixtures: replay: no fixture answers" in line
    assert "'replay/unanswered': 1" in log
    assert log.splitlines()[-1] == "scrapy crawl: failed: 1 replayed request had no fixture (replay/unanswered)"


def test_a_page_that_is_not_an_article_is_dropped_counted_and_logged(tmp_path):
    case = tmp_path / "generic" / "pdf"
    case.mkdir(parents=True)
    (case / "doc.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n")
    (case / "case.json").write_text(json.dumps({"url": "https://example.com/doc", "responses": {
        "https://example.com/doc": {"file": "doc.pdf", "headers": {"Content-Type": "application/pdf"}}}}))
    code, records, log = crawl("generic", {"replay": str(case)})
    assert code == 0, log[-3000:]
    assert records == []
    assert "dropped https://example.com/doc: not-html" in log
    assert "'newsbot/dropped/not-html': 1" in log
    # The log counts match the log: every line from the crawler's start ("Enabled extensions") to the dump.
    counted = log[log.index("[scrapy.middleware] INFO: Enabled extensions"):log.index("Dumping Scrapy stats")]
    stats = crawl_stats(log)
    for level in ("INFO", "WARNING"):
        assert stats[f"log_count/{level}"] == len(re.findall(rf"^\S+ \S+ \[[^]]+\] {level}: ", counted, re.M)), level
    assert stats["log_count/WARNING"] == 1 and stats["log_count/INFO"] >= 9


def test_crawl_without_a_start_point_is_a_usage_error():
    result = scrapy("crawl", "generic", "-L", "ERROR")
    assert result.returncode != 0
    assert "give an article with -a url=<URL>" in result.stderr


def test_case_files_may_not_escape_their_directory(tmp_path):
    case = tmp_path / "generic" / "escape"
    case.mkdir(parents=True)
    (case / "case.json").write_text(json.dumps(
        {"url": "https://example.com/a", "responses": {"https://example.com/a": {"file": "../../../etc/passwd"}}}
    ))
    with pytest.raises(CaseError, match="outside the case directory"):
        find_cases(case)


def test_expect_tool_rewrites_expected_json_from_the_output(tmp_path):
    copy = tmp_path / "generic" / CASE.name
    shutil.copytree(CASE, copy)
    (copy / "expected.json").unlink()
    result = subprocess.run([sys.executable, "-m", "newsbot.fixtures", "expect", str(copy)], capture_output=True,
                            text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((copy / "expected.json").read_text(encoding="utf-8")) == EXPECTED


def test_record_tool_turns_a_live_page_into_a_replayable_case(local_site, tmp_path):
    base, _ = local_site
    case = tmp_path / "generic" / "recorded"
    url = f"{base}/berita/rusia-korea-utara"
    result = subprocess.run([sys.executable, "-m", "newsbot.fixtures", "record", "generic", str(case), url],
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = json.loads((case / "case.json").read_text(encoding="utf-8"))
    assert recorded["url"] == url and list(recorded["responses"]) == [url]
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert expected["articleBody"] == EXPECTED["articleBody"]
    assert "dateDownloaded" not in expected["metadata"]


def test_consoles_are_off_and_only_web_downloads_are_on():
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert all(handlers[scheme] is None for scheme in ("file", "ftp", "s3", "data"))


@pytest.fixture
def scrapy_logging():
    """Scrapy's root handler installed as a crawl installs it; the process's logging restored afterwards."""
    from scrapy.utils import log as scrapy_log

    saved = logging.root.level, logging.getLogger("scrapy").level, list(logging.root.handlers)

    def install(level: str) -> None:
        scrapy_log.install_scrapy_root_handler(Settings({"LOG_LEVEL": level}))

    yield install
    scrapy_log._uninstall_scrapy_root_handler()
    logging.root.setLevel(saved[0])
    logging.getLogger("scrapy").setLevel(saved[1])
    logging.root.handlers[:] = saved[2]


@pytest.mark.parametrize(("level", "debug_on", "info_on"), [("WARNING", False, False), ("INFO", False, True),
                                                           ("DEBUG", True, True)])
def test_log_level_is_the_loggers_floor(scrapy_logging, level: str, debug_on: bool, info_on: bool) -> None:
    scrapy_logging(level)
    assert logging.getLogger("trafilatura.main_extractor").isEnabledFor(logging.DEBUG)  # Scrapy's own setup
    LogLevelFloor().spider_opened()
    for name in ("trafilatura.main_extractor", "scrapy.core.scraper", "newsbot.spiders"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG) is debug_on
        assert logging.getLogger(name).isEnabledFor(logging.INFO) is info_on
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)


def test_log_level_floor_leaves_a_process_s_own_logging_alone(scrapy_logging) -> None:
    logging.root.setLevel(logging.NOTSET)
    LogLevelFloor().spider_opened()
    assert logging.root.level == logging.NOTSET


def test_make_demo_crawls_every_site_without_an_error_into_the_sites_folders(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.demo", str(tmp_path)], cwd=ROOT, env=SCRAPY_ENV,
                            capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for site in RULES:
        folder = tmp_path / site
        assert_clean_log((folder / "demo.log").read_text(encoding="utf-8"))
        records = (folder / "demo.jsonl").read_text(encoding="utf-8").splitlines()
        assert records and all(json.loads(line)["site"] == site for line in records)
        parquet = pq.read_table(folder / "demo.parquet", columns=["url", "site"]).to_pylist()
        assert parquet == [{"url": json.loads(line)["url"], "site": site} for line in records]
        assert re.search(rf"^{site} .* ok *$", result.stdout, re.M), result.stdout
    # One layout: everything of a site in output/<site>/, as a crawl writes it.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(RULES)
