"""``make bench``: how clean and how fast, measured side by side in one run.

1. Accuracy on every fixture case: newsbot (its real replayed output) against trafilatura (default settings,
   first page), readability-lxml, jusText and newspaper4k, with the ScrapingHub article-extraction-benchmark
   body metric, exact token-sequence accuracy, boilerplate leaks and metadata exact-match rates.
2. Extraction speed: median ms per page of the newsbot core against ``trafilatura.extract`` on the same pages.
3. End to end: offline replay crawls of N distinct article pages per site through the real spiders,
   pipelines and feed export, ``--rounds`` times per site: pages per second (fastest round, every round
   kept) and resident memory at page 1,000 and 2,000 (worst round).
4. The archive pass, ``scrapy warc`` over a WARC file of distinct article pages: see tools.bench_warc.
5. Feed formats: what JSON Lines and Parquet add per record to a replay crawl: see tools.bench_feeds.

Results go to ``output/bench.json``, a table on the terminal and ``output/bench.png``. ``--smoke`` runs a
tiny version (CI keeps it working); the figures worth quoting come from the full run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html

from newsbot.core.extract import extract_article
from newsbot.core.language import warm_up
from newsbot.fixtures.case import Case, find_cases
from newsbot.fixtures.tool import crawl, crawl_command, crawl_env, record_for, spider_for
from newsbot.sites import get_rules
from tools import bench_feeds, bench_postgres, bench_warc
from tools.memory_probe import BENCH_SETTINGS
from tools.site_copies import SITES, build_site_copy, parse_arguments

_TOKEN = re.compile(r"\w+")

# Boilerplate a reader sees around each site's articles (from ../shared/seeds and sites.md): any of these in
# an extracted body, beyond what the true body itself contains, is a leak.
COMMON_LEAKS = ("Baca juga", "Advertisement", "Berita Terkait", "Berita Terkini", "Terpopuler", "Google News",
                "WhatsApp", "Ikuti kami", "Lanjutkan Membaca", "Bagikan", "Tulis komentar", "Video Rekomendasi")
LEAK_PHRASES: dict[str, tuple[str, ...]] = {
    "bisnis": ("Konten Premium", "Artikel Terkait", "Berita Lainnya", "Scan QR Code", "Nyaman tanpa iklan",
               "Langganan BisnisPro", "Member of", "Ringkasan ini dibantu", "Cek Berita dan Artikel"),
    "tribun": ("Ringkasan Berita", "Berita Rekomendasi", "Dapatkan Berita Pilihan", "Halaman", "Sumber:",
               "Artikel ini telah tayang", "TRIBUNnews.com Network", "zoom-in", "Pilihan Untukmu"),
    "sindonews": ("Dibaca:", "Baca Selengkapnya", "Dapatkan berita terkini"),
    "faktual": ("Connect with us", "Diterbitkan pada", "Related Topics", "You may like", "Click to comment",
                "Up Next", "Don't Miss"),
    "generic": ("Source link", "Konten artikel", "Direkomendasikan"),
}
META_FIELDS = ("headline", "authors", "editors", "datePublished", "articleSection", "keywords", "dateline",
               "isAccessibleForFree", "pageCount")


# The body metric --------------------------------------------------------------------------------------
def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[str]:
    words = tokens(text)
    return Counter(" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1)) if words[i:i + n])


def tp_fp_fn(expected: str, predicted: str) -> tuple[float, float, float]:
    """ScrapingHub's shingle matching: counts of shared, extra and missing 4-token shingles, normalized by
    their sum so that long articles weigh no more than short ones."""
    true, pred = shingles(expected), shingles(predicted)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def body_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Corpus precision and recall (means over documents), their F1, and exact token-sequence accuracy."""
    precisions, recalls = [], []
    for expected, predicted in pairs:
        tp, fp, fn = tp_fp_fn(expected, predicted)
        precisions.append(tp / (tp + fp) if tp + fp else 0.0)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    p, r = statistics.fmean(precisions), statistics.fmean(recalls)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "exact": statistics.fmean(tokens(e) == tokens(p) for e, p in pairs), "documents": len(pairs)}


