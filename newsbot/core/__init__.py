"""The extraction core: a response's bytes and URL, and a site's rules, in; an article record or a typed
rejection out. Pure functions of their inputs: nothing here imports Scrapy."""
