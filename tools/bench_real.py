"""``make bench``, real pages: the generic path on the ScrapingHub article-extraction benchmark.

181 real article pages nobody on this project wrote, with their authors' gold text
(https://github.com/scrapinghub/article-extraction-benchmark: ``html/<key>.html.gz`` and ``ground-truth.json``).
The set is read from ``NEWSBOT_SHB_DIR``, else from ``../shared/benchmarks/scrapinghub`` beside the checkout.

- Accuracy: newsbot's real output (``scrapy crawl generic -a replay=`` over the pages) next to trafilatura with
  default settings and with ``favor_precision``, readability-lxml and newspaper4k, same pages, same metric
  (the benchmark's own: 4-token shingles, per-document P and R, corpus means).
- Speed: median ms per page of the whole generic record (metadata and language included) against
  ``trafilatura.extract`` on the same pages, in the same process and the same minutes.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsbot.core.extract import extract_article
from newsbot.core.language import warm_up
from newsbot.core.urls import strip_tracking
from newsbot.fixtures.tool import crawl
from newsbot.sites import get_rules
from tools.bench import _visible_text, body_scores

HOW_TO_GET = ("git clone https://github.com/scrapinghub/article-extraction-benchmark && "
              "export NEWSBOT_SHB_DIR=$PWD/article-extraction-benchmark")
# The generic path's speed target, as a multiple of trafilatura.extract's time on the same pages.
SPEED_TARGET = 1.2


@dataclass(frozen=True)
class RealPage:
    url: str
    gold: str
    html: bytes


def benchmark_dir() -> Path:
    # Beside the checkout `make bench` runs in, unless NEWSBOT_SHB_DIR says where.
    return Path(os.environ.get("NEWSBOT_SHB_DIR") or Path.cwd().parent / "shared" / "benchmarks" / "scrapinghub")


def load_pages(folder: Path | None = None, limit: int | None = None) -> list[RealPage]:
    """The benchmark's pages in key order; empty when the set is not there."""
    folder = folder or benchmark_dir()
    truth = folder / "ground-truth.json"
    if not truth.is_file():
        return []
    entries = sorted(json.loads(truth.read_text(encoding="utf-8")).items())[:limit]
    return [RealPage(entry["url"], entry["articleBody"], gzip.decompress((folder / "html" / f"{key}.html.gz")
                                                                         .read_bytes())) for key, entry in entries]


def newsbot_bodies(pages: list[RealPage]) -> tuple[list[str], int]:
    """newsbot's bodies from a real replay crawl of the pages with the generic spider, and its record count."""
    with tempfile.TemporaryDirectory() as tmp:
        for n, page in enumerate(pages):
            case = Path(tmp) / "cases" / f"p{n:04d}"
            case.mkdir(parents=True)
            (case / "page.html").write_bytes(page.html)
            (case / "case.json").write_text(json.dumps({"url": page.url, "responses": {page.url: {
                "file": "page.html", "headers": {"Content-Type": "text/html; charset=utf-8"}}}}), encoding="utf-8")
        _, records, _ = crawl("generic", {"replay": str(Path(tmp) / "cases")}, extra=["-L", "WARNING"])
    by_url = {record["url"]: record for record in records}
    return [(by_url.get(strip_tracking(page.url)) or {}).get("articleBody") or "" for page in pages], len(records)


def competitors() -> dict[str, Callable[[RealPage], str]]:
    """The other extractors that are installed (the ``bench`` extra installs them all)."""
    import trafilatura

    found: dict[str, Callable[[RealPage], str]] = {
        "trafilatura": lambda p: trafilatura.extract(p.html.decode("utf-8", "replace"), url=p.url) or "",
        "trafilatura precision": lambda p: trafilatura.extract(p.html.decode("utf-8", "replace"), url=p.url,
                                                               favor_precision=True) or "",
    }
    try:
        from readability import Document

        found["readability-lxml"] = lambda p: _visible_text(Document(p.html.decode("utf-8", "replace")).summary())
    except ImportError:
        pass
    try:
        import newspaper

        def with_newspaper(page: RealPage) -> str:
            article = newspaper.Article(page.url, fetch_images=False)
            article.download(input_html=page.html.decode("utf-8", "replace"))
            article.parse()
            return article.text

        found["newspaper4k"] = with_newspaper
    except ImportError:
        pass
    return found


def accuracy(pages: list[RealPage]) -> dict[str, Any]:
    ours, records = newsbot_bodies(pages)
    results = {"newsbot generic": body_scores([(p.gold, body) for p, body in zip(pages, ours, strict=True)])
               | {"records": records}}
    for name, extract in competitors().items():
        bodies = []
        for page in pages:
            try:
                bodies.append(extract(page))
            except Exception:  # a failing competitor scores an empty body; the run goes on
                bodies.append("")
        results[name] = body_scores([(p.gold, body) for p, body in zip(pages, bodies, strict=True)]) | {
            "records": sum(bool(body.strip()) for body in bodies)}
    return results


def speed(pages: list[RealPage], repeats: int) -> dict[str, float]:
    """Median ms per page: the generic record against trafilatura.extract, page by page, taking turns."""
    import trafilatura

    warm_up()
    rules = get_rules("generic")

    def ours(page: RealPage) -> None:
        with contextlib.suppress(Exception):  # a dropped page still costs its time
            extract_article(page.html, page.url, rules, "text/html; charset=utf-8")

    def theirs(page: RealPage) -> None:
        trafilatura.extract(page.html.decode("utf-8", "replace"), url=page.url)

    for page in pages[:5]:
        ours(page)
        theirs(page)
    mine, alone = [], []
    for page in pages:
        # Alternating page by page, so both meet the same minutes of this machine's drifting speed.
        for run, times in ((ours, mine), (theirs, alone)):
            took = []
            for _ in range(repeats):
                start = time.perf_counter()
                run(page)
                took.append(time.perf_counter() - start)
            times.append(min(took))
    newsbot_ms, trafilatura_ms = statistics.median(mine) * 1000, statistics.median(alone) * 1000
    return {"newsbot_ms": newsbot_ms, "trafilatura_ms": trafilatura_ms, "ratio": newsbot_ms / trafilatura_ms,
            "pages": len(pages), "target": SPEED_TARGET}


def real_pages_report(smoke: bool) -> dict[str, Any]:
    pages = load_pages(limit=12 if smoke else None)
    if not pages:
        return {"skipped": f"the ScrapingHub set is not at {benchmark_dir()}; to get it: {HOW_TO_GET}"}
    return {"set": str(benchmark_dir()), "pages": len(pages), "accuracy": accuracy(pages),
            "speed": speed(pages, repeats=1 if smoke else 3)}


def print_real_pages(report: dict[str, Any]) -> None:
    if "skipped" in report:
        print(f"\nReal pages: skipped, {report['skipped']}")
        return
    print(f"\nReal pages: ScrapingHub article-extraction benchmark, {report['pages']} pages ({report['set']})")
    for name, scores in report["accuracy"].items():
        print(f"  {name:<22} F1 {scores['f1']:.3f}  P {scores['precision']:.3f}  R {scores['recall']:.3f}  "
              f"{scores['records']} records")
    s = report["speed"]
    print(f"  speed, median ms/page over {s['pages']} pages: newsbot generic {s['newsbot_ms']:.1f}, "
          f"trafilatura.extract {s['trafilatura_ms']:.1f}, ratio {s['ratio']:.2f} (target <= {s['target']})")
