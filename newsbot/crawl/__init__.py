"""The crawl's Scrapy components, one concern each, switched on in :mod:`newsbot.settings`."""
