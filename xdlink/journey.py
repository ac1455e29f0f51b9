"""One visitor's journey from a site to another, in headless Chromium driven by Playwright.

Every request of the browser goes through ``_Router``: pages of a built folder are served
under their real host name, Mixpanel's tracking requests are answered in the browser
(nothing reaches Mixpanel) and read, and ``--mixpanel-sdk`` stands in for Mixpanel's CDN.
What the xdlink script decided is read from its debug lines (``localStorage.xdlink_debug``),
which ``verify`` switches on for every site.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from xdlink.errors import XdlinkError
from xdlink.links import url_host
from xdlink.settings import Settings
from xdlink.verify import Options, PairResult, Status, Target

FolderLink = Callable[[Target, Target], tuple[str, str] | None]

# Mixpanel's API hosts end in mixpanel.com; a proxy (api_host) keeps the API's paths.
_API_PATH = re.compile(r"^/(track|engage|groups|decide|record|flags|settings)(/|$)")
_SDK_PATH = re.compile(r"/libs/mixpanel[\w.-]*\.js$")
_DEBUG_SWITCH = "try { localStorage.setItem('xdlink_debug', '1') } catch (e) {}"
_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# In the page: the loaded Mixpanel instance (named ones hang off the global) and its ids.
_SDK_STATE = """() => {
  const m = window.mixpanel;
  if (!m) return {state: 'absent'};
  const loaded = [m, ...Object.values(m)].find((v) => v && v.__loaded);
  if (!loaded) return {state: Array.isArray(m) ? 'stub' : 'not initialised'};
  return {state: 'loaded', device_id: String(loaded.get_property('$device_id')),
          distinct_id: String(loaded.get_distinct_id()),
          opted_out: loaded.has_opted_out_tracking() ? 'yes' : ''};
}"""
_SCRIPT_STATE = """() => ({element: !!document.querySelector('script[data-xdlink]'),
                         ran: !!window.xdlink})"""
# The SDK's batch queue (batch_requests, the default): events wait there up to 5 s.
_QUEUED = """() => Object.keys(localStorage).filter((k) => /^__mpq_.*_ev$/.test(k))
  .flatMap((k) => { try { return JSON.parse(localStorage[k]).map((i) => i.payload) }
                    catch (e) { return [] } })"""
_MARK_LINK = """([host, href]) => {
  const links = [...document.querySelectorAll('a[href], area[href]')];
  const to = (e) => { try { return new URL(e.href.baseVal || e.href, document.baseURI) }
                      catch (x) { return null } };
  const link = links.find((e) => e.getAttribute('href') === href)
    || links.find((e) => (to(e) || {}).hostname === host);
  if (!link) return null;
  link.setAttribute('data-xdlink-verify', '');
  return {href: link.getAttribute('href'), blank: link.target === '_blank'};
}"""
_SITE_LINKS = """() => [...document.querySelectorAll('a[href], area[href]')]
  .map((e) => { try { return new URL(e.href.baseVal || e.href, document.baseURI).href }
                catch (x) { return null } }).filter((u) => u)"""


@dataclass
class _Event:
    host: str | None
    device_id: str | None
    distinct_id: str | None
    insert_id: str | None
    time: float

    @classmethod
    def of(cls, event: dict[str, Any]) -> _Event:
        properties = event.get("properties") or {}
        return cls(
            url_host(str(properties.get("$current_url", ""))),
            _text(properties.get("$device_id")),
            _text(properties.get("distinct_id")),
            _text(properties.get("$insert_id")),
            float(properties.get("time") or 0),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Watch:
    """What one browser context saw: events, the script's lines, navigations."""

    events: list[_Event] = field(default_factory=list)
    console: list[tuple[str | None, str]] = field(default_factory=list)  # (host, text)
    navigations: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # navigations: (url, error)
    sdk_failure: str | None = None  # why the Mixpanel SDK could not be fetched
    statuses: dict[str, int] = field(default_factory=dict)  # navigations: url -> status

    def failure_to(self, host: str) -> tuple[str, str] | None:
        return next(((url, error) for url, error in self.failures if url_host(url) == host), None)

    def lines(self, host: str, prefix: str) -> list[str]:
        return [
            text[len(prefix) :]
            for at, text in self.console
            if at == host and text.startswith(prefix)
        ]


