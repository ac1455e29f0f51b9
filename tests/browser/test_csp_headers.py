"""A site served with the Content-Security-Policy of its _headers file, as Netlify and
Cloudflare Pages serve it: the script runs once --update-csp has written its hash there,
and not before. A tiny server applies the file's rules to every page it serves."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.capture import serving
from xdlink import cspfiles

pytestmark = pytest.mark.browser

PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>t</title></head>"
    '<body><a href="https://b.example/">b</a></body></html>'
)
HEADERS = """\
/*
  X-Content-Type-Options: nosniff
  Content-Security-Policy: default-src 'self'; img-src *
/strict/*
  Content-Security-Policy: script-src 'strict-dynamic' 'nonce-r4nd0m' 'unsafe-inline'; object-src 'none'
"""  # noqa: E501


class _Handler(BaseHTTPRequestHandler):
    root: Path

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        relative = self.path.split("?")[0].lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        file = self.root / relative
        if relative == "favicon.ico":
            # Chromium asks for it after the load, at times before the context closes: its
            # 404 would be a console error of the server's, not of the page.
            self.send_response(204)
            self.end_headers()
            return
        if not file.is_file():
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        headers = cspfiles.read(self.root / "_headers")
        for index in cspfiles.covering(tuple(headers.rules), relative):
            for value in headers.rules[index].values:
                self.send_header("Content-Security-Policy", value.text)
        self.end_headers()
        self.wfile.write(file.read_bytes())


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "public"
    (folder / "strict").mkdir(parents=True)
    (folder / "index.html").write_text(PAGE)
    (folder / "strict" / "index.html").write_text(PAGE)
    (folder / "_headers").write_text(HEADERS)
    handler = type("Handler", (_Handler,), {"root": folder})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"


def _build(folder: Path, *args: str) -> None:
    command = [sys.executable, "-m", "xdlink", "build", str(folder), "-d", "a.example,b.example"]
    result = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def _runs(browser: Any, url: str) -> tuple[bool, list[str]]:
    context = browser.new_context()
    try:
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(url)
        return bool(page.evaluate("() => !!window.xdlink")), messages
    finally:
        context.close()


def test_the_script_runs_under_the_policy_update_csp_wrote(
    browser: Any, site: tuple[Path, str]
) -> None:
    folder, origin = site
    _build(folder)
    for path in ("/", "/strict/"):
        ran, messages = _runs(browser, origin + path)
        assert not ran, f"{path}: the policy without the hash let the script run"
        assert any("Content Security Policy" in message for message in messages), messages
    _build(folder, "--update-csp")
    assert (folder / "_headers").read_text().count("'sha256-") == 2
    for path in ("/", "/strict/"):
        ran, messages = _runs(browser, origin + path)
        assert ran, f"{path}: {messages}"
        assert messages == []
    # remove takes the hashes out: the file is as it was, and a page would block again.
    result = subprocess.run(
        [sys.executable, "-m", "xdlink", "remove", str(folder), "--update-csp"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (folder / "_headers").read_text() == HEADERS
