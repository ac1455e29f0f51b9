"""A form follows the page's Referrer-Policy header where no <meta name="referrer"> sets a
policy: xdlink reads the header from the site's header files (_headers, netlify.toml,
vercel.json) and counts a form to a listed domain among those that send no referrer
(xdlink.no-referrer) exactly where the browser sends it without one. Each case is loaded
in Chromium (and in tests/engines/test_referrer_header.py in Firefox and WebKit), the
header served as a host serves what the file says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xdlink.api import build, make_settings

pytestmark = pytest.mark.browser

PAGE = "http://header-a.test/index.html"
LANDING = "http://header-b.test/landing.html"

HEADER_VALUES = {
    # a Referrer-Policy header -> whether a form to another origin sends no referrer:
    # the last policy the list names holds, any other token leaves it as it was (all three
    # browsers alike)
    "no-referrer": True,
    "same-origin": True,
    "origin": False,
    "strict-origin-when-cross-origin": False,
    "no-referrer, origin": False,
    "origin, no-referrer": True,
    "no-referrer, bogus": True,
    "no-referrer,": True,
    "no-referrer ,  same-origin": True,
    "no-referrer, unsafe-url": False,
    "No-Referrer": True,  # in any ASCII case
    "Origin, SAME-ORIGIN": True,
    "never": False,  # a <meta>'s legacy keyword, not a header's
    "no-referrer;": False,
    "no-referrer origin": False,
}

META_OVER_HEADER = {
    # the head's referrer metas, under "Referrer-Policy: no-referrer" -> whether a form
    # sends no referrer in (Chromium and WebKit, Firefox): a <meta> that sets a policy
    # wins over the header; one that sets none leaves the header's
    "": (True, True),
    '<meta name="referrer" content="origin">': (False, False),
    '<meta name="referrer" content="bogus">': (True, True),
    '<meta name="referrer" content=" origin">': (True, False),  # Firefox trims it
    '<meta name="referrer" content="no-referrer">': (True, True),
}


def site_with_form(root: Path, head: str, landing: str, headers: str) -> Path:
    """A site of one page holding a form to ``landing``, and a _headers file whose one rule
    sends ``headers`` (Name: value lines) with every page."""
    site = root / "site"
    site.mkdir()
    form = f'<form action="{landing}"><button id="go">go</button></form>'
    (site / "index.html").write_text(
        f'<!doctype html><html><head><meta charset="utf-8">{head}<title>A</title></head>'
        f"<body>{form}</body></html>"
    )
    (site / "_headers").write_text("/*\n" + "".join(f"  {line}\n" for line in headers.splitlines()))
    return site


def counted(site: Path, domains: tuple[str, str]) -> bool:
    """Whether `xdlink build` counts the site's form as sending no referrer."""
    report = build(site, make_settings(list(domains)))
    assert report.links[domains[1]].links == 1, report.links
    return report.no_referrer == ["index.html"]


@pytest.fixture
def tab(browser: Any) -> Any:
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())  # nothing leaves the machine
    yield context.new_page()
    context.close()


def form_sends_no_referrer(tab: Any, site: Path, header: str) -> bool:
    """Serve the site's page with ``header`` as its Referrer-Policy, submit its form."""
    headers = {"content-type": "text/html; charset=utf-8", "referrer-policy": header}
    body = (site / "index.html").read_bytes()
    tab.route(PAGE, lambda route: route.fulfill(status=200, body=body, headers=headers))
    tab.route(f"{LANDING}*", lambda route: route.fulfill(status=200, body=b"<!doctype html>B"))
    tab.goto(PAGE, wait_until="load")
    tab.click("#go")
    tab.wait_for_url(f"{LANDING}*")
    referrer: str = tab.evaluate("document.referrer")
    return referrer == ""


@pytest.mark.parametrize("header", HEADER_VALUES, ids=repr)
def test_a_form_follows_the_header_as_the_browser_reads_it(
    tab: Any, tmp_path: Path, header: str
) -> None:
    site = site_with_form(tmp_path, "", LANDING, f"Referrer-Policy: {header}")
    sends_none = form_sends_no_referrer(tab, site, header)
    assert sends_none is HEADER_VALUES[header]
    assert counted(site, ("header-a.test", "header-b.test")) is sends_none


@pytest.mark.parametrize("metas", META_OVER_HEADER, ids=repr)
def test_a_meta_that_sets_a_policy_wins_over_the_header(
    tab: Any, tmp_path: Path, metas: str
) -> None:
    site = site_with_form(tmp_path, metas, LANDING, "Referrer-Policy: no-referrer")
    sends_none = form_sends_no_referrer(tab, site, "no-referrer")
    assert sends_none is META_OVER_HEADER[metas][0]
    assert counted(site, ("header-a.test", "header-b.test")) is any(META_OVER_HEADER[metas])
