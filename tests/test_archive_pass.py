"""``scrapy warc``: the archive pass gives the replay's records, accounts for every article page, survives
broken archives, spreads over processes, and reports usage errors in one line."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from newsbot.archive.batch import Batch
from newsbot.archive.reader import RecordHead, open_archive, scan
from newsbot.archive.workers import run_tasks
from newsbot.archive.writer import write_cases
from newsbot.fixtures.case import Case
from newsbot.fixtures.tool import record_for, without_volatile

from .conftest import ALL_CASES, FIXTURES, assert_clean_log, case_id
from .warcs import (
    ARCHIVED,
    Archived,
    accounted,
    append_raw_response,
    archive_pass,
    scrapy_warc,
    write_warc,
)


@pytest.fixture(scope="module")
def fixture_pass(fixture_warc: Path, tmp_path_factory: pytest.TempPathFactory):
    return archive_pass(tmp_path_factory.mktemp("pass"), fixture_warc, extra=("--generic",))


def _case(site: str, name: str) -> Case:
    return next(c for c in ALL_CASES if c.directory == FIXTURES / site / name)


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_an_archived_case_gives_the_replayed_record(case, fixture_pass, replayed):
    records, _, _ = fixture_pass
    record = record_for(case, records)
    assert record is not None, f"no record for {case.url}"
    assert without_volatile(record) == without_volatile(replayed[case.directory])
    # The download time is the archive's, not the pass's.
    assert record["metadata"]["dateDownloaded"] == ARCHIVED.isoformat(timespec="seconds")


def test_every_article_page_of_the_archive_is_a_record_a_drop_or_a_skip(fixture_pass):
    records, stats, dropped = fixture_pass
    sites = stats["sites"]
    assert set(sites) == {"bisnis", "faktual", "generic", "sindonews", "tribun"}
    assert all(accounted(numbers) for numbers in sites.values()), sites
    assert sum(numbers["records"] for numbers in sites.values()) == len(records) == len(ALL_CASES)
    # Cases that store their clean URL beside the shared one hold one story twice: the second is a duplicate.
    assert {d["reason"] for d in dropped} == {"duplicate"}
    assert sites["tribun"]["pages"] == 4 and sites["tribun"]["all_pages_fallback"] == 1
    assert len({r["url"] for r in records}) == len(records)


def test_without_generic_other_hosts_are_counted_and_skipped(fixture_warc, tmp_path):
    records, stats, _ = archive_pass(tmp_path, fixture_warc, extra=("--sites", "tribun,sindonews"))
    assert {r["site"] for r in records} == {"tribun", "sindonews"}
    generic_and_others = sum(1 for c in ALL_CASES if c.site not in ("tribun", "sindonews")
                             for _ in c.responses)
    assert stats["archive"]["other_hosts"] == generic_and_others
    assert set(stats["sites"]) == {"tribun", "sindonews"}


def test_two_processes_on_one_file_split_in_segments_give_the_same_feed(fixture_warc, fixture_pass, tmp_path):
    records, stats, _ = archive_pass(tmp_path, fixture_warc, extra=(
        "--generic", "--processes", "2", "-s", "NEWSBOT_WARC_SEGMENT_BYTES=20000"))
    one, one_stats, _ = fixture_pass
    assert sorted(map(json.dumps, records)) == sorted(map(json.dumps, one))
    assert stats["sites"] == one_stats["sites"]
    assert stats["archive"]["records"] == one_stats["archive"]["records"]


def test_pages_come_from_the_archive_as_the_spider_reads_them(tmp_path, replayed):
    fallback, whole = _case("tribun", "two-page-fallback"), _case("tribun", "three-page-all")
    page_all, page_2 = (f"{fallback.url}?page=all", f"{fallback.url}?page=2")
    # No ?page=all at all (not even its 404): page 2 is read instead, and the record is the same.
    write_cases([fallback], tmp_path / "no-all.warc.gz", date=ARCHIVED, skip=[page_all])
    # Neither ?page=all nor page 2: the article cannot be read whole.
    write_cases([fallback], tmp_path / "no-page-2.warc.gz", date=ARCHIVED, skip=[page_all, page_2])
    write_cases([whole], tmp_path / "no-page-all.warc.gz", date=ARCHIVED, skip=[f"{whole.url}?page=all"])
    records, stats, dropped = archive_pass(tmp_path, tmp_path / "no-all.warc.gz")
    assert without_volatile(record_for(fallback, records)) == without_volatile(replayed[fallback.directory])
    assert stats["sites"]["tribun"]["all_pages_fallback"] == 1
    records, stats, dropped = archive_pass(tmp_path, tmp_path / "no-page-2.warc.gz", tmp_path / "no-page-all.warc.gz")
    assert records == []
    assert sorted((d["url"], d["reason"]) for d in dropped) == sorted(
        [(fallback.url, "not-in-archive"), (whole.url, "not-in-archive")])
    assert stats["sites"]["tribun"]["dropped"] == {"not-in-archive": 2} and accounted(stats["sites"]["tribun"])


def test_redirects_errors_and_repeated_urls_in_the_archive(tmp_path):
    case = _case("bisnis", "no-jsonld")
    body = case.responses[case.url].path.read_bytes()
    moved = case.url.replace("https://", "http://")
    elsewhere = "https://ekonomi.bisnis.com/read/20240717/9/1783999/pindah-ke-luar-arsip"
    off_site = "https://ekonomi.bisnis.com/read/20240717/9/1783998/pindah-ke-situs-lain"
    retried = "https://ekonomi.bisnis.com/read/20240717/9/1783997/dicoba-lagi"
    other = _case("bisnis", "dateline-variants")
    gone = "https://ekonomi.bisnis.com/read/20240717/9/1783996/sudah-dihapus"
    write_warc(tmp_path / "a.warc.gz", [
        Archived(moved, b"", 301, {"Location": case.url}),                # its target is archived: skipped
        Archived(case.url, body),
        Archived(elsewhere, b"", 302, {"Location": elsewhere + "-baru"}),  # its target is not: dropped
        Archived(off_site, b"", 301, {"Location": "https://evil.example.net/x"}),
        Archived(retried, b"busy", 503),                                   # superseded by the 200 below
        Archived(retried, other.responses[other.url].path.read_bytes()),
        Archived(retried, b"busy again", 503),                             # and by the 200 above
        Archived(gone, b"<html><body>404</body></html>", 404),
    ])
    records, stats, dropped = archive_pass(tmp_path, tmp_path / "a.warc.gz", extra=("--sites", "bisnis"))
    assert sorted(r["url"] for r in records) == sorted([case.url, retried])
    assert sorted((d["url"], d["reason"]) for d in dropped) == sorted(
        [(elsewhere, "not-in-archive"), (off_site, "off-site"), (gone, "http-error")])
    assert stats["sites"]["bisnis"]["skipped"] == {"redirected": 1, "superseded": 2}
    assert accounted(stats["sites"]["bisnis"])


def test_content_coding_is_undone_as_the_downloader_does(tmp_path, replayed):
    case = _case("sindonews", "p-template")
    stored = case.responses[case.url]
    raw = stored.path.read_bytes()
    write_warc(tmp_path / "gz.warc.gz", [
        Archived(case.url, gzip.compress(raw), headers={**stored.headers, "Content-Encoding": "gzip"}),
        # A gzip bomb: 64 MB of zeros in 64 KB, over DOWNLOAD_MAXSIZE once unpacked.
        Archived("https://nasional.sindonews.com/read/9999999/12/bom-gzip-1716271318",
                 gzip.compress(b"\0" * (64 << 20)), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    ])
    records, _, dropped = archive_pass(tmp_path, tmp_path / "gz.warc.gz")
    [record] = records
    assert without_volatile(record) == without_volatile(replayed[case.directory])
    assert [d["reason"] for d in dropped] == ["too-large"]


def _gbk_page() -> bytes:
    phrases = "，".join(["北京今天天气晴朗", "市民纷纷外出游玩", "公园里人山人海"] * 9)
    return (f'<html><head><meta charset="gbk"><title>北京新闻</title></head><body><article><h1>北京新闻</h1>'
            f"<p>{phrases}。</p><p>{phrases}。</p></article></body></html>").encode("gbk")


def _cp1251_page() -> bytes:
    text = " ".join(["Москва сегодня встретила весну тёплой солнечной погодой и улыбками прохожих."] * 6)
    return (f"<html><head><title>Новости Москвы</title></head><body><article><h1>Новости Москвы</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>").encode("windows-1251")


def test_broken_archives_are_skipped_with_counted_reasons_and_the_pass_goes_on(tmp_path, replayed):
    good = [_case("tribun", "id-url-2026"), _case("bisnis", "no-jsonld"), _case("faktual", "short-news")]
    pages = [Archived(c.url, c.responses[c.url].path.read_bytes()) for c in good]
    files = tmp_path / "archives"
    files.mkdir()
    # A file cut off in the middle of its last record (a download that stopped).
    clipped = write_warc(files / "clipped.warc.gz", pages[:2])
    clipped.write_bytes(clipped.read_bytes()[:-1500])
    # A corrupt gzip member in the middle: the records after it are still read.
    corrupt = write_warc(files / "corrupt.warc.gz", [
        Archived("https://www.tribunnews.com/nasional/7000001/rusak", pages[0].body), pages[2], pages[1]])
    data = bytearray(corrupt.read_bytes())
    start = next(h.position for h in scan(open_archive(corrupt)) if isinstance(h, RecordHead))
    for offset in range(start + 60, start + 90):
        data[offset] ^= 0x5A
    corrupt.write_bytes(bytes(data))
    # Broken HTTP headers, and pages of other hosts in legacy encodings (for the generic rules).
    odd = write_warc(files / "odd.warc.gz", [
        Archived("https://news.example.cn/beijing.html", _gbk_page(),
                 headers={"Content-Type": "text/html; charset=GBK"}),
        Archived("https://novosti.example.ru/moskva", _cp1251_page(),
                 headers={"Content-Type": "text/html; charset=windows-1251"}),
    ])
    append_raw_response(odd, "https://www.tribunnews.com/nasional/7000002/kepala-rusak",
                        b"HTPP/1.1 2OO OK\r\n\r\n<p>rusak</p>")
    (files / "notes.warc").write_text("not an archive\n", encoding="utf-8")
    (files / "text.warc.gz").write_bytes(gzip.compress(b"not an archive either\n"))

    records, stats, dropped = archive_pass(tmp_path, files, extra=("--generic",))
    by_url = {r["url"]: r for r in records}
    for case in good:
        assert without_volatile(by_url[case.url.split("?")[0]]) == without_volatile(replayed[case.directory])
    assert "Москва сегодня встретила весну" in by_url["https://novosti.example.ru/moskva"]["articleBody"]
    assert "北京今天天气晴朗" in by_url["https://news.example.cn/beijing.html"]["articleBody"]
    assert stats["unreadable_files"] == {str(files / "notes.warc"): "not-warc", str(files / "text.warc.gz"): "not-warc"}
    assert stats["archive"]["bad/corrupt-gzip"] == 1
    reasons = sorted((d["url"].rsplit("/", 1)[1], d["reason"]) for d in dropped if d["reason"] != "duplicate")
    assert reasons == sorted([("kepala-rusak", "bad-http-headers"), (good[1].url.rsplit("/", 1)[1], "truncated")])
    assert all(accounted(numbers) for numbers in stats["sites"].values())


def test_a_pass_where_every_file_is_unreadable_exits_1_with_one_line(tmp_path):
    (tmp_path / "a.warc").write_text("nothing\n", encoding="utf-8")
    (tmp_path / "b.warc.gz").write_bytes(gzip.compress(b"nothing\n"))
    proc = scrapy_warc(tmp_path / "a.warc", tmp_path / "b.warc.gz", "-O", tmp_path / "out.jsonl",
                       "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'd.jsonl'}", "--nolog")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "scrapy warc: failed: no record read, every file was unreadable: a.warc (not-warc), b.warc.gz (not-warc)"]


@pytest.mark.parametrize(("args", "message"), [
    (["missing.warc.gz"], "missing.warc.gz: no such file"),
    (["*.nothing-matches"], "*.nothing-matches: no file matches"),
    (["{warc}", "--sites", "tribun,kompas"], "unknown site 'kompas' in --sites"),
    (["{warc}", "--processes", "two"], "--processes 'two' is not a whole number"),
    ([], "no WARC file given"),
    (["{warc}", "-O", "/proc/no-such-dir/out.jsonl"], "cannot write /proc/no-such-dir/out.jsonl"),
])
def test_usage_errors_are_one_line_and_exit_2(args, message, fixture_warc, tmp_path):
    output = [] if "-O" in args else ["-O", tmp_path / "out.jsonl"]
    proc = scrapy_warc(*[a.format(warc=fixture_warc) for a in args], *output, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("scrapy warc: error: ") and message in line
    assert not (tmp_path / "out.jsonl").exists()


def test_the_feed_is_json_lines_under_a_name_that_says_so_or_on_standard_output(fixture_warc, fixture_pass,
                                                                                tmp_path):
    for name, other in (("out.json", "crawl with -a warc=... to get JSON"),
                        ("out.jsonl.gz", "to keep this name, say so: -O {path}:jsonlines")):
        path = tmp_path / name
        proc = scrapy_warc(fixture_warc, "-O", path, cwd=tmp_path)
        assert proc.returncode == 2 and not path.exists()
        assert proc.stderr.strip().splitlines() == [
            f"scrapy warc: error: {path}: scrapy warc writes JSON Lines (-O out.jsonl); {other.format(path=path)}"]
    records = [without_volatile(record) for record in fixture_pass[0]]
    kept = tmp_path / "out.data"
    proc = scrapy_warc(fixture_warc, "--generic", "-O", f"{kept}:jsonlines", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [without_volatile(json.loads(line)) for line in kept.read_text(encoding="utf-8").splitlines()] == records
    # -O -: the records alone on standard output, the log on standard error.
    proc = scrapy_warc(fixture_warc, "--generic", "-O", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [without_volatile(json.loads(line)) for line in proc.stdout.splitlines()] == records
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_reader_that_stops_reading_standard_output_stops_the_pass_quietly(fixture_warc, tmp_path, processes):
    # `scrapy warc ... -O - | head -1`: the pipe holds less than the pass writes, so the writer meets its end.
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
    proc = subprocess.Popen([sys.executable, "-m", "scrapy", "warc", str(fixture_warc), "--generic", "-O", "-",
                             "--processes", processes, "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'dropped.jsonl'}"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()
    log = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=120) == 141, log[-3000:]
    assert first["url"].startswith("https://")
    assert_clean_log(log)
    assert re.fullmatch(r"scrapy warc: stopped: standard output was closed by its reader after \d+ records",
                        log.strip().splitlines()[-1]), log[-3000:]


def _flaky(task: int, emit) -> None:
    if task == 2:
        os._exit(3)  # a worker killed mid-task (out of memory, a crash in a C library)
    if task == 3:
        raise RuntimeError("a bug met in one segment")
    emit(Batch(counts=Counter({"done": task})))


def test_a_worker_that_dies_or_fails_costs_its_task_only_and_the_pass_goes_on():
    seen: Counter[str] = Counter()
    lost = run_tasks(_flaky, [1, 2, 3, 4, 5], 2, lambda b: seen.update(b.counts))
    assert lost == {"died": 1, "failed": 1}
    assert seen == {"done": 1 + 4 + 5}


def test_progress_lines_and_the_summary_count_per_site(fixture_warc, tmp_path):
    proc = scrapy_warc(fixture_warc, "-O", tmp_path / "out.jsonl", "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'd.jsonl'}",
                       "-s", "NEWSBOT_PROGRESS_INTERVAL=0.000001", "-s", "NEWSBOT_WARC_SEGMENT_BYTES=100000")
    assert proc.returncode == 0, proc.stderr[-3000:]
    progress = [line for line in proc.stderr.splitlines() if "] INFO: progress: " in line]
    assert len(progress) >= 2 and "WARC records" in progress[0]
    assert any(" tribun " in line and " articles: " in line for line in progress)
    summary = {line.split("INFO: ", 1)[1].split(":", 1)[0]: line.split("INFO: ", 1)[1]
               for line in proc.stderr.splitlines() if "[newsbot.archive] INFO: " in line}
    assert summary["tribun"].startswith("tribun: 7 article pages -> 6 records, 1 dropped (duplicate 1), 0 skipped; "
                                        "4 further pages")
    assert summary["archive"].startswith(f"archive: 1 files (0 unreadable), {len(ALL_CASES) + 12} WARC records")
    # Without --generic, the generic case's host is one no site claims.
    assert f"wrote {sum(c.site != 'generic' for c in ALL_CASES)} records to" in proc.stderr


def test_a_multi_page_article_stands_when_a_later_record_of_its_url_is_an_error(tmp_path, replayed):
    case = _case("tribun", "three-page-all")
    pages = [Archived(url, stored.path.read_bytes(), stored.status, stored.headers)
             for url, stored in case.responses.items()]
    write_warc(tmp_path / "a.warc.gz", [Archived(case.url, b"busy", 503), *pages, Archived(case.url, b"busy", 503)])
    records, stats, dropped = archive_pass(tmp_path, tmp_path / "a.warc.gz")
    assert [without_volatile(r) for r in records] == [without_volatile(replayed[case.directory])]
    assert dropped == [] and stats["sites"]["tribun"]["skipped"] == {"superseded": 2}
