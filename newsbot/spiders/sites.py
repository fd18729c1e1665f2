"""One spider per site rules module: ``scrapy crawl <site>``. Nothing here is site-specific; a new
module in :mod:`newsbot.sites` gets its spider from this loop."""

from newsbot.sites import RULES
from newsbot.spiders.base import ArticleSpider

for _name in RULES:
    _cls = type(
        f"{_name.title().replace('_', '')}Spider",
        (ArticleSpider,),
        {"name": _name, "rules_name": _name, "__module__": __name__,
         "__doc__": f"Articles of the {_name!r} site rules: scrapy crawl {_name} -a url=<article URL>."},
    )
    globals()[_cls.__name__] = _cls
del _cls, _name
