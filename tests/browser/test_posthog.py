"""PostHog across two domains, with the real posthog-js releases and its official snippet:
each journey runs on the pages without xdlink (the baseline: PostHog alone splits the
visitor) and on the same pages built by xdlink with nothing but --domains."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.browser.harness import POSTHOG_RELEASES, SITE_A, SITE_B, Browsing, Sites

pytestmark = pytest.mark.browser

LANDING = "/landing.html"
PARAM = "_xdl"
EMAIL = "ada@example.com"
STORED = "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"


def build_pair(
    sites: Sites,
    sdk: str,
    *,
    xdlink: bool = True,
    head_a: str | None = None,
    head_b: str | None = None,
    pages_b: dict[str, str] | None = None,
    **config: Any,
) -> None:
    """A links to B; both load PostHog with ``config`` unless given their own head."""
    head = sites.posthog(sdk=sdk, **config)
    link = f'<a id="to-b" href="{sites.url(SITE_B, LANDING)}">to B</a>'
    sites.build(SITE_A, {"index.html": link}, head=head_a or head, xdlink=xdlink)
    pages = pages_b or {LANDING.lstrip("/"): "<p>B</p>"}
    sites.build(SITE_B, pages, head=head_b or head, xdlink=xdlink)


def first(sites: Sites, host: str, path: str, name: str = "$pageview") -> dict[str, Any]:
    """The first PostHog event called ``name`` from ``host``'s ``path``."""
    deadline = time.monotonic() + 10
    while True:
        events = [e for e in sites.posthog_events(host, path) if e["event"] == name]
        if events:
            return events[0]
        assert time.monotonic() < deadline, f"no {name} from {host}{path}"
        time.sleep(0.05)


def open_a(page: Any, sites: Sites, after: str = "") -> dict[str, Any]:
    """Open A, wait for its SDK, run ``after`` there; A's first page view."""
    page.goto(sites.url(SITE_A))
    on_a = first(sites, SITE_A, "/")
    page.wait_for_function("window.posthog && posthog.__loaded")
    if after:
        page.evaluate(after)
    return on_a


def click_to_b(page: Any, sites: Sites, wait_until: str = "load") -> None:
    page.click("#to-b")
    page.wait_for_url(f"**{SITE_B}**", wait_until=wait_until)


def visit_a_then_b(page: Any, sites: Sites) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first page view on A, and the first on B after the click on A's link."""
    on_a = open_a(page, sites)
    click_to_b(page, sites)
    return on_a, first(sites, SITE_B, LANDING)


def journeys(
    browsing: Browsing, sites: Sites, sdk: str, **options: Any
) -> dict[bool, tuple[dict[str, Any], dict[str, Any]]]:
    """The same journey on the pages without xdlink (False) and with it (True), each in a
    fresh browser context."""
    seen = {}
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, **options)
        seen[xdlink] = visit_a_then_b(browsing.page(), sites)
    return seen


def assert_joined(on_a: dict[str, Any], on_b: dict[str, Any], sites: Sites) -> None:
    assert on_b["distinct_id"] == on_a["$device_id"], (on_a, on_b)
    assert on_b["$device_id"] == on_a["$device_id"], (on_a, on_b)
    assert on_b["$session_id"] == on_a["$session_id"], (on_a, on_b)
    assert on_b["$current_url"] == sites.url(SITE_B, LANDING)


def assert_mixpanel(mixpanel_a: dict[str, Any], mixpanel_b: dict[str, Any], joined: bool) -> None:
    """B's first Mixpanel event carries A's ids (``joined``), or another visitor's."""
    assert (mixpanel_b["$device_id"] == mixpanel_a["$device_id"]) is joined, mixpanel_b
    assert (mixpanel_b["distinct_id"] == mixpanel_a["distinct_id"]) is joined, mixpanel_b


def assert_split(on_a: dict[str, Any], on_b: dict[str, Any]) -> None:
    assert on_b["distinct_id"] != on_a["distinct_id"], (on_a, on_b)
    assert on_b["$session_id"] != on_a["$session_id"], (on_a, on_b)


