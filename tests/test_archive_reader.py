"""The WARC reader, router and writer on their own: every record found once however a file is split,
broken files and records met with a reason, URLs routed to the right site rules."""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from pathlib import Path

import pytest

from newsbot.archive import expand_paths
from newsbot.archive.reader import (
    CORRUPT_GZIP,
    MEMBERS,
    PLAIN,
    SINGLE,
    ArchiveError,
    RecordHead,
    open_archive,
    read_at,
    scan,
    segments,
)
from newsbot.archive.router import ARTICLE, OTHER, PAGE, Router, site_names

from .conftest import ALL_CASES
from .warcs import Archived, append_raw_response, write_warc


def _pages(count: int) -> list[Archived]:
    bodies = [case.responses[case.url].path.read_bytes() for case in ALL_CASES[:6]]
    return [Archived(f"https://www.tribunnews.com/nasional/{8000000 + n}/salinan-{n}", bodies[n % len(bodies)])
            for n in range(count)]


def _read(file_path: Path, start: int = 0, end: int | None = None) -> list[tuple[int, str] | str]:
    found: list[tuple[int, str] | str] = []
    for head in scan(open_archive(file_path), start, end):
        if isinstance(head, ArchiveError):
            found.append(head.reason)
            continue
        try:
            head.response()
            found.append((head.position, head.url))
        except ArchiveError as problem:
            found.append(problem.reason)
    return found


def _member_starts(path: Path) -> list[int]:
    return [head.position for head in scan(open_archive(path)) if isinstance(head, RecordHead)]


