"""Every fixture case, replayed through its site's spider, must produce exactly its expected.json."""

from __future__ import annotations

import json

import pytest

from newsbot.fixtures import field_differences
from newsbot.replay import EXPECTED_FILE
from newsbot.schema import validation_errors

from .conftest import ALL_CASES, case_id


def test_there_are_cases_for_every_site():
    assert {case.site for case in ALL_CASES} >= {"generic"}


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_case_output_equals_expected(case, replayed):
    expected = json.loads((case.directory / EXPECTED_FILE).read_text(encoding="utf-8"))
    actual = replayed[case.directory]
    assert actual is not None, f"no record was produced for {case.url}"
    assert not validation_errors(actual), validation_errors(actual)
    problems = field_differences(expected, actual)
    assert not problems, f"{case_id(case)}: {len(problems)} field(s) differ\n" + "\n".join(problems)
