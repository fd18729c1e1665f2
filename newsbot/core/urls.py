"""URL normalization: tracking parameters out, fragments out, relative links made absolute."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|yclid|"
    r"ref|ref_src|src|source|cmpid|spm|share|amp)$",
    re.IGNORECASE,
)


def strip_tracking(url: str, drop: tuple[str, ...] = ()) -> str:
    """``url`` without tracking parameters (and without the query keys in ``drop``) or fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k) and k not in drop]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def absolute(base: str, href: str | None) -> str | None:
    if not href or not href.strip():
        return None
    href = href.strip()
    if href.startswith(("javascript:", "mailto:", "data:", "#")):
        return None
    return urljoin(base, href)


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` set in its query (replacing existing values)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def query_int(url: str, key: str, default: int) -> int:
    """The integer value of query parameter ``key`` in ``url``, or ``default``."""
    for k, v in parse_qsl(urlsplit(url).query):
        if k == key and v.isdigit():
            return int(v)
    return default
