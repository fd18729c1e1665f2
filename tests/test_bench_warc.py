"""The archive benchmark's input: distinct article pages of every site, the sites taking turns."""

from __future__ import annotations

from newsbot.archive.reader import RecordHead, open_archive, scan
from newsbot.archive.router import Router, site_names
from tools.bench_warc import build_archive
from tools.site_copies import SITES

from .conftest import FIXTURES


def test_the_bench_archive_holds_distinct_article_pages_of_every_site_interleaved(tmp_path):
    path, pages = build_archive(42, tmp_path, FIXTURES)
    heads = [h for h in scan(open_archive(path)) if isinstance(h, RecordHead)]
    assert [h.url for h in heads] == [url for url, _ in pages]
    assert len({url for url, _ in pages}) == len({body for _, body in pages}) == 42
    router = Router(site_names("all"))
    sites = [router.route(url).site for url, _ in pages]
    assert all(router.route(url).kind == "article" for url, _ in pages)
    assert sites[:4] == list(SITES) and {sites.count(site) for site in SITES} == {10, 11}
