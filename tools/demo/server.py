"""`make demo`: the two sites of fixtures/demo/ with and without xdlink, and a live page.

    python -m tools.demo.server [--port 8000] [--capture-port 8001] [--out build/demo]

Copies fixtures/demo/shop and fixtures/demo/docs to OUT twice: as shop.localhost and
docs.localhost, with `xdlink build`, and as shop-plain.localhost and docs-plain.localhost,
without it. Serves all four on 127.0.0.1:PORT by Host header, with the real Mixpanel SDK from
js/node_modules. Events go to a capture server on 127.0.0.1:CAPTURE_PORT, which also serves
a live page that groups them by visitor. Runs until Ctrl-C. Port 0 picks a free port (the
printed URLs say which). Only the standard library and tools/capture.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools.capture import NODE_MODULES, ROOT, SDK, Capture, Handler

FIXTURES = ROOT / "fixtures" / "demo"
HERE = Path(__file__).resolve().parent
SITES = ("shop", "docs")
# What the fixture pages say, rewritten to the ports and host names actually served.
FIXTURE_PORT = 8000
FIXTURE_API = "//127.0.0.1:8001"
SDK_PATH = "/vendor/mixpanel-browser/mixpanel.min.js"
TRACKING = ("/track", "/engage", "/groups", "/decide", "/flags", "/record")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def host(site: str, plain: bool) -> str:
    return f"{site}-plain.localhost" if plain else f"{site}.localhost"


# --- what the capture server received, by visitor ---------------------------------------


class Events(Capture):
    """Capture, plus when each event arrived (by position in `events`)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def stamp(self) -> None:
        with self.lock:
            now = time.time()
            self.arrived.extend([now] * (len(self.events) - len(self.arrived)))

    def clear(self) -> None:
        with self.lock:
            self.events.clear()
            self.requests.clear()
            self.arrived.clear()

    def visitors(self) -> list[dict[str, Any]]:
        """Events grouped by visitor ($device_id, else distinct_id), latest visitor first."""
        with self.lock:
            received = list(zip(self.events, self.arrived, strict=False))
        seen: set[str] = set()
        groups: dict[str, dict[str, Any]] = {}
        for number, (event, arrived) in enumerate(received):
            properties = event.get("properties") or {}
            insert_id = str(properties.get("$insert_id") or f"#{number}")
            if insert_id in seen:
                continue
            seen.add(insert_id)
            distinct_id = str(properties.get("distinct_id") or "")
            visitor = str(properties.get("$device_id") or distinct_id.removeprefix("$device:"))
            where = urlsplit(str(properties.get("$current_url") or ""))
            group = groups.setdefault(
                visitor,
                {"visitor": visitor, "distinct_id": distinct_id, "hosts": [], "events": []},
            )
            if where.hostname and where.hostname not in group["hosts"]:
                group["hosts"].append(where.hostname)
            group["events"].append(
                {
                    "event": str(event.get("event")),
                    "host": where.hostname or "",
                    "path": where.path or "/",
                    "query": where.query,
                    "time": arrived,
                }
            )
        for group in groups.values():
            group["hosts"].sort(key=lambda name: (not name.startswith("shop"), name))
            plain = {name.endswith("-plain.localhost") for name in group["hosts"]}
            group["pair"] = {frozenset([False]): "xdlink", frozenset([True]): "plain"}.get(
                frozenset(plain), "mixed"
            )
            group["last"] = group["events"][-1]["time"]
        return sorted(groups.values(), key=lambda group: -group["last"])


# --- the two servers ---------------------------------------------------------------------


class DemoHandler(Handler):
    """The capture server's handler (event decoding, CORS, replies), routed for the demo."""

    server: DemoServer  # type: ignore[assignment]

    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/reset" and self.server.role == "capture":
            self.server.capture.clear()
            self.reply(204, b"", "text/plain")
            return
        super().do_POST()

    def handle_any(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path.rstrip("/") in TRACKING:
            self.capture_events(parts.query, body)
            self.server.capture.stamp()
            verbose = parse_qs(parts.query).get("verbose") == ["1"]
            self.reply(200, b'{"status":1}' if verbose else b"1", "text/plain")
        elif path == "/favicon.ico":
            self.reply(204, b"", "image/x-icon")
        elif self.server.role == "capture":
            self.capture_page(path)
        elif path == SDK_PATH:
            self.serve(NODE_MODULES / SDK / "dist" / "mixpanel.min.js")
        else:
            name = (self.headers.get("Host") or "").split(":")[0].lower()
            folder = self.server.sites.get(name)
            if folder is None:
                self.reply(200, self.server.index.encode(), TYPES[".html"])
                return
            file = (folder / path.lstrip("/")).resolve()
            if not file.is_relative_to(folder):
                self.reply(404, b"not found", "text/plain")
                return
            self.serve(file / "index.html" if file.is_dir() else file)

    def capture_page(self, path: str) -> None:
        if path == "/":
            self.serve(HERE / "live.html")
        elif path == "/events.json":
            visitors = self.server.capture.visitors()
            payload = {"visitors": visitors, "links": self.server.links}
            self.reply(200, json.dumps(payload).encode(), TYPES[".json"])
        else:
            self.reply(404, b"not found", "text/plain")

    def serve(self, file: Path) -> None:
        if not file.is_file():
            self.reply(404, b"not found", "text/plain")
            return
        content_type = TYPES.get(file.suffix, "application/octet-stream")
        self.reply(200, file.read_bytes(), content_type)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, role: str, capture: Events) -> None:
        super().__init__(("127.0.0.1", port), DemoHandler)
        self.role = role
        self.capture = capture
        self.sites: dict[str, Path] = {}
        self.links: dict[str, str] = {}
        self.index = ""

    @property
    def port(self) -> int:
        return int(self.server_address[1])


