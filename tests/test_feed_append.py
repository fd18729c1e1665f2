"""Appending to a JSON, XML or CSV feed (``-o``) continues the one document a reader expects: one array, one
root element, one header row, whatever the earlier crawl left (a finished file, or one cut mid-record)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lxml.etree
import pytest

from newsbot.crawl import feeds
from newsbot.crawl.feeds import CannotAppend, FeedTail, feed_tail

from .conftest import ALL_CASES, FIXTURES, scrapy

FORMATS = ["json", "xml", "csv"]


def site_urls(site: str) -> set[str]:
    return {json.loads((case.directory / "expected.json").read_text(encoding="utf-8"))["url"]
            for case in ALL_CASES if case.site == site}


def append(site: str, out: Path, tmp_path: Path) -> str:
    """A replay crawl of ``site`` appending to ``out``; its log."""
    result = scrapy("crawl", site, "-a", f"replay={FIXTURES / site}", "-o", str(out),
                    "-s", f"NEWSBOT_SEEN_STORE={tmp_path / f'{site}-seen.sqlite'}", "-s", "NEWSBOT_DROP_LOG=",
                    "-s", "NEWSBOT_HEALTH_REPORT=")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def read_records(path: Path) -> list[dict[str, str]]:
    """The records of a feed file as the format's standard reader sees them (url and site of each)."""
    if path.suffix == ".json":
        return [{"url": r["url"], "site": r["site"]} for r in json.loads(path.read_text(encoding="utf-8"))]
    if path.suffix == ".jsonl":
        return [{"url": r["url"], "site": r["site"]} for r in map(json.loads, path.read_text().splitlines())]
    if path.suffix == ".xml":
        root = lxml.etree.parse(str(path)).getroot()
        assert root.tag == "items"
        return [{"url": item.findtext("url"), "site": item.findtext("site")} for item in root]
    with path.open(encoding="utf-8", newline="") as file:
        return [{"url": row["url"], "site": row["site"]} for row in csv.DictReader(file, strict=True)]


@pytest.mark.parametrize("cut", [False, True], ids=["finished", "killed-mid-record"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_appending_goes_on_with_the_same_document(tmp_path, fmt, cut):
    out = tmp_path / f"out.{fmt}"
    append("tribun", out, tmp_path)
    first = read_records(out)
    assert {r["url"] for r in first} == site_urls("tribun")
    if cut:
        # What a crawl killed while writing its last record leaves: that record's first part, its body cut
        # after a line break (inside a quoted CSV cell), and no end of document.
        data = out.read_bytes()
        last_break = data.rfind(b"\n", 0, len(data) - 200)
        out.write_bytes(data[:last_break + 1])
    log = append("sindonews", out, tmp_path)
    assert ("ended in a half-written record" in log) == cut, log[-2000:]
    assert "cannot be appended to" not in log
    records = read_records(out)
    kept = first[:-1] if cut else first
    assert records[:len(kept)] == kept
    assert {r["url"] for r in records[len(kept):]} == site_urls("sindonews")
    assert all(r["site"] in ("tribun", "sindonews") for r in records), "a header row or a broken record"


@pytest.mark.parametrize(("fmt", "content", "why"), [
    ("json", b'{"url": "a"}\n{"url": "b"}\n', "it does not end in whole JSON records"),
    ("xml", b"<html><body>not a feed</body></html>\n", "it does not end in whole XML records"),
    ("csv", b"id,title\r\n1,x\r\n", "its columns are not this feed's: column 1 is 'id', the feed's is 'url'"),
], ids=FORMATS)
def test_a_file_that_is_no_feed_of_the_format_is_kept_and_a_new_one_written(tmp_path, fmt, content, why):
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(content)
    log = append("tribun", out, tmp_path)
    assert f"{out} cannot be appended to ({why}); it is kept as {out}.unreadable and a new file is written" in log
    assert (tmp_path / f"out.{fmt}.unreadable").read_bytes() == content
    assert {r["url"] for r in read_records(out)} == site_urls("tribun")


@pytest.mark.parametrize(("fmt", "content", "tail"), [
    ("json", b"[\n]", FeedTail(1, False, closed=True)),
    ("json", b'[\n{"a": 1},\n{"b": 2}\n]', FeedTail(20, True, closed=True)),
    ("json", b'[\n{"a": 1},\n{"b": ', FeedTail(10, True)),
    ("json", b"[\n", FeedTail(1, False)),
    ("xml", b'<?xml version="1.0" encoding="utf-8"?>\n<items>\n</items>', FeedTail(47, False, closed=True)),
    ("xml", b'<?xml version="1.0"?>\n<items>\n<item><a>x</a></item>\n<item><a>y', FeedTail(52, True)),
    # A quoted cell that holds "\r\n": the row goes on past it, and only the quotes tell.
    ("csv", b'url\r\n"x\r\ny"\r\n"z\r\n', FeedTail(13, True)),
    ("csv", b"url\r\n", FeedTail(5, False)),
], ids=["json-empty", "json-finished", "json-cut", "json-opened", "xml-empty", "xml-cut", "csv-quoted-break",
        "csv-header"])
def test_where_the_records_of_a_feed_file_end(tmp_path, fmt, content, tail):
    path = tmp_path / f"feed.{fmt}"
    path.write_bytes(content)
    fields = {"fields": ["url"]} if fmt == "csv" else {}
    assert feed_tail(path, {"format": fmt, **fields}) == tail


def test_a_json_array_written_on_one_line_and_cut_cannot_be_continued(tmp_path):
    path = tmp_path / "feed.json"
    path.write_bytes(b'[{"a": 1},{"b": ')
    with pytest.raises(CannotAppend, match="it does not end in whole JSON records"):
        feed_tail(path, {"format": "json"})


def test_a_csv_row_longer_than_the_end_read_first_is_found_in_the_whole_file(tmp_path, monkeypatch):
    monkeypatch.setattr(feeds, "TAIL_WINDOW", 16)
    whole = b'url\r\n"' + b"line\r\n" * 20 + b'"\r\n'
    path = tmp_path / "feed.csv"
    path.write_bytes(whole + b'"cut' + b"\n" * 20)
    assert feed_tail(path, {"format": "csv", "fields": ["url"]}) == FeedTail(len(whole), True)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_the_records_at_the_end_of_a_feed_count_as_seen(tmp_path, fmt):
    # A crawl killed after writing a record and before marking it seen: the next crawl appending to that
    # feed reads its last records as seen, and does not write them twice (-o out.jsonl is format "jsonl").
    out = tmp_path / f"out.{fmt}"
    append("tribun", out, tmp_path)
    (tmp_path / "tribun-seen.sqlite").unlink()
    log = append("tribun", out, tmp_path)
    assert len(read_records(out)) == len(site_urls("tribun")), log[-2000:]
