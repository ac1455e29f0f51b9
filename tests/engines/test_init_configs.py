"""The landing site's own mixpanel.init in Firefox and WebKitGTK, for the configurations
that decide what is stored (tests/browser/test_init_configs.py runs them all in Chromium):
B keeps exactly what its SDK alone keeps, with A's ids, and nothing when its SDK is
blocked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.browser.harness import SDK, SITE_A, Sites
from tests.browser.test_init_configs import (
    BLOCKED,
    EVERYTHING,
    LOADED,
    ROWS,
    Row,
    Visit,
    assert_joined_like_the_sdk,
    assert_nothing_kept,
    build_sites,
    compare,
    first_events,
    kept,
    settled,
)
from tests.engines.driver import Driver, evaluate, sdk_loaded, wait_for

pytestmark = pytest.mark.browser

STORAGE_ROWS = (
    "default-cookie",
    "localStorage",
    "cookie_domain",
    "cross_subdomain_cookie-false",
    "session-cookie",
    "30-day-cookie",
    "disable_persistence",
    "opt-out-undecided",
)
BLOCKED_ROWS = ("default-cookie", "session-cookie")


def journey(driver: Driver, sites: Sites, row: Row, sdk: str, xdlink: bool) -> Visit:
    """As tests/browser/test_init_configs.py's journey, by a new visitor of the engine."""
    build_sites(sites, row, sdk, xdlink)
    driver.goto(sites.url(SITE_A))
    sdk_loaded(driver)
    device: str = evaluate(driver, "mixpanel.get_property('$device_id')")
    driver.click("#to-b")
    on_b = f"location.hostname == {row.host!r} && location.pathname == '/landing.html'"
    wait_for(driver, f"{on_b} && document.body")
    kept_early = ""
    if not row.tracks:
        assert not evaluate(driver, f"!!({LOADED})")
        kept_early = evaluate(driver, EVERYTHING)
    wait_for(driver, f"{on_b} && document.readyState == 'complete'")
    kept_at_load = None
    if sdk == BLOCKED:
        time.sleep(0.5)
        kept_at_load, _ = kept(driver.cookies(), lambda script: evaluate(driver, script))
    else:
        sdk_loaded(driver)
    events = first_events(sites, row) if row.tracks and sdk != BLOCKED else settled(sites, row)
    driver.goto(sites.url(row.host, "/next.html"))
    stored, ids = kept(driver.cookies(), lambda script: evaluate(driver, script))
    return Visit(device, events, stored, ids, kept_at_load, kept_early)


def journeys(
    visitors: Callable[[], Driver], sites: Sites, row: Row, sdk: str
) -> Callable[[bool], Visit]:
    """The journey by a new visitor each time, with xdlink on B or without."""
    return lambda xdlink: journey(visitors(), sites, row, sdk, xdlink)


@pytest.mark.parametrize("name", STORAGE_ROWS)
def test_b_keeps_what_its_sdk_keeps(
    engine: str, visitors: Callable[[], Driver], sites: Sites, name: str
) -> None:
    row = ROWS[name]
    joined, alone = compare(row, journeys(visitors, sites, row, SDK))
    assert_joined_like_the_sdk(row, joined, alone)


@pytest.mark.parametrize("name", BLOCKED_ROWS)
def test_a_blocked_sdk_keeps_nothing(
    engine: str, visitors: Callable[[], Driver], sites: Sites, name: str
) -> None:
    row = ROWS[name]
    assert_nothing_kept(*compare(row, journeys(visitors, sites, row, BLOCKED)))
