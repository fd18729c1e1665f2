"""Dates as Indonesian news pages write them, normalized to ISO 8601 with seconds and a UTC offset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
ZONES = {"WIB": WIB, "WITA": timezone(timedelta(hours=8), "WITA"), "WIT": timezone(timedelta(hours=9), "WIT")}

# Indonesian full and short names, plus English ones for republished or bilingual pages.
MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "pebruari": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "agust": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}

_ISO = re.compile(
    r"^\s*(\d{4})[-/](\d{2})[-/](\d{2})"
    # "2015-11-05T10:08:58Z", "2015-11-05 10:08", and the stray space of "2015-11-05 T10:08:58Z"
    r"(?:(?:\s*T\s*|\s+)(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
_TIME = (r"(?:[^\d]{0,6}?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?"
         r"(?:\s*(?P<ampm>[ap])\.?m\b\.?)?)?"
         r"(?:\s*(?P<zone>WIB|WITA|WIT|UTC|GMT)\b)?")
# "Kamis, 14 September 2023 - 20:22 WIB", "21 Juni 2024", "4 November 2015 | 21:04 WIB"
_HUMAN = re.compile(r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]+)\.?,?\s+(?P<year>\d{4})" + _TIME, re.IGNORECASE)
# English order, as republished and English-language pages write it: "November 18, 2019 10:15 AM"
_HUMAN_MONTH_FIRST = re.compile(
    r"\b(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})" + _TIME, re.IGNORECASE
)


def _offset(raw: str | None, default: timezone) -> timezone:
    if not raw:
        return default
    if raw.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = 1 if raw[0] == "+" else -1
    digits = raw[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))


def format_iso(moment: datetime) -> str:
    """``2024-06-21T10:15:00+07:00``: seconds always, ``+00:00`` rather than ``Z``."""
    return moment.isoformat(timespec="seconds")


def parse_iso(raw: str | None, default_tz: timezone = WIB) -> str | None:
    """Normalize a machine-readable date (JSON-LD, meta, ``<time datetime>``); None if it is not one.

    A value with no offset is local time in ``default_tz``; a value with an offset keeps it.
    """
    if not raw:
        return None
    match = _ISO.match(raw)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            tzinfo=_offset(zone, default_tz),
        )
    except ValueError:
        return None
    return format_iso(moment)


def parse_human(raw: str | None, default_tz: timezone = WIB) -> str | None:
    """Normalize a visible date such as ``Kamis, 14 September 2023 - 20:22 WIB``,
    ``Jumat, 21 Juni 2024 | 10:15``, ``Jum'at, 24 Juli 2026``, ``21 Agt 2024`` or ``November 18, 2019 10:15 AM``;
    None if none is found."""
    if not raw:
        return None
    for pattern in (_HUMAN, _HUMAN_MONTH_FIRST):
        for match in pattern.finditer(raw):
            moment = _moment(match, default_tz)
            if moment is not None:
                return format_iso(moment)
    return None


def _moment(match: re.Match[str], default_tz: timezone) -> datetime | None:
    month = MONTHS.get(match["month"].lower())
    if month is None:
        return None
    hour = int(match["hour"] or 0)
    if match["ampm"]:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if match["ampm"].lower() == "p" else 0)
    zone = match["zone"] or ""
    tz = ZONES.get(zone.upper()) or (UTC if zone.upper() in ("UTC", "GMT") else default_tz)
    try:
        return datetime(int(match["year"]), month, int(match["day"]), hour, int(match["minute"] or 0),
                        int(match["second"] or 0), tzinfo=tz)
    except ValueError:
        return None
