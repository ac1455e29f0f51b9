"""Only a visitor who comes from a listed domain is joined. Any page can compute the
browser binding (user agent, language and time zone are public) and craft a fresh value
for an id it chose; it cannot make the browser say that the visit comes from a listed
domain. So B takes the value only when document.referrer's host is listed (or B's own),
and the sending side makes every decorated navigation carry its origin, whatever the
page's referrer policy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.harness import SDK, SITE_A, SITE_B, Browsing, Sites
from tests.browser.test_consent import ACCEPT, WAITS, assert_carries, first_event_after
from tests.browser.test_crossing import (
    LANDING,
    PARAM,
    assert_clean_landing,
    assert_joined,
    build_pair,
    device_on_a,
    link_to_b,
)
from tests.browser.test_debug import debug_context

pytestmark = pytest.mark.browser

SITE_C = "site-c.test"  # listed nowhere
CHOSEN = "c4a1c4a1-0000-4000-8000-c4a1c4a1c4a1"
NO_REFERRER = '<meta name="referrer" content="no-referrer">'
STORED = "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"


def crafting_site(sites: Sites, head: str = "") -> None:
    """A page on an unlisted domain that runs xdlink built for itself and B, over a
    Mixpanel state it chose: the value it makes is fresh and bound to this browser."""
    body = f'<a id="to-b" href="{sites.url(SITE_B, LANDING)}">B</a>'
    sites.build(
        SITE_C, {"index.html": body}, head=head + sites.mixpanel(), domains=(SITE_C, SITE_B)
    )


def choose(page: Any, sites: Sites) -> str:
    """Open the crafting page, give its Mixpanel the chosen id; the value it makes for B."""
    page.goto(sites.url(SITE_C))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    page.evaluate(f"mixpanel.register({{$device_id: '{CHOSEN}', distinct_id: '$device:{CHOSEN}'}})")
    href: str = page.evaluate("url => xdlink.decorate(url)", sites.url(SITE_B, LANDING))
    assert f"{PARAM}=1d.{CHOSEN}." in href
    return href


def assert_chose_nothing(page: Any, sites: Sites, referrer: str) -> None:
    page.wait_for_url(f"**{SITE_B}**")
    assert page.evaluate("document.referrer") == referrer
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert_clean_landing(page, sites)
    # The crafting page's own script may have told of its decoration; B tells one thing.
    assert page.context.lines[-1] == "xdlink: refused referrer"
    assert not [line for line in page.context.lines if "adopted" in line or "held" in line]
    events = sites.page_views(SITE_B, "/landing.html")
    assert all(event["$device_id"] != CHOSEN for event in events)
    assert CHOSEN not in page.evaluate(STORED)


CRAFTED = {
    # how the crafting page sends the visitor: (its head, the navigation, B's referrer)
    "script, with a referrer": ("", "href => { location.href = href; }", "site-c"),
    "script, no referrer": (NO_REFERRER, "href => { location.href = href; }", ""),
    "its own decorated link": ("", "() => document.querySelector('#to-b').click()", "site-c"),
    "a form": (
        "",
        "href => { const f = document.createElement('form'); f.method = 'post';"
        " f.action = href; document.body.append(f); f.submit(); }",
        "site-c",
    ),
}


@pytest.mark.parametrize(("head", "navigate", "referrer"), CRAFTED.values(), ids=CRAFTED.keys())
def test_a_page_on_an_unlisted_domain_chooses_nothing(
    browsing: Browsing, sites: Sites, head: str, navigate: str, referrer: str
) -> None:
    build_pair(sites, link_to_b(sites))
    crafting_site(sites, head)
    page = debug_context(browsing).new_page()
    href = choose(page, sites)
    page.evaluate(navigate, href)
    expected = sites.url(SITE_C) if referrer else ""
    assert_chose_nothing(page, sites, expected)


def test_the_crafted_value_is_otherwise_valid(browsing: Browsing, sites: Sites) -> None:
    """The control: the same crafted value, as if it came from A, would be adopted; only
    where the visitor comes from tells it apart."""
    build_pair(sites, link_to_b(sites))
    crafting_site(sites)
    page = debug_context(browsing).new_page()
    href = choose(page, sites)
    page.goto(href, referer=sites.url(SITE_A))
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert page.context.lines[-1] == f"xdlink: adopted {CHOSEN}"


def cross(browsing: Browsing, sites: Sites, selector: str = "#to-b", new_tab: bool = False) -> str:
    """Click from A to B; A's device id, once B's first page view joined it."""
    context = browsing.context()
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    if new_tab:
        with context.expect_page() as opened:
            page.click(selector)
        page = opened.value
    else:
        page.click(selector)
    page.wait_for_url(f"**{SITE_B}**")
    assert page.evaluate("document.referrer") == sites.url(SITE_A)
    assert_joined(sites, device, LANDING.split("?")[0])
    return device


POLICIES = {
    "meta no-referrer": (NO_REFERRER, {}),
    "meta same-origin": ('<meta name="referrer" content="same-origin">', {}),
    "header no-referrer": ("", {"index.html.headers": "Referrer-Policy: no-referrer"}),
}


@pytest.mark.parametrize(("meta", "files"), POLICIES.values(), ids=POLICIES.keys())
def test_a_page_that_sends_no_referrer_still_joins(
    browsing: Browsing, sites: Sites, meta: str, files: dict[str, str]
) -> None:
    build_pair(sites, link_to_b(sites), head_a=meta + sites.mixpanel())
    for name, content in files.items():
        (sites.root / SITE_A / name).write_text(content)
    cross(browsing, sites)


@pytest.mark.parametrize(
    "attributes",
    [
        'rel="noreferrer"',
        'rel="nofollow NoReferrer" target="_blank"',
        'referrerpolicy="no-referrer"',
    ],
)
def test_links_that_send_no_referrer_still_join(
    browsing: Browsing, sites: Sites, attributes: str
) -> None:
    build_pair(sites, link_to_b(sites).replace("<a ", f"<a {attributes} "))
    cross(browsing, sites, new_tab="_blank" in attributes)


def test_a_post_form_with_rel_noreferrer_joins(browsing: Browsing, sites: Sites) -> None:
    action = sites.url(SITE_B, "/landing.html?keep=1")
    form = (
        f'<form rel="noreferrer" action="{action}" method="post"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    context = browsing.context()
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#go")
    page.wait_for_url(f"**{SITE_B}**")
    assert page.evaluate("document.referrer") == sites.url(SITE_A)
    assert_joined(sites, device)


def test_a_redirect_on_b_keeps_the_referrer(browsing: Browsing, sites: Sites) -> None:
    """B moved its page: the link on A goes to the old address, B answers with a 302 to the
    new one, query kept. The browser keeps the first request's referrer through it."""
    build_pair(sites, link_to_b(sites, path=LANDING.replace("landing", "old")))
    (sites.root / SITE_B / "old.html.redirect").write_text("/landing.html")
    cross(browsing, sites)


def test_a_held_value_goes_on_from_a_page_that_sends_no_referrer(
    browsing: Browsing, sites: Sites
) -> None:
    """B waits for consent and its pages send no referrer: the value carried to B's next
    page still comes from B, and joins at consent there."""
    pages = {"landing.html": '<a id="next" href="/second.html">second</a>', "second.html": "2"}
    head_b = NO_REFERRER + sites.mixpanel(**WAITS)
    sites.build(SITE_A, {"index.html": link_to_b(sites)}, head=sites.mixpanel())
    sites.build(SITE_B, pages, head=head_b)
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**")
    page.click("#next")
    page.wait_for_url("**/second.html")
    assert page.evaluate("document.referrer") == sites.url(SITE_B)
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    event = first_event_after(sites, page, ACCEPT, "/second.html")
    assert_carries(event, device, SDK)
