"""WARC files for the archive tests, built from the fixture cases (never from ../shared: CI may lack it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType

from newsbot.archive.writer import WarcFileWriter

from .conftest import ARCHIVED, ROOT

HTML = "text/html; charset=UTF-8"


@dataclass
class Archived:
    url: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": HTML})


def write_warc(path: Path, responses: list[Archived]) -> Path:
    with WarcFileWriter(path) as warc:
        warc.warcinfo({"software": "newsbot tests"})
        for page in responses:
            warc.response(page.url, page.status, list(page.headers.items()), page.body, date=ARCHIVED)
    return path


def append_raw_response(path: Path, url: str, block: bytes, extra: dict[str, str] | None = None) -> None:
    """Append a response record whose block (HTTP head and body) is given as is, broken or not."""
    with path.open("ab") as file:
        writer = GzipWriter(file)
        record = WarcRecord()
        record.init_headers(WarcRecordType.response)
        record.headers["WARC-Target-URI"] = url
        record.headers["Content-Type"] = "application/http; msgtype=response"
        for name, value in (extra or {}).items():
            record.headers[name] = value
        record.set_bytes_content(block)
        record.write(writer, checksum_data=True)
        writer.finish()
        writer.close()


def scrapy_warc(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
    return subprocess.run([sys.executable, "-m", "scrapy", "warc", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False, timeout=300)


def archive_pass(tmp: Path, *paths: Path, extra: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                               list[dict[str, Any]]]:
    """``scrapy warc`` over ``paths``: (records, --stats summary, drop log lines); fails on a non-zero exit."""
    out, stats, drops = tmp / "pass.jsonl", tmp / "pass-stats.json", tmp / "pass-dropped.jsonl"
    for file in (out, stats, drops):
        file.unlink(missing_ok=True)
    proc = scrapy_warc(*paths, "-O", out, "--stats", stats, "-s", f"NEWSBOT_DROP_LOG={drops}", *extra)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    dropped = [json.loads(line) for line in drops.read_text(encoding="utf-8").splitlines()] if drops.exists() else []
    return records, json.loads(stats.read_text(encoding="utf-8")), dropped


def accounted(site_stats: dict[str, Any]) -> bool:
    """Every article page became a record, a drop or a skip."""
    return site_stats["articles"] == (site_stats["records"] + sum(site_stats["dropped"].values())
                                      + sum(site_stats["skipped"].values()))
