"""Every form of link and form to a listed domain, each clicked twice on the same page: once
without xdlink (the baseline) and once with it. With xdlink the browser requests the same
address plus the parameter once, lands on the baseline's address, and B's first event
carries A's device id; links xdlink must leave alone arrive exactly as in the baseline."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.harness import DOMAINS, SITE_A, SITE_B, Browsing, Sites
from tests.browser.test_crossing import PARAM, device_on_a

pytestmark = pytest.mark.browser

IDN_HOST = "xn--bcher-kva.test"  # bücher.test
LOOKALIKE = "site-b.test.evil.test"
STALE = f"{PARAM}=1d.0123456789abcdef0123.1700000000.5"
GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
# What the landing page's address was when the browser committed it, before any script.
ARRIVAL = "window.arrived = window.arrived || document.URL"


@dataclass(frozen=True)
class Case:
    """Markup on A whose element `#go` is clicked; `{b}` is B's origin (`{port}` the
    server's port). The browser lands on `host` at `path`; `joins` is False for links
    xdlink must leave alone."""

    markup: str
    host: str = SITE_B
    path: str = "/landing.html"
    joins: bool = True
    fragment: bool = False
    head: str = ""
    new_tab: bool = False


def link(href: str, attributes: str = "") -> str:
    return f'<a id="go" href="{href}"{attributes}>go</a>'


def form(action: str, method: str, button: str = "", attributes: str = "") -> str:
    return (
        f'<form action="{action}" method="{method}"{attributes}><input name="q" value="x y">'
        f"{button or '<button id=go>go</button>'}</form>"
    )


ELSEWHERE = f"http://{LOOKALIKE}:{{port}}/landing.html"
# The page cancels the button's submission and submits the form from script, which goes to
# the form's own action: the button's formaction no longer counts.
RESUBMIT = ' onsubmit="event.preventDefault(); this.submit()"'


LANDING = "{b}/landing.html"
CASES: dict[str, Case] = {
    "plain": Case(link(LANDING)),
    "encoded query": Case(link(LANDING + "?q=a%20b&amp=%26%3D%23&plus=a+b&u=%C3%A9")),
    "odd query": Case(link(LANDING + "?=v&&flag&x==y&%5Fxdl=1&q=Stra&szlig;e")),
    "fragment with ? and &": Case(link(LANDING + "?a=1#x?y=1&z=2")),
    "hash route": Case(link(LANDING + "#/route/7?tab=2&sort=up")),
    "hash route, --fragment": Case(link(LANDING + "#/route/7?tab=2"), fragment=True),
    "empty ?": Case(link(LANDING + "?")),
    "empty ?, --fragment": Case(link(LANDING + "?"), fragment=True),
    "empty #": Case(link(LANDING + "?a=1#")),
    "empty #, --fragment": Case(link(LANDING + "?a=1#"), fragment=True),
    "port written with a leading zero": Case(link("http://site-b.test:0{port}/landing.html?p=1")),
    "upper-case host": Case(link("http://SITE-B.Test:{port}/landing.html?u=1")),
    "IDN host": Case(link("http://bücher.test:{port}/landing.html?i=1"), host=IDN_HOST),
    "trailing dot": Case(link("http://site-b.test.:{port}/landing.html?d=1"), host="site-b.test."),
    "credentials": Case(link("http://user:pw@site-b.test:{port}/landing.html?c=1#top")),
    "credentials, --fragment": Case(
        link("http://user:pw@site-b.test:{port}/landing.html?c=1#top"), fragment=True
    ),
    "area": Case(
        f'<img id="go" src="{GIF}" width="200" height="100" usemap="#m"><map name="m">'
        '<area shape="rect" coords="0,0,200,100" href="{b}/landing.html?area=1" alt="B"></map>'
    ),
    "SVG a": Case(
        '<svg width="200" height="60"><a id="go" href="{b}/landing.html?svg=1#s">'
        '<rect width="200" height="60" fill="teal"/></a></svg>'
    ),
    "base href": Case(link("landing.html?base=1#b"), head='<base href="{b}/">'),
    "target=_blank": Case(link(LANDING + "?tab=1", ' target="_blank"'), new_tab=True),
    "stale parameter from a copied URL": Case(link(LANDING + f"?keep=1&{STALE}#top")),
    "stale parameter, --fragment": Case(link(LANDING + f"?keep=1#top&{STALE}"), fragment=True),
    "GET form": Case(form(LANDING + "?dropped=1#kept", "get")),
    "GET form, --fragment": Case(form(LANDING + "?dropped=1#kept", "get"), fragment=True),
    "POST form": Case(form(LANDING + "?keep=1#kept", "post")),
    "POST form, --fragment": Case(form(LANDING + "?keep=1#kept", "post"), fragment=True),
    "button formaction GET": Case(
        form("/search", "get", f'<button id="go" formaction="{LANDING}?dropped=1#f">go</button>')
    ),
    "button formaction GET, --fragment": Case(
        form("/search", "get", f'<button id="go" formaction="{LANDING}#f">go</button>'),
        fragment=True,
    ),
    "button formaction POST": Case(
        form("/search", "post", f'<button id="go" formaction="{LANDING}?keep=1#f">go</button>')
    ),
    "input formaction POST": Case(
        form("/search", "post", f'<input type="submit" id="go" formaction="{LANDING}?i=1">')
    ),
    "formmethod post on a GET form": Case(
        form(LANDING + "?keep=1", "get", '<button id="go" formmethod="post">go</button>')
    ),
    "formmethod get on a POST form": Case(
        form(LANDING + "?dropped=1", "post", '<button id="go" formmethod="get">go</button>')
    ),
    "formaction to a lookalike on a form to B": Case(
        form(LANDING, "get", f'<button id="go" formaction="{ELSEWHERE}">go</button>'),
        host=LOOKALIKE,
        joins=False,
    ),
    "cancelled, then form.submit() to the form's action": Case(
        form(LANDING, "get", f'<button id="go" formaction="{ELSEWHERE}">go</button>', RESUBMIT)
    ),
    "cancelled, then form.submit() to a lookalike": Case(
        form(ELSEWHERE, "get", f'<button id="go" formaction="{LANDING}">go</button>', RESUBMIT),
        host=LOOKALIKE,
        joins=False,
    ),
    "form.submit() of a GET form": Case(
        form(
            LANDING + "#s",
            "get",
            '<button id="go" type="button" onclick="form.submit()">go</button>',
        )
    ),
    "requestSubmit(button)": Case(
        form(
            "/search",
            "get",
            '<button id="go" type="button" onclick="form.requestSubmit(s)">go</button>'
            f'<button id="s" formaction="{LANDING}?r=1" formmethod="post">s</button>',
        )
    ),
    "lookalike host": Case(
        link(f"http://{LOOKALIKE}:{{port}}/landing.html?l=1"), host=LOOKALIKE, joins=False
    ),
    "javascript: link": Case(
        link("javascript:location.href = '{b}/landing.html?js=1'"), joins=False
    ),
}


@dataclass
class Journey:
    """One click on A and its landing."""

    device: str  # A's
    arrived: str  # the landing page's address as committed, before any script ran
    requested: tuple[str, str, str]  # the landing request: method, target, body
    address: tuple[str, str]  # location.href and document.URL once the page is loaded
    landed_device: str  # of the landing page's first event


def fill(text: str, sites: Sites) -> str:
    return text.replace("{b}", sites.url(SITE_B).rstrip("/")).replace(
        "{port}", str(sites.server.port)
    )


def build(sites: Sites, case: Case, xdlink: bool) -> None:
    domains = (*DOMAINS, IDN_HOST)
    options: dict[str, Any] = {"domains": domains, "fragment": case.fragment, "xdlink": xdlink}
    head = sites.mixpanel()
    body = {"index.html": fill(case.markup, sites)}
    sites.build(SITE_A, body, head=fill(case.head, sites) + head, **options)
    # A lookalike is not a listed domain: never built with xdlink.
    options["xdlink"] = xdlink and case.host != LOOKALIKE
    sites.build(case.host, {"landing.html": "<p>landed</p>"}, head=head, **options)


def click(browsing: Browsing, sites: Sites, case: Case) -> Journey:
    context = browsing.context()
    context.add_init_script(ARRIVAL)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    if case.new_tab:
        with context.expect_page() as opened:
            page.click("#go")
        page = opened.value
    else:
        page.click("#go")
    page.wait_for_url(lambda url: url.split("/")[2].endswith(f"{case.host}:{sites.server.port}"))
    return landing(sites, case, device, page.evaluate)


def landing(sites: Sites, case: Case, device: str, evaluate: Callable[[str], Any]) -> Journey:
    """The journey from A's `device` to the landing page, once that sent its page view;
    `evaluate` gives a JavaScript expression's value on the landing page."""
    landed = sites.page_views(case.host, case.path)[0]
    requests = [
        r for r in sites.requests() if r.host == case.host and r.target.startswith(case.path)
    ]
    return Journey(
        device=device,
        arrived=evaluate("window.arrived"),
        requested=(requests[0].method, requests[0].target, requests[0].body),
        address=tuple(evaluate("[location.href, document.URL]")),
        landed_device=landed["$device_id"],
    )


