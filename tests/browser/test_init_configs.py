"""The landing site's own ``mixpanel.init``, as real sites write it: each configuration is
a journey from A to B, compared with the same journey to the same pages of B without
xdlink. B keeps exactly what its SDK alone keeps (the same cookies with the same
lifetime, Secure, SameSite and domain, the same localStorage keys, the same shape of
state), except that the ids are A's; where the SDK keeps nothing, xdlink keeps nothing;
wherever the SDK tracks, its first event carries A's device id. With the SDK blocked, as
an ad blocker blocks it, nothing is kept at all."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest

from tests.browser.harness import SDK, SDK_261, SITE_A, SITE_B, TOKEN, Browsing, Sites

pytestmark = pytest.mark.browser

SHOP = f"shop.{SITE_B}"
OTHER_TOKEN = "fedcba9876543210fedcba9876543210"
STATE = f"mp_{TOKEN}_mixpanel"
LOADED = "window.mixpanel && mixpanel.__loaded"
# A browser whose visitor asks not to be tracked: the header, and what the SDK reads
# (gdpr-utils.js: navigator.doNotTrack, navigator.msDoNotTrack, window.doNotTrack).
DNT_HEADER = {"DNT": "1"}
DNT_SCRIPT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});"
EVERYTHING = "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
# The SDK's file answers 404, as an ad blocker leaves it.
BLOCKED = "blocked"
NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"

# A random part of a stored value (the SDK's tab id, say), of one visitor and not another.
RANDOM = re.compile(r"[\da-f]{4,}")
# The init the harness writes: mixpanel.init("<token>", {<options as JSON>});
INIT = re.compile(r'mixpanel\.init\((?P<token>"[^"]*"), (?P<options>\{.*\})\);')
Form = Callable[[str, str], str]  # (token, options) as the page writes them -> the init


def in_variable(token: str, options: str) -> str:
    return f"var mpConfig = {options};\nmixpanel.init({token}, mpConfig);"


def quote_in_comment(token: str, options: str) -> str:
    return (
        f"mixpanel.init({token}, {{loaded: function (mp) {{ // B's plan: 'pro' later\n"
        f"  /* don't track twice */ }},\n  {options[1:]});"
    )


def loaded_registers(token: str, options: str) -> str:
    return (
        f"mixpanel.init({token}, {{loaded: function (mp) {{ mp.register({{plan: 'pro'}}); }}, "
        f"{options[1:]});"
    )


def on_dom_ready(token: str, options: str) -> str:
    return (
        "document.addEventListener('DOMContentLoaded', function () {\n"
        f"  mixpanel.init({token}, {options});\n}});"
    )


def second_instance(token: str, options: str) -> str:
    return (
        f'mixpanel.init({token}, {options});\nmixpanel.init("{OTHER_TOKEN}", {options}, "second");'
    )


@dataclass(frozen=True)
class Row:
    """One configuration of B's init, and what its SDK does with it."""

    config: dict[str, Any] = field(default_factory=dict)
    form: Form | None = None  # how the page writes the init, if not as a literal call
    host: str = SITE_B
    dnt: bool = False  # the browser sends Do Not Track (A's SDK ignores it: A tracks)
    decision: str = ""  # the visitor's later decision, on B once its SDK has started
    tracks: bool = True  # whether B's SDK sends events (after the decision)
    keeps: bool = True  # whether B's SDK keeps its state (after the decision)
    carries: bool = True  # whether B's first event can carry A's id (False: B keeps nothing)
    state: str = STATE  # where it keeps it


ROWS = {
    "default-cookie": Row(),
    "localStorage": Row({"persistence": "localStorage"}),
    "persistence_name": Row({"persistence_name": "shop"}, state="mp_shop"),
    "cookie_domain": Row({"cookie_domain": SHOP}, host=SHOP),
    "cross_subdomain_cookie-false": Row({"cross_subdomain_cookie": False}, host=SHOP),
    # Served over http, where browsers refuse a Secure cookie, the SDK's as xdlink's.
    "secure_cookie": Row({"secure_cookie": True}, keeps=False, carries=False),
    "session-cookie": Row({"cookie_expiration": 0}),
    "30-day-cookie": Row({"cookie_expiration": 30}),
    "disable_persistence": Row({"disable_persistence": True}, keeps=False),
    "dnt": Row(dnt=True, tracks=False, keeps=False),
    "dnt-ignored": Row({"ignore_dnt": True}, dnt=True),
    "opt-out-undecided": Row({"opt_out_tracking_by_default": True}, tracks=False, keeps=False),
    "opt-out-then-opt-in": Row(
        {"opt_out_tracking_by_default": True}, decision="mixpanel.opt_in_tracking()"
    ),
    "config-in-variable": Row({"persistence": "localStorage"}, form=in_variable),
    "quote-in-comment": Row({"persistence": "localStorage"}, form=quote_in_comment),
    "loaded-registers": Row(form=loaded_registers),
    "named-second-instance": Row(form=second_instance),
    "init-on-DOMContentLoaded": Row(form=on_dom_ready),
    "api_host-proxy": Row({"api_host": "B's own origin"}),
}
STORAGE_ROWS = ("default-cookie", "localStorage", "session-cookie", "disable_persistence")
BLOCKED_ROWS = ("default-cookie", "localStorage", "session-cookie", "disable_persistence")


