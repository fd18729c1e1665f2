"""Scrapy settings of the newsbot project: polite, explicit, and quiet where Scrapy is loud."""

from newsbot import __version__

BOT_NAME = "newsbot"
SPIDER_MODULES = ["newsbot.spiders"]
NEWSPIDER_MODULE = "newsbot.spiders"
COMMANDS_MODULE = "newsbot.commands"

# Politeness: the sites reject bare clients, so send a browser-like header set that still names us.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 "
    f"newsbot/{__version__} (+https://github.com/newsbot/newsbot)"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "id-ID,id;q=0.9,en-US;q=0.7,en;q=0.6",
}
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

# Scrapy 2.19 opens a code-executing HTTP control server and a telnet console by default: never wanted here.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Disabled (NotConfigured) unless a spider is run with -a replay=DIR / -a record=DIR.
    "newsbot.replay.FixtureReplayMiddleware": 950,
    "newsbot.replay.FixtureRecorderMiddleware": 100,
}
ITEM_PIPELINES = {
    "newsbot.pipelines.ValidatePipeline": 100,
    "newsbot.pipelines.DuplicatePipeline": 200,
}
EXTENSIONS = {
    "newsbot.extensions.LanguageWarmUp": 0,
}

FEED_EXPORT_ENCODING = "utf-8"
FEEDS = {
    "output/%(name)s/%(date)s.jsonl": {"format": "jsonlines", "encoding": "utf8", "store_empty": False},
}
FEED_URI_PARAMS = "newsbot.extensions.feed_uri_params"

LOG_LEVEL = "INFO"
