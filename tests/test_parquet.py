"""The Parquet feed: one Arrow schema derived from the item (in step with the JSON Schema), files that pandas,
DuckDB and pyarrow read as they are and that concatenate across sites without a cast, row groups written as
records arrive, and a killed crawl that loses no record."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from newsbot.crawl.parquet import ArticleParquetExporter, journal_path, previous_path
from newsbot.schema import build_schema
from newsbot.schema.arrow import (
    ARROW_SCHEMA_PATH,
    OFFSET_SUFFIX,
    build_arrow_schema,
    describe,
    load_arrow_schema,
    to_record,
    to_row,
)
from tools.site_copies import build_site_copy

from .conftest import ALL_CASES, FIXTURES, ROOT, assert_clean_log, crawl, feed_urls, scrapy, start_scrapy

SITES = ("sindonews", "tribun")


# The schema ----------------------------------------------------------------------------------------------------
def test_shipped_arrow_schema_is_generated_from_the_item():
    assert json.loads(ARROW_SCHEMA_PATH.read_text(encoding="utf-8")) == describe(build_arrow_schema()), (
        "newsbot/schema/article.arrow.json is stale: run `python -m newsbot.schema`")
    assert load_arrow_schema().equals(build_arrow_schema(), check_metadata=True)


def _json_type_matches(prop: dict, field: pa.Field) -> None:
    """``field`` is the Arrow form of the JSON Schema property ``prop``: same nesting, names and nullability."""
    kinds = prop["type"] if "type" in prop else [prop["anyOf"][0]["type"], "null"]
    kinds = [kinds] if isinstance(kinds, str) else kinds
    assert field.nullable == ("null" in kinds), field.name
    inner = prop if "type" in prop else prop["anyOf"][0]
    if "object" in kinds:
        assert pa.types.is_struct(field.type), field.name
        _object_matches(inner, [field.type.field(i) for i in range(field.type.num_fields)])
    elif "array" in kinds:
        assert pa.types.is_list(field.type) and not field.type.value_field.nullable, field.name
        items = inner["items"]
        if items["type"] == "object":
            _object_matches(items, list(field.type.value_type))
        else:
            assert field.type.value_type == {"string": pa.string()}[items["type"]]
    else:
        want = {"string": pa.string(), "integer": pa.int64(), "boolean": pa.bool_()}[kinds[0]]
        if inner.get("format") == "date-time":
            want = pa.timestamp("us", tz="UTC")
        assert field.type == want, field.name


def _object_matches(schema: dict, arrow_fields: list[pa.Field]) -> None:
    by_name = {f.name: f for f in arrow_fields}
    moments = [name for name, prop in schema["properties"].items() if prop.get("format") == "date-time"]
    assert [f.name for f in arrow_fields if f.name.removesuffix(OFFSET_SUFFIX) not in moments
            or not f.name.endswith(OFFSET_SUFFIX)] == list(schema["properties"])
    for name, prop in schema["properties"].items():
        _json_type_matches(prop, by_name[name])
        assert by_name[name].metadata[b"description"].decode().startswith(prop["description"])
    for name in moments:  # each moment is followed by its offset, as text
        assert arrow_fields[list(by_name).index(name) + 1].name == name + OFFSET_SUFFIX
        assert by_name[name + OFFSET_SUFFIX].type == pa.string()


def test_arrow_schema_and_json_schema_describe_the_same_record():
    _object_matches(build_schema(), list(build_arrow_schema()))


@pytest.mark.parametrize("case", [c for c in ALL_CASES if (c.directory / "expected.json").exists()],
                         ids=lambda c: f"{c.site}/{c.directory.name}")
def test_a_record_becomes_a_row_and_comes_back_unchanged(case):
    record = json.loads((case.directory / "expected.json").read_text(encoding="utf-8"))
    record["metadata"] = {"dateDownloaded": "2026-11-21T10:00:00+00:00", **record["metadata"]}
    row = to_row(record)
    table = pa.Table.from_pylist([row], schema=load_arrow_schema())
    [back] = table.to_pylist()
    assert to_record(back) == record
    if record["datePublished"]:
        assert back["datePublished"].utcoffset().total_seconds() == 0
        assert record["datePublished"].endswith(back["datePublishedOffset"])


# Real crawls, two sites ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[dict]]]:
    """``output/<site>/demo.parquet`` for two sites, from ``scrapy crawl <site> -a replay=... -O x.parquet``,
    and each crawl's JSON Lines records."""
    root = tmp_path_factory.mktemp("parquet")
    records = {}
    for site in SITES:
        (root / site).mkdir()
        code, records[site], log = crawl(site, {"replay": str(FIXTURES / site)},
                                         extra=["-O", str(root / site / "demo.parquet")])
        assert code == 0 and records[site], log[-3000:]
        assert not journal_path(root / site / "demo.parquet").exists()
    return root, records


