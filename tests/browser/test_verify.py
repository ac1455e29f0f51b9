"""`xdlink verify` as a user runs it: a subprocess, real Chromium, the real Mixpanel SDK and
the real posthog-js.

The sites are fixtures/verify/ (shop.example and docs.example.org), copied and built by
`xdlink build` for each test, then broken one way or another to see each reason. The
PostHog tests give their pages PostHog's official snippet and an init as a site writes it
(PostHog's own api_host, no setting made for tests), beside Mixpanel's or in its place.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM,
    NODE_MODULES,
    POSTHOG,
    POSTHOG_RELEASES,
    POSTHOG_SNIPPET_PATH,
    ROOT,
    SDK,
    require,
)
from tools.capture import serving

SITES = ROOT / "fixtures" / "verify"
SHOP, DOCS = "shop.example", "docs.example.org"
DOMAINS = f"{SHOP},{DOCS}"
SDK_FILE = NODE_MODULES / SDK / "dist" / "mixpanel.min.js"
POSTHOG_KEY = "phc_verify0123456789abcdefghijklmnopqrstuvwx"
MIXPANEL_SCRIPT = re.compile(r"<script type=\"text/javascript\">.*?</script>", re.S)


def posthog_file(release: str = POSTHOG) -> Path:
    return NODE_MODULES / release / "dist" / "array.js"


@pytest.fixture
def sites(tmp_path: Path) -> dict[str, Path]:
    require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    require(SDK_FILE.exists(), "js/node_modules is missing: run `npm ci` in js/")
    pytest.importorskip("playwright")
    shutil.copytree(SITES, tmp_path / "sites")
    return {SHOP: tmp_path / "sites" / "shop", DOCS: tmp_path / "sites" / "docs"}


def xdlink(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "xdlink", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def build(folder: Path, *options: str) -> None:
    built = xdlink("build", folder, "--domains", DOMAINS, *options)
    assert built.returncode == 0, built.stdout + built.stderr


def verify(*args: str | Path, posthog: str = POSTHOG) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = xdlink(
        "verify", *args, "--browser", CHROMIUM, "--mixpanel-sdk", SDK_FILE,
        "--posthog-sdk", posthog_file(posthog), "--timeout", "5",
    )  # fmt: skip
    # The time of a whole run, for the record (the brief asks under 15 s for two domains).
    sys.stderr.write(f"\nxdlink verify took {time.monotonic() - started:.1f} s\n")
    return result


def verify_sites(
    sites: dict[str, Path], *args: str, posthog: str = POSTHOG
) -> subprocess.CompletedProcess[str]:
    sites_given = (f"--site={host}={folder}" for host, folder in sites.items())
    return verify(*sites_given, *args, posthog=posthog)


def pair_line(result: subprocess.CompletedProcess[str], source: str, target: str) -> str:
    prefix = f"{source} -> {target}: "
    lines = [line for line in result.stdout.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0][len(prefix) :]


def test_built_sites_join_both_ways(sites: dict[str, Path]) -> None:
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 0, result.stdout + result.stderr
    link = "link on https://shop.example/pricing/ to https://docs.example.org/guide/"
    assert pair_line(result, SHOP, DOCS) == f"joined in Mixpanel ({link})"
    back = "link on https://docs.example.org/guide/ to https://shop.example/pricing/"
    assert pair_line(result, DOCS, SHOP) == f"joined in Mixpanel ({back})"
    assert "nothing was sent to Mixpanel or PostHog" in result.stdout
    assert f"{SHOP}: links to {DOCS}: 1 on 1 pages" in result.stdout

    report = json.loads(verify_sites(sites, "--format", "json").stdout)
    assert report["exit_code"] == 0
    assert report["sent_to_mixpanel"] == 0
    assert report["answered_in_browser"]["Mixpanel"] > 0
    for pair in report["pairs"]:
        assert pair["status"] == "joined"
        assert pair["sdks"] == ["Mixpanel"]
        device = pair["sender"]["Mixpanel"]["$device_id"]
        assert re.fullmatch(r"[0-9a-f-]{36}", device)
        assert (
            pair["landing"]["Mixpanel"]
            == pair["sender"]["Mixpanel"]
            == {
                "$device_id": device,
                "distinct_id": f"$device:{device}",
            }
        )
        assert pair["evidence"] == {"Mixpanel": "the first event"}


def test_sites_without_xdlink_do_not_join(sites: dict[str, Path]) -> None:
    build(sites[SHOP])
    result = verify_sites(sites)
    assert result.returncode == 1
    missing = f"NOT joined: the xdlink script is missing on {DOCS}: build the site"
    assert pair_line(result, SHOP, DOCS).startswith(missing)
    assert pair_line(result, DOCS, SHOP).startswith(missing)


def test_a_site_built_for_other_domains_does_not_decorate(sites: dict[str, Path]) -> None:
    """Nor does it take a visitor in from the domain it does not list."""
    build(sites[SHOP])
    built = xdlink("build", sites[DOCS], "--domains", f"{DOCS},other.example")
    assert built.returncode == 0, built.stderr
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: {DOCS} refused the id: the visit did not come from one of its listed "
        f"domains (is {SHOP} in the --domains {DOCS} was built with?)"
    )
    assert pair_line(result, DOCS, SHOP) == (
        f"NOT joined: the link was not decorated at the click: the xdlink script on {DOCS} "
        f"does not list {SHOP} (built with other --domains?)"
    )


def test_a_csp_that_blocks_the_script_is_named(sites: dict[str, Path]) -> None:
    for page in sites[DOCS].rglob("*.html"):
        text = page.read_text()
        snippet = re.search(r"<script type=\"text/javascript\">(.*?)</script>", text, re.S)
        assert snippet is not None
        digest = base64.b64encode(hashlib.sha256(snippet.group(1).encode()).digest()).decode()
        policy = f"script-src 'sha256-{digest}' https://cdn.mxpnl.com"
        meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        # Before <meta charset>, so that the policy governs the element inserted after it.
        page.write_text(text.replace("<head>", f"<head>{meta}"))
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    blocked = f"NOT joined: the Content-Security-Policy of {DOCS} blocked the xdlink script"
    assert pair_line(result, SHOP, DOCS).startswith(blocked)
    assert pair_line(result, DOCS, SHOP).startswith(blocked)


def test_without_a_link_a_pair_has_nothing_to_check(sites: dict[str, Path]) -> None:
    guide = sites[DOCS] / "guide" / "index.html"
    guide.write_text(guide.read_text().replace("https://shop.example/pricing/", "/"))
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 0, result.stdout
    assert pair_line(result, DOCS, SHOP) == f"no link (no link from {DOCS} to {SHOP})"
    assert pair_line(result, SHOP, DOCS).startswith("joined")


def test_usage_errors(sites: dict[str, Path], tmp_path: Path) -> None:
    result = verify(f"--site={SHOP}={sites[SHOP]}", f"--site={DOCS}={tmp_path / 'nope'}")
    assert result.returncode == 2
    assert f"Error: invalid --site '{DOCS}={tmp_path / 'nope'}': " in result.stderr
    assert "is not a folder" in result.stderr
    lonely = verify(f"--site={SHOP}={sites[SHOP]}")
    assert lonely.returncode == 2
    assert "give at least two sites" in lonely.stderr
    bad = verify(f"--site={SHOP}={sites[SHOP]}", f"--site={DOCS}={sites[DOCS]}", "--resolve", "x")
    assert bad.returncode == 2
    assert "invalid --resolve 'x': give HOST:ADDRESS" in bad.stderr
    no_sdk = xdlink("verify", f"--site={SHOP}={sites[SHOP]}", "--mixpanel-sdk", tmp_path / "no.js")
    assert no_sdk.returncode == 2
    assert "no such file" in no_sdk.stderr
    no_posthog = xdlink(
        "verify", f"--site={SHOP}={sites[SHOP]}", "--posthog-sdk", tmp_path / "no.js"
    )
    assert no_posthog.returncode == 2
    assert "invalid --posthog-sdk" in no_posthog.stderr, no_posthog.stderr
    assert "no such file" in no_posthog.stderr
    no_browser = xdlink(
        "verify", f"--site={SHOP}={sites[SHOP]}", f"--site={DOCS}={sites[DOCS]}",
        "--browser", tmp_path / "no-chromium",
    )  # fmt: skip
    assert no_browser.returncode == 2
    assert "cannot start Chromium" in no_browser.stderr
    assert "Traceback" not in no_browser.stderr


# --- deployed sites: served on loopback under their real host names ---------------------


class _Sites(ThreadingHTTPServer):
    folders: dict[str, Path]
    redirects: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: _Sites

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = self.headers.get("Host", "").split(":")[0]
        path = self.path.split("?")[0]
        if path in self.server.redirects:  # a server rule that forgets the query
            self.send_response(301)
            self.send_header("Location", self.server.redirects[path])
            self.end_headers()
            return
        folder = self.server.folders.get(host)
        file = folder / path.lstrip("/") if folder else None
        if file is not None and file.is_dir():
            file = file / "index.html"
        if file is None or not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def deployed(sites: dict[str, Path]) -> Iterator[tuple[_Sites, dict[str, Path]]]:
    server = _Sites(("127.0.0.1", 0), _Handler)
    server.folders, server.redirects = sites, {}
    port = server.server_address[1]
    for folder in sites.values():  # the links of sites deployed on this port
        for page in folder.rglob("*.html"):
            text = page.read_text()
            for host in sites:
                text = text.replace(f"https://{host}/", f"http://{host}:{port}/")
            page.write_text(text)
    with serving(server):
        yield server, sites


def verify_deployed(server: _Sites) -> subprocess.CompletedProcess[str]:
    port = server.server_address[1]
    return verify(
        f"http://{SHOP}:{port}/",
        f"http://{DOCS}:{port}/",
        *(f"--resolve={host}:127.0.0.1" for host in (SHOP, DOCS)),
    )


def test_deployed_sites_join(deployed: tuple[_Sites, dict[str, Path]]) -> None:
    server, sites = deployed
    for folder in sites.values():
        build(folder)
    result = verify_deployed(server)
    assert result.returncode == 0, result.stdout + result.stderr
    port = server.server_address[1]
    link = f"link on http://{SHOP}:{port}/pricing/ to http://{DOCS}:{port}/guide/"
    assert pair_line(result, SHOP, DOCS) == f"joined in Mixpanel ({link})"
    assert pair_line(result, DOCS, SHOP).startswith("joined")


def test_a_redirect_that_drops_the_query_is_named(
    deployed: tuple[_Sites, dict[str, Path]],
) -> None:
    server, sites = deployed
    port = server.server_address[1]
    pricing = sites[SHOP] / "pricing" / "index.html"
    pricing.write_text(pricing.read_text().replace("/guide/", "/start/"))
    server.redirects["/start/"] = f"http://{DOCS}:{port}/guide/"
    for folder in sites.values():
        build(folder)
    result = verify_deployed(server)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: the parameter did not arrive: a redirect on {DOCS} dropped the query "
        f"(http://{DOCS}:{port}/start/ to http://{DOCS}:{port}/guide/): build with --fragment"
    )
    for folder in sites.values():
        build(folder, "--fragment")
    assert verify_deployed(server).returncode == 0


def test_an_opted_out_visitor_is_not_carried(sites: dict[str, Path]) -> None:
    for page in sites[SHOP].rglob("*.html"):
        text = page.read_text()
        page.write_text(text.replace("{track_pageview: true});", "{track_pageview: true});\n"
                                     "      mixpanel.opt_out_tracking();"))  # fmt: skip
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: Mixpanel: the visitor has opted out of tracking on {SHOP}: nothing is "
        "carried (a consent banner? pass --accept with the banner's accept button)"
    )


def test_a_landing_site_whose_init_is_in_a_file_of_its_own(sites: dict[str, Path]) -> None:
    """The docs start Mixpanel from a file xdlink cannot read: the script learns the token
    from the init as it runs, with no option."""
    init = re.compile(r"\n *mixpanel\.init\(.*?\);\n")
    for page in sites[DOCS].rglob("*.html"):
        text = page.read_text()
        call = init.search(text)
        assert call is not None
        (sites[DOCS] / "analytics.js").write_text(call.group().strip())
        page.write_text(text.replace("</head>", '<script src="/analytics.js"></script>\n</head>'))
        page.write_text(init.sub("\n", page.read_text()))
    for folder in sites.values():
        build(folder)
    assert pair_line(verify_sites(sites), SHOP, DOCS).startswith("joined")


BANNER = (
    '<div id="consent">We use Mixpanel. <button id="accept" '
    'onclick="mixpanel.opt_in_tracking(); this.parentNode.remove()">Accept</button></div>'
)


def gate(folder: Path) -> None:
    """A consent banner: Mixpanel opted out until the visitor clicks "Accept"."""
    for page in folder.rglob("*.html"):
        text = page.read_text()
        waits = "{opt_out_tracking_by_default: true, track_pageview: true"
        text = text.replace("{track_pageview: true", waits)
        page.write_text(text.replace("<body>", f"<body>\n    {BANNER}"))


def test_a_landing_site_that_waits_for_consent_passes_with_accept(sites: dict[str, Path]) -> None:
    gate(sites[DOCS])
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: Mixpanel on {DOCS} is opted out until consent: pass --accept with the "
        "banner's accept button"
    )
    accepted = verify_sites(sites, "--accept", "#accept")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert pair_line(accepted, SHOP, DOCS).startswith("joined")
    assert pair_line(accepted, DOCS, SHOP).startswith("joined")
    # A selector that matches nothing there is named.
    other = verify_sites(sites, "--accept", "#agree")
    assert "no --accept selector matched there (#agree)" in pair_line(other, SHOP, DOCS)


def test_both_sites_behind_a_banner_join_with_accept_from_the_configuration(
    sites: dict[str, Path], tmp_path: Path
) -> None:
    for folder in sites.values():
        gate(folder)
        build(folder)
    result = verify_sites(sites)
    assert "pass --accept with the banner's accept button" in pair_line(result, SHOP, DOCS)
    config = tmp_path / "xdlink.toml"
    config.write_text('accept = ["#accept"]\n')
    accepted = verify_sites(sites, "--config", str(config))
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_a_site_folder_one_level_too_high_is_named(sites: dict[str, Path]) -> None:
    for folder in sites.values():
        build(folder)
    parent = sites[DOCS].parent
    started = time.monotonic()
    result = verify(f"--site={SHOP}={sites[SHOP]}", f"--site={DOCS}={parent}")
    assert result.returncode == 1
    line = pair_line(result, SHOP, DOCS)
    assert line.startswith(
        f"NOT joined: the start page https://{DOCS}/ answered 404 (is the site folder one "
        "level too high?"
    ), line
    assert time.monotonic() - started < 20


def test_a_landing_page_without_mixpanel_is_named(sites: dict[str, Path]) -> None:
    snippet = re.compile(r"<script type=\"text/javascript\">.*?</script>", re.S)
    for page in sites[DOCS].rglob("*.html"):
        page.write_text(snippet.sub("", page.read_text()))
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    line = pair_line(result, SHOP, DOCS)
    assert f"this page loads neither Mixpanel nor PostHog (https://{DOCS}/guide/)" in line, line
    assert "--token" not in line
    assert "this page loads neither Mixpanel nor PostHog" in pair_line(result, DOCS, SHOP)


def test_swapped_site_hosts_are_named(sites: dict[str, Path]) -> None:
    for folder in sites.values():
        build(folder)
    result = verify(f"--site={SHOP}={sites[DOCS]}", f"--site={DOCS}={sites[SHOP]}")
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: the pages served as {SHOP} link to {SHOP} as another site: are the "
        "--site hosts swapped?"
    )


CDNS = {
    "Mixpanel": ("cdn.mxpnl.com", "--mixpanel-sdk"),
    "PostHog": ("us-assets.i.posthog.com", "--posthog-sdk"),
}


@pytest.mark.parametrize("sdk", CDNS)
def test_an_sdk_that_cannot_be_fetched_is_named_at_once(sites: dict[str, Path], sdk: str) -> None:
    cdn, option = CDNS[sdk]
    for folder in sites.values():
        if sdk == "PostHog":
            use_posthog(folder)
        build(folder)
    started = time.monotonic()
    result = xdlink(
        "verify", *(f"--site={host}={folder}" for host, folder in sites.items()),
        "--browser", CHROMIUM, "--timeout", "10",
        "--resolve", f"{cdn}:127.0.0.1",  # nothing answers there: as offline
    )  # fmt: skip
    took = time.monotonic() - started
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS).startswith(
        f"NOT joined: the {sdk} SDK could not be fetched from its CDN (no network?): pass "
        f"{option} FILE"
    )
    assert took < 12, f"{took:.1f} s: the SDK's failure waited for the timeout"


def test_the_success_line_says_what_was_proven(sites: dict[str, Path]) -> None:
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites, "--strict")
    assert result.returncode == 0, result.stdout
    assert (
        "proven for 2 of 2 pairs: the link was decorated at the click, the parameter left the "
        "landing site's address bar, and the first Mixpanel event there carried the first "
        "site's $device_id and distinct_id\n"
    ) in result.stdout
    assert "0 tracking requests" not in result.stdout


def test_strict_fails_on_a_pair_with_nothing_to_check(sites: dict[str, Path]) -> None:
    guide = sites[DOCS] / "guide" / "index.html"
    guide.write_text(guide.read_text().replace("https://shop.example/pricing/", "/"))
    for folder in sites.values():
        build(folder)
    assert verify_sites(sites).returncode == 0
    strict = verify_sites(sites, "--strict")
    assert strict.returncode == 4, strict.stdout
    assert "--strict: the run gave 1 warnings (exit status 4)" in strict.stdout


def test_headed_shows_a_window(sites: dict[str, Path]) -> None:
    require(shutil.which("xvfb-run") is not None, "no xvfb-run: apt-get install -y xvfb xauth")
    for folder in sites.values():
        build(folder)
    command = [
        "xvfb-run", "-a", sys.executable, "-m", "xdlink", "verify",
        *(f"--site={host}={folder}" for host, folder in sites.items()),
        "--browser", str(CHROMIUM), "--mixpanel-sdk", str(SDK_FILE), "--headed",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pair_line(result, SHOP, DOCS).startswith("joined")


def test_a_click_that_cannot_reach_the_other_site_names_the_browsers_error(
    deployed: tuple[_Sites, dict[str, Path]],
) -> None:
    server, sites = deployed
    port = server.server_address[1]
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    pricing = sites[SHOP] / "pricing" / "index.html"
    guide = f"http://{DOCS}:{closed}/guide/"
    pricing.write_text(pricing.read_text().replace(f"http://{DOCS}:{port}/guide/", guide))
    for folder in sites.values():
        build(folder)
    started = time.monotonic()
    result = verify_deployed(server)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: the navigation to {guide} failed: net::ERR_CONNECTION_REFUSED"
    )
    assert time.monotonic() - started < 20


# --- PostHog: alone, and beside Mixpanel -------------------------------------------------


def use_posthog(
    folder: Path, *, mixpanel: bool = False, name: str | None = None, **config: object
) -> None:
    """Start PostHog on every page of the folder with its official snippet and an init as
    a site writes it (``config`` added to it; ``name``: a named instance), in place of
    Mixpanel or (``mixpanel``) beside it."""
    options = {"api_host": "https://us.i.posthog.com", "person_profiles": "identified_only"}
    options.update(config)
    snippet = POSTHOG_SNIPPET_PATH.read_text().strip()
    arguments = json.dumps([POSTHOG_KEY, options, *([name] if name else [])])[1:-1]
    init = f"posthog.init({arguments});"
    script = f"<script>\n{snippet}\n{init}\n</script>"
    for page in folder.rglob("*.html"):
        text = page.read_text()
        found = MIXPANEL_SCRIPT.search(text)
        assert found is not None
        kept = found.group() + "\n    " if mixpanel else ""
        page.write_text(text.replace(found.group(), kept + script))


def posthog_ids(pair: dict[str, Any]) -> tuple[str, str]:
    """The PostHog visitor of a joined pair: its anonymous id and its session, checked to
    be carried whole by the first $pageview on landing."""
    sender = pair["sender"]["PostHog"]
    device = sender["$device_id"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", device
    )  # a UUIDv7
    assert sender["distinct_id"] == device  # an anonymous visitor
    assert sender["$session_id"] not in ("", device)
    assert pair["landing"]["PostHog"] == {
        "distinct_id": device,
        "$device_id": device,
        "$session_id": sender["$session_id"],
    }
    assert pair["evidence"]["PostHog"] == "the first $pageview"
    return device, sender["$session_id"]


@pytest.mark.parametrize("release", POSTHOG_RELEASES)
def test_posthog_sites_join_both_ways(sites: dict[str, Path], release: str) -> None:
    """With posthog-js's own defaults, which drop every event of an automated browser."""
    require(posthog_file(release).exists(), f"{release} is missing: run `npm ci` in js/")
    for folder in sites.values():
        use_posthog(folder)
        build(folder)
    result = verify_sites(sites, "--format", "json", posthog=release)
    report = json.loads(result.stdout)
    assert report["exit_code"] == 0, result.stdout + result.stderr
    assert report["sent_to_posthog"] == 0
    assert report["answered_in_browser"]["Mixpanel"] == 0
    assert report["answered_in_browser"]["PostHog"] > 0
    assert [pair["sdks"] for pair in report["pairs"]] == [["PostHog"], ["PostHog"]]
    there, back = (posthog_ids(pair) for pair in report["pairs"])
    assert there != back  # each journey is a new visitor
    text = verify_sites(sites, posthog=release)
    link = "link on https://shop.example/pricing/ to https://docs.example.org/guide/"
    assert pair_line(text, SHOP, DOCS) == f"joined in PostHog ({link})"
    assert (
        "and the first PostHog $pageview there carried the first site's $device_id (as "
        "distinct_id and $device_id) and $session_id"
    ) in text.stdout


