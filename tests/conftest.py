"""Test options shared by every test module."""

from __future__ import annotations

import pytest

# One browser for the whole session, shared by tests/browser and the demo test: Playwright's
# sync API cannot start a second instance while the first one runs.
from tests.browser.harness import browser, browsing

__all__ = ["browser", "browsing"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite fixtures/cases/*/expected.* from the current output (review the diff!)",
    )
    parser.addoption("--slow", action="store_true", help="also run long randomized tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long randomized run: pass --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
