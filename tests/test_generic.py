"""The generic path as a specification: what it keeps, what it removes, and when a page is no article.

Each page here is written for the rule it tests, in the shapes real templates use (WordPress themes, news CMSs);
none is copied from the real-page benchmarks, whose figures `make bench` reports instead.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsbot.core.extract import extract_article
from newsbot.core.reasons import ExtractionError, NotAnArticle, Rejected
from newsbot.fixtures.case import find_cases
from newsbot.sites import get_rules
from newsbot.sites.generic import GenericRules

from .conftest import FIXTURES, assert_clean_log, crawl_stats

GENERIC = get_rules("generic")
URL = "https://warta.example/nasional/2026/11/20/banjir-rob-jakarta-utara"

LEAD = ("Banjir rob kembali merendam sejumlah permukiman di pesisir Jakarta Utara pada Kamis pagi, setelah air laut "
        "pasang melampaui tanggul yang sebagian belum selesai dibangun oleh pemerintah provinsi.")
PROSE = [
    "Warga di Muara Angke mengatakan air mulai masuk ke rumah mereka sekitar pukul 05.00 WIB dan terus naik "
    "hingga setinggi lutut orang dewasa menjelang siang hari.",
    "Badan Penanggulangan Bencana Daerah mencatat lebih dari dua ribu rumah terdampak di tiga kelurahan, "
    "sementara puluhan keluarga memilih mengungsi ke masjid dan sekolah terdekat.",
    "Petugas menyiagakan pompa portabel di titik-titik terendah dan meminta warga tetap waspada karena "
    "pasang maksimum diperkirakan berulang hingga akhir pekan ini.",
    "Pemerintah provinsi menyatakan pembangunan tanggul pantai di segmen yang jebol akan dipercepat dan "
    "ditargetkan rampung sebelum musim hujan mencapai puncaknya pada awal tahun depan.",
]


def article_page(body: str, *, head: str = "", before: str = "", after: str = "") -> str:
    """A news page: header with a section-name <h1>, the article in a wrapper, sidebars and a footer."""
    return f"""<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Banjir Rob Rendam Jakarta Utara - Warta Example</title>
