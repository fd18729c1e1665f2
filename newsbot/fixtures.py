"""Make and refresh fixture cases.

    newsbot-fixtures record <site> <case-dir> <url>       fetch a live article (all its pages) into a new case
    newsbot-fixtures expect [--site S] <path>...           (re)write expected.json of every case under <path>
    newsbot-fixtures diff [--site S] <path>...             show how current output differs from expected.json

A case's site is the folder it is in (``fixtures/<site>/<case>/``); a case anywhere else needs ``--site``.
``expected.json`` written by ``record``/``expect`` is the current output: review it by hand before you
commit it, since a case is only worth what its expected record is.

Exit code 0: done (diff: no difference); 1: a case produced no record (diff: or differs); 2: a usage error
(a missing folder, a broken case, a case whose site cannot be told), reported in one line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from newsbot.replay import EXPECTED_FILE, Case, CaseError, find_cases
from newsbot.sites import RULES
from newsbot.urls import strip_tracking

# Fields that differ on every run and so are left out of expected.json.
VOLATILE = {"metadata": ("dateDownloaded",)}


def without_volatile(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for key, subkeys in VOLATILE.items():
        if isinstance(out.get(key), dict):
            out[key] = {k: v for k, v in out[key].items() if k not in subkeys}
    return out


def crawl(spider: str, args: dict[str, str], *, extra: Iterable[str] = (), seen_store: Path | None = None,
          drop_log: Path | None = None, health_report: Path | None = None) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``scrapy crawl`` in a subprocess (the exact path a user takes); return (exit code, records, log).

    The seen-store, the drop log and the health report go to ``seen_store``, ``drop_log`` and
    ``health_report`` if given, else to throwaway files: a tool run must not leave state behind in ``output/``
    that changes what the user's next crawl fetches.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        store = seen_store or Path(tmp) / "seen.sqlite"
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", f"{out}:jsonlines", "-L", "INFO",
               "-s", f"NEWSBOT_SEEN_STORE={store}", "-s", f"NEWSBOT_DROP_LOG={drop_log or Path(tmp) / 'dropped.jsonl'}",
               "-s", f"NEWSBOT_HEALTH_REPORT={health_report or Path(tmp) / 'health.json'}", *extra]
        for name, value in args.items():
            cmd += ["-a", f"{name}={value}"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return proc.returncode, records, proc.stdout + proc.stderr


def spider_for(case: Case) -> str:
    return case.site if case.site in RULES else "generic"


def site_of(case: Case, site: str | None = None) -> str:
    """The site whose spider replays ``case``: the folder it is in, else ``site`` (``--site``)."""
    if case.site in RULES:
        if site and site != case.site:
            raise CaseError(f"{case.directory} is a {case.site} case (it is in a {case.site} folder), not {site}")
        return case.site
    if site:
        return site
    raise CaseError(f"{case.directory}: cannot tell its site (it is not in a fixtures/<site>/ folder); "
                    f"give --site {'|'.join(sorted(RULES))}")


def replay(case: Case, site: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """Replay one case through its site's spider: its record (None if it produced none) and, if the crawl
    failed (a response the case does not hold, say), the crawl's last line, which says why."""
    code, records, log = crawl(site or spider_for(case), {"replay": str(case.directory)})
    return record_for(case, records), (log.rstrip().rpartition("\n")[2] if code else None)


def record_for(case: Case, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The record a crawl produced for ``case``: the one whose url is the case's start URL."""
    url = strip_tracking(case.url)
    return next((r for r in records if r.get("url") == url), None)


def write_expected(case: Case, record: dict[str, Any]) -> Path:
    path = case.directory / EXPECTED_FILE
    path.write_text(json.dumps(without_volatile(record), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def field_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One readable entry per field that differs (a line diff for the body)."""
    import difflib

    actual = without_volatile(actual)
    problems = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            problems.append(f"{key}: missing from the output")
        elif key not in expected:
            problems.append(f"{key}: not in expected.json (output: {actual[key]!r})")
        elif expected[key] != actual[key]:
            if key == "articleBody":
                diff = difflib.unified_diff(str(expected[key]).splitlines(), str(actual[key]).splitlines(),
                                            "expected", "actual", lineterm="", n=0)
                problems.append("articleBody differs:\n  " + "\n  ".join(diff))
            else:
                problems.append(f"{key}:\n  expected {expected[key]!r}\n  actual   {actual[key]!r}")
    return problems


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as scrapy's commands give, instead of argparse's usage banner.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="newsbot-fixtures", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rec = sub.add_parser("record", help="fetch a live article into a new case directory")
    rec.add_argument("site", choices=sorted(RULES))
    rec.add_argument("case_dir", type=Path)
    rec.add_argument("url")
    for name in ("expect", "diff"):
        p = sub.add_parser(name, help=f"{name} every case under the given paths")
        p.add_argument("--site", choices=sorted(RULES), help="the site of cases outside a fixtures/<site>/ folder")
        p.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)

    if args.command == "record":
        if (args.case_dir / "case.json").exists():
            parser.error(f"{args.case_dir} already holds a case")
        code, _, log = crawl(args.site, {"url": args.url, "record": str(args.case_dir)})
        if code != 0 or not (args.case_dir / "case.json").exists():
            print(log, file=sys.stderr)
            return 1
        cases = [(Case.load(args.case_dir), args.site)]
    else:
        try:
            found = [case for path in args.paths for case in find_cases(path) if case.kind == "article"]
            cases = [(case, site_of(case, args.site)) for case in found]
        except CaseError as exc:
            parser.error(str(exc))

    failures = 0
    for case, site in cases:
        record, failed = replay(case, site)
        if record is None or failed:
            # An incomplete case may still give a record, which is not the one its page would give.
            print(f"{case.directory}: {failed or 'no record'} (see `scrapy crawl {site} -a replay={case.directory}`)")
            failures += 1
        elif args.command == "diff":
            expected_path = case.directory / EXPECTED_FILE
            expected = json.loads(expected_path.read_text(encoding="utf-8")) if expected_path.exists() else {}
            problems = field_differences(expected, record)
            print(f"{case.directory}: {'OK' if not problems else 'differs'}")
            for problem in problems:
                print(f"  {problem}")
            failures += bool(problems)
        else:
            print(f"wrote {write_expected(case, record)} (review it before committing)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
