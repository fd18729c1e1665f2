"""The record's Arrow schema (the Parquet feed's columns): derived from :mod:`newsbot.items`, as the JSON
Schema is, and shipped as ``article.arrow.json``.

The mapping, field by field:

- ``str``, ``int``, ``bool`` become ``string``, ``int64``, ``bool``; ``X | None`` a nullable column, anything
  else a required one;
- a list becomes an Arrow list (its items never null), a dataclass a struct with the dataclass's fields;
- a field marked ``format="date-time"`` becomes a UTC ``timestamp[us, tz=UTC]`` followed by a string column
  ``<name>Offset`` holding the offset the text carried (``+07:00``). A timestamp alone would lose the page's
  own clock, and text alone would not sort or compare across sites (``+07:00`` vs ``+08:00`` vs ``+00:00``).

The field's description goes into the Arrow field's metadata (``description``), so a Parquet file documents
its own columns. ``python -m newsbot.schema`` rewrites the shipped file; a test keeps it in step.

    >>> import pyarrow.parquet as pq
    >>> from newsbot.schema.arrow import load_arrow_schema
    >>> pq.read_table("out.parquet").schema.equals(load_arrow_schema())   # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from newsbot.items import Article

ARROW_SCHEMA_PATH = Path(__file__).with_name("article.arrow.json")
OFFSET_SUFFIX = "Offset"
TIMESTAMP = pa.timestamp("us", tz="UTC")
# Parquet's own name for a list's items: a file read back then has exactly this schema.
LIST_ITEM = "element"

_SCALARS: dict[type, pa.DataType] = {str: pa.string(), int: pa.int64(), bool: pa.bool_()}
# The shipped file names types by these words; anything else is a list or a struct.
_TYPE_NAMES: dict[str, pa.DataType] = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_(),
                                       "timestamp[us, tz=UTC]": TIMESTAMP}


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """``(type, nullable)`` of an annotation: ``X | None`` is ``(X, True)``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return members[0], True
    return tp, False


def _arrow_type(tp: Any) -> pa.DataType:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        return pa.list_(pa.field(LIST_ITEM, _arrow_type(item), nullable=False))
    if dataclasses.is_dataclass(tp):
        return pa.struct(_arrow_fields(tp))
    if tp in _SCALARS:
        return _SCALARS[tp]
    raise TypeError(f"no Arrow mapping for {tp!r}")


def _is_moment(f: dataclasses.Field[Any]) -> bool:
    return f.metadata.get("format") == "date-time"


def _arrow_fields(cls: type) -> list[pa.Field]:
    hints = typing.get_type_hints(cls)
    columns = []
    for f in dataclasses.fields(cls):
        tp, nullable = _unwrap(hints[f.name])
        doc = f.metadata.get("doc", "")
        if _is_moment(f):
            columns.append(pa.field(f.name, TIMESTAMP, nullable=nullable,
                                    metadata={"description": f"{doc} As a UTC timestamp."}))
            columns.append(pa.field(f.name + OFFSET_SUFFIX, pa.string(), nullable=True, metadata={
                "description": f"The UTC offset {f.name} was given with (`+07:00`); null when it had none."}))
        else:
            columns.append(pa.field(f.name, _arrow_type(tp), nullable=nullable, metadata={"description": doc}))
    return columns


def build_arrow_schema() -> pa.Schema:
    """The Arrow schema of :class:`~newsbot.items.Article`, generated from its definition."""
    return pa.schema(_arrow_fields(Article))


# The shipped file: a plain JSON description any consumer can read without pyarrow --------------------------
def _describe_type(tp: pa.DataType) -> Any:
    if pa.types.is_list(tp):
        return {"list": _describe_type(tp.value_type)}
    if pa.types.is_struct(tp):
        return {"struct": [_describe_field(tp.field(i)) for i in range(tp.num_fields)]}
    for name, known in _TYPE_NAMES.items():
        if tp.equals(known):
            return name
    raise TypeError(f"no name for Arrow type {tp}")


def _describe_field(f: pa.Field) -> dict[str, Any]:
    description = (f.metadata or {}).get(b"description", b"").decode("utf-8")
    return {"name": f.name, "type": _describe_type(f.type), "nullable": f.nullable, "description": description}


