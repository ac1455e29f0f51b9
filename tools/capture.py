"""The capture server of the browser tests and the demo: serves test sites by Host header
and the real Mixpanel and PostHog SDKs from js/node_modules, and records every request and
event.

PostHog lives under /ph/<package>/, the api_host a test page gives posthog.init: the
snippet loads /static/array.js from there, and the SDK sends its events, asks for its
flags and remote config, and fetches its lazily loaded scripts there.

Beside a page FILE of a site, FILE.headers (lines "Name: value") adds response headers,
and FILE.redirect (a path) answers with a 302 to that path, the request's query kept."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from xdlink.verify.serving import posthog_events

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "js" / "node_modules"
# The current SDK, an npm alias in js/package.json.
SDK = "mixpanel-browser"
# The current PostHog SDK and one about a year older (npm aliases in js/package.json).
POSTHOG = "posthog-js"
POSTHOG_1292 = "posthog-js-1.292.0"
# What PostHog's server answers when a project has no flags: nothing to evaluate.
POSTHOG_FLAGS = json.dumps(
    {"flags": {}, "featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": False}
).encode()


@dataclass
class Request:
    method: str
    host: str
    target: str
    body: str


@dataclass
class Capture:
    """What the test server saw: Mixpanel events, PostHog events and every request."""

    events: list[dict[str, Any]] = field(default_factory=list)
    posthog_events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    sites: dict[str, Path] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.events.clear()
            self.posthog_events.clear()
            self.requests.clear()
            self.sites.clear()


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_OPTIONS(self) -> None:
        self.reply(204, b"", "text/plain")

    def do_GET(self) -> None:
        self.handle_any(b"")

    def do_HEAD(self) -> None:  # Next.js checks pages with HEAD before prefetching them
        self.handle_any(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(length))

    headers_file: Path | None = None

    def handle_any(self, body: bytes) -> None:
        self.headers_file = None
        capture = self.server.capture
        host = (self.headers.get("Host") or "").split(":")[0]
        with capture.lock:
            capture.requests.append(Request(self.command, host, self.path, body.decode("latin-1")))
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/ph/"):
            self.posthog(path, body)
        elif path.rstrip("/") in ("/track", "/engage", "/groups", "/decide", "/flags", "/record"):
            self.capture_events(parts.query, body)
            verbose = parse_qs(parts.query).get("verbose") == ["1"]
            self.reply(200, b'{"status":1}' if verbose else b"1", "text/plain")
        elif path == "/favicon.ico":
            self.reply(204, b"", "image/x-icon")
        elif path.startswith("/lib/"):
            package, _, name = path[len("/lib/") :].partition("/")
            # ?delay=SECONDS holds the SDK back, as a slow network would.
            time.sleep(float(parse_qs(parts.query).get("delay", ["0"])[0]))
            if name == "app.js" and package.startswith((SDK, POSTHOG)):
                self.reply(200, app_bundle(package), "text/javascript")
            else:
                self.serve(NODE_MODULES / package / "dist" / name)
        elif host in capture.sites:
            file = capture.sites[host] / path.lstrip("/")
            file = file / "index.html" if file.is_dir() else file
            self.headers_file = file.with_name(file.name + ".headers")
            redirect = file.with_name(file.name + ".redirect")
            if redirect.is_file():
                query = f"?{parts.query}" if parts.query else ""
                self.send_response(302)
                self.send_header("Location", redirect.read_text().strip() + query)
                self.send_header("Content-Length", "0")
                self.send_extra_headers()
                self.end_headers()
            else:
                self.serve(file)
        else:
            self.reply(404, b"not found", "text/plain")

    def capture_events(self, query: str, body: bytes) -> None:
        fields = parse_qs(query) | parse_qs(body.decode("utf-8"))
        for data in fields.get("data", []):
            try:
                decoded = json.loads(data)
            except ValueError:
                decoded = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
            items = decoded if isinstance(decoded, list) else [decoded]
            with self.server.capture.lock:
                self.server.capture.events.extend(item for item in items if "event" in item)

    def posthog(self, path: str, body: bytes) -> None:
        """PostHog's api host for the SDK release in the path: its scripts, an empty
        project (no flags, no surveys, no site apps), and its capture endpoints."""
        package, _, rest = path[len("/ph/") :].partition("/")
        # /ph/<package>~<seconds>/ holds the SDK back, as a slow network would.
        package, _, delay = package.partition("~")
        rest = rest.rstrip("/")
        if rest == "static/array.js":
            time.sleep(float(delay or 0))
        if rest.startswith("static/"):
            # /static/array.js from the snippet, /static/<version>/<name>.js (1.449) or
            # /static/<name>.js?v=<version> (1.292) for what the SDK loads lazily.
            name = rest.rsplit("/", 1)[-1]
            file = NODE_MODULES / package / "dist" / name
            self.reply(200, file.read_bytes() if file.is_file() else b"", "text/javascript")
        elif rest.startswith("array/") and rest.endswith("/config.js"):
            token = json.dumps(rest.split("/")[1])
            script = (
                "(window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {})"
                f"[{token}] = {{config: {{token: {token}, hasFeatureFlags: false}}, siteApps: []}};"
            )
            self.reply(200, script.encode(), "text/javascript")
        elif rest.startswith("array/"):
            self.reply(200, b'{"hasFeatureFlags":false}', "application/json")
        elif rest in ("flags", "decide"):
            self.reply(200, POSTHOG_FLAGS, "application/json")
        elif rest.startswith("api/surveys"):
            self.reply(200, b'{"surveys":[]}', "application/json")
        else:
            events = posthog_events(body)
            with self.server.capture.lock:
                self.server.capture.posthog_events.extend(events)
            self.reply(200, b'{"status":1}', "application/json")

    def serve(self, file: Path) -> None:
        if not file.is_file():
            self.reply(404, b"not found", "text/plain")
            return
        types = {
            ".html": "text/html; charset=utf-8",
            ".js": "text/javascript",
            ".mjs": "text/javascript",
            ".css": "text/css",
            ".json": "application/json",
            ".txt": "text/plain",
            ".svg": "image/svg+xml",
            ".gif": "image/gif",
        }
        self.reply(200, file.read_bytes(), types.get(file.suffix, "application/octet-stream"))

    def send_extra_headers(self) -> None:
        if self.headers_file is not None and self.headers_file.is_file():
            for line in self.headers_file.read_text().splitlines():
                name, _, value = line.partition(":")
                self.send_header(name.strip(), value.strip())

    def reply(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_extra_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


@functools.cache
def app_bundle(package: str) -> bytes:
    """js/app/app.js (js/app/posthog-app.js) bundled by esbuild with this mixpanel-browser
    (posthog-js) release, as an app's build bundles the SDK from npm (js/bundle.mjs)."""
    command = ["node", str(ROOT / "js" / "bundle.mjs"), package]
    return subprocess.run(command, capture_output=True, check=True).stdout


S = TypeVar("S", bound=socketserver.BaseServer)


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """``server`` answering from a thread until the block ends; then shut and closed."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.capture = Capture()

    @property
    def port(self) -> int:
        return int(self.server_address[1])
