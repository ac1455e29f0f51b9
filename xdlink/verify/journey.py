"""The click and the landing: one visitor clicks from a site to another, and what became of
the visitor's ids is judged, reason by reason.

What the xdlink script decided is read from its debug lines in the console
(``localStorage.xdlink_debug``, which the browser sets for every site).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

from xdlink.links import url_host
from xdlink.sdks import Sdk
from xdlink.settings import Settings
from xdlink.verify.analytics import PROBES, SdkState, names, states
from xdlink.verify.browser import ChromiumBrowser, Watch, net_error
from xdlink.verify.diagnoses import REFUSALS, SDK_REFUSALS, Diagnosis, VerifyFailure
from xdlink.verify.results import PairResult, Status
from xdlink.verify.serving import Event, Router, json_objects
from xdlink.verify.sites import Target

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

_SCRIPT_STATE = """() => ({element: !!document.querySelector('script[data-xdlink]'),
                         ran: !!window.xdlink})"""
# Mixpanel's batch queue (batch_requests, the default) holds events until it flushes them.
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


class Journeys:
    """Every journey of a run, each one a new visitor in the same browser."""

    def __init__(self, browser: ChromiumBrowser, targets: list[Target], settings: Settings) -> None:
        self.browser = browser
        self.targets = targets
        self.settings = settings
        self.options = browser.options
        self.answered = dict.fromkeys(Sdk, 0)  # requests answered in the browser, by SDK

    def run(self, source: Target, target: Target) -> PairResult:
        """Check the journey from one site to the other; a failure becomes the pair's reason."""
        result = PairResult(source.host, target.host, Status.NOT_JOINED)
        try:
            source.check_start_page()  # said before a browser is opened
            target.check_start_page()
            self._travel(source, target, result)
        except VerifyFailure as failure:
            result.reason = failure.reason
        return result

    def _travel(self, source: Target, target: Target, result: PairResult) -> None:
        watch = Watch()
        router = Router(self.targets, self.options.mixpanel_sdk, self.options.posthog_sdk)
        try:
            with self.browser.visitor(watch, router) as context:
                found = self._find_link(context, source, target)
                if found is None:
                    result.status = Status.NO_LINK
                    result.reason = Diagnosis.NO_LINK.say(source=source.host, target=target.host)
                    return
                result.page, result.link = found
                _Journey(self, context, watch, router, source, target, result).run()
                result.status = Status.JOINED
        finally:
            for sdk, count in router.answered.items():
                self.answered[sdk] += count

    def _find_link(
        self, context: BrowserContext, source: Target, target: Target
    ) -> tuple[str, str] | None:
        if source.folder is not None:
            return source.folder_link(target)
        return _crawl(context, source, target, self.options.pages)


