"""Finding an analytics SDK's ``<name>.init(...)`` calls in a page's scripts, the same way
for every SDK: ``mixpanel.py`` and ``posthog.py`` say what the arguments mean."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from xdlink.lowered import Lowered
from xdlink.scan import MARKER_ATTRIBUTE

if TYPE_CHECKING:
    from lxml import etree

    from xdlink.jsliteral import Script

_IDENTIFIER_CHAR = re.compile(r"[\w$]")
# The init calls read in one script, at most: each is read up to its end, and a script of
# calls nested in one another's arguments would cost the square of its length.
_MOST_CALLS = 16


class InitCalls:
    """The ``<name>.init(`` calls of one SDK's global object (not ``my<name>.init(``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pattern = re.compile(rf"{name}\s*\.\s*init\s*\(")

    def matches(
        self, text: str, start: int = 0, end: int | None = None, lowered: Lowered | None = None
    ) -> Iterator[re.Match[str]]:
        """Return the calls: each mention of the name is found by a literal search (in the
        page's ``lowered`` view, when given: the pattern then holds the name to its case),
        many times faster than the regular expression's own search for its prefix, and
        most mentions (a snippet has a dozen) fail on the character after it."""
        end = len(text) if end is None else end
        lowered = lowered if lowered is not None else Lowered.of(text)
        for at in lowered.positions(self.name, start, end):
            call = self.call_at(text, at, end)
            if call is not None:
                yield call

    def call_at(self, text: str, at: int, end: int) -> re.Match[str] | None:
        """Return the call that a mention of the name at ``at`` starts, before ``end``."""
        call = self._pattern.match(text, at, end)
        if call is None or _IDENTIFIER_CHAR.match(text[at - 1 : at]):
            return None
        return call

    def positions(
        self,
        text: str,
        spans: Iterable[tuple[int, int]] | None = None,
        lowered: Lowered | None = None,
    ) -> Iterator[int]:
        """Return where the calls stand in the text, or in its ``spans`` (the scripts)."""
        lowered = lowered if lowered is not None else Lowered.of(text)
        for start, end in ((0, len(text)),) if spans is None else spans:
            yield from (call.start() for call in self.matches(text, start, end, lowered))

    def arguments(self, script: Script) -> Iterator[tuple[Any, ...] | None]:
        """Return the arguments of each call in the script's code (a call in a comment or a
        string is none); None for a call the text does not close, which is the last."""
        # Here, as in mixpanel.py and posthog.py: a site whose pages start no SDK in their
        # HTML never loads the JavaScript reader (about a tenth of a build's imports).
        from xdlink.jsliteral import read_arguments

        text = script.text
        for count, call in enumerate(
            call for call in self.matches(text) if script.in_code(call.start())
        ):
            if count == _MOST_CALLS:
                return
            try:
                yield read_arguments(text, call.end())
            except ValueError:  # the text ends in the call, and so in any call after it
                yield None
                return

    def in_tree(self, tree: etree._Element) -> Iterator[tuple[str, Callable[[], tuple[str, ...]]]]:
        """Return each inline script of a parsed page that names the SDK (a script a consent
        manager parks as ``type="text/plain"`` included, xdlink's own left out), with the
        texts of the inline scripts before it, where a name its calls are given may be
        assigned."""
        texts: list[str] = []
        for element in tree.iter("script"):
            text = element.text
            if element.get("src") is not None or not text or MARKER_ATTRIBUTE in element.attrib:
                continue
            if self.name in text:
                yield text, functools.partial(tuple, texts[:])
            texts.append(text)


def calls_in_scripts(
    text: str, spans: Sequence[tuple[int, int]], lowered: Lowered, sdks: Sequence[InitCalls]
) -> list[tuple[int, ...]]:
    """Return where each SDK's calls stand in the scripts ``spans`` (in order, none inside
    another), one tuple an SDK, for SDK names none of which can stand across another's
    place (see ``Lowered.marks``): found by one search for all the names, from the first
    script to the end of the last, whose places outside the scripts are dropped (a search
    for each name in each script cost twice as much on a Javadoc page: the page's scripts
    are many and short, and each search has a cost of its own)."""
    found: list[list[int]] = [[] for _ in sdks]
    if spans:
        starts = [start for start, _ in spans]
        names = tuple(sdk.name for sdk in sdks)
        for at, index in lowered.marks(names, spans[0][0], spans[-1][1]):
            end = spans[bisect.bisect_right(starts, at) - 1][1]
            if at < end and sdks[index].call_at(text, at, end) is not None:
                found[index].append(at)
    return [tuple(places) for places in found]
