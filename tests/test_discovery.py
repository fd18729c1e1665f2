"""Discovery, replayed offline: each site's spider starts from its listing case (sitemaps, feeds, index pages),
finds exactly the articles its expected.json names, honours since/until/limit, and a second run with the
same seen-store fetches no article again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsbot.fixtures.case import EXPECTED_FILE, Case
from newsbot.sites import RULES, get_rules

from .conftest import FIXTURES, LISTING_CASES, crawl, crawl_stats


def expected(case: Case) -> dict:
    return json.loads((case.directory / EXPECTED_FILE).read_text(encoding="utf-8"))


def stat(log: str, key: str) -> int:
    return crawl_stats(log).get(key, 0)


def discover(case: Case, store: Path, **args: str) -> tuple[list[str], str]:
    code, records, log = crawl(case.site, {"replay": str(FIXTURES / case.site), "discover": "true", **args},
                               seen_store=store)
    assert code == 0, log[-4000:]
    return sorted(r["url"] for r in records), log


def test_every_site_with_listings_has_a_listing_case():
    with_listings = {name for name in RULES if get_rules(name).discovers}
    assert with_listings == {"bisnis", "tribun", "sindonews", "faktual"}
    assert {case.site for case in LISTING_CASES} == with_listings


@pytest.mark.parametrize("case", LISTING_CASES, ids=lambda c: c.site)
def test_discovery_finds_exactly_the_listed_articles_and_a_second_run_fetches_none(case, tmp_path):
    want = expected(case)
    store = tmp_path / "seen.sqlite"
    found, log = discover(case, store)
    # Exit code 0 also proves no skipped URL was requested: the fixtures answer none of them.
    assert found == want["discovered"]
    assert stat(log, "newsbot/discovery/articles") == len(want["discovered"])

    again, log = discover(case, store)
    assert again == []
    assert stat(log, "newsbot/discovery/articles") == 0, "the second run fetched articles again"
    assert stat(log, "newsbot/discovery/seen") >= len(want["discovered"])


@pytest.mark.parametrize("case", LISTING_CASES, ids=lambda c: c.site)
def test_discovery_honours_since_and_until(case, tmp_path):
    window = expected(case)["window"]
    found, _ = discover(case, tmp_path / "seen.sqlite", since=window["since"], until=window["until"])
    assert found == window["articles"]


@pytest.mark.parametrize("case", LISTING_CASES, ids=lambda c: c.site)
def test_discovery_honours_limit_and_the_next_run_continues(case, tmp_path):
    want = expected(case)["discovered"]
    store = tmp_path / "seen.sqlite"
    first, _ = discover(case, store, limit="2")
    assert len(first) == 2 and set(first) <= set(want)
    rest, _ = discover(case, store)
    assert sorted(first + rest) == want


def test_refresh_fetches_known_articles_again(tmp_path):
    case = next(c for c in LISTING_CASES if c.site == "sindonews")
    store = tmp_path / "seen.sqlite"
    first, _ = discover(case, store)
    again, _ = discover(case, store, refresh="true")
    assert again == first


@pytest.mark.parametrize(("args", "message"), [
    ({"since": "21-06-2024"}, "since='21-06-2024' is not a date; use YYYY-MM-DD"),
    ({"since": "2024-07-02", "until": "2024-07-01"}, "since=2024-07-02 is after until=2024-07-01"),
    ({"limit": "0"}, "limit='0' must be at least 1"),
    ({"refresh": "maybe"}, "refresh='maybe': use true or false"),
])
def test_bad_arguments_stop_the_crawl_with_a_clear_message(args, message, tmp_path):
    code, records, log = crawl("tribun", {"replay": str(FIXTURES / "tribun"), "discover": "true", **args},
                               seen_store=tmp_path / "seen.sqlite")
    assert code != 0 and records == []
    assert message in log
