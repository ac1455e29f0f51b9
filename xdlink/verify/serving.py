"""What the browser is answered: built folders under their real host names, Mixpanel's and
PostHog's requests (their events read, and nothing sent on), and ``--mixpanel-sdk`` and
``--posthog-sdk`` in place of their CDNs."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import mimetypes
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qs, urlsplit

from xdlink.links import url_host
from xdlink.sdks import Sdk
from xdlink.verify.sites import Target, file_for

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

# Mixpanel's API hosts end in mixpanel.com; a proxy (api_host) keeps the API's paths.
_API_PATH = re.compile(r"^/(track|engage|groups|decide|record|flags|settings)(/|$)")
SDK_PATH = re.compile(r"/libs/mixpanel[\w.-]*\.js$")
# PostHog's hosts end in posthog.com (us.i.posthog.com, us-assets.i.posthog.com); a proxy
# (api_host on the site's own domain, under any path) keeps the API's paths. Its snippet
# loads <api_host>/static/array.js; the SDK loads its other scripts from static/ lazily.
POSTHOG_SDK_PATH = re.compile(r"(^|/)static/array\.js$")
_POSTHOG_STATIC = re.compile(r"(^|/)static/(?:[\w.-]+/)*(?P<name>[\w.-]+\.js)$")
_POSTHOG_CAPTURE = re.compile(r"(^|/)(e|i/v0/e|batch|capture|s|i/v0/s)/?$")
_POSTHOG_FLAGS = re.compile(r"(^|/)(flags|decide)/?$")
_POSTHOG_CONFIG = re.compile(r"(^|/)array/(?P<key>[\w-]+)/config(?P<js>\.js)?$")
# What PostHog answers for a project with no flags, no surveys and no site apps.
_POSTHOG_NO_FLAGS = json.dumps(
    {"flags": {}, "featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": False}
)


@dataclass(frozen=True)
class Event:
    """One event as an SDK sent it: its SDK and name, the page's host and the visitor's ids."""

    sdk: Sdk
    name: str
    host: str | None
    ids: dict[str, str]  # distinct_id, $device_id and (PostHog) $session_id, as sent
    insert_id: str | None
    time: float

    @classmethod
    def of(cls, event: Mapping[str, object]) -> Event:
        """Read a Mixpanel event from its JSON payload."""
        properties = _properties(event)
        return cls(
            Sdk.MIXPANEL,
            str(event.get("event", "")),
            url_host(str(properties.get("$current_url", ""))),
            _ids(properties, ("$device_id", "distinct_id")),
            _text(properties.get("$insert_id")),
            _seconds(properties.get("time")),
        )

    @classmethod
    def of_posthog(cls, event: Mapping[str, object]) -> Event:
        """Read a PostHog event from its JSON payload."""
        properties = _properties(event)
        return cls(
            Sdk.POSTHOG,
            str(event.get("event", "")),
            url_host(str(properties.get("$current_url", ""))),
            _ids(properties, ("distinct_id", "$device_id", "$session_id")),
            _text(event.get("uuid")),
            _seconds(properties.get("$time")),
        )


def _properties(event: Mapping[str, object]) -> Mapping[str, object]:
    properties = event.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _ids(properties: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, str]:
    return {key: str(properties.get(key) or "") for key in keys}


def _seconds(value: object) -> float:
    try:
        return float(value) if isinstance(value, int | float | str) and value else 0.0
    except ValueError:
        return 0.0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Router:
    """Answer every request of one visitor's browser, and keep the events sent to Mixpanel
    and PostHog."""

    def __init__(
        self, targets: list[Target], mixpanel_sdk: Path | None, posthog_sdk: Path | None
    ) -> None:
        self.folders = {target.host: target.folder for target in targets if target.folder}
        self.sdk = mixpanel_sdk.read_bytes() if mixpanel_sdk else None
        self.posthog_sdk = posthog_sdk
        self.events: list[Event] = []
        self.answered = dict.fromkeys(Sdk, 0)  # requests answered here, by SDK

    def __call__(self, route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if _is_posthog(host, parts, request):
            self._answer_posthog(route, request, parts)
        elif _is_mixpanel_api(host, parts.path, request):
            self._answer(route, request, parts)
        elif self.sdk is not None and host.endswith("mxpnl.com") and SDK_PATH.search(parts.path):
            route.fulfill(status=200, body=self.sdk, content_type="application/javascript")
        elif self.posthog_sdk is not None and _is_posthog_script(host, parts.path):
            self._serve_posthog_script(route, parts.path)
        elif host in self.folders:
            self._serve(route, self.folders[host], parts.path)
        else:
            route.continue_()

    def _answer(self, route: Route, request: Request, parts: SplitResult) -> None:
        """Answer a Mixpanel request as Mixpanel would, keeping the events it carries."""
        self.answered[Sdk.MIXPANEL] += 1
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=_cors(request))
            return
        if parts.path.startswith("/track"):
            self.events += [Event.of(event) for event in _events(request, parts.query)]
        verbose = "verbose=1" in parts.query
        body = '{"status":1}' if verbose else ("{}" if "/decide" in parts.path else "1")
        route.fulfill(status=200, headers=_cors(request), body=body)

    def _answer_posthog(self, route: Route, request: Request, parts: SplitResult) -> None:
        """Answer a PostHog API request as PostHog would for a project with nothing set up
        (no flags, surveys or site apps), keeping the events it carries."""
        self.answered[Sdk.POSTHOG] += 1
        headers = _cors(request)
        config = _POSTHOG_CONFIG.search(parts.path)
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=headers)
        elif config and config["js"]:
            key = json.dumps(config["key"])
            script = (
                "(window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {})"
                f"[{key}] = {{config: {{token: {key}, hasFeatureFlags: false}}, siteApps: []}};"
            )
            route.fulfill(status=200, headers=headers, body=script, content_type="text/javascript")
        elif config:
            route.fulfill(status=200, headers=headers, json={"hasFeatureFlags": False})
        elif _POSTHOG_FLAGS.search(parts.path):
            route.fulfill(
                status=200, headers=headers, body=_POSTHOG_NO_FLAGS, content_type="application/json"
            )
        elif "/api/surveys" in parts.path:
            route.fulfill(status=200, headers=headers, json={"surveys": []})
        else:
            events = posthog_events(request.post_data_buffer or b"")
            self.events += [Event.of_posthog(event) for event in events]
            route.fulfill(status=200, headers=headers, json={"status": 1})

    def _serve_posthog_script(self, route: Route, path: str) -> None:
        """Serve --posthog-sdk for the snippet's static/array.js, and the scripts the SDK
        loads lazily (surveys.js, recorder.js...) from the same folder, empty if absent."""
        assert self.posthog_sdk is not None
        found = _POSTHOG_STATIC.search(path)
        name = found["name"] if found else ""
        file = self.posthog_sdk if POSTHOG_SDK_PATH.search(path) else self.posthog_sdk.parent / name
        body = file.read_bytes() if name and file.is_file() else b""
        route.fulfill(status=200, body=body, content_type="application/javascript")

    def _serve(self, route: Route, folder: Path, path: str) -> None:
        """Serve a file of a built folder as a static host would, its 404 page included."""
        file = file_for(folder, path)
        if file is None:
            missing = folder / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"not found"
            route.fulfill(status=404, body=body, content_type="text/html")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=file.read_bytes(), content_type=kind)


def _cors(request: Request) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Headers": "content-type",
    }


def is_posthog_host(host: str) -> bool:
    return host == "posthog.com" or host.endswith(".posthog.com")


def _is_posthog_script(host: str, path: str) -> bool:
    """A script of posthog-js: the snippet's static/array.js wherever api_host points, and
    anything under static/ on PostHog's own hosts."""
    if is_posthog_host(host):
        return bool(_POSTHOG_STATIC.search(path))
    return bool(POSTHOG_SDK_PATH.search(path))