def test_both_sdks_on_a_page_join_in_both(sites: dict[str, Path]) -> None:
    for folder in sites.values():
        use_posthog(folder, mixpanel=True)
        build(folder)
    result = verify_sites(sites, "--format", "json")
    report = json.loads(result.stdout)
    assert report["exit_code"] == 0, result.stdout + result.stderr
    for pair in report["pairs"]:
        assert pair["sdks"] == ["Mixpanel", "PostHog"]
        posthog_ids(pair)
        device = pair["sender"]["Mixpanel"]["$device_id"]
        assert pair["landing"]["Mixpanel"] == pair["sender"]["Mixpanel"]
        assert pair["landing"]["Mixpanel"]["distinct_id"] == f"$device:{device}"
        assert pair["evidence"]["Mixpanel"] == "the first event"
    assert all(count > 0 for count in report["answered_in_browser"].values())
    text = verify_sites(sites)
    assert pair_line(text, DOCS, SHOP).startswith("joined in Mixpanel and PostHog (link on ")


def reset_posthog_on_load(folder: Path) -> None:
    """A site that starts every visitor afresh: posthog.reset() right after its init."""
    for page in folder.rglob("*.html"):
        text = page.read_text()
        page.write_text(re.sub(r"(posthog\.init\(.*?\);)", r"\1\nposthog.reset();", text))