def _crawl(
    context: BrowserContext, source: Target, target: Target, limit: int
) -> tuple[str, str] | None:
    """Visit up to ``limit`` pages of a deployed site, the start page first, for a link to
    the target; return the page's address and the link, or None."""
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
    """Click from ``source`` to ``target`` as a visitor would; raise the first reason the
    visitor was not carried."""

    def __init__(
        self,
        journeys: Journeys,
        context: BrowserContext,
        watch: Watch,
        router: Router,
        source: Target,
        target: Target,
        result: PairResult,
    ) -> None:
        self.options = journeys.options
        self.param = journeys.settings.param
        self.domains = journeys.settings.domains
        self.context = context
        self.watch = watch
        self.router = router
        self.source = source
        self.target = target
        self.result = result  # where the ids seen on each side are written as they are read
        self.accepted: set[str] = set()  # the hosts where an --accept selector was clicked
        self.sdks: list[Sdk] = []  # the SDKs the first site starts

    def run(self) -> None:
        assert self.result.page is not None
        assert self.result.link is not None
        page = self.context.new_page()
        self._open(page, self.result.page, self.source)
        self._accept(page, self.source.host)
        self._check_sender(page)
        landing = self._click(page, self.result.link)
        self._check_landing(landing)

    def _open(self, page: Page, url: str, site: Target) -> None:
        """Load a page, or fail in the browser's words."""
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as exc:
            raise VerifyFailure(
                Diagnosis.NAVIGATION_FAILED, url=url, error=net_error(exc)
            ) from None
        if response is not None and response.status == 404:
            raise _not_found(url, site)

    def _accept(self, page: Page, host: str) -> None:
        """Click the first element each --accept selector matches, if any (a consent
        banner's accept button); a banner drawn just after the load gets a second chance."""
        deadline = time.monotonic() + min(1.0, self.options.timeout)
        while self.options.accept:
            for selector in self.options.accept:
                try:
                    found = page.locator(selector)
                    if found.count():
                        _press(found.first)
                        self.accepted.add(host)
                except PlaywrightError:  # a selector the page cannot take
                    continue
            if host in self.accepted or time.monotonic() > deadline:
                return
            page.wait_for_timeout(100)

    def _check_sender(self, page: Page) -> None:
        """Check the first site: its script ran, and each SDK it starts has a visitor to
        carry."""
        host = self.source.host
        self._check_script(page, host)
        found = self._wait_for_sdks(page)
        if not found:
            raise VerifyFailure(Diagnosis.PAGE_WITHOUT_SDK, url=page.url, host=host)
        for state in found.values():
            if not state.loaded:
                raise self._sdk_failure(state, host)
            if state.opted_out:
                accepted = host in self.accepted
                opted_out = (
                    Diagnosis.SENDER_OPTED_OUT_AFTER_ACCEPT
                    if accepted
                    else Diagnosis.SENDER_OPTED_OUT
                )
                raise VerifyFailure(opted_out, sdk=state.sdk.value, host=host)
        self.sdks = list(found)
        self.result.sender = {state.sdk.value: state.ids for state in found.values()}

    def _check_script(self, page: Page, host: str) -> None:
        """Check that the page holds the xdlink script and that it ran."""
        script: dict[str, bool] = page.evaluate(_SCRIPT_STATE)
        if not script["element"]:
            domains = ",".join(self.domains)
            raise VerifyFailure(Diagnosis.SCRIPT_MISSING, host=host, domains=domains)
        if script["ran"]:
            return
        console = [text for at, text in self.watch.console if at == host]
        if any("Content Security Policy" in text for text in console):
            raise VerifyFailure(Diagnosis.SCRIPT_BLOCKED_BY_CSP, host=host)
        raise VerifyFailure(Diagnosis.SCRIPT_DID_NOT_RUN, host=host)

    def _wait_for_sdks(self, page: Page) -> dict[Sdk, SdkState]:
        """Wait for the SDKs the page starts to load, until the timeout or an SDK's fetch
        fails; return each one's state."""
        deadline = time.monotonic() + self.options.timeout
        found = states(page)
        while not (found and all(state.loaded for state in found.values())):
            if time.monotonic() > deadline or self._fetch_failed(found):
                break  # a failed fetch is said now, not after the timeout
            page.wait_for_timeout(100)
            found = states(page)
        return found

    def _fetch_failed(self, found: dict[Sdk, SdkState]) -> bool:
        failed = self.watch.sdk_failures
        return any(sdk in failed for sdk in found) or (not found and bool(failed))

    def _click(self, page: Page, href: str) -> Page:
        """Click the link as a user would, and return the page the browser lands on."""
        marked: dict[str, object] | None = page.evaluate(_MARK_LINK, [self.target.host, href])
        if marked is None:
            raise VerifyFailure(Diagnosis.LINK_NOT_IN_PAGE, href=href)
        link = page.locator("[data-xdlink-verify]").first
        if marked["blank"]:
            with self.context.expect_page() as opened:
                _press(link)
            landing = opened.value
        else:
            landing = page
            _press(link)
        host = self.target.host
        try:
            self._wait_for_host(landing, host)
            landing.wait_for_load_state("load")
        except PlaywrightError:  # a timeout, said in plain words
            raise self._not_arrived() from None
        if self.watch.statuses.get(landing.url) == 404:
            raise _not_found(landing.url, self.target)
        self._accept(landing, host)
        return landing

    def _wait_for_host(self, landing: Page, host: str) -> None:
        """Wait until the page's address is on the host; a failed navigation is said at once,
        in the browser's words."""
        deadline = time.monotonic() + self.options.timeout
        while url_host(landing.url) != host:
            failed = self.watch.failure_to(host)
            if failed is not None:
                url, error = _without(failed[0], self.param), failed[1]
                raise VerifyFailure(Diagnosis.NAVIGATION_FAILED, url=url, error=error)
            if time.monotonic() > deadline:
                raise self._not_arrived()
            landing.wait_for_timeout(50)

    def _not_arrived(self) -> VerifyFailure:
        return VerifyFailure(
            Diagnosis.CLICK_DID_NOT_ARRIVE, source=self.source.host, target=self.target.host
        )

    def _check_landing(self, landing: Page) -> None:
        """Check the landing: the link was decorated, the script there took the value, and
        for each SDK both sites start, the first event there carries the first site's ids."""
        source, target = self.source.host, self.target.host
        decorated = self.watch.lines(source, "xdlink: decorated ")
        to_target = [url for url in self.watch.navigations if url_host(url) == target]
        sent = bool(to_target) and self.param + "=" in to_target[0]
        if not (decorated or sent):
            raise VerifyFailure(Diagnosis.NOT_DECORATED, source=source, target=target)
        self._check_script(landing, target)
        if self.param + "=" in landing.url:
            raise VerifyFailure(
                Diagnosis.PARAMETER_LEFT_IN_ADDRESS, param=self.param, target=target
            )
        verdict = self.watch.lines(target, "xdlink: ")
        refused = [line[len("refused ") :] for line in verdict if line.startswith("refused ")]
        about_link = [word for word in refused if word not in SDK_REFUSALS]
        if about_link:
            diagnosis = REFUSALS.get(about_link[0], Diagnosis.REFUSED_UNKNOWN)
            raise VerifyFailure(diagnosis, target=target, source=source, word=about_link[0])
        sdks = self._landing_sdks(landing)
        self.result.sdks = [sdk.value for sdk in sdks]
        for sdk in sdks:
            self._check_adoption(landing, sdk, verdict, to_target[-1] if sent else "")
        if decorated and not verdict:  # the script speaks on every landing with the parameter
            raise VerifyFailure(Diagnosis.PARAMETER_DID_NOT_ARRIVE, target=target)
        for sdk in sdks:
            self._compare_ids(landing, sdk)

    def _landing_sdks(self, landing: Page) -> list[Sdk]:
        """The SDKs to check on the landing page: those both sites start, each loaded."""
        target = self.target.host
        found = self._wait_for_sdks(landing)
        if not found:
            raise VerifyFailure(Diagnosis.PAGE_WITHOUT_SDK, url=landing.url, host=target)
        common = [sdk for sdk in self.sdks if sdk in found]
        if not common:
            raise VerifyFailure(
                Diagnosis.NO_SDK_IN_COMMON,
                source=self.source.host,
                sent=names(self.sdks),
                target=target,
                landed=names(found),
                url=landing.url,
            )
        for sdk in common:
            if not found[sdk].loaded:
                raise self._sdk_failure(found[sdk], target)
        return common

    def _check_adoption(self, landing: Page, sdk: Sdk, verdict: list[str], arrived: str) -> None:
        """Say why the SDK's visitor was not adopted on landing, if the script said so: a
        refusal of its own, consent not given, or a redirect that dropped the parameter
        (``arrived``: the last address the browser was sent to, if the link carried it)."""
        target = self.target.host
        adopted = [line[len("adopted ") :] for line in verdict if line.startswith("adopted ")]
        # Each SDK's module names the id it adopted: the sender's $device_id.
        sender_id = self.result.sender[sdk.value].get("$device_id")
        if sender_id in adopted or (adopted and len(self.result.sdks) == 1):
            return
        own = [line[len("refused ") :] for line in verdict if line.startswith("refused ")]
        if own:
            raise VerifyFailure(REFUSALS[own[0]], sdk=sdk.value, target=target)
        held = any(line.startswith("held ") for line in verdict)
        if (held or PROBES[sdk].on(landing).opted_out) and target not in self.accepted:
            if self.options.accept:
                selectors = ", ".join(self.options.accept)
                raise VerifyFailure(
                    Diagnosis.CONSENT_SELECTOR_UNMATCHED,
                    sdk=sdk.value,
                    target=target,
                    selectors=selectors,
                )
            raise VerifyFailure(Diagnosis.CONSENT_NOT_GIVEN, sdk=sdk.value, target=target)
        if arrived and self.param + "=" not in arrived:
            navigations = [url for url in self.watch.navigations if url_host(url) == target]
            raise VerifyFailure(
                Diagnosis.QUERY_DROPPED_BY_REDIRECT,
                target=target,
                sent=navigations[0].split("?")[0],
                landed=arrived,
            )

    def _sdk_failure(self, state: SdkState, host: str) -> VerifyFailure:
        """Say why an SDK on a page is not loaded: its CDN out of reach, an SDK that did not
        load or an SDK that was never initialised."""
        probe = PROBES[state.sdk]
        local = self.options.sdk_file(state.sdk)
        named = {"sdk": state.sdk.value, "option": probe.option, "host": host}
        failure = self.watch.sdk_failures.get(state.sdk)
        if failure is not None and local is None:
            return VerifyFailure(Diagnosis.SDK_NOT_FETCHED, error=net_error(failure), **named)
        if state.state == "stub":
            offline = Diagnosis.SDK_NOT_LOADED_OFFLINE
            return VerifyFailure(Diagnosis.SDK_NOT_LOADED if local else offline, **named)
        return VerifyFailure(Diagnosis.SDK_NOT_INITIALISED, init=probe.init, **named)

    def _compare_ids(self, landing: Page, sdk: Sdk) -> None:
        """Check that the SDK's first event on the landing site carries the first site's ids
        (the SDK's own ids when no event came)."""
        probe = PROBES[sdk]
        event = self._first_event(landing, sdk)
        if event is None:
            state = probe.on(landing)
            if not state.loaded:
                raise self._sdk_failure(state, self.target.host)
            landed, what = state.ids, "the loaded SDK (no event came)"
        else:
            landed, what = event.ids, probe.first_event
        expected = probe.expected(self.result.sender[sdk.value])
        self.result.landing[sdk.value] = {key: landed.get(key, "") for key in expected}
        self.result.evidence[sdk.value] = what
        for key, value in expected.items():
            if landed.get(key, "") != value:
                raise VerifyFailure(
                    Diagnosis.IDS_DIFFER,
                    sdk=sdk.value,
                    event=what,
                    target=self.target.host,
                    key=key,
                    landed=landed.get(key, ""),
                    source=self.source.host,
                    sent=value,
                )

    def _first_event(self, landing: Page, sdk: Sdk) -> Event | None:
        """Wait for the SDK's first event from the landing site (Mixpanel's: any, sent or
        still queued; PostHog's: its $pageview), and return the earliest."""
        deadline = time.monotonic() + self.options.timeout
        while True:
            queued = []
            if sdk is Sdk.MIXPANEL:
                queued = [Event.of(item) for item in json_objects(landing.evaluate(_QUEUED))]
            events = [
                event
                for event in [*self.router.events, *queued]
                if event.sdk is sdk
                and event.host == self.target.host
                and (sdk is Sdk.MIXPANEL or event.name == "$pageview")
            ]
            if events or time.monotonic() > deadline:
                break
            landing.wait_for_timeout(100)
        unique = {event.insert_id or str(index): event for index, event in enumerate(events)}
        return min(unique.values(), key=lambda event: event.time, default=None)


def _press(link: Locator) -> None:
    """Click a link; one hidden in a closed menu is clicked in script."""
    try:
        link.click(timeout=3000)
    except PlaywrightError:
        link.evaluate("(element) => element.click()")


def _without(url: str, param: str) -> str:
    """Return the URL without xdlink's parameter (in the query or the fragment)."""
    return re.sub(rf"([?&#]){re.escape(param)}=[^&#]*&?", r"\1", url).rstrip("?&#")


def _not_found(url: str, site: Target) -> VerifyFailure:
    if site.folder is not None:
        return VerifyFailure(Diagnosis.NOT_FOUND_IN_FOLDER, url=url)
    return VerifyFailure(Diagnosis.NOT_FOUND, url=url)
