"""The PostgreSQL sink against a real server (tests/postgres.py): one row per article identity, drops in
``dropped``, upserts on re-crawl, a database that goes away mid-crawl, several workers, extreme records."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from psycopg.rows import dict_row

from newsbot.crawl import distributed
from newsbot.crawl.postgres import COLUMNS, SCHEMA_VERSION, Database
from newsbot.items import Article
from newsbot.sites import get_rules
from tools.local_postgres import LocalPostgres
from tools.site_copies import build_site_copy

from .conftest import FIXTURES, ROOT, SCRAPY_ENV, assert_clean_log, crawl, feed_urls, scrapy, start_scrapy


def rows(dsn: str, query: str = "SELECT * FROM articles ORDER BY key", *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as connection:
        return connection.execute(query, params).fetchall()


def stored_count(dsn: str) -> int:
    """Rows in articles; 0 until the first crawl has created the table."""
    try:
        return len(rows(dsn, "SELECT key FROM articles"))
    except psycopg.errors.UndefinedTable:
        return 0


def sink(dsn: str, work: Path) -> list[str]:
    """The -s settings of a crawl writing to ``dsn``, its journal under ``work``."""
    return ["-s", f"NEWSBOT_POSTGRES_DSN={dsn}", "-s", f"NEWSBOT_POSTGRES_JOURNAL={work / 'journal'}"]


def key_of(record: dict[str, Any]) -> str:
    return get_rules(record["site"]).article_key(record["url"])


def test_a_replay_crawl_writes_each_record_once_with_typed_columns_and_its_drops(postgres_dsn, tmp_path):
    # until= drops the 2026 articles as out-of-window: they must reach the dropped table.
    drop_log = tmp_path / "dropped.jsonl"
    code, records, _ = crawl("tribun", {"replay": str(FIXTURES / "tribun"), "until": "2025-12-31"},
                             drop_log=drop_log, extra=sink(postgres_dsn, tmp_path))
    assert code == 0
    stored = {row["key"]: row for row in rows(postgres_dsn)}
    assert records and sorted(stored) == sorted(key_of(r) for r in records)
    for record in records:
        row = stored[key_of(record)]
        for column in COLUMNS:
            value = row[column.name]
            if column.dated:
                expected = record[column.field]
                assert value == (datetime.fromisoformat(expected) if expected else None), column.name
                assert row[f"{column.name}_offset"] == (expected[-6:] if expected else None)
            else:
                assert value == record[column.field], column.name
    drops = rows(postgres_dsn, "SELECT url, reason, site FROM dropped ORDER BY url")
    assert drops and {d["reason"] for d in drops} == {"out-of-window"} and {d["site"] for d in drops} == {"tribun"}
    logged = [json.loads(line) for line in drop_log.read_text(encoding="utf-8").splitlines()]
    assert [(d["url"], d["reason"]) for d in drops] == sorted((d["url"], d["reason"]) for d in logged)
    assert rows(postgres_dsn, "SELECT version FROM newsbot_schema_version") == [{"version": SCHEMA_VERSION}]
    indexed = {r["indexdef"].rpartition("(")[2].rstrip(")") for r in
               rows(postgres_dsn, "SELECT indexdef FROM pg_indexes WHERE tablename = 'articles'")}
    assert {"key", "site", "date_published", "fingerprint"} <= indexed
    # Everything was committed: nothing is left pending.
    assert not list((tmp_path / "journal").glob("*.jsonl"))


def test_the_table_has_a_column_for_every_field_of_the_item(postgres_dsn):
    database = Database(postgres_dsn)
    database.connect()
    database.prepare()
    database.prepare()  # a second crawl opening the same database changes nothing
    database.close()
    columns = [r["column_name"] for r in rows(
        postgres_dsn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles' "
                      "ORDER BY ordinal_position")]
    fields = list(Article.__dataclass_fields__)
    assert [c.field for c in COLUMNS] == fields
    assert [c for c in columns if c.removesuffix("_offset") in {col.name for col in COLUMNS}] == \
        [name for col in COLUMNS for name in ([col.name, f"{col.name}_offset"] if col.dated else [col.name])]


def test_a_recrawl_of_a_changed_article_updates_its_row_and_date_modified(postgres_dsn, tmp_path):
    case = tmp_path / "tribun" / "id-url-2026"
    shutil.copytree(FIXTURES / "tribun" / "id-url-2026", case)
    store = tmp_path / "seen.sqlite"
    code, first, _ = crawl("tribun", {"replay": str(tmp_path / "tribun")}, seen_store=store,
                           extra=sink(postgres_dsn, tmp_path))
    assert code == 0 and len(first) == 1
    before = rows(postgres_dsn)
    assert len(before) == 1 and before[0]["date_modified"] == datetime.fromisoformat("2026-02-10T15:47:21+07:00")

    # The site updates the story: a new modification time and a changed paragraph.
    page = case / "page1.html"
    html = page.read_text(encoding="utf-8")
    sentence = first[0]["articleBody"].split("\n")[1].split(". ")[0]
    assert html.count("2026-02-10T15:47:21+07:00") == 1 and sentence in html
    page.write_text(html.replace("2026-02-10T15:47:21+07:00", "2026-02-11T08:30:00+07:00")
                    .replace(sentence, sentence + " (diperbarui)"), encoding="utf-8")
    code, second, _ = crawl("tribun", {"replay": str(tmp_path / "tribun"), "refresh": "true"}, seen_store=store,
                            extra=sink(postgres_dsn, tmp_path))
    assert code == 0 and len(second) == 1
    after = rows(postgres_dsn)
    assert len(after) == 1 and after[0]["key"] == before[0]["key"]
    assert after[0]["date_modified"] == datetime.fromisoformat("2026-02-11T08:30:00+07:00")
    assert "(diperbarui)" in after[0]["article_body"] and after[0]["article_body"] == second[0]["articleBody"]
    assert after[0]["fingerprint"] == second[0]["fingerprint"] != before[0]["fingerprint"]
    assert after[0]["first_seen"] == before[0]["first_seen"] < after[0]["updated_at"]



def test_a_database_that_cannot_be_reached_stops_the_crawl_before_it_starts(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    out = tmp_path / "out.jsonl"
    result = scrapy("crawl", "tribun", "-a", f"replay={FIXTURES / 'tribun'}", "-O", str(out),
                    "-s", f"NEWSBOT_SEEN_STORE={tmp_path / 'seen.sqlite'}", "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'd'}",
                    "-s", f"NEWSBOT_POSTGRES_DSN=postgresql://newsbot:secret@127.0.0.1:{port}/news",
                    "-s", f"NEWSBOT_POSTGRES_JOURNAL={tmp_path / 'journal'}")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"scrapy crawl: failed: tribun: cannot use PostgreSQL at 127.0.0.1:{port}/news: "), last
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
    assert "Spider opened" not in result.stderr and not feed_urls(out)

    # A DSN that is not one at all is a usage error, before anything is set up.
    result = scrapy("crawl", "tribun", "-a", f"replay={FIXTURES / 'tribun'}", "-s", "NEWSBOT_POSTGRES_DSN=host=a port")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip().splitlines()[-1]] and "NEWSBOT_POSTGRES_DSN" in result.stderr, result.stderr


SITE, ARTICLES = "sindonews", 30


def site_copy(tmp_path: Path) -> tuple[Path, list[str]]:
    tree = build_site_copy(SITE, ARTICLES, tmp_path / "copy", FIXTURES)
    case = json.loads((tree / "bench" / "case.json").read_text(encoding="utf-8"))
    return tree, [url for url in case["responses"] if "/read/" in url]


@pytest.fixture
def own_server() -> Iterator[LocalPostgres]:
    """A cluster of the test's own, since the test kills it."""
    server = LocalPostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def crawl_and_kill_the_database(server: LocalPostgres, dsn: str, tmp_path: Path, *settings: str,
                                restart_after: float | None = None) -> tuple[list[str], int, str, str]:
    """Start a crawl of 30 articles, kill the database once it holds 8 of them (and start it again after
    ``restart_after`` seconds); the crawl's arguments, exit code, log and stderr."""
    tree, _ = site_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["crawl", SITE, "-a", f"replay={tree}", "-a", "discover=true", "-o", f"{out}:jsonlines",
            "-s", f"NEWSBOT_SEEN_STORE={tmp_path / 'seen.sqlite'}", "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'd.jsonl'}",
            "-s", "NEWSBOT_POSTGRES_BATCH=4", "-s", "NEWSBOT_POSTGRES_FLUSH_SECONDS=0.2",
            "-s", "NEWSBOT_POSTGRES_CONNECT_TIMEOUT=2", *settings, *sink(dsn, tmp_path)]
    log, errors = tmp_path / "first.log", tmp_path / "first.stderr"
    with errors.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "scrapy", *args, "-s", "NEWSBOT_REPLAY_LATENCY=0.1",
                                 "-s", "CONCURRENT_REQUESTS=2", "--logfile", str(log)],
                                cwd=ROOT, env=SCRAPY_ENV, stderr=stderr, text=True)
        try:
            deadline = time.monotonic() + 120
            while stored_count(dsn) < 8 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            server.kill()  # an immediate shutdown: open connections are cut
            if restart_after is not None:
                time.sleep(restart_after)
                server.start()
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    return args, code, log.read_text(encoding="utf-8"), errors.read_text(encoding="utf-8")


