"""A <meta> sets a page's CSP, charset or referrer policy only as browsers read it: its
http-equiv and a referrer meta's name ASCII case-insensitively and as written, never
trimmed; the policy as written too in Chromium and WebKit, trimmed in Firefox; a referrer
meta whose content names no policy changes nothing. Each case is loaded in Chromium (and
in tests/engines/test_meta_values.py in Firefox and WebKit), and what xdlink says of it
(the CSP that blocks its script, where the element goes beside a charset, the forms that
send no referrer in some browser) is held to what the browser did."""

from __future__ import annotations

from typing import Any

import pytest

from xdlink.api import make_settings
from xdlink.page import build_page

pytestmark = pytest.mark.browser

PAGE = "http://meta-a.test/index.htm"
LANDING = "http://meta-b.test/landing.htm"
SETTINGS = make_settings(["meta-a.test", "meta-b.test"])


@pytest.fixture(scope="module")
def context(browser: Any) -> Any:
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())  # nothing leaves the machine
    yield context
    context.close()


def load(context: Any, body: bytes) -> Any:
    """A tab showing ``body`` as a page served without a charset of its own."""
    tab = context.new_page()
    headers = {"content-type": "text/html"}
    tab.route(PAGE, lambda route: route.fulfill(status=200, body=body, headers=headers))
    tab.route(f"{LANDING}*", lambda route: route.fulfill(status=200, body=b"<!doctype html>B"))
    tab.goto(PAGE, wait_until="load")
    return tab


def built(head: bytes, body: bytes = b"") -> tuple[bytes, Any]:
    page = b"<!doctype html><html><head>" + head + b"<title>\xe9</title></head><body>"
    outcome = build_page(page + body + b"</body></html>", SETTINGS)
    assert outcome.output is not None
    return outcome.output, outcome.facts


HTTP_EQUIV = [
    "Content-Security-Policy",
    "content-security-policy",
    "CONTENT-SECURITY-POLICY",
    " Content-Security-Policy",
    "Content-Security-Policy ",
    "Content-Security-Policy\t",
]


@pytest.mark.parametrize("equiv", HTTP_EQUIV, ids=repr)
def test_a_csp_meta_blocks_the_script_where_the_browser_enforces_it(
    context: Any, equiv: str
) -> None:
    meta = f'<meta http-equiv="{equiv}" content="script-src \'none\'">'.encode()
    page, facts = built(meta + b'<meta charset="utf-8">')
    tab = load(context, page)
    try:
        ran = tab.evaluate("typeof window.xdlink !== 'undefined'")
    finally:
        tab.close()
    assert facts.csp_blocks is (not ran)
    assert ran is (equiv.lower() != "content-security-policy")


CONTENT_TYPE = ["Content-Type", "content-type", " Content-Type", "Content-Type "]


@pytest.mark.parametrize("equiv", CONTENT_TYPE, ids=repr)
def test_the_element_follows_a_charset_meta_where_the_browser_takes_it(
    context: Any, equiv: str
) -> None:
    meta = f'<meta http-equiv="{equiv}" content="text/html; charset=windows-1251">'.encode()
    page, _ = built(meta)
    tab = load(context, page)
    try:
        charset = tab.evaluate("document.characterSet").lower()
    finally:
        tab.close()
    after_meta = page.index(b"<script data-xdlink") > page.index(b"<meta")
    assert after_meta is (charset == "windows-1251")
    assert after_meta is (equiv.lower() == "content-type")


REFERRER_METAS = {
    # the head's referrer metas -> whether a form to another origin sends no referrer in
    # (Chromium and WebKit, Firefox): Firefox alone trims the policy
    '<meta name="referrer" content="no-referrer">': (True, True),
    '<meta name="REFERRER" content="No-Referrer">': (True, True),
    '<meta name="referrer" content="same-origin">': (True, True),
    '<meta name="referrer" content="never">': (True, True),
    '<meta name="referrer" content=" no-referrer ">': (False, True),
    '<meta name="referrer " content="no-referrer">': (False, False),
    '<meta name="referrer" content="no-referrer, origin">': (False, False),
    '<meta name="referrer" content="no-referrer"><meta name="referrer" content="origin">': (
        False,
        False,
    ),
    '<meta name="referrer" content="no-referrer"><meta name="referrer" content="bogus">': (
        True,
        True,
    ),
    '<meta name="referrer" content="no-referrer"><meta name="referrer" content="">': (True, True),
    '<meta name="referrer" content="origin"><meta name="referrer" content=" never">': (
        False,
        True,
    ),
}


def counted(metas: str) -> bool:
    """Whether the report counts the form: where any browser sends it without a referrer."""
    return any(REFERRER_METAS[metas])


@pytest.mark.parametrize("metas", REFERRER_METAS, ids=list(REFERRER_METAS))
def test_forms_count_as_sending_no_referrer_where_the_browser_sends_none(
    context: Any, metas: str
) -> None:
    form = f'<form action="{LANDING}"><button id="go">go</button></form>'.encode()
    page, facts = built(b'<meta charset="utf-8">' + metas.encode(), form)
    tab = load(context, page)
    try:
        tab.click("#go")
        tab.wait_for_url(f"{LANDING}*")
        referrer = tab.evaluate("document.referrer")
    finally:
        tab.close()
    assert facts.links == (("meta-b.test", 1),)
    assert (referrer == "") is REFERRER_METAS[metas][0]
    assert (facts.no_referrer_links == 1) is counted(metas)