def journeys(
    sites: Sites, case: Case, click: Callable[[Sites, Case], Journey]
) -> tuple[Journey, Journey]:
    """The same click without xdlink, then with it."""
    build(sites, case, xdlink=False)
    baseline = click(sites, case)
    sites.server.capture.reset()
    build(sites, case, xdlink=True)
    return baseline, click(sites, case)


def without_param(url: str) -> str:
    """`url` without xdlink's parameter; a query or fragment that held nothing else goes."""
    match = re.fullmatch(r"([^?#]*)(\?[^#]*)?(#.*)?", url, re.DOTALL)
    assert match is not None
    kept = [match[1]]
    for part in match[2], match[3]:
        pairs = [pair for pair in (part or "")[1:].split("&") if pair.split("=")[0] != PARAM]
        kept.append(part[0] + "&".join(pairs) if part and pairs else "")
    return "".join(kept)


def values(url: str) -> list[str]:
    return re.findall(rf"(?:[?#&]){re.escape(PARAM)}=([^&#]*)", url)


def assert_like_baseline(baseline: Journey, journey: Journey, joins: bool) -> None:
    assert baseline.landed_device != baseline.device  # the baseline joins nobody
    method, target, body = journey.requested
    if joins:
        carried = values(journey.arrived)
        assert len(carried) == 1, journey.arrived
        assert carried[0].startswith(f"1d.{journey.device}."), journey.arrived
        assert journey.landed_device == journey.device
        assert without_param(journey.arrived) == without_param(baseline.arrived)
        assert (method, without_param(target), body) == (
            baseline.requested[0],
            without_param(baseline.requested[1]),
            baseline.requested[2],
        )
    else:
        assert journey.arrived == baseline.arrived
        assert journey.requested == baseline.requested
        assert journey.landed_device != journey.device
    assert journey.address == tuple(map(without_param, baseline.address))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_link_form_as_without_xdlink(browsing: Browsing, sites: Sites, case: Case) -> None:
    baseline, journey = journeys(sites, case, lambda *args: click(browsing, *args))
    assert_like_baseline(baseline, journey, case.joins)


