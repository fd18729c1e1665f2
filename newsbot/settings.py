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
# A callback yields one record or a handful of requests; Scrapy's default of 100 output workers per response
# costs more in task bookkeeping than it saves (measured with `make bench`).
CONCURRENT_ITEMS = 16
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
# Waits between attempts: 2 s, 4 s, 8 s (+ jitter), or the server's Retry-After, never more than a minute.
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
# A request that failed for good is reported once, by the spider, with its drop reason (or, for a host that
# cannot be reached at all, once per host); Scrapy's own "Gave up retrying" line is for debugging.
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"

# Only the web: no file://, ftp://, s3:// or data: downloads, whatever a page links to.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
# Hosts that SafeUrlMiddleware lets through although they are loopback/private (e.g. a staging copy).
NEWSBOT_ALLOW_PRIVATE_HOSTS: list[str] = []

# Scrapy 2.19 opens a code-executing HTTP control server and a telnet console by default: never wanted here.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "newsbot.middlewares.SafeUrlMiddleware": 50,
    # Outside the retries: it sees what is left once they are spent.
    "newsbot.middlewares.HostFailureMiddleware": 60,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newsbot.middlewares.BackoffRetryMiddleware": 550,
    # Disabled (NotConfigured) unless a spider is run with -a replay=DIR / -a record=DIR.
    "newsbot.crawl.replay.FixtureReplayMiddleware": 950,
    "newsbot.crawl.replay.FixtureRecorderMiddleware": 100,
    # Disabled unless -a warc=PATH (answers from WARC files) / -a record=PATH.warc.gz (next to the download
    # handler, so it records responses as they came: redirects, errors and content coding included).
    "newsbot.archive.middleware.WarcReplayMiddleware": 950,
    "newsbot.archive.middleware.WarcRecorderMiddleware": 990,
}
SPIDER_MIDDLEWARES = {
    # Disabled (NotConfigured) unless REDIS_URL is set: see newsbot.crawl.distributed. The outermost one, so
    # that the requests it schedules have been through every other middleware (referer, depth, URL length).
    "newsbot.crawl.distributed.RequestDoneMiddleware": 10,
}
ITEM_PIPELINES = {
    "newsbot.pipelines.ValidatePipeline": 100,
    "newsbot.pipelines.DuplicatePipeline": 200,
    # Disabled (NotConfigured) unless NEWSBOT_POSTGRES_DSN is set: see newsbot.crawl.postgres.
    "newsbot.crawl.postgres.PostgresPipeline": 800,
    "newsbot.crawl.distributed.RedisItemsPipeline": 900,
}
# Settings a run's spider arguments imply (replay, warc, record, the default feed), and a distributed crawl's
# when REDIS_URL is set: Scrapy runs add-ons after building the spider, before the settings freeze.
ADDONS = {
    "newsbot.crawl.addon.SpiderArguments": 0,
    "newsbot.crawl.distributed.Distributed": 10,
}
EXTENSIONS = {
    # Built first, so that it counts what the others log while they are built.
    "scrapy.extensions.logcount.LogCount": None,
    "newsbot.crawl.extensions.LogCount": -100,
    "newsbot.crawl.extensions.WarmUp": 0,
    "newsbot.crawl.extensions.LogLevelFloor": 0,
    "scrapy.extensions.logstats.LogStats": None,
    "newsbot.crawl.extensions.Progress": 500,
    "newsbot.crawl.extensions.JobdirGuard": 0,
    "newsbot.crawl.drops.DropLog": 0,
    # Before the feed exporter (0): it reads the feeds' last records before the exporter opens them.
    "newsbot.crawl.seen.SeenRecorder": -50,
    # Disabled unless REDIS_URL is set: idle workers take start points pushed by scrapy seed.
    "newsbot.crawl.distributed.SeedFeeder": 500,
    "newsbot.crawl.health.LayoutHealth": 400,
}
# The layout-drift alarm (newsbot.crawl.health): each site rule's hit rate over the last this many article pages is
# compared with the rate the site expects (0 turns the alarm off); a rule below this share of its expected
# rate is in drift. The health report (per rule: hits, pages, rate, expected) is written at the end; "" skips it.
NEWSBOT_HEALTH_WINDOW = 50
NEWSBOT_DRIFT_RATIO = 0.5
NEWSBOT_HEALTH_REPORT = "output/%(name)s/health-%(date)s.json"

