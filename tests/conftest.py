from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsbot.archive.writer import write_cases
from newsbot.fixtures import tool as fixtures
from newsbot.fixtures.case import Case, find_cases
from newsbot.fixtures.tool import record_for, spider_for
from tools.debian import apt_install
from tools.local_postgres import LocalPostgres
from tools.local_redis import local_redis

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SCRAPY_ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
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
        apt_install("redis-server")
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


# Every crawl a test runs goes through the helpers below, which fail the test on a line logged at ERROR or
# CRITICAL, or a traceback, that the test did not announce: a clean crawl logs neither, and a test that
# provokes an error names it (``expect_errors``, regular expressions), each of which must then appear.
_PROBLEM = re.compile(r"^.*\] (?:ERROR|CRITICAL): .*$|^Traceback \(most recent call last\):$", re.MULTILINE)


def log_problems(log: str, expect_errors: Iterable[str] = ()) -> list[str]:
    """The ERROR/CRITICAL lines and tracebacks of ``log`` that no pattern of ``expect_errors`` accounts for,
    plus one entry for each expected pattern that matched nothing."""
    patterns = [re.compile(p) for p in expect_errors]
    lines = _PROBLEM.findall(log)
    problems = [line for line in lines if not any(p.search(line) for p in patterns)]
    problems += [f"(expected an error matching {p.pattern!r}, none was logged)"
                 for p in patterns if not any(p.search(line) for line in lines)]
    return problems


def assert_clean_log(log: str, expect_errors: Iterable[str] = ()) -> None:
    problems = log_problems(log, expect_errors)
    assert not problems, "unexpected errors in the crawl's log:\n" + "\n".join(problems) + "\n---\n" + log[-4000:]


def crawl(spider: str, args: dict[str, str], *, expect_errors: Iterable[str] = (),
          **kwargs: Any) -> tuple[int, list[dict[str, Any]], str]:
    """:func:`newsbot.fixtures.tool.crawl` (a real ``scrapy crawl`` subprocess), its log held to
    :func:`assert_clean_log`."""
    code, records, log = fixtures.crawl(spider, args, **kwargs)
    assert_clean_log(log, expect_errors)
    return code, records, log


def scrapy(*args: str, expect_errors: Iterable[str] = (), cwd: Path = ROOT, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Any ``scrapy`` command, as a user runs it, its output held to :func:`assert_clean_log`."""
    result = subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, capture_output=True, text=True,
                            env=env or SCRAPY_ENV, check=False, timeout=timeout)
    assert_clean_log(result.stdout + result.stderr, expect_errors)
    return result


def start_scrapy(*args: str, logfile: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A ``scrapy`` command left running (to be stopped or killed), logging to ``logfile``; check its log
    with :func:`assert_clean_log` once it is over."""
    return subprocess.Popen([sys.executable, "-m", "scrapy", *args, "--logfile", str(logfile)], cwd=ROOT,
                            env=env or SCRAPY_ENV, text=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """A real PostgreSQL cluster on 127.0.0.1 and a free port (Debian's package, installed if missing), run as
    the postgres user when the tests run as root; stopped by PID."""
    server = LocalPostgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_dsn(postgres_server: LocalPostgres, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of :func:`postgres_server` for one test."""
    name = re.sub(r"\W+", "_", request.node.name.lower())[:50]
    return postgres_server.create_database(name)
