"""One page, bytes in and bytes out: splice, update or take out the xdlink block; no I/O."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from dataclasses import dataclass

from xdlink import mixpanel, posthog
from xdlink.facts import NO_FACTS, Facts, csp_blocks, gather_facts
from xdlink.initcalls import calls_in_scripts
from xdlink.outcomes import Action, Because, Change, ChangeReason, Skip, SkipReason
from xdlink.scan import (
    HEAD_ELEMENTS,
    MARKER_ATTRIBUTE,
    RAW_TEXT,
    WS,
    Block,
    Head,
    Placement,
    UnclosedTag,
    lone_block,
    parse_tag,
    raw_text_end,
    scan_blocks,
    scan_head,
    script_spans,
)
from xdlink.script import RenderedScript, ScriptConfig, render
from xdlink.sdks import Variant
from xdlink.settings import Settings, WarningKind
from xdlink.source import PageError, Source, read_source

__all__ = ["Action", "Facts", "Outcome", "PageError", "build_page", "remove_page"]


# The template syntax of the generators' languages: Jinja, Nunjucks, Liquid and Twig
# ({% %}, {{ }}), Go templates and Handlebars ({{ }}), ERB and EJS (<% %>). A built page
# has none in its head but in its scripts' text. Searched for as two literals: a pattern
# with alternatives that start with other characters is slower (``make bench`` shows it).
_TEMPLATE_HINT = re.compile(r"\{[{%]")
_ERB_HINT = re.compile(r"<%")
_HEAD_END = re.compile(r"</(?i:head)|<(?i:body)[\t\n\f\r />]")
_TEMPLATE_OR_TAG = re.compile(r"\{[{%]|<%|<!--|<([A-Za-z][^\t\n\f\r />]*+)")
_HEAD_TAGS = HEAD_ELEMENTS | {"html", "head"}
_SDK_CALLS = (mixpanel.CALLS, posthog.CALLS)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the core did to one page: the action, the new bytes when the page changes, and
    why it is skipped or changes."""

    action: Action
    output: bytes | None = None
    skip: Skip | None = None
    change: Change | None = None
    facts: Facts = NO_FACTS
    script: RenderedScript | None = None
    placement: Placement | None = None

    @property
    def reason(self) -> str | None:
        """The message of why the page is left alone, or taken out of an AMP page."""
        if self.skip is not None:
            return self.skip.message
        if self.change is not None and self.change.reason is ChangeReason.AMP:
            return self.change.message
        return None


def _skipped(reason: SkipReason) -> Outcome:
    return Outcome(action=Action.SKIPPED, skip=Because(reason))


# --- the block ------------------------------------------------------------------------


def external_file(external: str, script: RenderedScript) -> str:
    """Return the site path of the script's file: named by its hash, so it can be cached forever."""
    stem, _, suffix = external.rpartition(".")
    return f"{stem}.{script.fingerprint}.{suffix}"


def external_src(file: str, page_path: str, has_base: bool) -> str:
    """Return the URL of the script file from a page: relative, so the site can live under any
    path; from the site root when a <base> element would change what relative means."""
    if has_base:
        return "/" + file
    return posixpath.relpath(file, posixpath.dirname(page_path) or ".")


def _removal_span(text: str, block: Block, floor: int) -> tuple[int, int]:
    """Return what taking a block out removes: the element, and, for a block on a line of its
    own (as xdlink 0.1.0 placed it), that line's break and indent. An element xdlink
    inserts now brings no whitespace, so the element alone goes."""
    before = _whitespace_before(text, block.start, floor)
    after = _whitespace_after(text, block.end)
    if _last_line_break(after):
        return block.start - len(_last_line_break(before)), block.end
    return block.start, block.end