<meta property="og:title" content="Banjir Rob Rendam Jakarta Utara | Warta Example">
<meta property="og:type" content="article"><meta property="og:site_name" content="Warta Example">
{head}</head><body>
<header class="site-header"><div class="logo"><a href="/">Warta Example</a></div><h1 class="section-title">Nasional</h1>
<nav><ul><li><a href="/nasional">Nasional</a></li><li><a href="/daerah">Daerah</a></li>
<li><a href="/ekonomi">Ekonomi</a></li></ul></nav></header>
<main><div class="share-wrapper social-share post-meta related-content">{before}
<article class="post"><h1 class="post-title">Banjir Rob Rendam Jakarta Utara</h1>
<div class="entry-content">{body}</div></article>{after}</div></main>
<aside class="sidebar"><h3>Terpopuler</h3><ol>
<li><a href="/a">Harga beras naik lagi menjelang akhir tahun di pasar induk</a></li>
<li><a href="/b">Timnas menang tipis atas tuan rumah di laga tandang semalam</a></li></ol></aside>
<footer><p>Copyright 2026 Warta Example. Hak cipta dilindungi.</p></footer></body></html>"""


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def body_of(html: str, url: str = URL) -> str:
    return extract_article(html.encode(), url, GENERIC, "text/html; charset=utf-8").articleBody


def test_an_article_inside_containers_named_share_related_or_meta_is_kept_whole():
    # The old generic rules pruned [class*='share'], [class*='related'], [class*='post-meta'] before
    # trafilatura, which removed whole articles on real sites.
    body = body_of(article_page(paragraphs(LEAD, *PROSE)))
    assert body.split("\n") == [LEAD, *PROSE]


def test_a_boilerplate_heading_is_removed_with_the_box_it_opens():
    box = ('<div class="inline-box-7f"><h4>Baca Juga</h4><ul><li><a href="/x">Pemprov siapkan dana darurat untuk '
           'korban banjir rob di pesisir</a></li><li><a href="/y">Tanggul laut raksasa masuk tahap lelang ulang '
           'tahun ini</a></li></ul></div>')
    body = body_of(article_page(paragraphs(LEAD, PROSE[0]) + box + paragraphs(*PROSE[1:])))
    assert body.split("\n") == [LEAD, *PROSE]


def test_a_loose_boilerplate_heading_takes_the_link_lines_after_it_not_the_prose():
    loose = ('<p><strong>Berita Terkait:</strong></p><p><a href="/x">Pemprov siapkan dana darurat untuk korban '
             'banjir rob</a></p><p><a href="/y">Tanggul laut raksasa masuk tahap lelang ulang</a></p>')
    body = body_of(article_page(paragraphs(LEAD, PROSE[0], PROSE[1]) + loose + paragraphs(PROSE[2], PROSE[3])))
    assert body.split("\n") == [LEAD, *PROSE]


def test_an_ai_summary_box_goes_whole_whatever_its_class():
    summary = ('<div class="xq-sum"><div class="xq-sum-title">Ringkasan Berita</div><ul>'
               '<li>Banjir rob merendam lebih dari dua ribu rumah di tiga kelurahan Jakarta Utara.</li>'
               '<li>Pemprov berjanji mempercepat pembangunan tanggul pantai di segmen yang jebol.</li></ul>'
               '<p class="xq-note">* Ringkasan ini dibantu dengan menggunakan AI</p></div>')
    body = body_of(article_page(summary + paragraphs(LEAD, *PROSE)))
    assert body.split("\n") == [LEAD, *PROSE]


def test_lists_of_links_and_link_lines_go_plain_lists_stay():
    links = ('<ul><li><a href="/1">Banjir rob juga terjadi di Semarang dan Pekalongan pekan lalu</a></li>'
             '<li><a href="/2">Warga Muara Baru bertahan di rumah panggung sejak bertahun-tahun</a></li>'
             '<li><a href="/3">BMKG memperingatkan pasang maksimum hingga pekan depan</a></li></ul>')
    plain = "<ul><li>Kelurahan Penjaringan</li><li>Kelurahan Pluit</li><li>Kelurahan Kamal Muara</li></ul>"
    link_line = '<p><a href="/4">Foto: Suasana banjir rob di Muara Angke pagi ini</a></p>'
    body = body_of(article_page(paragraphs(LEAD, PROSE[0]) + links + paragraphs(PROSE[1]) + plain + link_line
                                + paragraphs(PROSE[2], PROSE[3])))
    assert body.split("\n") == [LEAD, PROSE[0], PROSE[1], "- Kelurahan Penjaringan", "- Kelurahan Pluit",
                                "- Kelurahan Kamal Muara", PROSE[2], PROSE[3]]


def test_teaser_cards_of_other_stories_go():
    cards = "".join(
        f'<li class="card"><h3><a href="/lain/{n}">Judul berita lain nomor {n} tentang banjir di daerah</a></h3>'
        f"<span>20/11/2026 10:0{n}</span><p>Ringkasan singkat berita lain nomor {n} yang menceritakan kejadian "
        f"banjir di daerah lain pada pekan yang sama.</p></li>" for n in range(4))
    body = body_of(article_page(paragraphs(LEAD, *PROSE), after=f'<section><ul class="list-3">{cards}</ul></section>'))
    assert body.split("\n") == [LEAD, *PROSE]


def test_readers_comments_are_cut_from_their_heading_on_but_not_a_comments_line_up_top():
    comments = ('<div id="comments"><h3>3 Komentar</h3><div class="c"><p>Semoga cepat surut, kasihan warga yang '
                'rumahnya terendam air laut setiap tahun.</p></div><div class="c"><p>Tanggulnya harus segera '
                'diselesaikan, jangan menunggu korban lebih banyak lagi.</p></div></div>')
    body = body_of(article_page(paragraphs(LEAD, *PROSE), after=comments))
    assert body.split("\n") == [LEAD, *PROSE]
    early = body_of(article_page("<p>Komentar</p>" + paragraphs(LEAD, *PROSE)))
    assert early.split("\n") == ["Komentar", LEAD, *PROSE]


def test_an_article_split_over_sibling_containers_is_read_whole():
    # A template that splits the text around an ad slot into two containers of one kind: trafilatura reads one.
    first = "".join(f"<p>{t}</p>" for t in [LEAD, *PROSE])
    more = [p.replace("Jakarta", "Jakarta Utara") + " Demikian keterangan yang dihimpun di lapangan." for p in PROSE]
    second = "".join(f"<p>{t}</p>" for t in more)
    html = article_page(f'<div class="body-chunk grid-item">{first}</div><div class="ad-slot"><p>Iklan</p></div>'
                        f'<div class="body-chunk grid-item">{second}</div>')
    assert body_of(html).split("\n") == [LEAD, *PROSE, *more]


# Metadata ----------------------------------------------------------------------------------------------------
def meta_page(head: str, body_extra: str = "") -> GenericRules:
    return article_page(paragraphs(LEAD, *PROSE) + body_extra, head=head)


def record_of(html: str):
    return extract_article(html.encode(), URL, GENERIC, "text/html; charset=utf-8")


def test_headline_is_the_declared_title_without_the_site_name_never_the_section_h1():
    assert record_of(meta_page("")).headline == "Banjir Rob Rendam Jakarta Utara"


def test_headline_prefers_the_declared_title_an_h1_agrees_with():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Versi SEO yang lain sama sekali"}'
            "</script>")
    assert record_of(meta_page(head)).headline == "Banjir Rob Rendam Jakarta Utara"


def test_visible_indonesian_date_when_no_machine_date():
    html = article_page(paragraphs(LEAD, *PROSE)).replace(
        '<div class="entry-content">', '<div class="post-date">Rabu, 4 November 2015 | 21:04 WIB</div>'
                                       '<div class="entry-content">')
    article = record_of(html)
    assert (article.datePublished, article.datePublishedRaw) == ("2015-11-04T21:04:00+07:00",
                                                                 "Rabu, 4 November 2015 | 21:04 WIB")


def test_machine_date_with_a_stray_space_before_the_time():
    article = record_of(meta_page('<meta property="article:published_time" content="2015-11-05 T10:08:58Z">'))
    assert article.datePublished == "2015-11-05T10:08:58+00:00"


def test_authors_leave_out_the_name_the_page_labels_as_editor():
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Banjir Rob Rendam Jakarta Utara",'
          ' "author": {"@type": "Person", "name": "Heryadi"}, "publisher": {"@type": "Organization",'
          ' "name": "Warta Example"}}</script>')
    byline = '<div class="author-2">Naufal Zuhdi</div>'
    credit = '<div class="info-author">Editor : <a class="author" href="/author/112/heryadi">Heryadi</a></div>'
    html = article_page(paragraphs(LEAD, *PROSE) + credit, head=ld).replace(
        '<div class="entry-content">', f'{byline}<div class="entry-content">')
    article = record_of(html)
    assert [p.name for p in article.authors] == ["Naufal Zuhdi"]
    assert [p.name for p in article.editors] == ["Heryadi"]


def test_section_skips_the_breadcrumb_of_the_article_itself_and_tags_lose_the_hash():
    ld = ('<script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": ['
          '{"@type": "ListItem", "position": 1, "name": "Home", "item": "https://warta.example/"},'
          '{"@type": "ListItem", "position": 2, "name": "Nasional", "item": "https://warta.example/nasional"},'
          f'{{"@type": "ListItem", "position": 3, "name": "Banjir Rob Rendam Jakarta Utara", "item": "{URL}"}}]}}'
          '</script><meta name="keywords" content="# banjir rob, #Jakarta Utara">')
    article = record_of(meta_page(ld))
    assert article.articleSection == "Nasional"
    assert article.keywords == ["banjir rob", "Jakarta Utara"]


# Not an article ------------------------------------------------------------------------------------------
def index_page(items: int = 60) -> str:
    links = "".join(f'<li><a href="/nasional/2026/11/{n % 28 + 1:02d}/berita-{n}">Judul berita nomor {n} tentang '
                    f"peristiwa penting di ibu kota hari ini</a></li>" for n in range(items))
    return (f'<!DOCTYPE html><html><head><title>Indeks Berita - Warta Example</title>'
            f'<meta property="og:type" content="website"></head><body><header><h1>Indeks</h1></header>'
            f'<main><ul class="index">{links}</ul><div class="paging"><a href="?page=2">2</a></div></main>'
            "</body></html>")


def test_an_index_of_headline_links_is_not_an_article():
    with pytest.raises(NotAnArticle, match="a listing page"):
        extract_article(index_page().encode(), "https://warta.example/indeks", GENERIC, "text/html")


def test_an_xml_sitemap_is_not_an_article():
    sitemap = (b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               + b"".join(b"<url><loc>https://warta.example/a/%d</loc></url>" % n for n in range(30)) + b"</urlset>")
    with pytest.raises(NotAnArticle, match="urlset"):
        extract_article(sitemap, "https://warta.example/sitemap.xml", GENERIC, "application/xml")


def test_a_page_trafilatura_gives_up_on_is_a_drop_not_a_warning_of_trafilatura(caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Rejected):
        extract_article(b"<html><head><title>Kosong</title></head><body></body></html>", "https://warta.example/a",
                        GENERIC, "text/html")
    given_up = [r for r in caplog.records if r.name.startswith("trafilatura") and "discarding" in r.getMessage()]
    assert given_up, "trafilatura did not give up on the page: the test page no longer tests anything"
    assert {r.levelname for r in caplog.records if r.name.startswith("trafilatura")} == {"DEBUG"}


LISTING_RESPONSES = [(case.site, url, stored) for case in find_cases(FIXTURES) if case.kind == "listing"
                     for url, stored in case.responses.items()]


@pytest.mark.parametrize(("site", "url", "stored"), LISTING_RESPONSES, ids=[f"{s}:{Path(r.path).name}"
                                                                            for s, _, r in LISTING_RESPONSES])
def test_no_listing_page_of_the_four_sites_becomes_a_record_through_the_generic_rules(site, url, stored):
    with pytest.raises(Rejected) as raised:
        extract_article(stored.path.read_bytes(), url, GENERIC, stored.headers.get("Content-Type"))
    assert raised.value.reason in ("not-article", "not-html")


def test_an_article_without_any_article_markup_is_still_an_article():
    html = (f"<html><head><title>Banjir Rob</title></head><body><div class='c'>{paragraphs(LEAD, *PROSE)}"
            f"</div></body></html>")
    assert body_of(html).split("\n") == [LEAD, *PROSE]


# Failures inside extraction ---------------------------------------------------------------------------------
def test_an_unexpected_exception_becomes_an_extraction_error_with_its_type(monkeypatch, caplog):
    def broken(self, page):
        raise ZeroDivisionError("division by zero in a field method")

    monkeypatch.setattr(GenericRules, "headline", broken)
    with caplog.at_level(logging.DEBUG, logger="newsbot.core.extract"), pytest.raises(ExtractionError) as raised:
        record_of(meta_page(""))
    assert raised.value.reason == "extraction-error"
    assert raised.value.detail == "ZeroDivisionError: division by zero in a field method"
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records)


def test_a_crawl_drops_a_page_whose_extraction_fails_and_keeps_the_accounting(tmp_path):
    # The real command in a subprocess, with one field method broken on purpose.
    case = tmp_path / "cases" / "broken"
    case.mkdir(parents=True)
    (case / "page.html").write_text(meta_page(""), encoding="utf-8")
    (case / "case.json").write_text(json.dumps({"url": URL, "responses": {URL: {"file": "page.html"}}}))
    script = (
        "import sys\n"
        "from newsbot.sites.generic import GenericRules\n"
        "def broken(self, page):\n    raise ZeroDivisionError('boom')\n"
        "GenericRules.headline = broken\n"
        "from scrapy.cmdline import execute\n"
        "execute(['scrapy'] + sys.argv[1:])\n"
    )
    drops = tmp_path / "dropped.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", script, "crawl", "generic", "-a", f"replay={case}", "-O", str(tmp_path / "out.jsonl"),
         "-s", "NEWSBOT_SEEN_STORE=", "-s", f"NEWSBOT_DROP_LOG={drops}", "-L", "INFO"],
        capture_output=True, text=True, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newsbot.settings"}, check=False)
    log = proc.stdout + proc.stderr
    assert_clean_log(log)  # the traceback is DEBUG, below the crawl's INFO: no ERROR, no traceback
    [dropped] = [json.loads(line) for line in drops.read_text().splitlines()]
    assert (dropped["url"], dropped["reason"]) == (URL, "extraction-error")
    assert dropped["detail"] == "ZeroDivisionError: boom"
    stats = crawl_stats(log)
    assert stats["newsbot/dropped/extraction-error"] == 1
    assert stats.get("item_scraped_count", 0) == 0