# --- anonymous visitors, as the page keeps them -------------------------------------------

CONFIGS = {
    "default": {},
    "cookie": {"persistence": "cookie"},
    "localStorage": {"persistence": "localStorage"},
    "localStorage+cookie": {"persistence": "localStorage+cookie"},
    "memory": {"persistence": "memory"},
    "host-only cookie": {"cross_subdomain_cookie": False},
    "persistence_name": {"persistence_name": "shop"},
    "defaults 2025-05-24": {"defaults": "2025-05-24"},
}


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
@pytest.mark.parametrize("config", CONFIGS, ids=list(CONFIGS))
def test_an_anonymous_visitor_is_one_person_in_one_session(
    browsing: Browsing, sites: Sites, sdk: str, config: str
) -> None:
    seen = journeys(browsing, sites, sdk, **CONFIGS[config])
    assert_split(*seen[False])
    assert_joined(*seen[True], sites)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_the_landing_address_is_clean_and_the_session_goes_on(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """B's address bar loses the parameter; a second page of B stays in A's session."""
    build_pair(sites, sdk, pages_b={"landing.html": '<a id="next" href="/next.html">n</a>',
                                    "next.html": "<p>next</p>"})  # fmt: skip
    page = browsing.page()
    on_a, on_b = visit_a_then_b(page, sites)
    assert page.url == sites.url(SITE_B, LANDING)
    assert_joined(on_a, on_b, sites)
    page.click("#next")
    on_next = first(sites, SITE_B, "/next.html")
    assert on_next["distinct_id"] == on_a["$device_id"]
    assert on_next["$session_id"] == on_a["$session_id"]


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_a_returning_visitor_is_carried_before_the_sdk_has_loaded(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """Back on A, the visitor clicks while A's SDK is still loading (its stubs return
    undefined): the id and session come from A's storage."""
    slow = sites.posthog(sdk=sdk, delay=4)
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink)
        page = browsing.page()
        on_a = open_a(page, sites)
        build_pair(sites, sdk, xdlink=xdlink, head_a=slow)
        page.goto(sites.url(SITE_A), wait_until="domcontentloaded")
        assert page.evaluate("posthog.get_distinct_id()") is None
        click_to_b(page, sites)
        on_b = first(sites, SITE_B, LANDING)
        if xdlink:
            assert_joined(on_a, on_b, sites)
        else:
            assert_split(on_a, on_b)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_an_expired_link_joins_nobody(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """A decorated address opened after the TTL: B's visitor is B's own, as without it."""
    head = sites.posthog(sdk=sdk)
    sites.build(SITE_A, {"index.html": "<p>A</p>"}, head=head, ttl=1)
    sites.build(SITE_B, {"landing.html": "<p>B</p>"}, head=head, ttl=1)
    page = browsing.page()
    on_a = open_a(page, sites)
    href = page.evaluate("url => xdlink.decorate(url)", sites.url(SITE_B, LANDING))
    assert PARAM in href
    time.sleep(2.5)
    page.goto(href, referer=sites.url(SITE_A))
    on_b = first(sites, SITE_B, LANDING)
    assert_split(on_a, on_b)
    assert page.url == sites.url(SITE_B, LANDING)


# --- identity ------------------------------------------------------------------------------


def names_the_person(address: str) -> bool:
    """Return whether an address B was asked for holds the identified person's id, as
    written or percent-encoded (a device id's hex may hold any three letters)."""
    return EMAIL in unquote_plus(address)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_an_identified_visitor_carries_their_anonymous_id_never_their_own(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """Identified on A (an email): the link carries the device id PostHog linked to the
    person, and B's events go by that id; without xdlink B has a stranger."""
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink)
        page = browsing.page()
        on_a = open_a(page, sites, f"posthog.identify({EMAIL!r})")
        click_to_b(page, sites)
        on_b = first(sites, SITE_B, LANDING)
        assert on_b["distinct_id"] != EMAIL
        assert (on_b["$device_id"] == on_a["$device_id"]) is xdlink
        assert (on_b["distinct_id"] == on_a["$device_id"]) is xdlink
        addresses = [request.target for request in sites.requests() if request.host == SITE_B]
        assert any(PARAM in address for address in addresses) is xdlink, addresses
        assert not any(names_the_person(address) for address in addresses), addresses


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_a_visitor_identified_on_b_stays_who_they_are(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """Identified on B earlier, the visitor comes back from A: B goes on with its person,
    as it does without xdlink."""
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink)
        page = browsing.page()
        page.goto(sites.url(SITE_B, LANDING))
        page.wait_for_function("window.posthog && posthog.__loaded")
        page.evaluate("posthog.identify('bob@example.com')")
        first(sites, SITE_B, LANDING, "$identify")
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink)
        open_a(page, sites)
        click_to_b(page, sites)
        assert first(sites, SITE_B, LANDING)["distinct_id"] == "bob@example.com"


# --- consent -------------------------------------------------------------------------------


def consent_journey(browsing: Browsing, sites: Sites, decision: str) -> tuple[Any, Any, Any]:
    """A tracks; B's PostHog waits for consent. Click to B, check that nothing of A's is
    stored and nothing sent, then run ``decision``; (A's page view, B's page, B's first
    event after the decision or None)."""
    page = browsing.page()
    on_a = open_a(page, sites)
    click_to_b(page, sites)
    page.wait_for_function("window.posthog && posthog.__loaded")
    assert on_a["$device_id"] not in page.evaluate(STORED)
    assert sent_from_b(sites) == []
    page.evaluate(decision)
    if decision.endswith("opt_in_capturing()"):
        # $opt_in and the page view go in separate requests, which may arrive either way.
        first(sites, SITE_B, LANDING, "$opt_in")
    time.sleep(0.5)
    events = sent_from_b(sites)
    return on_a, page, events[0] if events else None


def sent_from_b(sites: Sites) -> list[dict[str, Any]]:
    """B's events but $pageleave: a page of an earlier journey closing sends one late."""
    return [e for e in sites.posthog_events(SITE_B, LANDING) if e["event"] != "$pageleave"]


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_consent_given_later_carries_the_ids_from_its_first_event(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    waits = sites.posthog(sdk=sdk, opt_out_capturing_by_default=True)
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=waits)
        on_a, page, event = consent_journey(browsing, sites, "posthog.opt_in_capturing()")
        assert event is not None
        assert event["event"] == "$opt_in"
        assert (event["distinct_id"] == on_a["$device_id"]) is xdlink, event
        view = first(sites, SITE_B, LANDING)
        assert (view["distinct_id"] == on_a["$device_id"]) is xdlink, view
        assert (on_a["$device_id"] in page.evaluate(STORED)) is xdlink


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_a_refusal_wins(browsing: Browsing, sites: Sites, sdk: str) -> None:
    waits = sites.posthog(sdk=sdk, opt_out_capturing_by_default=True)
    build_pair(sites, sdk, head_b=waits)
    on_a, page, event = consent_journey(browsing, sites, "posthog.opt_out_capturing()")
    assert event is None
    assert on_a["$device_id"] not in page.evaluate(STORED)


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
@pytest.mark.parametrize("decision", ["opt_in_capturing", "opt_out_capturing"])
def test_cookieless_until_consent_joins_at_accept(
    browsing: Browsing, sites: Sites, sdk: str, decision: str
) -> None:
    """cookieless_mode: 'on_reject': B sends nothing until the visitor decides; the accept
    starts a fresh id there, which A's replaces; after a refusal B counts the visitor
    without an id, and nothing of A's is kept."""
    on_reject = sites.posthog(sdk=sdk, cookieless_mode="on_reject")
    accepted = decision == "opt_in_capturing"
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=on_reject)
        on_a, page, event = consent_journey(browsing, sites, f"posthog.{decision}()")
        page.evaluate("posthog.capture('after')")
        after = first(sites, SITE_B, LANDING, "after")
        assert (after["distinct_id"] == on_a["$device_id"]) is (xdlink and accepted), after
        assert (after.get("$session_id") == on_a["$session_id"]) is (xdlink and accepted), after
        assert (on_a["$device_id"] in page.evaluate(STORED)) is (xdlink and accepted)
        if accepted:
            assert event is not None
            assert event["event"] == "$opt_in"
            assert (event["distinct_id"] == on_a["$device_id"]) is xdlink, event