def _last_line_break(whitespace: str) -> str:
    """Return the last line break of a whitespace run (CRLF counts as one) and what follows it."""
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
    if not isinstance(source, Source):
        return Outcome(action=Action.SKIPPED, skip=source)
    # An init call runs only in a script: the names are looked for in the page's own
    # scripts alone (xdlink's names both SDKs many times).
    scripts = tuple(script_spans(source.text, source.lowered))
    own = [span for span in scripts if not _is_xdlink(source.text, span[0])]
    calls, posthog_calls = calls_in_scripts(source.text, own, source.lowered, _SDK_CALLS)
    last_call = max(calls + posthog_calls, default=0)
    head = scan_head(source.text, source.start, until=last_call + 1)
    if head.react_rendered and _hydrates_document(source.text):
        head = scan_head(source.text, source.start, to_head_end=True)
    if not head.is_document:
        return _skipped(SkipReason.FRAGMENT)
    if not settings.built and _has_template_syntax(source.text, source.start, head):
        return _skipped(SkipReason.TEMPLATE_SYNTAX)
    if head.ends_in_comment:
        return _skipped(SkipReason.ENDS_IN_COMMENT)
    blocks = _all_blocks(source, head, scripts)
    if head.amp:
        # An element an earlier build put there goes: it makes the page invalid AMP.
        if blocks:
            output = _rewrite(source, blocks, None)
            return Outcome(action=Action.REMOVED, output=output, change=Because(ChangeReason.AMP))
        return _skipped(SkipReason.AMP)
    typo_hints = WarningKind.UNLINKED_DOMAIN not in settings.silence
    facts = gather_facts(
        source, head, blocks, calls, settings.domains, typo_hints, posthog_at=posthog_calls
    )
    script = _script(settings, Variant.of(facts.sdks))
    if csp_blocks(head, script.sha256, settings.external is not None):
        facts = dataclasses.replace(facts, csp_blocks=True)
    src = None
    if settings.external is not None:
        src = external_src(external_file(settings.external, script), path, head.has_base)
    element = script.element(xml or head.has_xml_declaration, src)
    result = functools.partial(Outcome, facts=facts, script=script, placement=head.placement)
    if not blocks:
        output = source.splice(head.anchor, head.anchor, element)
        return result(action=Action.INJECTED, output=output, change=Because(ChangeReason.NEW_PAGE))
    first = blocks[0]
    # Only elsewhere (a body, after the head's end), or not where a framework rule puts
    # it now: moved to the anchor.
    moved = not head.blocks or (
        head.placement is not Placement.HEAD and head.anchor not in (first.start, first.end)
    )
    if len(blocks) == 1 and not moved and source.text[first.start : first.end] == element:
        return result(action=Action.UNCHANGED)
    if moved:
        target = Block(head.anchor, head.anchor)
        spans = sorted([target, *blocks], key=lambda block: block.start)
        output = _rewrite(source, spans, element, spans.index(target))
        change = _why(source, blocks, element, moved)
        return result(action=Action.UPDATED, output=output, change=change)
    output = _rewrite(source, blocks, element)
    return result(action=Action.UPDATED, output=output, change=_why(source, blocks, element))


def _why(source: Source, blocks: list[Block], element: str, moved: bool = False) -> Change:
    """Return why a page's script is replaced: another version of xdlink wrote it, other settings
    (or the page's own mixpanel.init) made it, or the page moved or doubled it."""
    marker = _marker(source.text, blocks[0].start)
    wanted = _marker(element, 0)
    if marker[0] != wanted[0]:
        versions = f"{marker[0] or 'unknown'} to {wanted[0]}"
        return Because(ChangeReason.VERSION_CHANGED, versions)
    if marker != wanted or (len(blocks) == 1 and not moved):
        return Because(ChangeReason.SETTINGS_CHANGED)
    return Because(ChangeReason.MISPLACED)


def _marker(text: str, start: int) -> tuple[str, str]:
    """Return (version, fingerprint) of the xdlink element whose start tag opens at ``start``."""
    try:
        value = parse_tag(text, start).attrs.get(MARKER_ATTRIBUTE, "")
    except UnclosedTag:
        value = ""
    version, _, fingerprint = value.strip().partition(" ")
    return version, fingerprint.strip()


def remove_page(data: bytes) -> Outcome:
    """Take every xdlink block out, with the line break and indent it brought."""
    source = read_source(data)
    if not isinstance(source, Source):
        return Outcome(action=Action.SKIPPED, skip=source)
    blocks = lone_block(source.text, source.start, source.raw)
    if blocks is None:
        blocks = _all_blocks(source, scan_head(source.text, source.start))
    if not blocks:
        return Outcome(action=Action.UNCHANGED)
    output = _rewrite(source, blocks, None)
    return Outcome(action=Action.REMOVED, output=output, change=Because(ChangeReason.HOLDS_SCRIPT))