def leaks(site: str, expected: str, predicted: str) -> int:
    found = 0
    for phrase in COMMON_LEAKS + LEAK_PHRASES.get(site, ()):
        pattern = re.compile(re.escape(phrase), re.IGNORECASE)
        found += max(0, len(pattern.findall(predicted)) - len(pattern.findall(expected)))
    return found


# The extractors -----------------------------------------------------------------------------------------
@dataclass
class Sample:
    case: Case
    html: str
    expected: dict[str, Any]


def _visible_text(html: str) -> str:
    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def generic_extractors() -> dict[str, Callable[[Sample], dict[str, Any]]]:
    """The comparison extractors that are installed (the ``bench`` extra installs them all)."""
    found: dict[str, Callable[[Sample], dict[str, Any]]] = {}
    import trafilatura

    def with_trafilatura(sample: Sample) -> dict[str, Any]:
        doc = trafilatura.bare_extraction(sample.html, url=sample.case.url, with_metadata=True)
        body = trafilatura.extract(sample.html, url=sample.case.url) or ""
        if doc is None:
            return {"articleBody": body}
        authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
        return {"articleBody": body, "headline": doc.title, "authors": authors, "datePublished": doc.date,
                "articleSection": (doc.categories or [None])[0], "keywords": list(doc.tags or [])}

    found["trafilatura"] = with_trafilatura
    try:
        from readability import Document

        found["readability-lxml"] = lambda s: {"articleBody": _visible_text(Document(s.html).summary())}
    except ImportError:
        pass
    try:
        import justext

        stoplist = justext.get_stoplist("Indonesian")
        found["jusText"] = lambda s: {"articleBody": "\n".join(
            p.text for p in justext.justext(s.html.encode("utf-8"), stoplist) if not p.is_boilerplate)}
    except ImportError:
        pass
    try:
        import newspaper

        def with_newspaper(sample: Sample) -> dict[str, Any]:
            # No image fetching: it would go to the network (and is not part of the text).
            article = newspaper.Article(sample.case.url, language="id", fetch_images=False)
            article.download(input_html=sample.html)
            article.parse()
            return {"articleBody": article.text, "headline": article.title, "authors": list(article.authors)}

        found["newspaper4k"] = with_newspaper
    except ImportError:
        pass
    return found


def newsbot_records(cases: list[Case]) -> dict[Path, dict[str, Any]]:
    """newsbot's real output: each site folder replayed through its spider (multi-page articles whole)."""
    records: dict[Path, dict[str, Any]] = {}
    for folder in sorted({case.directory.parent for case in cases}):
        site_cases = [c for c in cases if c.directory.parent == folder]
        _, produced, _ = crawl(spider_for(site_cases[0]), {"replay": str(folder), "discover": "false"})
        for case in site_cases:
            records[case.directory] = record_for(case, produced) or {}
    return records


def _meta_match(field: str, expected: Any, actual: Any) -> bool:
    if field in ("authors", "editors"):
        names = [p["name"] if isinstance(p, dict) else p for p in actual or []]
        return names == [p["name"] for p in expected]
    if field == "datePublished" and isinstance(actual, str) and len(actual) == 10:
        # trafilatura gives the day only: compared on the day, in its favour.
        return bool(expected) and expected[:10] == actual
    return expected == actual


