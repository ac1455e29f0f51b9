"""Where Chromium itself puts the element, on every fixture page xdlink builds: in <head>,
before every other script the parser meets (html5lib, the other oracle, predates
<template>). The order is read with scripting off, so that scripts the page adds at run
time (the Mixpanel snippet inserts the SDK before the first script) do not count; that the
element then runs is checked with scripting on. Redirect pages navigate away at once and
are left to html5lib."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import FIXTURES, SETTINGS, fixture_pages
from xdlink.page import build_page

pytestmark = pytest.mark.browser

PAGES = [
    page
    for page in fixture_pages()
    if "integrations" not in page.parts and "demo" not in page.parts
]
TYPES = {".xhtml": "application/xhtml+xml", ".html": "text/html", ".htm": "text/html"}
REDIRECT = re.compile(rb"http-equiv=[\"']?refresh|location\s*=|location\.replace", re.I)
WHERE = """() => {
  const element = document.querySelector('script[data-xdlink]');
  const scripts = [...document.scripts].filter((s) => !s.closest('template'));
  return {inHead: !!element && element.parentNode === document.head,
          index: scripts.indexOf(element)};
}"""


@pytest.fixture(scope="module")
def contexts(browser: Any) -> Any:
    parsed = browser.new_context(java_script_enabled=False)
    running = browser.new_context()
    for context in (parsed, running):
        # Nothing leaves the machine: every request is answered here or refused.
        context.route("**/*", lambda route: route.abort())
    yield parsed, running
    parsed.close()
    running.close()


def load(context: Any, page: Path, body: bytes, probe: str) -> Any:
    tab = context.new_page()
    url = f"http://fixture.test/{page.name}"
    headers = {"content-type": TYPES[page.suffix.lower()]}
    tab.route(url, lambda route: route.fulfill(status=200, body=body, headers=headers))
    tab.goto(url, wait_until="domcontentloaded")
    try:
        return tab.evaluate(probe)
    finally:
        tab.close()


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(FIXTURES)) for p in PAGES])
def test_chromium_puts_the_element_first_in_head(contexts: Any, page: Path) -> None:
    data = page.read_bytes()
    built = build_page(data, SETTINGS, xml=page.suffix == ".xhtml")
    if built.output is None or REDIRECT.search(data):
        return
    parsed, running = contexts
    where = load(parsed, page, built.output, WHERE)
    assert where["inHead"], where
    if not built.facts.charset_after_script:
        assert where["index"] == 0, where
    assert load(running, page, built.output, "typeof window.xdlink") == "object"
