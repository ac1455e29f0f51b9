"""Firefox ESR through its own Remote Agent: a small synchronous WebDriver BiDi client.

No geckodriver can be had for Debian's firefox-esr (no package, and its downloads are
blocked), and Playwright's Firefox backend sends commands that Firefox ESR 153 does not
know; Firefox speaks WebDriver BiDi itself, which gives all we need: navigation, script,
real input (mouse, keys, touch), tabs, and the console, with the browser's own messages
such as "Cookie “x” has been rejected for invalid domain.". One browser runs for the whole
session; each visitor is a user context of its own (cookies, storage), closed after use.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.engines.driver import TIMEOUT, Message, dies_with_parent, wait_until

FIREFOX = Path(os.environ.get("XDLINK_FIREFOX", "/usr/bin/firefox-esr"))

# A quiet profile that never reaches out, and that sends every http:// request through the
# capture server (a forward proxy: the test host names need no DNS).
PREFS: dict[str, Any] = {
    "app.normandy.enabled": False,
    "app.update.disabledForTesting": True,
    "browser.aboutwelcome.enabled": False,
    "browser.region.network.url": "",
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.tabs.warnOnClose": False,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "services.settings.server": "http://127.0.0.1:9/none",
    "toolkit.telemetry.enabled": False,
}
EVENTS = ["log.entryAdded", "browsingContext.contextCreated", "browsingContext.navigationStarted"]
BUTTONS = {"left": 0, "middle": 1, "right": 2}
ENTER = "\ue007"


class BiDiError(RuntimeError):
    pass


class Connection:
    """One BiDi session on a websocket: `send` waits for the answer to its command, and a
    reader thread hands every event to the listeners."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.stack = contextlib.ExitStack()
        # No keepalive: its pings, sent from a thread for the whole session, draw from the
        # random module's shared state, which hypothesis checks around each example.
        self.socket = self.stack.enter_context(
            connect(url, max_size=None, open_timeout=30, ping_interval=None)
        )
        self.ids = itertools.count(1)
        self.pending: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        try:
            for raw in self.socket:
                self.dispatch(json.loads(raw))
        except Exception:
            pass
        finally:
            for waiting in list(self.pending.values()):
                waiting.put({"type": "error", "error": "closed", "message": "connection closed"})

    def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("id") is not None:
            waiting = self.pending.pop(message["id"], None)
            if waiting:
                waiting.put(message)
        elif "method" in message:
            for listener in list(self.listeners):
                listener(message)

    def send(self, method: str, params: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        if not self.reader.is_alive():
            raise BiDiError(f"{method}: the connection to Firefox is closed")
        number = next(self.ids)
        answer: queue.Queue[dict[str, Any]] = queue.Queue()
        self.pending[number] = answer
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        try:
            message = answer.get(timeout=timeout)
        except queue.Empty:
            self.pending.pop(number, None)
            raise BiDiError(f"{method}: no answer in {timeout} s") from None
        if message.get("type") == "error":
            raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
        result: dict[str, Any] = message.get("result", {})
        return result

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stack.close()


class Firefox:
    """firefox-esr, headless, with a fresh profile, proxied through `proxy_port`."""

    def __init__(self, proxy_port: int) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="xdlink-firefox-"))
        prefs = PREFS | {"network.proxy.http_port": proxy_port}
        lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items()]
        (self.profile / "user.js").write_text("\n".join(lines) + "\n")
        self.log = (self.profile / "firefox.log").open("w")
        arguments = ["--headless", "--remote-debugging-port=0", "--no-remote"]
        self.process = subprocess.Popen(
            [*dies_with_parent(), str(FIREFOX), *arguments, "--profile", str(self.profile)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=os.environ | {"MOZ_CRASHREPORTER_DISABLE": "1"},
            start_new_session=True,
        )
        self.connection: Connection | None = None
        try:
            self.connection = Connection(self.address() + "/session")
            capabilities = {"webSocketUrl": True, "unhandledPromptBehavior": {"default": "ignore"}}
            session = self.send("session.new", {"capabilities": {"alwaysMatch": capabilities}})
            self.version: str = session["capabilities"]["browserVersion"]
            self.send("session.subscribe", {"events": EVENTS})
        except BaseException:
            self.quit()
            raise

    def address(self) -> str:
        """The Remote Agent's websocket, which it writes into the profile (its line on
        stdout is buffered when stdout is not a terminal)."""
        info = self.profile / "WebDriverBiDiServer.json"
        deadline = time.monotonic() + 60
        while self.process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):
                data = json.loads(info.read_text())
                return f"ws://{data['ws_host']}:{data['ws_port']}"
            time.sleep(0.05)
        self.log.flush()
        raise BiDiError(f"Firefox did not start: {(self.profile / 'firefox.log').read_text()}")

    def send(self, method: str, params: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        assert self.connection is not None
        return self.connection.send(method, params, timeout)

    def visitor(self) -> FirefoxDriver:
        return FirefoxDriver(self)

    def quit(self) -> None:
        try:
            if self.connection:
                with contextlib.suppress(Exception):
                    self.connection.send("browser.close", {}, timeout=5)
                self.connection.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own process group only
                self.process.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


def serialize(value: Any) -> dict[str, Any]:
    """A Python value as a BiDi LocalValue."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int | float):
        return {"type": "number", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, list | tuple):
        return {"type": "array", "value": [serialize(item) for item in value]}
    return {"type": "object", "value": [[str(k), serialize(v)] for k, v in value.items()]}


def deserialize(remote: dict[str, Any]) -> Any:
    """A BiDi RemoteValue as a Python value (what JSON would give)."""
    kind, value = remote.get("type"), remote.get("value")
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean", "number"):
        return value
    if kind == "array":
        return [deserialize(item) for item in value or []]
    if kind == "object":
        return {key: deserialize(item) for key, item in value or [] if isinstance(key, str)}
    return remote


class FirefoxDriver:
    """A visitor in a user context of its own, with its tabs and their console."""

    engine = "firefox"

    def __init__(self, firefox: Firefox) -> None:
        self.firefox = firefox
        self.version = firefox.version
        self.user_context = firefox.send("browser.createUserContext", {})["userContext"]
        self.pages: dict[str, str] = {}  # tab -> the address it last navigated to
        self.log: list[Message] = []
        self.scripts: list[str] = []
        assert firefox.connection is not None
        firefox.connection.listeners.append(self.on_event)
        self.tab = self.new_tab()

    def on_event(self, event: dict[str, Any]) -> None:
        params = event["params"]
        if event["method"] == "browsingContext.contextCreated":
            if params.get("userContext") == self.user_context:
                self.pages[params["context"]] = params.get("url", "")
        elif event["method"] == "browsingContext.navigationStarted":
            if params["context"] in self.pages:
                self.pages[params["context"]] = params["url"]
        elif params.get("source", {}).get("context") in self.pages:
            self.log.append(self.message(params))

    def message(self, params: dict[str, Any]) -> Message:
        page = self.pages[params["source"]["context"]]
        frames = (params.get("stackTrace") or {}).get("callFrames") or [{}]
        text = params.get("text") or ""
        return Message(params["level"], params["type"], text, page, frames[0].get("url", ""))

    def close(self) -> None:
        assert self.firefox.connection is not None
        self.firefox.connection.listeners.remove(self.on_event)
        for script in self.scripts:
            self.firefox.send("script.removePreloadScript", {"script": script})
        self.firefox.send("browser.removeUserContext", {"userContext": self.user_context})

    # --- the Driver protocol ---

    @property
    def url(self) -> str:
        return str(self.call("() => location.href"))

    def goto(self, url: str, *, complete: bool = True) -> None:
        wait = "complete" if complete else "interactive"
        params = {"context": self.tab, "url": url, "wait": wait}
        self.firefox.send("browsingContext.navigate", params, TIMEOUT + 5)

    def call(self, function: str, *args: Any) -> Any:
        params = {
            "functionDeclaration": function,
            "arguments": [serialize(arg) for arg in args],
            "target": {"context": self.tab},
            "awaitPromise": True,
            "resultOwnership": "none",
        }
        result = self.firefox.send("script.callFunction", params)
        if result.get("type") == "exception":
            raise BiDiError(f"{function}: {result['exceptionDetails'].get('text')}")
        return deserialize(result["result"])

    def add_init_script(self, source: str) -> None:
        params = {"functionDeclaration": f"() => {{{source}}}", "userContexts": [self.user_context]}
        self.scripts.append(self.firefox.send("script.addPreloadScript", params)["script"])

    def element(self, selector: str) -> dict[str, Any]:
        locator = {"type": "css", "value": selector}
        params = {"context": self.tab, "locator": locator}
        nodes: list[dict[str, Any]] = wait_until(
            lambda: self.firefox.send("browsingContext.locateNodes", params)["nodes"],
            what=f"an element {selector}",
        )
        return {"sharedId": nodes[0]["sharedId"]}

    def pointer(self, selector: str, kind: str, button: int) -> None:
        origin = {"type": "element", "element": self.element(selector)}
        steps = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
            {"type": "pointerDown", "button": button},
            {"type": "pointerUp", "button": button},
        ]
        source = {"type": "pointer", "id": kind, "parameters": {"pointerType": kind}}
        self.perform([source | {"actions": steps}])

    def perform(self, actions: list[dict[str, Any]]) -> None:
        self.firefox.send("input.performActions", {"context": self.tab, "actions": actions})
        self.firefox.send("input.releaseActions", {"context": self.tab})

    def click(self, selector: str, button: str = "left") -> None:
        self.pointer(selector, "mouse", BUTTONS[button])

    def context_menu(self, selector: str) -> None:
        self.click(selector, "right")

    def tap(self, selector: str) -> None:
        self.pointer(selector, "touch", 0)

    def press_enter(self, selector: str) -> None:
        self.call("(selector) => document.querySelector(selector).focus()", selector)
        keys = [{"type": "keyDown", "value": ENTER}, {"type": "keyUp", "value": ENTER}]
        self.perform([{"type": "key", "id": "keyboard", "actions": keys}])

    def tabs(self) -> list[str]:
        tree = self.firefox.send("browsingContext.getTree", {"maxDepth": 0})["contexts"]
        return [tab["context"] for tab in tree if tab.get("userContext") == self.user_context]

    def switch(self, tab: str) -> None:
        self.tab = tab

    def new_tab(self) -> str:
        params = {"type": "tab", "userContext": self.user_context}
        self.tab = str(self.firefox.send("browsingContext.create", params)["context"])
        self.pages.setdefault(self.tab, "about:blank")
        return self.tab

    def cookies(self) -> list[dict[str, Any]]:
        partition = {"type": "storageKey", "userContext": self.user_context}
        found = self.firefox.send("storage.getCookies", {"partition": partition})["cookies"]
        return [
            {
                "name": cookie["name"],
                "value": cookie["value"]["value"],
                "domain": cookie["domain"],
                "path": cookie["path"],
                "expires": cookie.get("expiry", -1),
                "secure": cookie["secure"],
                "sameSite": cookie["sameSite"],
            }
            for cookie in found
        ]

    def messages(self) -> list[Message]:
        return list(self.log)
