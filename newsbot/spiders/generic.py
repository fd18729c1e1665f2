from newsbot.spiders.base import ArticleSpider


class GenericSpider(ArticleSpider):
    """Any news site: ``scrapy crawl generic -a url=<article URL>``."""

    name = "generic"
    rules_name = "generic"
