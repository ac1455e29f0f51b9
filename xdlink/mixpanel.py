"""Everything the Python side knows about Mixpanel: reading a page's ``mixpanel.init``
for the report (the tokens a site names, the pages that start no Mixpanel).

Where the SDK keeps its state is the browser script's business: it reads that from the
init's arguments as the init runs (``js/src/mixpanel.js``), so the build needs none of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdlink.jsliteral import read_arguments

if TYPE_CHECKING:
    from lxml import etree


INIT_CALL = re.compile(r"mixpanel\s*\.\s*init\s*\(")
_IDENTIFIER_CHAR = re.compile(r"[\w$]")
# Scripts longer than this are read each time rather than cached: the cache is for the
# snippet a site repeats on every page, and must not hold large scripts alive.
_CACHED_SCRIPT = 16 * 1024


@dataclass(frozen=True)
class MixpanelConfig:
    """A page's own ``mixpanel.init(token, config, name)``: its project and instance."""

    token: str
    instance: str | None = None


@dataclass(frozen=True)
class InitCall:
    """One ``mixpanel.init(...)`` call; ``config`` is None when the token is not a literal."""

    config: MixpanelConfig | None


def init_call_positions(text: str, start: int = 0, end: int | None = None) -> Iterator[int]:
    """Where ``mixpanel.init(`` stands in the text."""
    return (call.start() for call in _init_call_matches(text, start, end))


def _init_call_matches(
    text: str, start: int = 0, end: int | None = None
) -> Iterator[re.Match[str]]:
    """The ``mixpanel.init(`` calls, one regular-expression pass: its literal prefix is
    found as fast as str.find finds it, and most mentions of the word (the snippet has a
    dozen) fail on the character after it."""
    for call in INIT_CALL.finditer(text, start, len(text) if end is None else end):
        if not _IDENTIFIER_CHAR.match(text[call.start() - 1 : call.start()]):
            yield call


def find_init_calls(script: str) -> tuple[InitCall, ...]:
    """The init calls in the text of one script."""
    return _cached_init_calls(script) if len(script) <= _CACHED_SCRIPT else (*_init_calls(script),)


@functools.lru_cache(maxsize=256)
def _cached_init_calls(script: str) -> tuple[InitCall, ...]:
    return tuple(_init_calls(script))


def _init_calls(script: str) -> Iterator[InitCall]:
    for call in _init_call_matches(script):
        try:
            args = read_arguments(script, call.end())
        except ValueError:
            yield InitCall(None)
            continue
        yield InitCall(_config_from(args))


def inits_in_tree(tree: etree._Element) -> list[InitCall]:
    """Every ``mixpanel.init`` call in the inline scripts of a parsed page, in order."""
    calls: list[InitCall] = []
    for script in tree.iter("script"):
        if script.get("src") is None and script.text and "mixpanel" in script.text:
            calls.extend(find_init_calls(script.text))
    return calls


def _config_from(args: list[Any]) -> MixpanelConfig | None:
    token = args[0] if args else None
    if not isinstance(token, str) or not token:
        return None
    instance = args[2] if len(args) > 2 and isinstance(args[2], str) else None
    return MixpanelConfig(token=token, instance=instance)


def page_init(calls: Iterable[InitCall]) -> tuple[MixpanelConfig | None, tuple[str, ...]]:
    """The page's main init (the default instance's, else the first readable one), and
    every token the page names."""
    configs = [call.config for call in calls if call.config is not None]
    default = [config for config in configs if config.instance is None]
    tokens = tuple(dict.fromkeys(config.token for config in configs))
    return next(iter(default or configs), None), tokens
