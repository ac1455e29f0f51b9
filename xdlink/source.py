"""A page's bytes, the encoding they are in, a text view for finding tags by position,
and the lxml tree for reading what the page contains."""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdlink.lowered import Lowered
from xdlink.outcomes import Because, FailReason, Failure, Skip, SkipReason

if TYPE_CHECKING:
    from lxml import etree

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
# Searched for in the lower-cased bytes: a case-insensitive search would try every byte,
# where the literal "<meta" lets the engine skip to each tag.
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9._:-]+)""")
# Encodings in which "<" and other ASCII bytes can stand inside a multi-byte character
# or under a shift state: a byte-level splice could land inside a character there.
_UNSPLICEABLE = ("utf-7", "iso2022", "hz", "cp037", "cp500", "cp1026", "cp273", "utf-32")


class PageError(Exception):
    """The page cannot be processed safely; it is left untouched."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


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
        """Return the page's text between two view positions, decoded in its own encoding."""
        if self.codec != "latin-1":
            return self.text[start:end]
        raw = self.data[start:end]
        try:
            return raw.decode(self.declared or "utf-8", "replace")
        except LookupError:
            return raw.decode("utf-8", "replace")

    @property
    def raw(self) -> bytes | None:
        """The text view as bytes, one byte a position: the page's bytes, for the latin-1
        view; None for a decoded page (UTF-16)."""
        return self.data if self.codec == "latin-1" else None

    @functools.cached_property
    def lowered(self) -> Lowered:
        """The text view with ASCII letters lower-cased, at the same positions; for the
        latin-1 view, from the bytes, without encoding the view back to them. Made once:
        the scripts and the links are both found in it."""
        raw = self.raw
        return Lowered.of(self.text) if raw is None else Lowered.of_bytes(raw)

    def encode(self, text: str) -> bytes:
        return text.encode(self.codec, "surrogatepass")

    def splice(self, start: int, end: int, replacement: str) -> bytes:
        data = memoryview(self.data)  # the page is copied once, by the join
        return b"".join(
            (data[: self.offset(start)], self.encode(replacement), data[self.offset(end) :])
        )


def read_source(data: bytes) -> Source | Skip:
    """Return the page's text view, or why it is not an HTML page to touch."""
    if not data or data.isspace():  # data.strip() would copy the page
        return Because(SkipReason.EMPTY)
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _with_bom(data, bom, name)
    if b"\x00" in data:
        return Because(SkipReason.NOT_TEXT)
    declared = _declared_encoding(data)
    if declared is not None and declared.startswith(_UNSPLICEABLE):
        return Because(SkipReason.UNSAFE_ENCODING, declared)
    return Source(data, data.decode("latin-1"), 0, "latin-1", declared)


def _with_bom(data: bytes, bom: bytes, name: str) -> Source:
    if name == "utf-8":
        return Source(data, data.decode("latin-1"), len(bom), "latin-1", "utf-8")
    try:
        text = data[len(bom) :].decode(name, "surrogatepass")
    except UnicodeDecodeError as exc:
        failure = Because(FailReason.UNDECODABLE, f"{name.upper()}: {exc.reason}")
        raise PageError(failure) from None
    return Source(data, text, 0, name, name, prefix=len(bom))


def _declared_encoding(data: bytes) -> str | None:
    head = data[:1024]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head.lower())
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # The HTML standard reads a <meta> that declares UTF-16 as UTF-8.
    return "utf-8" if name.startswith("utf-16") else name


def lxml_encoding(source: Source) -> str | None:
    if source.codec != "latin-1":
        return source.codec.replace("-le", "le").replace("-be", "be").upper()
    return source.declared or "utf-8"


def parse_tree(source: Source) -> tuple[etree._Element | None, bool]:
    """Return the page's lxml tree, and whether libxml2 read all of it: it stops at a nesting
    depth of 2,048 even with huge_tree, and drops what lies deeper. libxml2 decodes the
    page itself, told the encoding the page declares."""
    from lxml import etree  # here: most pages never need it, and every run would import it

    options: dict[str, Any] = {"recover": True, "no_network": True, "huge_tree": True}
    try:
        parser = etree.HTMLParser(encoding=lxml_encoding(source), remove_pis=True, **options)
    except LookupError:
        parser = etree.HTMLParser(remove_pis=True, **options)
    try:
        tree = etree.fromstring(source.data, parser)
    except (etree.LxmlError, ValueError):
        return None, False
    limited = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return tree, not limited
