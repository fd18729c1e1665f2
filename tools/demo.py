"""``make demo``: run every site's spider offline on the bundled fixtures and print a per-site summary.

A site with listings is crawled the way a live crawl runs: discovery starts from its sitemaps, feeds and
index pages (answered by its listing case) and fetches the articles they name. The generic spider has no
listings and replays its article cases directly.

Everything of a site goes to ``output/<site>/``, where its crawls write too: the demo's records to
``demo.jsonl`` and ``demo.parquet`` (the same records, for pandas, DuckDB and pyarrow), its dropped pages
to ``demo-dropped.jsonl`` and its log to ``demo.log``. They are rewritten on every run, without a
seen-store, so that the demo shows the whole crawl each time and never changes what a real crawl
(``<date>.jsonl``, ``seen.sqlite``) has written or will fetch.

    python -m tools.demo [--fixtures DIR] [OUTPUT]      (defaults: ./fixtures and ./output, as `make demo` runs it)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from newsbot.fixtures.case import find_cases
from newsbot.fixtures.tool import crawl_command, crawl_env
from newsbot.sites import RULES, get_rules
from tools.site_copies import parse_arguments


def run(fixtures: Path, output: Path) -> int:
    rows, failed = [], False
    for site in sorted(RULES):
        folder = fixtures / site
        if not folder.is_dir():
            continue
        (output / site).mkdir(parents=True, exist_ok=True)
        out = output / site / "demo.jsonl"
        log = output / site / "demo.log"
        dropped_file = output / site / "demo-dropped.jsonl"
        dropped_file.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
        cases = find_cases(folder)
        discover = get_rules(site).discovers and any(case.kind == "listing" for case in cases)
        # No seen-store: the demo shows the whole crawl every time it is run.
        cmd = crawl_command(site, {"replay": folder, "discover": discover}, feed=out,
                            settings={"NEWSBOT_SEEN_STORE": "", "NEWSBOT_DROP_LOG": dropped_file,
                                      "NEWSBOT_HEALTH_REPORT": dropped_file.with_name("demo-health.json")},
                            extra=["-O", str(out.with_suffix(".parquet")), "--logfile", str(log)])
        code = subprocess.run(cmd, env=crawl_env(), check=False).returncode
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
        articles = sum(case.kind == "article" for case in cases)
        dropped = len(dropped_file.read_text(encoding="utf-8").splitlines()) if dropped_file.exists() else 0
        words = sum(r["wordCount"] for r in records)
        dated = sum(1 for r in records if r["datePublished"])
        bylined = sum(1 for r in records if r["authors"])
        pages = sum(r["pageCount"] for r in records)
        status = "ok" if code == 0 else f"exit {code}, see {log}"
        rows.append((site, "listings" if discover else "cases", articles, len(records), dropped, pages,
                     words // max(len(records), 1), dated, bylined, status))
        failed |= code != 0
    header = ("site", "start from", "article cases", "records", "dropped", "pages", "avg words", "dated", "bylined",
              "status")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)))
    print(f"\nrecords: {output}/<site>/demo.jsonl (and demo.parquet)   "
          f"dropped pages: {output}/<site>/demo-dropped.jsonl   logs: {output}/<site>/demo.log")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, nargs="?", default=Path("output"), help="default: ./output")
    args = parse_arguments(parser, argv, "the demo's crawls")
    return run(args.fixtures, args.output)


if __name__ == "__main__":
    sys.exit(main())
