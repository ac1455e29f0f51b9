"""A bundled SDK: an app that imports mixpanel-browser from npm into an esbuild bundle
(js/app/app.js, built by js/bundle.mjs) and calls ``window.xdlink && xdlink.join(mixpanel)``.
Nothing of the sender's is stored before the app's init; the first event the app's
Mixpanel sends (its page view, or $opt_in under consent) carries the sender's ids.

Every case runs on the SDK releases the project pins: 2.45.0, 2.61.2 and 2.83.0.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.harness import SDK, SDK_245, SDK_261, SITE_A, SITE_B, Browsing, Sites
from tests.browser.test_consent import (
    ACCEPT,
    REJECT,
    assert_carries,
    assert_nothing_stored,
    assert_stored_after_consent,
    first_event_after,
)
from tests.browser.test_crossing import PARAM, device_on_a, link_to_b

pytestmark = pytest.mark.browser

RELEASES = [SDK, SDK_261, SDK_245]
LOADED = "window.app && app.__loaded"


def build_sites(sites: Sites, sdk: str, join: str, pageview: bool = False, **config: Any) -> None:
    """A and B are the same kind of bundled app; B's bundle arrives a second late, so that
    its storage can be read before the app starts."""
    head_a = sites.mixpanel(sdk=sdk, mode="bundle", join="before")
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=head_a)
    head_b = sites.mixpanel(sdk=sdk, mode="bundle", join=join, pageview=pageview, delay=1, **config)
    sites.build(SITE_B, {"landing.html": "<p>B</p>"}, head=head_b)


def cross(browsing: Browsing, sites: Sites) -> tuple[Any, str]:
    """Click from A to B; B's page once its app has started, and A's device id, checking
    that nothing of A's was stored on B before."""
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    assert page.evaluate("typeof window.mixpanel") == "undefined"
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**", wait_until="domcontentloaded")
    assert PARAM not in page.url
    assert not page.evaluate(LOADED)
    assert_nothing_stored(page, device)
    page.wait_for_function(LOADED)
    return page, device


@pytest.mark.parametrize("sdk", RELEASES)
def test_join_before_init(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """The page view the SDK sends inside init carries the sender's ids."""
    build_sites(sites, sdk, join="before")
    page, device = cross(browsing, sites)
    event = sites.page_views(SITE_B, "/landing.html")[0]
    assert_carries(event, device, sdk)
    assert_stored_after_consent(page, device)


@pytest.mark.parametrize("join", ["before", "after"])
@pytest.mark.parametrize("sdk", RELEASES)
def test_consent_gated_app(browsing: Browsing, sites: Sites, sdk: str, join: str) -> None:
    """Mixpanel waits for consent: nothing is stored until the visitor accepts, and $opt_in
    carries the sender's ids, whether the app joins before or after its init."""
    build_sites(sites, sdk, join=join, opt_out_tracking_by_default=True)
    page, device = cross(browsing, sites)
    assert_nothing_stored(page, device)
    event = first_event_after(sites, page, ACCEPT.replace("mixpanel", "app"), "/landing.html")
    assert event["event"] == "$opt_in"
    assert_carries(event, device, sdk)
    assert_stored_after_consent(page, device)


@pytest.mark.parametrize("sdk", [SDK, SDK_245])
def test_a_refusal_joins_nobody(browsing: Browsing, sites: Sites, sdk: str) -> None:
    build_sites(sites, sdk, join="after", opt_out_tracking_by_default=True)
    page, device = cross(browsing, sites)
    page.evaluate(REJECT.replace("mixpanel", "app"))
    event = first_event_after(sites, page, ACCEPT.replace("mixpanel", "app"), "/landing.html")
    assert event["$device_id"] != device
    assert_nothing_stored(page, device)


@pytest.mark.parametrize("sdk", [SDK, SDK_245])
def test_join_after_an_init_that_sends_nothing(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """Without an automatic page view, joining right after init is in time: the app's own
    first event, tracked after the join, carries the ids."""
    build_sites(sites, sdk, join="after", track_pageview=False, pageview=True)
    _page, device = cross(browsing, sites)
    assert_carries(sites.page_views(SITE_B, "/landing.html")[0], device, sdk)


@pytest.mark.parametrize(
    ("join", "config"), [("before", {}), ("after", {"opt_out_tracking_by_default": True})]
)
def test_a_named_instance(
    browsing: Browsing, sites: Sites, join: str, config: dict[str, bool]
) -> None:
    build_sites(sites, SDK, join=join, name="shop", **config)
    page, device = cross(browsing, sites)
    if config:
        event = first_event_after(sites, page, ACCEPT.replace("mixpanel", "app"), "/landing.html")
    else:
        event = sites.page_views(SITE_B, "/landing.html")[0]
    assert_carries(event, device, SDK)


@pytest.mark.parametrize("join", ["before before", "before after after"])
def test_joined_more_than_once(browsing: Browsing, sites: Sites, join: str) -> None:
    """Joining the same instance again changes nothing: one adoption, at consent."""
    build_sites(sites, SDK, join=join, opt_out_tracking_by_default=True)
    lines: list[str] = []
    context = browsing.context()
    context.add_init_script("try { localStorage.xdlink_debug = '1'; } catch {}")
    page = context.new_page()
    page.on("console", lambda message: lines.append(message.text))
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    page.wait_for_function(LOADED)
    event = first_event_after(sites, page, ACCEPT.replace("mixpanel", "app"), "/landing.html")
    assert_carries(event, device, SDK)
    assert [line for line in lines if "adopted" in line] == [f"xdlink: adopted {device}"]


def test_without_xdlink(browsing: Browsing, sites: Sites) -> None:
    """``window.xdlink && xdlink.join(mixpanel)`` on a page without xdlink: the app runs,
    with no error (the browsing fixture fails on any)."""
    folder = sites.root / "plain"
    folder.mkdir(parents=True)
    head = sites.mixpanel(mode="bundle", join="before after")
    (folder / "index.html").write_text(f"<!doctype html><html><head>{head}</head></html>")
    sites.server.capture.sites[SITE_B] = folder
    page = browsing.page()
    page.goto(sites.url(SITE_B))
    page.wait_for_function(LOADED)
    assert page.evaluate("typeof window.xdlink") == "undefined"
    assert sites.page_views(SITE_B, "/")