# Reading --------------------------------------------------------------------------------------------------
def test_every_record_is_read_by_exactly_one_segment_however_the_file_is_split(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", _pages(30))
    archive = open_archive(path)
    assert archive.layout == MEMBERS
    whole = _read(path)
    assert len(whole) == 30
    for target in (1_000, 20_000, archive.size):
        parts = segments([archive], target)
        assert len(parts) == max(1, -(-archive.size // target))
        found = [record for part in parts for record in _read(path, part.start, part.end)]
        assert found == whole, f"segments of {target} bytes"


def test_a_corrupt_gzip_member_costs_its_record_only(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", _pages(5))
    starts = _member_starts(path)
    data = bytearray(path.read_bytes())
    for offset in range(starts[2] + 40, starts[2] + 80):  # inside the third record's deflate data
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    found = _read(path)
    assert found.count(CORRUPT_GZIP) == 1
    assert [r[0] for r in found if isinstance(r, tuple)] == [starts[0], starts[1], starts[3], starts[4]]


def test_a_member_whose_gzip_header_is_broken_is_skipped_too(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", _pages(4))
    starts = _member_starts(path)
    data = bytearray(path.read_bytes())
    data[starts[1]] = 0  # no gzip magic any more
    path.write_bytes(bytes(data))
    found = _read(path)
    assert found.count(CORRUPT_GZIP) == 1
    assert [r[0] for r in found if isinstance(r, tuple)] == [starts[0], starts[2], starts[3]]


def test_a_file_cut_off_mid_record_gives_its_good_records_and_a_truncated_one(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", _pages(3))
    starts = _member_starts(path)
    path.write_bytes(path.read_bytes()[: starts[2] + (path.stat().st_size - starts[2]) // 2])
    found = _read(path)
    assert found[:2] == [(starts[0], _pages(3)[0].url), (starts[1], _pages(3)[1].url)]
    assert found[2:] == ["truncated"]


def test_broken_records_are_met_with_their_reason_and_reading_goes_on(tmp_path):
    path = tmp_path / "a.warc.gz"
    add = append_raw_response
    add(path, "https://x.example/ok", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>ok</p>")
    add(path, "https://x.example/garbage", b"\x00\x01binary, no status line\r\n\r\n<p>x</p>")
    add(path, "https://x.example/status", b"HTTP/1.1 abc\r\nX: y\r\n\r\n<p>x</p>")
    add(path, "https://x.example/cut", b"HTTP/1.1 200 OK\r\n\r\n<p>long page", {"WARC-Truncated": "length"})
    add(path, "https://x.example/chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    add(path, "https://x.example/stored-decoded",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n<p>already decoded</p>")
    found = {}
    for head in scan(open_archive(path)):
        assert isinstance(head, RecordHead)
        try:
            found[head.url.rsplit("/", 1)[1]] = head.response()
        except ArchiveError as problem:
            found[head.url.rsplit("/", 1)[1]] = problem.reason
    assert found["garbage"] == found["status"] == "bad-http-headers"
    assert found["cut"] == "truncated"
    assert found["ok"].status == 200 and found["ok"].body == b"<p>ok</p>"
    # Transfer coding is the downloader's business: removed, as Scrapy hands a body on.
    assert found["chunked"].body == b"hello world" and found["chunked"].header(b"Transfer-Encoding") is None
    # A payload stored decoded under a Content-Encoding header it no longer has.
    assert found["stored-decoded"].header(b"Content-Encoding") is None


def test_a_record_whose_bytes_changed_fails_its_digest(tmp_path):
    path = write_warc(tmp_path / "a.warc", _pages(2))
    data = path.read_bytes()
    first_body_byte = data.index(b"<html") + 10
    path.write_bytes(data[:first_body_byte] + bytes([data[first_body_byte] ^ 1]) + data[first_body_byte + 1:])
    assert open_archive(path).layout == PLAIN
    assert _read(path)[0] == "digest-mismatch"
    assert isinstance(_read(path)[1], tuple)


def test_files_that_are_no_warc_are_refused_with_a_reason(tmp_path):
    (tmp_path / "text.warc").write_text("hello\n", encoding="utf-8")
    (tmp_path / "text.warc.gz").write_bytes(gzip.compress(b"hello\n" * 100))
    (tmp_path / "empty.warc").write_bytes(b"")
    for name in ("text.warc", "text.warc.gz", "empty.warc"):
        with pytest.raises(ArchiveError) as refused:
            open_archive(tmp_path / name)
        assert refused.value.reason == "not-warc", name
    with pytest.raises(ArchiveError) as missing:
        open_archive(tmp_path / "missing.warc")
    assert missing.value.reason == "unreadable"


def test_a_single_stream_gzip_file_is_read_whole_and_records_found_again_by_ordinal(tmp_path):
    plain = write_warc(tmp_path / "a.warc", _pages(4))
    single = tmp_path / "single.warc.gz"
    single.write_bytes(gzip.compress(plain.read_bytes()))
    archive = open_archive(single)
    assert archive.layout == SINGLE and not archive.splittable
    assert len(segments([archive], 10)) == 1
    heads = [(h.position, h.url) for h in scan(archive) if isinstance(h, RecordHead)]
    assert [p for p, _ in heads] == [1, 2, 3, 4]  # ordinals; the warcinfo record is 0
    assert read_at(archive, 3).url == heads[2][1]
    assert read_at(open_archive(plain), _member_starts(plain)[2]).url == heads[2][1]


def test_counts_say_what_was_met_besides_responses(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", _pages(2))
    counts: Counter[str] = Counter()
    assert len([h for h in scan(open_archive(path), counts=counts)]) == 2
    assert counts == {"records": 3, "skipped/warcinfo": 1}


# Writing --------------------------------------------------------------------------------------------------
def test_written_files_are_read_by_an_independent_reader_with_every_digest_right(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    path = write_warc(tmp_path / "a.warc.gz", _pages(3))
    types, problems = [], []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            types.append(record.rec_type)
            if record.rec_type == "response":
                assert record.content_stream().read() == _pages(3)[len(types) - 2].body
                assert record.rec_headers.get_header("WARC-Payload-Digest")
            record.content_stream().read()
            problems += record.digest_checker.problems
    assert types == ["warcinfo", "response", "response", "response"] and not problems
    # One gzip member per record: each record's offset is a member start.
    data = path.read_bytes()
    for start in _member_starts(path):
        assert zlib.decompressobj(wbits=31).decompress(data[start:start + 4096], 5) == b"WARC/"


# Paths and routing ------------------------------------------------------------------------------------------
def test_paths_globs_directories_and_lists_expand_and_a_miss_is_an_error(tmp_path):
    for name in ("b.warc.gz", "a.warc", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert expand_paths([str(tmp_path)]) == [tmp_path / "a.warc", tmp_path / "b.warc.gz"]
    assert expand_paths([f"{tmp_path}/*.gz,{tmp_path}/a.warc"]) == [tmp_path / "b.warc.gz", tmp_path / "a.warc"]
    assert expand_paths([str(tmp_path / "a.warc"), str(tmp_path / "*.warc")]) == [tmp_path / "a.warc"]
    with pytest.raises(ValueError, match="no such file"):
        expand_paths([str(tmp_path / "missing.warc.gz")])
    with pytest.raises(ValueError, match="no file matches"):
        expand_paths([str(tmp_path / "*.zst")])


@pytest.mark.parametrize(("url", "site", "kind"), [
    ("https://jateng.tribunnews.com/2024/06/21/banjir-rob-semarang-meluas", "tribun", ARTICLE),
    ("https://www.tribunnews.com/nasional/7827148/baleg-dpr?utm_source=wa", "tribun", ARTICLE),
    ("https://www.tribunnews.com/nasional/7827148/baleg-dpr?page=2", "tribun", PAGE),
    ("https://www.tribunnews.com/nasional/7827148/baleg-dpr?page=all", "tribun", PAGE),
    ("https://www.tribunnews.com/tag/pemilu", "tribun", OTHER),
    ("https://video.tribunnews.com/view/123/x", "tribun", OTHER),
    ("https://nasional.sindonews.com/read/1441873/12/judul-berita-1716271318", "sindonews", ARTICLE),
    ("https://nasional.sindonews.com/read/1441873/12/judul-berita-1716271318/5", "sindonews", PAGE),
    ("https://ekonomi.bisnis.com/read/20240717/9/1783120/bi-tahan-suku-bunga", "bisnis", ARTICLE),
    ("https://video.bisnis.com/read/20240717/9/1783120/bi-tahan-suku-bunga", "bisnis", OTHER),
    ("https://faktual-indonesia.com/category/nasional/", "faktual", OTHER),
    ("https://faktual-indonesia.com/wp-content/uploads/2024/06/foto.jpg", "faktual", OTHER),
])
def test_urls_go_to_their_site_by_domain_and_kind(url, site, kind):
    route = Router(site_names("all")).route(url)
    assert route is not None and (route.site, route.kind) == (site, kind)


def test_hosts_no_site_claims_are_skipped_or_go_to_the_generic_rules():
    router, generic = Router(site_names("all")), Router(site_names("all"), generic=True)
    for url in ("https://kabarglobal24.com/rusia-pakta-baru/", "https://nottribunnews.com/nasional/123456/x",
                "ftp://www.tribunnews.com/nasional/123456/x"):
        assert router.route(url) is None
    assert generic.route("https://kabarglobal24.com/rusia-pakta-baru/").kind == ARTICLE
    assert generic.route("https://kabarglobal24.com/wp-content/logo.PNG").kind == OTHER
    assert Router(["bisnis"]).route("https://www.tribunnews.com/nasional/7827148/baleg-dpr") is None


def test_sites_are_named_or_all_and_an_unknown_one_is_an_error():
    assert site_names("tribun, bisnis,tribun") == ["tribun", "bisnis"]
    assert "generic" not in site_names("all") and "tribun" in site_names(None)
    with pytest.raises(ValueError, match="unknown site 'kompas'"):
        site_names("tribun,kompas")
