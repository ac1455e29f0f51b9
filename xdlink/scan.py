"""Locate the head of an HTML page in its source text, by the HTML tokenizer's rules.

Only positions come from here; what a page contains is read with lxml (see ``facts``).
libxml2's HTML parser is not an HTML5 parser (it treats ``<noscript>`` and ``<template>``
in head differently from browsers) and keeps no offsets, so the place where browsers will
run the script is found by following the WHATWG tokenizer and head insertion modes.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from xdlink.lowered import Lowered, any_case_positions

WS = "\t\n\f\r "
# Possessive quantifiers keep these linear: a name is never split to retry a match.
# Once "=" follows a name a value must be read: an unclosed quote then fails the match,
# as the text ending inside the tag does for the tokenizer.
_ATTRIBUTE = (
    r"[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r /=>]*+)"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(\"[^\"]*+\"|'[^']*+'|(?![\"'])[^\t\n\f\r >]*+)"
    r"|(?![\t\n\f\r ]*+=))"
)
_ATTRIBUTE_RE = re.compile(_ATTRIBUTE)
_TAG_REST = rf"([A-Za-z][^\t\n\f\r />]*+)((?:{_ATTRIBUTE})*+)[\t\n\f\r /]*+>"
_TAG = re.compile(rf"</?+{_TAG_REST}")
# Whitespace, then a whole tag: the common token of a head, read in one match.
_SPACED_TAG = re.compile(rf"[\t\n\f\r ]*+(<)(/?+){_TAG_REST}")


def _end_tag(name: str) -> str:
    """Return the pattern of a whole end tag of the element ``name``, as the tokenizer
    reads it."""
    return rf"</(?i:{name})(?=[\t\n\f\r />])(?:{_ATTRIBUTE})*+[\t\n\f\r /]*+>"


def _start_tag(name: str, attributes: str | None = None) -> str:
    """Return the pattern of a whole start tag of the element ``name`` (a pattern of
    names too, "link|meta"), as the tokenizer reads it; ``attributes``: the name of a
    group that holds the tag's attributes."""
    held = rf"(?:{_ATTRIBUTE})*+"
    if attributes is not None:
        held = rf"(?P<{attributes}>{held})"
    return rf"<(?i:{name})(?=[\t\n\f\r />]){held}[\t\n\f\r /]*+>"


def _element_pattern(name: str, content: str) -> str:
    """Return the pattern of a whole element: start tag, ``content`` and end tag, spaces
    first."""
    start = rf"[\t\n\f\r ]*+{_start_tag(name)}"
    return start + content + _end_tag(name)


_TEXT = "[^<]*+"
_SPACES = "[\\t\\n\\f\\r ]*+"
# The start of most documents, read in one match: a doctype, the <html> start tag (each
# may be missing) and the <head> start tag, whitespace between, and a <meta> after them
# (most often the charset's). A doctype ends at its first ">", as for the tokenizer
# (_markup_declaration).
_PRELUDE = re.compile(
    rf"(?:{_SPACES}<!(?i:doctype)[^>]*+>)?+"
    rf"(?:{_SPACES}{_start_tag('html', 'html')})?+"
    rf"{_SPACES}{_start_tag('head')}(?P<head_end>)"
    rf"(?:{_SPACES}(?P<meta>{_start_tag('meta', 'meta_attributes')}))?+"
)
# A run of <link>, <meta>, <title> and <style> elements (the last two with no "<" in their
# text, which then ends at the first "</"): once the head has started they only stay in
# it, unless a <meta> declares the charset or a policy (see _quiet_runs).
_QUIET_ELEMENT = (
    rf"[\t\n\f\r ]*+{_start_tag('link|meta')}"
    rf"|{_element_pattern('title', _TEXT)}|{_element_pattern('style', _TEXT)}"
)
_QUIET_RUN = re.compile(rf"(?:{_QUIET_ELEMENT})++")
_QUIET_ONE = re.compile(_QUIET_ELEMENT)
# A run of script elements with nothing but whitespace in them (external scripts): they
# change only where the first script and the scripts that end the head start.
_EMPTY_SCRIPT = _element_pattern("script", _SPACES)
_EMPTY_SCRIPTS = re.compile(rf"(?:{_EMPTY_SCRIPT})++")
_EMPTY_SCRIPT_ONE = re.compile(_EMPTY_SCRIPT)
_NON_WS = re.compile(r"[^\t\n\f\r ]")
_SCRIPT_DATA = re.compile(r"<!--|-->|<(/?)script(?=[\t\n\f\r />])", re.IGNORECASE)
_LETTER = re.compile(r"[A-Za-z]")
_COMMENT_END = re.compile(r"--!?>")

