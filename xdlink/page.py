"""One page, bytes in and bytes out: splice, update or take out the xdlink block; no I/O."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from dataclasses import dataclass
from enum import StrEnum

from xdlink.facts import NO_FACTS, Facts, csp_blocks, gather_facts
from xdlink.mixpanel import init_call_positions
from xdlink.scan import MARKER_ATTRIBUTE, WS, Block, Head, Placement, scan_blocks, scan_head
from xdlink.script import RenderedScript, ScriptConfig, render
from xdlink.settings import Settings
from xdlink.source import PageError, Source, read_source

__all__ = ["Action", "Facts", "Outcome", "PageError", "build_page", "remove_page"]


TEMPLATE_REASON = "template syntax in <head>"
# Go templates, Jinja, Liquid, Nunjucks, Handlebars: in a tag (lang="{{ .Lang }}") or as
# the first thing after one ({{ partial "head.html" . }}). A built page has neither.
_TEMPLATE = re.compile(r"<[^<>]*\{[{%][^<>]*>|>[\t\n\f\r ]*\{[{%]")
# What every match of _TEMPLATE holds: a search for it (its literal first character
# lets the regex engine skip ahead) costs a fifth of two str.find of two characters.
_TEMPLATE_HINT = re.compile(r"\{[{%]")


class Action(StrEnum):
    INJECTED = "injected"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    action: Action
    output: bytes | None = None
    reason: str | None = None
    facts: Facts = NO_FACTS
    script: RenderedScript | None = None
    placement: Placement | None = None


# --- the block ------------------------------------------------------------------------


def external_file(external: str, script: RenderedScript) -> str:
    """The site path of the script's file: named by its hash, so it can be cached forever."""
    stem, _, suffix = external.rpartition(".")
    return f"{stem}.{script.fingerprint}.{suffix}"


def external_src(file: str, page_path: str, has_base: bool) -> str:
    """The URL of the script file from a page: relative, so the site can live under any
    path; from the site root when a <base> element would change what relative means."""
    if has_base:
        return "/" + file
    return posixpath.relpath(file, posixpath.dirname(page_path) or ".")


def _removal_span(text: str, block: Block, floor: int) -> tuple[int, int]:
    """What taking a block out removes: the element, and, for a block on a line of its
    own (as xdlink 0.1.0 placed it), that line's break and indent. An element xdlink
    inserts now brings no whitespace, so the element alone goes."""
    before = _whitespace_before(text, block.start, floor)
    after = _whitespace_after(text, block.end)
    if _last_line_break(after):
        return block.start - len(_last_line_break(before)), block.end
    return block.start, block.end


def _last_line_break(whitespace: str) -> str:
    """The last line break of a whitespace run (CRLF counts as one) and what follows it."""
    cut = max(whitespace.rfind("\n"), whitespace.rfind("\r"))
    if cut < 0:
        return ""
    if whitespace[cut] == "\n" and whitespace[cut - 1 : cut] == "\r":
        cut -= 1
    return whitespace[cut:]


def _whitespace_after(text: str, position: int) -> str:
    end = position
    while end < len(text) and text[end] in WS:
        end += 1
    return text[position:end]


def _whitespace_before(text: str, position: int, floor: int) -> str:
    start = position
    while start > floor and text[start - 1] in WS:
        start -= 1
    return text[start:position]


# --- build and remove ----------------------------------------------------------------


def build_page(
    data: bytes,
    settings: Settings,
    xml: bool = False,
    path: str = "index.html",
) -> Outcome:
    """Insert or update the page's xdlink block; ``xml`` when the page is served as XML.

    ``path``: the page's place in the site, for the script file's URL under ``--external``.
    """
    source = read_source(data)
    if isinstance(source, str):
        return Outcome(Action.SKIPPED, reason=source)
    calls = tuple(init_call_positions(source.text))
    head = scan_head(source.text, source.start, until=max(calls, default=0) + 1)
    if head.react_rendered and _hydrates_document(source.text):
        head = scan_head(source.text, source.start, to_head_end=True)
    if not head.is_document:
        return Outcome(Action.SKIPPED, reason="fragment (no doctype, <html>, <head> or <body>)")
    if not settings.built and _has_template_syntax(source.text, source.start, head.region_end):
        return Outcome(Action.SKIPPED, reason=TEMPLATE_REASON)
    if head.ends_in_comment:
        return Outcome(Action.SKIPPED, reason="the page ends inside a comment before its head")
    blocks = _all_blocks(source, head)
    facts = gather_facts(source, head, blocks, calls, settings.domains)
    script = _script(settings)
    if csp_blocks(head, script.sha256, settings.external is not None):
        facts = dataclasses.replace(facts, csp_blocks=True)
    src = None
    if settings.external is not None:
        src = external_src(external_file(settings.external, script), path, head.has_base)
    element = script.element(xml or head.has_xml_declaration, src)
    done = functools.partial(Outcome, facts=facts, script=script, placement=head.placement)
    if not blocks:
        return done(Action.INJECTED, source.splice(head.anchor, head.anchor, element))
    first = blocks[0]
    # Only elsewhere (a body, after the head's end), or not where a framework rule puts
    # it now: moved to the anchor.
    moved = not head.blocks or (
        head.placement is not Placement.HEAD and head.anchor not in (first.start, first.end)
    )
    if len(blocks) == 1 and not moved and source.text[first.start : first.end] == element:
        return done(Action.UNCHANGED)
    if moved:
        target = Block(head.anchor, head.anchor)
        spans = sorted([target, *blocks], key=lambda block: block.start)
        return done(Action.UPDATED, _rewrite(source, spans, element, spans.index(target)))
    return done(Action.UPDATED, _rewrite(source, blocks, element))


def remove_page(data: bytes) -> Outcome:
    """Take every xdlink block out, with the line break and indent it brought."""
    source = read_source(data)
    if isinstance(source, str):
        return Outcome(Action.SKIPPED, reason=source)
    blocks = _all_blocks(source, scan_head(source.text, source.start))
    if not blocks:
        return Outcome(Action.UNCHANGED)
    return Outcome(Action.REMOVED, _rewrite(source, blocks, None))


def _all_blocks(source: Source, head: Head) -> list[Block]:
    if source.text.find(MARKER_ATTRIBUTE, head.region_end) >= 0:
        return scan_blocks(source.text, source.start)
    return head.blocks


def _rewrite(source: Source, blocks: list[Block], element: str | None, at: int = 0) -> bytes:
    """Replace block ``at`` by ``element`` (None: remove it) and remove the others."""
    pieces: list[bytes] = []
    position, copied = source.start, 0
    for index, block in enumerate(blocks):
        if index == at and element is not None:
            start, end, replacement = block.start, block.end, element
        else:
            start, end = _removal_span(source.text, block, position)
            replacement = ""
        pieces += [source.data[copied : source.offset(start)], source.encode(replacement)]
        position, copied = end, source.offset(end)
    pieces.append(source.data[copied:])
    return b"".join(pieces)


def _hydrates_document(text: str) -> bool:
    """Whether React Router or Remix hydrates the whole document (their context script)."""
    return "__reactRouterContext" in text or "__remixContext" in text


def _has_template_syntax(text: str, start: int, end: int) -> bool:
    if _TEMPLATE_HINT.search(text, start, end) is None:
        return False
    return _TEMPLATE.search(text, start, end) is not None


@functools.lru_cache(maxsize=64)
def _script(settings: Settings) -> RenderedScript:
    return render(ScriptConfig.of(settings))
