"""One page, bytes in and bytes out: splice, update or take out the xdlink block; no I/O."""

from __future__ import annotations

import codecs
import dataclasses
import functools
import html
import posixpath
import re
from dataclasses import dataclass, field
from enum import StrEnum

import idna

from xdlink import __version__
from xdlink.facts import (
    csp_blocks_inline,
    find_init_calls,
    host_matches,
    init_call_positions,
    link_hosts,
    mixpanel_inits,
    parse_tree,
    url_host,
)
from xdlink.scan import MARKER_ATTRIBUTE, WS, Block, Head, scan_blocks, scan_head
from xdlink.script import MixpanelConfig, RenderedScript, ScriptConfig, render
from xdlink.settings import Settings

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_NEWLINE = re.compile(r"\r\n|\n|\r")
# Encodings in which "<" and other ASCII bytes can stand inside a multi-byte character
# or under a shift state: a byte-level splice could land inside a character there.
_UNSPLICEABLE = ("utf-7", "iso2022", "hz", "cp037", "cp500", "cp1026", "cp273", "utf-32")


class Action(StrEnum):
    INJECTED = "injected"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    SKIPPED = "skipped"


class PageError(Exception):
    """The page cannot be processed safely; it is left untouched."""


@dataclass(frozen=True)
class Facts:
    """What one page tells the site report."""

    init: MixpanelConfig | None = None
    tokens: tuple[str, ...] = ()
    init_unreadable: bool = False
    csp_blocks: bool = False
    linked_domains: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()
    charset_after_script: bool = False


@dataclass(frozen=True)
class Outcome:
    action: Action
    output: bytes | None = None
    reason: str | None = None
    facts: Facts = field(default_factory=Facts)
    script: RenderedScript | None = None
    referenced: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.output is not None


@dataclass(frozen=True)
class Source:
    """The page's bytes and a text view of them in which tags can be found by position.

    For ASCII-compatible encodings the view is the bytes read as latin-1, one character
    per byte, so offsets are byte offsets and nothing is decoded or re-encoded.
    """

    data: bytes
    text: str
    start: int
    codec: str
    declared: str | None
    prefix: int = 0

    def offset(self, position: int) -> int:
        if self.codec == "latin-1":
            return position
        return self.prefix + len(self.encode(self.text[:position]))

    def decoded(self, start: int, end: int) -> str:
        """The page's text between two view positions, decoded in its own encoding."""
        if self.codec != "latin-1":
            return self.text[start:end]
        raw = self.data[start:end]
        try:
            return raw.decode(self.declared or "utf-8", "replace")
        except LookupError:
            return raw.decode("utf-8", "replace")

    def encode(self, text: str) -> bytes:
        return text.encode(self.codec, "surrogatepass")

    def splice(self, start: int, end: int, replacement: str) -> bytes:
        data = self.data
        return data[: self.offset(start)] + self.encode(replacement) + data[self.offset(end) :]


def read_source(data: bytes) -> Source | str:
    """The page's text view, or the reason it is not an HTML page to touch."""
    if not data.strip():
        return "empty file"
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _with_bom(data, bom, name)
    if b"\x00" in data:
        return "not text (NUL bytes)"
    declared = _declared_encoding(data)
    if declared is not None and declared.startswith(_UNSPLICEABLE):
        raise PageError(f"encoding {declared} is not supported")
    return Source(data, data.decode("latin-1"), 0, "latin-1", declared)


def _with_bom(data: bytes, bom: bytes, name: str) -> Source:
    if name == "utf-8":
        return Source(data, data.decode("latin-1"), len(bom), "latin-1", "utf-8")
    try:
        text = data[len(bom) :].decode(name, "surrogatepass")
    except UnicodeDecodeError as exc:
        raise PageError(f"cannot decode as {name.upper()}: {exc.reason}") from None
    return Source(data, text, 0, name, name, prefix=len(bom))


def _declared_encoding(data: bytes) -> str | None:
    head = data[:1024]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # The HTML standard reads a <meta> that declares UTF-16 as UTF-8.
    return "utf-8" if name.startswith("utf-16") else name


# --- the block ------------------------------------------------------------------------


def block_markup(script: RenderedScript, xml: bool, src: str | None = None) -> str:
    """The element: the script inline, or (``src``) a synchronous reference to its file."""
    marker = f'{MARKER_ATTRIBUTE}="{__version__} {script.fingerprint}"'
    if src is not None:
        return f'<script {marker} src="{html.escape(src)}"></script>'
    code = f"/*<![CDATA[*/{script.code}/*]]>*/" if xml else script.code
    return f"<script {marker}>{code}</script>"


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