class _Router:
    """Answers every request of a context: served folders, Mixpanel, the SDK's file."""

    def __init__(self, targets: list[Target], options: Options, watch: _Watch) -> None:
        self.folders = {target.host: target.folder for target in targets if target.folder}
        self.sdk = options.mixpanel_sdk.read_bytes() if options.mixpanel_sdk else None
        self.watch = watch
        self.answered = 0

    def __call__(self, route: Any, request: Any) -> None:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if _is_mixpanel_api(host, parts.path, request):
            self._answer(route, request, parts)
        elif self.sdk is not None and host.endswith("mxpnl.com") and _SDK_PATH.search(parts.path):
            route.fulfill(status=200, body=self.sdk, content_type="application/javascript")
        elif host in self.folders:
            self._serve(route, self.folders[host], parts.path)
        else:
            route.continue_()

    def _answer(self, route: Any, request: Any, parts: Any) -> None:
        self.answered += 1
        headers = {
            "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Headers": "content-type",
        }
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=headers)
            return
        if parts.path.startswith("/track"):
            self.watch.events += [_Event.of(event) for event in _events(request, parts.query)]
        verbose = "verbose=1" in parts.query
        body = '{"status":1}' if verbose else ("{}" if "/decide" in parts.path else "1")
        route.fulfill(status=200, headers=headers, body=body)

    def _serve(self, route: Any, folder: Path, path: str) -> None:
        file = _file_for(folder, path)
        if file is None:
            missing = folder / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"not found"
            route.fulfill(status=404, body=body, content_type="text/html")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=file.read_bytes(), content_type=kind)


def _is_mixpanel_api(host: str, path: str, request: Any) -> bool:
    if host == "mixpanel.com" or host.endswith(".mixpanel.com"):
        return True
    return bool(_API_PATH.match(path)) and request.method in ("POST", "OPTIONS")


def _file_for(folder: Path, path: str) -> Path | None:
    """The file a static host serves for a path: the file, the folder's index.html, or the
    name with .html, never outside the folder."""
    relative = path.lstrip("/")
    root = folder.resolve()
    for candidate in (relative, os.path.join(relative, "index.html"), relative + ".html"):
        file = (folder / candidate).resolve()
        if file.is_file() and (file == root or root in file.parents):
            return file
    return None


def _events(request: Any, query: str) -> list[dict[str, Any]]:
    fields = parse_qs(query)
    try:
        body = (request.post_data_buffer or b"").decode("utf-8")
    except UnicodeDecodeError:
        return []
    if body.lstrip().startswith(("[", "{")):
        fields["data"] = [body]
    else:
        fields.update(parse_qs(body))
    data = (fields.get("data") or [""])[0]
    try:
        decoded = json.loads(data)
    except ValueError:
        try:
            decoded = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
        except (ValueError, binascii.Error):
            return []
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, dict)]


class Journeys:
    """A browser for a run of ``verify``; one fresh context (a new visitor) per journey."""

    def __init__(self, targets: list[Target], settings: Settings, options: Options) -> None:
        self.targets = targets
        self.settings = settings
        self.options = options
        self.answered = 0

    def __enter__(self) -> Journeys:
        self._playwright = sync_playwright().start()
        executable = self.options.browser or os.environ.get("XDLINK_BROWSER")
        rules = ",".join(f"MAP {host} {address}" for host, address in self.options.resolve)
        args = _ARGS + ([f"--host-resolver-rules={rules}"] if rules else [])
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=executable, args=args, headless=not self.options.headed
            )
        except PlaywrightError as exc:
            self._playwright.stop()
            first = str(exc).strip().splitlines()[0]
            raise XdlinkError(
                f"cannot start Chromium ({first}): run `playwright install chromium`, "
                "or pass --browser PATH to an installed Chromium"
            ) from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.browser.close()
        self._playwright.stop()

    def run(self, source: Target, target: Target, folder_link: FolderLink) -> PairResult:
        result = PairResult(source.host, target.host, Status.NOT_JOINED)
        watch = _Watch()
        router = _Router(self.targets, self.options, watch)
        context = self.browser.new_context(ignore_https_errors=True)
        try:
            context.set_default_timeout(self.options.timeout * 1000)
            context.add_init_script(_DEBUG_SWITCH)
            context.route("**/*", router)
            context.on("console", lambda message: _console(watch, message))
            context.on("request", lambda request: _navigation(watch, request))
            context.on("requestfailed", lambda request: _failed(watch, request))
            context.on("response", lambda response: _status(watch, response))
            found = self._find_link(context, source, target, folder_link)
            if found is None:
                result.status = Status.NO_LINK
                result.reason = f"no link from {source.host} to {target.host}"
                return result
            result.page, result.link = found
            _Journey(self, context, watch, source, target, result).run()
        finally:
            self.answered += router.answered
            context.close()
        return result

    def _find_link(
        self, context: Any, source: Target, target: Target, folder_link: FolderLink
    ) -> tuple[str, str] | None:
        if source.folder is not None:
            return folder_link(source, target)
        return _crawl(context, source, target, self.options.pages)


