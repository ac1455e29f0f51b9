"""What a journey test needs from a browser, the same for every engine."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

TIMEOUT = 10.0


@dataclass(frozen=True)
class Message:
    """One console message or page error. `kind` is "console" (a console.* call) or
    "javascript" (an uncaught error, or a message of the browser itself: Firefox's
    rejected cookies); `source` is the script the top stack frame was in, when known."""

    level: str
    kind: str
    text: str
    page: str
    source: str = ""

    @property
    def where(self) -> str:
        """The page without its query and fragment: what the baseline compares."""
        parts = urlsplit(self.page)
        return f"{parts.hostname}{parts.path}"

    def __str__(self) -> str:
        return f"[{self.kind} {self.level}] {self.text} (on {self.page}, from {self.source or '?'})"


class Driver(Protocol):
    """One isolated visitor (own cookies and storage) in one engine, on its current tab."""

    engine: str
    version: str

    @property
    def url(self) -> str: ...

    def goto(self, url: str, *, complete: bool = True) -> None:
        """Open `url` in the current tab; wait for its load event, or only for its body
        (the page's async scripts, such as the Mixpanel SDK, may not have run yet)."""

    def call(self, function: str, *args: Any) -> Any:
        """Call the JavaScript function `function` with JSON-able `args`; awaits promises."""

    def add_init_script(self, source: str) -> None:
        """Run the JavaScript statements `source` in every page to come, before its own."""

    def click(self, selector: str, button: str = "left") -> None:
        """A real pointer click ("left", "middle" or "right") in the middle of the element;
        NotImplementedError where the driver cannot (the reason is its message)."""

    def context_menu(self, selector: str) -> None:
        """The right button on the element, as a visitor opening its context menu."""

    def tap(self, selector: str) -> None:
        """A touch tap on the element; NotImplementedError where the driver cannot."""

    def press_enter(self, selector: str) -> None:
        """Focus the element and press Enter on the keyboard."""

    def tabs(self) -> list[str]:
        """The visitor's open tabs."""

    def switch(self, tab: str) -> None:
        """Make `tab` the current tab."""

    def new_tab(self) -> str:
        """Open an empty tab, make it the current one and return it."""

    def messages(self) -> list[Message]:
        """Every console message and page error of the visitor's tabs so far."""

    def cookies(self) -> list[dict[str, Any]]:
        """The cookies of the current tab's page, as Playwright lists them: name, value,
        domain, path, expires (-1 for a session cookie), secure and sameSite."""

    def close(self) -> None:
        """Close the visitor's tabs and forget its cookies and storage."""


def dies_with_parent() -> list[str]:
    """A command prefix that kills the browser or X server when the tests die, even by
    SIGKILL, when the fixtures cannot."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def wait_until(probe: Callable[[], T | None], timeout: float = TIMEOUT, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    error: Exception | None = None
    while True:
        try:
            value = probe()
        except Exception as exception:  # a page that is navigating cannot be evaluated
            value, error = None, exception
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what or probe} in vain: {error}")
        time.sleep(0.05)


def evaluate(driver: Driver, expression: str) -> Any:
    return driver.call(f"() => ({expression})")


def wait_for(driver: Driver, expression: str, timeout: float = TIMEOUT) -> Any:
    """Wait until the JavaScript `expression` is truthy in the current tab."""
    return wait_until(lambda: evaluate(driver, expression), timeout, expression)


def wait_for_url(driver: Driver, part: str, timeout: float = TIMEOUT) -> str:
    """Wait until the current tab's document has an address holding `part` and has loaded.
    The document's own address, not the driver's: after a redirect WebKitGTK's WebDriver
    reports the new address while the page before it is still the one evaluated."""
    loaded = f"location.href.includes({json.dumps(part)}) && document.readyState == 'complete'"
    wait_for(driver, loaded, timeout)
    return driver.url


def wait_for_new_tab(driver: Driver, before: list[str], timeout: float = TIMEOUT) -> str:
    """Wait for a tab that is not in `before`, and switch to it."""
    tab: str = wait_until(
        lambda: next((t for t in driver.tabs() if t not in before), None), timeout, "a new tab"
    )
    driver.switch(tab)
    return tab


def sdk_loaded(driver: Driver, timeout: float = TIMEOUT) -> None:
    wait_for(driver, "window.mixpanel && mixpanel.__loaded", timeout)
