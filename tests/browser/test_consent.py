"""Consent: on a landing site whose Mixpanel waits for the visitor's consent, nothing of
the sender's is stored before it; the first event after it ($opt_in, or the first page
view of an SDK loaded at consent) carries the sender's ids; a refusal joins nobody.

Every case runs on the SDK releases the project pins: 2.45.0 (bare distinct_id, no
automatic page view), 2.61.2 and 2.83.0.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.browser.harness import SDK, SDK_245, SDK_261, SITE_A, SITE_B, TOKEN, Browsing, Sites
from tests.browser.test_crossing import LANDING, PARAM, device_on_a, link_to_b

pytestmark = pytest.mark.browser

RELEASES = [SDK, SDK_261, SDK_245]
# B's Mixpanel waits for consent; its SDK arrives a second late (see cross).
WAITS = {"opt_out_tracking_by_default": True, "delay": 1}
ACCEPT = "mixpanel.opt_in_tracking()"
REJECT = "mixpanel.opt_out_tracking()"
STORED = "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"


def build_sites(
    sites: Sites, sdk: str, head_b: str, pages_b: dict[str, str] | None = None, **options: Any
) -> None:
    """A tracks at once; B's pages carry ``head_b`` (a Mixpanel that waits for consent)."""
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=sites.mixpanel(sdk=sdk), **options)
    pages = pages_b or {"landing.html": "<p>B</p>", "before.html": "<p>B before</p>"}
    sites.build(SITE_B, pages, head=head_b, **options)


def click_to_b(page: Any, sites: Sites, wait_until: str = "load") -> str:
    """Open A in ``page`` and click its link to B; A's device id."""
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**", wait_until=wait_until)
    return device


def cross(browsing: Browsing, sites: Sites) -> tuple[Any, str]:
    """Open A, click to B; B's page once its SDK has loaded, and A's device id. B's SDK
    is held back (``delay``) to check storage before it runs: it clears its own storage
    at its start under opt_out_persistence_by_default, which would hide an early write."""
    page = browsing.page()
    device = click_to_b(page, sites, wait_until="domcontentloaded")
    assert PARAM not in page.url
    assert not page.evaluate("!!(window.mixpanel && mixpanel.__loaded)")
    assert_nothing_stored(page, device)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    return page, device


def assert_nothing_stored(page: Any, device: str) -> None:
    """No storage of the landing site holds the sender's id (the SDK's own id may be there:
    the SDK stores it on a first visit whatever xdlink does)."""
    assert device not in page.evaluate(STORED)


def first_event_after(sites: Sites, page: Any, script: str, path: str) -> dict[str, Any]:
    """Run ``script`` (the visitor's decision) on B's ``page``; B's first event after it."""
    assert sites.events(SITE_B, path) == [], "B sent an event before consent"
    page.evaluate(script)
    deadline = time.monotonic() + 10
    while not (events := sites.events(SITE_B, path)):
        assert time.monotonic() < deadline, "no event from B after consent"
        time.sleep(0.05)
    return events[0]


def assert_carries(event: dict[str, Any], device: str, sdk: str) -> None:
    assert event["$device_id"] == device, event
    assert event["distinct_id"] == (device if sdk == SDK_245 else "$device:" + device), event


def assert_stored_after_consent(page: Any, device: str) -> None:
    """After consent the SDK keeps the adopted ids itself, so the next page has them."""
    page.wait_for_function(f"document.cookie.includes({json.dumps(device)})")


@pytest.mark.parametrize(
    "storage",
    [{}, {"opt_out_persistence_by_default": True}],
    ids=["persistence-on", "persistence-off"],
)
@pytest.mark.parametrize("sdk", RELEASES)
def test_first_visit_accepts_on_the_landing_page(
    browsing: Browsing, sites: Sites, sdk: str, storage: dict[str, bool]
) -> None:
    """Also under opt_out_persistence_by_default, where the SDK keeps its own ids in memory
    until consent."""
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk, **storage, **WAITS))
    page, device = cross(browsing, sites)
    assert_nothing_stored(page, device)
    event = first_event_after(sites, page, ACCEPT, "/landing.html")
    assert event["event"] == "$opt_in"
    assert_carries(event, device, sdk)
    assert_stored_after_consent(page, device)


@pytest.mark.parametrize("sdk", RELEASES)
def test_accepts_on_the_third_page(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """The value goes on in same-site links until consent, never into storage."""
    pages = {
        "landing.html": '<a id="next" href="/second.html?x=1#s">second</a>',
        "second.html": '<a id="next" href="third.html">third</a>',
        "third.html": "<p>third</p>",
    }
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk, **WAITS), pages)
    page, device = cross(browsing, sites)
    for path in ("/second.html?x=1#s", "/third.html"):
        assert_nothing_stored(page, device)
        page.click("#next")
        page.wait_for_url(f"**{path.split('?')[0]}**")
        page.wait_for_function("window.mixpanel && mixpanel.__loaded")
        assert page.url == sites.url(SITE_B, path)
    assert_nothing_stored(page, device)
    event = first_event_after(sites, page, ACCEPT, "/third.html")
    assert event["event"] == "$opt_in"
    assert_carries(event, device, sdk)


