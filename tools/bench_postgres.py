"""``make bench``, the PostgreSQL part: what the sink adds to a replay crawl, per record and in all.

The same site copy (:func:`tools.bench.build_site_copy`: N distinct article pages) is crawled with and
without ``NEWSBOT_POSTGRES_DSN``, the two taking turns ``rounds`` times in one run, so that the machine's
drift hits both alike; the fastest round of each is compared (noise only ever slows a run down). The time
is the crawl's own, from the spider opening to its closing (``NEWSBOT_MEMORY_PROBE``): it includes the last
batch's commit, not the process start-up or the one-time connection and table check, given apart. The
database is a throw-away local cluster (:mod:`tools.local_postgres`) with fsync off, as a test server is;
a production server's commit costs more, but once per batch, not per record. On a machine other work
shares, wall-clock times swing by more than the sink costs, so CPU time is measured too: the crawl
process's own from the spider opening to its closing (all its threads) and the server's (the
postmaster's and its finished backends', from ``/proc``), the least of the rounds each. Target: the sink
adds under 10% to the crawl.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from newsbot.fixtures.tool import crawl_command, crawl_env
from tools.memory_probe import BENCH_SETTINGS
from tools.site_copies import build_site_copy, parse_arguments

TARGET_RATIO = 0.10


def _crawl(site: str, tree: Path, work: Path, name: str, dsn: str | None) -> dict[str, Any]:
    probe, out = work / f"{name}.probe.json", work / f"{name}.jsonl"
    settings: dict[str, object] = {
        "NEWSBOT_SEEN_STORE": work / f"{name}.seen.sqlite", "NEWSBOT_MEMORY_PROBE": probe,
        "NEWSBOT_DROP_LOG": work / f"{name}.dropped.jsonl", "NEWSBOT_HEALTH_REPORT": work / f"{name}.health.json"}
    if dsn:
        settings |= {"NEWSBOT_POSTGRES_DSN": dsn, "NEWSBOT_POSTGRES_JOURNAL": work / f"{name}.journal"}
    cmd = crawl_command(site, {"replay": tree, "discover": "true"}, settings, feed=out, log_level="WARNING")
    env = crawl_env(BENCH_SETTINGS)
    log = work / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as output:
        proc = subprocess.Popen(cmd, env=env, stdout=output, stderr=subprocess.STDOUT)
        # wait4: the process's CPU time, if the probe has none.
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    records = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    measured = json.loads(probe.read_text(encoding="utf-8")) if probe.exists() else {}
    return {"exit": code, "records": records, "seconds": measured.get("seconds") or wall, "wall_seconds": wall,
            # The crawl's own CPU time (spider opened to closed), else the whole process's.
            "cpu_seconds": measured.get("cpu_seconds") or usage.ru_utime + usage.ru_stime,
            "log_tail": log.read_text(encoding="utf-8")[-1500:] if code else ""}


def _server_cpu(pid: int | None) -> float:
    """CPU seconds of the postmaster and of the backends it has reaped (a backend ends with its connection)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime, stime, cutime, cstime are fields 14-17 of stat(5); the split starts at field 3.
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def sink_alone(records: list[dict[str, Any]], dsn: str, journal: Path, batch: int = 200) -> dict[str, float]:
    """The sink's own work on ``records`` in this process, without a crawl around it: the journal line and
    content hash, the journal write, the COPY and upsert per batch. CPU milliseconds per record, this
    process's and the server's (the least of three passes: noise only adds)."""
    from newsbot.crawl.postgres import Database, Journal, article_entry
    from newsbot.sites import get_rules

    client, server = [], []
    for _ in range(3):
        database = Database(dsn)
        database.connect()
        database.prepare()
        database.connection.execute("TRUNCATE articles")
        database.connection.commit()
        log = Journal(journal)
        postmaster = _postmaster(dsn)
        before_server = _server_cpu(postmaster)
        start = time.process_time()
        entries = []
        for record in records:
            entry, line = article_entry(get_rules(record["site"]).article_key(record["url"]), record)
            log.append(entry, line)
            entries.append(entry)
            if len(entries) == batch:
                database.write(entries)
                entries = []
        if entries:
            database.write(entries)
        client.append(time.process_time() - start)
        database.close()
        log.close(keep=False)
        # A backend's CPU time reaches the postmaster's account when it has ended and been reaped.
        time.sleep(0.5)
        server.append(_server_cpu(postmaster) - before_server)
    return {"client_ms_per_record": 1000 * min(client) / len(records),
            "server_ms_per_record": 1000 * min(server) / len(records)}


def _postmaster(dsn: str) -> int | None:
    import psycopg

    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'").fetchone()
    pid_file = Path(row[0]) / "postmaster.pid" if row else None
    return int(pid_file.read_text().split("\n", 1)[0]) if pid_file and pid_file.exists() else None