# Elements whose content the tokenizer reads as text up to their own end tag; noscript
# among them because browsers parse it so when scripting is on, which it is for us.
RAW_TEXT = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "title", "textarea"}
)
# Markup the tokenizer reads in its data state and leaves there, with no element the scan
# sets apart: text (a lone "<" among it), comments, declarations, end tags, start tags but
# those that open raw text, <plaintext>, <template> (whose scripts are no blocks) and
# foreign content, and whole <title> and <style> elements with no "<" in their text.
_STATE_CHANGING = "|".join(sorted(RAW_TEXT | {"plaintext", "template", "svg", "math"}))
_PLAIN_MARKUP = re.compile(
    rf"(?:[^<]++|<(?![A-Za-z/!?])"
    rf"|<!--(?:>|->|(?s:.*?)--!?>)|<!(?!--)[^>]*+>|<\?[^>]*+>"
    rf"|</{_TAG_REST}|<(?!(?i:{_STATE_CHANGING})(?=[\t\n\f\r />])){_TAG_REST}"
    rf"|{_element_pattern('title', _TEXT)}|{_element_pattern('style', _TEXT)})*+"
)
# Start tags the "in head" insertion mode keeps in head (and "after head" puts back there).
HEAD_ELEMENTS = frozenset(
    {
        "base",
        "basefont",
        "bgsound",
        "link",
        "meta",
        "noframes",
        "noscript",
        "script",
        "style",
        "template",
        "title",
    }
)
# Start tags "after head" puts back into the head (noscript is not among them).
AFTER_HEAD_ELEMENTS = HEAD_ELEMENTS - {"noscript"}
MARKER_ATTRIBUTE = "data-xdlink"
# What every spelling of the marker attribute holds. A page's bytes are searched for its
# every spelling at once (lowered.any_case_positions); a decoded page's text by one
# case-insensitive search with a literal first character (a search for the whole name in
# any case tries every "d" and "D").
_MARKER_TAIL_TEXT = "-" + MARKER_ATTRIBUTE.rpartition("-")[2]
_MARKER_TAIL = re.compile(f"-(?i:{re.escape(_MARKER_TAIL_TEXT[1:])})")
NEXT_HEAD_COUNT = "next-head-count"
# The root element's attributes that make a page AMP, as the AMP validator reads them (its
# type identifiers, any case): AMP pages, AMP for ads, AMP for email. Each as decoded text
# and as the latin-1 view of its UTF-8 bytes (see ``source``).
AMP_ATTRIBUTES = frozenset(
    spelling
    for prefix in ("amp", "\u26a1", "\u26a1\ufe0f")
    for suffix in ("", "4ads", "4email")
    for spelling in (prefix + suffix, (prefix + suffix).encode().decode("latin-1"))
)
# End tags that make the parser open the head in "before html" and "before head"; the
# others are ignored there.
_HEAD_IMPLYING_END_TAGS = frozenset({"head", "body", "html", "br"})


class Placement(StrEnum):
    """Which placement rule a page's element follows (see _HeadScanner)."""

    HEAD = "early in head"
    NEXT_HEAD_COUNT = "after next-head-count"
    HEAD_END = "at the end of head (document hydration)"


@dataclass(slots=True)
class Tag:
    """One start or end tag of the source: its lower-case name, span and attributes."""

    name: str
    start: int
    end: int
    closing: bool = False
    attrs: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        """An attribute's value as the tokenizer gives it to the page: its character
        references decoded ("" when the tag has no such attribute)."""
        raw = self.attrs.get(name, "")
        return html.unescape(raw) if "&" in raw else raw


@dataclass(slots=True)
class Block:
    """An xdlink script element: the span of the whole element, start tag to end tag."""

    start: int
    end: int
    src: str | None = None


