"""PostHog across two domains in Firefox and WebKitGTK, with the real posthog-js releases and
its official snippet (tests/browser/test_posthog.py runs every case in Chromium). Each
journey runs twice, by a new visitor each time: on the pages without xdlink (the baseline:
PostHog alone splits the visitor) and on the same pages built by xdlink.

The table crosses both engines and both releases with each case once: the anonymous
visitor (joined, one session, a clean address) for each persistence the page's init can
choose, since each engine keeps cookies and localStorage its own way; an expired link;
an identified visitor; consent given later; both SDKs on one page. The engines are slow,
so what does not depend on the engine (a host-only cookie, persistence_name, a slow SDK,
a visitor identified on B, a refusal, a parked snippet, cookieless mode, a bundled
posthog-js) runs in Chromium only."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.harness import POSTHOG_RELEASES, SITE_A, SITE_B, Sites
from tests.browser.test_posthog import (
    EMAIL,
    LANDING,
    PARAM,
    STORED,
    assert_joined,
    assert_mixpanel,
    assert_split,
    build_pair,
    first,
    names_the_person,
    sent_from_b,
)
from tests.engines.driver import Driver, evaluate, wait_for, wait_for_url
from tests.engines.test_journey import open_from_a

pytestmark = pytest.mark.browser

Seen = tuple[dict[str, Any], dict[str, Any]]
LOADED = "window.posthog && posthog.__loaded"

# The persistence of the page's posthog.init: none given is localStorage+cookie.
PERSISTENCE = {
    "localStorage+cookie": {},
    "cookie": {"persistence": "cookie"},
    "localStorage": {"persistence": "localStorage"},
    "memory": {"persistence": "memory"},
}


def open_a(driver: Driver, sites: Sites, after: str = "") -> dict[str, Any]:
    """Open A, wait for its SDK, run the JavaScript expression ``after`` there; A's first
    page view."""
    driver.goto(sites.url(SITE_A))
    on_a = first(sites, SITE_A, "/")
    wait_for(driver, LOADED)
    if after:
        evaluate(driver, after)
    return on_a


def click_to_b(driver: Driver) -> None:
    driver.click("#to-b")
    wait_for_url(driver, SITE_B)


def visit_a_then_b(driver: Driver, sites: Sites, after: str = "") -> Seen:
    """The first page view on A, and the first on B after the click on A's link."""
    on_a = open_a(driver, sites, after)
    click_to_b(driver)
    return on_a, first(sites, SITE_B, LANDING)


def journeys(
    visitors: Callable[[], Driver], sites: Sites, sdk: str, **options: Any
) -> dict[bool, tuple[Seen, str]]:
    """The same journey on the pages without xdlink (False) and with it (True), each by a
    new visitor: the two page views and B's address once landed."""
    seen = {}
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, **options)
        driver = visitors()
        seen[xdlink] = visit_a_then_b(driver, sites), driver.url
    return seen


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
@pytest.mark.parametrize("persistence", PERSISTENCE)
def test_an_anonymous_visitor_is_one_person_in_one_session(
    engine: str, visitors: Callable[[], Driver], sites: Sites, persistence: str, sdk: str
) -> None:
    seen = journeys(visitors, sites, sdk, **PERSISTENCE[persistence])
    (alone, _), (joined, address) = seen[False], seen[True]
    assert_split(*alone)
    assert_joined(*joined, sites)
    assert address == sites.url(SITE_B, LANDING)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_an_expired_link_joins_nobody(
    engine: str, visitors: Callable[[], Driver], sites: Sites, sdk: str
) -> None:
    """A decorated address opened after the TTL: B's visitor is B's own, as without xdlink;
    the baseline is the same address with its parameter opened on pages without it."""
    head = sites.posthog(sdk=sdk)
    href = ""
    for xdlink in (True, False):
        sites.server.capture.reset()
        sites.build(SITE_A, {"index.html": "<p>A</p>"}, head=head, ttl=1, xdlink=xdlink)
        sites.build(SITE_B, {"landing.html": "<p>B</p>"}, head=head, ttl=1, xdlink=xdlink)
        driver = visitors()
        on_a = open_a(driver, sites)
        if xdlink:
            href = driver.call("(url) => xdlink.decorate(url)", sites.url(SITE_B, LANDING))
            assert PARAM in href
            time.sleep(2.5)
        open_from_a(driver, sites, href)
        assert_split(on_a, first(sites, SITE_B, LANDING))
        assert driver.url == (sites.url(SITE_B, LANDING) if xdlink else href)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_an_identified_visitor_carries_their_anonymous_id_never_their_own(
    engine: str, visitors: Callable[[], Driver], sites: Sites, sdk: str
) -> None:
    """Identified on A (an email): the link carries the device id PostHog linked to the
    person, and B's events go by that id; without xdlink B has a stranger."""
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink)
        on_a, on_b = visit_a_then_b(visitors(), sites, f"posthog.identify({EMAIL!r})")
        assert on_b["distinct_id"] != EMAIL
        assert (on_b["$device_id"] == on_a["$device_id"]) is xdlink, (on_a, on_b)
        assert (on_b["distinct_id"] == on_a["$device_id"]) is xdlink, (on_a, on_b)
        addresses = [request.target for request in sites.requests() if request.host == SITE_B]
        assert any(PARAM in address for address in addresses) is xdlink, addresses
        assert not any(names_the_person(address) for address in addresses), addresses


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_consent_given_later_carries_the_ids_from_its_first_event(
    engine: str, visitors: Callable[[], Driver], sites: Sites, sdk: str
) -> None:
    """B's PostHog waits for consent: nothing of A's is stored or sent before it, and from
    opt_in_capturing() on, $opt_in first, B's events carry A's ids."""
    waits = sites.posthog(sdk=sdk, opt_out_capturing_by_default=True)
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=waits)
        driver = visitors()
        on_a = open_a(driver, sites)
        click_to_b(driver)
        wait_for(driver, LOADED)
        assert on_a["$device_id"] not in evaluate(driver, STORED)
        assert sent_from_b(sites) == []
        evaluate(driver, "posthog.opt_in_capturing()")
        # $opt_in and the page view go in separate requests, which may arrive either way.
        opt_in = first(sites, SITE_B, LANDING, "$opt_in")
        view = first(sites, SITE_B, LANDING)
        assert sent_from_b(sites)[0] == opt_in
        assert (opt_in["distinct_id"] == on_a["$device_id"]) is xdlink, opt_in
        assert (view["distinct_id"] == on_a["$device_id"]) is xdlink, view
        assert (view["$session_id"] == on_a["$session_id"]) is xdlink, view
        assert (on_a["$device_id"] in evaluate(driver, STORED)) is xdlink


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_both_sdks_on_a_page_are_both_joined(
    engine: str, visitors: Callable[[], Driver], sites: Sites, sdk: str
) -> None:
    head = sites.mixpanel() + "\n" + sites.posthog(sdk=sdk)
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_a=head, head_b=head)
        driver = visitors()
        driver.goto(sites.url(SITE_A))
        on_a = first(sites, SITE_A, "/")
        mixpanel_a = sites.page_views(SITE_A, "/")[0]
        wait_for(driver, f"{LOADED} && mixpanel.__loaded")
        click_to_b(driver)
        on_b = first(sites, SITE_B, LANDING)
        assert_mixpanel(mixpanel_a, sites.page_views(SITE_B, LANDING)[0], xdlink)
        if xdlink:
            assert_joined(on_a, on_b, sites)
            assert driver.url == sites.url(SITE_B, LANDING)
        else:
            assert_split(on_a, on_b)