WAITS = {
    "opt_out_capturing_by_default": {"opt_out_capturing_by_default": True},
    "cookieless_mode on_reject": {"cookieless_mode": "on_reject"},
}


@pytest.mark.parametrize("waits", WAITS, ids=list(WAITS))
def test_an_undecided_visitor_takes_the_ids_on_to_the_page_where_they_accept(
    browsing: Browsing, sites: Sites, waits: str
) -> None:
    """Nothing is stored before consent, so the value goes on to B's next page; the accept
    there joins."""
    sdk = POSTHOG_RELEASES[0]
    head_b = sites.posthog(sdk=sdk, **WAITS[waits])
    pages_b = {
        LANDING.lstrip("/"): '<a id="next" href="/next.html">next</a>',
        "next.html": "<p>next</p>",
    }
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=head_b, pages_b=pages_b)
        page = browsing.page()
        on_a = open_a(page, sites)
        click_to_b(page, sites)
        page.wait_for_function("window.posthog && posthog.__loaded")
        page.click("#next")
        page.wait_for_url("**/next.html")
        page.wait_for_function("window.posthog && posthog.__loaded")
        assert on_a["$device_id"] not in page.evaluate(STORED)
        assert PARAM not in page.url
        page.evaluate("posthog.opt_in_capturing()")
        opt_in = first(sites, SITE_B, "/next.html", "$opt_in")
        assert (opt_in["distinct_id"] == on_a["$device_id"]) is xdlink, opt_in
        assert (opt_in["$session_id"] == on_a["$session_id"]) is xdlink, opt_in


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_consent_given_before_the_sdk_loads_joins(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """A consent manager that knows the visitor's choice calls opt_in_capturing() on the
    snippet's stub, which queues it until the SDK has loaded."""
    queued = sites.posthog(
        sdk=sdk, delay=0.5, after="posthog.opt_in_capturing();", opt_out_capturing_by_default=True
    )
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=queued)
        on_a, on_b = visit_a_then_b(browsing.page(), sites)
        opt_in = first(sites, SITE_B, LANDING, "$opt_in")
        for event in (opt_in, on_b):
            assert (event["distinct_id"] == on_a["$device_id"]) is xdlink, event
            assert (event["$session_id"] == on_a["$session_id"]) is xdlink, event


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_a_snippet_a_consent_manager_parks_joins_at_accept(
    browsing: Browsing, sites: Sites, sdk: str
) -> None:
    """B's snippet waits as type="text/plain" until the banner's accept runs it."""
    parked = sites.posthog(sdk=sdk, parked=True)
    accept = (
        "(() => { const parked = document.querySelector('script[data-consent]');"
        " const script = document.createElement('script'); script.text = parked.text;"
        " document.head.append(script); })()"
    )
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_b=parked)
        page = browsing.page()
        on_a = open_a(page, sites)
        click_to_b(page, sites)
        assert on_a["$device_id"] not in page.evaluate(STORED)
        page.evaluate(accept)
        on_b = first(sites, SITE_B, LANDING)
        assert (on_b["distinct_id"] == on_a["$device_id"]) is xdlink, on_b
        assert (on_b["$session_id"] == on_a["$session_id"]) is xdlink, on_b


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_cookieless_mode_carries_nothing(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """cookieless_mode: 'always' keeps no id: the link goes out as it is."""
    build_pair(sites, sdk, cookieless_mode="always")
    page = browsing.page()
    page.goto(sites.url(SITE_A))
    page.wait_for_function("window.posthog && posthog.__loaded")
    click_to_b(page, sites)
    addresses = [request.target for request in sites.requests() if request.host == SITE_B]
    assert addresses
    assert all(PARAM not in address for address in addresses), addresses


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_a_named_instance_is_joined(browsing: Browsing, sites: Sites, sdk: str) -> None:
    """A page whose only PostHog is a named instance: posthog.init(key, config, 'shop')."""
    named = sites.posthog(sdk=sdk, name="shop")
    loaded = "window.posthog && posthog.shop && posthog.shop.__loaded"
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_a=named, head_b=named)
        page = browsing.page()
        page.goto(sites.url(SITE_A))
        on_a = first(sites, SITE_A, "/")
        page.wait_for_function(loaded)
        click_to_b(page, sites)
        on_b = first(sites, SITE_B, LANDING)
        if xdlink:
            assert_joined(on_a, on_b, sites)
        else:
            assert_split(on_a, on_b)


