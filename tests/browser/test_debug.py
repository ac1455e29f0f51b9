"""Debug mode: with localStorage.xdlink_debug = "1" the script tells the console what it
decorated, and on landing what it did with the parameter and why; without it, nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.harness import SDK, SDK_245, SDK_261, SITE_A, SITE_B, Browsing, Sites
from tests.browser.test_crossing import LANDING, PARAM, build_pair, device_on_a, link_to_b
from tests.browser.test_refusals import decorated_link

pytestmark = pytest.mark.browser

SWITCH_ON = "try { localStorage.xdlink_debug = '1'; } catch {}"  # about:blank has no storage


class Lines(list[str]):
    """The xdlink lines of a context, with the landing page and the address it opened."""

    page: Any = None
    href: str = ""


def debug_context(browsing: Browsing, switch: str = SWITCH_ON, **options: Any) -> Any:
    """A context whose pages have the switch set on every domain and whose console lines
    from xdlink (ConsoleMessage.text, arguments joined by one space) are kept in order."""
    context = browsing.context(**options)
    context.add_init_script(switch)
    context.lines = Lines()
    context.on(
        "console",
        lambda message: message.text.startswith("xdlink:") and context.lines.append(message.text),
    )
    return context


def landing_url(sites: Sites, value: str) -> str:
    return sites.url(SITE_B, f"/landing.html?keep=1&q=a%20b&empty=&{PARAM}={value}#part-2")


def value_of(href: str) -> str:
    return href.split(f"{PARAM}=", 1)[1].split("#", 1)[0].split("&", 1)[0]


def land(context: Any, sites: Sites, url: str) -> Lines:
    """Open `url` in `context`; the xdlink lines it logged once B's SDK has loaded."""
    page = context.new_page()
    page.goto(url, referer=sites.url(SITE_A))
    assert page.url == sites.url(SITE_B, LANDING)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    lines: Lines = context.lines
    lines.page, lines.href = page, url
    return lines


@pytest.mark.parametrize("sdk", [SDK, SDK_261, SDK_245])
def test_decorated_then_adopted(browsing: Browsing, sites: Sites, sdk: str) -> None:
    head = sites.mixpanel(sdk=sdk)
    build_pair(sites, link_to_b(sites), head_a=head, head_b=head)
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    sites.page_views(SITE_B, "/landing.html")
    landed = [r.target for r in sites.requests() if r.host == SITE_B and "landing" in r.target]
    decorated = sites.url(SITE_B, landed[0]) + "#part-2"
    assert f"{PARAM}=1{'i' if sdk == SDK_245 else 'd'}.{device}." in decorated
    # A second decoration (click after pointerdown) changes nothing, so it is not told,
    # unless the second turned in between and the value changed with it.
    *before, last = context.lines[:-2]
    assert last == f"xdlink: decorated {decorated}"
    assert all(line.startswith(f"xdlink: decorated {decorated.split(PARAM)[0]}") for line in before)
    # Checked and held on landing, adopted at the page's mixpanel.init.
    assert context.lines[-2:] == [f"xdlink: held {device}", f"xdlink: adopted {device}"]


def test_decorated_form(browsing: Browsing, sites: Sites) -> None:
    action = sites.url(SITE_B, "/submit.html?keep=1")
    form = f'<form action="{action}" method="post"><button id="go">go</button></form>'
    build_pair(sites, form)
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#go")
    page.wait_for_url(f"**{SITE_B}**")
    sites.page_views(SITE_B, "/submit.html")
    posted = [r.target for r in sites.requests() if r.method == "POST" and r.host == SITE_B]
    assert context.lines == [
        f"xdlink: decorated {sites.url(SITE_B, posted[0])}",
        f"xdlink: held {device}",
        f"xdlink: adopted {device}",
    ]


def test_nothing_told_without_an_id(browsing: Browsing, sites: Sites) -> None:
    """A link left as it is says nothing (verify reads why from the page's SDK)."""
    build_pair(sites, link_to_b(sites), head_a="")
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert context.lines == []


