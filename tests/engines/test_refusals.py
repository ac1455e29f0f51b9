"""What must join nobody, in Firefox and WebKitGTK: a link replayed after the TTL, a value
from the future, a forged binding (what another browser would send), a doubled parameter,
garbage, and visitors who opted out; each landing still cleans the address bar. The
values are made by A's own script, its clock moved, so that one thing only differs from
the fresh value that joins; B's debug line says why it refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.browser.harness import SITE_A, SITE_B, TOKEN, Sites
from tests.browser.test_crossing import LANDING, PARAM, build_pair, device_on_a, link_to_b
from tests.browser.test_refusals import GARBAGE
from tests.engines.driver import Driver, evaluate, sdk_loaded, wait_for_url
from tests.engines.test_journey import open_a, open_from_a

pytestmark = pytest.mark.browser

# xdlink.decorate() with A's clock moved by `shift` seconds.
DECORATE_AT = """(url, shift) => {
  const now = Date.now;
  Date.now = () => now() + shift * 1000;
  try { return xdlink.decorate(url); } finally { Date.now = now; }
}"""


def debug_on_b(driver: Driver, sites: Sites) -> None:
    """Debug mode on B: the console says why the landing adopted or refused."""
    driver.goto(sites.url(SITE_B, "/__blank"))
    driver.call("() => { localStorage.xdlink_debug = '1'; }")


def forge(href: str) -> str:
    """The same value with another binding: made in another browser, or by hand."""
    value = href.split(f"{PARAM}=")[1].split("#")[0]
    binding = value.rsplit(".", 1)[1]
    return href.replace(value, value.removesuffix(binding) + str(int(binding) ^ 1))


def double(href: str) -> str:
    value = href.split(f"{PARAM}=")[1].split("#")[0]
    return href.replace("#", f"&{PARAM}={value}#")


VALUES = {
    # name: (seconds A's clock is moved by, what is done to the link, the debug line)
    "fresh": (0, str, "adopted"),
    "replayed after the ttl": (-121, str, "refused expired"),
    "from the future": (60, str, "refused expired"),
    "forged": (0, forge, "refused other-browser"),
    "doubled": (0, double, "refused doubled"),
}


@pytest.mark.parametrize(("shift", "change", "line"), VALUES.values(), ids=VALUES.keys())
def test_only_a_fresh_value_joins(
    driver: Driver, sites: Sites, shift: int, change: Callable[[str], str], line: str
) -> None:
    build_pair(sites, link_to_b(sites))
    debug_on_b(driver, sites)
    device = open_a(driver, sites)
    href = driver.call(DECORATE_AT, sites.url(SITE_B, LANDING), shift)
    assert f"{PARAM}=1d.{device}." in href
    open_from_a(driver, sites, change(href))
    assert driver.url == sites.url(SITE_B, LANDING)
    view = sites.page_views(SITE_B, "/landing.html")[0]
    assert view["$current_url"] == sites.url(SITE_B, LANDING)
    assert (view["$device_id"] == device) is (line == "adopted")
    lines = [m.text for m in driver.messages() if m.text.startswith("xdlink:")]
    assert lines[-1].startswith(f"xdlink: {line}"), lines


@pytest.mark.parametrize("where", ["query", "fragment"])
def test_garbage_is_stripped_without_an_error(driver: Driver, sites: Sites, where: str) -> None:
    build_pair(sites, link_to_b(sites), fragment=where == "fragment")
    base = sites.url(SITE_B, "/landing.html?keep=1&q=a%20b&empty=")
    for count, value in enumerate(GARBAGE, 1):
        pair = f"{PARAM}=" + quote(value.replace("{now}", str(int(time.time()))), safe="%")
        driver.new_tab()  # not a same-document navigation, where the fragment alone changes
        driver.goto(f"{base}&{pair}#part-2" if where == "query" else f"{base}#part-2&{pair}")
        assert driver.url == sites.url(SITE_B, LANDING), value
        views = sites.page_views(SITE_B, "/landing.html", count=count)
    assert len({view["$device_id"] for view in views}) == 1


def test_a_visitor_opted_out_on_a_is_not_carried(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    device = open_a(driver, sites)
    sdk_loaded(driver)
    driver.call("() => mixpanel.opt_out_tracking()")
    driver.click("#to-b")
    wait_for_url(driver, SITE_B)
    assert driver.url == sites.url(SITE_B, LANDING)
    landing = [r.target for r in sites.requests() if r.host == SITE_B and "landing" in r.target]
    assert landing == [LANDING.split("#")[0]]
    assert sites.page_views(SITE_B, "/landing.html")[0]["$device_id"] != device


def test_a_visitor_opted_out_on_b_gets_nothing_stored(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    driver.goto(sites.url(SITE_B, "/before.html"))
    sdk_loaded(driver)
    driver.call("() => mixpanel.opt_out_tracking()")
    driver.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    href = driver.call("(url) => xdlink.decorate(url)", sites.url(SITE_B, LANDING))
    # B's SDK held back, to see what xdlink alone stored before it runs.
    sites.build(SITE_B, {"landing.html": "<p>B</p>"}, head=sites.mixpanel(delay=2))
    open_from_a(driver, sites, href, complete=False)
    assert driver.url == sites.url(SITE_B, LANDING)
    assert not evaluate(driver, "!!(window.mixpanel && mixpanel.__loaded)")
    assert evaluate(driver, f"localStorage.__mp_opt_in_out_{TOKEN}") == "0"
    assert device not in evaluate(driver, "document.cookie + JSON.stringify(localStorage)")
    sdk_loaded(driver)
    assert sites.events(SITE_B, "/landing.html") == []
