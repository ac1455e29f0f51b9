"""The browser script's core journey in Firefox ESR and WebKitGTK (Chromium: tests/browser).

Tested with Debian 12's Firefox ESR 153.x (`firefox-esr`, driven over WebDriver BiDi by
tests/engines/firefox.py) and WebKitGTK 2.50.x (`webkit2gtk-driver`: WebKitWebDriver and
MiniBrowser, driven by Selenium on a private Xvfb, tests/engines/webkit.py), against the
pinned mixpanel-browser from js/node_modules. `ENGINES` names them for docs/browsers.md;
test_engines_are_the_ones_named checks that the browsers found are those versions.

What a driver cannot do is skipped in that engine only, with the reason: WebKitGTK's
WebDriver has no touch input and releases every mouse button as the left one (no middle
click; its context menu is tested on the press). WebKitGTK's driver has no console
either: the capture server puts a hook into each page it serves (tests/engines/server.py).
"""

ENGINES = {"firefox": "Firefox ESR 153.x", "webkit": "WebKitGTK 2.50.x"}
# The version prefix each engine's browserVersion must have.
VERSIONS = {"firefox": "153.", "webkit": "2.50."}
