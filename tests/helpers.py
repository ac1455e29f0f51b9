"""Shared test helpers: standard settings, block normalisation, splice inspection."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import html5lib

from xdlink.page import Outcome
from xdlink.settings import make_settings
from xdlink.source import Source, read_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SETTINGS = make_settings(["shop.example,docs.example.org"])
PAGE_SUFFIXES = (".html", ".htm", ".xhtml")


def fixture_pages() -> list[Path]:
    """Every page under fixtures/, generator output and hand-made cases alike."""
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.suffix in PAGE_SUFFIXES
        and path.is_file()
        and "expected" not in path.name
        and "generators-src" not in path.parts
    )


def source_of(data: bytes) -> Source:
    source = read_source(data)
    assert isinstance(source, Source), source
    return source


def normalize(outcome: Outcome, data: bytes) -> bytes:
    """The output with the script's code and marker replaced by fixed placeholders, so
    golden files pin every byte of the page but not the script under development."""
    assert outcome.output is not None
    assert outcome.script is not None
    source = source_of(data)
    marker = f'data-xdlink="{_marker_value(outcome)}"'
    output = outcome.output.replace(source.encode(outcome.script.code), source.encode("{code}"))
    return output.replace(source.encode(marker), source.encode('data-xdlink="{marker}"'))


def _marker_value(outcome: Outcome) -> str:
    from xdlink import __version__

    assert outcome.script is not None
    return f"{__version__} {outcome.script.fingerprint}"


def insertions(before: bytes, after: bytes) -> list[tuple[int, bytes]]:
    """Every (offset, span) with ``after == before[:offset] + span + before[offset:]``.

    Empty when ``after`` is not ``before`` with one contiguous span added. Several answers
    when the span's ends repeat the bytes beside it (a line break, say).
    """
    added = len(after) - len(before)
    if added <= 0:
        return []
    prefix = _common_prefix(before, after)
    suffix = _common_prefix(before[::-1], after[::-1])
    lowest = len(before) - min(suffix, len(before))
    return [(offset, after[offset : offset + added]) for offset in range(lowest, prefix + 1)]


def _common_prefix(first: bytes, second: bytes) -> int:
    """Length of the common prefix, compared a block at a time (pages can be 50 MB)."""
    limit = min(len(first), len(second))
    start, block = 0, 1 << 16
    while start < limit and first[start : start + block] == second[start : start + block]:
        start += block
    while start < limit and first[start] == second[start]:
        start += 1
    return min(start, limit)


def unified_diff(expected: bytes, actual: bytes) -> str:
    old = expected.decode("latin-1").splitlines(keepends=True)
    new = actual.decode("latin-1").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, "expected", "actual"))


def head_scripts(data: bytes) -> list[Any]:
    """The scripts a browser puts in <head>, in order, outside <noscript> and <template>.

    html5lib follows the HTML standard's tree construction with scripting on, as browsers
    do; libxml2 does not (it moves <noscript> and anything after a second <head> to body).
    """
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    document = parser.parse(data, scripting=True)
    head = document.find("head")
    if head is None:
        return []
    return [
        element
        for element in _walk_outside(head, ("noscript", "template"))
        if element.tag == "script"
    ]


def _walk_outside(element: Any, inert: tuple[str, ...]) -> list[Any]:
    found = []
    for child in element:
        found.append(child)
        if child.tag not in inert:
            found += _walk_outside(child, inert)
    return found
