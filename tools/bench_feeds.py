"""What each feed format costs per record, next to the extraction it follows (part of ``make bench``).

Two measurements, same records:

- **Crawl**: the same offline replay crawl (a site copy of N distinct articles) with no feed, with the JSON
  Lines feed and with the Parquet feed, the variants taking turns for ``rounds`` rounds; the fastest of each
  (noise on a shared machine only slows a run down), as the crawl process's CPU time and as wall time. A
  format's cost is its crawl's CPU time minus the crawl's without a feed, per record; the ratio Parquet /
  JSON Lines is what a user sees (target: under 1.10). CPU time is the figure to quote on a shared machine:
  other processes stretch the wall time of whichever variant they overlap, by up to 2x here.
- **Exporter alone**: the crawl's records written through each exporter in this process, per record, where
  the crawl's noise cannot hide a few microseconds, plus Parquet's one-time start-up in a fresh process
  (importing pyarrow, and pandas when installed, which pyarrow loads on its first conversion). Their sum over
  the crawl's CPU time without a feed is the estimate of what a format adds, free of the crawls' noise.

Another sink (the PostgreSQL pipeline, say) is one more crawl variant: ``crawl_variant(tree, site, name,
settings=["NEWSBOT_POSTGRES_DSN=..."])`` runs the same crawl with those ``-s`` settings, and
``feed_costs(..., extra={"postgresql": [...]})`` puts it in the table.

    python -m tools.bench_feeds [--pages 2000] [--rounds 3] [--site sindonews]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from scrapy.exporters import JsonLinesItemExporter

from newsbot.crawl.parquet import ArticleParquetExporter
from newsbot.fixtures.tool import crawl_command, crawl_env
from tools.memory_probe import BENCH_SETTINGS

# A format may add at most this share to a replay crawl's time.
COST_TARGET = 0.10


def crawl_variant(tree: Path, site: str, name: str, *, feed: Iterable[str] = (), settings: Iterable[str] = (),
                  workdir: Path) -> dict[str, Any]:
    """One replay crawl of ``tree`` with the feed options ``feed`` (``-O`` ...) and the ``-s`` ``settings``:
    its wall time and the CPU time of the crawl process (what other processes on a shared machine change
    least: they take the CPU away, they do not add to this one's)."""
    run_dir = workdir / name
    run_dir.mkdir(parents=True, exist_ok=True)
    for old in run_dir.iterdir():
        old.unlink()
    options = {"NEWSBOT_SEEN_STORE": "", "NEWSBOT_DROP_LOG": "", "NEWSBOT_HEALTH_REPORT": "",
               "NEWSBOT_MEMORY_PROBE": run_dir / "probe.json"}
    if not any(arg in ("-o", "-O") for arg in feed) and not any(s.startswith("FEEDS=") for s in settings):
        options["NEWSBOT_FEED"] = ""  # no feed at all: the baseline
    extra = [*feed]
    for setting in settings:
        extra += ["-s", setting]
    cmd = crawl_command(site, {"replay": tree, "discover": "true"}, options, log_level="WARNING", extra=extra)
    env = crawl_env(BENCH_SETTINGS)
    # The crawl runs in its own folder: the bench settings module (tools/) is found through the project root.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                      env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    probe = run_dir / "probe.json"
    pages = json.loads(probe.read_text(encoding="utf-8")).get("pages", 0) if probe.exists() else 0
    return {"name": name, "exit": proc.returncode, "seconds": wall, "cpu_seconds": cpu, "pages": pages,
            "log_tail": proc.stderr[-1500:] if proc.returncode else ""}


def exporter_seconds_per_record(records: list[dict[str, Any]], make: Callable[[io.BufferedIOBase], Any],
                                repeats: int = 3) -> float:
    """Seconds per record of writing ``records`` through the exporter ``make(file)`` (fastest of ``repeats``),
    into a real file, as the feed storage opens it (unbuffered)."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(repeats):
            path = Path(tmp) / f"feed-{n}"
            with path.open("wb", buffering=0) as file:
                exporter = make(file)
                start = time.perf_counter()
                exporter.start_exporting()
                for record in records:
                    exporter.export_item(record)
                exporter.finish_exporting()
                best = min(best, time.perf_counter() - start)
    return best / max(len(records), 1)


_STARTUP = """
import json, os, sys, time
import scrapy.exporters
import newsbot.items
start = time.perf_counter()
from newsbot.crawl.parquet import ArticleParquetExporter
with open(os.devnull, "wb") as file:
    exporter = ArticleParquetExporter(file)
    exporter.start_exporting()
    exporter.export_item(json.loads(sys.argv[1]))
    exporter.finish_exporting()
print(time.perf_counter() - start)
"""


def parquet_startup_seconds(record: dict[str, Any], repeats: int = 3) -> float:
    """What a crawl pays once for writing Parquet: importing pyarrow (and pandas, which pyarrow loads on its
    first conversion when it is installed) and the first row group; fastest of ``repeats`` fresh processes."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
    runs = [float(subprocess.run([sys.executable, "-c", _STARTUP, json.dumps(record)], env=env, check=True,
                                 capture_output=True, text=True).stdout) for _ in range(repeats)]
    return min(runs)


def feed_costs(tree: Path, site: str, records_expected: int, rounds: int = 3,
               extra: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Crawl-level and exporter-level cost of each format on the site copy ``tree`` (see the module doc).
    ``extra`` adds variants: a name and the ``-s`` settings that switch the sink on."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        variants: dict[str, dict[str, list[str]]] = {
            "none": {},
            "jsonl": {"feed": ["-O", f"{work / 'jsonl' / 'out.jsonl'}:jsonlines"]},
            "parquet": {"feed": ["-O", str(work / "parquet" / "out.parquet")]},
            **{name: {"settings": settings} for name, settings in (extra or {}).items()},
        }
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, options in variants.items():
                runs[name].append(crawl_variant(tree, site, name, workdir=work, **options))
        jsonl_feed = work / "jsonl" / "out.jsonl"
        records = [json.loads(line) for line in jsonl_feed.open(encoding="utf-8")] if jsonl_feed.exists() else []
    failed = [run for name_runs in runs.values() for run in name_runs if run["exit"]]
    wall = {name: min(run["seconds"] for run in name_runs) for name, name_runs in runs.items()}
    cpu = {name: min(run["cpu_seconds"] for run in name_runs) for name, name_runs in runs.items()}
    written = len(records)
    exporters = {
        "jsonl": exporter_seconds_per_record(records, lambda f: JsonLinesItemExporter(f, ensure_ascii=False)),
        "parquet": exporter_seconds_per_record(records, ArticleParquetExporter),
    } if records else {}
    formats = [name for name in variants if name != "none"]
    startup = {"jsonl": 0.0, "parquet": parquet_startup_seconds(records[0])} if records else {}
    # The noise-free estimate: what each exporter costs for these records, once warm, plus its one-time
    # start-up, against the CPU time of the crawl without a feed.
    estimate = {n: (exporters[n] * written + startup[n]) / cpu["none"] for n in exporters}
    return {
        "site": site, "records": written, "records_expected": records_expected, "rounds": rounds,
        "wall_seconds": wall, "cpu_seconds": cpu,
        "wall_seconds_runs": {n: [round(r["seconds"], 2) for r in rs] for n, rs in runs.items()},
        "cpu_seconds_runs": {n: [round(r["cpu_seconds"], 2) for r in rs] for n, rs in runs.items()},
        "crawl_cpu_ms_per_record_without_feed": 1000 * cpu["none"] / written if written else None,
        "feed_cpu_ms_per_record": {n: 1000 * (cpu[n] - cpu["none"]) / written if written else None for n in formats},
        "exporter_ms_per_record": {n: 1000 * v for n, v in exporters.items()},
        "startup_seconds": startup,
        "estimated_added_to_crawl": estimate,
        "added_to_crawl_cpu": {n: cpu[n] / cpu["none"] - 1 for n in formats},
        "added_to_crawl_wall": {n: wall[n] / wall["none"] - 1 for n in formats},
        "ratio_to_jsonl_cpu": {n: cpu[n] / cpu["jsonl"] for n in formats if n != "jsonl"},
        "ratio_to_jsonl_wall": {n: wall[n] / wall["jsonl"] for n in formats if n != "jsonl"},
        "target": COST_TARGET,
        "failed": [f"{run['name']}: exit {run['exit']}: {run['log_tail']}" for run in failed]
                  or ([] if written == records_expected else [f"{written} of {records_expected} records"]),
    }


def print_feed_costs(result: dict[str, Any]) -> None:
    per_record = result["crawl_cpu_ms_per_record_without_feed"] or 0.0
    print(f"\nFeed formats ({result['records']} {result['site']} records, the same replay crawl with each feed; "
          f"fastest of {result['rounds']} rounds; without a feed the crawl takes {per_record:.2f} CPU ms/record, "
          "extraction included)")
    for name, cpu in result["cpu_seconds"].items():
        runs = ", ".join(f"{s:.1f}" for s in result["cpu_seconds_runs"][name])
        line = f"  {name:<10} CPU {cpu:6.1f} s [{runs}], wall {result['wall_seconds'][name]:6.1f} s"
        if name != "none":
            line += (f"; {result['feed_cpu_ms_per_record'][name]:+.3f} ms/record, "
                     f"{100 * result['added_to_crawl_cpu'][name]:+.1f}% vs no feed")
        if name in result["exporter_ms_per_record"]:
            line += f"; exporter alone {result['exporter_ms_per_record'][name]:.3f} ms/record"
        print(line)
    for name, share in result["estimated_added_to_crawl"].items():
        print(f"  {name}: the exporter alone ({result['exporter_ms_per_record'][name]:.3f} ms/record) plus its "
              f"start-up ({result['startup_seconds'][name]:.2f} s) add {100 * share:.1f}% to the crawl "
              f"(target < {100 * result['target']:.0f}%)")
    for name, ratio in result["ratio_to_jsonl_cpu"].items():
        print(f"  {name} / JSON Lines crawl: {ratio:.3f} CPU, {result['ratio_to_jsonl_wall'][name]:.3f} wall "
              f"(target < {1 + result['target']:.2f})")
    for failure in result["failed"]:
        print(f"  FAILED {failure}")


def main(argv: list[str] | None = None) -> int:
    from tools.site_copies import build_site_copy, parse_arguments

    parser = argparse.ArgumentParser(prog="python -m tools.bench_feeds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--site", default="sindonews")
    args = parse_arguments(parser, argv, "the site copy")
    with tempfile.TemporaryDirectory() as tmp:
        tree = build_site_copy(args.site, args.pages, Path(tmp), args.fixtures)
        result = feed_costs(tree, args.site, args.pages, rounds=args.rounds)
    print_feed_costs(result)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