def test_nothing_told_when_opted_out(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device_on_a(sites)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate("mixpanel.opt_out_tracking()")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert context.lines == []


def test_refused_malformed(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    lines = land(debug_context(browsing), sites, landing_url(sites, "1d.nothex.1.2"))
    assert lines == ["xdlink: refused malformed"]


def test_refused_doubled(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    _, href = decorated_link(browsing, sites)
    value = value_of(href)
    lines = land(debug_context(browsing), sites, landing_url(sites, f"{value}&{PARAM}={value}"))
    assert lines == ["xdlink: refused doubled"]


def test_refused_expired(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    _, href = decorated_link(browsing, sites)
    context = debug_context(browsing)
    context.clock.set_fixed_time(time.time() + 121)
    assert land(context, sites, href) == ["xdlink: refused expired"]


def test_refused_other_browser(browsing: Browsing, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites))
    _, href = decorated_link(browsing, sites)
    context = debug_context(browsing, locale="de-DE")
    assert land(context, sites, href) == ["xdlink: refused other-browser"]


def test_held_where_no_mixpanel_starts(browsing: Browsing, sites: Sites) -> None:
    """A landing page whose Mixpanel never starts keeps the value in the page, and stores
    nothing."""
    build_pair(sites, link_to_b(sites), head_b="")
    device, href = decorated_link(browsing, sites)
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(href, referer=sites.url(SITE_A))
    assert page.url == sites.url(SITE_B, LANDING)
    assert context.lines == [f"xdlink: held {device}"]
    assert device not in page.evaluate("document.cookie + JSON.stringify(localStorage)")


@pytest.mark.parametrize("referer", [None, "http://site-c.test/", "http://notsite-a.test/"])
def test_refused_referrer(browsing: Browsing, sites: Sites, referer: str | None) -> None:
    """The same fresh value, opened from no page or from a page of no listed domain."""
    build_pair(sites, link_to_b(sites))
    device, href = decorated_link(browsing, sites)
    page = debug_context(browsing).new_page()
    page.goto(href, referer=referer)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert page.context.lines == ["xdlink: refused referrer"]
    assert sites.page_views(SITE_B, "/landing.html")[0]["$device_id"] != device


def lines_after_visiting_b(browsing: Browsing, sites: Sites, script: str) -> list[str]:
    """The landing lines for a visitor who first saw B and ran ``script`` there."""
    build_pair(sites, link_to_b(sites))
    _, href = decorated_link(browsing, sites)
    context = debug_context(browsing)
    page = context.new_page()
    page.goto(sites.url(SITE_B, "/before.html"))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate(script)
    return land(context, sites, href)


def test_held_then_refused_opted_out(browsing: Browsing, sites: Sites) -> None:
    """A visitor who opted out on B is held (they may opt in on this visit); opting out
    again drops the value, and says so."""
    lines = lines_after_visiting_b(browsing, sites, "mixpanel.opt_out_tracking()")
    device = value_of(lines.href).split(".")[1]
    assert lines == [f"xdlink: held {device}"]
    lines.page.evaluate("mixpanel.opt_out_tracking()")
    assert lines == [f"xdlink: held {device}", "xdlink: refused opted-out"]


def test_refused_identified(browsing: Browsing, sites: Sites) -> None:
    lines = lines_after_visiting_b(browsing, sites, "mixpanel.identify('someone@example.com')")
    device = value_of(lines.href).split(".")[1]
    assert lines == [f"xdlink: held {device}", "xdlink: refused identified"]


@pytest.mark.parametrize(
    "switch", ["", "try { localStorage.xdlink_debug = '0'; } catch {}"], ids=["unset", "0"]
)
def test_switch_off_tells_nothing(browsing: Browsing, sites: Sites, switch: str) -> None:
    build_pair(sites, link_to_b(sites))
    context = debug_context(browsing, switch)
    messages: list[str] = []
    context.on("console", lambda message: messages.append(message.text))
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b", button="right")
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    assert sites.page_views(SITE_B, "/landing.html")[0]["$device_id"] == device
    page.goto(landing_url(sites, "garbage"), referer=sites.url(SITE_A))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert not [text for text in messages if text.startswith("xdlink:")]
