"""Web archives: the site rules run over WARC files, and crawls recorded as WARC.

How an archive becomes records::

    WARC files -> reader: every response record, its position, problems as counted reasons    reader.py
               -> router: the record's URL names the site (by domain) and says article or not  router.py
               -> the extraction core, exactly as the spider calls it (pages from the archive)  batch.py
               -> validation and duplicates, as the pipelines -> one JSON Lines feed              batch.py
                  (in N processes, each record read by one of them)                              workers.py

``scrapy warc PATH...`` (:mod:`newsbot.commands.warc`) is that pass, without a Scrapy engine.
``scrapy crawl <site> -a warc=PATH`` answers the spider's requests from the archive instead
(:class:`~newsbot.archive.middleware.WarcReplayMiddleware`), and ``-a record=PATH.warc.gz`` writes a live
crawl's requests and responses as WARC (:class:`~newsbot.archive.middleware.WarcRecorderMiddleware`).
"""

from __future__ import annotations

import glob
from pathlib import Path

# A record= target with one of these endings is a WARC file; anything else is a fixture case directory.
WARC_SUFFIXES = (".warc", ".warc.gz")


def is_warc_path(path: str | Path) -> bool:
    return str(path).lower().endswith(WARC_SUFFIXES)


def expand_paths(specs: list[str] | tuple[str, ...]) -> list[Path]:
    """The WARC files named by ``specs`` (paths, globs, comma-separated lists of either), in order, each
    once. A directory stands for the ``*.warc``/``*.warc.gz`` files in it. Raises ValueError naming the
    first spec that matches nothing."""
    found: list[Path] = []
    for spec in specs:
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if glob.has_magic(part):
                matches = [Path(m) for m in sorted(glob.glob(part, recursive=True)) if Path(m).is_file()]
                if not matches:
                    raise ValueError(f"{part}: no file matches")
            elif Path(part).is_dir():
                matches = sorted(p for p in Path(part).iterdir() if p.is_file() and is_warc_path(p))
                if not matches:
                    raise ValueError(f"{part}: no *.warc or *.warc.gz file in this directory")
            elif Path(part).is_file():
                matches = [Path(part)]
            else:
                raise ValueError(f"{part}: no such file")
            found.extend(matches)
    if not found:
        raise ValueError("no WARC file given")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)
