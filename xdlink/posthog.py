"""Everything the Python side knows about PostHog: reading a page's ``posthog.init`` for
the report (the project keys a site names, the pages that start PostHog, the pages where
PostHog keeps no id to carry).

posthog-js keeps its state under ``ph_<key>_posthog`` (``ph_<persistence_name>``) as the
init's ``persistence`` says; the browser script reads that from the init's arguments as
the init runs, so the build needs none of it.
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


INIT_CALL = re.compile(r"posthog\s*\.\s*init\s*\(")
_IDENTIFIER_CHAR = re.compile(r"[\w$]")
# Scripts longer than this are read each time rather than cached (see mixpanel.py).
_CACHED_SCRIPT = 16 * 1024


@dataclass(frozen=True)
class PostHogConfig:
    """A page's own ``posthog.init(key, config, name)``: its project, instance, and whether
    it keeps no id at all (``cookieless_mode: 'always'``: nothing to carry)."""

    key: str
    instance: str | None = None
    cookieless: bool = False


@dataclass(frozen=True)
class InitCall:
    """One ``posthog.init(...)`` call; ``config`` is None when the key is not a literal."""

    config: PostHogConfig | None


def init_call_positions(text: str, start: int = 0, end: int | None = None) -> Iterator[int]:
    """Where ``posthog.init(`` stands in the text."""
    return (call.start() for call in _init_call_matches(text, start, end))


def _init_call_matches(
    text: str, start: int = 0, end: int | None = None
) -> Iterator[re.Match[str]]:
    """The ``posthog.init(`` calls, not ``myposthog.init(``."""
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
    """Every ``posthog.init`` call in the inline scripts of a parsed page, in order (a
    script a consent manager parks as ``type="text/plain"`` included)."""
    calls: list[InitCall] = []
    for script in tree.iter("script"):
        if script.get("src") is None and script.text and "posthog" in script.text:
            calls.extend(find_init_calls(script.text))
    return calls


def _config_from(args: list[Any]) -> PostHogConfig | None:
    key = args[0] if args else None
    if not isinstance(key, str) or not key:
        return None
    config = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    instance = args[2] if len(args) > 2 and isinstance(args[2], str) else None
    cookieless = config.get("cookieless_mode") == "always"
    return PostHogConfig(key=key, instance=instance, cookieless=cookieless)


def page_init(calls: Iterable[InitCall]) -> tuple[PostHogConfig | None, tuple[str, ...]]:
    """The page's main init (the default instance's, else the first readable one), and
    every project key the page names."""
    configs = [call.config for call in calls if call.config is not None]
    default = [config for config in configs if config.instance is None]
    keys = tuple(dict.fromkeys(config.key for config in configs))
    return next(iter(default or configs), None), keys
