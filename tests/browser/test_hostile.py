"""Hostile values, in a real browser: in the page's own settings, and in the parameter."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from tests.browser.harness import SITE_A, SITE_B, TOKEN, Browsing, Sites
from tests.browser.test_crossing import LANDING, PARAM, build_pair, link_to_b
from tests.browser.test_refusals import decorated_link

pytestmark = pytest.mark.browser

# What a page's own mixpanel.init may hold, read by xdlink build and handed to the script.
HOSTILE_SETTINGS = [
    "</script><script>window.pwned = 1</script>",
    "<!--<script>",
    "\u2028\u2029'\"\\",
    "]]></script>",
    "\x00\x1b\x7f",
]


@pytest.mark.parametrize("value", HOSTILE_SETTINGS, ids=range(len(HOSTILE_SETTINGS)))
def test_hostile_settings_stay_inside_the_script(
    browsing: Browsing, sites: Sites, value: str
) -> None:
    quoted = json.dumps(value).replace("</", "<\\/")
    head = (
        "<script>window.mixpanel = {init: function () {}};"
        f"mixpanel.init({json.dumps(TOKEN)}, {{persistence_name: {quoted},"
        f" cookie_domain: {quoted}}});</script>"
    )
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=head)
    built = (sites.root / SITE_A / "index.html").read_text()
    block = built.split("<script data-xdlink=", 1)[1].split("</script>", 1)[0]
    assert "<!--" not in block
    assert "</" not in block
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    assert page.evaluate("typeof window.xdlink.decorate") == "function"
    assert page.evaluate("window.pwned") is None
    scripts = page.evaluate("[...document.scripts].map((s) => s.dataset.xdlink ? 'x' : 'page')")
    assert scripts == ["x", "page"]


def test_parameter_given_twice_adopts_nothing(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    value = href.split(f"{PARAM}=", 1)[1].split("#", 1)[0].split("&", 1)[0]
    base = sites.url(SITE_B, "/landing.html?keep=1&q=a%20b&empty=")
    twice = {
        "in the query": f"{base}&{PARAM}={value}&{PARAM}={value}#part-2",
        "in the query and the fragment": f"{base}&{PARAM}={value}#part-2&{PARAM}={value}",
        "after garbage": f"{base}&{PARAM}=x&{PARAM}={value}#part-2",
    }
    context = browsing.context()
    for url in twice.values():
        page = context.new_page()
        page.goto(url, referer=sites.url(SITE_A))
        assert page.url == sites.url(SITE_B, LANDING)
        page.close()
    views = sites.page_views(SITE_B, "/landing.html", count=len(twice))
    assert {view["$device_id"] for view in views}.isdisjoint({device})


MORE_GARBAGE = [
    '{"$device_id": "0123456789abcdef0123"}',
    "1d.constructor.{now}.1",
    "1d.__proto__.{now}.1",
    "1d.0123456789abcdef0123.{future}.1",
    "1d.0123456789abcdef0123.99999999999999999999.1",
    "1d.0123456789abcdef0123.-1.1",
    "1d.0123456789abcdef0123.{now}.1&__proto__[x]=1",
    "%E2%80%A8%3C/script%3E",
]


def test_more_crafted_values_adopt_nothing(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    context = browsing.context()
    now = int(time.time())
    for value in MORE_GARBAGE:
        text = value.replace("{now}", str(now)).replace("{future}", str(now + 3600))
        page = context.new_page()
        url = sites.url(SITE_B, f"/landing.html?keep=1&{PARAM}={quote(text, safe='%&=[]')}")
        page.goto(url, referer=sites.url(SITE_A))
        assert PARAM not in page.url, value
        assert page.evaluate("({}).x === undefined && Object.prototype.x === undefined")
        page.close()
    views = sites.page_views(SITE_B, "/landing.html", count=len(MORE_GARBAGE))
    assert len({view["$device_id"] for view in views}) == 1
    assert all(len(view["$device_id"]) == 36 for view in views)


def test_visitor_with_their_own_distinct_id_on_b_stays_who_they_are(
    browsing: Browsing, sites: Sites
) -> None:
    # SDKs before 2.20 identified without $user_id, and sites still register a
    # distinct_id of their own: any distinct_id that is not the device id is a person.
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    page = browsing.page()
    page.goto(sites.url(SITE_B, "/before.html"))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.register({distinct_id: 'customer-7'})")
    page.goto(href, referer=sites.url(SITE_A))
    views = sites.page_views(SITE_B, "/landing.html")
    assert views[0]["distinct_id"] == "customer-7"
    assert views[0]["$device_id"] != device
