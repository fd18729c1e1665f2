"""A small copy of Tribunnews served from 127.0.0.1, for crawling through Scrapy's real download path.

The spiders crawl the site's real https:// URLs; the test points Scrapy at a local proxy (``https_proxy``),
which accepts the CONNECT tunnel, terminates TLS with a throwaway self-signed certificate (Scrapy does
not verify certificates) and answers from the copy. Nothing leaves the machine, and the spider, its
URLs, robots.txt handling, redirects and retries are exactly those of a live crawl.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import http.server
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from newsbot.fixtures.case import find_cases

HTML = "text/html; charset=UTF-8"
XML = "application/xml; charset=UTF-8"
TEMPLATE_URL = "https://www.tribunnews.com/nasional/7827148/baleg-dpr-mulai-bahas-revisi-uu-pemilu-ambang-batas-parlemen-jadi-sorotan"
# robots.txt forbids this section: its article is listed but must never be fetched.
FORBIDDEN_PREFIX = "https://www.tribunnews.com/premium/"


@dataclass
class Page:
    status: int
    content_type: str
    body: bytes


@dataclass
class SiteCopy:
    pages: dict[str, Page] = field(default_factory=dict)
    articles: list[str] = field(default_factory=list)  # article URLs a crawl must write
    forbidden: list[str] = field(default_factory=list)  # article-shaped URLs robots.txt disallows


def build_tribun_copy(fixtures: Path, generated: int = 20) -> SiteCopy:
    """The six Tribun fixture articles (their own pages, multi-page ones included) plus ``generated``
    distinct articles made from one of them, listed in a sitemap index, two news sitemaps and a
    two-page index."""
    site = SiteCopy()
    for case in find_cases(fixtures / "tribun"):
        if case.kind != "article":
            continue
        for url, stored in case.responses.items():
            site.pages[url] = Page(stored.status, stored.headers.get("Content-Type", HTML), stored.path.read_bytes())
        clean = case.url.split("?")[0]
        (site.forbidden if clean.startswith(FORBIDDEN_PREFIX) else site.articles).append(clean)
    template = site.pages[TEMPLATE_URL].body.decode("utf-8")
    for n in range(1, generated + 1):
        url = f"https://www.tribunnews.com/nasional/{8100000 + n}/salinan-uji-berita-nomor-{n}"
        site.pages[url] = Page(200, HTML, _variant(template, url, n))
        site.articles.append(url)

    listed = site.articles + site.forbidden
    half = len(listed) // 2
    site.pages["https://www.tribunnews.com/robots.txt"] = Page(
        200, "text/plain", b"User-agent: *\nDisallow: /premium/\nDisallow: /tag/\nDisallow: /search\n")
    site.pages["https://www.tribunnews.com/sitemap.xml"] = Page(200, XML, _sitemap_index([
        "https://www.tribunnews.com/nasional/sitemap-news.xml", "https://www.tribunnews.com/sport/sitemap-news.xml",
        "https://www.tribunnews.com/nasional/sitemap-news-images.xml"]))
    site.pages["https://www.tribunnews.com/nasional/sitemap-news.xml"] = Page(200, XML, _news_sitemap(listed[:half]))
    site.pages["https://www.tribunnews.com/sport/sitemap-news.xml"] = Page(
        200, XML, _news_sitemap([*listed[half:], "https://www.tribunnews.com/tag/salinan-uji"]))
    # The index repeats some sitemap entries (as the real one does) and is split over two pages.
    third = len(listed) // 3
    site.pages["https://www.tribunnews.com/index-news"] = Page(200, HTML, _index(listed[:third], 1, 2))
    site.pages["https://www.tribunnews.com/index-news?page=2"] = Page(200, HTML, _index(listed[third:2 * third], 2, 2))
    return site


def _variant(template: str, url: str, n: int) -> bytes:
    """The template article as a distinct article at ``url``: its own id, path, headline and one more paragraph."""
    new_path, new_id = urlsplit(url).path, url.split("/")[4]
    old_path = urlsplit(TEMPLATE_URL).path
    html = template.replace(old_path, new_path).replace("7827148", new_id)
    doc = lxml.html.fromstring(html)
    for h1 in doc.cssselect("h1"):
        h1.text = f"Salinan uji berita nomor {n}"
    body = doc.cssselect("div.side-article.txt-article")[0]
    paragraph = lxml.html.fromstring(
        f"<p>Paragraf ini hanya ada pada salinan uji nomor {n}, agar setiap artikel salinan berbeda isinya.</p>")
    paragraphs = body.findall("p")
    paragraphs[min(3, len(paragraphs) - 1)].addnext(paragraph)
    return lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>")


def _sitemap_index(children: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{u}</loc><lastmod>2026-07-24T17:20:00+07:00</lastmod></sitemap>" for u in children)
    return (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</sitemapindex>").encode()


def _news_sitemap(urls: list[str]) -> bytes:
    items = "".join(
        f"<url><loc><![CDATA[{u}]]></loc><news:news><news:publication><news:name>Tribunnews</news:name>"
        f"<news:language>id</news:language></news:publication>"
        f"<news:publication_date>2026-07-24T17:16:29+07:00</news:publication_date>"
        f"<news:title>Berita {n}</news:title></news:news></url>"
        for n, u in enumerate(urls))
    return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{items}</urlset>').encode()


def _index(urls: list[str], page: int, pages: int) -> bytes:
    items = "".join(
        f'<li class="ptb15"><time class="grey">Jumat, 24 Juli 2026 17:{n:02d} WIB</time>'
        f'<h4 class="red fbo2 f14"><a href="https://www.tribunnews.com/topic/topik-{n}">Topik {n}</a></h4>'
        f'<h3 class="f16 fbo"><a href="{u}">Berita {n}</a></h3></li>'
        for n, u in enumerate(urls))
    links = "".join(f'<a href="https://www.tribunnews.com/index-news?page={p}">{p}</a>' for p in range(1, pages + 1))
    return (f'<!DOCTYPE html><html lang="id-ID"><head><meta charset="utf-8"><title>Indeks Berita - Tribunnews.com'
            f'</title></head><body><div class="content"><span class="fbo f14 pr20">Halaman {page}</span>'
            f'<ul class="lsi">{items}</ul><div id="paginga"><div class="paging">{links}</div></div></div>'
            f"</body></html>").encode()


# The server ------------------------------------------------------------------------------------------
class SiteServer:
    """The copy behind a local HTTP(S) proxy on 127.0.0.1; counts every request it answers, by URL."""

    def __init__(self, site: SiteCopy, workdir: Path, delay: float = 0.0,
                 faults: dict[str, list[str]] | None = None, slow_seconds: float = 3.0) -> None:
        self.site = site
        self.delay = delay
        # URL -> faults to answer with, one per request in order; "always:<fault>" never runs out.
        self.faults = {url: list(kinds) for url, kinds in (faults or {}).items()}
        self.slow_seconds = slow_seconds
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        cert, key = _self_signed(workdir)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self._server = _ThreadingServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def fault_for(self, url: str) -> str | None:
        with self._lock:
            kinds = self.faults.get(url.removesuffix("?loop=1"))
            if not kinds:
                return None
            if kinds[0].startswith("always:"):
                return kinds[0].removeprefix("always:")
            return kinds.pop(0)

    def answer(self, url: str) -> Page:
        with self._lock:
            self.requests[url] += 1
        page = self.site.pages.get(url)
        if page is None:
            return Page(404, HTML, b"<html><body><h1>404 Not Found</h1></body></html>")
        if self.delay and page.content_type == HTML:
            time.sleep(self.delay)
        return page


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Resets and timeouts are what the fault tests inject; the client's view is what they check.
        pass


def _handler_for(server: SiteServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        origin = ""  # "https://host" inside a CONNECT tunnel; empty for absolute-form proxy requests

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_CONNECT(self) -> None:
            host = self.path.split(":")[0]
            self.send_response(200, "Connection established")
            self.end_headers()
            try:
                tunnel = server.tls.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                self.close_connection = True
                return
            inner = type("Tunnel", (Handler,), {"origin": f"https://{host}"})
            inner(tunnel, self.client_address, self.server)
            self.close_connection = True

        def do_GET(self) -> None:
            url = self.origin + self.path if self.origin else self.path
            fault = server.fault_for(url)
            page = server.answer(url)
            headers = {"Content-Type": page.content_type}
            body, status = page.body, page.status
            if fault in ("500", "503", "429"):
                status, body = int(fault), f"<html><body>error {fault}</body></html>".encode()
                headers = {"Content-Type": HTML, "Retry-After": "0"}
            elif fault == "slow":
                time.sleep(server.slow_seconds)
            elif fault == "reset":
                # An abortive close: the client sees a connection reset, not an answer.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            elif fault == "truncated":
                self.send_response(200)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.close()
                self.close_connection = True
                return
            elif fault == "redirect-loop":
                status, body = 302, b""
                headers = {"Location": url.removesuffix("?loop=1") if url.endswith("?loop=1") else url + "?loop=1"}
            elif fault == "off-site":
                status, body, headers = 301, b"", {"Location": "https://evil.example.net/steal"}
            elif fault == "gzip-bomb":
                body = gzip_bomb()
                headers = {"Content-Type": HTML, "Content-Encoding": "gzip"}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@functools.cache
def gzip_bomb() -> bytes:
    """64 MB of zeros in about 64 KB of gzip."""
    return gzip.compress(b"\0" * (64 << 20), compresslevel=9)


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsbot test site copy")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("tribunnews.com"), x509.DNSName("*.tribunnews.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path