def accuracy(samples: list[Sample]) -> dict[str, Any]:
    outputs: dict[str, dict[Path, dict[str, Any]]] = {"newsbot": newsbot_records([s.case for s in samples])}
    timings: dict[str, float] = {}
    for name, extract in generic_extractors().items():
        outputs[name] = {}
        took = []
        for sample in samples:
            start = time.perf_counter()
            try:
                outputs[name][sample.case.directory] = extract(sample)
            except Exception as exc:  # a failing competitor scores an empty body; the run goes on
                outputs[name][sample.case.directory] = {"articleBody": "", "error": repr(exc)}
            took.append(time.perf_counter() - start)
        # One pass, body and metadata calls together: a rough figure; the speed section is the precise one.
        timings[name] = statistics.median(took) * 1000
    results: dict[str, Any] = {}
    sites = sorted({s.case.site for s in samples})
    for name, produced in outputs.items():
        per_site = {}
        for site in [*sites, "overall"]:
            chosen = [s for s in samples if site in ("overall", s.case.site)]
            pairs = [(s.expected["articleBody"], produced[s.case.directory].get("articleBody") or "") for s in chosen]
            per_site[site] = body_scores(pairs) | {"leaks": sum(
                leaks(s.case.site, e, p) for s, (e, p) in zip(chosen, pairs, strict=True))}
        meta = {}
        for field in META_FIELDS:
            have = [s for s in samples if field in produced[s.case.directory]]
            if have:
                meta[field] = statistics.fmean(
                    _meta_match(field, s.expected[field], produced[s.case.directory][field]) for s in have)
        results[name] = {"body": per_site, "metadata": meta, "ms_per_page_one_pass": timings.get(name)}
    return results


# Speed --------------------------------------------------------------------------------------------------
def speed(samples: list[Sample], repeats: int) -> dict[str, float]:
    import trafilatura

    warm_up()
    pages = [(s.html.encode("utf-8"), s.case.url, get_rules(spider_for(s.case))) for s in samples]

    def median_ms(run: Callable[[bytes, str, Any], object]) -> float:
        per_page = []
        for body, url, rules in pages:
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run(body, url, rules)
                times.append(time.perf_counter() - start)
            per_page.append(statistics.median(times))
        return statistics.median(per_page) * 1000

    median_ms(lambda b, u, r: extract_article(b, u, r))  # warm caches and imports for both
    core = median_ms(lambda b, u, r: extract_article(b, u, r))
    alone = median_ms(lambda b, u, r: trafilatura.extract(b.decode("utf-8"), url=u))
    return {"newsbot_ms": core, "trafilatura_ms": alone, "ratio": core / alone, "pages": len(pages)}


# End to end ---------------------------------------------------------------------------------------------
# Pages per second one crawl process should sustain on this machine (the benchmark issue's target).
E2E_TARGET = 100


