"""A visitor goes from site A to site B by every kind of link and gesture: B's first event
carries A's device id, and the parameter is gone from B's address bar."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.harness import SDK, SDK_245, SDK_261, SITE_A, SITE_B, TOKEN, Browsing, Sites

pytestmark = pytest.mark.browser

LANDING = "/landing.html?keep=1&q=a%20b&empty=#part-2"
PARAM = "_xdl"


def build_pair(
    sites: Sites,
    body_a: str,
    *,
    head_a: str | None = None,
    head_b: str | None = None,
    **options: Any,
) -> None:
    head = sites.mixpanel()
    sites.build(SITE_A, {"index.html": body_a}, head=head if head_a is None else head_a, **options)
    sites.build(
        SITE_B,
        {"landing.html": "<p>B</p>", "before.html": "<p>B before</p>", "submit.html": "<p>ok</p>"},
        head=head if head_b is None else head_b,
        **options,
    )


def device_on_a(sites: Sites) -> str:
    views = sites.page_views(SITE_A, "/")
    device: str = views[0]["$device_id"]
    return device


def assert_joined(sites: Sites, device: str, path: str = "/landing.html", legacy: bool = False):
    """Every event of the landing page, the first page view included, is A's device."""
    events = sites.page_views(SITE_B, path)
    for event in events:
        assert event["$device_id"] == device, event
        assert event["distinct_id"] == (device if legacy else "$device:" + device), event
        assert PARAM not in event["$current_url"], event
        assert "$user_id" not in event, event
    return events


def assert_clean_landing(page: Any, sites: Sites, expected: str = LANDING) -> None:
    assert page.url == sites.url(SITE_B, expected)
    events = sites.page_views(SITE_B, expected.split("?")[0].split("#")[0])
    assert events[0]["$current_url"] == sites.url(SITE_B, expected)


def land_decorated(page: Any, sites: Sites, host: str) -> str:
    """Open A, then the address of ``host``'s landing page as A's script decorates it, up
    to that page's DOMContentLoaded (its SDK may still be loading); A's device id."""
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    href = page.evaluate("url => xdlink.decorate(url)", sites.url(host, "/landing.html"))
    # The address as A's page would open it (location.assign(xdlink.decorate(url))).
    page.goto(href, wait_until="domcontentloaded", referer=sites.url(SITE_A))
    return device


def link_to_b(sites: Sites, element_id: str = "to-b", path: str = LANDING) -> str:
    return f'<a id="{element_id}" href="{sites.url(SITE_B, path)}">to B</a>'


def cross(page: Any, sites: Sites, gesture: Callable[[Any], Any]) -> None:
    """Open A, make the gesture there, and check that B's landing joined A's visitor."""
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    gesture(page)
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    assert_clean_landing(page, sites)


def test_left_click(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("#to-b"))


