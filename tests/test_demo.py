"""`make demo` works: a visitor who clicks from the shop to the docs is one visitor with
xdlink and two without it, in the captured events and on the live page."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import ROOT
from tools.demo.server import FIXTURES

pytestmark = pytest.mark.browser

PAGE_VIEW = "$mp_web_page_view"


@dataclass
class Demo:
    links: dict[str, str]
    output: list[str]

    @property
    def live(self) -> str:
        return self.links["live events"]

    def visitors(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.live + "events.json", timeout=5) as response:
            visitors: list[dict[str, Any]] = json.load(response)["visitors"]
        return visitors

    def wait_for(self, host: str, path: str, timeout: float = 10.0) -> dict[str, Any]:
        """The visitor whose page view of `host` `path` arrived; waits for it."""
        deadline = time.monotonic() + timeout
        while True:
            for visitor in self.visitors():
                for event in visitor["events"]:
                    if (event["event"], event["host"], event["path"]) == (PAGE_VIEW, host, path):
                        return visitor
            if time.monotonic() > deadline:
                raise AssertionError(f"no page view of {host}{path}: {self.visitors()}")
            time.sleep(0.05)


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(folder)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def demo(browser: Any, tmp_path: Path) -> Iterator[Demo]:
    """`python -m tools.demo.server` on free ports, as `make demo` runs it."""
    fixtures_before = tree_digest(FIXTURES)
    command = [sys.executable, "-m", "tools.demo.server", "--port", "0", "--capture-port", "0"]
    command += ["--out", str(tmp_path / "demo")]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "Ctrl-C" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(60):
            pytest.fail("the demo server did not start:\n" + "".join(output))
        links = dict(
            re.findall(r"^  ([a-z ]+): +(http://\S+)$", "".join(output), flags=re.MULTILINE)
        )
        yield Demo(links, output)
    finally:
        process.terminate()
        try:
            code = process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(5)
        assert process.stdout is not None
        process.stdout.close()
    assert code == 0, "".join(output)
    assert output[-1] == "stopped\n", "".join(output)
    assert tree_digest(FIXTURES) == fixtures_before, "the demo modified fixtures/demo/"


def test_demo_journeys_and_live_page(demo: Demo, browsing: Any, tmp_path: Path) -> None:
    out = "".join(demo.output)
    assert "5 pages seen, 5 injected" in out, out
    assert "warning" not in out, out
    port = demo.links["shop with xdlink"].rsplit(":", 1)[1].strip("/")
    assert demo.links == {
        "shop with xdlink": f"http://shop.localhost:{port}/",
        "docs with xdlink": f"http://docs.localhost:{port}/",
        "shop without xdlink": f"http://shop-plain.localhost:{port}/",
        "docs without xdlink": f"http://docs-plain.localhost:{port}/",
        "live events": demo.live,
    }
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", demo.live)

    # One browser, as a person would use, on both pairs: the shop, the docs by a link in the
    # nav, back to the shop by a link in the text, the docs again by the shop's search form.
    page = browsing.page(viewport={"width": 1280, "height": 900})
    for label, suffix in (("with xdlink", ""), ("without xdlink", "-plain")):
        shop, docs = f"shop{suffix}.localhost", f"docs{suffix}.localhost"
        page.goto(demo.links[f"shop {label}"])
        status = page.locator("#xdlink-status")
        assert status.inner_text() == ("No xdlink" if suffix else "xdlink is") + " on this page"
        demo.wait_for(shop, "/")
        page.click("#nav-docs")
        page.wait_for_url(f"http://{docs}:{port}/")
        demo.wait_for(docs, "/")
        page.click("#body-shop")
        page.wait_for_url(f"http://{shop}:{port}/lamp.html")
        demo.wait_for(shop, "/lamp.html")
        page.fill("input[name=q]", "battery")
        page.click("form.search button")
        page.wait_for_url(f"http://{docs}:{port}/search.html?q=battery")
        demo.wait_for(docs, "/search.html")

    visitors = demo.visitors()
    joined = [visitor for visitor in visitors if visitor["pair"] == "xdlink"]
    assert len(joined) == 1, visitors
    assert joined[0]["hosts"] == ["shop.localhost", "docs.localhost"], joined
    assert [(event["event"], event["host"], event["path"]) for event in joined[0]["events"]] == [
        (PAGE_VIEW, "shop.localhost", "/"),
        (PAGE_VIEW, "docs.localhost", "/"),
        (PAGE_VIEW, "shop.localhost", "/lamp.html"),
        (PAGE_VIEW, "docs.localhost", "/search.html"),
    ], joined
    assert joined[0]["distinct_id"] == "$device:" + joined[0]["visitor"], joined
    plain = [visitor for visitor in visitors if visitor["pair"] == "plain"]
    assert sorted((visitor["hosts"], len(visitor["events"])) for visitor in plain) == [
        (["docs-plain.localhost"], 2),
        (["shop-plain.localhost"], 2),
    ], plain
    assert len({visitor["visitor"] for visitor in visitors}) == 3, visitors

    # The live page shows it: one card with both hosts, and two cards of one host each.
    page.goto(demo.live)
    page.wait_for_selector("body[data-ready] .visitor")
    page.wait_for_function("document.querySelectorAll('.visitor').length === 3")
    cards = page.eval_on_selector_all(
        ".visitor", "cards => cards.map(c => [c.dataset.pair, c.dataset.hosts, c.innerText])"
    )
    by_pair = sorted((pair, hosts) for pair, hosts, _ in cards)
    assert by_pair == [
        ("plain", "docs-plain.localhost"),
        ("plain", "shop-plain.localhost"),
        ("xdlink", "shop.localhost docs.localhost"),
    ], cards
    assert page.locator("#xdlink .visitor.both").count() == 1
    assert page.locator("#plain .visitor.both").count() == 0
    assert "one visitor on both sites" in page.inner_text("#xdlink .visitor")
    assert page.inner_text("#xdlink .summary") == "1 visitor, 1 seen on both sites"
    assert page.inner_text("#plain .summary") == "2 visitors, none seen on both sites"

    screenshot = tmp_path / "demo-live.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    (ROOT / "build").mkdir(exist_ok=True)
    shutil.copyfile(screenshot, ROOT / "build" / "demo-live.png")
