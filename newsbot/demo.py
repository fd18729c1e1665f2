"""``make demo``: replay every bundled fixture through its site's spider into ``output/<site>.jsonl`` and
print a per-site summary. Works offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsbot.sites import RULES


def run(fixtures: Path, output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    rows, failed = [], False
    for site in sorted(RULES):
        folder = fixtures / site
        if not folder.is_dir():
            continue
        out = output / f"{site}.jsonl"
        log = output / f"{site}.log"
        cmd = [sys.executable, "-m", "scrapy", "crawl", site, "-a", f"replay={folder}", "-O", f"{out}:jsonlines",
               "--logfile", str(log), "-L", "INFO"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
        code = subprocess.run(cmd, env=env, check=False).returncode
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
        cases = sum(1 for _ in folder.rglob("case.json"))
        words = sum(r["wordCount"] for r in records)
        dated = sum(1 for r in records if r["datePublished"])
        bylined = sum(1 for r in records if r["authors"])
        pages = sum(r["pageCount"] for r in records)
        rows.append((site, cases, len(records), pages, words // max(len(records), 1), dated, bylined,
                     "ok" if code == 0 else f"exit {code}, see {log}"))
        failed |= code != 0
    header = ("site", "cases", "records", "pages", "avg words", "dated", "bylined", "status")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)))
    print(f"\nrecords: {output}/<site>.jsonl   logs: {output}/<site>.log")
    return 1 if failed else 0


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.exit(run(root / "fixtures", root / "output"))
