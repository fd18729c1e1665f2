"""The article record: the one definition its JSON Schema, its docs and its validation follow from.

Field names follow zyte-common-items' ``Article`` (schema.org-aligned); fields it lacks use schema.org
NewsArticle names. Every field is always present: ``None`` or an empty list when unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _doc(text: str, **extra: Any) -> dict[str, Any]:
    return {"doc": text, **extra}


ISO_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
# ``format="date-time"`` marks a moment: JSON keeps its ISO text, Parquet a UTC timestamp plus the offset as text.


@dataclass(frozen=True, slots=True)
class Person:
    name: str = field(metadata=_doc("The person's name alone: no role label, outlet, agency or title."))
    nameRaw: str = field(metadata=_doc("The page text the name was taken from, whitespace-normalized."))


@dataclass(frozen=True, slots=True)
class Breadcrumb:
    name: str | None = field(metadata=_doc("The crumb's label as shown."))
    url: str | None = field(metadata=_doc("The crumb's absolute URL, or null when it has none."))


@dataclass(frozen=True, slots=True)
class Image:
    url: str = field(metadata=_doc("Absolute URL of the lead image."))
    caption: str | None = field(metadata=_doc("The visible caption of the lead image, or null."))


@dataclass(frozen=True, slots=True)
class Metadata:
    dateDownloaded: str = field(metadata=_doc("When the page was fetched, ISO 8601 in UTC.", format="date-time"))
    extractor: str = field(
        metadata=_doc("newsbot's version and the site rules' name and version, e.g. `newsbot/0.1.0 tribun/1`.")
    )


@dataclass(slots=True)
class Article:
    url: str = field(metadata=_doc("The article's first page, tracking parameters removed."))
    canonicalUrl: str | None = field(metadata=_doc("The page's `<link rel=canonical>` (or `og:url`)."))
    site: str = field(metadata=_doc("Key of the site rules (and spider) that produced the record."))
    publisher: str | None = field(metadata=_doc("The outlet's name."))
    headline: str | None = field(metadata=_doc("The article's title, without a site-name suffix."))
    description: str | None = field(metadata=_doc("The page's summary (meta description), without page suffixes."))
    articleBody: str = field(
        metadata=_doc(
            "Only the article's own text: paragraphs and in-body subheadings separated by `\\n`, whitespace "
            "normalized, the dateline prefix removed, every page of a multi-page article in order."
        )
    )
    authors: list[Person] = field(metadata=_doc("Writers, one entry per person."))
    editors: list[Person] = field(metadata=_doc("Editors, one entry per person."))
    datePublished: str | None = field(
        metadata=_doc(
            "Original publication time, ISO 8601 with seconds and UTC offset (WIB +07:00 unless the page "
            "says otherwise).",
            pattern=ISO_DATETIME_PATTERN,
            format="date-time",
        )
    )
    dateModified: str | None = field(
        metadata=_doc("Last update time, same format as datePublished.", pattern=ISO_DATETIME_PATTERN,
                      format="date-time")
    )
    datePublishedRaw: str | None = field(
        metadata=_doc("The publication date as the page shows it (the machine-readable one if none is visible).")
    )
    articleSection: str | None = field(metadata=_doc("The section or rubric the article is filed under."))
    breadcrumbs: list[Breadcrumb] = field(metadata=_doc("The page's breadcrumb trail, in order."))
    keywords: list[str] = field(metadata=_doc("Tags and topics, in page order, without duplicates."))
    dateline: str | None = field(
        metadata=_doc("The place of the dateline (`JAKARTA`); null when the prefix only names the outlet.")
    )
    mainImage: Image | None = field(metadata=_doc("The lead image."))
    inLanguage: str | None = field(
        metadata=_doc("ISO 639-1 code detected from the body (deterministic).", pattern=r"^[a-z]{2}$")
    )
    isAccessibleForFree: bool = field(
        metadata=_doc("False when a paywall cuts the article; the body is then the visible part.")
    )
    pageCount: int = field(metadata=_doc("How many pages the article has on the site.", minimum=1))
    wordCount: int = field(metadata=_doc("Number of `\\w+` tokens in articleBody.", minimum=0))
    fingerprint: str = field(
        metadata=_doc("SHA-256 of the case-folded, whitespace-collapsed body: equal text, equal fingerprint.",
                      pattern=r"^[0-9a-f]{64}$")
    )
    metadata: Metadata = field(metadata=_doc("Provenance of the record."))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def field_docs(cls: type = Article) -> list[tuple[str, str]]:
    """(name, description) of every field of ``cls``, in declaration order."""
    return [(f.name, f.metadata.get("doc", "")) for f in fields(cls)]
