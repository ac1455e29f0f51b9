"""A <meta> sets a page's CSP, charset or referrer policy only as browsers read it: its
http-equiv and a referrer meta's name ASCII case-insensitively and as written, never
trimmed; the policy as written too in Chromium and WebKit, trimmed in Firefox; a referrer
meta whose content names no policy changes nothing. A rel attribute's words are split at
ASCII whitespace alone. Each case is loaded in Chromium (and in
tests/engines/test_meta_values.py in Firefox and WebKit), and what xdlink says of it (the
CSP that blocks its script, where the element goes beside a charset, the links and forms
that send no referrer in some browser, the page's canonical address) is held to what the
browser did."""

from __future__ import annotations

import html
from typing import Any

import pytest

from xdlink.api import make_settings
from xdlink.facts import Facts
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


def built(head: bytes, body: bytes = b"") -> tuple[bytes, Facts]:
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
    "Content&#45;Security-Policy",  # a character reference, decoded
    "Content-Security-Policy&#32;",
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
    assert ran is (html.unescape(equiv).lower() != "content-security-policy")


CONTENT_TYPE = [
    "Content-Type",
    "content-type",
    " Content-Type",
    "Content-Type ",
    "Content&#45;Type",
]


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
    assert after_meta is (html.unescape(equiv).lower() == "content-type")


REFERRER_METAS = {
    # the head's referrer metas -> whether a form to another origin sends no referrer in
    # (Chromium and WebKit, Firefox): Firefox alone trims the policy
    '<meta name="referrer" content="no-referrer">': (True, True),
    '<meta name="REFERRER" content="No-Referrer">': (True, True),
    '<meta name="referrer" content="same-origin">': (True, True),
    '<meta name="referrer" content="no&#45;referrer">': (True, True),
    '<meta name="referrer" content="no-referrer&#32;">': (False, True),
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


REL_VALUES = {
    # a rel attribute, {} standing for the word -> whether it holds the word: browsers
    # split it at ASCII whitespace (tab, line feed, form feed, carriage return, space) alone
    "{}": True,
    "nofollow {}": True,
    "nofollow\t{}\n": True,
    "nofollow\f{}": True,
    "nofollow\r\n{}": True,
    "nofollow\u00a0{}": False,  # a no-break space
    "nofollow\u0085{}": False,  # NEL
    "nofollow\u2003{}": False,  # an em space
    "nofollow\x0b{}": False,  # a line tabulation
    "nofollow\x1c{}": False,  # a file separator
    "nofollow&#32;{}": True,  # character references, decoded
    "nofollow&Tab;{}": True,
    "nofollow&nbsp;{}": False,
    "x{}": False,
}


def rel_markup(rel: str, landing: str) -> tuple[str, str]:
    """A head <link> of rel ``rel`` for canonical, naming ``landing``, and a link to
    ``landing`` of rel ``rel`` for noreferrer."""
    head = f'<link rel="{rel.format("canonical")}" href="{landing}">'
    return head, f'<a id="go" rel="{rel.format("noreferrer")}" href="{landing}">go</a>'


@pytest.mark.parametrize("rel", REL_VALUES, ids=repr)
def test_a_rel_holds_the_words_the_browser_splits_it_into(context: Any, rel: str) -> None:
    """The link sends no referrer, and the head's link names the page's own address,
    exactly where the browser reads rel=noreferrer and rel=canonical in them."""
    head, link = rel_markup(rel, LANDING)
    page, facts = built(b'<meta charset="utf-8">' + head.encode(), link.encode())
    tab = load(context, page)
    try:
        canonical = tab.evaluate(
            "document.querySelector('link[href]').relList.contains('canonical')"
        )
        tab.click("#go")
        tab.wait_for_url(f"{LANDING}*")
        referrer = tab.evaluate("document.referrer")
    finally:
        tab.close()
    assert canonical is REL_VALUES[rel]
    assert (referrer == "") is REL_VALUES[rel]
    assert ("meta-b.test" in facts.own_domains) is REL_VALUES[rel]
    assert facts.links == (("meta-b.test", 1),)
    assert (facts.no_referrer_links == 1) is REL_VALUES[rel]