def referenced_file(src: str, page_path: str) -> str | None:
    """The site path a block's src names, or None when it points outside the site."""
    if "//" in src or ":" in src:
        return None
    joined = (
        src.lstrip("/")
        if src.startswith("/")
        else posixpath.join(posixpath.dirname(page_path), src)
    )
    normal = posixpath.normpath(joined)
    return None if normal.startswith("..") else normal


def _insertion(text: str, anchor: int, element: str) -> str:
    """The element on a line of its own, indented like the line that follows the anchor."""
    return _last_line_break(_whitespace_after(text, anchor)) + element


def _removal_span(text: str, block: Block, floor: int) -> tuple[int, int]:
    """What taking a block out removes: the line break and indent it brought, if any.

    Exactly undoes ``_insertion``, and takes a block that stands on its own line out
    together with that line.
    """
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
    confirmed: frozenset[str] = frozenset(),
    path: str = "index.html",
) -> Outcome:
    """Insert or update the page's xdlink block; ``xml`` when the page is served as XML.

    ``confirmed``: listed domains already known to be linked from the site; ``path``: the
    page's place in the site, for the script file's URL under ``--external``.
    """
    source = read_source(data)
    if isinstance(source, str):
        return Outcome(Action.SKIPPED, reason=source)
    head = scan_head(source.text, source.start)
    if not head.is_document:
        return Outcome(Action.SKIPPED, reason="fragment (no doctype, <html>, <head> or <body>)")
    if not head.complete:
        raise PageError("the page ends inside a tag before its body")
    blocks = _all_blocks(source, head)
    facts = gather_facts(source, head, settings, blocks, confirmed)
    script = _script(settings, facts.init)
    facts = _with_csp(facts, head, script)
    src = None
    if settings.external is not None:
        src = external_src(external_file(settings.external, script), path, head.has_base)
    element = block_markup(script, xml or head.has_xml_declaration, src)
    if not blocks:
        output = source.splice(
            head.anchor, head.anchor, _insertion(source.text, head.anchor, element)
        )
        return Outcome(Action.INJECTED, output, facts=facts, script=script)
    first = blocks[0]
    if len(blocks) == 1 and source.text[first.start : first.end] == element:
        return Outcome(Action.UNCHANGED, facts=facts, script=script)
    output = _rewrite(source, blocks, element)
    return Outcome(Action.UPDATED, output, facts=facts, script=script)


def remove_page(data: bytes, path: str = "index.html") -> Outcome:
    """Take every xdlink block out, with the line break and indent it brought."""
    source = read_source(data)
    if isinstance(source, str):
        return Outcome(Action.SKIPPED, reason=source)
    blocks = _all_blocks(source, scan_head(source.text, source.start))
    if not blocks:
        return Outcome(Action.UNCHANGED)
    files = (referenced_file(block.src, path) for block in blocks if block.src)
    referenced = tuple(file for file in files if file is not None)
    return Outcome(Action.REMOVED, _rewrite(source, blocks, None), referenced=referenced)


def _all_blocks(source: Source, head: Head) -> list[Block]:
    if source.text.find(MARKER_ATTRIBUTE, head.region_end) >= 0:
        return scan_blocks(source.text, source.start)
    return head.blocks


def _rewrite(source: Source, blocks: list[Block], element: str | None) -> bytes:
    """Replace the first block by ``element`` (None: remove it) and remove the others."""
    pieces: list[bytes] = []
    position, copied = source.start, 0
    for index, block in enumerate(blocks):
        if index == 0 and element is not None:
            start, end, replacement = block.start, block.end, element
        else:
            start, end = _removal_span(source.text, block, position)
            replacement = ""
        pieces += [source.data[copied : source.offset(start)], source.encode(replacement)]
        position, copied = end, source.offset(end)
    pieces.append(source.data[copied:])
    return b"".join(pieces)


# --- facts ----------------------------------------------------------------------------


