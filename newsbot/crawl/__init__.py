"""The crawl's Scrapy components, one concern each, switched on in :mod:`newsbot.settings`."""


class CannotStart(RuntimeError):
    """The crawl cannot start for a reason outside its arguments, such as a Redis that does not answer:
    one line, exit code 1."""
