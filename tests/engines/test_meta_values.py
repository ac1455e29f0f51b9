"""The Chromium table of <meta> values (tests/browser/test_meta_values.py), in Firefox and
WebKit: none trims an http-equiv or a referrer meta's name; Firefox alone trims the
policy, and a form it sends without a referrer there is one the report counts. Both split
a rel attribute at ASCII whitespace alone, as Chromium does."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest

from tests.browser.harness import DOMAINS, SITE_A, SITE_B, Sites
from tests.browser.test_meta_values import (
    HTTP_EQUIV,
    REFERRER_METAS,
    REL_VALUES,
    counted,
    rel_markup,
)
from tests.engines.driver import Driver, evaluate, wait_for_url
from xdlink.api import make_settings
from xdlink.facts import Facts
from xdlink.page import build_page

pytestmark = pytest.mark.browser


def build_a(sites: Sites, body: str, head: str) -> Facts:
    """Lay B's page and A's, and build A's with xdlink; return what xdlink found there."""
    sites.build(SITE_B, {"b.html": "<p>B</p>"}, xdlink=False)
    sites.build(SITE_A, {"index.html": body}, head=head, xdlink=False)
    page = sites.root / SITE_A / "index.html"
    outcome = build_page(page.read_bytes(), make_settings(DOMAINS))
    assert outcome.output is not None
    page.write_bytes(outcome.output)
    return outcome.facts


@pytest.mark.parametrize("metas", REFERRER_METAS, ids=list(REFERRER_METAS))
def test_forms_count_as_sending_no_referrer_where_the_engine_sends_none(
    driver: Driver, sites: Sites, engine: str, metas: str
) -> None:
    """The referrer metas of the Chromium table, in Firefox and WebKit: a form the engine
    sends without a referrer is one the report counts."""
    form = f'<form action="{sites.url(SITE_B, "/b.html")}"><button id="go">go</button></form>'
    facts = build_a(sites, form, metas)
    driver.goto(sites.url(SITE_A))
    driver.click("#go")
    wait_for_url(driver, SITE_B)
    referrer = evaluate(driver, "document.referrer")
    assert (referrer == "") is REFERRER_METAS[metas][engine == "firefox"]
    assert (facts.no_referrer_links == 1) is counted(metas)


@pytest.mark.parametrize("equiv", HTTP_EQUIV, ids=repr)
def test_a_csp_meta_blocks_the_script_where_the_engine_enforces_it(
    new_visitor: Callable[[], Driver], sites: Sites, equiv: str
) -> None:
    """The http-equiv cases of the Chromium table, in Firefox and WebKit. The visitor is
    not the console-checked one: the policy's report of the blocked script is the point."""
    meta = f'<meta http-equiv="{equiv}" content="script-src \'none\'">'
    sites.build(SITE_A, {"index.html": "<p>A</p>"}, xdlink=False)
    page = sites.root / SITE_A / "index.html"
    page.write_text(page.read_text().replace("<head>", f"<head>{meta}", 1))
    outcome = build_page(page.read_bytes(), make_settings(DOMAINS))
    assert outcome.output is not None
    page.write_bytes(outcome.output)
    driver = new_visitor()
    try:
        driver.goto(sites.url(SITE_A))
        ran = evaluate(driver, "typeof window.xdlink !== 'undefined'")
    finally:
        driver.close()
    assert outcome.facts.csp_blocks is (not ran)
    assert ran is (html.unescape(equiv).lower() != "content-security-policy")


@pytest.mark.parametrize("rel", REL_VALUES, ids=repr)
def test_a_rel_holds_the_words_the_engine_splits_it_into(
    driver: Driver, sites: Sites, rel: str
) -> None:
    """The rel table of the Chromium test: the link sends no referrer, and the head's
    link names the page's own address, exactly where the engine reads those words."""
    head, link = rel_markup(rel, sites.url(SITE_B, "/b.html"))
    facts = build_a(sites, link, head)
    driver.goto(sites.url(SITE_A))
    canonical = evaluate(
        driver, "document.querySelector('link[href]').relList.contains('canonical')"
    )
    driver.click("#go")
    wait_for_url(driver, SITE_B)
    assert canonical is REL_VALUES[rel]
    assert (evaluate(driver, "document.referrer") == "") is REL_VALUES[rel]
    assert (SITE_B in facts.own_domains) is REL_VALUES[rel]
    assert (facts.no_referrer_links == 1) is REL_VALUES[rel]
