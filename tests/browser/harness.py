"""Two sites on two host names, the real Mixpanel and PostHog SDKs and a capture server, in
real Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# ROOT, Capture and Handler are re-exported: the tests import ROOT from here.
from tools.capture import (  # noqa: F401
    NODE_MODULES,
    POSTHOG,
    POSTHOG_1292,
    ROOT,
    SDK,
    Capture,
    Handler,
    Request,
    Server,
    serving,
)

CHROMIUM = Path(os.environ.get("XDLINK_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI") == "true"

SITE_A = "site-a.test"
SITE_B = "site-b.test"
DOMAINS = (SITE_A, SITE_B)
TOKEN = "0123456789abcdef0123456789abcdef"
# npm aliases in js/package.json besides SDK: the last one without "$device:" ids, and the
# last one whose ids are not crypto.randomUUID.
SDK_245 = "mixpanel-browser-2.45"
SDK_261 = "mixpanel-browser-2.61"
PAGE_VIEWS = ("$mp_web_page_view", "mp_page_view")
POSTHOG_KEY = "phc_0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
POSTHOG_RELEASES = (POSTHOG, POSTHOG_1292)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # .example names check the SDK's other cookie-domain rule, for TLDs longer than 4 letters;
    # github.io, a public suffix under which the SDK's own guess of the domain fails;
    # *.test. for hosts written with their trailing dot (site-b.test.).
    "--host-resolver-rules=MAP *.test 127.0.0.1,MAP *.test. 127.0.0.1,"
    "MAP *.example 127.0.0.1,MAP *.github.io 127.0.0.1",
]


def require(condition: bool, message: str) -> None:
    """Skip loudly when a tool is missing; under CI=true a missing tool fails the test."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: these tests must run)")
    sys.stderr.write(f"\n*** SKIPPING: {message} ***\n")
    pytest.skip(message)


# --- the server ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with serving(Server()) as httpd:
        yield httpd


# --- the browser -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    require(
        (NODE_MODULES / SDK / "dist" / "mixpanel.min.js").exists(),
        "js/node_modules is missing: run `npm ci` in js/",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Browsing:
    """New browser contexts for one test, each watched for page errors."""

    browser: Any
    errors: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def context(self, **options: Any) -> Any:
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.on("weberror", lambda error: self.errors.append(f"page error: {error.error}"))
        context.on("page", self.watch)
        self.contexts.append(context)
        return context

    def watch(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            if message.type == "error":
                self.errors.append(f"console error on {page.url}: {message.text}")

        page.on("console", on_console)

    def page(self, **options: Any) -> Any:
        return self.context(**options).new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Any) -> Iterator[Browsing]:
    session = Browsing(browser)
    yield session
    session.close()
    assert session.errors == [], "\n".join(session.errors)


# --- the sites -------------------------------------------------------------------------

SNIPPET_PATH = NODE_MODULES / SDK / "dist" / "mixpanel-jslib-snippet.min.js"
# PostHog's official snippet as its documentation gives it (the package ships none).
POSTHOG_SNIPPET_PATH = Path(__file__).with_name("posthog-snippet.js")


