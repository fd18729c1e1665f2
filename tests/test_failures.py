"""Every failure a user can hit, through the real command: one clear line, the right exit code (0 done,
1 failed, 2 usage error), no traceback, and nothing lost or written twice."""

from __future__ import annotations

import codecs
import csv
import json
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.etree
import pytest

from tools.site_copies import build_site_copy

from . import offline
from .conftest import ALL_CASES, FIXTURES, ROOT, SCRAPY_ENV, assert_clean_log, crawl, crawl_stats, feed_urls, scrapy

TRIBUN_CASE = FIXTURES / "tribun" / "id-url-2026"
TRIBUN_URL = json.loads((TRIBUN_CASE / "case.json").read_text(encoding="utf-8"))["url"]
TRIBUN_URLS = sorted(json.loads((case.directory / "expected.json").read_text(encoding="utf-8"))["url"]
                     for case in ALL_CASES if case.site == "tribun")
# No politeness waits and quick retries: the failures are the same, they just come sooner.
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0.01"]


def with_folders(tmp_path: Path, command: list[str], message: str) -> tuple[list[str], str]:
    """``command`` and ``message`` with ``{missing}`` a folder that does not exist and ``{empty}`` an empty one
    (a fixed path such as /nonexistent exists on some machines: it is nobody's home directory)."""
    (tmp_path / "empty").mkdir(exist_ok=True)
    folders = {"{missing}": str(tmp_path / "missing"), "{empty}": str(tmp_path / "empty")}

    def put(text: str) -> str:
        for placeholder, folder in folders.items():
            text = text.replace(placeholder, folder)
        return text

    return [put(arg) for arg in command], put(message)


def last_line(output: str) -> str:
    return output.rstrip("\n").rpartition("\n")[2]


