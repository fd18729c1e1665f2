"""newsbot: Scrapy spiders and an extraction core that turn Indonesian news pages into article records."""

__version__ = "0.1.0"