def test_middle_click_opens_a_joined_tab(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    context = browsing.context()
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    with context.expect_page() as opened:
        page.click("#to-b", button="middle")
    tab = opened.value
    tab.wait_for_load_state()
    assert_joined(sites, device)
    assert_clean_landing(tab, sites)


def test_keyboard_enter(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.focus("#to-b")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    assert_clean_landing(page, sites)


def test_touch(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page(has_touch=True, is_mobile=True, viewport={"width": 400, "height": 700})
    cross(page, sites, lambda tab: tab.tap("#to-b"))


def test_context_menu_then_open_in_new_tab(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    context = browsing.context()
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b", button="right")
    copied = page.get_attribute("#to-b", "href")
    assert copied is not None
    assert f"&empty=&{PARAM}=1d.{device}." in copied
    assert copied.endswith("#part-2")
    # The browser's menu opens the link with the page's referrer, as Playwright does here.
    tab = context.new_page()
    tab.goto(copied, referer=sites.url(SITE_A))
    assert tab.evaluate("document.referrer") == sites.url(SITE_A)
    assert_joined(sites, device)
    assert_clean_landing(tab, sites)


def test_get_form(browsing: Browsing, sites: Sites) -> None:
    action = sites.url(SITE_B, "/landing.html?dropped=by-the-browser")
    form = (
        f'<form id="search" action="{action}" method="get">'
        '<input name="q" value="x y"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#go")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    assert page.url == sites.url(SITE_B, "/landing.html?q=x+y")


def test_post_form(browsing: Browsing, sites: Sites) -> None:
    action = sites.url(SITE_B, "/submit.html?keep=1#done")
    form = (
        f'<form action="{action}" method="post">'
        '<input name="q" value="x"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#go")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device, "/submit.html")
    assert page.url == sites.url(SITE_B, "/submit.html?keep=1#done")
    posts = [r for r in sites.requests() if r.method == "POST" and r.host == SITE_B]
    assert [r.body for r in posts] == ["q=x"]
    assert posts[0].target.startswith(f"/submit.html?keep=1&{PARAM}=1d.{device}.")


def test_link_added_later_by_script(browsing: Browsing, sites: Sites) -> None:
    late = sites.url(SITE_B, LANDING)
    script = (
        "<script>setTimeout(() => { const a = document.createElement('a');"
        f" a.id = 'late'; a.href = {late!r}; a.textContent = 'late';"
        " document.body.append(a); }, 300);</script>"
    )
    build_pair(sites, script)
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("#late"))


def test_link_in_a_shadow_root(browsing: Browsing, sites: Sites) -> None:
    inner = link_to_b(sites, "shadowed").replace('"', "&quot;")
    script = (
        '<div id="host"></div><script>'
        "const root = document.getElementById('host').attachShadow({mode: 'open'});"
        f'root.innerHTML = "{inner}";</script>'
    )
    build_pair(sites, script.replace("&quot;", '\\"'))
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("#shadowed"))


@pytest.mark.parametrize("attribute", ["href", "xlink:href"])
def test_svg_link(browsing: Browsing, sites: Sites, attribute: str) -> None:
    svg = (
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="60">'
        f'<a id="svg-link" {attribute}="{sites.url(SITE_B, LANDING)}">'
        '<rect width="200" height="60" fill="teal"/></a></svg>'
    )
    build_pair(sites, svg)
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("#svg-link"))


def test_image_map_area(browsing: Browsing, sites: Sites) -> None:
    gif = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    image_map = (
        f'<img id="map-image" src="{gif}" width="200" height="100" usemap="#places">'
        '<map name="places"><area shape="rect" coords="0,0,200,100" '
        f'href="{sites.url(SITE_B, LANDING)}" alt="B"></map>'
    )
    build_pair(sites, image_map)
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("#map-image"))


def test_decorate_for_script_navigation(browsing: Browsing, sites: Sites) -> None:
    target = sites.url(SITE_B, LANDING)
    build_pair(
        sites, f"<button onclick=\"location.href = xdlink.decorate('{target}')\">go</button>"
    )
    page = browsing.page()
    cross(page, sites, lambda tab: tab.click("button"))


@pytest.mark.parametrize("persistence", ["cookie", "localStorage"])
def test_persistence(browsing: Browsing, sites: Sites, persistence: str) -> None:
    head = sites.mixpanel(persistence=persistence)
    build_pair(sites, link_to_b(sites), head_a=head, head_b=head)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    name = f"mp_{TOKEN}_mixpanel"
    stored = page.evaluate(f"localStorage.getItem({name!r})")
    if persistence == "localStorage":
        assert device in stored
    else:
        assert stored is None
        cookies = [c for c in page.context.cookies(page.url) if c["name"] == name]
        assert [c["domain"] for c in cookies] == [".site-b.test"]


def test_visitor_already_known_on_b(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_B, "/before.html"))
    earlier = sites.page_views(SITE_B, "/before.html")[0]["$device_id"]
    page.evaluate("mixpanel.register({plan: 'gold'})")
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    assert device != earlier
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    events = assert_joined(sites, device)
    assert events[0]["plan"] == "gold"


@pytest.mark.parametrize("stale_domain", [None, ".site-b.test"], ids=["host-only", "domain"])
def test_stale_cookie_copies_on_b_are_replaced(
    browsing: Browsing, sites: Sites, stale_domain: str | None
) -> None:
    # The SDK reads the first matching cookie: a copy under another domain (left by an
    # earlier cookie_domain or cross_subdomain_cookie setting) must not shadow the new state.
    head_b = sites.mixpanel(cross_subdomain_cookie=stale_domain is None)
    build_pair(sites, link_to_b(sites), head_b=head_b)
    context = browsing.context()
    stale = quote(json.dumps({"distinct_id": "$device:" + "0" * 36, "$device_id": "0" * 36}))
    cookie = {"name": f"mp_{TOKEN}_mixpanel", "value": stale}
    if stale_domain:
        cookie |= {"domain": stale_domain, "path": "/"}
    else:
        cookie["url"] = sites.url(SITE_B)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)