def _is_posthog(host: str, parts: SplitResult, request: Request) -> bool:
    """A request to PostHog's API: any on its hosts but its scripts, elsewhere (a proxy) an
    event sent, the flags (asked with ?v=) or the remote config."""
    if is_posthog_host(host):
        return not _POSTHOG_STATIC.search(parts.path)
    if _POSTHOG_CONFIG.search(parts.path):
        return True
    if _POSTHOG_FLAGS.search(parts.path) and "v" in parse_qs(parts.query):
        return True
    return request.method in ("POST", "OPTIONS") and bool(_POSTHOG_CAPTURE.search(parts.path))


def _is_mixpanel_api(host: str, path: str, request: Request) -> bool:
    if host == "mixpanel.com" or host.endswith(".mixpanel.com"):
        return True
    return bool(_API_PATH.match(path)) and request.method in ("POST", "OPTIONS")


def _events(request: Request, query: str) -> list[Mapping[str, object]]:
    """Read the events of a tracking request: JSON or base64 JSON, in the body or the query."""
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
    return json_objects(decoded)


def json_objects(decoded: object) -> list[Mapping[str, object]]:
    """Return the JSON objects of a decoded value: itself, or the objects of a list."""
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, dict)]


def posthog_events(body: bytes) -> list[dict[str, object]]:
    """The events in one PostHog request body: gzip (compression=gzip-js), a form field
    ``data`` holding base64 JSON (compression=base64, sendBeacon), or plain JSON; one
    event, a list, or a ``{"batch": [...]}``."""
    try:
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        text = body.decode("utf-8")
        if text.startswith("data="):
            data = parse_qs(text)["data"][0]
            text = base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")
        decoded = json.loads(text) if text else []
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, binascii.Error, ValueError):
        return []
    if isinstance(decoded, dict):
        decoded = decoded.get("batch", [decoded])
    items = decoded if isinstance(decoded, list) else []
    return [item for item in items if isinstance(item, dict) and "event" in item]
