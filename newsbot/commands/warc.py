"""``scrapy warc PATH...``: the site rules over WARC files (Common Crawl CC-NEWS, a recorded crawl).

    scrapy warc CC-NEWS-20261120*.warc.gz -O news.jsonl                  # every site, one feed
    scrapy warc crawl.warc.gz --sites tribun,bisnis --processes 2        # two sites, two processes
    scrapy warc archive/ --generic --stats stats.json                    # other hosts through the generic rules

Each HTTP response is routed by its URL to the site whose domains match; other hosts are counted and
skipped (or, with ``--generic``, read with the generic rules). Every article URL of a known site becomes a
record or a counted drop, with the crawl's reasons, written to the drop log. No Scrapy engine runs: the
records come from the same extraction core the spiders call (see :mod:`newsbot.archive.batch`).

Exit codes: 0 done; 1 nothing could be read (every file unreadable) or part of the pass failed; 2 a usage
error (bad path, no file matched, unknown site, an output it cannot write), reported in one line; 130
interrupted (Ctrl-C); 141 standard output closed by its reader (``-O - | head``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging, get_scrapy_root_handler

from newsbot.archive import expand_paths
from newsbot.archive.batch import ArchivePass, OutputClosed, PassResult
from newsbot.archive.router import site_names
from newsbot.commands import EXIT_FAILED, EXIT_PIPE_CLOSED, ProjectCommand, check_settings
from newsbot.crawl.arguments import positive_int

logger = logging.getLogger("newsbot.archive")

# Where records and drops go when the command line names no feed: as a crawl's, under the name "warc".
FEED_NAME = "warc"
JSON_LINES_SUFFIXES = (".jsonl", ".jl", ".jsonlines", ".ndjson")
# The formats a crawl's feed offers (``-a warc=`` reads the same archive into them).
OTHER_FORMATS = {".json": "JSON", ".parquet": "PARQUET", ".csv": "CSV", ".xml": "XML"}


class Command(ProjectCommand, ScrapyCommand):
    usage = "[options] PATH [PATH ...]"
    summary = "Extract the articles in WARC files (e.g. Common Crawl CC-NEWS) with the site rules"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-O", "--overwrite-output", metavar="FILE", help="write records to FILE (overwritten)")
        parser.add_argument("-o", "--output", metavar="FILE", help="append records to FILE")
        parser.add_argument("--sites", default="all", metavar="SITE,...",
                            help="the sites whose articles to extract (default: all)")
        parser.add_argument("--generic", action="store_true",
                            help="read the pages of hosts no site claims with the generic rules")
        parser.add_argument("--processes", default="1", metavar="N",
                            help="worker processes (files, or byte ranges of one file, are spread over them)")
        parser.add_argument("--stats", metavar="FILE", help="write the pass's counts as JSON to FILE")

    def check_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        check_settings(self.settings, opts.set)
        try:
            self.paths = expand_paths(args)
            self.sites = site_names(opts.sites)
            self.processes = positive_int(opts.processes, f"--processes {opts.processes!r}")
        except ValueError as problem:
            raise UsageError(str(problem)) from None
        if opts.overwrite_output and opts.output:
            raise UsageError("give -O FILE or -o FILE, not both")
        date = datetime.now(UTC).strftime("%Y-%m-%d")
        template = {"name": FEED_NAME, "date": date}
        feed = opts.overwrite_output or opts.output or self.settings.get("NEWSBOT_FEED") % template
        said = feed.endswith(":jsonlines")
        named = feed.removeprefix("file://").removesuffix(":jsonlines")
        if named in ("-", "stdout:"):
            # As Scrapy's -O -: the records on standard output (the log is on standard error), for a pipe.
            named, said = "/dev/stdout", True
        self.feed_path = Path(named)
        suffix = self.feed_path.suffix.lower()
        # The pass writes its feed itself, as JSON Lines: a name that promises another format (a .json array,
        # a .parquet table, a .gz file) would hold JSON Lines, which its reader would refuse or misread.
        if not said and suffix not in JSON_LINES_SUFFIXES:
            other = OTHER_FORMATS.get(suffix)
            raise UsageError(f"{self.feed_path}: scrapy warc writes JSON Lines (-O out.jsonl); " + (
                f"crawl with -a warc=... to get {other}" if other
                else f"to keep this name, say so: -O {self.feed_path}:jsonlines"))
        drop_log = self.settings.get("NEWSBOT_DROP_LOG")
        self.drop_path = Path(drop_log % template) if drop_log else None
        for output in filter(None, (self.feed_path, self.drop_path, Path(opts.stats) if opts.stats else None)):
            try:
                output.parent.mkdir(parents=True, exist_ok=True)
                output.open("ab").close()
            except OSError as problem:
                raise UsageError(f"cannot write {output}: {problem.strerror or problem}") from None

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        _log_at_handler_level()
        archive_pass = ArchivePass(
            self.paths, sites=self.sites, generic=opts.generic, processes=self.processes, feed=self.feed_path,
            append=not opts.overwrite_output, drop_log=self.drop_path,
            max_size=self.settings.getint("DOWNLOAD_MAXSIZE"),
            segment_bytes=self.settings.getint("NEWSBOT_WARC_SEGMENT_BYTES"),
            progress_interval=self.settings.getfloat("NEWSBOT_PROGRESS_INTERVAL"),
        )
        try:
            result = archive_pass.run()
        except KeyboardInterrupt:
            print(f"scrapy warc: interrupted; {self.feed_path} holds the records written so far", file=sys.stderr)
            self.exitcode = 130
            return
        except OutputClosed as closed:
            # As a Unix filter under `| head`: a reader that has what it wants is no error to report at length;
            # the status is the one a shell gives a writer ended by SIGPIPE, so a script can tell.
            self.fail(str(closed), EXIT_PIPE_CLOSED)
        for line in summary_lines(result):
            logger.info("%s", line)
        if opts.stats:
            Path(opts.stats).write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
        written = sum(result.counts[f"{site}/records"] for site in result.sites())
        logger.info("wrote %d records to %s", written, self.feed_path)
        failure = _failure(result)
        if failure:
            self.fail(failure, EXIT_FAILED)


def _log_at_handler_level() -> None:
    # As newsbot.crawl.extensions.LogLevelFloor: the loggers' level is the handler's, so trafilatura's debug
    # calls (three per article) return at once instead of building records the handler drops.
    handler = get_scrapy_root_handler()
    if handler is not None and handler.level > logging.DEBUG:
        logging.root.setLevel(handler.level)


def _failure(result: PassResult) -> str | None:
    """Why the pass failed (exit code 1), or None."""
    counts = result.counts
    if result.readable_records == 0 and result.unreadable and len(result.unreadable) == len(result.files):
        reasons = ", ".join(f"{Path(path).name} ({reason})" for path, reason in result.unreadable.items())
        return f"no record read, every file was unreadable: {reasons}"
    failed = counts["archive/units_failed"] + counts["archive/units_died"]
    if failed:
        return f"{failed} part(s) of the pass failed (see the log); their records are missing"
    return None


def summary_lines(result: PassResult) -> list[str]:
    """The end summary: the archive, then one line per site (articles = records + dropped + skipped)."""
    summary = result.summary()
    archive = summary["archive"]
    bad = {k.removeprefix("bad/"): v for k, v in archive.items() if k.startswith("bad/")}
    skipped = {k.removeprefix("skipped/"): v for k, v in archive.items() if k.startswith("skipped/")}
    lines = [
        f"archive: {len(result.files)} files ({len(result.unreadable)} unreadable), "
        f"{archive.get('records', 0)} WARC records, {archive.get('responses', 0)} HTTP responses, "
        f"{archive.get('other_hosts', 0)} of hosts no site claims"
        + (f"; bad records: {_counts(bad)}" if bad else "")
        + (f"; other record types: {_counts(skipped)}" if skipped else "")
        + f"; {result.seconds:.1f} s",
    ]
    for site, numbers in summary["sites"].items():
        line = (f"{site}: {numbers['articles']} article pages -> {numbers['records']} records, "
                f"{sum(numbers['dropped'].values())} dropped")
        if numbers["dropped"]:
            line += f" ({_counts(numbers['dropped'])})"
        line += f", {sum(numbers['skipped'].values())} skipped"
        if numbers["skipped"]:
            line += f" ({_counts(numbers['skipped'])})"
        line += f"; {numbers['pages']} further pages, {numbers['not_article']} non-article URLs"
        lines.append(line)
    return lines


def _counts(numbers: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(numbers.items(), key=lambda kv: (-kv[1], kv[0])))