def head_of(sites: Sites, row: Row, sdk: str) -> str:
    config = dict(row.config)
    if "api_host" in config:
        config["api_host"] = sites.url(row.host).rstrip("/")
    # Where the SDK never tracks, it is held back a second, to see what is kept before it.
    markup = sites.mixpanel(sdk=sdk, delay=0 if row.tracks else 1, **config)
    if row.form is None:
        return markup
    form = row.form
    return INIT.sub(lambda call: form(call["token"], call["options"]), markup, count=1)


@dataclass
class Visit:
    """A journey from A to B: A's device id, B's events, and what B keeps."""

    device: str
    events: list[dict[str, Any]]
    kept: dict[str, Any]
    ids: dict[str, tuple[str, str]]  # storage -> ($device_id, distinct_id) it holds
    kept_at_load: dict[str, Any] | None = None  # with a blocked SDK: just after B's load
    kept_early: str = ""  # where B's SDK never tracks: all B keeps before its SDK starts


def build_sites(sites: Sites, row: Row, sdk: str, xdlink: bool) -> None:
    """A, with a link to B's landing page; B (with xdlink or without) with the row's init,
    and a page without Mixpanel to go on to."""
    sites.server.capture.reset()
    landing = sites.url(row.host, "/landing.html")
    head_a = sites.mixpanel(**({"ignore_dnt": True} if row.dnt else {}))
    sites.build(SITE_A, {"index.html": f'<a id="to-b" href="{landing}">to B</a>'}, head=head_a)
    sites.build(
        row.host,
        {"landing.html": "<p>B</p>"},
        head=head_of(sites, row, sdk),
        files={"next.html": "<!doctype html>\n<title>next</title>\n<p>next</p>\n"},
        xdlink=xdlink,
    )


def journey(browsing: Browsing, sites: Sites, row: Row, sdk: str, xdlink: bool) -> Visit:
    """Open A, click its link to B's landing page (built with xdlink or without), wait for
    B's SDK and the visitor's decision, then go on to a page of B without Mixpanel."""
    build_sites(sites, row, sdk, xdlink)
    context = browsing.context(**({"extra_http_headers": DNT_HEADER} if row.dnt else {}))
    if row.dnt:
        context.add_init_script(DNT_SCRIPT)
    page = context.new_page()
    page.goto(sites.url(SITE_A))
    page.wait_for_function(LOADED)
    device: str = page.evaluate("mixpanel.get_property('$device_id')")
    page.click("#to-b")
    page.wait_for_url(f"http://{row.host}:*/landing.html*", wait_until="domcontentloaded")
    kept_early = ""
    if not row.tracks:
        assert not page.evaluate(LOADED)
        kept_early = page.evaluate(EVERYTHING)
    page.wait_for_load_state("load")
    kept_at_load = None
    if sdk == BLOCKED:
        time.sleep(0.5)
        kept_at_load, _ = kept(context.cookies(), page.evaluate)
    else:
        page.wait_for_function(LOADED)
    if row.decision:
        page.evaluate(row.decision)
    events = first_events(sites, row) if row.tracks and sdk != BLOCKED else settled(sites, row)
    page.goto(sites.url(row.host, "/next.html"))
    stored, ids = kept(context.cookies(), page.evaluate)
    return Visit(device, events, stored, ids, kept_at_load, kept_early)


def first_events(sites: Sites, row: Row) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while not (events := sites.events(row.host, "/landing.html")):
        assert time.monotonic() < deadline, f"no event from {row.host}"
        time.sleep(0.05)
    return events


def settled(sites: Sites, row: Row) -> list[dict[str, Any]]:
    """B's events after a second: none is expected."""
    time.sleep(1)
    return sites.events(row.host)