@pytest.mark.parametrize("sdk", RELEASES)
def test_undecided_returning_visitor_accepts_after_crossing(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """A visitor who saw B without answering (the SDK stores the opt-out key as "0", as
    for a refusal) is joined when they accept after crossing."""
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk, **WAITS))
    context = browsing.context()
    before = context.new_page()
    before.goto(sites.url(SITE_B, "/before.html"))
    before.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert before.evaluate(f"localStorage['__mp_opt_in_out_{TOKEN}']") == "0"
    page = context.new_page()
    device = click_to_b(page, sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert_nothing_stored(page, device)
    event = first_event_after(sites, page, ACCEPT, "/landing.html")
    assert_carries(event, device, sdk)


@pytest.mark.parametrize("sdk", RELEASES)
def test_a_refusal_joins_nobody(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """The value is dropped at the refusal: consent given later on the same page, and the
    same-site links, carry nothing of the sender's."""
    pages = {"landing.html": '<a id="next" href="/second.html">second</a>', "second.html": "2"}
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk, **WAITS), pages)
    page, device = cross(browsing, sites)
    page.evaluate(REJECT)
    page.click("#next", button="right")
    assert page.get_attribute("#next", "href") == "/second.html"
    event = first_event_after(sites, page, ACCEPT, "/landing.html")
    assert event["$device_id"] != device
    assert_nothing_stored(page, device)


@pytest.mark.parametrize("sdk", RELEASES)
def test_consent_after_the_ttl_joins_nobody(browsing: Browsing, sites: Sites, sdk: str) -> None:
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk, **WAITS), ttl=2)
    page, device = cross(browsing, sites)
    time.sleep(2.5)
    event = first_event_after(sites, page, ACCEPT, "/landing.html")
    assert event["event"] == "$opt_in"
    assert event["$device_id"] != device
    assert_nothing_stored(page, device)


def assert_joined_at_accept(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """Cross to B, where Mixpanel starts when the visitor accepts (``accept()``): nothing
    is stored before, and the first event after carries A's ids."""
    page = browsing.page()
    device = click_to_b(page, sites)
    page.wait_for_load_state("load")
    assert_nothing_stored(page, device)
    event = first_event_after(sites, page, "accept()", "/landing.html")
    assert_carries(event, device, sdk)


def banner_script(sites: Sites, sdk: str) -> str:
    """A consent banner's file that loads Mixpanel when the visitor accepts (``accept()``):
    the page itself shows no Mixpanel init."""
    markup = sites.mixpanel(sdk=sdk)
    scripts = [part.split(">", 1)[1] for part in markup.split("</script>") if ">" in part]
    return (
        f"function accept() {{ for (const text of {json.dumps(scripts)}) {{ "
        "const s = document.createElement('script'); s.text = text; "
        "document.head.appendChild(s); } }"
    )


@pytest.mark.parametrize("sdk", RELEASES)
def test_a_banner_that_loads_mixpanel_on_accept(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """Built with no option but the domains, on pages that show no Mixpanel at all: the
    snippet and its init come at consent, and the SDK's first page view carries the
    sender's ids; nothing of the sender's is stored before."""
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=sites.mixpanel(sdk=sdk))
    sites.build(
        SITE_B,
        {"landing.html": "<p>B</p>"},
        head='<script src="/banner.js"></script>',
        files={"banner.js": banner_script(sites, sdk)},
    )
    assert_joined_at_accept(browsing, sites, sdk)


@pytest.mark.parametrize("sdk", RELEASES)
def test_an_init_a_consent_manager_enables(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """A consent manager parks the snippet in a ``type="text/plain"`` script and runs it
    at consent: xdlink reads that from the page, no option needed."""
    parked = sites.mixpanel(sdk=sdk).replace("<script>", '<script type="text/plain" data-c="1">')
    enable = (
        "<script>function accept() { for (const old of document.querySelectorAll"
        "('script[data-c]')) { const s = document.createElement('script'); s.text = old.text; "
        "old.replaceWith(s); } }</script>"
    )
    build_sites(sites, sdk, parked + enable)
    assert_joined_at_accept(browsing, sites, sdk)


@pytest.mark.parametrize("sdk", RELEASES)
def test_a_visitor_identified_on_a(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """Logged in on A, the stored distinct_id is the user id; B still gets the anonymous
    distinct_id A's SDK uses for that device: bare before 2.46, "$device:" + id after."""
    build_sites(sites, sdk, sites.mixpanel(sdk=sdk))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.evaluate("mixpanel.identify('someone@example.com')")
    page.wait_for_function("mixpanel.get_distinct_id() == 'someone@example.com'")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    event = sites.page_views(SITE_B, "/landing.html")[0]
    assert_carries(event, device, sdk)
    assert "$user_id" not in event
    assert page.url == sites.url(SITE_B, LANDING)