@dataclass(slots=True)
class Head:
    """What the tokenizer found before the page's body starts."""

    is_document: bool = False
    has_xml_declaration: bool = False
    anchor: int = 0
    first_script: int | None = None
    charset_after_script: bool = False
    region_end: int = 0
    blocks: list[Block] = field(default_factory=list)
    csp_before_anchor: list[str] = field(default_factory=list)
    # The content spans of the inline scripts, with their type attribute (None without one).
    inline_scripts: list[tuple[int, int, str | None]] = field(default_factory=list)
    has_base: bool = False
    ends_in_comment: bool = False  # the file ends inside a comment before the head
    placement: Placement = field(default_factory=lambda: Placement.HEAD)
    react_rendered: bool = False  # a <meta charSet> as React writes it
    amp: bool = False  # the root element says AMP (<html ⚡>, <html amp4email> ...)


class UnclosedTag(ValueError):
    """The source ends inside a tag: nothing after it is markup."""


def parse_tag(text: str, start: int, every_attribute: bool = False) -> Tag:
    """Read the tag that opens at ``text[start] == '<'``; raise UnclosedTag if it never closes.

    One regular expression follows the tokenizer's tag, attribute name and value states;
    it fails only where the text ends inside the tag. Attributes are split out only where
    they matter (``every_attribute`` for all tags): a head can hold dozens of <link> and
    <meta> tags, and building their dictionaries showed in the scan's time (``make bench``).
    """
    match = _TAG.match(text, start)
    if match is None:
        raise UnclosedTag
    closing = text[start + 1] == "/"
    return _tag_of(match.group(1), match.group(2), start, match.end(), closing, every_attribute)


def _tag_of(
    name: str, raw: str, start: int, end: int, closing: bool, every_attribute: bool = False
) -> Tag:
    name = name.lower()
    wanted = every_attribute or name == "script" or name == "base" or name == "html"
    wanted = wanted or (name == "meta" and _declares_something(raw))
    attrs = _attributes(raw) if wanted and not closing else {}
    return Tag(name, start, end, closing, attrs)


def tag_source(text: str, start: int) -> str | None:
    """Return the source text of the tag that opens at ``text[start] == '<'``, or None if the text
    ends inside it: a tag's meaning depends on this text alone, so it can key a cache."""
    match = _TAG.match(text, start)
    return None if match is None else match.group()


def _run_end(
    text: str,
    position: int,
    run: re.Pattern[str],
    element: re.Pattern[str],
    stop: Callable[[str], bool],
    known_end: int = -1,
) -> tuple[int, int]:
    """Return where a run of quiet elements from ``position`` ends: in one match, or, when
    ``stop`` holds for the run's text, before the first element it holds for. That one
    takes the general path and the run goes on after it: the elements before it are read
    one at a time, as matching the rest of the run again after each token would make a
    long head quadratic. Also return the run's end when it stopped early (else -1): the
    caller passes it back as ``known_end`` when it comes back after the element it
    stopped before, and the rest of the run is not matched again."""
    if position < known_end:
        end = known_end
        if not stop(text[position:end]):
            return end, -1
    else:
        found = run.match(text, position)
        if found is None:
            return position, -1
        end = found.end()
        if not stop(found.group()):
            return end, -1
    while (one := element.match(text, position, end)) and not stop(one.group()):
        position = one.end()
    return position, end


def _is_marked(raw: str) -> bool:
    """Return whether a run of scripts may hold xdlink's (its attribute, in any case)."""
    return MARKER_ATTRIBUTE in raw.lower()


def _declares_something(raw: str) -> bool:
    """Return whether a <meta> tag's text may declare a charset, an http-equiv or Next.js's head
    count (a lower-cased copy and ``in`` cost a fraction of a case-insensitive search)."""
    lowered = raw.lower()
    return "charset" in lowered or "http-equiv" in lowered or NEXT_HEAD_COUNT in lowered


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for name, value in _ATTRIBUTE_RE.findall(raw):
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attrs.setdefault(name.lower(), value)
    return attrs


