"""What must join nobody: late or replayed links, other browsers, garbage, opted-out
visitors, pages without Mixpanel, and links that are not for a listed domain."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.harness import SITE_A, SITE_B, Browsing, Sites
from tests.browser.test_crossing import (
    LANDING,
    PARAM,
    build_pair,
    device_on_a,
    link_to_b,
)

pytestmark = pytest.mark.browser

OTHER_BROWSERS = {
    "user agent": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
    "language": {"locale": "de-DE"},
    "time zone": {"timezone_id": "Asia/Tokyo"},
}


def decorated_link(browsing: Browsing, sites: Sites) -> tuple[str, str]:
    """A's device id and the link A decorates for it (the context menu decorates)."""
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b", button="right")
    href = page.get_attribute("#to-b", "href")
    assert href is not None
    assert f"{PARAM}=1d.{device}." in href
    return device, href


def land(page: Any, sites: Sites, url: str) -> dict[str, Any]:
    """Open `url` on B; return B's first page view once the parameter is gone."""
    page.goto(url, referer=sites.url(SITE_A))
    assert PARAM not in page.url
    assert page.url == sites.url(SITE_B, LANDING)
    return sites.page_views(SITE_B, "/landing.html")[0]


def test_a_link_replayed_after_the_ttl_joins_nobody(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    late = browsing.page()
    late.clock.set_fixed_time(time.time() + 121)
    assert land(late, sites, href)["$device_id"] != device


def test_a_link_from_the_future_joins_nobody(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    early = browsing.page()
    early.clock.set_fixed_time(time.time() - 60)
    assert land(early, sites, href)["$device_id"] != device


def test_a_short_ttl(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites), ttl=1)
    device, href = decorated_link(browsing, sites)
    time.sleep(1.5)
    assert land(browsing.page(), sites, href)["$device_id"] != device


def test_the_same_browser_within_the_ttl_joins(browsing: Browsing, sites: Sites) -> None:
    # The control for the refusals below: only the browser or the clock differs there.
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    assert land(browsing.page(), sites, href)["$device_id"] == device


@pytest.mark.parametrize("options", OTHER_BROWSERS.values(), ids=OTHER_BROWSERS.keys())
def test_a_link_opened_in_another_browser_joins_nobody(
    browsing: Browsing, sites: Sites, options: dict[str, str]
) -> None:
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    assert land(browsing.page(**options), sites, href)["$device_id"] != device


GARBAGE = [
    "",
    "1",
    "1d.",
    "<script>alert(1)</script>",
    "1d.0123456789abcdef0123.1700000000.1",
    "1x.0123456789abcdef0123.{now}.1",
    "1d.0123456789abcdef0123.{now}.12345",
    "1d.0123456789abcdef0123.{now}",
    "1d." + "a" * 5000 + ".{now}.1",
    "1d.user@example.com.{now}.1",
    "__proto__",
    "1d.%00.%ff.%",
    '1d.");alert(1)//',
]


@pytest.mark.parametrize("where", ["query", "fragment"])
def test_garbage_is_ignored_without_an_error(browsing: Browsing, sites: Sites, where: str) -> None:
    build_pair(sites, link_to_b(sites), fragment=where == "fragment")
    context = browsing.context()
    for value in GARBAGE:
        encoded = quote(value.replace("{now}", str(int(time.time()))), safe="%")
        base = sites.url(SITE_B, "/landing.html?keep=1&q=a%20b&empty=")
        url = (
            f"{base}&{PARAM}={encoded}#part-2"
            if where == "query"
            else f"{base}#part-2&{PARAM}={encoded}"
        )
        page = context.new_page()
        page.goto(url, referer=sites.url(SITE_A))
        assert page.url == sites.url(SITE_B, LANDING), value
        page.close()
    views = sites.page_views(SITE_B, "/landing.html", count=len(GARBAGE))
    assert len({view["$device_id"] for view in views}) == 1
    assert all(len(view["$device_id"]) == 36 for view in views)


def test_a_visitor_opted_out_on_a_is_not_carried(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.opt_out_tracking()")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert page.url == sites.url(SITE_B, LANDING)
    landing = [r for r in sites.requests() if r.host == SITE_B and "landing" in r.target]
    assert [r.target for r in landing] == [LANDING.split("#")[0]]
    view = sites.page_views(SITE_B, "/landing.html")[0]
    assert view["$device_id"] != device


def test_a_visitor_opted_out_on_a_keeping_storage_is_not_carried(
    browsing: Browsing, sites: Sites
) -> None:
    # opt_out_tracking({clear_persistence: false}) leaves the id in storage until the next
    # page load: the stored opt-out flag must still stop the link from carrying it.
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.opt_out_tracking({clear_persistence: false})")
    assert device in page.evaluate("document.cookie")
    page.click("#to-b", button="right")
    assert page.get_attribute("#to-b", "href") == sites.url(SITE_B, LANDING)
    assert page.evaluate("url => xdlink.decorate(url)", sites.url(SITE_B)) == sites.url(SITE_B)


@pytest.mark.parametrize("kind", ["localStorage", "cookie"])
def test_a_visitor_opted_out_on_b_is_not_adopted(
    browsing: Browsing, sites: Sites, kind: str
) -> None:
    head = sites.mixpanel(opt_out_tracking_persistence_type=kind)
    build_pair(sites, link_to_b(sites), head_a=head, head_b=head)
    device, href = decorated_link(browsing, sites)
    page = browsing.page()
    page.goto(sites.url(SITE_B, "/before.html"))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.opt_out_tracking()")
    # Hold the SDK back to see what xdlink alone wrote before it runs.
    sites.build(
        SITE_B,
        {"landing.html": "<p>B</p>"},
        head=sites.mixpanel(opt_out_tracking_persistence_type=kind, delay=2),
    )
    page.goto(href, wait_until="domcontentloaded", referer=sites.url(SITE_A))
    assert page.url == sites.url(SITE_B, LANDING)
    assert not page.evaluate("!!(window.mixpanel && mixpanel.__loaded)")
    assert device not in page.evaluate("document.cookie + JSON.stringify(localStorage)")
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert sites.events(SITE_B, "/landing.html") == []


def test_page_without_mixpanel_on_a(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites), head_a="")
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert page.url == sites.url(SITE_B, LANDING)
    landing = [r.target for r in sites.requests() if r.host == SITE_B and "landing" in r.target]
    assert landing == [LANDING.split("#")[0]]
    assert sites.page_views(SITE_B, "/landing.html")


def test_page_without_mixpanel_on_b(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites), head_b="")
    _, href = decorated_link(browsing, sites)
    page = browsing.page()
    page.goto(href, referer=sites.url(SITE_A))
    assert page.url == sites.url(SITE_B, LANDING)
    assert page.evaluate("document.cookie + JSON.stringify(localStorage)") == "{}"


