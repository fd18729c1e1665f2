"""Every fixture case, replayed through its site's spider, must produce exactly its expected.json."""

from __future__ import annotations

import json

import pytest

from newsbot.fixtures.case import EXPECTED_FILE
from newsbot.fixtures.tool import field_differences
from newsbot.schema import validation_errors
from newsbot.sites import RULES

from .conftest import ALL_CASES, case_id


def test_every_site_rule_is_covered_by_fixture_cases():
    counts = {site: sum(case.site == site for case in ALL_CASES) for site in RULES}
    assert counts["generic"] >= 1, counts
    # The seed page of each site plus at least four variants.
    assert all(counts[site] >= 5 for site in ("bisnis", "tribun", "sindonews", "faktual")), counts


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_case_output_equals_expected(case, replayed):
    expected = json.loads((case.directory / EXPECTED_FILE).read_text(encoding="utf-8"))
    actual = replayed[case.directory]
    assert actual is not None, f"no record was produced for {case.url}"
    assert not validation_errors(actual), validation_errors(actual)
    problems = field_differences(expected, actual)
    assert not problems, f"{case_id(case)}: {len(problems)} field(s) differ\n" + "\n".join(problems)
