"""The scanner's shortcuts (a document's doctype, <html> and <head> in one match, runs of
quiet elements in one match, whitespace and a tag in one match, raw text without "<" in
one match, remove's lone element found without a
scan) against the reference scan, token by token: on every fixture page, before and
after a build, and on generated documents, both find the same insertion point and the
same facts, and a build or a remove gives the same bytes."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import FIXTURES, SETTINGS, fixture_pages
from tests.test_properties import documents
from xdlink import mixpanel
from xdlink import page as page_module
from xdlink import scan as scan_module
from xdlink.page import Outcome, build_page, remove_page
from xdlink.scan import Block, Head, Tag, _HeadScanner, lone_block, scan_blocks, scan_head
from xdlink.source import Source, read_source

PAGES = fixture_pages()
# Heads whose quiet runs each shortcut takes, and the cases where it must step aside.
QUIET_HEADS = [
    "<title>t</title><style>a{b:c}</style><link rel=x href=/y><meta name=a content=b>",
    '<script src="/a.js"></script>\n<SCRIPT SRC=/b.js>\n</SCRIPT><script defer src=c></script>',
    '<style>@charset "x"; a{}</style><meta charset=utf-8><script src=/a.js></script>',
    '<title>A </head> title</title><style>b::after{content:"<p>"}</style><script>1</script>',
    '<script src=/a.js></script><script data-xdlink="0.0.1 abc" src=/x.js></script>',
    '<script type="application/ld+json">{"a": 1}</script><script>mixpanel.init("t")</script>',
    "<link rel=a></head><link rel=b><script src=/a.js></script><style>c{}</style>",
    "<title>t</title ><style></style x><script src=a></script/><script src=b></script >",
    '<meta http-equiv="Content-Security-Policy" content="script-src \'self\'"><title>t</title>',
    '<meta name="next-head-count" content="2"><title>t</title><script src=/n.js></script>',
    # Elements that may declare something, inside and at the end of longer runs.
    "<link rel=a><link rel=b><style>@charset 'x'; a{}</style><link rel=c><title>t</title>",
    "<link rel=a><meta name=x content=y><meta http-equiv=X-UA-Compatible content=IE=edge>",
    "<link rel=a><base href=/b/><link rel=c><meta charset=utf-8><link rel=d>",
]
# Where the generated documents get a quiet head's elements: in the head, after it, before
# it and in the body.
PLACES = [b"<head>", b"</head>", b"<html lang=en>", b"<body>"]
DOCTYPES = ["<!doctype html><html><head>", "<!doctype html>", "<html><head>", ""]


def _facts_of(head: Head, text: str) -> dict[str, object]:
    """What the build reads from a scan: all of it but where the scan stopped and the
    scripts with no code (a shortcut reads past such scripts without listing them)."""
    scripts = [span for span in head.inline_scripts if text[span[0] : span[1]].strip()]
    return {
        "anchor": head.anchor,
        "placement": head.placement,
        "blocks": head.blocks,
        "is_document": head.is_document,
        "xml_declaration": head.has_xml_declaration,
        "first_script": head.first_script,
        "charset_after_script": head.charset_after_script,
        "csp": head.csp_before_anchor,
        "base": head.has_base,
        "ends_in_comment": head.ends_in_comment,
        "react": head.react_rendered,
        "amp": head.amp,
        "scripts": [span for span in scripts if span[1] <= head.region_end],
    }


def _same_scans(data: bytes) -> None:
    source = read_source(data)
    if not isinstance(source, Source):
        return
    text, start = source.text, source.start
    until = max(mixpanel.CALLS.positions(text), default=0) + 1
    for to_head_end in (False, True):
        fast = scan_head(text, start, until, to_head_end)
        reference = scan_head(text, start, until, to_head_end, shortcuts=False)
        fast_facts, reference_facts = _facts_of(fast, text), _facts_of(reference, text)
        # The shortcut may read further: the scripts it lists go at least as far.
        common = min(fast.region_end, reference.region_end)
        for facts in (fast_facts, reference_facts):
            scripts = facts["scripts"]
            assert isinstance(scripts, list)
            facts["scripts"] = [span for span in scripts if span[1] <= common]
        assert fast_facts == reference_facts
        assert fast.region_end >= reference.region_end
    assert scan_blocks(text, start) == scan_blocks(text, start, shortcuts=False)


def _outcome_fields(outcome: Outcome) -> tuple[object, ...]:
    return (outcome.action, outcome.output, outcome.reason, outcome.facts, outcome.placement)


def _same_builds(data: bytes) -> None:
    fast = build_page(data, SETTINGS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(page_module, "scan_head", functools.partial(scan_head, shortcuts=False))
        patch.setattr(page_module, "scan_blocks", functools.partial(scan_blocks, shortcuts=False))
        patch.setattr(page_module, "lone_block", lambda text, start=0, raw=None: None)
        reference = build_page(data, SETTINGS)
        removed = remove_page(data)
    assert _outcome_fields(fast) == _outcome_fields(reference)
    assert _outcome_fields(remove_page(data)) == _outcome_fields(removed)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(FIXTURES)) for p in PAGES])
def test_fixture_pages_scan_alike(page: Path) -> None:
    data = page.read_bytes()
    built = build_page(data, SETTINGS).output or data
    for version in (data, built):
        _same_scans(version)
        _same_builds(version)


@pytest.mark.parametrize("head", QUIET_HEADS)
@pytest.mark.parametrize("doctype", DOCTYPES)
def test_quiet_heads_scan_alike(head: str, doctype: str) -> None:
    data = f"{doctype}{head}</head><body><p>x</p></body></html>".encode()
    built = build_page(data, SETTINGS).output or data
    for version in (data, built):
        _same_scans(version)
        _same_builds(version)


# Document starts that the prelude reads in one match, with the tag it leaves to the
# scan's general path (a <meta> that declares anything but a charset by its attribute),
# then starts it leaves to the scan, token by token.
PRELUDES_READ = {
    "<!doctype html><html><head>": "",
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">'
    "\n<HTML>\n<HEAD>\n": "",
    '\n\n<!doctype html>\n<html lang="en" class=\'no-js\' data-x="a>b">\n  <head profile="x">': "",
    "<html amp lang=en><head>": "",
    "<!doctype html><html \u26a1><head>": "",
    "<!doctype html><html AMP4EMAIL data-css-strict><head>": "",
    "<!doctype html><html/><head/>": "",
    "<head>": "",
    "<!DOCTYPE html><head>": "",
    '<!doctype html><html lang="en"><head><meta charset="utf-8">': "",
    "<!doctype html>\n<html>\n  <head>\n    <META CHARSET=UTF-8 />\n": "",
    '<html><head><meta charSet="utf-8"/>': "",
    # A <meta> that declares nothing is a quiet run's, one match of its own.
    '<!doctype html><html><head><meta name="viewport" content="width=device-width">': "",
    '<!doctype html><html><head><meta http-equiv="Content-Type" content="text/html; '
    'charset=utf-8">': "meta",
    "<!doctype html><html><head><meta http-equiv=content-security-policy "
    "content=\"script-src 'self'\">": "meta",
    '<!doctype html><html><head><meta name="next-head-count" content="3">': "meta",
}
PRELUDES = [
    *PRELUDES_READ,
    "<!doctype html><!-- x --><html><head>",
    "<!doctype html><htmlx><head>",
    "<!doctype html><html><header>",
    "<!doctype html><html><body><head>",
    '<!doctype html><html lang="en><head>',
    "<?xml version='1.0'?><html><head>",
    "<!doctype html>x<html><head>",
    "<!doctype html><html><head",
    "<!doctype html><html><head><meta charset=utf-8",
]


@pytest.mark.parametrize("prelude", PRELUDES)
def test_document_starts_scan_alike(prelude: str) -> None:
    for rest in ("<title>t</title><script src=/a.js></script></head><body><p>x</p>", ""):
        data = f"{prelude}{rest}".encode()
        built = build_page(data, SETTINGS).output or data
        for version in (data, built):
            _same_scans(version)
            _same_builds(version)


@pytest.mark.parametrize(("prelude", "left"), PRELUDES_READ.items())
def test_the_prelude_is_taken(monkeypatch: pytest.MonkeyPatch, prelude: str, left: str) -> None:
    """The common document starts are read in one match: the scan reads no <html> or
    <head> tag of its own, nor a charset <meta> after them (the token-by-token scan reads
    each), and finds the same head."""
    text = prelude + "<title>t</title><script src=/a.js></script></head><body>"
    start_tags: list[str] = []
    original = _HeadScanner._tag

    def counted(scanner: _HeadScanner, tag: Tag, whole: bool) -> int:
        if not tag.closing:
            start_tags.append(tag.name)
        return original(scanner, tag, whole)

    monkeypatch.setattr(_HeadScanner, "_tag", counted)
    fast = scan_head(text)
    assert [name for name in start_tags if name in ("html", "head", "meta")] == (
        [left] if left else []
    )
    start_tags.clear()
    reference = scan_head(text, shortcuts=False)
    assert "head" in start_tags
    assert _facts_of(fast, text) == _facts_of(reference, text)
    assert fast.amp == ("amp" in prelude.lower() or "\u26a1" in prelude)


def test_the_shortcuts_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quiet heads do take the shortcuts (a scan that stopped short of them would pass
    the comparisons without testing them): the title, style, link, meta and the three
    external scripts are read without a token of their own."""
    text = "<!doctype html><head>" + QUIET_HEADS[0] + QUIET_HEADS[1] + "</head><body>"
    tags: list[str] = []
    original = _HeadScanner._tag

    def counted(scanner: _HeadScanner, tag: Tag, whole: bool) -> int:
        tags.append(tag.name)
        return original(scanner, tag, whole)

    monkeypatch.setattr(_HeadScanner, "_tag", counted)
    fast = scan_head(text, until=len(text) - 8)
    assert tags == ["head", "body"]  # </head>: <head> is the prelude's
    tags.clear()
    reference = scan_head(text, until=len(text) - 8, shortcuts=False)
    quiet = ["title", "style", "link", "meta", "script", "script", "script"]
    assert tags == ["head", *quiet, "head", "body"]
    assert fast.first_script == reference.first_script == text.index("<script")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from(QUIET_HEADS), st.sampled_from(PLACES))
