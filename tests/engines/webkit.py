"""WebKitGTK: Debian's WebKitWebDriver drives MiniBrowser (`--automation`) through Selenium,
on a private Xvfb (MiniBrowser has no headless mode).

Each visitor is a WebDriver session of its own: an automation session keeps its cookies
and storage in memory, so a new one starts empty. The driver has no console access, so
the capture server hooks every page it serves (tests/engines/server.py).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import IO, Any

from tests.engines.driver import Message, dies_with_parent, wait_for
from tests.engines.server import HOOK, EngineServer

try:
    from selenium import webdriver
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service
except ImportError:  # the xvfb fixture says so: a skip, or a failure under CI=true
    webdriver = None
else:

    class DriverService(Service):
        """WebKitWebDriver, which dies with the tests even when they are killed."""

        def __init__(self, log: IO[str], env: dict[str, str]) -> None:
            self.prefix = dies_with_parent()
            path = self.prefix[0] if self.prefix else str(DRIVER)
            super().__init__(path, log_output=log, env=env)

        def command_line_args(self) -> list[str]:
            driver = [*self.prefix[1:], str(DRIVER)] if self.prefix else []
            return [*driver, *super().command_line_args()]


DRIVER = Path(os.environ.get("XDLINK_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver"))
MINIBROWSERS = (
    "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.1/MiniBrowser",
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
)
# No GPU here: software rendering, no DMA-BUF renderer, no accessibility bus.
ENVIRONMENT = {
    "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
    "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
    "LIBGL_ALWAYS_SOFTWARE": "1",
    "NO_AT_BRIDGE": "1",
}
# What WebKitGTK 2.50's WebDriver cannot do (found by recording the page's events).
RELEASE = (
    "WebKitGTK's WebDriver releases every mouse button as the left one: a middle click"
    " reaches the page as mousedown (button 1), mouseup (button 0) and click, with no"
    " auxclick, and follows the link in the same tab; a right click ends in a left click"
)
TOUCH = (
    "WebKitGTK's WebDriver has no touch input: a touch pointer reaches the page as mouse"
    " events only (no pointerdown, no touchstart), pointerType mouse"
)


def minibrowser() -> Path | None:
    found = [path for pattern in MINIBROWSERS for path in glob.glob(pattern)]
    return Path(found[0]) if found else None


class Xvfb:
    """A private X server; -displayfd lets it pick a free display itself."""

    def __init__(self) -> None:
        read, write = os.pipe()
        command = ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24"]
        self.process = subprocess.Popen(
            [*dies_with_parent(), *command, "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(write)
        with os.fdopen(read) as display:
            number = display.readline().strip()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WebKitDriver:
    """A visitor in a WebDriver session of its own, proxied through the capture server."""

    engine = "webkit"

    def __init__(self, display: str, server: EngineServer) -> None:
        os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
        self.server = server
        self.entries = slice(len(server.logs), None)  # its part of the server's logs
        options = Options()
        options.binary_location = str(minibrowser())
        options.add_argument("--automation")
        options.add_argument(f"--proxy=http://127.0.0.1:{server.port}")
        # goto() waits itself: with "eager", a script run after DOMContentLoaded and before
        # the load event never returns (WebKitGTK 2.50), and "normal" cannot stop before
        # an async script (the Mixpanel SDK) has run.
        options.page_load_strategy = "none"
        self.folder = Path(tempfile.mkdtemp(prefix="xdlink-webkit-"))
        self.driver_log = (self.folder / "driver.log").open("w")
        environment = os.environ | ENVIRONMENT | {"DISPLAY": display}
        service = DriverService(self.driver_log, environment)
        self.preload = [HOOK]
        server.preload.append(HOOK)
        try:
            with warnings.catch_warnings():  # Selenium 4.5x's own use of its old API
                warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
                self.driver = webdriver.WebKitGTK(options=options, service=service)
        except BaseException:
            self.close()
            raise
        self.driver.set_script_timeout(10)
        self.version: str = self.driver.capabilities.get("browserVersion", "")

    def close(self) -> None:
        try:
            if hasattr(self, "driver"):
                with contextlib.suppress(Exception):
                    self.driver.quit()
        finally:
            self.entries = slice(self.entries.start, len(self.server.logs))
            for markup in self.preload:
                self.server.preload.remove(markup)
            self.preload = []
            self.driver_log.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- the Driver protocol ---

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def goto(self, url: str, *, complete: bool = True) -> None:
        with contextlib.suppress(Exception):  # a tab that has no document yet
            self.call("() => { window.leftByGoto = true; }")
        self.driver.get(url)
        ready = "document.readyState == 'complete'" if complete else "document.body"
        wait_for(self, f"!window.leftByGoto && {ready}")

    def call(self, function: str, *args: Any) -> Any:
        return self.driver.execute_script(f"return ({function}).apply(null, arguments)", *args)

    def add_init_script(self, source: str) -> None:
        markup = f"<script>(() => {{{source}}})();</script>"
        self.preload.append(markup)
        self.server.preload.append(markup)

    def element(self, selector: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def click(self, selector: str, button: str = "left") -> None:
        if button != "left":
            raise NotImplementedError(RELEASE)
        actions = ActionBuilder(self.driver)
        actions.pointer_action.move_to(self.element(selector)).click()
        actions.perform()

    def context_menu(self, selector: str) -> None:
        """Only the press: WebKitGTK fires contextmenu on it, and the release would be a
        left click that follows the link (see RELEASE)."""
        actions = ActionBuilder(self.driver)
        actions.pointer_action.move_to(self.element(selector)).pointer_down(button=2)
        actions.perform()

    def tap(self, selector: str) -> None:
        raise NotImplementedError(TOUCH)

    def press_enter(self, selector: str) -> None:
        self.call("(selector) => document.querySelector(selector).focus()", selector)
        ActionChains(self.driver).send_keys(Keys.ENTER).perform()

    def tabs(self) -> list[str]:
        return list(self.driver.window_handles)

    def switch(self, tab: str) -> None:
        self.driver.switch_to.window(tab)

    def new_tab(self) -> str:
        self.driver.switch_to.new_window("tab")
        return str(self.driver.current_window_handle)

    def cookies(self) -> list[dict[str, Any]]:
        return [
            {
                "name": cookie["name"],
                "value": cookie["value"],
                "domain": cookie["domain"],
                "path": cookie.get("path", "/"),
                "expires": cookie.get("expiry", -1),
                "secure": cookie.get("secure", False),
                "sameSite": cookie.get("sameSite", ""),
            }
            for cookie in self.driver.get_cookies()
        ]

    def messages(self) -> list[Message]:
        return [Message(**entry) for entry in self.server.logs[self.entries]]
