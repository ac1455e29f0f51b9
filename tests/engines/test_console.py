"""The machinery itself: each engine is the version named in tests/engines/__init__.py, and
its console check sees console errors and page errors, excuses those that the page gives
without xdlink too, and no others."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.harness import SITE_A, Sites
from tests.engines import VERSIONS
from tests.engines.console import unexplained_errors
from tests.engines.driver import Driver, wait_for

pytestmark = pytest.mark.browser

# Errors of the page's own (there without xdlink too, one with an id it makes afresh on each
# visit), then errors of a broken xdlink.
PAGE = (
    "<script>console.error('the page on purpose'); setTimeout(() => missing());"
    " console.error('a fresh id ' + String(Math.random()).slice(2, 10).padEnd(8, '0')"
    " + '-0000-7000-8000-000000000000');</script>"
)
BREAK = "console.error('xdlink on purpose'); setTimeout(() => { throw Error('xdlink thrown'); });"


def test_engines_are_the_ones_named(engine: str, driver: Driver) -> None:
    assert driver.version.startswith(VERSIONS[engine]), (
        f"{engine} is {driver.version}: update tests/engines/__init__.py and docs/browsers.md"
    )


def test_errors_that_only_xdlink_gives_fail_the_test(
    new_visitor: Callable[[], Driver], sites: Sites
) -> None:
    sites.build(SITE_A, {"index.html": PAGE}, head=sites.mixpanel())
    page = sites.root / SITE_A / "index.html"
    broken = re.sub(r"(<script data-xdlink[^>]*>)", rf"\1{BREAK}", page.read_text(), count=1)
    assert broken != page.read_text()
    page.write_text(broken)
    driver = new_visitor()
    try:
        driver.goto(sites.url(SITE_A))
        wait_for(driver, "window.mixpanel && mixpanel.__loaded")
        sites.page_views(SITE_A)
        errors = [message for message in driver.messages() if message.level == "error"]
    finally:
        driver.close()
    texts = sorted(error.text for error in errors)
    assert len(errors) == 5, texts
    unexplained = sorted(error.text for error in unexplained_errors(errors, new_visitor, sites))
    assert len(unexplained) == 2, unexplained
    assert unexplained[0].endswith("xdlink thrown")
    assert unexplained[1] == "xdlink on purpose"
