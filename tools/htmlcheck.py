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


def tree_change(before: bytes, after: bytes) -> str | None:
    """Why ``after`` is not ``before``'s HTML5 parse tree plus exactly one xdlink script
    element, a child of head and first among its scripts; None when it is.

    Both are parsed by html5lib's tree construction with scripting on, as browsers do;
    the element is taken out of ``after``'s tree (text around it merged) and the two trees
    compared node by node: doctype, comments, text and attributes included.
    """
    built = _document(after)
    head = built.getElementsByTagName("head")
    marked = [s for s in built.getElementsByTagName("script") if s.hasAttribute("data-xdlink")]
    if len(marked) != 1:
        return f"{len(marked)} xdlink elements in the tree"
    element = marked[0]
    if not head or element.parentNode is not head[0]:
        parent = element.parentNode.nodeName if element.parentNode else None
        return f"the element is a child of {parent}, not of head"
    element.parentNode.removeChild(element)
    expected, actual = _signature(_document(before)), _signature(built)
    if expected != actual:
        return _first_difference(expected, actual)
    return None


def first_script_in_head(after: bytes) -> bool:
    """Whether the xdlink element is the first script element of head."""
    head = _document(after).getElementsByTagName("head")
    scripts = head[0].getElementsByTagName("script") if head else []
    return bool(scripts) and scripts[0].hasAttribute("data-xdlink")


def _document(data: bytes) -> Any:
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("dom"), namespaceHTMLElements=False)
    document = parser.parse(data, scripting=True)
    document.normalize()  # html5lib can split one text into several nodes
    return document


def _signature(node: Any) -> tuple[Any, ...]:
    node.normalize()  # the text on both sides of a removed element is one node again
    attributes = tuple(sorted(node.attributes.items())) if node.attributes else ()
    children = tuple(_signature(child) for child in node.childNodes)
    return (node.nodeType, node.nodeName, attributes, node.nodeValue, children)


def _first_difference(expected: tuple[Any, ...], actual: tuple[Any, ...], path: str = "") -> str:
    here = f"{path}/{expected[1]}"
    if expected[:4] != actual[:4]:
        return f"at {here}: {expected[:4]!r} became {actual[:4]!r}"
    for index, (old, new) in enumerate(zip(expected[4], actual[4], strict=False)):
        if old != new:
            return _first_difference(old, new, f"{here}[{index}]")
    return f"at {here}: {len(expected[4])} children became {len(actual[4])}"