def test_identified_visitor_on_b_stays_identified(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    page = browsing.page()
    page.goto(sites.url(SITE_B, "/before.html"))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.identify('someone@example.com')")
    page.goto(href, referer=sites.url(SITE_A))
    view = sites.page_views(SITE_B, "/landing.html")[0]
    assert view["$user_id"] == "someone@example.com"
    assert view["$device_id"] != device


UNLISTED = {
    "unlisted domain": "http://site-c.test:{port}/landing.html",
    "suffix without a dot": "http://notsite-b.test:{port}/landing.html",
    "same site": "http://site-a.test:{port}/other.html",
    "relative": "/other.html",
    "mailto": "mailto:someone@site-b.test",
    "ftp": "ftp://site-b.test/file",
}


def test_links_that_are_not_for_a_listed_domain_are_left_alone(
    browsing: Browsing, sites: Sites
) -> None:
    links = "\n".join(
        f'<a id="link-{index}" href="{href.format(port=sites.server.port)}">{name}</a>'
        for index, (name, href) in enumerate(UNLISTED.items())
    )
    build_pair(sites, links + link_to_b(sites))
    sites.build("site-c.test", {"landing.html": "<p>C</p>"}, head=sites.mixpanel())
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device_on_a(sites)
    for index, href in enumerate(UNLISTED.values()):
        page.click(f"#link-{index}", button="right")
        assert page.get_attribute(f"#link-{index}", "href") == href.format(port=sites.server.port)
    page.click("#link-0")
    page.wait_for_url("**site-c.test**")
    requested = [r.target for r in sites.requests() if r.host == "site-c.test"]
    assert requested[0] == "/landing.html"


def test_domain_matching(browsing: Browsing, sites: Sites) -> None:
    sites.build(
        SITE_A,
        {"index.html": "<p>A</p>"},
        head=sites.mixpanel(),
        domains=(SITE_A, "b.example", "*.c.example"),
    )
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    expected = {
        "https://b.example/": True,
        "http://www.b.example/x": True,
        "https://deep.www.b.example/": True,
        "https://notb.example/": False,
        "https://b.example.evil.test/": False,
        "https://c.example/": False,
        "https://www.c.example/": True,
        "https://notc.example/": False,
        "http://site-a.test/": False,
        "javascript:alert(1)": False,
        "not a url": False,
    }
    for url, decorated in expected.items():
        result = page.evaluate("url => xdlink.decorate(url)", url)
        assert (f"{PARAM}=" in result) is decorated, (url, result)
        if not decorated:
            assert result == url


def test_fragment_mode_and_a_custom_parameter(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites), fragment=True, param="via")
    tall = '<div style="height:3000px"></div><h2 id="part-2">Part 2</h2><div style="height:3000px">'
    sites.build(SITE_B, {"landing.html": tall}, head=sites.mixpanel(), fragment=True, param="via")
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b", button="right")
    href = page.get_attribute("#to-b", "href")
    assert href is not None
    assert href.startswith(sites.url(SITE_B, "/landing.html?keep=1&q=a%20b&empty=#part-2&via=1d."))
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert page.url == sites.url(SITE_B, LANDING)
    view = sites.page_views(SITE_B, "/landing.html")[0]
    assert view["$device_id"] == device
    assert view["$current_url"] == sites.url(SITE_B, LANDING)
    # The browser scrolls to the fragment as it is once the parameter is gone.
    assert page.evaluate("scrollY") > 2000


def test_redecorating_replaces_the_value(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device_on_a(sites)
    page.click("#to-b", button="right")
    page.click("#to-b", button="right")
    href = page.get_attribute("#to-b", "href")
    assert href is not None
    assert href.count(f"{PARAM}=") == 1
    stale = href.replace(f"{PARAM}=1d.", f"{PARAM}=1d.0000000000000000-")
    again = page.evaluate("url => xdlink.decorate(url)", stale + f"&{PARAM}=x")
    assert again.count(f"{PARAM}=") == 1
    assert "0000000000000000-" not in again
