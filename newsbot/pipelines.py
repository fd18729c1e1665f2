"""Item pipelines: every record is checked against the shipped schema and written once per crawl."""

from __future__ import annotations

from itemadapter import ItemAdapter

from newsbot.core.reasons import Reason
from newsbot.crawl.drops import Dropped
from newsbot.items import Article
from newsbot.schema import validation_errors


class ValidatePipeline:
    """Drops a record that breaks the JSON Schema; a bug in rules never reaches the feed. Drops are counted and
    written to the drop log by newsbot.crawl.drops.DropLog, which listens to the item_dropped signal."""

    def process_item(self, item: Article) -> Article:
        # Article.to_dict (dataclasses.asdict) is a third of ItemAdapter's cost.
        record = item.to_dict() if isinstance(item, Article) else ItemAdapter(item).asdict()
        errors = validation_errors(record)
        if errors:
            raise Dropped(Reason.INVALID_RECORD, f"record for {item.url} breaks the schema: {'; '.join(errors)}")
        return item


class DuplicatePipeline:
    """Drops a second record of the same article within one crawl (same canonical URL or same body)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: Article) -> Article:
        keys = {f"url:{item.canonicalUrl or item.url}", f"body:{item.fingerprint}"}
        if keys & self.seen:
            raise Dropped(Reason.DUPLICATE, f"duplicate of an earlier record: {item.url}")
        self.seen |= keys
        return item
