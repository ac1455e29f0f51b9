"""The Chromium tables of Referrer-Policy headers (tests/browser/test_referrer_header.py),
in Firefox and WebKit: a form follows the header where no <meta> sets a policy, and xdlink
counts it among the forms that send no referrer where the engine sends it without one."""

from __future__ import annotations

import pytest

from tests.browser.harness import SITE_A, SITE_B, Sites
from tests.browser.test_referrer_header import HEADER_VALUES, META_OVER_HEADER, counted
from tests.engines.driver import Driver, evaluate, wait_for_url

pytestmark = pytest.mark.browser


def form_sends_no_referrer(driver: Driver, sites: Sites, head: str, header: str) -> bool:
    """Lay A's page with its form to B and its _headers file, serve the page with what the
    file says, submit the form; return whether B saw no referrer."""
    form = f'<form action="{sites.url(SITE_B, "/b.html")}"><button id="go">go</button></form>'
    files = {"_headers": f"/*\n  Referrer-Policy: {header}\n"}
    files["index.html.headers"] = f"Referrer-Policy: {header}"
    sites.build(SITE_B, {"b.html": "<p>B</p>"}, xdlink=False)
    sites.build(SITE_A, {"index.html": form}, head=head, files=files, xdlink=False)
    driver.goto(sites.url(SITE_A))
    driver.click("#go")
    wait_for_url(driver, SITE_B)
    sends_none: bool = evaluate(driver, "document.referrer") == ""
    return sends_none


@pytest.mark.parametrize("header", HEADER_VALUES, ids=repr)
def test_a_form_follows_the_header_as_the_engine_reads_it(
    driver: Driver, sites: Sites, header: str
) -> None:
    sends_none = form_sends_no_referrer(driver, sites, "", header)
    assert sends_none is HEADER_VALUES[header]
    assert counted(sites.root / SITE_A, (SITE_A, SITE_B)) is sends_none


@pytest.mark.parametrize("metas", META_OVER_HEADER, ids=repr)
def test_a_meta_that_sets_a_policy_wins_over_the_header(
    driver: Driver, sites: Sites, engine: str, metas: str
) -> None:
    sends_none = form_sends_no_referrer(driver, sites, metas, "no-referrer")
    assert sends_none is META_OVER_HEADER[metas][engine == "firefox"]
    assert counted(sites.root / SITE_A, (SITE_A, SITE_B)) is any(META_OVER_HEADER[metas])
