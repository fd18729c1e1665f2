"""Rules for any site without its own module: trafilatura on the whole page, then shared cleanup."""

from __future__ import annotations

import re

from newsbot.sites.base import SiteRules
from newsbot.text import Dateline


class GenericRules(SiteRules):
    name = "generic"
    version = "1"
    # Widgets trafilatura sometimes keeps: related/recommended lists, share bars, newsletter and video boxes.
    drop_selectors = (
        "nav", "aside", "footer", "form",
        "[class*='related']", "[class*='recommend']", "[id*='related']", "[class*='share']",
        "[class*='social']", "[class*='newsletter']", "[class*='breadcrumb']", "[class*='video-player']",
        "[class*='ad-label']", "[class*='advert']", "[class*='comment']", "[class*='author-box']",
        "[class*='post-meta']", "[class*='entry-meta']",
    )
    tag_selectors = ("[class*='tags'] a[href*='/tag/']", "a[rel~='tag']")
    caption_selectors = ("[class*='featured'] figcaption", "[class*='featured'] .wp-caption-text")
    datelines = (
        Dateline(re.compile(r"^(?P<place>[A-Z][A-Z .']{2,30}?)(?:,\s*[\w .]+?)?\s*[-–—]{1,2}\s+")),
    )
    # Outlet tags such as "(Reuters)" or "(ANTARA)" that open the text are part of the dateline, not the body.
    title_suffix = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")
