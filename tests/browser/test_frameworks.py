"""Real exports of frameworks that hydrate (fixtures/frameworks), built by xdlink and
crossed to from another site in Chromium: the framework still hydrates the page it
rendered (the parsed nodes stay, no client re-render, no error), keeps the element and
one <meta charset>, and the page's SDK starts with the sender's device id."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.browser.harness import SDK, SITE_A, Browsing, Sites, install_xdlink
from tests.browser.test_crossing import PARAM, device_on_a
from tests.helpers import FIXTURES
from tools.capture import NODE_MODULES

pytestmark = pytest.mark.browser

FRAMEWORKS = sorted(path.name for path in (FIXTURES / "frameworks").iterdir() if path.is_dir())
APP = "app.test"
# The first #counter the parser makes: after hydration it must still be the one in the page.
REMEMBER_COUNTER = """
new MutationObserver((records, observer) => {
  const element = document.getElementById('counter');
  if (element && !window.parsedCounter) {
    window.parsedCounter = element;
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""
SDK_FILE = NODE_MODULES / SDK / "dist" / "mixpanel.min.js"


def serve_framework(sites: Sites, name: str) -> None:
    """The fixture's export, built by xdlink for A and the app, served as the app."""
    folder = sites.root / APP
    shutil.copytree(FIXTURES / "frameworks" / name / "site", folder)
    options: dict[str, Any] = {"token": None, "ttl": None, "param": None, "fragment": False}
    install_xdlink(folder, domains=(SITE_A, APP), **options)
    sites.server.capture.sites[APP] = folder
    link = f'<a id="to-app" href="{sites.url(APP, "/")}">app</a>'
    sites.build(SITE_A, {"index.html": link}, head=sites.mixpanel(), domains=(SITE_A, APP))


def app_context(browsing: Browsing, sites: Sites) -> Any:
    """A context where the fixtures' Mixpanel CDN and API hosts are the test server's."""
    context = browsing.context()
    context.add_init_script(REMEMBER_COUNTER)
    sdk = SDK_FILE.read_bytes()
    context.route(
        "**/cdn.mxpnl.com/**",
        lambda route: route.fulfill(status=200, body=sdk, content_type="text/javascript"),
    )
    api = f"127.0.0.1:{sites.server.port}"
    context.route(
        "http://127.0.0.1:9/**",
        lambda route: route.continue_(url=route.request.url.replace("127.0.0.1:9", api)),
    )
    return context


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_the_framework_hydrates_and_the_visitor_is_joined(
    browsing: Browsing, sites: Sites, name: str
) -> None:
    serve_framework(sites, name)
    page = app_context(browsing, sites).new_page()
    page.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    page.click("#to-app")
    page.wait_for_url(f"**{APP}**")
    page.wait_for_load_state("networkidle")
    assert PARAM not in page.url
    page.wait_for_function("window.mixpanel && mixpanel.__loaded")
    assert page.evaluate("mixpanel.get_property('$device_id')") == device
    page.click("#counter")
    page.click("#counter")
    page.wait_for_function("document.getElementById('counter').textContent === 'count: 2'")
    state = page.evaluate(
        """() => ({
          hydrated: window.parsedCounter === document.getElementById('counter'),
          element: document.querySelectorAll('head > script[data-xdlink]').length,
          charsets: document.querySelectorAll('meta[charset]').length,
        })"""
    )
    assert state == {"hydrated": True, "element": 1, "charsets": 1}
