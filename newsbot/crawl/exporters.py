"""Feed exporters for the tabular formats (``FEED_EXPORTERS``): CSV and XML cells a person can read.

Scrapy's CSV and XML exporters write a nested value as its Python repr
(``[Person(name='…', nameRaw='…')]``, ``Metadata(dateDownloaded=…)``). Here every record field is one cell:

- a scalar as it is (``null`` as an empty cell);
- a list of people (``authors``, ``editors``) as their names joined by ``"; "``;
- any other nested value (``breadcrumbs``, ``keywords``, ``mainImage``, ``metadata``) as compact JSON,
  the same JSON the JSON Lines feed holds.

The columns are the record's fields in the order :mod:`newsbot.items` declares them, unless the feed names
its own (``FEED_EXPORT_FIELDS`` or the feed's ``fields``).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from typing import Any

from scrapy.exporters import CsvItemExporter, JsonItemExporter, XmlItemExporter

from newsbot.crawl.feeds import ARTICLE_FIELDS, TAIL, FeedTail
from newsbot.items import Article, Person

PEOPLE_FIELDS = frozenset(name for name, hint in typing.get_type_hints(Article).items() if hint == list[Person])
PEOPLE_SEPARATOR = "; "


def cell(name: str, value: Any) -> Any:
    """The readable form of one field's value."""
    if value is None:
        return ""
    if name in PEOPLE_FIELDS and isinstance(value, list):
        return PEOPLE_SEPARATOR.join(_plain(person)["name"] for person in value)
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _ReadableCells:
    def __init__(self, file: Any, **kwargs: Any) -> None:
        if kwargs.get("fields_to_export") is None:
            kwargs["fields_to_export"] = ARTICLE_FIELDS
        super().__init__(file, **kwargs)

    def serialize_field(self, field: Mapping[str, Any], name: str, value: Any) -> Any:
        return cell(name, value)


def _tail(file: Any) -> FeedTail | None:
    """What the feed file already holds when the crawl appends to it (newsbot.crawl.feeds), else None."""
    return getattr(getattr(file, "buffer", file), TAIL, None)


class ArticleJsonExporter(JsonItemExporter):
    """``-O out.json``: Scrapy's JSON array; appended to (``-o``), the same array goes on."""

    def start_exporting(self) -> None:
        tail = _tail(self.file)
        if tail is None:
            super().start_exporting()
        else:
            self.first_item = not tail.records
            if not tail.records:
                self._beautify_newline()


class ArticleCsvExporter(_ReadableCells, CsvItemExporter):
    """``-O out.csv``: one row per record, one readable cell per field; appended to, no second header."""

    def start_exporting(self) -> None:
        # The storage kept the file only if its header row is this feed's columns (newsbot.crawl.feeds).
        if _tail(self.stream) is not None:
            self._headers_not_written = False
        super().start_exporting()


class ArticleXmlExporter(_ReadableCells, XmlItemExporter):
    """``-O out.xml``: one ``<item>`` per record, one readable element per field; appended to, the items
    go on under the file's one root element."""

    def start_exporting(self) -> None:
        # Appended to, the declaration and the root's start tag are in the file already; the generator keeps
        # no stack of open elements, so the items and the root's end tag follow as in one run.
        if _tail(self.stream) is None:
            super().start_exporting()