def script_spans(text: str, lowered: Lowered) -> Iterator[tuple[int, int]]:
    """Return where each ``<script>`` element stands, from its start tag to its end tag
    as the tokenizer ends it (escape states followed): those inside comments and other
    raw text too, a superset found with one search of the lower-cased view, which costs
    less than one search of the whole text for each SDK's name. A ``<script`` inside a
    script's text is that text."""
    after = 0
    for at in lowered.positions("<script"):
        name_end = at + len("<script")
        if at < after or lowered.text[name_end : name_end + 1] not in NAME_END:  # "<scripts"
            continue
        content = text.find(">", name_end) + 1 or len(text)
        after = raw_text_end(text, "script", content)
        yield at, after


def raw_text_end(text: str, name: str, start: int) -> int:
    """Return where the end tag of a raw-text element opened before ``start`` begins (or EOF)."""
    if name == "script":
        return _script_end(text, start)
    pattern = _end_tag_pattern(name)
    match = pattern.search(text, start)
    return match.start() if match else len(text)


def _end_tag_after(text: str, content_end: int, name: str) -> int:
    """Return where the end tag of ``name`` that starts at ``content_end`` ends (EOF: the
    text's end): at once for ``</name>``, as it is almost always written."""
    if content_end >= len(text):
        return len(text)
    close = content_end + 2 + len(name)
    if text[close : close + 1] == ">":
        return close + 1
    return parse_tag(text, content_end).end


@functools.cache
def _end_tag_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}(?=[\t\n\f\r />])", re.IGNORECASE)


@functools.cache
def _plain_rest(name: str) -> re.Pattern[str]:
    """Return the pattern of the rest of a raw-text element whose text holds no "<": the
    first "</" then starts its end tag, with no escape state to follow (see
    _plain_script_end). Compiled when first needed: most pages need two or three of them."""
    return re.compile(rf"[^<]*+({_end_tag(name)})")


def _script_end(text: str, start: int) -> int:
    """Follow the script data states: ``<!--`` escapes, ``<script`` inside them nests."""
    close = _plain_script_end(text, start)
    if close is not None:
        return close
    data, escaped, double = 0, 1, 2
    state = data
    position = start
    while True:
        match = _SCRIPT_DATA.search(text, position)
        if match is None:
            return len(text)
        token = match.group()
        if token == "<!--":
            state = escaped if state == data else state
            position = match.start() + 2  # "<!-->" also ends the escape it starts
        elif token == "-->":
            state = data
            position = match.end()
        elif match.group(1):
            if state != double:
                return match.start()
            state, position = escaped, match.end()
        else:
            state = double if state == escaped else state
            position = match.end()


def _plain_script_end(text: str, start: int) -> int | None:
    """Find a script's end in the common case, with str.find: the first ``</script`` when no
    ``<!--`` precedes it (a case-insensitive search with the escape states is slower, as
    ``make bench`` shows). Most scripts hold few "<": hopping from one to the next (a
    memchr) reads the text once, where searching for "</" and then "<!--" reads it twice."""
    lt = text.find("<", start)
    hops = _HOPS
    while lt >= 0:
        after = text[lt + 1 : lt + 2]
        if after == "/":
            if _is_script_end_tag(text, lt):
                return lt
        elif after == "!" and text.startswith("<!--", lt):
            return None
        hops -= 1
        if not hops:
            return _many_lt_script_end(text, lt + 1)
        lt = text.find("<", lt + 1)
    return len(text)


_HOPS = 8


def _is_script_end_tag(text: str, lt: int) -> bool:
    return text[lt + 2 : lt + 8].lower() == "script" and text[lt + 8 : lt + 9] in NAME_END


def _many_lt_script_end(text: str, position: int) -> int | None:
    """The rest of _plain_script_end for a script with many "<", from ``position``, before
    which it holds no ``<!--``."""
    close = text.find("</", position)
    while close >= 0:
        if _is_script_end_tag(text, close):
            return None if text.find("<!--", position, close) >= 0 else close
        close = text.find("</", close + 2)
    return None if text.find("<!--", position) >= 0 else len(text)


# What ends a tag name (the tokenizer's own list: "<scripts" is no script tag).
NAME_END = frozenset({"\t", "\n", "\f", "\r", " ", "/", ">"})


def _comment_end(text: str, start: int) -> int | None:
    """Return the end of a comment whose ``<!--`` ends at ``start`` ("<!-->" and "--!>"
    included), or None when the file ends inside it."""
    if text.startswith(">", start):
        return start + 1
    if text.startswith("->", start):
        return start + 2
    match = _COMMENT_END.search(text, start)
    return None if match is None else match.end()


