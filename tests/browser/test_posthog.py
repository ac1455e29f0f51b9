"""PostHog across two domains, with the real posthog-js releases and its official snippet:
first what the SDK does alone (the visitor split in two), the ground the join is measured
against."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.harness import POSTHOG_RELEASES, SITE_A, SITE_B, Browsing, Sites

pytestmark = pytest.mark.browser

LANDING = "/landing.html"


def build_pair(sites: Sites, sdk: str, *, xdlink: bool = True, **config: Any) -> None:
    head = sites.posthog(sdk=sdk, **config)
    link = f'<a id="to-b" href="{sites.url(SITE_B, LANDING)}">to B</a>'
    sites.build(SITE_A, {"index.html": link}, head=head, xdlink=xdlink)
    sites.build(SITE_B, {LANDING.lstrip("/"): "<p>B</p>"}, head=head, xdlink=xdlink)


def first_page_view(sites: Sites, host: str, path: str) -> dict[str, Any]:
    events = sites.posthog_page_views(host, path)
    return next(event for event in events if event["event"] == "$pageview")


def visit_a_then_b(page: Any, sites: Sites) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first page view on A, and the first on B after the click on A's link."""
    page.goto(sites.url(SITE_A))
    on_a = first_page_view(sites, SITE_A, "/")
    page.click("#to-b")
    page.wait_for_url(sites.url(SITE_B, LANDING))
    return on_a, first_page_view(sites, SITE_B, LANDING)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_without_xdlink_posthog_splits_the_visitor(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """The baseline: each domain keeps its own ``ph_<key>_posthog``, so B's first page view
    belongs to a new anonymous visitor in a new session."""
    build_pair(sites, sdk, xdlink=False)
    on_a, on_b = visit_a_then_b(browsing.page(), sites)
    for event in (on_a, on_b):
        assert event["distinct_id"], event
        assert event["$session_id"], event
        assert event["$device_id"] == event["distinct_id"], event
    assert on_b["distinct_id"] != on_a["distinct_id"]
    assert on_b["$session_id"] != on_a["$session_id"]


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_posthog_alone_is_joined(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """With xdlink, B's first page view is A's visitor in A's session, from a clean address."""
    build_pair(sites, sdk)
    page = browsing.page()
    on_a, on_b = visit_a_then_b(page, sites)
    assert on_b["distinct_id"] == on_a["distinct_id"] == on_a["$device_id"]
    assert on_b["$device_id"] == on_a["$device_id"]
    assert on_b["$session_id"] == on_a["$session_id"]
    assert on_b["$current_url"] == sites.url(SITE_B, LANDING)
    assert page.url == sites.url(SITE_B, LANDING)
