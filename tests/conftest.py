from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsbot.archive.writer import write_cases
from newsbot.distributed import local_redis
from newsbot.fixtures import crawl, record_for, spider_for
from newsbot.replay import Case, find_cases

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ALL_CASES = [case for case in find_cases(FIXTURES) if case.kind == "article"]
LISTING_CASES = [case for case in find_cases(FIXTURES) if case.kind == "listing"]
# The WARC-Date of every archived test response: a whole second, so dateDownloaded can be checked exactly.
ARCHIVED = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def replayed() -> dict[Path, dict[str, Any] | None]:
    """Every fixture case's record, from one replay crawl per site (the same path `make demo` takes)."""
    results: dict[Path, dict[str, Any] | None] = {}
    groups: dict[tuple[str, Path], list[Case]] = {}
    for case in ALL_CASES:
        groups.setdefault((spider_for(case), case.directory.parent), []).append(case)
    for (spider, folder), cases in sorted(groups.items()):
        code, records, log = crawl(spider, {"replay": str(folder)})
        assert code == 0, f"replay of {folder} exited {code}:\n{log[-4000:]}"
        for case in cases:
            results[case.directory] = record_for(case, records)
    return results


@pytest.fixture(scope="session")
def fixture_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stored response of every article case, as one WARC file (see tests/warcs.py)."""
    path = tmp_path_factory.mktemp("warc") / "fixtures.warc.gz"
    write_cases(ALL_CASES, path, date=ARCHIVED)
    return path


def case_id(case: Case) -> str:
    return f"{case.site}/{case.directory.name}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 and a free port, installed from Debian if missing; stopped by PID."""
    if shutil.which("redis-server") is None:
        install = ["apt-get", "install", "-y", "-q", "redis-server"]
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        done = subprocess.run(sudo + install, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run([*sudo, "apt-get", "update", "-q"], capture_output=True, check=False)
            done = subprocess.run(sudo + install, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"could not install redis-server:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    with local_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


def feed_urls(path: Path) -> list[str]:
    """URLs of the records in a JSON Lines feed; a line still being written (no newline yet) is not a
    record yet."""
    lines = path.read_bytes().split(b"\n")[:-1] if path.exists() else []
    return [json.loads(line)["url"] for line in lines]


def crawl_stats(log: str) -> dict[str, int]:
    """The integer stats of a crawl, from the stats dump Scrapy writes to its log at the end."""
    return {key: int(value) for key, value in re.findall(r"'([\w/.-]+)': (\d+)", log)}
