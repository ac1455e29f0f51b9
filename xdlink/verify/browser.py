"""The browser: Chromium found and launched through Playwright, one fresh context per visitor,
and what each visitor's browser saw.

Playwright is an optional dependency, imported only once a run starts the browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xdlink.links import url_host
from xdlink.sdks import Sdk
from xdlink.settings import Settings
from xdlink.verify.diagnoses import Diagnosis, VerifyFailure
from xdlink.verify.serving import POSTHOG_SDK_PATH, SDK_PATH

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Playwright,
        Request,
        Response,
        Route,
    )

# Quiet Chromium: no background traffic, no first-run pages.
_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The xdlink script says what it decided in the console when this key is set.
_DEBUG_SWITCH = "try { localStorage.setItem('xdlink_debug', '1') } catch (e) {}"
# posthog-js sends nothing from a browser that looks automated (navigator.webdriver, or
# "HeadlessChrome" in the user agent) unless the page's own init sets
# opt_out_useragent_filter, which a real site's does not. verify stands in for a visitor,
# whose browser says neither: its pages are shown what a visitor's browser shows, and the
# page's code is left as it is deployed.
_NOT_AUTOMATED = (
    "Object.defineProperty(Navigator.prototype, 'webdriver', "
    "{configurable: true, get: () => false});"
)
_NET_ERROR = re.compile(r"net::ERR_[A-Z_]+")


@dataclass(frozen=True)
class Options:
    """How to run the browser."""

    browser: str | None = None  # a Chromium executable; None: Playwright's own
    mixpanel_sdk: Path | None = None  # served in place of Mixpanel's CDN
    posthog_sdk: Path | None = None  # served in place of PostHog's static/array.js
    pages: int = 30  # how many pages of a deployed site to visit when looking for a link
    timeout: float = 10.0  # seconds to wait for a page, the SDK or an event
    resolve: tuple[tuple[str, str], ...] = ()  # (host, address): DNS for the browser
    accept: tuple[str, ...] = ()  # selectors of consent banners' accept buttons
    headed: bool = False  # a visible window

    @classmethod
    def of(cls, settings: Settings) -> Options:
        """Take the browser's options from the run's settings."""
        rules = tuple(rule.partition(":")[::2] for rule in settings.resolve)
        return cls(
            settings.browser,
            Path(settings.mixpanel_sdk) if settings.mixpanel_sdk else None,
            Path(settings.posthog_sdk) if settings.posthog_sdk else None,
            settings.pages,
            settings.timeout,
            rules,
            settings.accept,
            settings.headed,
        )

    def sdk_file(self, sdk: Sdk) -> Path | None:
        """Return the local copy of the SDK served in place of its CDN, if one was given."""
        return self.mixpanel_sdk if sdk is Sdk.MIXPANEL else self.posthog_sdk

    def executable(self) -> str | None:
        """Return the Chromium to launch: --browser, then $XDLINK_BROWSER, else Playwright's."""
        return self.browser or os.environ.get("XDLINK_BROWSER")

    def arguments(self) -> list[str]:
        """Return Chromium's command-line switches, --resolve's host rules among them."""
        rules = ",".join(f"MAP {host} {address}" for host, address in self.resolve)
        return _ARGS + ([f"--host-resolver-rules={rules}"] if rules else [])


def require_playwright() -> None:
    """Fail with the way to install Playwright when it is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise VerifyFailure(Diagnosis.NO_PLAYWRIGHT) from None


@dataclass
class Watch:
    """What one visitor's browser saw: the console, and its top-level navigations."""

    console: list[tuple[str | None, str]] = field(default_factory=list)  # (host, text)
    navigations: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # navigations: (url, error)
    sdk_failures: dict[Sdk, str] = field(default_factory=dict)  # why an SDK was not fetched
    statuses: dict[str, int] = field(default_factory=dict)  # navigations: url -> status

    def failure_to(self, host: str) -> tuple[str, str] | None:
        """Return the first navigation to the host that failed, and the browser's error."""
        return next(((url, error) for url, error in self.failures if url_host(url) == host), None)

    def lines(self, host: str, prefix: str) -> list[str]:
        """Return the console lines of the host's pages that start with the prefix, without it."""
        return [
            text[len(prefix) :]
            for at, text in self.console
            if at == host and text.startswith(prefix)
        ]

    def on_console(self, message: ConsoleMessage) -> None:
        location = message.location.get("url", "") if message.location else ""
        self.console.append((url_host(location), message.text))

    def on_request(self, request: Request) -> None:
        if _is_top_navigation(request):
            self.navigations.append(request.url)

    def on_request_failed(self, request: Request) -> None:
        error = str(request.failure or "failed")
        parts = urlsplit(request.url)
        if (parts.hostname or "").endswith("mxpnl.com") or SDK_PATH.search(parts.path):
            self.sdk_failures.setdefault(Sdk.MIXPANEL, error)
        elif POSTHOG_SDK_PATH.search(parts.path):
            self.sdk_failures.setdefault(Sdk.POSTHOG, error)
        elif _is_top_navigation(request):
            self.failures.append((request.url, error))

    def on_response(self, response: Response) -> None:
        if _is_top_navigation(response.request):
            self.statuses[response.url] = response.status


def _is_top_navigation(request: Request) -> bool:
    return request.is_navigation_request() and request.frame.parent_frame is None


def net_error(error: Exception | str) -> str:
    """Return the browser's own name of a failed navigation (net::ERR_CONNECTION_REFUSED)."""
    found = _NET_ERROR.search(str(error))
    return found.group() if found else str(error).strip().splitlines()[0]


class ChromiumBrowser:
    """Chromium for a run of verify; each visitor gets a fresh context (no cookies, no storage)."""

    def __init__(self, options: Options) -> None:
        self.options = options

    def __enter__(self) -> ChromiumBrowser:
        from playwright.sync_api import Error, sync_playwright

        self._playwright: Playwright = sync_playwright().start()
        try:
            self._browser: Browser = self._playwright.chromium.launch(
                executable_path=self.options.executable(),
                args=self.options.arguments(),
                headless=not self.options.headed,
            )
        except Error as exc:
            self._playwright.stop()
            first = str(exc).strip().splitlines()[0]
            raise VerifyFailure(Diagnosis.BROWSER_DID_NOT_START, error=first) from None
        self._user_agent = self._visitor_user_agent()
        return self

    def _visitor_user_agent(self) -> str:
        """The browser's user agent as a visitor's Chromium gives it (see _NOT_AUTOMATED)."""
        page = self._browser.new_page()
        try:
            agent: str = page.evaluate("navigator.userAgent")
        finally:
            page.close()
        return agent.replace("HeadlessChrome/", "Chrome/")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._browser.close()
        self._playwright.stop()

    @contextmanager
    def visitor(
        self, watch: Watch, router: Callable[[Route, Request], None]
    ) -> Iterator[BrowserContext]:
        """Open a context for a new visitor: every request goes through the router, the
        xdlink script speaks in the console, and the watch records what happens."""
        context = self._browser.new_context(ignore_https_errors=True, user_agent=self._user_agent)
        try:
            context.set_default_timeout(self.options.timeout * 1000)
            context.add_init_script(_DEBUG_SWITCH)
            context.add_init_script(_NOT_AUTOMATED)
            context.route("**/*", router)
            context.on("console", watch.on_console)
            context.on("request", watch.on_request)
            context.on("requestfailed", watch.on_request_failed)
            context.on("response", watch.on_response)
            yield context
        finally:
            context.close()
