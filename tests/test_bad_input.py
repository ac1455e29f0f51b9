"""Pages no generator should write but real sites have: huge, deep, mislabelled."""

from __future__ import annotations

import time

import pytest

from tests.helpers import SETTINGS, head_scripts, insertions
from xdlink.page import Action, build_page, remove_page

HEAD = b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>'


def roundtrip(data: bytes) -> bytes:
    built = build_page(data, SETTINGS)
    assert built.action is Action.INJECTED
    assert built.output is not None
    assert insertions(data, built.output)
    assert build_page(built.output, SETTINGS).action is Action.UNCHANGED
    assert remove_page(built.output).output == data
    return built.output


def test_fifty_megabyte_page() -> None:
    paragraph = b'<p>Some text &#8212; <a href="/x">a link</a> and <a href="https://docs.example.org/">docs</a></p>\n'
    data = HEAD + paragraph * (50_000_000 // len(paragraph)) + b"</body></html>"
    started = time.perf_counter()
    roundtrip(data)
    assert time.perf_counter() - started < 60


def test_ten_thousand_deep_nesting() -> None:
    data = HEAD + b"<div>" * 10_000 + b'<a href="https://shop.example/">s</a>' + b"</div>" * 10_000
    built = build_page(data, SETTINGS)
    assert built.facts.links == (("shop.example", 1),)
    roundtrip(data)


def test_five_megabyte_single_line() -> None:
    cells = b"".join(b'<td class="c">%d</td>' % index for index in range(250_000))
    data = HEAD.replace(b"<title>", b"<script>var a=1</script><title>") + cells + b"</body></html>"
    assert b"\n" not in data
    output = roundtrip(data)
    assert b"\n" not in output


def test_declared_charset_that_is_wrong() -> None:
    data = (
        '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>é — ü</title></head></html>'
    )
    output = roundtrip(data.encode("utf-8"))
    assert "é — ü".encode() in output


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\x03" * 100,
        b"GIF89a\x01\x00\x01\x00\x00\xff\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        b"",
        b"\n\n   \t",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type/Catalog>>\nendobj\n",
    ],
)
def test_not_html_is_skipped_with_a_reason(data: bytes) -> None:
    outcome = build_page(data, SETTINGS)
    assert outcome.action is Action.SKIPPED
    assert outcome.reason
    assert outcome.output is None


def test_page_ending_inside_a_tag_keeps_the_element_before_that_tag() -> None:
    """Browsers drop a tag the file ends in: the page is built, the element before it."""
    data = b'<!DOCTYPE html><html><head><meta charset="utf-8'
    built = build_page(data, SETTINGS)
    assert built.output is not None
    assert built.output.startswith(b"<!DOCTYPE html><html><head><script data-xdlink=")
    assert built.output.endswith(b'</script><meta charset="utf-8')


def test_script_lands_first_in_head_of_a_page_with_many_scripts() -> None:
    scripts = b"".join(b'<script src="/s%d.js"></script>' % index for index in range(50))
    data = HEAD.replace(b"<title>", scripts + b"<title>")
    output = roundtrip(data)
    assert head_scripts(output)[0].get("data-xdlink")
