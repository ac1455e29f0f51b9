"""The cookie writes of a landing page in Firefox and WebKitGTK, as test_cookie_writes.py
checks them in Chromium: none that a browser refuses (a bare top-level domain or a public
suffix as the domain; Firefox reports each as "rejected for invalid domain"), no removal
where there is nothing to remove, and afterwards one copy of the cookie, which the SDK
reads. Which copy a browser lists first when there are several is not the same in all
engines (test_first_match_order): the landing page must leave exactly one."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from publicsuffixlist import PublicSuffixList

from tests.browser.harness import SITE_A, TOKEN, Browsing, Sites
from tests.browser.test_cookie_writes import domain_of
from tests.browser.test_crossing import device_on_a
from tests.engines.driver import Driver, evaluate, sdk_loaded, wait_for_url, wait_until
from tests.engines.server import EngineServer

pytestmark = pytest.mark.browser

NAME = f"mp_{TOKEN}_mixpanel"
REJECTED = f"Cookie “{NAME}” has been rejected for invalid domain."
# Every write to document.cookie, in order, and whether the SDK made it (its file is on
# the stack; xdlink runs inline in the page).
RECORD_WRITES = """
const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
window.cookieWrites = [];
Object.defineProperty(Document.prototype, 'cookie', {
  configurable: true,
  get() { return cookie.get.call(this); },
  set(value) {
    window.cookieWrites.push({value, sdk: /\\/lib\\//.test(new Error().stack)});
    cookie.set.call(this, value);
  },
});
"""
COPIES = f"document.cookie.split('; ').filter((c) => c.startsWith('{NAME}=')).length"
PUBLIC = PublicSuffixList()


def seed(driver: Driver, sites: Sites, host: str, domain: str) -> None:
    """A copy of B's SDK cookie of an earlier visit, under `domain` ("" for host-only)."""
    value = quote(json.dumps({"distinct_id": "$device:" + "0" * 36, "$device_id": "0" * 36}))
    driver.goto(sites.url(host, "/__blank"))
    attributes = f";path=/;domain={domain}" if domain else ";path=/"
    driver.call("(cookie) => { document.cookie = cookie; }", f"{NAME}={value}{attributes}")
    assert evaluate(driver, COPIES) >= 1


def land(
    driver: Driver, sites: Sites, host: str, stale: tuple[str, ...] = ()
) -> tuple[list[str], str]:
    """Cross from A to `host` (after an earlier visit that left copies of B's SDK cookie
    under the `stale` domains); xdlink's cookie writes there, and A's device."""
    domains = (SITE_A, host)
    sites.build(SITE_A, {"index.html": "<p>A</p>"}, head=sites.mixpanel(), domains=domains)
    sites.build(host, {"landing.html": "<p>B</p>"}, head=sites.mixpanel(), domains=domains)
    driver.add_init_script(RECORD_WRITES)
    for domain in stale:
        seed(driver, sites, host, domain)
    driver.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    sdk_loaded(driver)
    href = driver.call("(url) => xdlink.decorate(url)", sites.url(host, "/landing.html"))
    # Opened from A, as location.assign(xdlink.decorate(url)) would: with A's referrer.
    driver.call("(url) => { location.href = url; }", href)
    wait_for_url(driver, host)
    # WebKit shows the new address before the page that strips the parameter has run.
    landing = sites.url(host, "/landing.html")
    wait_until(lambda: driver.url == landing, what=f"{landing} without the parameter")
    sdk_loaded(driver)
    writes: list[dict[str, Any]] = evaluate(driver, "cookieWrites")
    ours = [write["value"] for write in writes if not write["sdk"]]
    assert all(write.startswith(f"{NAME}=") for write in ours), ours
    assert not [write for write in ours if refused(write)], ours
    return ours, device


def refused(write: str) -> bool:
    """Whether the write names a domain that no browser takes: a public suffix, such as a
    bare top-level domain ("test") or github.io."""
    domain = (domain_of(write) or "").lstrip(".")
    return bool(domain) and PUBLIC.is_public(domain)


def assert_one_copy_read_by_the_sdk(driver: Driver, sites: Sites, host: str, device: str) -> None:
    assert evaluate(driver, COPIES) == 1, evaluate(driver, "document.cookie")
    assert evaluate(driver, "mixpanel.get_property('$device_id')") == device
    assert sites.page_views(host, "/landing.html")[0]["$device_id"] == device


def rejected(driver: Driver) -> list[str]:
    return [m.text for m in driver.messages() if "rejected for invalid domain" in m.text]


def test_a_first_visit_gets_one_write(driver: Driver, sites: Sites) -> None:
    ours, device = land(driver, sites, "www.site-b.test")
    assert len(ours) == 1, ours
    assert device in ours[0]
    assert domain_of(ours[0]) == ".site-b.test"
    assert_one_copy_read_by_the_sdk(driver, sites, "www.site-b.test", device)
    assert rejected(driver) == []


STALE = {
    "host-only": ("",),
    ".site-b.test": (".site-b.test",),
    ".www.site-b.test": (".www.site-b.test",),
    "all three": ("", ".site-b.test", ".www.site-b.test"),
}


@pytest.mark.parametrize("stale", STALE.values(), ids=STALE.keys())
def test_a_returning_visitor_gets_removals_down_to_the_sdk_domain(
    driver: Driver, sites: Sites, stale: tuple[str, ...]
) -> None:
    ours, device = land(driver, sites, "www.site-b.test", stale)
    *removals, write = ours
    assert all("max-age=0" in removal for removal in removals), removals
    # Host-only, www.site-b.test and site-b.test: never "test", a bare top-level domain.
    domains = sorted(domain_of(removal) or "" for removal in removals)
    assert domains == ["", "site-b.test", "www.site-b.test"]
    assert domain_of(write) == ".site-b.test"
    assert device in write
    assert_one_copy_read_by_the_sdk(driver, sites, "www.site-b.test", device)
    assert rejected(driver) == []


def test_a_sdk_domain_that_is_a_public_suffix(driver: Driver, sites: Sites) -> None:
    """On site-b.github.io the SDK's own guess of its cookie domain is .github.io, which
    browsers refuse (Firefox says so for each of the SDK's writes): xdlink writes a
    host-only cookie, which the SDK reads. The SDK then removes that copy and cannot keep
    its own: it goes on from memory, in every engine, with or without xdlink."""
    host = "site-b.github.io"
    ours, device = land(driver, sites, host)
    assert len(ours) == 1, ours
    assert domain_of(ours[0]) is None
    assert evaluate(driver, COPIES) == 0
    assert evaluate(driver, "mixpanel.get_property('$device_id')") == device
    assert sites.page_views(host, "/landing.html")[0]["$device_id"] == device
    if driver.engine == "firefox":  # WebKit refuses such cookies without a word
        # Each of Firefox's reports is one of the SDK's writes under .github.io.
        wait_until(lambda: len(reports(driver)) == len(refused_writes(driver)), what="reports")
        assert refused_writes(driver)


def reports(driver: Driver) -> list[str]:
    return [text for text in rejected(driver) if text == REJECTED]


def refused_writes(driver: Driver) -> list[str]:
    """The SDK's writes of its cookie that name a public suffix."""
    writes = [write["value"] for write in evaluate(driver, "cookieWrites") if write["sdk"]]
    return [value for value in writes if value.startswith(f"{NAME}=") and refused(value)]


# --- which copy comes first ------------------------------------------------------------

# Copies of one cookie at several domains, written in this order (the value names the
# domain): which one does document.cookie list first, and so the SDK read?
ORDERS = {
    "host-only, then .site-b.test": "host, parent",
    ".site-b.test, then host-only": "parent, host",
    ".site-b.test, host-only, .site-b.test with another value": "parent, host, parent-2",
    ".site-b.test, .www.site-b.test, host-only": "parent, www, host",
}
DOMAINS = {"host": "", "parent": ";domain=site-b.test", "www": ";domain=www.site-b.test"}
# Chromium and Firefox: the copy written first (a rewrite with another value is a new
# cookie; with the same value it keeps its place). WebKitGTK: .www.site-b.test, then
# host-only, then .site-b.test, whatever the order of the writes.
BY_TIME = ["host", "parent", "host", "parent"]
FIRST = {"chromium": BY_TIME, "firefox": BY_TIME, "webkit": ["host", "host", "host", "www"]}
FIRST_OF = """(writes) => writes.map((values, i) => {
  for (const [value, domain] of values) document.cookie = `c${i}=${value};path=/${domain}`;
  return document.cookie.split('; ').find((c) => c.startsWith(`c${i}=`)).split('=')[1];
})"""


def orders() -> list[list[tuple[str, str]]]:
    values = [order.split(", ") for order in ORDERS.values()]
    return [[(value, DOMAINS[value.split("-")[0]]) for value in order] for order in values]


def test_first_match_order(engine: str, driver: Driver, sites: Sites) -> None:
    driver.goto(sites.url("www.site-b.test", "/__blank"))
    assert driver.call(FIRST_OF, orders()) == FIRST[engine]


def test_first_match_order_in_chromium(browsing: Browsing, engine_server: EngineServer) -> None:
    page = browsing.page()
    page.goto(f"http://www.site-b.test:{engine_server.port}/__blank")
    assert page.evaluate(FIRST_OF, orders()) == FIRST["chromium"]
