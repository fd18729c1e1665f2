"""Tools for people and tests, outside the runtime: no crawl imports anything here."""
