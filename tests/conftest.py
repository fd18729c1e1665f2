from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsbot.fixtures import crawl, record_for, spider_for
from newsbot.replay import Case, find_cases

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ALL_CASES = [case for case in find_cases(FIXTURES) if case.kind == "article"]
LISTING_CASES = [case for case in find_cases(FIXTURES) if case.kind == "listing"]


@pytest.fixture(scope="session")
def replayed() -> dict[Path, dict[str, Any] | None]:
    """Every fixture case's record, from one replay crawl per site (the same path `make demo` takes)."""
    results: dict[Path, dict[str, Any] | None] = {}
    groups: dict[tuple[str, Path], list[Case]] = {}
    for case in ALL_CASES:
        groups.setdefault((spider_for(case), case.directory.parent), []).append(case)
    for (spider, folder), cases in sorted(groups.items()):
        code, records, log = crawl(spider, {"replay": str(folder)})
        assert code == 0, f"replay of {folder} exited {code}:\n{log[-4000:]}"
        for case in cases:
            results[case.directory] = record_for(case, records)
    return results


def case_id(case: Case) -> str:
    return f"{case.site}/{case.directory.name}"