def _console(watch: _Watch, message: Any) -> None:
    location = message.location.get("url", "") if message.location else ""
    watch.console.append((url_host(location), message.text))


def _navigation(watch: _Watch, request: Any) -> None:
    if request.is_navigation_request() and request.frame.parent_frame is None:
        watch.navigations.append(request.url)


def _failed(watch: _Watch, request: Any) -> None:
    error = str(request.failure or "failed")
    parts = urlsplit(request.url)
    if (parts.hostname or "").endswith("mxpnl.com") or _SDK_PATH.search(parts.path):
        watch.sdk_failure = watch.sdk_failure or error
    elif request.is_navigation_request() and request.frame.parent_frame is None:
        watch.failures.append((request.url, error))


def _status(watch: _Watch, response: Any) -> None:
    request = response.request
    if request.is_navigation_request() and request.frame.parent_frame is None:
        watch.statuses[response.url] = response.status


_NET_ERROR = re.compile(r"net::ERR_[A-Z_]+")


def _net_error(error: Exception | str) -> str:
    """The browser's own name of a failed navigation (net::ERR_CONNECTION_REFUSED)."""
    found = _NET_ERROR.search(str(error))
    return found.group() if found else str(error).strip().splitlines()[0]


def _crawl(context: Any, source: Target, target: Target, limit: int) -> tuple[str, str] | None:
    """Visit up to ``limit`` pages of a deployed site, the start page first, for a link."""
    page = context.new_page()
    queue, seen = [source.start], {source.start}
    try:
        while queue and len(seen) - len(queue) < limit:
            url = queue.pop(0)
            try:
                page.goto(url, wait_until="domcontentloaded")
            except PlaywrightError:  # a page that does not load is skipped
                continue
            links: list[str] = page.evaluate(_SITE_LINKS)
            for link in links:
                if url_host(link) == target.host:
                    return page.url, link
                inside = url_host(link) == source.host and link.split("#")[0] not in seen
                if inside and urlsplit(link).scheme in ("http", "https"):
                    seen.add(link.split("#")[0])
                    queue.append(link.split("#")[0])
        return None
    finally:
        page.close()