def end_to_end(site: str, pages: int, fixtures: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = build_site_copy(site, pages, work, fixtures)
        probe = work / "rss.json"
        cmd = crawl_command(site, {"replay": tree, "discover": "true"}, {
            "NEWSBOT_SEEN_STORE": work / "seen.sqlite", "NEWSBOT_MEMORY_PROBE": probe,
            "NEWSBOT_DROP_LOG": work / "dropped.jsonl"}, feed=work / "out.jsonl", log_level="WARNING")
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=crawl_env(BENCH_SETTINGS), capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        written = sum(1 for _ in (work / "out.jsonl").open(encoding="utf-8")) if (work / "out.jsonl").exists() else 0
        memory = json.loads(probe.read_text(encoding="utf-8")) if probe.exists() else {}
    crawl_seconds = memory.get("seconds") or wall
    at = memory.get("rss_mb_at", {})
    growth = at.get("2000", 0) - at.get("1000", 0) if "2000" in at and "1000" in at else None
    return {"site": site, "exit": proc.returncode, "pages": memory.get("pages", 0), "records": written,
            "seconds": crawl_seconds, "pages_per_s": memory.get("pages", 0) / crawl_seconds if crawl_seconds else 0,
            "peak_rss_mb": memory.get("peak_rss_mb"), "rss_mb_at": at, "rss_growth_1000_2000_mb": growth,
            "log_tail": proc.stderr[-1500:] if proc.returncode else ""}


def end_to_end_rounds(sites: list[str], pages: int, rounds: int,
                      fixtures: Path = Path("fixtures")) -> list[dict[str, Any]]:
    """Each site's crawl ``rounds`` times, the sites taking turns, summarised per site.

    This VM's speed drifts with its host's load by up to 2x over minutes, and noise only ever slows a
    run down, so the fastest round is the estimate of what one process can do (as ``timeit`` takes the
    minimum); every round's rate is kept. Memory and failures are taken from the worst round.
    """
    runs: dict[str, list[dict[str, Any]]] = {site: [] for site in sites}
    for _ in range(rounds):
        for site in sites:
            runs[site].append(end_to_end(site, pages, fixtures))
    summaries = []
    for site in sites:
        best = max(runs[site], key=lambda run: run["pages_per_s"])
        growths = [run["rss_growth_1000_2000_mb"] for run in runs[site] if run["rss_growth_1000_2000_mb"] is not None]
        failed = next((run for run in runs[site] if run["exit"]), None)
        summaries.append({
            **best,
            "rounds": len(runs[site]),
            "pages_per_s_runs": [round(run["pages_per_s"], 1) for run in runs[site]],
            "records": min(run["records"] for run in runs[site]),
            "exit": failed["exit"] if failed else 0,
            "log_tail": failed["log_tail"] if failed else "",
            "peak_rss_mb": max(run["peak_rss_mb"] or 0 for run in runs[site]),
            "rss_growth_1000_2000_mb": max(growths) if growths else None,
        })
    return summaries


# Distributed ----------------------------------------------------------------------------------------------
def distributed_throughput(pages: int, fixtures: Path, workers: tuple[int, ...] = (1, 2),
                           site: str = "sindonews") -> dict[str, Any]:
    """Records per second with 1 and 2 workers sharing one Redis frontier (a local redis-server)."""
    import shutil

    from newsbot.crawl import distributed
    from tools.local_redis import local_redis

    if shutil.which("redis-server") is None:
        return {"skipped": "redis-server is not installed (apt-get install redis-server)"}
    results: dict[str, Any] = {"site": site, "pages": pages}
    with tempfile.TemporaryDirectory() as tmp, local_redis(Path(tmp)) as url:
        work = Path(tmp)
        server = distributed.connect(url)
        tree = build_site_copy(site, pages, work / "copy", fixtures)
        env = crawl_env()
        for count in workers:
            distributed.reset(server, site)
            subprocess.run([sys.executable, "-m", "scrapy", "seed", site, "-s", f"REDIS_URL={url}"], env=env,
                           capture_output=True, check=True)
            outs = [work / f"w{count}-{n}.jsonl" for n in range(count)]
            start = time.perf_counter()
            procs = [subprocess.Popen(
                crawl_command(site, {"replay": tree, "discover": "true"}, {
                    "REDIS_URL": url, "NEWSBOT_IDLE_EXIT": 6, "NEWSBOT_DROP_LOG": f"{out}.dropped"},
                    feed=out, log_level="WARNING"),
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for out in outs]
            # Only the new bytes of each feed are read: re-reading whole files 50 times a second would
            # take CPU from the workers being measured.
            counters = [_LineCounter(out) for out in outs]
            written, first, deadline = 0, None, time.monotonic() + 600
            while written < pages and time.monotonic() < deadline:
                time.sleep(0.02)
                written = sum(counter.update() for counter in counters)
                if written and first is None:
                    first = time.perf_counter()
            end = time.perf_counter()
            seconds, steady = end - start, end - (first or start)
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
            per_worker = [counter.update() for counter in counters]
            # Steady rate: from the first record to the last, so start-up and Scrapy's idle polling
            # (an idle worker looks at Redis every 5 s) do not count.
            results[f"{count}_workers"] = {"records": written, "seconds": seconds, "steady_seconds": steady,
                                           "records_per_s": (written - 1) / steady if steady else 0.0,
                                           "per_worker": per_worker}
    return results


class _LineCounter:
    """Complete lines (records) in a growing feed file, reading each byte once."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def update(self) -> int:
        if self.path.exists():
            with self.path.open("rb") as file:
                file.seek(self.offset)
                chunk = file.read()
            self.offset += len(chunk)
            self.lines += chunk.count(b"\n")
        return self.lines


# Report -------------------------------------------------------------------------------------------------
def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def print_report(report: dict[str, Any]) -> None:
    print(f"\nnewsbot benchmark, {report['date']} on {report['machine']}\n")
    print("Body accuracy (ScrapingHub shingle metric; exact = identical token sequence; leaks = boilerplate phrases)")
    sites = list(next(iter(report["accuracy"].values()))["body"])
    print(f"{'extractor':<17}" + "".join(f"  {site:<24}" for site in sites))
    for name, result in report["accuracy"].items():
        cells = "".join(f"  {_cell(b):<24}" for b in result["body"].values())
        print(f"{name:<17}{cells}")
    print("\nOverall precision / recall")
    for name, result in report["accuracy"].items():
        overall = result["body"]["overall"]
        print(f"  {name:<17} P {overall['precision']:.3f}  R {overall['recall']:.3f}  F1 {overall['f1']:.3f}")
    print("\nMedian ms per page, one pass over the fixture pages (trafilatura: extract + bare_extraction)")
    print("  " + ", ".join(f"{n} {r['ms_per_page_one_pass']:.1f}" for n, r in report["accuracy"].items()
                           if r.get("ms_per_page_one_pass") is not None))
    print("\nMetadata exact-match rate")
    for name, result in report["accuracy"].items():
        if result["metadata"]:
            print(f"  {name:<17} " + ", ".join(f"{k} {v:.2f}" for k, v in result["metadata"].items()))
    s = report["speed"]
    print(f"\nExtraction speed ({s['pages']} pages, median ms/page): newsbot {s['newsbot_ms']:.1f}, "
          f"trafilatura.extract {s['trafilatura_ms']:.1f}, ratio {s['ratio']:.2f} (target <= 1.0)")
    e2e = report["end_to_end"]
    rounds = max((run.get("rounds", 1) for run in e2e), default=1)
    print(f"\nEnd to end (offline replay through spiders, pipelines and feed export; fastest of {rounds} "
          "round(s), every round in brackets)")
    for run in e2e:
        growth = run["rss_growth_1000_2000_mb"]
        each = ", ".join(f"{rate:.0f}" for rate in run.get("pages_per_s_runs", [run["pages_per_s"]]))
        line = (f"  {run['site']:<10} {run['pages']:>5} pages {run['records']:>5} records "
                f"{run['pages_per_s']:>6.0f} pages/s [{each}], peak RSS {run['peak_rss_mb'] or 0:.0f} MB")
        if growth is not None:
            line += f", RSS growth page 1000->2000 {growth:+.1f} MB"
        print(line + (f"  EXIT {run['exit']}" if run["exit"] else ""))
    met = sum(run["pages_per_s"] >= E2E_TARGET for run in e2e)
    print(f"  target >= {E2E_TARGET} pages/s on one process: met on {met} of {len(e2e)} sites")
    from tools.bench_real import print_real_pages

    print_real_pages(report["real_pages"])
    d = report.get("distributed", {})
    if "skipped" in d:
        print(f"\nDistributed: skipped, {d['skipped']}")
    elif d:
        print(f"\nDistributed ({d['pages']} {d['site']} articles, one Redis, workers on this machine; "
              "records/s from the first record to the last)")
        for name, run in d.items():
            if name.endswith("_workers"):
                print(f"  {name.replace('_', ' '):<10} {run['records_per_s']:>6.0f} records/s "
                      f"({run['seconds']:.1f} s in all, per worker {run['per_worker']})")


def _cell(body: dict[str, float]) -> str:
    return f"F1 {body['f1']:.3f} ex {body['exact']:.2f} lk {body['leaks']}"


def chart(report: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(report["accuracy"])
    f1 = [report["accuracy"][n]["body"]["overall"]["f1"] for n in names]
    real = report.get("real_pages", {}).get("accuracy")
    fig, axes = plt.subplots(1, 3 if real else 2, figsize=(16.5 if real else 11, 4))
    left, right = axes[0], axes[1]
    left.barh(names, f1, color=["#2a7" if n == "newsbot" else "#888" for n in names])
    left.set_xlim(0, 1)
    left.set_title("Body F1 (4-token shingles), all fixture cases")
    s = report["speed"]
    speeds = {"newsbot": s["newsbot_ms"]} | {n: r["ms_per_page_one_pass"] for n, r in report["accuracy"].items()
                                            if r.get("ms_per_page_one_pass") is not None}
    right.barh(list(speeds), list(speeds.values()), color=["#2a7" if n == "newsbot" else "#888" for n in speeds])
    right.set_xlabel("median ms per page (newsbot: whole record, metadata and language included)")
    right.set_title("Extraction speed, same pages, same process")
    if real:
        names = list(real)
        axes[2].barh(names, [real[n]["f1"] for n in names],
                     color=["#2a7" if n.startswith("newsbot") else "#888" for n in names])
        axes[2].set_xlim(0.8, 1)
        axes[2].set_title(f"Real pages: ScrapingHub body F1 ({report['real_pages']['pages']} pages)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _feed_costs(site: str, pages: int, rounds: int, fixtures: Path) -> dict[str, Any]:
    """The cost of each feed format on one site copy (tools/bench_feeds.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = build_site_copy(site, pages, Path(tmp), fixtures)
        return bench_feeds.feed_costs(tree, site, pages, rounds=rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only checks the benchmark works")
    parser.add_argument("--pages", type=int, default=2000, help="article pages per site in the end-to-end crawls")
    parser.add_argument("--rounds", type=int, default=2,
                        help="end-to-end crawls per site (the sites take turns; the fastest round is reported)")
    parser.add_argument("--warc-pages", type=int, default=10_000, help="distinct article pages in the archive pass")
    parser.add_argument("--output", type=Path, default=Path("output"))
    args = parse_arguments(parser, argv, "the accuracy and the site copies")
    cases = [c for c in find_cases(args.fixtures) if c.kind == "article"]
    if args.smoke:
        cases = [c for c in cases if c.site in ("sindonews", "generic")]
    samples = [Sample(c, c.responses[c.url].path.read_text(encoding="utf-8"),
                      json.loads((c.directory / "expected.json").read_text(encoding="utf-8"))) for c in cases]
    sites = ["sindonews"] if args.smoke else list(SITES)
    pages = 120 if args.smoke else args.pages
    # Speed first, in a process that has not yet loaded the competing extractors and their garbage.
    report = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine(), "smoke": args.smoke,
              "speed": speed(samples, repeats=1 if args.smoke else 5)}
    report["end_to_end"] = end_to_end_rounds(sites, pages, 1 if args.smoke else max(1, args.rounds), args.fixtures)
    report["distributed"] = distributed_throughput(60 if args.smoke else 1000, args.fixtures)
    report["warc"] = bench_warc.archive_bench(200 if args.smoke else args.warc_pages, rounds=1 if args.smoke else 2,
                                              fixtures=args.fixtures)
    report["feeds"] = _feed_costs(sites[0], pages, 1 if args.smoke else max(1, args.rounds), args.fixtures)
    # A throw-away PostgreSQL server per run: left out of the smoke run, which CI makes.
    report["postgres"] = None if args.smoke else bench_postgres.postgres_cost(1000, 3, sites[0], args.fixtures)
    report["accuracy"] = accuracy(samples)
    from tools.bench_real import real_pages_report

    report["real_pages"] = real_pages_report(args.smoke)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    bench_warc.print_archive_bench(report["warc"])
    bench_feeds.print_feed_costs(report["feeds"])
    if report["postgres"]:
        bench_postgres.print_postgres_cost(report["postgres"])
    drew = chart(report, args.output / "bench.png")
    print(f"\nwrote {args.output / 'bench.json'}" + (f" and {args.output / 'bench.png'}" if drew else ""))
    failed = report["warc"]["failed"] or report["feeds"]["failed"] \
        or (report["postgres"] is not None and any(report["postgres"]["exits"])) \
        or any(run["exit"] or run["records"] != pages for run in report["end_to_end"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
