"""A page's lower-cased view, and where a literal stands in it.

The core looks for a few literals across whole pages (``<script``, ``//`` before a host,
the openers of comments and raw text). ``str.find`` reads about 0.5 ns a byte, one
character at a time; a compiled substring search (``ahocorasick_rs``, which uses a
vectorised ``memmem`` for a single pattern) reads the same bytes about ten times faster.
The ten openers of comments and raw text are searched for together, in one pass that
costs less than ten. That pass is vectorised only for needles that start with several
different bytes: with all ten starting with "<", it stops at each tag of the page (2.5
to 6 times slower on real pages: 10 against 4 µs on a Javadoc page, 136 against 23 on
Node.js's). So the caller can name needles to search for without their first character,
which is then checked before each place (``Lowered.marks``'s ``bare``), and a name in any
case is searched for from its second byte when its first has no case.
"""

from __future__ import annotations

import functools
import itertools
import string

import ahocorasick_rs

# A window shorter than this is searched with str.find: the compiled search pays about
# 0.8 µs a call before it reads a byte, str.find about 0.2, and it reads 0.5 ns a byte.
_SHORT = 2048
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Lowered:
    """The text view of a page with its ASCII letters lower-cased, at the same positions.

    ``raw``: the same view as bytes, one byte a position (the latin-1 view of a page in an
    ASCII-compatible encoding); a view of a decoded page (UTF-16) has none, and is
    searched with ``str.find``.
    """

    __slots__ = ("raw", "text")

    def __init__(self, text: str, raw: bytes | None = None) -> None:
        self.text = text
        self.raw = raw

    @classmethod
    def of(cls, text: str) -> Lowered:
        """Return the lower-cased view of a text view. Lowering a latin-1 view as bytes
        is much cheaper than ``str.lower()`` on text with non-ASCII letters."""
        try:
            raw = text.encode("latin-1").lower()
        except UnicodeEncodeError:  # a UTF-16 page, decoded
            # ASCII's letters alone, as the tokenizer lowers names: str.lower() lowers
            # others too, and some into two characters ("İ"), which would move every
            # position after them.
            return cls(text.translate(_ASCII_LOWER))
        return cls(raw.decode("latin-1"), raw)

    @classmethod
    def of_bytes(cls, data: bytes) -> Lowered:
        """Return the lower-cased view of a page whose text view is ``data`` read as latin-1."""
        raw = data.lower()
        return cls(raw.decode("latin-1"), raw)

    def positions(self, needle: str, start: int = 0, end: int | None = None) -> list[int]:
        """Return every position from ``start`` where ``needle`` (lower case) stands whole
        before ``end``, overlapping ones included ("//" twice in "///")."""
        text = self.text
        if end is None or end > len(text):
            end = len(text)
        if self.raw is None or end - start < _SHORT:
            return _str_positions(text, needle, start, end)
        window = memoryview(self.raw)[start:end]
        found = _searcher(needle).find_matches_as_indexes(window, overlapping=True)
        return [start + at for _, at, _ in found]

    def marks(
        self,
        needles: tuple[str, ...],
        start: int = 0,
        end: int | None = None,
        bare: frozenset[str] = frozenset(),
    ) -> list[tuple[int, int]]:
        """Return where each of ``needles`` (lower case) stands whole from ``start`` to
        ``end``, in order, as (position, index of the needle): for needles none of which
        can stand across another's place as searched for (``<!--`` and ``<script``, not
        ``//`` and ``/a``), for which one search for them all finds every place. The needles in
        ``bare`` are searched for without their first character, which is then checked
        before each place: see the module's docstring."""
        text = self.text
        if end is None or end > len(text):
            end = len(text)
        if self.raw is None:  # one compiled search costs less than a str.find per needle
            return sorted(
                (at, index)
                for index, needle in enumerate(needles)
                for at in _str_positions(text, needle, start, end)
            )
        window = memoryview(self.raw)[start:end]
        found = _all_searcher(needles, bare).find_matches_as_indexes(window)
        if not bare:
            return [(start + at, index) for index, at, _ in found]
        marks = []
        for index, at, _ in found:
            at += start
            needle = needles[index]
            if needle in bare:
                at -= 1
                if at < start or text[at] != needle[0]:
                    continue
            marks.append((at, index))
        return marks


def any_case_positions(raw: bytes, needle: str, start: int = 0, most: int = 2) -> list[int]:
    """Return up to ``most`` positions from ``start`` where ``needle`` stands in ``raw``
    with its ASCII letters in any case (as the HTML tokenizer reads a name), searched for
    all its spellings at once: cheaper than lower-casing the page or a case-insensitive
    ``re`` search, which tries every place of its first character."""
    lead = needle[0]
    if lead.lower() != lead.upper() or len(needle) == 1:
        found = _any_case_searcher(needle).find_matches_as_indexes(memoryview(raw)[start:])
        return [start + at for _, at, _ in found[:most]]
    # A needle that starts with a byte that has no case ("-xdlink") is searched for from
    # its second byte, and that byte checked before each place: the search stops at each
    # place of its needles' first bytes, and "-" stands far more often in a page than "x"
    # and "X" do (the search takes half as long on Javadoc and Node.js pages).
    found = _any_case_searcher(needle[1:]).find_matches_as_indexes(memoryview(raw)[start + 1 :])
    byte = ord(lead)
    return [start + at for _, at, _ in found if raw[start + at] == byte][:most]


def _str_positions(text: str, needle: str, start: int, end: int) -> list[int]:
    found = []
    at = text.find(needle, start, end)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1, end)
    return found


@functools.cache
def _searcher(needle: str) -> ahocorasick_rs.BytesAhoCorasick:
    return ahocorasick_rs.BytesAhoCorasick([needle.encode("latin-1")])


@functools.cache
def _any_case_searcher(needle: str) -> ahocorasick_rs.BytesAhoCorasick:
    # Every spelling, one pattern each: the package's vectorised search of a small set
    # of patterns (up to 64: six letters) reads the page as fast as one pattern.
    cases = [{letter.lower(), letter.upper()} for letter in needle]
    spellings = ["".join(spelling) for spelling in itertools.product(*cases)]
    if len(spellings) > 64:
        raise ValueError(f"too many spellings of {needle!r} for one search")
    return ahocorasick_rs.BytesAhoCorasick([spelling.encode("latin-1") for spelling in spellings])


@functools.cache
def _all_searcher(
    needles: tuple[str, ...], bare: frozenset[str]
) -> ahocorasick_rs.BytesAhoCorasick:
    patterns = [needle[needle in bare :].encode("latin-1") for needle in needles]
    leftmost = ahocorasick_rs.MatchKind.LeftmostFirst
    return ahocorasick_rs.BytesAhoCorasick(patterns, matchkind=leftmost)