class _Journey:
    """Click from ``source`` to ``target`` and judge what happened, reason by reason."""

    def __init__(
        self,
        journeys: Journeys,
        context: Any,
        watch: _Watch,
        source: Target,
        target: Target,
        result: PairResult,
    ) -> None:
        self.options = journeys.options
        self.param = journeys.settings.param
        self.domains = journeys.settings.domains
        self.context = context
        self.watch = watch
        self.source = source
        self.target = target
        self.result = result
        self.accepted: set[str] = set()  # the hosts where an --accept selector was clicked

    def run(self) -> None:
        result = self.result
        assert result.page is not None
        assert result.link is not None
        page = self.context.new_page()
        problem = self._open(page, result.page, self.source)
        if not problem:
            self._accept(page, self.source.host)
            problem = self._sender_problem(page)
        if problem:
            result.reason = problem
            return
        landing = self._click(page, result.link)
        if landing is None:
            return
        result.reason = self._landing_problem(landing)
        if not result.reason:
            result.status = Status.JOINED

    def _open(self, page: Any, url: str, site: Target) -> str:
        """Load a page; what went wrong, in the browser's words, or ""."""
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as exc:
            return f"the navigation to {url} failed: {_net_error(exc)}"
        if response is not None and response.status == 404:
            return _not_found(url, site)
        return ""

    def _accept(self, page: Any, host: str) -> None:
        """Click the first element each --accept selector matches, if any (a consent
        banner's accept button); a banner drawn just after load gets a second."""
        deadline = time.monotonic() + min(1.0, self.options.timeout)
        while self.options.accept:
            for selector in self.options.accept:
                try:
                    found = page.locator(selector)
                    if found.count():
                        self._press(found.first)
                        self.accepted.add(host)
                except PlaywrightError:  # a selector the page cannot take
                    continue
            if host in self.accepted or time.monotonic() > deadline:
                return
            page.wait_for_timeout(100)

    def _sender_problem(self, page: Any) -> str:
        host = self.source.host
        problem = self._script_problem(page, host)
        if problem:
            return problem
        state = self._wait_for_sdk(page)
        if state["state"] != "loaded":
            return self._sdk_problem(page, host, state["state"])
        if state["opted_out"]:
            hint = (
                ""
                if host in self.accepted
                else " (a consent banner? pass --accept with the banner's accept button)"
            )
            return f"the visitor has opted out of tracking on {host}: nothing is carried{hint}"
        self.result.sender = {"$device_id": state["device_id"], "distinct_id": state["distinct_id"]}
        return ""

    def _script_problem(self, page: Any, host: str) -> str:
        script = page.evaluate(_SCRIPT_STATE)
        if not script["element"]:
            return (
                f"the xdlink script is missing on {host}: build the site with "
                f"`xdlink build` and --domains {','.join(self.domains)}"
            )
        if not script["ran"]:
            if any(
                "Content Security Policy" in text for at, text in self.watch.console if at == host
            ):
                return (
                    f"the Content-Security-Policy of {host} blocked the xdlink script: "
                    "allow its hash (`xdlink build` prints it) or build with --external"
                )
            return f"the xdlink script on {host} did not run (see the browser console)"
        return ""

    def _wait_for_sdk(self, page: Any) -> dict[str, str]:
        deadline = time.monotonic() + self.options.timeout
        state: dict[str, str] = page.evaluate(_SDK_STATE)
        while state["state"] != "loaded" and time.monotonic() < deadline:
            if self.watch.sdk_failure is not None:  # said now, not after the timeout
                break
            page.wait_for_timeout(100)
            state = page.evaluate(_SDK_STATE)
        return state

    def _click(self, page: Any, href: str) -> Any | None:
        """Click the link as a user would; the page the browser lands on, or None with the
        reason set."""
        marked = page.evaluate(_MARK_LINK, [self.target.host, href])
        if marked is None:
            self.result.reason = f"the link to {href} is not in the page as loaded"
            return None
        link = page.locator("[data-xdlink-verify]").first
        if marked["blank"]:
            with self.context.expect_page() as opened:
                self._press(link)
            landing = opened.value
        else:
            landing = page
            self._press(link)
        host = self.target.host
        deadline = time.monotonic() + self.options.timeout
        try:
            while url_host(landing.url) != host:
                failed = self.watch.failure_to(host)
                if failed is not None:  # said at once, in the browser's words
                    url = _without(failed[0], self.param)
                    self.result.reason = f"the navigation to {url} failed: {failed[1]}"
                    return None
                if time.monotonic() > deadline:
                    raise PlaywrightError("timeout")
                landing.wait_for_timeout(50)
            landing.wait_for_load_state("load")
        except PlaywrightError:  # a timeout, said in plain words
            self.result.reason = f"clicking the link on {self.source.host} did not reach {host}"
            return None
        if self.watch.statuses.get(landing.url) == 404:
            self.result.reason = _not_found(landing.url, self.target)
            return None
        self._accept(landing, host)
        return landing

    def _press(self, link: Any) -> None:
        try:
            link.click(timeout=3000)
        except PlaywrightError:  # a link hidden in a closed menu: click it in script
            link.evaluate("(element) => element.click()")

    def _landing_problem(self, landing: Any) -> str:
        source, target = self.source.host, self.target.host
        decorated = self.watch.lines(source, "xdlink: decorated ")
        to_target = [url for url in self.watch.navigations if url_host(url) == target]
        sent = bool(to_target) and self.param + "=" in to_target[0]
        if not (decorated or sent):
            return (
                f"the link was not decorated at the click: the xdlink script on {source} "
                f"does not list {target} (built with other --domains?)"
            )
        problem = self._script_problem(landing, target)
        if problem:
            return problem
        if self.param + "=" in landing.url:
            return f"the {self.param} parameter is still in {target}'s address bar"
        verdict = self.watch.lines(target, "xdlink: ")
        adopted = [line for line in verdict if line.startswith("adopted ")]
        refused = [line[len("refused ") :] for line in verdict if line.startswith("refused ")]
        if refused:
            return _REFUSED.get(refused[0], refused[0]).format(target=target, source=source)
        held = any(line.startswith("held ") for line in verdict)
        if not adopted and held:
            # Held until the page's Mixpanel starts: a page where none starts says so.
            state = landing.evaluate(_SDK_STATE)["state"]
            if state != "loaded":
                return self._sdk_problem(landing, target, state)
        if not adopted and (held or self._opted_out(landing)) and target not in self.accepted:
            if self.options.accept:
                return (
                    f"Mixpanel on {target} is opted out until consent, and no --accept "
                    f"selector matched there ({', '.join(self.options.accept)})"
                )
            return (
                f"Mixpanel on {target} is opted out until consent: pass --accept with the "
                "banner's accept button"
            )
        if not adopted and sent and self.param + "=" not in to_target[-1]:
            return (
                f"the parameter did not arrive: a redirect on {target} dropped the query "
                f"({to_target[0].split('?')[0]} to {to_target[-1]}): build with --fragment"
            )
        if decorated and not verdict:  # the script speaks on every landing with the parameter
            return f"the parameter did not arrive on {target}"
        return self._compare_ids(landing)

    def _opted_out(self, landing: Any) -> bool:
        state = self._wait_for_sdk(landing)
        return state["state"] == "loaded" and bool(state["opted_out"])

    def _sdk_problem(self, page: Any, host: str, state: str) -> str:
        if state == "absent":
            return f"this page loads no Mixpanel ({page.url}): nothing on {host} to join"
        if self.watch.sdk_failure is not None and self.options.mixpanel_sdk is None:
            return (
                f"the Mixpanel SDK could not be fetched from its CDN (no network?): pass "
                f"--mixpanel-sdk FILE ({host}: {_net_error(self.watch.sdk_failure)})"
            )
        return _sdk_problem(host, state, self.options.mixpanel_sdk is not None)

    def _compare_ids(self, landing: Any) -> str:
        event = self._first_event(landing)
        if event is None:
            state = landing.evaluate(_SDK_STATE)
            if state["state"] != "loaded":
                return self._sdk_problem(landing, self.target.host, state["state"])
            landed = {"$device_id": state["device_id"], "distinct_id": state["distinct_id"]}
        else:
            landed = {"$device_id": event.device_id or "", "distinct_id": event.distinct_id or ""}
        self.result.landing = landed
        if landed != self.result.sender:
            return (
                f"the ids differ: {self.source.host} sent $device_id {self.result.sender}, "
                f"the first event on {self.target.host} carries {landed}"
            )
        return ""

    def _first_event(self, landing: Any) -> _Event | None:
        deadline = time.monotonic() + self.options.timeout
        while True:
            queued = [
                _Event.of(item) for item in landing.evaluate(_QUEUED) if isinstance(item, dict)
            ]
            events = [e for e in [*self.watch.events, *queued] if e.host == self.target.host]
            if events or time.monotonic() > deadline:
                break
            landing.wait_for_timeout(100)
        unique = {event.insert_id or str(index): event for index, event in enumerate(events)}
        return min(unique.values(), key=lambda event: event.time, default=None)