def kept(
    cookies: list[dict[str, Any]], evaluate: Callable[[str], Any]
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """What B's origin keeps (``cookies`` as Playwright lists them; ``evaluate`` runs an
    expression on a page of B), in a form two visitors can be compared by: each cookie with
    the shape of its value and its attributes (its lifetime in whole days, or "session"),
    each localStorage and sessionStorage key with the shape of its value; and apart, the
    ids each holds."""
    now = time.time()
    found: dict[str, Any] = {}
    values: dict[str, str] = {}
    for cookie in cookies:
        if not cookie["domain"].lstrip(".").endswith(SITE_B):
            continue
        expires = cookie["expires"]
        lifetime = "session" if expires < 0 else round((expires - now) / 86400)
        where = f"cookie {cookie['name']}"
        values[where] = unquote(cookie["value"])
        attributes = (cookie["domain"], cookie["path"], lifetime, cookie["secure"])
        found[where] = (shape(values[where]), *attributes, cookie["sameSite"])
    for area in ("localStorage", "sessionStorage"):
        for key, value in evaluate(f"Object.entries({area})"):
            values[f"{area} {key}"] = value
            found[f"{area} {key}"] = shape(value)
    ids = {}
    for where, value in values.items():
        state = state_of(value)
        if state is not None and "$device_id" in state:
            ids[where] = (state["$device_id"], state.get("distinct_id", ""))
    return found, ids


def state_of(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def shape(text: str) -> Any:
    """A stored value as two visitors of the same site share it: a JSON object's keys with
    the type of each value (and the form of its distinct_id), any other value without its
    random parts."""
    state = state_of(text)
    if state is None:
        return RANDOM.sub("<random>", text)
    form = {"distinct_id": str(state.get("distinct_id", "")).startswith("$device:")}
    return {key: type(value).__name__ for key, value in state.items()} | form


def compare(row: Row, journey: Callable[[bool], Visit]) -> tuple[Visit, Visit]:
    """The journey with xdlink and without (``journey(xdlink)``); what both keep is the
    same."""
    joined, alone = journey(True), journey(False)
    assert joined.kept == alone.kept
    assert alone.device not in [ids[0] for ids in alone.ids.values()]
    return joined, alone


def storage_of(row: Row, visit: Visit) -> tuple[str, str]:
    """The ids in the state of B's default instance."""
    area = "localStorage" if row.config.get("persistence") == "localStorage" else "cookie"
    return visit.ids[f"{area} {row.state}"]


def assert_joined_like_the_sdk(row: Row, joined: Visit, alone: Visit) -> None:
    """Where B's SDK keeps its state, it holds A's ids; where it keeps nothing, nothing of
    A's is kept, before the SDK starts either; where it tracks, its first event is A's."""
    if row.keeps:
        assert storage_of(row, joined) == (joined.device, "$device:" + joined.device)
        assert storage_of(row, alone)[0] != alone.device
    else:
        assert joined.device not in json.dumps(joined.kept | joined.ids) + joined.kept_early
    if row.tracks and row.carries:
        assert joined.events[0]["$device_id"] == joined.device, joined.events[0]
        assert joined.events[0]["distinct_id"] == "$device:" + joined.device
        assert alone.events[0]["$device_id"] != alone.device
    elif row.carries:
        assert joined.events == alone.events == []


def assert_nothing_kept(joined: Visit, alone: Visit) -> None:
    """With B's SDK blocked: nothing kept, at B's load event or after it."""
    assert joined.kept_at_load == alone.kept_at_load == {}
    assert joined.kept == {}
    assert joined.events == []


CASES = [pytest.param(row, SDK, id=name) for name, row in ROWS.items()] + [
    pytest.param(ROWS[name], SDK_261, id=f"{name}-2.61") for name in STORAGE_ROWS
]


@pytest.mark.parametrize(("row", "sdk"), CASES)
def test_b_keeps_what_its_sdk_keeps(browsing: Browsing, sites: Sites, row: Row, sdk: str) -> None:
    joined, alone = compare(row, lambda xdlink: journey(browsing, sites, row, sdk, xdlink))
    assert_joined_like_the_sdk(row, joined, alone)


@pytest.mark.parametrize("name", BLOCKED_ROWS)
def test_a_blocked_sdk_keeps_nothing(browsing: Browsing, sites: Sites, name: str) -> None:
    row = ROWS[name]
    joined, alone = compare(row, lambda xdlink: journey(browsing, sites, row, BLOCKED, xdlink))
    assert_nothing_kept(joined, alone)
    browsing.errors[:] = [error for error in browsing.errors if not error.endswith(NOT_FOUND)]