# --- the sites ---------------------------------------------------------------------------


def build(out: Path, port: int, capture_port: int) -> dict[str, Path]:
    """Copy both fixture sites into OUT for both pairs; run `xdlink build` on one pair."""
    sdk = NODE_MODULES / SDK / "dist" / "mixpanel.min.js"
    if not sdk.is_file():
        raise SystemExit(
            f"{sdk.relative_to(ROOT)} is missing: install Node.js and npm, then run `make js`"
        )
    out = out.resolve()
    folders: dict[str, Path] = {}
    for plain in (False, True):
        for site in SITES:
            folder = out / ("plain" if plain else "xdlink") / site
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(FIXTURES / site, folder)
            for page in folder.rglob("*.html"):
                text = page.read_text(encoding="utf-8")
                for other in SITES:
                    text = text.replace(
                        f"//{host(other, False)}:{FIXTURE_PORT}", f"//{host(other, plain)}:{port}"
                    )
                text = text.replace(FIXTURE_API, f"//127.0.0.1:{capture_port}")
                page.write_text(text, encoding="utf-8")
            folders[host(site, plain)] = folder
    # One run over both sites, as a deploy of two sites from one repository would do.
    pair = out / "xdlink"
    domains = ",".join(host(name, False) for name in SITES)
    print(f"$ xdlink build {display(pair)} --domains {domains}", flush=True)
    command = [sys.executable, "-m", "xdlink", "build", str(pair), "--domains", domains]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stdout.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"xdlink build failed with exit code {result.returncode}")
    return folders


def display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def index_page(links: dict[str, str]) -> str:
    items = "".join(f'<li><a href="{url}">{url}</a> ({label})</li>' for label, url in links.items())
    return (
        '<!doctype html><meta charset="utf-8"><title>xdlink demo</title>'
        '<body style="font: 17px/1.6 system-ui, sans-serif; margin: 2rem">'
        f"<h1>xdlink demo</h1><ul>{items}</ul>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo.server", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="port of the four sites")
    parser.add_argument("--capture-port", type=int, default=8001, help="events and live page")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "demo", help="built sites")
    options = parser.parse_args(argv)

    capture = Events()
    try:
        sites = DemoServer(options.port, "sites", capture)
        events = DemoServer(options.capture_port, "capture", capture)
    except OSError as error:
        print(f"cannot listen: {error} (choose others with --port / --capture-port)")
        return 2
    # Ports are known now (also with port 0): the pages are built for them.
    sites.sites = build(options.out, sites.port, events.port)
    links = {
        "shop with xdlink": f"http://{host('shop', False)}:{sites.port}/",
        "docs with xdlink": f"http://{host('docs', False)}:{sites.port}/",
        "shop without xdlink": f"http://{host('shop', True)}:{sites.port}/",
        "docs without xdlink": f"http://{host('docs', True)}:{sites.port}/",
        "live events": f"http://127.0.0.1:{events.port}/",
    }
    events.links = sites.links = links
    sites.index = index_page(links)
    for server in (sites, events):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    width = max(len(label) for label in links) + 2
    print("\nxdlink demo is running:\n")
    for label, url in links.items():
        print(f"  {label + ':':<{width}} {url}")
    print(
        "\nOpen the live events page, then click from the shop to the docs on each pair:"
        "\nwith xdlink both sites' events land under ONE visitor, without it under TWO."
        "\n(*.localhost resolves to 127.0.0.1 in Chrome, Firefox and Edge; in other browsers"
        "\nadd the four names to /etc/hosts.) Press Ctrl-C to stop.",
        flush=True,
    )
    # SIGTERM (a test, a process manager) stops it as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        for server in (sites, events):
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