def test_a_named_posthog_instance_is_proven(sites: dict[str, Path]) -> None:
    """posthog.init(key, config, 'shop'): the instance lives at posthog.shop."""
    for folder in sites.values():
        use_posthog(folder, name="shop")
        build(folder)
    result = verify_sites(sites, "--format", "json", posthog=POSTHOG_RELEASES[0])
    report = json.loads(result.stdout)
    assert report["exit_code"] == 0, result.stdout + result.stderr
    assert [pair["sdks"] for pair in report["pairs"]] == [["PostHog"], ["PostHog"]]
    for pair in report["pairs"]:
        posthog_ids(pair)


@pytest.mark.parametrize("mixpanel", [False, True], ids=["posthog", "both"])
def test_a_landing_site_that_resets_posthog_is_named(
    sites: dict[str, Path], mixpanel: bool
) -> None:
    """The first $pageview carries a new visitor; beside it Mixpanel still joins, and the
    reason names the SDK that did not."""
    for folder in sites.values():
        use_posthog(folder, mixpanel=mixpanel)
    reset_posthog_on_load(sites[DOCS])
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites, "--format", "json")
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1
    there, back = report["pairs"]
    assert back["status"] == "joined", back  # the shop keeps what it adopts
    sent = there["sender"]["PostHog"]["distinct_id"]
    landed = there["landing"]["PostHog"]["distinct_id"]
    assert landed != sent
    assert there["reason"] == (
        f"PostHog: the first $pageview on {DOCS} has a different distinct_id: {landed!r}, "
        f"where {SHOP} sent {sent!r}"
    )
    if mixpanel:
        assert there["landing"]["Mixpanel"] == there["sender"]["Mixpanel"]


