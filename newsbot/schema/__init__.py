"""The record's JSON Schema: derived from :mod:`newsbot.items`, shipped as ``article.schema.json``.

``python -m newsbot.schema`` rewrites the shipped file; a test keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from pathlib import Path
from typing import Any

import jsonschema_rs

from newsbot.items import Article

SCHEMA_PATH = Path(__file__).with_name("article.schema.json")
SCHEMA_ID = "https://github.com/newsbot/newsbot/schema/article.schema.json"

_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _type_schema(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        inner = _type_schema(members[0])
        if "type" in inner:
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is list:
        (item,) = typing.get_args(tp)
        return {"type": "array", "items": _type_schema(item)}
    if dataclasses.is_dataclass(tp):
        return _object_schema(tp)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name])
        extra = {k: v for k, v in f.metadata.items() if k != "doc"}
        if extra:
            # Constraints such as a pattern apply to the value, not to its null alternative.
            if "anyOf" in prop:
                prop["anyOf"][0].update(extra)
            else:
                prop.update(extra)
        prop = {"description": f.metadata.get("doc", ""), **prop}
        properties[f.name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def build_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`~newsbot.items.Article`, generated from its definition."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "newsbot article record",
        **_object_schema(Article),
    }


@functools.cache
def load_schema() -> dict[str, Any]:
    """The shipped schema file, as the validation step uses it."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> jsonschema_rs.Validator:
    schema = load_schema()
    jsonschema_rs.meta.validate(schema)  # a broken shipped schema fails here, loudly, not record by record
    return jsonschema_rs.validator_for(schema)


def validation_errors(record: dict[str, Any]) -> list[str]:
    """Every way ``record`` breaks the schema, as readable ``path: message`` lines (empty when valid)."""
    validator = _validator()
    try:
        if validator.is_valid(record):
            return []
        errors = sorted(validator.iter_errors(record), key=lambda e: [str(part) for part in e.instance_path])
    except ValueError as exc:  # a value JSON cannot hold (bytes, datetime...) somewhere in the record
        return [f"<record>: {exc}"]
    return [f"{'/'.join(map(str, e.instance_path)) or '<record>'}: {e.message}" for e in errors]


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