# An http-equiv is compared as the tokenizer gives it, ASCII case-insensitively: browsers
# do not trim it, and " Content-Security-Policy" enforces nothing.
def _is_charset_meta(tag: Tag) -> bool:
    if "charset" in tag.attrs:
        return True
    return tag.value("http-equiv").lower() == "content-type"


def _is_csp_meta(tag: Tag) -> bool:
    return tag.value("http-equiv").lower() == "content-security-policy"


class _HeadScanner:
    """Walks tokens from the top of the page until the first one that belongs to body,
    following the insertion modes "initial", "before html", "before head" and "in head".

    The placement rule, which keeps the page's parse tree as it was plus one element:

    - Until the head starts, the element waits: comments, whitespace, the doctype, an
      XML declaration and an ``<html>`` tag stay before it. In "before html" and "before
      head" a comment is a child of the document or of ``html`` and whitespace is
      dropped; after the element (which makes the parser open ``html`` and ``head``) both
      would land in ``head``.
    - The head starts after an explicit ``<head>`` tag, or at the first token that makes
      the parser imply one: any other start tag, text that is not whitespace, or one of
      the end tags ``</head>``, ``</body>``, ``</html>``, ``</br>`` (other end tags are
      ignored there). The element goes right there: after ``<head>``, or just before the
      implying token. A ``<head>`` tag after that point is ignored by the parser, and so
      here.
    - ``</body>``, ``</html>`` and ``</br>`` in the head end it and open the body;
      ``</head>`` leaves a mode where head elements but ``<noscript>`` still join the head.
    - In the head it moves past ``<meta charset>`` (or ``http-equiv`` Content-Type) and
      ``<base>`` when they come before the first script, so that the charset stays in the
      first 1024 bytes and relative URLs resolve as the page means them.
    - It adds no whitespace of its own: whitespace next to it stays where it was.
    - A page that ends inside a comment before its head has no place after that comment:
      it is skipped. A page that ends inside a tag keeps its element before that tag,
      which browsers drop.

    Two frameworks take over the head after load, and the element must stay out of what
    they own (``Head.placement`` names the rule a page got):

    - Next.js's Pages Router (up to 14) writes ``<meta name="next-head-count"
      content="N">`` after the N head elements its head manager replaces on the client:
      the element goes right after that meta, outside them.
    - React 18 hydrating the whole document (React Router 7, Remix: the page holds
      ``window.__reactRouterContext`` or ``__remixContext``, and React writes ``<meta
      charSet>``) matches the head's children to its own in order, by tag name, and leaves
      extra ones at the end alone; an element anywhere else makes it discard the page and
      render it again. The element goes before the scripts that end the head (the
      Mixpanel snippet, usually: React then matches the element to the snippet's script,
      which it does not render again, and the snippet to nothing), or before ``</head>``
      when the head does not end with a script. React 19 accepts both.

    For speed the scan reads several tokens in one match where they cannot change the
    outcome: runs of <link>, <meta>, plain <title> and <style>, runs of external scripts,
    whitespace and the tag after it, raw text without "<". With ``shortcuts`` off it reads
    token by token; the tests hold the two to the same result.
    """

    def __init__(self, text: str, start: int, until: int = 0, shortcuts: bool = True) -> None:
        self.text = text
        # Off: every token goes through the general path one by one (the reference the
        # tests hold the shortcuts to).
        self.shortcuts = shortcuts
        # The scan may end after the first script once the charset prescan's 1024 bytes
        # and ``until`` are behind it: nothing later moves the anchor.
        self.stop_after = max(start + 1024, until)
        self.head = Head(anchor=start, region_end=len(text))
        self.template_depth = 0
        self.head_start: int | None = None  # where the head starts, explicit or implied
        self.after_head = False  # past </head>: only some head elements join it still
        self.charset_end = start
        self.base_end = start
        self.pending_csp: list[tuple[int, str]] = []
        self.next_head_count_end: int | None = None
        self.to_head_end = False  # document hydration: the element goes after head's own
        self.scripts_to_end: int | None = None  # where the scripts that end the head start
        self.head_end: int | None = None  # where </head> stands
        # The ends of the runs of quiet elements and of external scripts that stopped
        # before an element the general path reads (see _run_end).
        self.quiet_run_end = -1
        self.scripts_run_end = -1

    def run(self, start: int, whole: bool) -> Head:
        position = self._prelude(start) if self.shortcuts else start
        text = self.text
        while True:
            skipped = self._quiet_runs(position) if self.shortcuts else position
            if skipped != position:
                position = skipped
                if not whole and self._enough(position):
                    self.head.region_end = position
                    break
            spaced = _SPACED_TAG.match(text, position) if self.shortcuts else None
            lt = spaced.start(1) if spaced is not None else text.find("<", position)
            if spaced is None and not whole and self.template_depth == 0:
                non_ws = _NON_WS.search(text, position, len(text) if lt < 0 else lt)
                if non_ws is not None:
                    self._head_starts_at(non_ws.start())
                    self.head.region_end = non_ws.start()
                    break
            if lt < 0:
                break
            try:
                position = self._spaced_tag(spaced, whole) if spaced else self._token(lt, whole)
            except UnclosedTag:
                self._head_starts_at(lt)  # browsers drop a tag the file ends in
                self.head.region_end = lt
                break
            if position < 0:
                self.head.region_end = lt
                break
            if not whole and self._enough(position):
                self.head.region_end = position
                break
        return self._finish()

    def _prelude(self, start: int) -> int:
        """Read a document's doctype, <html> and <head> start tags, and a charset <meta>
        after them, in one match, where they open the text as most generators write
        them; return where the scan goes on."""
        prelude = _PRELUDE.match(self.text, start)
        if prelude is None:
            return start
        self.head.is_document = True
        if html_attributes := prelude.group("html"):
            self.head.amp = not AMP_ATTRIBUTES.isdisjoint(_attributes(html_attributes))
        self.head_start = prelude.end("head_end")
        meta = prelude.group("meta")
        if meta is None or "charset" not in _attributes(prelude.group("meta_attributes")):
            # Any other <meta> (a charset given by http-equiv, a policy) is the scan's.
            return prelude.start("meta") if meta is not None else prelude.end()
        self.charset_end = prelude.end()  # as _head_element reads a charset <meta>
        self.head.react_rendered = "charSet" in meta
        return prelude.end()

    def _quiet_runs(self, position: int) -> int:
        """Skip past runs of quiet elements in the head, each in one match: they are most of
        a head's tokens. A run of <link>, <meta>, <title> and <style> changes nothing here
        but a charset or CSP <meta>; a run of external scripts (none of them xdlink's)
        only where the scripts start."""
        if self.head_start is None or self.template_depth:
            return position
        text = self.text
        while True:
            end, self.quiet_run_end = _run_end(
                text, position, _QUIET_RUN, _QUIET_ONE, _declares_something, self.quiet_run_end
            )
            if end > position:
                if not self.after_head:  # as _head_element: only the head's own count
                    self.scripts_to_end = None
                position = end
                continue
            end, self.scripts_run_end = _run_end(
                text, position, _EMPTY_SCRIPTS, _EMPTY_SCRIPT_ONE, _is_marked, self.scripts_run_end
            )
            if end == position:
                return position
            self._scripts_at(text.index("<", position))
            position = end

    def _scripts_at(self, start: int) -> None:
        """Note that scripts that are not xdlink's start at ``start``."""
        if self.head.first_script is None:
            self.head.first_script = start
        if not self.after_head and self.scripts_to_end is None:
            self.scripts_to_end = start

    def _spaced_tag(self, spaced: re.Match[str], whole: bool) -> int:
        """Read the common token, whitespace and then a tag, in one match."""
        lt, closing = spaced.start(1), spaced.group(2) == "/"
        tag = _tag_of(spaced.group(3), spaced.group(4), lt, spaced.end(), closing)
        return self._tag(tag, whole)

    def _head_starts_at(self, position: int) -> None:
        if self.head_start is None:
            self.head_start = position

    def _enough(self, position: int) -> bool:
        head = self.head
        return (
            (head.first_script is not None or bool(head.blocks))
            and head.is_document
            and not self.template_depth
            and position >= self.stop_after
        )

    def _token(self, lt: int, whole: bool) -> int:
        """Consume the token at ``lt``; return where scanning goes on, or -1 at body."""
        text = self.text
        if text.startswith("<!--", lt):
            return self._comment(lt)
        nxt = text[lt + 1 : lt + 2]
        if nxt in ("!", "?"):
            return self._markup_declaration(lt)
        if nxt == "/" and not _LETTER.match(text, lt + 2):
            return self._odd_end_tag(lt, whole)
        if nxt == "/" or _LETTER.match(nxt):
            return self._tag(parse_tag(text, lt), whole)
        # A lone "<" is text: text starts the body.
        if whole or self.template_depth:
            return lt + 1
        self._head_starts_at(lt)
        return -1

    def _comment(self, lt: int) -> int:
        end = _comment_end(self.text, lt + 4)
        return self._unterminated() if end is None else end

    def _unterminated(self) -> int:
        """Handle a comment (or doctype) the file ends in: there is no place after it."""
        if self.head_start is None:
            self.head.ends_in_comment = True
        return len(self.text)

    def _odd_end_tag(self, lt: int, whole: bool) -> int:
        """Read an end tag open ``</`` not followed by a letter: ``</>`` is dropped, ``</``
        at the end of the file is text, anything else a bogus comment up to the next ``>``."""
        text = self.text
        if text.startswith(">", lt + 2):
            return lt + 3
        if lt + 2 >= len(text):
            self._head_starts_at(lt)
            return len(text) if whole else -1
        close = text.find(">", lt + 2)
        return self._unterminated() if close < 0 else close + 1

    def _markup_declaration(self, lt: int) -> int:
        text = self.text
        close = text.find(">", lt)
        if close < 0:
            return self._unterminated()
        end = close + 1
        if text[lt + 1] == "?":
            self.head.has_xml_declaration |= text.startswith("<?xml", lt)
        elif text[lt + 2 : lt + 9].lower() == "doctype":
            self.head.is_document = True
        return end

    def _tag(self, tag: Tag, whole: bool) -> int:
        if self.template_depth:
            return self._in_template(tag)
        name = tag.name
        if tag.closing:
            # Before the head they open it, in it they close it and open the body ("</head>"
            # leaves "after head", where head elements still go to the head).
            ends_head = name in _HEAD_IMPLYING_END_TAGS and (
                self.head_start is None or name != "head"
            )
            if ends_head:
                self._head_starts_at(tag.start)
                return tag.end if whole else -1
            if name == "head" and self.head_start is not None and not self.after_head:
                self.after_head = True
                self.head_end = tag.start
            return tag.end
        if name == "html":
            # Every <html> tag's attributes go to the root element: one may say AMP.
            self.head.is_document = True
            self.head.amp = self.head.amp or not AMP_ATTRIBUTES.isdisjoint(tag.attrs)
            return tag.end
        if name == "head":
            self.head.is_document = True
            self._head_starts_at(tag.end)
            return tag.end
        self._head_starts_at(tag.start)
        if name not in (AFTER_HEAD_ELEMENTS if self.after_head else HEAD_ELEMENTS):
            if name in ("body", "frameset"):
                self.head.is_document = True
            if not whole:
                return -1
        return self._head_element(tag)

    def _head_element(self, tag: Tag) -> int:
        name = tag.name
        before_script = self.head.first_script is None
        if not self.after_head and (name != "script" or MARKER_ATTRIBUTE not in tag.attrs):
            if name != "script":
                self.scripts_to_end = None
            elif self.scripts_to_end is None:
                self.scripts_to_end = tag.start
        if name == "meta":
            if _is_charset_meta(tag):
                self.charset_end = tag.end
                self.head.charset_after_script = not before_script
                self.head.react_rendered |= "charSet" in self.text[tag.start : tag.end]
            elif _is_csp_meta(tag):
                self.pending_csp.append((tag.end, tag.attrs.get("content", "")))
            elif tag.attrs.get("name") == NEXT_HEAD_COUNT:
                self.next_head_count_end = tag.end
        elif name == "base":
            self.head.has_base = True
            self.base_end = tag.end if before_script else self.base_end
        elif name == "template":
            self.template_depth = 1
            return tag.end
        if name not in RAW_TEXT:
            return tag.end
        content_end, end_tag = self._raw_text(name, tag.end)
        if name == "script":
            self._script(tag, content_end, end_tag)
        return end_tag

    def _script(self, tag: Tag, content_end: int, end: int) -> None:
        if MARKER_ATTRIBUTE in tag.attrs:
            self.head.blocks.append(Block(tag.start, end, tag.attrs.get("src")))
            return
        if self.head.first_script is None:
            self.head.first_script = tag.start
        if "src" not in tag.attrs:
            self.head.inline_scripts.append((tag.end, content_end, tag.attrs.get("type")))

    def _in_template(self, tag: Tag) -> int:
        if tag.name == "template":
            self.template_depth += -1 if tag.closing else 1
            return tag.end
        if not tag.closing and tag.name in RAW_TEXT:
            return self._raw_text(tag.name, tag.end)[1]
        return tag.end

    def _raw_text(self, name: str, start: int) -> tuple[int, int]:
        """Return where the text of a raw-text element opened before ``start`` ends, and where its
        end tag does: in one match when the text holds no "<"."""
        plain = _plain_rest(name).match(self.text, start) if self.shortcuts else None
        if plain is not None:
            return plain.start(1), plain.end()
        content_end = raw_text_end(self.text, name, start)
        return content_end, _end_tag_after(self.text, content_end, name)

    def _finish(self) -> Head:
        head = self.head
        start = self.head_start if self.head_start is not None else head.region_end
        head.anchor = max(start, self.charset_end, self.base_end)
        if self.to_head_end and self.head_end is not None:
            head.anchor = self.scripts_to_end or self.head_end
            head.placement = Placement.HEAD_END
        elif self.next_head_count_end is not None:
            head.anchor = max(head.anchor, self.next_head_count_end)
            head.placement = Placement.NEXT_HEAD_COUNT
        head.csp_before_anchor = [text for end, text in self.pending_csp if end <= head.anchor]
        return head