def test_generated_documents_scan_alike(data: bytes, quiet: str, place: bytes) -> None:
    for version in (data, data.replace(place, place + quiet.encode(), 1)):
        _same_scans(version)
        _same_builds(version)
        built = build_page(version, SETTINGS).output
        if built is not None:
            _same_builds(built)


def test_a_run_after_the_head_end_leaves_its_scripts_last() -> None:
    """Found by the generated documents: a <link> after </head> does not change which
    scripts end the head, in a run as token by token."""
    text = "<head><script src=/a.js></script></head>\n<link rel=stylesheet href=/s.css>"
    fast = scan_head(text, to_head_end=True)
    assert fast.anchor == scan_head(text, to_head_end=True, shortcuts=False).anchor == 6


class _Counted:
    """A pattern that notes the length of text each of its matches took."""

    def __init__(self, pattern: re.Pattern[str], read: list[int]) -> None:
        self.pattern = pattern
        self.read = read

    def match(self, *args: Any) -> re.Match[str] | None:
        found = self.pattern.match(*args)
        self.read.append(0 if found is None else len(found.group()))
        return found


def test_a_long_head_is_read_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that holds an element which may declare something (a charset in a style's
    text, a late http-equiv) or xdlink's script is cut there, not matched again after
    every token."""
    links = "".join(f"<link rel=stylesheet href=/{index}.css>" for index in range(300))
    scripts = "".join(f"<script src=/{index}.js></script>" for index in range(300))
    head = f"{links}<style>@charset 'x';</style>{links}<meta http-equiv=refresh content=9>"
    head += f'{scripts}<script data-xdlink="0.0.1 abc" src=/x.js></script>{scripts}'
    text = f"<!doctype html><head>{head}{links}<script src=/a.js></script></head><body>"
    read: list[int] = []  # the length of text each match took
    for name in ("_QUIET_RUN", "_QUIET_ONE", "_EMPTY_SCRIPTS", "_EMPTY_SCRIPT_ONE"):
        monkeypatch.setattr(scan_module, name, _Counted(getattr(scan_module, name), read))
    fast = scan_head(text, until=len(text) - 8)
    assert sum(read) < 6 * len(text)  # matching the rest of the run after each token: 400x
    reference = scan_head(text, until=len(text) - 8, shortcuts=False)
    assert (fast.anchor, fast.blocks) == (reference.anchor, reference.blocks)
    assert len(fast.blocks) == 1


def test_a_run_cut_by_a_charset_is_not_matched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the element a run stopped before (a charset or http-equiv <meta>, most heads
    have one near their top), the rest of the run is not matched a second time: the scan
    reads a long head's quiet elements about once (twice, before)."""
    links = "".join(f"<link rel=stylesheet href=/{index}.css>" for index in range(300))
    head = f"<meta charset=utf-8><title>t</title>{links}<meta http-equiv=refresh content=9>"
    text = f"<!doctype html><head>{head}{links}<script src=/a.js></script></head><body>"
    read: list[int] = []
    for name in ("_QUIET_RUN", "_QUIET_ONE"):
        monkeypatch.setattr(scan_module, name, _Counted(getattr(scan_module, name), read))
    fast = scan_head(text, until=len(text) - 8)
    assert sum(read) < 2 * len(text)
    assert fast.anchor == scan_head(text, until=len(text) - 8, shortcuts=False).anchor