@dataclass
class Sites:
    """Builds test sites in a temporary folder and serves them by host name."""

    server: Server
    root: Path

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.server.port}{path}"

    @property
    def api_host(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def mixpanel(
        self,
        *,
        sdk: str = SDK,
        mode: str = "snippet",
        token: str = TOKEN,
        name: str | None = None,
        after: str = "",
        delay: float = 0,
        join: str | None = None,
        pageview: bool = False,
        **config: Any,
    ) -> str:
        """The head markup that loads and initialises the real SDK, as a site would: with
        the snippet, as an ES module, or (``mode="bundle"``) as an app bundled by esbuild
        from npm (js/app/app.js), which calls xdlink.join ``join`` ("before" or "after"
        its init, or several: "before after"), tracks a page view after init if
        ``pageview`` and leaves its instance at ``window.app``."""
        options = {"api_host": self.api_host, "batch_requests": False, "track_pageview": True}
        options.update(config)
        if mode == "bundle":
            app = {"token": token, "config": options, "name": name, "join": join}
            app["pageview"] = pageview or sdk == SDK_245
            return (
                f"<script>window.APP = {json.dumps(app)};</script>\n"
                f'<script async src="/lib/{sdk}/app.js?delay={delay}"></script>'
            )
        arguments = [json.dumps(token), json.dumps(options)] + ([json.dumps(name)] if name else [])
        call = f"mixpanel.init({', '.join(arguments)});"
        if join == "before":
            call = f"window.xdlink && xdlink.join(mixpanel);\n{call}"
        if sdk == SDK_245:
            # 2.45 has no automatic page view; its stub queues this until the library runs.
            target = f"mixpanel[{json.dumps(name)}]" if name else "mixpanel"
            call += f"\n{target}.track_pageview();"
        if mode == "module":
            return (
                '<script type="module">\n'
                f'import mixpanel from "/lib/{sdk}/mixpanel.module.js";\n{call}\n{after}\n'
                "</script>"
            )
        snippet = SNIPPET_PATH.read_text().strip()
        return (
            f'<script>var MIXPANEL_CUSTOM_LIB_URL = "/lib/{sdk}/mixpanel.min.js?delay={delay}";'
            "</script>\n"
            f"<script>{snippet}</script>\n<script>\n{call}\n{after}\n</script>"
        )

    def posthog_api_host(self, sdk: str = POSTHOG, delay: float = 0) -> str:
        """PostHog's api host for the release ``sdk``, whose SDK arrives ``delay`` late."""
        return f"http://127.0.0.1:{self.server.port}/ph/{sdk}" + (f"~{delay}" if delay else "")

    def posthog(
        self,
        *,
        sdk: str = POSTHOG,
        key: str = POSTHOG_KEY,
        after: str = "",
        parked: bool = False,
        delay: float = 0,
        join: str | None = None,
        name: str | None = None,
        **config: Any,
    ) -> str:
        """The head markup that loads and initialises the real posthog-js with its official
        snippet, as a site would; ``parked``: in a script a consent manager keeps as
        ``type="text/plain"`` until the visitor accepts; ``delay``: the SDK arrives late;
        ``join`` ("before" or "after" its init): an app that bundles posthog-js from npm
        (js/app/posthog-app.js) and calls xdlink.join(posthog) there, leaving its instance
        at ``window.app``; ``name``: the init makes a named instance, ``posthog.<name>``."""
        options = {
            "api_host": self.posthog_api_host(sdk, delay),
            # posthog-js drops every event of a browser driven by automation without it.
            "opt_out_useragent_filter": True,
            "request_batching": False,
            "disable_session_recording": True,
        }
        options.update(config)
        if join is not None:
            app = {"key": key, "config": options, "join": join}
            return (
                f"<script>window.APP = {json.dumps(app)};</script>\n"
                f'<script async src="/lib/{sdk}/app.js"></script>'
            )
        snippet = POSTHOG_SNIPPET_PATH.read_text().strip()
        arguments = [key, options] + ([name] if name else [])
        code = f"{snippet}\nposthog.init({json.dumps(arguments)[1:-1]});\n{after}"
        kind = ' type="text/plain" data-consent="analytics"' if parked else ""
        return f"<script{kind}>\n{code}\n</script>"

    def build(
        self,
        host: str,
        pages: dict[str, str],
        *,
        head: str = "",
        domains: tuple[str, ...] = DOMAINS,
        token: str | None = None,
        ttl: int | None = None,
        param: str | None = None,
        fragment: bool = False,
        consent: bool = False,
        files: dict[str, str] | None = None,
        xdlink: bool = True,
    ) -> None:
        """Write `pages` (path -> body markup) for `host`, all with `head`, and `files` (path
        -> content) as they are, then add xdlink (unless ``xdlink`` is False: the baseline,
        the same site without it)."""
        folder = self.root / host
        shutil.rmtree(folder, ignore_errors=True)
        for path, body in pages.items():
            file = folder / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(
                '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{host} {path}</title>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
            )
        for path, content in (files or {}).items():
            (folder / path).write_text(content)
        self.server.capture.sites[host] = folder
        if not xdlink:
            return
        install_xdlink(
            folder,
            domains=domains,
            token=token,
            ttl=ttl,
            param=param,
            fragment=fragment,
            consent=consent,
        )

    # --- what the capture server saw ---

    def events(self, host: str, path: str | None = None) -> list[dict[str, Any]]:
        """Properties of every event sent from a page of `host` (and `path`)."""
        with self.server.capture.lock:
            events = list(self.server.capture.events)
        found: dict[str, dict[str, Any]] = {}
        for event in events:
            properties = dict(event["properties"], event=event["event"])
            where = urlsplit(properties.get("$current_url", ""))
            if where.hostname == host and (path is None or where.path == path):
                found.setdefault(properties.get("$insert_id") or str(len(found)), properties)
        return sorted(found.values(), key=lambda properties: properties.get("time", 0))

    def page_views(
        self, host: str, path: str | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait for `count` page views from `host`; return every event from there."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(host, path)
            views = [event for event in events if event["event"] in PAGE_VIEWS]
            if len(views) >= count:
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(views)} page views from {host}{path or ''}: {events}")
            time.sleep(0.05)

    def posthog_events(self, host: str, path: str | None = None) -> list[dict[str, Any]]:
        """Properties (and name, as ``event``) of every PostHog event sent from a page of
        `host` (and `path`), once each, in the order they were made."""
        with self.server.capture.lock:
            events = list(self.server.capture.posthog_events)
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for event in events:
            properties = dict(event.get("properties") or {}, event=event["event"])
            where = urlsplit(properties.get("$current_url", ""))
            if where.hostname == host and (path is None or where.path == path):
                uuid = event.get("uuid") or ""
                found.setdefault(uuid or str(len(found)), (uuid, properties))
        # The uuid is a UUIDv7 with a counter: it orders events made in one millisecond
        # (events without one keep the order they came in).
        made = sorted(found.values(), key=lambda pair: (pair[1].get("$time", 0), pair[0]))
        return [properties for _, properties in made]

    def posthog_page_views(
        self, host: str, path: str | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait for `count` PostHog page views from `host`; return every event from there."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.posthog_events(host, path)
            if sum(event["event"] == "$pageview" for event in events) >= count:
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"no PostHog page view from {host}{path or ''}: {events}")
            time.sleep(0.05)

    def requests(self) -> list[Request]:
        with self.server.capture.lock:
            return list(self.server.capture.requests)


def install_xdlink(
    folder: Path,
    *,
    domains: tuple[str, ...],
    token: str | None,
    ttl: int | None,
    param: str | None,
    fragment: bool,
    consent: bool = False,
) -> None:
    """Add the script to every page of `folder` the way users do: `xdlink build`."""
    command = [sys.executable, "-m", "xdlink", "build", str(folder), "--domains", ",".join(domains)]
    for option, value in (("--token", token), ("--ttl", ttl), ("--param", param)):
        if value is not None:
            command += [option, str(value)]
    command += ["--fragment"] * fragment + ["--consent"] * consent
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def sites(server: Server, tmp_path: Path) -> Iterator[Sites]:
    server.capture.reset()
    yield Sites(server, tmp_path)
    server.capture.reset()


@pytest.fixture
def wait() -> Callable[..., Any]:
    """Poll `probe` until it returns something truthy."""

    def poll(probe: Callable[[], Any], timeout: float = 10.0, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(message or f"timed out waiting for {probe}")
            time.sleep(0.05)

    return poll