# Usage errors: refused before anything starts ----------------------------------------------------------------
@pytest.mark.parametrize(("command", "message"), [
    (["crawl", "generic", "-a", "limit=-1"], "limit='-1' must be at least 1"),
    (["crawl", "generic", "-a", "limit=abc"], "limit='abc' is not a whole number"),
    (["crawl", "tribun", "-a", "since=yesterday"], "since='yesterday' is not a date; use YYYY-MM-DD"),
    (["crawl", "tribun", "-a", "since=2026-11-02", "-a", "until=2026-11-01"],
     "since=2026-11-02 is after until=2026-11-01"),
    (["crawl", "tribun", "-a", "replay={missing}"], "replay: {missing}: no such fixture directory"),
    (["crawl", "tribun", "-a", "replay=fixtures/tribun", "-a", "discover=maybe"],
     "discover='maybe': use true or false"),
    (["crawl", "generic"], "generic: this site has no listings to discover articles from; give an article with "
                           "-a url=<URL> or fixtures with -a replay=<DIR>"),
    (["crawl", "generic", "-a", "url=notaurl"], "url='notaurl' is not an absolute URL"),
    (["crawl", "tribun", "-a", "limt=5"], "unknown argument limt (did you mean limit?); tribun takes url, since, "
                                          "until, limit, refresh, replay, discover, record"),
    (["crawl", "tribun", "-a", f"url={TRIBUN_URL.replace('7827148', '1')}", "-a", "replay=fixtures/tribun"],
     "is not in the fixtures: no case under fixtures/tribun starts from it"),
    (["crawl", "nosuch"], "unknown spider 'nosuch'; the spiders are bisnis, faktual, generic, sindonews, tribun"),
    (["crawl"], "give one spider: bisnis, faktual, generic, sindonews, tribun"),
    (["crawl", "tribun", "--limit=5"], "unknown option --limit=5 (scrapy crawl --help lists the options)"),
    (["crawl", "tribun", "-s", "DOWNLOAD_DELAY=abc"], "-s DOWNLOAD_DELAY=abc: DOWNLOAD_DELAY takes a number"),
    (["crawl", "tribun", "-s", "RETRY_TIMES=three"], "RETRY_TIMES takes a number (its default is 3)"),
    (["crawl", "tribun", "-s", "NEWSBOT_REDIS_ITEMS=maybe"], "NEWSBOT_REDIS_ITEMS takes true or false"),
    (["crawl", "tribun", "-s", "REDIS_URL=http://127.0.0.1:1/"], "REDIS_URL=http://127.0.0.1:1/: Redis URL must"),
    (["crawl", "tribun", "-L", "LOUD"], "log level 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    (["seed", "tribun", "-a", "limit=5", "-s", "REDIS_URL=redis://127.0.0.1:1/0"],
     "unknown argument limit; scrapy seed takes since, until, url"),
    (["seed", "tribun"], "set -s REDIS_URL=redis://host:port/db (or NEWSBOT_REDIS_URL)"),
    (["seed", "tribun", "--rest"], "unknown option --rest (scrapy seed --help lists the options)"),
    (["seed", "tribun", "-a", "since=today", "-s", "REDIS_URL=redis://127.0.0.1:1/0"],
     "since='today' is not a date; use YYYY-MM-DD"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_usage_error_is_one_line_and_exit_code_2(command, message, tmp_path):
    command, message = with_folders(tmp_path, command, message)
    result = scrapy(*command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"scrapy {command[0]}: error: ") and message in line, line


def test_help_lists_the_spider_s_arguments_one_line_each():
    result = scrapy("crawl", "tribun", "-a", "help=true")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "scrapy crawl tribun: Tribunnews.com (tribunnews.com)"
    arguments = [line.split()[0].split("=")[0] for line in lines[2:]]
    assert arguments == ["url", "since", "until", "limit", "refresh", "replay", "discover", "record", "warc"]
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines[2:]), "an argument without its help"
    usage = scrapy("crawl", "--help")
    assert usage.returncode == 0 and "-a help=true" in usage.stdout


def test_scrapy_list_says_what_each_spider_crawls():
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert list(rows) == ["bisnis", "faktual", "generic", "sindonews", "tribun"]
    assert rows["tribun"] == "Tribunnews.com (tribunnews.com)"
    assert rows["faktual"] == "Faktual Indonesia (faktual-indonesia.com)"
    assert rows["generic"].startswith("any site, one article at a time (-a url=<URL>)")


# Crawls that cannot do their work: one line at the end, exit code 1 ---------------------------------------------
def test_no_network_is_one_error_line_and_exit_code_1():
    code, records, log = crawl("tribun", {}, extra=[*offline.SETTING, *QUICK],
                               expect_errors=[r"\[newsbot.middlewares\] ERROR: cannot reach www.tribunnews.com: "
                                              r"DNS lookup failed"])
    assert code == 1 and records == []
    assert last_line(log) == ("scrapy crawl: failed: nothing written, every request failed: listings 2; cannot reach "
                              "www.tribunnews.com (DNS lookup failed: no results for hostname lookup: "
                              "www.tribunnews.com.)")
    assert crawl_stats(log)["retry/max_reached"] >= 2, "the listings were not retried"


def test_one_article_with_no_network_fails_with_exit_code_1():
    code, records, log = crawl("tribun", {"url": TRIBUN_URL}, extra=[*offline.SETTING, *QUICK],
                               expect_errors=["ERROR: cannot reach www.tribunnews.com"])
    assert code == 1 and records == []
    assert last_line(log).startswith("scrapy crawl: failed: nothing written, every request failed: fetch-failed 1; "
                                     "cannot reach www.tribunnews.com (DNS lookup failed")
    assert f"dropped {TRIBUN_URL}: fetch-failed: cannot reach www.tribunnews.com" in log


def test_an_unreachable_local_server_is_reported_like_a_missing_network():
    # A literal address needs no DNS: nothing listens on port 1, the connection is refused. (A fractional
    # DOWNLOAD_TIMEOUT is a valid value although Scrapy's default is a whole number.)
    code, records, log = crawl("generic", {"url": "http://127.0.0.1:1/berita/1"},
                               extra=[*QUICK, "-s", "DOWNLOAD_TIMEOUT=2.5"],
                               expect_errors=["ERROR: cannot reach 127.0.0.1: Connection was refused"])
    assert code == 1 and records == []
    assert "cannot reach 127.0.0.1 (Connection was refused" in last_line(log)


def test_a_file_url_is_dropped_as_unsafe_and_the_crawl_fails():
    code, records, log = crawl("generic", {"url": "file:///etc/passwd"},
                               expect_errors=[r"dropped file:///etc/passwd: unsafe-url: unsafe URL file:///etc/passwd: "
                                              r"scheme 'file' is not http\(s\)"])
    assert code == 1 and records == []
    assert last_line(log) == "scrapy crawl: failed: nothing written, every request failed: unsafe-url 1"


# Scrapy runs a crawl as an asyncio task, or as a Twisted Deferred when FORCE_CRAWLER_PROCESS is set.
@pytest.mark.parametrize("process", [[], ["-s", "FORCE_CRAWLER_PROCESS=True"]], ids=["asyncio", "twisted"])
def test_an_unreachable_redis_stops_the_worker_with_one_line(process):
    code, records, log = crawl("sindonews", {}, extra=["-s", "REDIS_URL=redis://127.0.0.1:1/0", *process])
    assert code == 1 and records == []
    assert last_line(log).startswith("scrapy crawl: failed: sindonews: cannot reach Redis at redis://127.0.0.1:1/0: ")
    seed = scrapy("seed", "sindonews", "-s", "REDIS_URL=redis://127.0.0.1:1/0")
    assert seed.returncode == 1 and seed.stdout == ""
    [line] = seed.stderr.splitlines()
    assert line.startswith("scrapy seed: failed: cannot use Redis at redis://127.0.0.1:1/0: ")


# Replay ---------------------------------------------------------------------------------------------------------
def test_replay_with_a_url_replays_only_that_article():
    code, records, log = crawl("tribun", {"url": TRIBUN_URL, "replay": str(FIXTURES / "tribun")})
    assert code == 0, log[-3000:]
    assert [r["url"] for r in records] == [TRIBUN_URL]


@pytest.mark.parametrize("folder", ["bisnis", "empty"])
def test_replaying_a_folder_without_a_case_of_the_site_warns_and_fails(folder, tmp_path):
    root = FIXTURES / folder if folder != "empty" else tmp_path
    code, records, log = crawl("tribun", {"replay": str(root)})
    assert code == 1 and records == []
    found = "its article cases are bisnis cases" if folder == "bisnis" else "it holds no article case"
    assert f"WARNING: replay: nothing to replay for tribun under {root} ({found})" in log
    assert last_line(log) == "scrapy crawl: failed: nothing to replay (see the warning above)"


def test_replaying_the_same_cases_twice_writes_each_record_once(tmp_path):
    # The default feed and seen-store (output/<site>/...), as a user gets them without -O.
    for _ in range(2):
        result = scrapy("crawl", "tribun", "-a", f"replay={FIXTURES / 'tribun'}", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
    feed = tmp_path / "output" / "tribun" / f"{datetime.now(UTC):%Y-%m-%d}.jsonl"
    urls = [json.loads(line)["url"] for line in feed.read_text(encoding="utf-8").splitlines()]
    assert sorted(urls) == TRIBUN_URLS
    assert re.search(r"'newsbot/discovery/seen': 6\b", result.stderr), result.stderr[-3000:]


# Feeds other than JSON ------------------------------------------------------------------------------------------
def readable(name: str, value: object) -> str:
    """What a CSV or XML cell of a field must say: what the JSON record holds, readably."""
    if value is None:
        return ""
    if name in ("authors", "editors"):
        return "; ".join(person["name"] for person in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def test_a_reader_that_stops_reading_standard_output_stops_the_crawl_and_loses_nothing(tmp_path):
    # `scrapy crawl ... -O -:jsonlines | head -1`, with more records than a pipe holds.
    tree = build_site_copy("sindonews", 60, tmp_path / "copy", FIXTURES)
    seen = tmp_path / "seen.sqlite"
    command = ["crawl", "sindonews", "-a", f"replay={tree}", "-a", "discover=true", "-O", "-:jsonlines",
               "-s", f"NEWSBOT_SEEN_STORE={seen}", "-s", "NEWSBOT_DROP_LOG=", "-s", "NEWSBOT_HEALTH_REPORT="]
    proc = subprocess.Popen([sys.executable, "-m", "scrapy", *command], cwd=ROOT, env=SCRAPY_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()
    log = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=240) == 141, log[-3000:]
    assert_clean_log(log)
    stopped = re.fullmatch(r"scrapy crawl: stopped: standard output was closed by its reader after (\d+) records",
                           last_line(log))
    assert stopped, log[-3000:]
    assert "Standard output (stdout) storage does not support overwriting" not in log
    delivered = int(stopped[1])
    assert 1 <= delivered < 60 and first["site"] == "sindonews"
    # What reached the pipe is seen; whatever the crawl scraped after the reader left is not, so the next
    # crawl writes exactly the rest.
    out = tmp_path / "rest.jsonl"
    result = scrapy("crawl", "sindonews", "-a", f"replay={tree}", "-a", "discover=true", "-O", str(out),
                    "-s", f"NEWSBOT_SEEN_STORE={seen}", "-s", "NEWSBOT_DROP_LOG=", "-s", "NEWSBOT_HEALTH_REPORT=")
    assert result.returncode == 0, result.stderr[-3000:]
    rest = feed_urls(out)
    assert len(rest) == 60 - delivered and first["url"] not in rest


def test_csv_and_xml_feeds_have_readable_cells_in_the_record_s_field_order(tmp_path):
    csv_path, xml_path = tmp_path / "out.csv", tmp_path / "out.xml"
    code, records, log = crawl("tribun", {"replay": str(FIXTURES / "tribun")},
                               extra=["-O", str(csv_path), "-O", str(xml_path)])
    assert code == 0 and len(records) == 6, log[-3000:]
    fields = list(records[0])
    with csv_path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == fields
    items = lxml.etree.parse(str(xml_path)).getroot().findall("item")
    assert len(rows) - 1 == len(items) == len(records)
    for record, row, item in zip(records, rows[1:], items, strict=True):
        want = [readable(name, record[name]) for name in fields]
        assert row == want
        assert [child.tag for child in item] == fields
        assert [child.text or "" for child in item] == want
    several = next(r for r in records if len(r["authors"]) > 1)
    assert "; " in readable("authors", several["authors"]) and "Person(" not in csv_path.read_text(encoding="utf-8")


# newsbot-fixtures -------------------------------------------------------------------------------------------------
def fixtures_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``newsbot-fixtures`` script, as a user runs it."""
    script = Path(sys.executable).with_name("newsbot-fixtures")
    return subprocess.run([str(script), *args], cwd=ROOT, env=SCRAPY_ENV, capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.mark.parametrize(("args", "message"), [
    (["diff", "{missing}"], "newsbot-fixtures: error: {missing}: no such fixture directory"),
    (["diff", "{empty}"], "newsbot-fixtures: error: {empty}: holds no article case (a case is a folder with a "
                          "case.json)"),
    (["expect", "--site", "nosuch", "fixtures/tribun"], "newsbot-fixtures expect: error: argument --site: invalid "
                                                        "choice: 'nosuch'"),
    (["record", "nosuch", "/tmp/x", "https://example.com/"], "newsbot-fixtures record: error: argument site: "
                                                             "invalid choice: 'nosuch'"),
    (["diff", "--site", "bisnis", str(TRIBUN_CASE)], "is a tribun case (it is in a tribun folder), not bisnis"),
], ids=["missing-folder", "empty-folder", "unknown-site", "record-unknown-site", "site-mismatch"])
def test_fixtures_tool_usage_errors_are_one_line(args, message, tmp_path):
    args, message = with_folders(tmp_path, args, message)
    result = fixtures_tool(*args)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert message in line, line


def test_expect_outside_a_site_folder_needs_the_site(tmp_path):
    case = tmp_path / "cases" / TRIBUN_CASE.name
    shutil.copytree(TRIBUN_CASE, case)
    (case / "expected.json").write_text("{}", encoding="utf-8")
    refused = fixtures_tool("expect", str(case))
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line == (f"newsbot-fixtures: error: {case}: cannot tell its site (it is not in a fixtures/<site>/ "
                    "folder); give --site bisnis|faktual|generic|sindonews|tribun (see newsbot-fixtures --help)")
    assert (case / "expected.json").read_text(encoding="utf-8") == "{}", "a refused expect wrote expected.json"
    done = fixtures_tool("expect", "--site", "tribun", str(case))
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert written == json.loads((TRIBUN_CASE / "expected.json").read_text(encoding="utf-8"))


def test_a_utf16_page_is_replayed_into_its_record(tmp_path):
    source = FIXTURES / "generic" / "republisher-translated-putin-korut"
    case = tmp_path / "generic" / "utf-16"
    shutil.copytree(source, case)
    page = case / "page.html"
    page.write_bytes(codecs.BOM_UTF16_LE + page.read_text(encoding="utf-8").encode("utf-16-le"))
    code, records, log = crawl("generic", {"replay": str(case)})
    assert code == 0, log[-3000:]
    expected = json.loads((source / "expected.json").read_text(encoding="utf-8"))
    [record] = records
    record.pop("metadata"), expected.pop("metadata")
    assert record == expected


@pytest.fixture
def site_without_robots_answer():
    """A server on 127.0.0.1 that serves the generic fixture page but drops the connection when asked for
    robots.txt, as a broken server or a proxy does."""
    page = (FIXTURES / "generic" / "republisher-translated-putin-korut" / "page.html").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/robots.txt":
                self.close_connection = True  # no answer at all
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_robots_txt_that_cannot_be_fetched_is_one_warning_not_a_traceback(site_without_robots_answer):
    url = f"{site_without_robots_answer}/berita/rusia-korea-utara"
    code, records, log = crawl("generic", {"url": url}, extra=QUICK)
    assert code == 0 and [r["url"] for r in records] == [url], log[-3000:]
    [warning] = [line for line in log.splitlines() if "robots.txt" in line and "WARNING" in line]
    assert "WARNING: robots.txt of 127.0.0.1 not fetched (" in warning and "its rules cannot be applied" in warning


def test_expect_refuses_a_case_whose_replay_fails(tmp_path):
    # A multi-page case that lost its "whole article" page: the replay asks for pages no file answers.
    case = tmp_path / "tribun" / "three-page-all"
    shutil.copytree(FIXTURES / "tribun" / "three-page-all", case)
    data = json.loads((case / "case.json").read_text(encoding="utf-8"))
    data["responses"] = {url: spec for url, spec in data["responses"].items() if not url.endswith("?page=all")}
    (case / "case.json").write_text(json.dumps(data), encoding="utf-8")
    before = (case / "expected.json").read_bytes()
    result = fixtures_tool("expect", str(case))
    assert result.returncode == 1
    assert f"{case}: scrapy crawl: failed: " in result.stdout and "replayed requests had no fixture" in result.stdout
    assert (case / "expected.json").read_bytes() == before
