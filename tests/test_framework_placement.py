"""The placement rules of frameworks that take over the head after load (the browser
proof is tests/browser/test_frameworks.py, on real exports)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES
from xdlink.api import make_settings, snippet
from xdlink.page import Action, build_page
from xdlink.scan import Placement

TOKEN = "0123456789abcdef0123456789abcdef"
SETTINGS = make_settings(["shop.example", "docs.example.org"])
SNIPPET = f'<script>mixpanel.init("{TOKEN}")</script>'
CONTEXT = "<script>window.__reactRouterContext = {};</script>"


def element_at(output: bytes) -> tuple[str, str]:
    """What stands just before and just after the xdlink element."""
    text = output.decode()
    start = text.index("<script data-xdlink")
    end = text.index("</script>", start) + len("</script>")
    return text[:start], text[end:]


def test_after_next_head_count() -> None:
    head = '<meta charSet="utf-8"/><title>t</title><meta name="next-head-count" content="2"/>'
    data = f"<!DOCTYPE html><html><head>{head}{SNIPPET}</head><body></body></html>".encode()
    built = build_page(data, SETTINGS)
    assert built.placement is Placement.NEXT_HEAD_COUNT
    before, after = element_at(built.output or b"")
    assert before.endswith('content="2"/>')
    assert after.startswith(SNIPPET)
    assert build_page(built.output or b"", SETTINGS).action is Action.UNCHANGED


def test_an_element_inside_the_managed_head_is_moved_out() -> None:
    """A page built before the rule has the element among the elements Next replaces."""
    head = '<meta charSet="utf-8"/><meta name="next-head-count" content="1"/>'
    data = f"<!DOCTYPE html><html><head>{head}{SNIPPET}</head><body></body></html>".encode()
    built = build_page(data, SETTINGS).output or b""
    element = built[built.index(b"<script data") : built.index(b"</script>") + 9]
    old = data.replace(b"/><meta name", b"/>" + element + b"<meta name")
    moved = build_page(old, SETTINGS)
    assert moved.action is Action.UPDATED
    assert moved.output == built


@pytest.mark.parametrize(
    ("head", "before_end", "after_start"),
    [
        # The scripts that end the head: the element goes before the first of them.
        (
            f'<meta charSet="utf-8"/><title>t</title><link rel="x" href="/a"/>{SNIPPET}',
            '<link rel="x" href="/a"/>',
            SNIPPET,
        ),
        (f'<meta charSet="utf-8"/>{SNIPPET}<script src="/b.js"></script>', "/>", SNIPPET),
        # A head that ends with something else: before </head>.
        (
            f'<meta charSet="utf-8"/>{SNIPPET}<link rel="x" href="/a"/>',
            '<link rel="x" href="/a"/>',
            "</head>",
        ),
    ],
)
def test_document_hydration_puts_it_at_the_end_of_head(
    head: str, before_end: str, after_start: str
) -> None:
    data = f"<!DOCTYPE html><html><head>{head}</head><body>{CONTEXT}</body></html>".encode()
    built = build_page(data, SETTINGS)
    assert built.placement is Placement.HEAD_END
    before, after = element_at(built.output or b"")
    assert before.endswith(before_end)
    assert after.startswith(after_start)
    assert build_page(built.output or b"", SETTINGS).action is Action.UNCHANGED


@pytest.mark.parametrize(
    "page",
    [
        # React's charSet without a router context: a React page that does not hydrate
        # the document (Next's App Router, an island).
        f'<!DOCTYPE html><html><head><meta charSet="utf-8"/>{SNIPPET}</head><body></body></html>',
        # The context, but not React's <meta charSet>.
        f'<!DOCTYPE html><html><head><meta charset="utf-8"/>{SNIPPET}</head>'
        f"<body>{CONTEXT}</body></html>",
    ],
)
def test_other_pages_keep_the_usual_place(page: str) -> None:
    built = build_page(page.encode(), SETTINGS)
    assert built.placement is Placement.HEAD
    assert element_at(built.output or b"")[0].endswith("/>")


def test_a_snippet_the_app_renders_itself_is_accepted() -> None:
    """An app that hydrates the whole document some other way renders `xdlink snippet`'s
    element from its root component; the build then changes nothing."""
    element = snippet(dataclasses.replace(SETTINGS, sdk=("mixpanel",))).element
    head = f'<meta charSet="utf-8"/><title>t</title>{element}{SNIPPET}'
    data = f"<!DOCTYPE html><html><head>{head}</head><body></body></html>".encode()
    assert build_page(data, SETTINGS).action is Action.UNCHANGED


def test_the_report_names_each_rule(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name in ("next14-pages", "react-router7-react18", "astro"):
        pages = FIXTURES / "frameworks" / name / "site"
        (site / name).mkdir(parents=True)
        (site / name / "index.html").write_bytes((pages / "index.html").read_bytes())
    command = [sys.executable, "-m", "xdlink", "build", str(site), "-d", "shop.example"]
    verbose = subprocess.run([*command, "-v"], capture_output=True, text=True, check=True)
    assert f"placed after next-head-count: {site}/next14-pages/index.html" in verbose.stdout
    assert (
        f"placed at the end of head (document hydration): {site}/react-router7-react18/index.html"
        in verbose.stdout
    )
    assert "placed early in head" not in verbose.stdout
    report = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, check=True
    )
    assert json.loads(report.stdout)["placements"] == {
        "after next-head-count": 1,
        "at the end of head (document hydration)": 1,
        "early in head": 1,
    }