def scan_head(
    text: str, start: int = 0, until: int = 0, to_head_end: bool = False, shortcuts: bool = True
) -> Head:
    """Tokenize from ``start`` through the head far enough to find the anchor, the blocks
    before it and the head metadata, and at least to ``until``; ``region_end`` says
    where the scan ended. ``to_head_end``: the page hydrates its whole document, and
    the element goes after the head's own elements (see _HeadScanner). ``shortcuts``
    off: the reference scan, token by token."""
    scanner = _HeadScanner(text, start, len(text) if to_head_end else until, shortcuts)
    scanner.to_head_end = to_head_end
    return scanner.run(start, whole=False)


def lone_block(text: str, start: int = 0, raw: bytes | None = None) -> list[Block] | None:
    """Return the page's xdlink blocks without a scan where that is certain: none when no
    marker attribute stands in the page in any case; the one element when the marker
    stands once, in a script start tag that only plain markup precedes (see
    _PLAIN_MARKUP), which the tokenizer then reads as a tag. None: the scan decides.

    ``raw``: the text view as bytes, one byte a position (a latin-1 view), searched
    instead of the text when given."""
    found = _marker_places(text, start, raw)
    if not found:
        return []
    if len(found) > 1:
        return None
    lt = text.rfind("<", start, found[0])
    if lt < 0 or _PLAIN_MARKUP.fullmatch(text, start, lt) is None:
        return None
    try:
        tag = parse_tag(text, lt)
        if tag.name != "script" or tag.closing or MARKER_ATTRIBUTE not in tag.attrs:
            return None
        end = _end_tag_after(text, raw_text_end(text, "script", tag.end), "script")
    except UnclosedTag:
        return None
    return [Block(lt, end, tag.attrs.get("src"))]


def _marker_places(text: str, start: int, raw: bytes | None) -> list[int]:
    """Return where the marker's tail stands in any case: the first two places, or fewer."""
    if raw is not None:
        return any_case_positions(raw, _MARKER_TAIL_TEXT, start)
    first = _MARKER_TAIL.search(text, start)
    if first is None:
        return []
    second = _MARKER_TAIL.search(text, first.end())
    return [first.start()] if second is None else [first.start(), second.start()]


def scan_blocks(text: str, start: int = 0, shortcuts: bool = True) -> list[Block]:
    """Return every xdlink block anywhere in the page (for pages where one sits outside head)."""
    return _HeadScanner(text, start, shortcuts=shortcuts).run(start, whole=True).blocks