COOKIE_CASES = {
    "registrable domain": ("site-b.test", {}),
    "subdomain": ("www.site-b.test", {}),
    "one-letter label": ("b.test", {}),
    "long TLD": ("www.site-b.example", {}),
    "long TLD, one-letter label": ("b.example", {}),
    "host-only": ("www.site-b.test", {"cross_subdomain_cookie": False}),
    "cookie_domain": ("www.site-b.test", {"cookie_domain": ".www.site-b.test"}),
}


@pytest.mark.parametrize(("host", "config"), COOKIE_CASES.values(), ids=COOKIE_CASES.keys())
def test_cookie_domain_is_the_one_the_sdk_uses(
    browsing: Browsing, sites: Sites, host: str, config: dict[str, Any]
) -> None:
    domains = (SITE_A, "site-b.test", "b.test", "site-b.example", "b.example")
    sites.build(SITE_A, {"index.html": "<p>A</p>"}, head=sites.mixpanel(), domains=domains)
    # The SDK is held back, so the first cookie seen is the one xdlink wrote.
    head = sites.mixpanel(delay=1, **config)
    sites.build(host, {"landing.html": "<p>B</p>"}, head=head, domains=domains)
    context = browsing.context()
    page = context.new_page()
    device = land_decorated(page, sites, host)
    name = f"mp_{TOKEN}_mixpanel"
    ours = [c["domain"] for c in context.cookies(page.url) if c["name"] == name]
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    sdks = [c["domain"] for c in context.cookies(page.url) if c["name"] == name]
    assert ours == sdks
    assert len(sdks) == 1
    view = sites.page_views(host, "/landing.html")[0]
    assert view["$device_id"] == device


def test_visitor_identified_on_a(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.identify('user@example.com')")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    pages = [r.target for r in sites.requests() if r.host in (SITE_A, SITE_B)]
    assert not [t for t in pages if "user" in t or "example.com" in t]
    assert "user" not in page.url


def test_visitor_carried_before_the_sdk_has_loaded(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    slow = sites.mixpanel(delay=3)
    sites.build(SITE_A, {"index.html": link_to_b(sites), "slow.html": link_to_b(sites)}, head=slow)
    page = browsing.page()
    page.goto(sites.url(SITE_A, "/slow.html"), wait_until="domcontentloaded")
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    device = sites.page_views(SITE_A, "/slow.html")[0]["$device_id"]
    page.goto(sites.url(SITE_A, "/slow.html"), wait_until="commit")
    page.wait_for_selector("#to-b")
    assert not page.evaluate("!!(window.mixpanel && mixpanel.__loaded)")
    page.click("#to-b", no_wait_after=True)
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)


VERSIONS = {
    "2.45": (SDK_245, SDK_245),
    "2.61": (SDK_261, SDK_261),
    "2.83": (SDK, SDK),
    "2.83 to 2.45": (SDK, SDK_245),
    "2.45 to 2.83": (SDK_245, SDK),
    "2.45 to 2.61": (SDK_245, SDK_261),
}


@pytest.mark.parametrize(("sdk_a", "sdk_b"), VERSIONS.values(), ids=VERSIONS.keys())
def test_sdk_versions(browsing: Browsing, sites: Sites, sdk_a: str, sdk_b: str) -> None:
    # B takes the distinct_id A sends: "$device:" + id from 2.46 on, the bare id before.
    build_pair(
        sites, link_to_b(sites), head_a=sites.mixpanel(sdk=sdk_a), head_b=sites.mixpanel(sdk=sdk_b)
    )
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    view = sites.page_views(SITE_A, "/")[0]
    device = view["$device_id"]
    assert view["distinct_id"] == (device if sdk_a == SDK_245 else "$device:" + device)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device, legacy=sdk_a == SDK_245)


def test_named_instance_without_a_known_token(browsing: Browsing, sites: Sites) -> None:
    # The token is in a variable, so xdlink cannot read it: the script finds the instance.
    head_a = sites.mixpanel(name="shop").replace(f'mixpanel.init("{TOKEN}"', "mixpanel.init(T")
    head_a = f'<script>var T = "{TOKEN}";</script>\n' + head_a
    build_pair(sites, link_to_b(sites), head_a=head_a)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.shop && mixpanel.shop.__loaded")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)


def test_site_bundling_the_sdk_as_a_module(browsing: Browsing, sites: Sites) -> None:
    """The module calls xdlink.join(mixpanel) before its init (tests/browser/test_bundle.py
    has the esbuild bundles and the other call orders)."""
    head = sites.mixpanel(mode="module", join="before")
    build_pair(sites, link_to_b(sites), head_a=head, head_b=head)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    assert page.evaluate("typeof window.mixpanel") == "undefined"
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert_joined(sites, device)
    assert_clean_landing(page, sites)