def postgres_cost(pages: int = 1000, rounds: int = 3, site: str = "sindonews",
                  fixtures: Path = Path("fixtures")) -> dict[str, Any]:
    """Crawl times with and without the sink (fastest of ``rounds`` each), the cost per record and the ratio."""
    import psycopg

    from tools.local_postgres import LocalPostgres

    server = LocalPostgres()
    try:
        server.start()
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            tree = build_site_copy(site, pages, work / "copy", fixtures)
            runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
            for n in range(rounds):
                dsn = server.create_database(f"bench{n}")  # a fresh table each round: inserts, not updates
                runs["without"].append(_crawl(site, tree, work, f"without{n}", None))
                before = _server_cpu(server.postmaster_pid())
                runs["with"].append(_crawl(site, tree, work, f"with{n}", dsn))
                runs["with"][-1]["server_cpu_seconds"] = _server_cpu(server.postmaster_pid()) - before
                with psycopg.connect(dsn) as connection:
                    runs["with"][-1]["rows"] = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
            feed = work / "with0.jsonl"
            records = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
            alone = sink_alone(records, server.create_database("alone"), work / "alone.journal") if records else {}
    finally:
        server.remove()
    best = {kind: min(found, key=lambda run: run["seconds"]) for kind, found in runs.items()}
    records = best["with"]["records"]
    added = best["with"]["seconds"] - best["without"]["seconds"]
    # CPU: the least each way, since other load only ever adds to it; the server's share counted in.
    cpu_without = min(run["cpu_seconds"] for run in runs["without"])
    cpu_with = min(run["cpu_seconds"] for run in runs["with"])
    server_cpu = min(run["server_cpu_seconds"] for run in runs["with"])
    return {
        "site": site, "pages": pages, "rounds": rounds, "records": records,
        "without_seconds": best["without"]["seconds"], "with_seconds": best["with"]["seconds"],
        "without_runs": [round(run["seconds"], 2) for run in runs["without"]],
        "with_runs": [round(run["seconds"], 2) for run in runs["with"]],
        "extraction_ms_per_record": 1000 * best["without"]["seconds"] / records if records else None,
        "added_ms_per_record": 1000 * added / records if records else None,
        "ratio": added / best["without"]["seconds"] if best["without"]["seconds"] else None,
        "cpu_without_seconds": cpu_without, "cpu_with_seconds": cpu_with, "server_cpu_seconds": server_cpu,
        "cpu_without_runs": [round(run["cpu_seconds"], 2) for run in runs["without"]],
        "cpu_with_runs": [round(run["cpu_seconds"], 2) for run in runs["with"]],
        "cpu_added_ms_per_record": 1000 * (cpu_with + server_cpu - cpu_without) / records if records else None,
        "cpu_ratio": (cpu_with + server_cpu - cpu_without) / cpu_without if cpu_without else None,
        # Start-up: the process's wall time less the crawl's, with the sink (connection, table check) and without.
        "startup_added_seconds": (best["with"]["wall_seconds"] - best["with"]["seconds"])
        - (best["without"]["wall_seconds"] - best["without"]["seconds"]),
        "rows": [run.get("rows") for run in runs["with"]],
        "sink_alone": alone,
        "exits": [run["exit"] for kind in runs for run in runs[kind]],
        "log_tail": next((run["log_tail"] for kind in runs for run in runs[kind] if run["exit"]), ""),
    }


def print_postgres_cost(result: dict[str, Any]) -> None:
    print(f"PostgreSQL sink: {result['site']} replay crawl of {result['pages']} pages, {result['records']} records, "
          f"fastest of {result['rounds']} rounds each")
    print(f"  without the sink: {result['without_seconds']:.2f} s ({result['extraction_ms_per_record']:.2f} ms per "
          f"record: fetch from replay, extraction, validation, feed)  runs {result['without_runs']}")
    print(f"  with the sink:    {result['with_seconds']:.2f} s  runs {result['with_runs']}")
    print(f"  wall clock: {result['added_ms_per_record']:.3f} ms per record added, {100 * result['ratio']:.1f}% "
          f"of the crawl; start-up {result['startup_added_seconds']:+.2f} s")
    verdict = "within" if result["cpu_ratio"] is not None and result["cpu_ratio"] < TARGET_RATIO else "OVER"
    print(f"  CPU (least of the rounds): crawl {result['cpu_without_seconds']:.2f} s without, "
          f"{result['cpu_with_seconds']:.2f} s with, + server {result['server_cpu_seconds']:.2f} s: "
          f"{result['cpu_added_ms_per_record']:.3f} ms per record added, {100 * result['cpu_ratio']:.1f}% "
          f"({verdict} the {100 * TARGET_RATIO:.0f}% target)  runs {result['cpu_without_runs']} / "
          f"{result['cpu_with_runs']}")
    alone = result.get("sink_alone") or {}
    if alone:
        crawl_ms = 1000 * result["cpu_without_seconds"] / result["records"]
        share = (alone["client_ms_per_record"] + alone["server_ms_per_record"]) / crawl_ms
        print(f"  the sink alone on the same records: {alone['client_ms_per_record']:.3f} ms CPU per record here "
              f"+ {alone['server_ms_per_record']:.3f} ms in the server, against the crawl's {crawl_ms:.2f} ms: "
              f"{100 * share:.1f}%")
        result["sink_alone_ratio"] = share
    print(f"  rows in articles after each round: {result['rows']}")
    if any(result["exits"]):
        print(f"  a crawl failed (exit codes {result['exits']}):\n{result['log_tail']}")


def main(argv: list[str] | None = None) -> int:
    """The PostgreSQL part alone: ``python -m tools.bench_postgres [--pages N] [--rounds R]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.bench_postgres", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--site", default="sindonews")
    parser.add_argument("--output", type=Path, default=None, help="also write the figures as JSON here")
    args = parse_arguments(parser, argv, "the site copy")
    result = postgres_cost(args.pages, args.rounds, args.site, args.fixtures)
    print_postgres_cost(result)
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if any(result["exits"]) else 0


if __name__ == "__main__":
    sys.exit(main())