UNTOUCHED = {
    "mailto:": "mailto:someone@site-b.test?subject=hi",
    "tel:": "tel:+15550100",
    "javascript:": "javascript:void 0",
    "lookalike host": f"http://not{SITE_B}:{{port}}/landing.html",
}


@pytest.mark.parametrize("href", UNTOUCHED.values(), ids=UNTOUCHED.keys())
def test_links_to_elsewhere_keep_their_href(browsing: Browsing, sites: Sites, href: str) -> None:
    """Pressed, clicked and opened in a menu (the click itself is cancelled by the page)."""
    href = fill(href, sites)
    control = sites.url(SITE_B, "/landing.html")
    markup = link(href, ' onclick="event.preventDefault()"') + f'<a id="b" href="{control}">B</a>'
    hrefs = []
    for xdlink in (False, True):
        sites.build(SITE_A, {"index.html": markup}, head=sites.mixpanel(), xdlink=xdlink)
        page = browsing.page()
        page.goto(sites.url(SITE_A))
        page.wait_for_function("window.mixpanel && mixpanel.__loaded")
        for button in ("left", "right"):
            page.click("#go", button=button)
        page.click("#b", button="right")
        hrefs.append((page.get_attribute("#go", "href"), PARAM in page.get_attribute("#b", "href")))
    assert hrefs == [(href, False), (href, True)]
