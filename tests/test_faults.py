"""Bad servers and bad pages in a whole crawl: it completes, retries what is retryable, writes every good
article exactly once, and accounts for every article page it did not turn into a record.

Accounting: article pages requested = records + drops (every reason, duplicates included) + skipped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from newsbot.crawl.drops import FETCH_REASONS

from .conftest import FIXTURES, crawl, crawl_stats
from .sitecopy import SiteServer, build_tribun_copy
from .test_live import finish, records, scrapy_crawl


def assert_accounted(stats: dict[str, int]) -> None:
    skipped = sum(v for k, v in stats.items() if k.startswith("newsbot/skipped/"))
    assert stats.get("newsbot/articles", 0) == (
        stats.get("item_scraped_count", 0) + stats.get("newsbot/dropped", 0) + skipped), stats


def failed_fetches(expected: dict[str, str]) -> list[str]:
    """The ERROR lines a crawl logs for these drops: a page that could not be fetched is an error, a page
    that was fetched and judged (not an article, a duplicate) is not."""
    return [re.escape(f"dropped {url}: {reason}") for url, reason in expected.items() if reason in FETCH_REASONS]


def drops(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return {entry["url"]: entry["reason"] for entry in map(json.loads, lines)}


# Bad pages, replayed -----------------------------------------------------------------------------------
GOOD = "https://www.tribunnews.com/nasional/7827148/baleg-dpr-mulai-bahas-revisi-uu-pemilu-ambang-batas-parlemen-jadi-sorotan"


def bad_pages_tree(root: Path) -> tuple[Path, dict[str, str]]:
    """A replay tree of one good Tribun article and one article page for each way a page can go wrong,
    with the reason each must be dropped for."""
    good_html = (FIXTURES / "tribun" / "id-url-2026" / "page1.html").read_bytes()
    index_html = (FIXTURES / "tribun" / "listings" / "index-news.html").read_bytes()
    paywalled = good_html.replace(b'class="side-article txt-article', b'class="paywall-content" data-x="')
    paywalled = re.sub(rb'("isAccessibleForFree"\s*:\s*)(true|"True"|"true")', rb"\1false", paywalled)
    base = "https://www.tribunnews.com/nasional/{}/halaman-uji-{}"
    cases: dict[str, tuple[bytes, int, dict[str, str], str]] = {
        "good": (good_html, 200, {}, ""),
        "duplicate": (good_html, 200, {}, "duplicate"),
        "not-found": (b"<html><body><h1>404</h1></body></html>", 404, {}, "http-error"),
        "server-error": (b"<html><body>oops</body></html>", 500, {}, "http-error"),
        "huge": (b"<html><body>" + b"<p>isi</p>" * (2_200_000) + b"</body></html>", 200, {}, "too-large"),
        "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", 200, {"Content-Type": "application/pdf"}, "not-html"),
        "empty": (b"", 200, {}, "empty"),
        "index": (index_html, 200, {}, "not-article"),
        "off-site": (b"", 301, {"Location": "https://evil.example.net/steal"}, "off-site"),
    }
    tree = root / "tribun"
    expected = {}
    for n, (name, (body, status, headers, reason)) in enumerate(cases.items()):
        url = GOOD if name == "good" else base.format(8200000 + n, name)
        case = tree / name
        case.mkdir(parents=True)
        (case / "page.html").write_bytes(body)
        response = {"file": "page.html", "status": status,
                    "headers": headers | {"Content-Type": headers.get("Content-Type", "text/html; charset=UTF-8")}}
        (case / "case.json").write_text(json.dumps({"url": url, "responses": {url: response}}), encoding="utf-8")
        if reason:
            expected[url] = reason
    return tree, expected


def test_replayed_bad_pages_are_dropped_with_their_reason_and_accounted(tmp_path):
    tree, expected = bad_pages_tree(tmp_path / "fixtures")
    log_path = tmp_path / "dropped.jsonl"
    code, written, log = crawl("tribun", {"replay": str(tree)}, drop_log=log_path,
                               extra=["-s", "DOWNLOAD_MAXSIZE=10485760"], expect_errors=failed_fetches(expected))
    assert code == 0, log[-3000:]
    # The good article and its copy at another URL are one story: whichever arrives first is written.
    pair = {GOOD, next(u for u, r in expected.items() if r == "duplicate")}
    assert len(written) == 1 and written[0]["url"] in pair
    copy = (pair - {written[0]["url"]}).pop()
    assert drops(log_path) == {u: r for u, r in expected.items() if r != "duplicate"} | {copy: "duplicate"}
    assert_accounted(crawl_stats(log))


# Bad servers, live ---------------------------------------------------------------------------------------
A = "https://www.tribunnews.com/nasional/{}/salinan-uji-berita-nomor-{}"
TRANSIENT = {  # each fails first, then answers: every one must be written
    1: ["500"], 2: ["503", "503"], 3: ["429"], 4: ["slow"], 5: ["reset"], 6: ["truncated"],
}
PERMANENT = {  # each fails for good: dropped with this reason
    7: ("always:500", "http-error"), 8: ("always:redirect-loop", "redirect-loop"),
    9: ("always:gzip-bomb", "too-large"), 10: ("always:off-site", "off-site"),
    11: ("always:truncated", "truncated"),
}


@pytest.fixture(scope="module")
def site():
    return build_tribun_copy(FIXTURES, generated=14)


def test_a_faulty_server_loses_nothing_that_can_be_had(site, tmp_path):
    faults = {A.format(8100000 + n, n): kinds for n, kinds in TRANSIENT.items()}
    faults |= {A.format(8100000 + n, n): [kind] for n, (kind, _) in PERMANENT.items()}
    faults["https://www.tribunnews.com/sitemap.xml"] = ["503"]
    faults["https://www.tribunnews.com/index-news"] = ["reset"]
    settings = ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=3", "-s", f"DOWNLOAD_MAXSIZE={8 << 20}",
                "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]
    with SiteServer(site, tmp_path, faults=faults, slow_seconds=2.5) as server:
        finish(scrapy_crawl(server, tmp_path, *settings), tmp_path, timeout=180,
               expect_errors=failed_fetches({A.format(8100000 + n, n): r for n, (_, r) in PERMANENT.items()}))
        requests = server.requests
    failing = {A.format(8100000 + n, n): reason for n, (_, reason) in PERMANENT.items()}
    failing |= {url: "robots" for url in site.forbidden}
    written = records(tmp_path)
    assert sorted(written) == sorted(u for u in site.articles if u not in failing)
    assert len(written) == len(site.articles) - len(PERMANENT)
    assert drops(tmp_path / "dropped.jsonl") == failing
    # Retries are bounded: no URL was asked for more than 1 + RETRY_TIMES times (a loop's two URLs aside).
    assert max(count for url, count in requests.items() if "loop" not in url) <= 4
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert_accounted(crawl_stats(log))


# Hostile links ---------------------------------------------------------------------------------------------
def test_links_to_local_files_and_private_addresses_are_never_fetched(tmp_path):
    case = FIXTURES / "sindonews" / "two-page-showpage-all"
    data = json.loads((case / "case.json").read_text(encoding="utf-8"))
    target = tmp_path / "sindonews" / "hostile"
    shutil.copytree(case, target)
    first = data["responses"][data["url"]]["file"]
    html = (target / first).read_text(encoding="utf-8")
    # The "whole article" link and the page-2 link point at a local file and at this machine.
    html = re.sub(r'href="[^"]*showpage=all[^"]*"', 'href="file:///etc/passwd?showpage=all"', html)
    html = re.sub(r'(<a[^>]*href=")[^"]*("[^>]*data-ci-pagination-page="2")', r"\1http://127.0.0.1:9/admin\2", html)
    (target / first).write_text(html, encoding="utf-8")
    log_path = tmp_path / "dropped.jsonl"
    code, written, log = crawl("sindonews", {"replay": str(target)}, drop_log=log_path,
                               expect_errors=["off-site: led to file:///etc/passwd"])
    # Nothing could be written: the crawl failed, and says why.
    assert "file:///etc/passwd" in html and code == 1, log[-3000:]
    assert log.splitlines()[-1] == "scrapy crawl: failed: nothing written, every request failed: off-site 1"
    assert written == []
    # The site spider's off-site filter refuses both before the unsafe-URL guard is even asked.
    assert set(drops(log_path).values()) == {"off-site"}
    assert "replay/unanswered" not in log and "/etc/passwd" not in crawl_stats(log)


@pytest.mark.parametrize(("target", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "unsafe-url"), ("http://127.0.0.1:9/admin", "unsafe-url"),
    ("http://[::1]/", "unsafe-url"), ("http://10.0.0.7/intranet", "unsafe-url"),
    # Scrapy does not follow a redirect to another scheme at all: the 302 itself is the failed answer.
    ("file:///etc/passwd", "http-error"),
])
def test_a_redirect_to_this_machine_or_its_network_is_refused(target, reason, tmp_path):
    url = "https://kabar.example.org/berita/rusia-korea-utara"
    case = tmp_path / "generic" / "redirect"
    case.mkdir(parents=True)
    (case / "empty.html").write_bytes(b"")
    (case / "case.json").write_text(json.dumps({"url": url, "responses": {
        url: {"file": "empty.html", "status": 302, "headers": {"Location": target}}}}), encoding="utf-8")
    log_path = tmp_path / "dropped.jsonl"
    code, written, log = crawl("generic", {"replay": str(case)}, drop_log=log_path,
                               expect_errors=[re.escape(f"dropped {url}: {reason}")])
    assert code == 1, log[-3000:]
    assert log.splitlines()[-1] == f"scrapy crawl: failed: nothing written, every request failed: {reason} 1"
    assert written == [] and drops(log_path) == {url: reason}