def gather_facts(
    source: Source,
    head: Head,
    settings: Settings,
    blocks: list[Block],
    confirmed: frozenset[str] = frozenset(),
) -> Facts:
    """Read the page's Mixpanel init and which listed domains its links point to.

    When every ``mixpanel.init(`` of the page stands in an inline script of its head, the
    scan has the script's text; otherwise lxml parses the page and finds the real calls
    (a call shown in a code block is not one). Links are read with lxml on pages whose
    text has a link-like mention of a domain that is not in ``confirmed`` (already seen
    linked elsewhere in the site).
    """
    spans = _outside(blocks, len(source.text))
    calls_at = [at for a, b in spans for at in init_call_positions(source.text, a, b)]
    scripts = [
        span for span in head.inline_scripts if any(span[0] <= at < span[1] for at in calls_at)
    ]
    in_head = all(any(a <= at < b for a, b in scripts) for at in calls_at)
    pending = tuple(domain for domain in settings.domains if domain not in confirmed)
    wants_links = bool(pending) and _mentions_link(source.text, pending)
    tree = None
    if wants_links or not in_head:
        tree = parse_tree(source.data, _lxml_encoding(source))
    if in_head:
        calls = [call for a, b in scripts for call in find_init_calls(source.decoded(a, b))]
    else:
        calls = mixpanel_inits(tree) if tree is not None else []
    configs = [call.config for call in calls if call.config is not None]
    default = [config for config in configs if config.instance is None]
    linked = _listed(link_hosts(tree), pending) if wants_links and tree is not None else set()
    own = _listed({host for host in map(url_host, head.own_urls) if host}, settings.domains)
    return Facts(
        init=next(iter(default or configs), None),
        tokens=tuple(dict.fromkeys(config.token for config in configs)),
        init_unreadable=bool(calls) and not configs,
        linked_domains=frozenset(linked),
        own_domains=frozenset(own),
        charset_after_script=head.charset_after_script,
    )


def _outside(blocks: list[Block], length: int) -> list[tuple[int, int]]:
    """The spans of the text outside xdlink's own blocks (which carry the domains)."""
    spans, position = [], 0
    for block in blocks:
        spans.append((position, block.start))
        position = block.end
    spans.append((position, length))
    return spans


def _listed(hosts: set[str], domains: tuple[str, ...]) -> set[str]:
    return {domain for host in hosts for domain in domains if host_matches(host, domain)}


@functools.lru_cache(maxsize=8)
def _domain_forms(domains: tuple[str, ...]) -> tuple[str, ...]:
    """The domains as links may write them: ASCII, Unicode, and UTF-8 bytes read as
    latin-1 (the view of a UTF-8 page), all lower-cased."""
    forms: set[str] = set()
    for domain in domains:
        ascii_name = domain.removeprefix("*.")
        unicode_name = idna.decode(ascii_name) if "xn--" in ascii_name else ascii_name
        forms |= {ascii_name, unicode_name, unicode_name.encode("utf-8").decode("latin-1")}
    return tuple(sorted(form.lower() for form in forms))


_LINK_BEFORE_HOST = re.compile(
    r"<(?:a|area|form)[\t\n\f\r /][^<>]*?(?:href|action)[\t\n\f\r ]*=[\t\n\f\r ]*"
    r"[\"']?[\t\n\f\r ]*(?:https?:)?//(?:[^/\"'\s>?#<]*\.)?\Z"
)
_HOST_CHAR = re.compile(r"[\w.-]")


def _mentions_link(text: str, domains: tuple[str, ...]) -> bool:
    """Whether a link, area or form attribute in the text names one of the domains:
    a prefilter (str.find, then a look at what precedes each hit), confirmed by lxml."""
    lowered = text.lower()  # cheap; its length may differ, but only a yes or no is wanted
    for form in _domain_forms(domains):
        position = lowered.find(form)
        while position >= 0:
            end = position + len(form)
            ends_host = not _HOST_CHAR.match(lowered, end)
            if ends_host and _LINK_BEFORE_HOST.search(lowered, max(0, position - 512), position):
                return True
            position = lowered.find(form, end)
    return False


def _lxml_encoding(source: Source) -> str | None:
    if source.codec != "latin-1":
        return source.codec.replace("-le", "le").replace("-be", "be").upper()
    return source.declared or "utf-8"


def _with_csp(facts: Facts, head: Head, script: RenderedScript) -> Facts:
    if not head.csp_before_anchor:
        return facts
    blocks = csp_blocks_inline(head.csp_before_anchor, script.sha256)
    return dataclasses.replace(facts, csp_blocks=blocks)


@functools.lru_cache(maxsize=64)
def _script(settings: Settings, init: MixpanelConfig | None) -> RenderedScript:
    return render(script_config(settings, init))


def script_config(settings: Settings, init: MixpanelConfig | None) -> ScriptConfig:
    """The script's settings: the site's options plus this page's Mixpanel storage."""
    mixpanel = init
    if settings.token is not None:
        keep = init is not None and init.token == settings.token
        mixpanel = init if keep else MixpanelConfig(token=settings.token)
    return ScriptConfig(
        domains=settings.domains,
        param=settings.param,
        ttl=settings.ttl,
        in_fragment=settings.in_fragment,
        mixpanel=mixpanel,
    )