def test_parquet_holds_the_json_lines_records_with_the_shipped_schema(feeds):
    root, records = feeds
    for site in SITES:
        table = pq.read_table(root / site / "demo.parquet")
        assert table.schema.equals(load_arrow_schema(), check_metadata=True)
        assert [to_record(row) for row in table.to_pylist()] == records[site]


def test_two_sites_files_concatenate_without_a_cast(feeds):
    root, records = feeds
    tables = [pq.read_table(root / site / "demo.parquet") for site in SITES]
    both = pa.concat_tables(tables)  # no promote_options: the schemas must be identical
    assert both.num_rows == sum(len(r) for r in records.values())
    offsets = set(both.column("datePublishedOffset").to_pylist())
    assert {"+07:00", "+08:00"} <= offsets  # SINDOnews' WITA page next to WIB ones, on one UTC axis


def test_pandas_reads_the_files_as_they_are(feeds):
    root, records = feeds
    df = pd.concat([pd.read_parquet(root / site / "demo.parquet") for site in SITES], ignore_index=True)
    assert str(df["datePublished"].dtype) == "datetime64[us, UTC]"
    per_day = df.groupby(["site", df["datePublished"].dt.date]).size()
    assert per_day.sum() == sum(1 for r in records.values() for x in r if x["datePublished"])
    first = df.iloc[0]
    assert [a["name"] for a in first["authors"]] == [a["name"] for a in records[SITES[0]][0]["authors"]]
    assert first["metadata"]["extractor"] == records[SITES[0]][0]["metadata"]["extractor"]


def test_duckdb_queries_every_site_s_files_with_one_glob(feeds):
    root, records = feeds
    rows = duckdb.sql(f"""
        SELECT site, count(*) AS articles, count(DISTINCT fingerprint) AS stories,
               typeof(any_value(datePublished)) AS date_type, list_sum(list(len(authors))) AS authors
        FROM '{root}/*/*.parquet' GROUP BY site ORDER BY site""").fetchall()
    assert rows == [(site, len(records[site]), len({r["fingerprint"] for r in records[site]}),
                     "TIMESTAMP WITH TIME ZONE", sum(len(r["authors"]) for r in records[site])) for site in SITES]
    [(name,)] = duckdb.sql(f"SELECT mainImage.url FROM '{root}/tribun/*.parquet' "
                           "WHERE mainImage IS NOT NULL LIMIT 1").fetchall()
    assert name.startswith("http")


def test_pyarrow_dataset_reads_the_folder(feeds):
    root, records = feeds
    dataset = ds.dataset(root, format="parquet")
    assert dataset.schema.equals(load_arrow_schema())
    sindo = dataset.to_table(filter=ds.field("site") == "sindonews", columns=["url"])
    assert sorted(sindo.column("url").to_pylist()) == sorted(r["url"] for r in records["sindonews"])


# Writing as records arrive, and a killed crawl ---------------------------------------------------------------
def test_row_groups_are_written_as_records_arrive(tmp_path):
    out = tmp_path / "small-groups.parquet"
    feeds_setting = json.dumps({str(out): {"format": "parquet", "item_export_kwargs": {"row_group_size": 2}}})
    code, records, log = crawl("tribun", {"replay": str(FIXTURES / "tribun")}, extra=["-s", f"FEEDS={feeds_setting}"])
    assert code == 0, log[-3000:]
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == len(records) == 6
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2, 2, 2]


def test_appending_rewrites_the_finished_file_with_its_earlier_records_first(tmp_path, feeds):
    root, records = feeds
    out = tmp_path / "daily.parquet"
    out.write_bytes((root / "tribun" / "demo.parquet").read_bytes())
    jsonl = tmp_path / "sindonews.jsonl"
    result = scrapy("crawl", "sindonews", "-a", f"replay={FIXTURES / 'sindonews'}", "-o", str(out),
                    "-o", f"{jsonl}:jsonlines", "-s", f"NEWSBOT_SEEN_STORE={tmp_path / 'seen.sqlite'}",
                    "-s", "NEWSBOT_DROP_LOG=", "-s", "NEWSBOT_HEALTH_REPORT=")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "appending; its 6 earlier records are written first" in result.stderr
    again = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    table = pq.read_table(out)
    assert table.schema.equals(load_arrow_schema(), check_metadata=True)
    assert [to_record(row) for row in table.to_pylist()] == records["tribun"] + again
    assert not journal_path(out).exists() and not previous_path(out).exists()