def describe(schema: pa.Schema) -> dict[str, Any]:
    """``schema`` as the JSON that ``article.arrow.json`` holds."""
    return {"title": "newsbot article record: Arrow schema of the Parquet feed",
            "fields": [_describe_field(f) for f in schema]}


def _read_type(description: Any) -> pa.DataType:
    if isinstance(description, str):
        return _TYPE_NAMES[description]
    if "list" in description:
        return pa.list_(pa.field(LIST_ITEM, _read_type(description["list"]), nullable=False))
    return pa.struct([_read_field(f) for f in description["struct"]])


def _read_field(description: dict[str, Any]) -> pa.Field:
    return pa.field(description["name"], _read_type(description["type"]), nullable=description["nullable"],
                    metadata={"description": description["description"]})


def schema_from_description(description: dict[str, Any]) -> pa.Schema:
    return pa.schema([_read_field(f) for f in description["fields"]])


@functools.cache
def load_arrow_schema() -> pa.Schema:
    """The shipped Arrow schema, as the Parquet feed writes it."""
    return schema_from_description(json.loads(ARROW_SCHEMA_PATH.read_text(encoding="utf-8")))


def write_arrow_schema(path: Path = ARROW_SCHEMA_PATH) -> None:
    path.write_text(json.dumps(describe(build_arrow_schema()), indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")


# Records to rows and back --------------------------------------------------------------------------------
def _offset_text(moment: datetime) -> str | None:
    offset = moment.utcoffset()
    if offset is None:
        return None
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _moment(text: str | None) -> tuple[datetime | None, str | None]:
    if text is None:
        return None, None
    moment = datetime.fromisoformat(text)
    offset = _offset_text(moment)
    # A time without an offset (never in a valid record) is read as UTC rather than the machine's zone.
    return (moment.astimezone(UTC) if offset else moment.replace(tzinfo=UTC)), offset


def _text(moment: datetime | None, offset: str | None) -> str | None:
    if moment is None:
        return None
    if offset:
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = offset[1:].split(":")
        moment = moment.astimezone(timezone(sign * timedelta(hours=int(hours), minutes=int(minutes))))
    return moment.isoformat(timespec="seconds")


Converter = Callable[[dict[str, Any]], dict[str, Any]]


def _moment_fields(cls: type) -> bool:
    """Whether ``cls`` or a dataclass inside it has a date-time field (only those need converting)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp, _ = _unwrap(hints[f.name])
        if typing.get_origin(tp) is list:
            (tp,) = typing.get_args(tp)
        if _is_moment(f) or (dataclasses.is_dataclass(tp) and _moment_fields(tp)):
            return True
    return False


def _converters(cls: type) -> tuple[Converter, Converter]:
    """(record → row, row → record) for the dataclass ``cls``, built once from its fields."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    moments = {f.name for f in dataclasses.fields(cls) if _is_moment(f)}
    structs: dict[str, tuple[Converter, Converter]] = {}
    for f in dataclasses.fields(cls):
        tp, _ = _unwrap(hints[f.name])
        if dataclasses.is_dataclass(tp) and _moment_fields(tp):
            structs[f.name] = _converters(tp)
        elif typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]) \
                and _moment_fields(typing.get_args(tp)[0]):
            raise TypeError(f"{cls.__name__}.{f.name}: date-time fields inside a list are not mapped")

    def to_row(record: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name in names:
            value = record.get(name)
            if name in moments:
                row[name], row[name + OFFSET_SUFFIX] = _moment(value)
            elif name in structs and value is not None:
                row[name] = structs[name][0](value)
            else:
                row[name] = value
        return row

    def to_record(row: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for name in names:
            value = row.get(name)
            if name in moments:
                record[name] = _text(value, row.get(name + OFFSET_SUFFIX))
            elif name in structs and value is not None:
                record[name] = structs[name][1](value)
            else:
                record[name] = value
        return record

    return to_row, to_record


_TO_ROW, _TO_RECORD = _converters(Article)


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record (as the JSON Lines feed holds it) as a row of the Arrow schema: each date-time text as a UTC
    datetime plus its offset."""
    return _TO_ROW(record)


def to_record(row: dict[str, Any]) -> dict[str, Any]:
    """A row read back from Parquet (``table.to_pylist()``) as the record the JSON Lines feed holds."""
    return _TO_RECORD(row)
