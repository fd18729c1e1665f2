"""Rules for any site without its own module: the article found on the whole page (:mod:`newsbot.maintext`),
then the shared block and line cleanup.

No body or drop selectors: pruning by class-name substrings before trafilatura (``[class*='share']``) removed
whole articles on real pages, so nothing is removed by its name here."""

from __future__ import annotations

import re

from newsbot.sites.base import SiteRules
from newsbot.text import Dateline


class GenericRules(SiteRules):
    name = "generic"
    version = "2"
    tag_selectors = ("[class*='tags'] a[href*='/tag/']", "a[rel~='tag']")
    caption_selectors = ("[class*='featured'] figcaption", "[class*='featured'] .wp-caption-text")
    datelines = (
        Dateline(re.compile(r"^(?P<place>[A-Z][A-Z .']{2,30}?)(?:,\s*[\w .]+?)?\s*[-–—]{1,2}\s+")),
    )
    # Outlet tags such as "(Reuters)" or "(ANTARA)" that open the text are part of the dateline, not the body.
    title_suffix = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")
