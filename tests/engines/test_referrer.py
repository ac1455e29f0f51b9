"""Only a visitor who comes from a listed domain is joined, in Firefox and WebKitGTK: a
page on an unlisted domain that crafts a valid value chooses nothing, with a referrer or
without; pages, links and forms that send no referrer still join, since the decorated
navigation is made to carry its origin; a redirect on B keeps the referrer."""

from __future__ import annotations

import pytest

from tests.browser.harness import SITE_A, SITE_B, Sites
from tests.browser.test_crossing import LANDING, PARAM, build_pair, link_to_b
from tests.browser.test_referrer import (
    CHOSEN,
    CRAFTED,
    NO_REFERRER,
    POLICIES,
    STORED,
    crafting_site,
)
from tests.engines.driver import Driver, evaluate, sdk_loaded, wait_for_new_tab, wait_for_url
from tests.engines.test_journey import assert_landed, open_a
from tests.engines.test_refusals import debug_on_b

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("head", "navigate", "referrer"), CRAFTED.values(), ids=CRAFTED.keys())
def test_a_page_on_an_unlisted_domain_chooses_nothing(
    driver: Driver, sites: Sites, head: str, navigate: str, referrer: str
) -> None:
    build_pair(sites, link_to_b(sites))
    crafting_site(sites, head)
    debug_on_b(driver, sites)
    driver.goto(sites.url("site-c.test"))
    sdk_loaded(driver)
    driver.call(
        f"() => mixpanel.register({{$device_id: '{CHOSEN}', distinct_id: '$device:{CHOSEN}'}})"
    )
    href = driver.call("(url) => xdlink.decorate(url)", sites.url(SITE_B, LANDING))
    assert f"{PARAM}=1d.{CHOSEN}." in href
    driver.call(navigate, href)
    wait_for_url(driver, SITE_B)
    assert evaluate(driver, "document.referrer") == (sites.url("site-c.test") if referrer else "")
    sdk_loaded(driver)
    assert driver.url == sites.url(SITE_B, LANDING)
    lines = [m.text for m in driver.messages() if m.text.startswith("xdlink:") and SITE_B in m.page]
    assert lines == ["xdlink: refused referrer"], lines
    views = sites.page_views(SITE_B, "/landing.html")
    assert all(view["$device_id"] != CHOSEN for view in views)
    assert CHOSEN not in evaluate(driver, STORED)


def cross(driver: Driver, sites: Sites, selector: str = "#to-b", new_tab: bool = False) -> None:
    device = open_a(driver, sites)
    before = driver.tabs()
    driver.click(selector)
    if new_tab:
        wait_for_new_tab(driver, before)
    wait_for_url(driver, SITE_B)
    assert evaluate(driver, "document.referrer") == sites.url(SITE_A)
    assert_landed(driver, sites, device)


@pytest.mark.parametrize(("meta", "files"), POLICIES.values(), ids=POLICIES.keys())
def test_a_page_that_sends_no_referrer_still_joins(
    driver: Driver, sites: Sites, meta: str, files: dict[str, str]
) -> None:
    build_pair(sites, link_to_b(sites), head_a=meta + sites.mixpanel())
    for name, content in files.items():
        (sites.root / SITE_A / name).write_text(content)
    cross(driver, sites)


@pytest.mark.parametrize(
    "attributes",
    [
        'rel="noreferrer"',
        'rel="noopener noreferrer" target="_blank"',
        'referrerpolicy="no-referrer"',
    ],
)
def test_links_that_send_no_referrer_still_join(
    driver: Driver, sites: Sites, engine: str, attributes: str
) -> None:
    """Except rel=noreferrer in WebKit, which keeps that relation once it has parsed it
    (HTMLAnchorElement's link relations only ever grow), whatever the attribute becomes:
    B refuses, and `xdlink build` names such links (xdlink.no-referrer)."""
    build_pair(sites, link_to_b(sites).replace("<a ", f"<a {attributes} "))
    if engine == "webkit" and "rel=" in attributes:
        debug_on_b(driver, sites)
        open_a(driver, sites)
        before = driver.tabs()
        driver.click("#to-b")
        if "_blank" in attributes:
            wait_for_new_tab(driver, before)
        wait_for_url(driver, SITE_B)
        assert evaluate(driver, "document.referrer") == ""
        lines = [m.text for m in driver.messages() if m.text.startswith("xdlink:")]
        assert lines[-1] == "xdlink: refused referrer", lines
        return
    cross(driver, sites, new_tab="_blank" in attributes)


def test_a_post_form_with_rel_noreferrer_on_a_page_without_referrers(
    driver: Driver, sites: Sites
) -> None:
    action = sites.url(SITE_B, "/submit.html?keep=1#done")
    form = (
        f'<form rel="noreferrer" action="{action}" method="post"><button id="go">go</button></form>'
    )
    build_pair(sites, form)
    device = open_a(driver, sites)
    driver.click("#go")
    wait_for_url(driver, SITE_B)
    assert evaluate(driver, "document.referrer") == sites.url(SITE_A)
    assert_landed(driver, sites, device, "/submit.html?keep=1#done")


def test_a_redirect_on_b_keeps_the_referrer(driver: Driver, sites: Sites) -> None:
    build_pair(sites, link_to_b(sites, path=LANDING.replace("landing", "old")))
    (sites.root / SITE_B / "old.html.redirect").write_text("/landing.html")
    device = open_a(driver, sites)
    driver.click("#to-b")
    wait_for_url(driver, "/landing.html")
    assert evaluate(driver, "document.referrer") == sites.url(SITE_A)
    assert sites.page_views(SITE_B, "/landing.html")[0]["$device_id"] == device
    assert driver.url == sites.url(SITE_B, LANDING)


def test_meta_no_referrer_is_what_the_page_says(driver: Driver, sites: Sites) -> None:
    """The control: the page's policy holds for links to unlisted domains."""
    other = f'<a id="plain" href="{sites.url("site-c.test", "/index.html")}">plain</a>'
    build_pair(sites, other, head_a=NO_REFERRER + sites.mixpanel())
    sites.build("site-c.test", {"index.html": "<p>C</p>"})
    open_a(driver, sites)
    driver.click("#plain")
    wait_for_url(driver, "site-c.test")
    assert evaluate(driver, "document.referrer") == ""
