"""Item pipelines: every record is checked against the shipped schema and written once per crawl."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newsbot.core.reasons import Reason
from newsbot.crawl.drops import Dropped
from newsbot.items import Article
from newsbot.schema import validation_errors

logger = logging.getLogger(__name__)


class _StatsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _StatsPipeline:
        return cls(crawler)

    def reject(self, reason: Reason, message: str) -> Dropped:
        # Counted and written to the drop log by newsbot.crawl.drops.DropLog (item_dropped signal).
        return Dropped(reason, message)


class ValidatePipeline(_StatsPipeline):
    """Drops (and counts) a record that breaks the JSON Schema; a bug in rules never reaches the feed."""

    def process_item(self, item: Article) -> Article:
        # Article.to_dict (dataclasses.asdict) is a third of ItemAdapter's cost.
        record = item.to_dict() if isinstance(item, Article) else ItemAdapter(item).asdict()
        errors = validation_errors(record)
        if errors:
            raise self.reject(Reason.INVALID_RECORD, f"record for {item.url} breaks the schema: {'; '.join(errors)}")
        return item


class DuplicatePipeline(_StatsPipeline):
    """Drops a second record of the same article within one crawl (same canonical URL or same body)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[str] = set()

    def process_item(self, item: Article) -> Article:
        keys = {f"url:{item.canonicalUrl or item.url}", f"body:{item.fingerprint}"}
        if keys & self.seen:
            raise self.reject(Reason.DUPLICATE, f"duplicate of an earlier record: {item.url}")
        self.seen |= keys
        return item