@pytest.mark.parametrize("content", [b"not parquet\n", "other"], ids=["not-parquet", "other-columns"])
def test_appending_to_a_file_that_is_not_our_parquet_keeps_it_and_writes_the_records(tmp_path, content):
    out = tmp_path / "x.parquet"
    if content == "other":
        pq.write_table(pa.table({"a": [1, 2]}), out)
    else:
        out.write_bytes(content)
    before = out.read_bytes()
    result = scrapy("crawl", "tribun", "-a", f"replay={FIXTURES / 'tribun'}", "-o", str(out),
                    "-s", f"NEWSBOT_SEEN_STORE={tmp_path / 'seen.sqlite'}", "-s", "NEWSBOT_DROP_LOG=",
                    "-s", "NEWSBOT_HEALTH_REPORT=")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"it is kept as {out}.unreadable and a new file is written" in result.stderr
    assert (tmp_path / "x.parquet.unreadable").read_bytes() == before
    assert pq.read_table(out).num_rows == 6


def test_a_killed_crawl_leaves_a_journal_and_the_next_run_loses_nothing(tmp_path):
    tree = build_site_copy("sindonews", 40, tmp_path / "copy", FIXTURES)
    out, seen = tmp_path / "feed.parquet", tmp_path / "seen.sqlite"
    journal = journal_path(out)
    args = ["crawl", "sindonews", "-a", f"replay={tree}", "-a", "discover=true", "-O", str(out),
            "-s", f"NEWSBOT_SEEN_STORE={seen}", "-s", f"NEWSBOT_DROP_LOG={tmp_path / 'dropped.jsonl'}",
            "-s", f"NEWSBOT_HEALTH_REPORT={tmp_path / 'health.json'}"]
    proc = start_scrapy(*args, "-s", "NEWSBOT_REPLAY_LATENCY=0.3", "-s", "CONCURRENT_REQUESTS=2",
                        logfile=tmp_path / "killed.log")
    try:
        deadline = time.monotonic() + 120
        while (not journal.exists() or len(feed_urls(journal)) < 5) and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert_clean_log((tmp_path / "killed.log").read_text(encoding="utf-8"))
    journalled = feed_urls(journal)
    assert 5 <= len(journalled) < 40, "the crawl was not killed mid-way"
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(out)  # no footer: what a killed crawl leaves is unreadable, the journal is not
    with sqlite3.connect(seen) as db:
        marked = {url for (url,) in db.execute("SELECT url FROM seen")}
    assert marked <= set(journalled), "an article was marked seen that is in neither feed nor journal"

    result = scrapy(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"its {len(journalled)} records, kept in {journal}, are written first" in result.stderr
    urls = pq.read_table(out, columns=["url"]).column("url").to_pylist()
    case = json.loads((tree / "bench" / "case.json").read_text(encoding="utf-8"))
    articles = [url for url in case["responses"] if "/read/" in url]
    assert sorted(urls) == sorted(articles), (
        f"missing {set(articles) - set(urls)}, twice {[u for u in set(urls) if urls.count(u) > 1]}")
    assert not journal.exists()



# The snippets of docs/output.md (the README links to them) -------------------------------------------------
def output_doc_snippets() -> list[str]:
    page = (ROOT / "docs" / "output.md").read_text(encoding="utf-8")
    section = page.split("## Using the records\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_output_doc_has_pandas_duckdb_and_pyarrow_snippets():
    snippets = output_doc_snippets()
    assert [next(m for m in ("pandas", "duckdb", "pyarrow") if f"import {m}" in s) for s in snippets] == [
        "pandas", "duckdb", "pyarrow"]


@pytest.mark.parametrize("index", range(3), ids=["pandas", "duckdb", "pyarrow"])
def test_output_doc_snippets_run_on_demo_style_output(feeds, tmp_path, index):
    root, records = feeds
    for site in SITES:  # the demo's layout: output/<site>/demo.jsonl next to demo.parquet
        (tmp_path / "output" / site).mkdir(parents=True)
        (tmp_path / "output" / site / "demo.parquet").write_bytes((root / site / "demo.parquet").read_bytes())
        (tmp_path / "output" / site / "demo.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[site]), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", output_doc_snippets()[index]], cwd=tmp_path, capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    dated = sum(1 for rs in records.values() for r in rs if r["datePublished"])
    if index == 0:
        assert result.stdout.startswith("datetime64[us, UTC]\n")
        counts = re.findall(r"^\S*\s+\d{4}-\d{2}-\d{2}\s+(\d+)$", result.stdout, re.M)
        assert sum(map(int, counts)) == dated  # articles per site and day add up to the dated records
        assert re.search(r"^\s+2025-06-28\s+1$", result.stdout, re.M)  # the WITA page at 09:15 +08:00
    elif index == 1:
        assert "tribun" in result.stdout and "0 rows" in result.stdout  # no body shared by two sites
    else:
        assert "url_count" in result.stdout and "site_count_distinct" in result.stdout


def test_scrapy_warc_refuses_a_parquet_name_and_the_spider_reads_the_archive_into_parquet(fixture_warc, tmp_path):
    out = tmp_path / "news.parquet"
    result = scrapy("warc", str(fixture_warc), "-O", str(out))
    assert result.returncode == 2 and not out.exists()
    [line] = result.stderr.splitlines()
    assert "scrapy warc writes JSON Lines (-O out.jsonl); crawl with -a warc=... to get PARQUET" in line
    code, records, log = crawl("tribun", {"warc": str(fixture_warc)}, extra=["-O", str(out)])
    assert code == 0 and records, log[-3000:]
    assert [to_record(row) for row in pq.read_table(out).to_pylist()] == records


def test_a_crawl_that_writes_nothing_leaves_a_file_with_the_schema_and_no_rows(tmp_path):
    out = tmp_path / "empty.parquet"
    code, records, log = crawl("tribun", {"replay": str(FIXTURES / "tribun"), "since": "2030-01-01"},
                               extra=["-O", str(out)])
    assert code == 0 and records == [], log[-3000:]
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.equals(load_arrow_schema(), check_metadata=True)


def _fixture_records(count: int) -> list[dict]:
    cases = [c for c in ALL_CASES if (c.directory / "expected.json").exists()][:count]
    records = [json.loads((c.directory / "expected.json").read_text(encoding="utf-8")) for c in cases]
    for record in records:
        record["metadata"] = {"dateDownloaded": "2026-11-21T10:00:00+00:00", **record["metadata"]}
    return records


_STOPPED_APPEND = """
import json, os, sys
from newsbot.crawl.parquet import ArticleParquetExporter
path, records = sys.argv[1], json.loads(sys.argv[2])
file = open(path, "ab", buffering=0)
exporter = ArticleParquetExporter(file, row_group_size=1)
exporter.start_exporting()
for record in records:
    exporter.export_item(record)
os._exit(9)  # killed: no footer, nothing cleaned up
"""


def _export(path: Path, mode: str, records: list[dict]) -> None:
    """One whole feed run as the feed storage opens the file: ``wb`` for -O, ``ab`` for -o."""
    with path.open(mode, buffering=0) as file:
        exporter = ArticleParquetExporter(file)
        exporter.start_exporting()
        for record in records:
            exporter.export_item(record)
        exporter.finish_exporting()


def test_an_append_killed_mid_way_is_finished_by_the_next_run_with_every_record_once(tmp_path):
    first, stopped, last = _fixture_records(2), _fixture_records(4)[2:], _fixture_records(5)[4:]
    out = tmp_path / "daily.parquet"
    _export(out, "wb", first)
    killed = subprocess.run([sys.executable, "-c", _STOPPED_APPEND, str(out), json.dumps(stopped)], check=False)
    assert killed.returncode == 9
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(out)
    assert pq.read_table(previous_path(out)).num_rows == len(first)
    assert feed_urls(journal_path(out)) == [r["url"] for r in stopped]

    _export(out, "ab", last)
    assert [to_record(row) for row in pq.read_table(out).to_pylist()] == first + stopped + last
    assert not journal_path(out).exists() and not previous_path(out).exists()


def test_a_feed_naming_its_fields_gets_those_columns_each_date_with_its_offset(tmp_path):
    out = tmp_path / "few.parquet"
    feeds_setting = json.dumps({str(out): {"format": "parquet", "fields": ["url", "datePublished", "authors"]}})
    code, records, log = crawl("sindonews", {"replay": str(FIXTURES / "sindonews")},
                               extra=["-s", f"FEEDS={feeds_setting}"])
    assert code == 0, log[-3000:]
    table = pq.read_table(out)
    assert table.column_names == ["url", "authors", "datePublished", "datePublishedOffset"]  # the item's order
    assert [to_record(row)["datePublished"] for row in table.to_pylist()] == [r["datePublished"] for r in records]
