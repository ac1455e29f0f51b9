"""Fixtures of the end-to-end tests; the machinery lives in harness.py."""

from tests.browser.harness import browser, browsing, server, sites, wait

__all__ = ["browser", "browsing", "server", "sites", "wait"]