# A progress line (pages/min, records, drops by reason) every this many seconds; 0 turns it off.
NEWSBOT_PROGRESS_INTERVAL = 60.0

FEED_EXPORT_ENCODING = "utf-8"
# CSV and XML cells a person can read: people as "name; name", nested fields as JSON (newsbot.crawl.exporters);
# Parquet with the shipped Arrow schema, in row groups as records arrive (newsbot.crawl.parquet).
FEED_EXPORTERS = {"json": "newsbot.crawl.exporters.ArticleJsonExporter",
                  "csv": "newsbot.crawl.exporters.ArticleCsvExporter",
                  "xml": "newsbot.crawl.exporters.ArticleXmlExporter",
                  "parquet": "newsbot.crawl.parquet.ArticleParquetExporter"}
# Where records go when the command line names no feed (-o/-O) and FEEDS is empty: one JSON Lines file per
# site and crawl day. Set FEEDS to send records elsewhere instead.
NEWSBOT_FEED = "output/%(name)s/%(date)s.jsonl"
FEED_URI_PARAMS = "newsbot.crawl.extensions.feed_uri_params"
FEED_STORAGES = {"": "newsbot.crawl.feeds.DurableFileFeedStorage", "file": "newsbot.crawl.feeds.DurableFileFeedStorage",
                 "stdout": "newsbot.crawl.feeds.PipeFeedStorage"}

# Every article page that did not become a record, with its URL and reason; "" keeps only the counts.
NEWSBOT_DROP_LOG = "output/%(name)s/dropped-%(date)s.jsonl"
# A dropped record is logged as one line with its URL and reason, not Scrapy's dump of the whole item.
LOG_FORMATTER = "newsbot.crawl.drops.DropLogFormatter"

# Articles already written by earlier runs are not fetched again (see newsbot.crawl.seen); "" turns this off.
NEWSBOT_SEEN_STORE = "output/%(name)s/seen.sqlite"
# With -a since/until, index pages are read day by day, newest first, for at most this many days.
NEWSBOT_MAX_INDEX_DAYS = 366

LOG_LEVEL = "INFO"

# Seconds each replayed response waits before it is answered (0: at once); see newsbot.crawl.replay.
NEWSBOT_REPLAY_LATENCY = 0.0

# `scrapy warc`: one-member-per-record gzip WARC files are read in byte ranges of about this size, so that
# --processes N shares even one file between N processes.
NEWSBOT_WARC_SEGMENT_BYTES = 16 * 1024 * 1024

# Distributed crawling (newsbot.crawl.distributed): set REDIS_URL (or the environment variable NEWSBOT_REDIS_URL)
# to share one queue, duplicate filter and seen-store between workers. Nothing changes without it.
REDIS_URL = None
# A worker with an empty queue and no seeds stops after this many seconds (0: never).
NEWSBOT_IDLE_EXIT = 300.0
# A worker renews its heartbeat in Redis; one silent for this long is dead and its requests go back.
NEWSBOT_HEARTBEAT_SECONDS = 15.0
# Also push every record onto the Redis list newsbot:<site>:items for downstream consumers.
NEWSBOT_REDIS_ITEMS = False

# The PostgreSQL sink (newsbot.crawl.postgres): set NEWSBOT_POSTGRES_DSN (or the environment variable of that
# name) to postgresql://user:password@host:port/db to upsert every record into the table articles as well as
# the feed. Nothing changes without it.
NEWSBOT_POSTGRES_DSN = None
# Rows per transaction, and the longest a record waits for its batch (seconds).
NEWSBOT_POSTGRES_BATCH = 200
NEWSBOT_POSTGRES_FLUSH_SECONDS = 2.0
# A batch the database did not take is tried again this many times, waiting 1 s, 2 s, 4 s, ... (the
# backoff doubles); then the crawl stops, exit code 1, and the next run writes what the database missed.
NEWSBOT_POSTGRES_RETRY_TIMES = 5
NEWSBOT_POSTGRES_BACKOFF = 1.0
NEWSBOT_POSTGRES_CONNECT_TIMEOUT = 10.0
# Where each crawl process keeps the records the database has not committed yet (one file per process).
NEWSBOT_POSTGRES_JOURNAL = "output/%(name)s/postgres-pending"
