"""The capture server of tests/browser, made fit for Firefox and WebKitGTK.

* It is also the browsers' forward HTTP proxy: both engines reach every test host name
  (site-a.test, www.site-b.test, site-b.github.io ...) through it, whatever their DNS.
* For WebKitGTK, whose WebDriver has neither console access nor scripts that run before
  a page's own, it puts `preload` (markup) first in `<head>` of every page it serves: the
  console hook, which sends each console message and page error to `/__log`, where they
  are kept in `logs`, and a test's own scripts.
* `/__blank` on any host is an empty page of that origin, to set cookies or storage from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.capture import Handler, Server

# Console messages and page errors, sent synchronously so that none is lost to a navigation
# (a beacon could arrive after the test has looked). The hook notes where a message came
# from: the error's file, or the first stack frame outside the hook.
HOOK = """<script>(() => {
  if (window.hooked) return;
  window.hooked = true;
  const post = (level, kind, text, source) => {
    const entry = JSON.stringify({level, kind, text: String(text), page: location.href, source});
    try {
      const request = new XMLHttpRequest();
      request.open('POST', '/__log', false);
      request.send(entry);
    } catch (error) {
      navigator.sendBeacon('/__log', entry);
    }
  };
  const show = (value) => {
    try {
      return typeof value == 'string' ? value : value instanceof Error ? value.name + ': ' +
        value.message : JSON.stringify(value);
    } catch (error) {
      return String(value);
    }
  };
  const caller = () => ((new Error().stack || '').split('\\n')[2] || '').replace(/^.*?@/, '');
  for (const method of ['debug', 'log', 'info', 'warn', 'error']) {
    const original = console[method];
    console[method] = function (...values) {
      post(method == 'log' ? 'info' : method, 'console', values.map(show).join(' '), caller());
      return original.apply(this, values);
    };
  }
  addEventListener('error', (event) => event.message && post('error', 'javascript',
    event.message, event.filename + ':' + event.lineno));
  addEventListener('unhandledrejection', (event) => post('error', 'javascript',
    'Unhandled rejection: ' + show(event.reason), ''));
})();</script>"""

BLANK = b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>blank</title></head>'

HEAD = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)


class EngineHandler(Handler):
    server: EngineServer

    def handle_any(self, body: bytes) -> None:
        if self.path.startswith("http://"):  # a proxy request: the absolute address
            parts = urlsplit(self.path)
            del self.headers["Host"]
            # WebKitGTK keeps a link's credentials (user:pw@) in the proxy request's address.
            self.headers["Host"] = parts.netloc.rpartition("@")[2]
            self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        path = urlsplit(self.path).path
        if path == "/__log" and self.command == "POST":
            self.server.logs.append(json.loads(body))
            self.reply(204, b"", "text/plain")
        elif path == "/__blank":
            self.send_page(BLANK)
        else:
            super().handle_any(body)

    def serve(self, file: Path) -> None:
        if self.server.preload and file.suffix == ".html" and file.is_file():
            self.send_page(file.read_bytes())
        else:
            super().serve(file)

    def send_page(self, page: bytes) -> None:
        preload = "".join(self.server.preload).encode()
        page = HEAD.sub(lambda head: head[0] + preload, page, count=1)
        self.reply(200, page, "text/html; charset=utf-8")


class EngineServer(Server):
    """tools.capture.Server with EngineHandler: the same capture, sites and SDK."""

    def __init__(self) -> None:
        super().__init__()
        self.RequestHandlerClass = EngineHandler
        self.preload: list[str] = []
        self.logs: list[dict[str, Any]] = []  # what the hook sent; only ever appended to

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops a connection (a tab closed, a browser quit) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
