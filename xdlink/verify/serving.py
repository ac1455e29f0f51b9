"""What the browser is answered: built folders under their real host names, Mixpanel's
tracking requests (read, and never sent on), and ``--mixpanel-sdk`` in place of the CDN."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qs, urlsplit

from xdlink.links import url_host
from xdlink.verify.sites import Target, file_for

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

# Mixpanel's API hosts end in mixpanel.com; a proxy (api_host) keeps the API's paths.
_API_PATH = re.compile(r"^/(track|engage|groups|decide|record|flags|settings)(/|$)")
SDK_PATH = re.compile(r"/libs/mixpanel[\w.-]*\.js$")


@dataclass(frozen=True)
class Event:
    """One Mixpanel event as the SDK sent it: the page's host and the visitor's ids."""

    host: str | None
    device_id: str | None
    distinct_id: str | None
    insert_id: str | None
    time: float

    @classmethod
    def of(cls, event: Mapping[str, object]) -> Event:
        """Read an event from its JSON payload."""
        properties = event.get("properties")
        if not isinstance(properties, Mapping):
            properties = {}
        sent_at = properties.get("time")
        return cls(
            url_host(str(properties.get("$current_url", ""))),
            _text(properties.get("$device_id")),
            _text(properties.get("distinct_id")),
            _text(properties.get("$insert_id")),
            float(sent_at) if isinstance(sent_at, int | float | str) and sent_at else 0.0,
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Router:
    """Answer every request of one visitor's browser, and keep the events sent to Mixpanel."""

    def __init__(self, targets: list[Target], mixpanel_sdk: Path | None) -> None:
        self.folders = {target.host: target.folder for target in targets if target.folder}
        self.sdk = mixpanel_sdk.read_bytes() if mixpanel_sdk else None
        self.events: list[Event] = []
        self.answered = 0  # Mixpanel requests answered here

    def __call__(self, route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if _is_mixpanel_api(host, parts.path, request):
            self._answer(route, request, parts)
        elif self.sdk is not None and host.endswith("mxpnl.com") and SDK_PATH.search(parts.path):
            route.fulfill(status=200, body=self.sdk, content_type="application/javascript")
        elif host in self.folders:
            self._serve(route, self.folders[host], parts.path)
        else:
            route.continue_()

    def _answer(self, route: Route, request: Request, parts: SplitResult) -> None:
        """Answer a Mixpanel request as Mixpanel would, keeping the events it carries."""
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
            self.events += [Event.of(event) for event in _events(request, parts.query)]
        verbose = "verbose=1" in parts.query
        body = '{"status":1}' if verbose else ("{}" if "/decide" in parts.path else "1")
        route.fulfill(status=200, headers=headers, body=body)

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
