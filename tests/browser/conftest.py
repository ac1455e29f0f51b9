"""Fixtures of the end-to-end tests; the machinery lives in harness.py (the browser itself
is shared with the demo test from tests/conftest.py)."""

from tests.browser.harness import server, sites, wait

__all__ = ["server", "sites", "wait"]