_REFUSED = {
    "expired": (
        "{target} refused the id: expired (more than --ttl seconds between click and landing)"
    ),
    "other-browser": "{target} refused the id: it was made in another browser",
    "referrer": (
        "{target} refused the id: the visit did not come from one of its listed domains "
        "(is {source} in the --domains {target} was built with?)"
    ),
    "opted-out": "{target} adopted nothing: the visitor has opted out there",
    "identified": "{target} adopted nothing: the visitor is already identified there",
    "malformed": "{target} refused the id: the parameter was malformed",
    "doubled": "{target} refused the id: the parameter was given twice",
}


def _without(url: str, param: str) -> str:
    """The URL without xdlink's parameter (in the query or the fragment)."""
    return re.sub(rf"([?&#]){re.escape(param)}=[^&#]*&?", r"\1", url).rstrip("?&#")


def _not_found(url: str, site: Target) -> str:
    hint = " (is the site folder one level too high?)" if site.folder is not None else ""
    return f"{url} answered 404{hint}"


def _sdk_problem(host: str, state: str, has_sdk: bool) -> str:
    if state == "absent":
        return f"no Mixpanel on {host}: no snippet or SDK found in the page"
    if state == "stub":
        hint = "" if has_sdk else " (offline? pass --mixpanel-sdk FILE)"
        return f"the Mixpanel SDK did not load on {host}{hint}"
    return f"the Mixpanel SDK did not initialise on {host} (no mixpanel.init ran)"