def test_a_database_that_stays_away_stops_the_crawl_and_the_next_run_writes_what_it_missed(own_server, tmp_path):
    dsn = own_server.create_database("news")
    args, code, log, stderr = crawl_and_kill_the_database(
        own_server, dsn, tmp_path, "-s", "NEWSBOT_POSTGRES_RETRY_TIMES=2", "-s", "NEWSBOT_POSTGRES_BACKOFF=0.2")
    assert code == 1, log[-3000:]
    assert_clean_log(log, expect_errors=[r"postgres: sindonews: PostgreSQL at .* went away"])
    assert stderr.strip().splitlines() == [
        f"scrapy crawl: failed: sindonews: PostgreSQL at 127.0.0.1:{own_server.port}/news went away "
        f"({stderr.split('went away (', 1)[1].split(') and', 1)[0]}) and did not come back after 2 retries; "
        f"the crawl stopped, and the records it could not write wait in {tmp_path / 'journal'} for the next run"
    ], stderr
    written = feed_urls(tmp_path / "out.jsonl")
    assert 8 <= len(written) < ARTICLES, log[-3000:]
    assert list((tmp_path / "journal").glob("pending-*.jsonl")), "the unwritten records must wait in a journal"

    own_server.start()
    assert stored_count(dsn) < len(written), "the test must kill the database before it had every record"
    result = scrapy(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "an earlier run left pending" in result.stderr
    articles = feed_urls(tmp_path / "out.jsonl")
    assert len(articles) == len(set(articles)) == ARTICLES, "every article is in the feed, once"
    rules = get_rules(SITE)
    assert sorted(r["key"] for r in rows(dsn)) == sorted(rules.article_key(u) for u in articles)
    assert not list((tmp_path / "journal").glob("pending-*.jsonl"))


def test_a_database_restarted_within_the_retries_misses_nothing(own_server, tmp_path):
    dsn = own_server.create_database("news")
    _, code, log, stderr = crawl_and_kill_the_database(
        own_server, dsn, tmp_path, "-s", "NEWSBOT_POSTGRES_RETRY_TIMES=8", "-s", "NEWSBOT_POSTGRES_BACKOFF=0.2",
        restart_after=1.0)
    assert code == 0, log[-3000:] + stderr
    assert_clean_log(log)
    assert "unreachable" in log and "retrying in" in log
    articles = feed_urls(tmp_path / "out.jsonl")
    assert len(articles) == ARTICLES
    assert sorted(r["url"] for r in rows(dsn)) == sorted(articles)
    assert not list((tmp_path / "journal").glob("pending-*.jsonl"))


def test_two_workers_write_to_one_database_without_a_duplicate_row(redis_server, postgres_dsn, tmp_path):
    distributed.reset(redis.Redis.from_url(redis_server), SITE)
    tree, articles = site_copy(tmp_path)
    seed = scrapy("seed", SITE, "-s", f"REDIS_URL={redis_server}")
    assert seed.returncode == 0, seed.stderr
    outs = [tmp_path / "w1.jsonl", tmp_path / "w2.jsonl"]
    def worker(out: Path) -> subprocess.Popen[str]:
        return start_scrapy(
            "crawl", SITE, "-a", f"replay={tree}", "-a", "discover=true", "-s", f"REDIS_URL={redis_server}",
            "-o", f"{out}:jsonlines", "-s", f"NEWSBOT_DROP_LOG={out}.dropped", "-s", "NEWSBOT_IDLE_EXIT=2",
            "-s", "NEWSBOT_HEARTBEAT_SECONDS=1.5", "-s", "NEWSBOT_REPLAY_LATENCY=0.3", "-s", "CONCURRENT_REQUESTS=2",
            "-s", "NEWSBOT_POSTGRES_BATCH=5", *sink(postgres_dsn, tmp_path / out.stem), logfile=Path(f"{out}.log"))

    procs = [worker(out) for out in outs]
    for proc, out in zip(procs, outs, strict=True):
        code = proc.wait(timeout=240)
        log = Path(f"{out}.log").read_text(encoding="utf-8")
        assert code == 0, log[-3000:]
        assert_clean_log(log)
    written = [feed_urls(out) for out in outs]
    assert all(written) and sorted(written[0] + written[1]) == sorted(articles)
    stored = rows(postgres_dsn, "SELECT key, url FROM articles")
    rules = get_rules(SITE)
    assert sorted(r["key"] for r in stored) == sorted(rules.article_key(u) for u in articles)
    assert sorted(r["url"] for r in stored) == sorted(articles)


def test_a_record_with_every_field_at_its_extreme_round_trips(postgres_dsn):
    people = [{"name": f"Penulis Ke-{n} ☕", "nameRaw": f"Penulis Ke-{n} ☕ (Kontributor)"} for n in range(500)]
    body = "\n".join(f"Paragraf {n}: " + "kata " * 200 for n in range(1000))  # about 1 MB
    record = {
        "url": "https://www.tribunnews.com/nasional/9999999/ekstrem", "canonicalUrl": None, "site": "tribun",
        "publisher": None, "headline": "Judul \x00 dengan NUL dan 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "description": None,
        "articleBody": body, "authors": people, "editors": people[:3], "datePublished": None, "dateModified": None,
        "datePublishedRaw": None, "articleSection": None, "breadcrumbs": [], "keywords": [], "dateline": None,
        "mainImage": None, "inLanguage": None, "isAccessibleForFree": False, "pageCount": 2**31 - 1, "wordCount": 0,
        "fingerprint": "f" * 64, "metadata": {"dateDownloaded": "2026-12-01T00:00:00+00:00", "extractor": "x/1"},
    }
    assert set(record) == set(Article.__dataclass_fields__)
    database = Database(postgres_dsn)
    database.connect()
    database.prepare()
    key = get_rules("tribun").article_key(record["url"])
    database.write([{"kind": "article", "key": key, "record": record}])
    (first,) = rows(postgres_dsn)
    # The same article crawled again, unchanged: still one row, crawled again, not updated.
    later = {**record, "metadata": {**record["metadata"], "dateDownloaded": "2026-12-02T00:00:00+00:00"}}
    database.write([{"kind": "article", "key": key, "record": later}])
    # A record older than the row (a journal written long after) does not overwrite it.
    database.write([{"kind": "article", "key": key, "record": {**record, "headline": "lama"}}])
    database.close()
    (row,) = rows(postgres_dsn)
    assert row["updated_at"] == first["updated_at"] and row["last_crawled"] > first["last_crawled"]
    assert row["metadata"]["dateDownloaded"] == "2026-12-02T00:00:00+00:00"
    assert row["key"] == "tribun:9999999" and row["article_body"] == body and len(body) > 1_000_000
    assert row["authors"] == people and row["editors"] == people[:3]
    assert row["date_published"] is None and row["date_modified"] is None and row["date_published_offset"] is None
    assert row["main_image"] is None and row["breadcrumbs"] == [] and row["page_count"] == 2**31 - 1
    # PostgreSQL text cannot hold NUL: it becomes U+FFFD; everything else is kept as it was.
    assert row["headline"] == "Judul \ufffd dengan NUL dan 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"

