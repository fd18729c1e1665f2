"""``make bench``, the archive part: ``scrapy warc`` over a WARC file of N distinct article pages.

The pages are the bench's site copies (:func:`tools.site_copies.build_site_copy`: the fixture articles, each at
its own URL with a paragraph of its own), the four sites taking turns as publishers do in a CC-NEWS file.
Measured in one run, so that the machine's drift (up to 2x over minutes) hits every figure alike:

- ``trafilatura.extract`` alone on a sample of the same pages (every 10th), before and after the passes;
- the whole pass (reading, routing, extraction, validation, dedupe, the feed) with 1 and with 2 processes,
  ``rounds`` times each, taking turns; the fastest round of each is reported, as ``timeit`` reports its
  fastest run (noise only ever slows a run down);
- reading alone: the same file with no site selected, every record read, routed and skipped;
- resident memory every 1,000 records (the pass's process and the worker reporting).
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from newsbot.archive.writer import WarcFileWriter
from newsbot.fixtures.tool import crawl_env
from tools.site_copies import SITES, build_site_copy, parse_arguments

# Common Crawl's news files, for the files-per-hour estimate (see docs/benchmarks.md): about 1 GB of gzip each,
# holding roughly 35,000 responses (30-40k). Reading one costs its gzip bytes at the measured rate; each
# response of one of our sites' articles costs what a page of the pass costs beyond reading.
CC_NEWS_GZIP_MB = 1024
CC_NEWS_RESPONSES = 35_000
CC_NEWS_OURS = (0, 1_000, CC_NEWS_RESPONSES)
TARGET_RATIO = 0.4
TARGET_SPEEDUP = 1.7


def build_archive(pages: int, workdir: Path, fixtures: Path) -> tuple[Path, list[tuple[str, bytes]]]:
    """A WARC file of ``pages`` distinct article pages, the sites interleaved; and its (url, body) pairs."""
    per_site: list[list[tuple[str, bytes]]] = []
    sites = list(SITES)
    for number, site in enumerate(sites):
        count = pages // len(sites) + (1 if number < pages % len(sites) else 0)
        tree = build_site_copy(site, count, workdir / "copies", fixtures)
        case_dir = tree / "bench"
        case = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
        per_site.append([(url, (case_dir / spec["file"]).read_bytes()) for url, spec in case["responses"].items()
                         if spec["file"].startswith("a")])
    interleaved = [page for turn in itertools.zip_longest(*per_site) for page in turn if page is not None]
    path = workdir / "bench.warc.gz"
    with WarcFileWriter(path) as warc:
        warc.warcinfo({"software": "newsbot bench", "description": f"{pages} distinct article pages"})
        for url, body in interleaved:
            warc.response(url, 200, [("Content-Type", "text/html; charset=UTF-8"),
                                     ("Content-Length", str(len(body)))], body)
    return path, interleaved


def trafilatura_seconds_per_page(pages: list[tuple[str, bytes]]) -> float:
    import trafilatura

    texts = [(url, body.decode("utf-8")) for url, body in pages]
    trafilatura.extract(texts[0][1], url=texts[0][0])  # imports and caches, outside the timing
    start = time.perf_counter()
    for url, html in texts:
        trafilatura.extract(html, url=url)
    return (time.perf_counter() - start) / len(texts)


def reading_seconds(warc: Path) -> tuple[float, int]:
    """Reading and routing alone: every record of ``warc`` read and routed to no site (as a record of a host
    no rules know is: decompressed, its URL looked at, its body skipped)."""
    from newsbot.archive.reader import open_archive, scan
    from newsbot.archive.router import Router

    router = Router([])
    started = time.perf_counter()
    records = 0
    for head in scan(open_archive(warc)):
        records += 1
        router.route(getattr(head, "url", ""))
    return time.perf_counter() - started, records


def run_pass(warc: Path, workdir: Path, processes: int) -> dict[str, Any]:
    """``scrapy warc`` as a user runs it, in its own process; its own timing (start-up excluded)."""
    out, stats = workdir / f"pass-{processes}.jsonl", workdir / f"pass-{processes}.json"
    cmd = [sys.executable, "-m", "scrapy", "warc", str(warc), "-O", str(out), "--stats", str(stats),
           "--processes", str(processes), "-s", f"NEWSBOT_DROP_LOG={workdir / 'dropped.jsonl'}",
           "-L", "WARNING"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=crawl_env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the whole process tree (workers included): what the work costs whatever else the machine runs.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = json.loads(stats.read_text(encoding="utf-8")) if stats.exists() else {}
    records = sum(site["records"] for site in summary.get("sites", {}).values())
    return {"processes": processes, "exit": proc.returncode, "seconds": summary.get("seconds", wall),
            "wall_seconds": wall, "cpu_seconds": cpu, "records": records,
            "warc_records": summary.get("archive", {}).get("records", 0),
            "rss_mb_at": summary.get("rss_mb_at", {}), "log_tail": proc.stderr[-1500:] if proc.returncode else ""}


def archive_bench(pages: int = 10_000, rounds: int = 2, sample_every: int = 10,
                  fixtures: Path = Path("fixtures")) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        warc, archived = build_archive(pages, work, fixtures)
        built = time.perf_counter() - started
        sample = archived[::sample_every]
        trafilatura_before = trafilatura_seconds_per_page(sample)
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for _ in range(max(1, rounds)):
            for processes in (1, 2):
                runs[processes].append(run_pass(warc, work, processes))
        read_seconds, read_records = reading_seconds(warc)
        trafilatura_after = trafilatura_seconds_per_page(sample)
        size = warc.stat().st_size
        raw = sum(len(body) for _, body in archived)
    best = {n: min(rs, key=lambda run: run["seconds"]) for n, rs in runs.items()}
    trafilatura = statistics.fmean([trafilatura_before, trafilatura_after])
    per_page = best[1]["seconds"] / pages
    read_file = CC_NEWS_GZIP_MB / (size / 2**20 / read_seconds)
    extract_per_page = per_page - read_seconds / max(1, read_records)
    return {
        "pages": pages, "warc_mb": size / 2**20, "raw_mb": raw / 2**20, "build_seconds": built,
        "trafilatura_ms": trafilatura * 1000, "trafilatura_ms_before_after": [trafilatura_before * 1000,
                                                                             trafilatura_after * 1000],
        "trafilatura_sample": len(sample),
        "pass": {str(n): best[n] | {"seconds_runs": [round(r["seconds"], 2) for r in runs[n]],
                                    "cpu_seconds_runs": [round(r["cpu_seconds"], 2) for r in runs[n]]} for n in runs},
        "pages_per_s": {str(n): pages / best[n]["seconds"] for n in runs},
        "pages_per_s_per_process": {str(n): pages / best[n]["seconds"] / n for n in runs},
        "ratio_to_trafilatura": per_page / trafilatura,
        "speedup_2_processes": best[1]["seconds"] / best[2]["seconds"],
        # Extra CPU the 2-process pass spends (forking, pipes, the parent's share): its speed-up on an idle
        # machine is at most 2 / (1 + overhead).
        "cpu_overhead_2_processes": min(r["cpu_seconds"] for r in runs[2]) / min(r["cpu_seconds"] for r in runs[1]) - 1,
        "reading_only": {"seconds": read_seconds, "records": read_records,
                         "mb_per_s_gzip": size / 2**20 / read_seconds, "mb_per_s_raw": raw / 2**20 / read_seconds},
        "rss_growth_5000_10000_mb": _growth(best[1]["rss_mb_at"], "pass"),
        "rss_growth_5000_10000_mb_2_processes": {"pass": _growth(best[2]["rss_mb_at"], "pass"),
                                                 "worker": _growth(best[2]["rss_mb_at"], "worker")},
        "cc_news_files_per_hour_per_core": {
            str(ours): 3600 / (read_file + ours * extract_per_page) for ours in CC_NEWS_OURS},
        # Other processes on the machine take cores from the 2-process pass first: say how busy it was.
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "failed": any(run["exit"] or run["records"] != pages for rs in runs.values() for run in rs),
    }


def _growth(rss_at: dict[str, dict[str, float]], which: str) -> float | None:
    marks = sorted(int(k) for k in rss_at)
    if not marks:
        return None
    middle = min(marks, key=lambda mark: abs(mark - marks[-1] / 2))
    return rss_at[str(marks[-1])][which] - rss_at[str(middle)][which]


def print_archive_bench(result: dict[str, Any]) -> None:
    one, two = result["pass"]["1"], result["pass"]["2"]
    print(f"\nArchive pass (scrapy warc over {result['pages']} distinct article pages, {result['warc_mb']:.0f} MB "
          f"gzip, {result['raw_mb']:.0f} MB raw; fastest of {len(one['seconds_runs'])} round(s))")
    print(f"  1 process:   {one['seconds']:.1f} s, {result['pages_per_s']['1']:.0f} pages/s "
          f"[{', '.join(map(str, one['seconds_runs']))} s]")
    print(f"  2 processes: {two['seconds']:.1f} s, {result['pages_per_s']['2']:.0f} pages/s "
          f"({result['pages_per_s_per_process']['2']:.0f} per process) [{', '.join(map(str, two['seconds_runs']))} s]"
          f", speed-up {result['speedup_2_processes']:.2f}x (target >= {TARGET_SPEEDUP})")
    print(f"  CPU time of the whole pass (workers included), fewest of the rounds: 1 process "
          f"{min(one['cpu_seconds_runs']):.1f} s, 2 processes {min(two['cpu_seconds_runs']):.1f} s "
          f"({result['cpu_overhead_2_processes']:+.0%})")
    print(f"  trafilatura.extract alone: {result['trafilatura_ms']:.1f} ms/page (every 10th page, before and after: "
          f"{', '.join(f'{ms:.1f}' for ms in result['trafilatura_ms_before_after'])}); the whole pass per page: "
          f"{one['seconds'] / result['pages'] * 1000:.1f} ms, ratio {result['ratio_to_trafilatura']:.2f} "
          f"(target <= {TARGET_RATIO})")
    reading = result["reading_only"]
    print(f"  reading and routing alone: {reading['seconds']:.1f} s ({reading['mb_per_s_gzip']:.0f} MB/s of gzip, "
          f"{reading['mb_per_s_raw']:.0f} MB/s raw)")
    growth, growth_two = result["rss_growth_5000_10000_mb"], result["rss_growth_5000_10000_mb_2_processes"]
    if growth is not None:
        print(f"  memory, record {result['pages'] // 2} -> {result['pages']}: {growth:+.1f} MB (1 process); "
              f"2 processes: pass {growth_two['pass']:+.1f} MB, worker {growth_two['worker']:+.1f} MB")
    cc = result["cc_news_files_per_hour_per_core"]
    print(f"  CC-NEWS files ({CC_NEWS_GZIP_MB} MB gzip, ~{CC_NEWS_RESPONSES} responses) per hour per core, by how "
          "many responses are our sites' articles: " + ", ".join(f"{n}: {rate:.1f}" for n, rate in cc.items()))
    print(f"  load average (1 min) before and after: {result['load_average_before_after']}")
    if result["failed"]:
        print("  FAILED: a pass exited non-zero or wrote fewer records than pages")


def main(argv: list[str] | None = None) -> int:
    """The archive part alone: ``python -m tools.bench_warc [--pages N] [--rounds R]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.bench_warc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="also write the figures as JSON here")
    args = parse_arguments(parser, argv, "the archive's pages")
    result = archive_bench(args.pages, args.rounds, fixtures=args.fixtures)
    print_archive_bench(result)
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