def test_a_landing_posthog_that_keeps_no_id_is_named(sites: dict[str, Path]) -> None:
    use_posthog(sites[SHOP])
    use_posthog(sites[DOCS], cookieless_mode="always")
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: PostHog: {DOCS} adopted nothing: PostHog there runs with "
        "cookieless_mode 'always' and keeps no id to join"
    )


def test_a_landing_posthog_that_bootstraps_its_own_id_is_named(sites: dict[str, Path]) -> None:
    use_posthog(sites[SHOP])
    use_posthog(sites[DOCS], bootstrap={"distinctID": "server-made-id"})
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: PostHog: {DOCS} adopted nothing: the visitor is already identified there"
    )


POSTHOG_BANNER = (
    '<div id="consent">We use PostHog. <button id="accept" '
    'onclick="posthog.opt_in_capturing(); this.parentNode.remove()">Accept</button></div>'
)


def test_a_landing_posthog_that_waits_for_consent_passes_with_accept(
    sites: dict[str, Path],
) -> None:
    use_posthog(sites[SHOP])
    use_posthog(sites[DOCS], opt_out_capturing_by_default=True)
    for page in sites[DOCS].rglob("*.html"):
        page.write_text(page.read_text().replace("<body>", f"<body>\n    {POSTHOG_BANNER}"))
    for folder in sites.values():
        build(folder)
    result = verify_sites(sites)
    assert result.returncode == 1
    assert pair_line(result, SHOP, DOCS) == (
        f"NOT joined: PostHog on {DOCS} is opted out until consent: pass --accept with the "
        "banner's accept button"
    )
    accepted = verify_sites(sites, "--accept", "#accept", "--format", "json")
    report = json.loads(accepted.stdout)
    assert report["exit_code"] == 0, accepted.stdout + accepted.stderr
    for pair in report["pairs"]:
        posthog_ids(pair)
