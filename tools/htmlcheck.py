"""How a page changed and where a browser puts its scripts: shared by the tree verifier
and the tests."""

from __future__ import annotations

from typing import Any

import html5lib

PAGE_SUFFIXES = (".html", ".htm", ".xhtml")


def insertions(before: bytes, after: bytes) -> list[tuple[int, bytes]]:
    """Every (offset, span) with ``after == before[:offset] + span + before[offset:]``.

    Empty when ``after`` is not ``before`` with one contiguous span added. Several answers
    when the span's ends repeat the bytes beside it (a line break, say).
    """
    added = len(after) - len(before)
    if added <= 0:
        return []
    prefix = common_prefix(before, after)
    suffix = common_prefix(before[::-1], after[::-1])
    lowest = len(before) - min(suffix, len(before))
    return [(offset, after[offset : offset + added]) for offset in range(lowest, prefix + 1)]


def common_prefix(first: bytes, second: bytes) -> int:
    """Length of the common prefix, compared a block at a time (pages can be 50 MB)."""
    limit = min(len(first), len(second))
    start, block = 0, 1 << 16
    while start < limit and first[start : start + block] == second[start : start + block]:
        start += block
    while start < limit and first[start] == second[start]:
        start += 1
    return min(start, limit)


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
        for element in walk_outside(head, ("noscript", "template"))
        if element.tag == "script"
    ]


def walk_outside(element: Any, inert: tuple[str, ...]) -> list[Any]:
    """Every element under ``element``, in document order, not entering ``inert`` tags."""
    found = []
    for child in element:
        found.append(child)
        if child.tag not in inert:
            found += walk_outside(child, inert)
    return found
