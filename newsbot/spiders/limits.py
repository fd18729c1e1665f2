"""What a run collects: at most ``limit`` records, of articles published within the ``since``/``until``
window. Listing dates filter before fetching; the article's own date decides after."""

from __future__ import annotations

from datetime import date, datetime, timezone

from scrapy.exceptions import CloseSpider

from newsbot.core.reasons import OutOfWindow
from newsbot.items import Article
from newsbot.sites.listings import DateWindow, Entry


class RunLimits:
    """The record limit and the date window of one run, and the records written so far."""

    def __init__(self, limit: int | None, window: DateWindow, tz: timezone) -> None:
        self.limit = limit
        self.window = window
        self.tz = tz
        self.records = 0

    def room_for_more(self) -> bool:
        return self.limit is None or self.records < self.limit

    def admits_entry(self, entry: Entry, url_day: date | None) -> bool:
        """Whether a listing entry may be in the window (an entry of unknown date may)."""
        return self.window.admits_entry(entry, self.tz, url_day)

    def before_window(self, moment: datetime | None) -> bool:
        """Whether ``moment`` (a listing's newest date, a sitemap's last change) predates ``since``."""
        return self.window.since is not None and moment is not None and \
            moment.astimezone(self.tz).date() < self.window.since

    def check(self, article: Article) -> None:
        """:class:`OutOfWindow` for an article published outside the window."""
        published = datetime.fromisoformat(article.datePublished) if article.datePublished else None
        if not self.window.admits(published, self.tz):
            raise OutOfWindow(f"published {article.datePublished}")

    def written(self) -> None:
        """Count a record handed on."""
        self.records += 1

    def stop_if_reached(self) -> None:
        """Once the limit is reached the crawl stops: ``CloseSpider("limit")`` (requests in flight finish,
        and their records are left for the next run)."""
        if self.limit is not None and self.records >= self.limit:
            raise CloseSpider("limit")
