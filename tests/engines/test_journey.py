"""A visitor goes from site A to site B in Firefox and WebKitGTK, by each gesture the engine's
driver can make: B's first event carries A's ids, the link's own query and fragment are
kept, and the parameter, which did travel, is gone from B's address bar."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.harness import SITE_A, SITE_B, Sites
from tests.browser.test_crossing import (
    LANDING,
    PARAM,
    assert_clean_landing,
    assert_joined,
    build_pair,
    device_on_a,
    link_to_b,
)
from tests.engines.driver import Driver, evaluate, wait_for_new_tab, wait_for_url, wait_until
from tests.engines.webkit import RELEASE, TOUCH

pytestmark = pytest.mark.browser


def open_a(driver: Driver, sites: Sites) -> str:
    """Open A; the device id of A's first page view."""
    driver.goto(sites.url(SITE_A))
    return device_on_a(sites)


def open_from_a(driver: Driver, sites: Sites, url: str, complete: bool = True) -> None:
    """Open `url` in the current tab as a page of A would (location.assign): B takes a
    value only from a listed domain's page, so an address typed in would join nobody."""
    driver.goto(sites.url(SITE_A, "/__blank"))
    driver.call("(url) => { location.href = url; }", url)
    host = url.split("//")[1].split(":")[0]
    if complete:
        wait_for_url(driver, host)
    else:
        # Up to its body, as Driver.goto(complete=False): its async scripts may not have run.
        body = "location.hostname + (document.body ? '+' : '')"
        wait_until(lambda: evaluate(driver, body) == host + "+", what=f"a page of {host}")


def assert_landed(
    driver: Driver, sites: Sites, device: str, expected: str = LANDING, host: str = SITE_B
) -> None:
    """B got the parameter, adopted A's device for its first event, and cleaned the bar."""
    path = expected.split("?")[0].split("#")[0]
    arrived = [r.target for r in sites.requests() if r.host == host and r.target.startswith(path)]
    assert arrived, sites.requests()
    assert f"{PARAM}=1d.{device}." in arrived[0]
    if host == SITE_B:
        assert_joined(sites, device, path)
        assert_clean_landing(driver, sites, expected)
        return
    view = sites.page_views(host, path)[0]
    assert (view["$device_id"], view["distinct_id"]) == (device, "$device:" + device)
    assert driver.url == view["$current_url"] == sites.url(host, expected)


def cross(driver: Driver, sites: Sites, gesture: Callable[[], None]) -> None:
    """Open A, make the gesture there, and check B's landing in the same tab."""
    device = open_a(driver, sites)
    gesture()
    wait_for_url(driver, SITE_B)
    assert_landed(driver, sites, device)


def cross_to_a_new_tab(driver: Driver, sites: Sites, gesture: Callable[[], None]) -> None:
    device = open_a(driver, sites)
    before = driver.tabs()
    gesture()
    wait_for_new_tab(driver, before)
    wait_for_url(driver, SITE_B)
    assert_landed(driver, sites, device)


def test_left_click(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    cross(driver, sites, lambda: driver.click("#to-b"))


@pytest.mark.cannot(webkit=RELEASE)
def test_middle_click_opens_a_joined_tab(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    cross_to_a_new_tab(driver, sites, lambda: driver.click("#to-b", "middle"))


def test_link_to_a_new_tab(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites).replace("<a ", '<a target="_blank" '))
    cross_to_a_new_tab(driver, sites, lambda: driver.click("#to-b"))


def test_context_menu_then_open_in_new_tab(driver: Driver, sites: Sites) -> None:
    """No driver can pick "Open Link in New Tab" in the browser's own menu: the test opens
    the address that the menu would open, the link's href once the menu was asked for.
    WebKitGTK gets the press of the right button only, on which it fires contextmenu: its
    driver releases every button as the left one, a click that would follow the link.
    The menu opens it with A's referrer; the test opens it from a page of A.
    (The right button's pointerdown already decorates; the keyboard's menu key, which
    would reach the contextmenu listener alone, fires no contextmenu through either
    driver: Shift+F10 arrives as two plain key presses.)"""
    build_pair(sites, link_to_b(sites))
    device = open_a(driver, sites)
    driver.context_menu("#to-b")
    href = driver.call("() => document.querySelector('#to-b').href")
    assert f"&empty=&{PARAM}=1d.{device}." in href
    assert href.endswith("#part-2")
    driver.new_tab()
    open_from_a(driver, sites, href)
    assert_landed(driver, sites, device)


@pytest.mark.cannot(webkit=TOUCH)
def test_touch(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    cross(driver, sites, lambda: driver.tap("#to-b"))


def test_keyboard_enter(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    cross(driver, sites, lambda: driver.press_enter("#to-b"))


def test_get_form(driver: Driver, sites: Sites) -> None:
    action = sites.url(SITE_B, "/landing.html?dropped=by-the-browser")
    form = (
        f'<form action="{action}" method="get">'
        '<input name="q" value="x y"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    device = open_a(driver, sites)
    driver.press_enter("input[name=q]")  # submits the form: its "implicit submission"
    wait_for_url(driver, SITE_B)
    assert_landed(driver, sites, device, "/landing.html?q=x+y")


def test_post_form(driver: Driver, sites: Sites) -> None:
    action = sites.url(SITE_B, "/submit.html?keep=1#done")
    form = (
        f'<form action="{action}" method="post">'
        '<input name="q" value="x"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    device = open_a(driver, sites)
    driver.click("#go")
    wait_for_url(driver, SITE_B)
    assert_landed(driver, sites, device, "/submit.html?keep=1#done")
    posts = [r for r in sites.requests() if r.method == "POST" and r.host == SITE_B]
    assert [r.body for r in posts] == ["q=x"]
    assert posts[0].target.startswith(f"/submit.html?keep=1&{PARAM}=1d.{device}.")


def test_subdomain_of_a_listed_domain(driver: Driver, sites: Sites) -> None:
    host = f"www.{SITE_B}"
    build_pair(sites, f'<a id="to-www" href="{sites.url(host, LANDING)}">to www</a>')
    sites.build(host, {"landing.html": "<p>www</p>"}, head=sites.mixpanel())
    device = open_a(driver, sites)
    driver.click("#to-www")
    wait_for_url(driver, host)
    assert_landed(driver, sites, device, host=host)


def test_fragment_mode_with_another_parameter_name(driver: Driver, sites: Sites) -> None:
    options = {"fragment": True, "param": "via"}
    head = sites.mixpanel()
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=head, **options)
    sites.build(SITE_B, {"landing.html": "<p>B</p>"}, head=head, **options)
    device = open_a(driver, sites)
    driver.context_menu("#to-b")
    href = driver.call("() => document.querySelector('#to-b').href")
    assert href.startswith(sites.url(SITE_B, f"{LANDING}&via=1d.{device}."))
    driver.new_tab()
    open_from_a(driver, sites, href)
    assert sites.page_views(SITE_B, "/landing.html")[0]["$device_id"] == device
    assert_clean_landing(driver, sites)