# --- both SDKs on a page -------------------------------------------------------------------


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
def test_both_sdks_on_a_page_are_both_joined(browsing: Browsing, sites: Sites, sdk: str) -> None:
    head = sites.mixpanel() + "\n" + sites.posthog(sdk=sdk)
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, sdk, xdlink=xdlink, head_a=head, head_b=head)
        page = browsing.page()
        page.goto(sites.url(SITE_A))
        on_a = first(sites, SITE_A, "/")
        mixpanel_a = sites.page_views(SITE_A, "/")[0]
        page.wait_for_function("window.posthog && posthog.__loaded && mixpanel.__loaded")
        click_to_b(page, sites)
        on_b = first(sites, SITE_B, LANDING)
        assert_mixpanel(mixpanel_a, sites.page_views(SITE_B, LANDING)[0], xdlink)
        if xdlink:
            assert_joined(on_a, on_b, sites)
        else:
            assert_split(on_a, on_b)


@pytest.mark.parametrize("on_b", ["mixpanel", "posthog"])
def test_a_page_with_both_sdks_joins_a_page_with_one(
    browsing: Browsing, sites: Sites, on_b: str
) -> None:
    """A starts both SDKs, B only one: B's SDK adopts its own id from the one value A sends,
    and ignores the other's."""
    both = sites.mixpanel() + "\n" + sites.posthog()
    one = sites.mixpanel() if on_b == "mixpanel" else sites.posthog()
    for xdlink in (False, True):
        sites.server.capture.reset()
        build_pair(sites, POSTHOG_RELEASES[0], xdlink=xdlink, head_a=both, head_b=one)
        page = browsing.page()
        page.goto(sites.url(SITE_A))
        on_a = first(sites, SITE_A, "/")
        mixpanel_a = sites.page_views(SITE_A, "/")[0]
        page.wait_for_function("window.posthog && posthog.__loaded && mixpanel.__loaded")
        click_to_b(page, sites)
        if on_b == "mixpanel":
            assert_mixpanel(mixpanel_a, sites.page_views(SITE_B, LANDING)[0], xdlink)
        else:
            on_b_view = first(sites, SITE_B, LANDING)
            if xdlink:
                assert_joined(on_a, on_b_view, sites)
            else:
                assert_split(on_a, on_b_view)
        assert PARAM not in page.url


# --- posthog-js bundled by the app ---------------------------------------------------------


@pytest.mark.parametrize("sdk", POSTHOG_RELEASES)
@pytest.mark.parametrize("join", ["before", "after"])
def test_a_bundled_posthog_joined_by_the_app(
    browsing: Browsing, sites: Sites, sdk: str, join: str
) -> None:
    """An app bundles posthog-js from npm and calls xdlink.join(posthog): before its init
    the first page view carries A's ids; after it, the app's later events do."""
    for xdlink in (False, True):
        sites.server.capture.reset()
        bundled = sites.posthog(sdk=sdk, join=join)
        build_pair(sites, sdk, xdlink=xdlink, head_a=bundled, head_b=bundled)
        page = browsing.page()
        page.goto(sites.url(SITE_A))
        on_a = first(sites, SITE_A, "/")
        page.wait_for_function("window.app && app.__loaded")
        click_to_b(page, sites)
        page.wait_for_function("window.app && app.__loaded")
        page.evaluate("app.capture('later')")
        event = first(sites, SITE_B, LANDING, "$pageview" if join == "before" else "later")
        assert (event["distinct_id"] == on_a["$device_id"]) is xdlink, event
        assert (event["$session_id"] == on_a["$session_id"]) is xdlink, event