def _is_xdlink(text: str, start: int) -> bool:
    """Return whether the script whose start tag opens at ``start`` holds xdlink's marker."""
    return text.find(MARKER_ATTRIBUTE, start, text.find(">", start)) >= 0


def _all_blocks(
    source: Source, head: Head, scripts: tuple[tuple[int, int], ...] | None = None
) -> list[Block]:
    """Return the page's xdlink elements: those the head scan saw, or, when the text after
    the scan's end (its ``scripts``, when known) holds the marker in any case (the
    tokenizer lower-cases attribute names), every one in the page."""
    after = head.region_end
    spans = ((after, len(source.text)),) if scripts is None else scripts
    for start, end in spans:
        if end > after and source.lowered.positions(MARKER_ATTRIBUTE, max(start, after), end):
            return scan_blocks(source.text, source.start)
    return head.blocks


def _rewrite(source: Source, blocks: list[Block], element: str | None, at: int = 0) -> bytes:
    """Replace block ``at`` by ``element`` (None: remove it) and remove the others."""
    data = memoryview(source.data)  # the pieces are copied once, by the join
    pieces: list[bytes | memoryview] = []
    position, copied = source.start, 0
    for index, block in enumerate(blocks):
        if index == at and element is not None:
            start, end, replacement = block.start, block.end, element
        else:
            start, end = _removal_span(source.text, block, position)
            replacement = ""
        pieces += [data[copied : source.offset(start)], source.encode(replacement)]
        position, copied = end, source.offset(end)
    pieces.append(data[copied:])
    return b"".join(pieces)


def _hydrates_document(text: str) -> bool:
    """Return whether React Router or Remix hydrates the whole document (their context script)."""
    return "__reactRouterContext" in text or "__remixContext" in text


def _has_template_syntax(text: str, start: int, head: Head) -> bool:
    """Return whether the head holds template syntax anywhere but in a script's text: in a tag,
    as text of its own, in the title. Template text ends the head for an HTML parser, and
    so the head scan: the head is read on to ``</head>`` or ``<body>``. A page without
    template syntax costs a search for that end and two literal searches between the
    inline scripts the scan found (scripts are where a head's braces are) and xdlink's own
    elements (its script is full of braces: searching it would cost more than the rest)."""
    found = _HEAD_END.search(text, head.region_end)
    end = len(text) if found is None else found.start()
    position = start
    skipped = [(script_start, script_end) for script_start, script_end, _ in head.inline_scripts]
    if head.blocks:
        skipped = sorted(skipped + [(block.start, block.end) for block in head.blocks])
    for script_start, script_end in skipped:
        if _template_in(text, position, script_start):
            break
        position = script_end
    else:
        if not _template_in(text, position, end):
            return False
    return _template_outside_scripts(text, start, end, implied=found is None)


def _template_in(text: str, start: int, end: int) -> bool:
    return (
        _TEMPLATE_HINT.search(text, start, end) is not None
        or _ERB_HINT.search(text, start, end) is not None
    )


def _template_outside_scripts(text: str, start: int, end: int, implied: bool) -> bool:
    """Return whether there is template syntax from ``start`` to ``end``, read tag by tag:
    a script's text does not count (JSON-LD and code hold braces), its tag does; the text
    of the other raw-text elements (title, style, noscript) and of comments does.
    ``implied``: the page has neither ``</head>`` nor ``<body>``, and its head ends at the
    first tag that is not a head element."""
    position = start
    while (found := _TEMPLATE_OR_TAG.search(text, position, end)) is not None:
        at, name = found.start(), found.group(1)
        if found.group() == "<!--":
            close = text.find("-->", found.end(), end)
            position = end if close < 0 else close + 3
            if _template_in(text, at, position):
                return True
            continue
        if name is None:
            return True
        name = name.lower()
        if implied and name not in _HEAD_TAGS:
            return False
        if name not in RAW_TEXT:
            position = found.end()  # the search goes on through the tag's attributes
            continue
        try:
            tag_end = parse_tag(text, at).end
        except UnclosedTag:
            return _template_in(text, at, end)
        position = raw_text_end(text, name, tag_end)
        if _template_in(text, at, tag_end if name == "script" else min(position, end)):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _script(settings: Settings, variant: Variant) -> RenderedScript:
    return render(ScriptConfig.of(settings, variant))