ELEMENT = '<script data-xdlink="0.1.0 abc">let a = 1 < 2;</script>'
# Markup before xdlink's element that the lone-element search reads through, and markup
# after which it leaves the page to the scan: an element that opens raw text, a template,
# foreign content, a comment or tag the file ends in, or a second marker in any case.
PLAIN_PREFIXES = [
    "",
    "<!doctype html>\n<html lang=en>\n<head>\n  <title>A &amp; B</title>\n",
    "<!--\nSPDX\n-->\n<!DOCTYPE html><html><head><meta charset=utf-8>",
    "<?xml version='1.0'?><!-->a<!--->b<!-- c --!><html><head><style>a{b:c}</style>",
    '<html><head><link rel=a href="x>y"><meta name=d content=\'e"f\'></head><body><p>1 < 2',
    "<html><head></head><body><div class=a><a href=/b>c</a></div></x y=z>",
]
SCANNED_PREFIXES = [
    "<html><head><title>a < b</title>",
    "<html><head><noscript><p>x</p></noscript>",
    "<html><head><script>var s = 1;</script>",
    "<html><body><template><p>x</p>",
    "<html><body><svg><desc>x</desc>",
    "<html><body><textarea>",
    "<html><body><!-- x ",
    '<html><body><div title="',
    "<html><body><plaintext>",
    "<html><body></ x>",
    "<html><head><meta name=a content=DATA-XDLINK>",
]


