"""The shipped JSON Schema follows the item definition, and it really constrains records."""

from __future__ import annotations

import copy
import json

import pytest

from newsbot.items import Article, field_docs
from newsbot.schema import SCHEMA_PATH, build_schema, validation_errors

from .conftest import FIXTURES

RECORD = json.loads((FIXTURES / "generic/republisher-translated-putin-korut/expected.json").read_text())
RECORD["metadata"]["dateDownloaded"] = "2026-11-21T10:00:00+00:00"


def test_shipped_schema_is_generated_from_the_item():
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == build_schema(), (
        "newsbot/schema/article.schema.json is stale: run `python -m newsbot.schema`"
    )


def test_schema_keys_are_exactly_the_item_fields():
    assert list(build_schema()["properties"]) == [name for name, _ in field_docs(Article)]
    assert all(doc for _, doc in field_docs(Article)), "every field needs a description"


def test_a_real_record_validates():
    assert validation_errors(RECORD) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("datePublished",), "21 Juni 2024", "does not match"),
        (("authors",), ["Budi"], 'is not of type "object"'),
        (("pageCount",), 0, "less than the minimum"),
        (("inLanguage",), "ind", "does not match"),
        (("extra",), 1, "Additional properties"),
        (("mainImage",), {"url": "x"}, '"caption" is a required property'),
    ],
)
def test_schema_rejects_malformed_records(path, value, message):
    record = copy.deepcopy(RECORD)
    record[path[0]] = value
    errors = validation_errors(record)
    assert errors and any(message in e for e in errors), errors


def test_a_missing_key_is_an_error():
    record = copy.deepcopy(RECORD)
    del record["dateline"]
    assert any('"dateline" is a required property' in e for e in validation_errors(record))


def test_readme_documents_every_field_as_the_item_does():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, doc in field_docs(Article):
        assert f"| `{name}` | {doc} |" in readme, f"README's record table is stale for {name!r}"


def test_a_value_json_cannot_hold_is_an_error_not_a_crash():
    record = copy.deepcopy(RECORD)
    record["headline"] = b"bytes from a buggy rule"
    errors = validation_errors(record)
    assert errors and "Unsupported type" in errors[0], errors
