"""The cookie writes of a landing page: none that a browser refuses (a bare top-level
domain or a public suffix as the domain: Firefox reports each in the console), no removal
where there is nothing to remove, and the one written is the one the SDK then reads."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.harness import SITE_A, TOKEN, Browsing, Sites
from tests.browser.test_crossing import land_decorated

pytestmark = pytest.mark.browser

NAME = f"mp_{TOKEN}_mixpanel"
# Every write to document.cookie, kept in order (the SDK's too: it is held back below, so
# the writes before it loads are xdlink's alone).
RECORD_WRITES = """
(() => {
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  window.cookieWrites = [];
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() { return cookie.get.call(this); },
    set(value) { window.cookieWrites.push(value); cookie.set.call(this, value); },
  });
})();
"""


def writes_at_landing(
    browsing: Browsing, sites: Sites, host: str, stale: str | None = None, **config: Any
) -> tuple[list[str], str, Any]:
    """Cross from A to ``host`` (with a cookie of B's SDK under ``stale``, a domain or ""
    for host-only); the cookie writes before B's SDK runs, A's device id, and the page."""
    domains = (SITE_A, host)
    sites.build(SITE_A, {"index.html": "<p>A</p>"}, head=sites.mixpanel(), domains=domains)
    head = sites.mixpanel(delay=1, **config)
    sites.build(host, {"landing.html": "<p>B</p>"}, head=head, domains=domains)
    context = browsing.context()
    context.add_init_script(RECORD_WRITES)
    if stale is not None:
        value = quote(json.dumps({"distinct_id": "$device:" + "0" * 36, "$device_id": "0" * 36}))
        place = {"domain": stale, "path": "/"} if stale else {"url": sites.url(host)}
        context.add_cookies([{"name": NAME, "value": value, **place}])
    page = context.new_page()
    device = land_decorated(page, sites, host)
    assert not page.evaluate("!!(window.mixpanel && mixpanel.__loaded)")
    writes: list[str] = page.evaluate("cookieWrites")
    return writes, device, page


def domain_of(write: str) -> str | None:
    attributes = dict(
        part.strip().partition("=")[::2] for part in write.split(";")[1:] if "=" in part
    )
    return attributes.get("domain")


def test_a_first_visit_gets_one_write(browsing: Browsing, sites: Sites) -> None:
    writes, device, _ = writes_at_landing(browsing, sites, "www.site-b.test")
    assert len(writes) == 1, writes
    assert writes[0].startswith(f"{NAME}=")
    assert device in writes[0]
    assert domain_of(writes[0]) == ".site-b.test"


@pytest.mark.parametrize("stale", ["", ".site-b.test", ".www.site-b.test"])
def test_a_returning_visitor_gets_removals_down_to_the_sdk_domain(
    browsing: Browsing, sites: Sites, stale: str
) -> None:
    writes, device, page = writes_at_landing(browsing, sites, "www.site-b.test", stale)
    *removals, write = writes
    assert all("max-age=0" in removal for removal in removals)
    # Host-only, www.site-b.test and site-b.test: never "test", a bare top-level domain.
    assert sorted(domain_of(removal) or "" for removal in removals) == [
        "",
        "site-b.test",
        "www.site-b.test",
    ]
    assert domain_of(write) == ".site-b.test"
    assert device in write
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert page.evaluate("mixpanel.get_property('$device_id')") == device


def test_a_sdk_domain_that_is_a_public_suffix(browsing: Browsing, sites: Sites) -> None:
    """On site-b.github.io the SDK's guess of the registrable domain is github.io, which
    browsers refuse: the SDK cannot keep its own cookie there, and xdlink writes a
    host-only one, which the SDK then reads."""
    writes, device, page = writes_at_landing(browsing, sites, "site-b.github.io")
    assert len(writes) == 1, writes
    assert domain_of(writes[0]) is None
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    view = sites.page_views("site-b.github.io", "/landing.html")[0]
    assert view["$device_id"] == device