def _lone(text: str) -> list[Block] | None:
    """The lone element as remove finds it in the page's bytes, the same as in its text."""
    found = lone_block(text, 0, text.encode("latin-1"))
    assert found == lone_block(text)
    return found


def _reference_blocks(text: str) -> list[Block]:
    """The blocks remove takes out without the lone-element search: the reference scan's."""
    source = read_source(text.encode())
    assert isinstance(source, Source)
    head = scan_head(source.text, source.start, shortcuts=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(page_module, "scan_blocks", functools.partial(scan_blocks, shortcuts=False))
        return page_module._all_blocks(source, head)


@pytest.mark.parametrize("prefix", PLAIN_PREFIXES)
def test_the_lone_element_is_found_through_plain_markup(prefix: str) -> None:
    text = prefix + ELEMENT + "\n</head><body><p>x</p></body></html>"
    assert (
        _lone(text)
        == _reference_blocks(text)
        == [Block(len(prefix), len(prefix) + len(ELEMENT), None)]
    )
    _same_builds(text.encode())


@pytest.mark.parametrize("prefix", SCANNED_PREFIXES)
def test_other_markup_before_the_element_is_left_to_the_scan(prefix: str) -> None:
    text = prefix + ELEMENT + "</head><body><p>x</p></body></html>"
    assert _lone(text) is None
    _same_builds(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "<html><head><title>t</title></head><body>data-xdlinks</body></html>",
        "<html><head></head><body><p>no marker</p></body></html>",
        ELEMENT + ELEMENT.replace("data-xdlink", "DATA-XdLink"),
        '<script data-xdlink="0.1.0 abc" src="/x.js"></script><p>x</p>',
        '<script data-xdlink="0.1.0 abc">let a = 1;',
    ],
)
def test_a_page_with_no_marker_or_more_than_one(text: str) -> None:
    """No marker in any case: no element, without a scan; two: the scan counts them; an
    element at the end of the file ends there, as the scan ends it."""
    found = _lone(text)
    assert found is None or found == _reference_blocks(text)
    assert (found == []) is ("xdlink" not in text.lower())
    _same_builds(text.encode())
