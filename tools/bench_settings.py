"""Settings of the bench's crawls (``SCRAPY_SETTINGS_MODULE=tools.bench_settings``): the project's, plus the
memory probe, so that no user's crawl runs the probe."""

from newsbot.settings import *  # noqa: F403
from newsbot.settings import EXTENSIONS

EXTENSIONS = {**EXTENSIONS, "tools.memory_probe.MemoryProbe": 900}
