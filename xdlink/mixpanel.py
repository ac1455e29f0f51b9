"""Everything the Python side knows about Mixpanel: reading a page's ``mixpanel.init``
for the report (the tokens a site names, the pages that start no Mixpanel).

Where the SDK keeps its state is the browser script's business: it reads that from the
init's arguments as the init runs (``js/src/mixpanel.js``), so the build needs none of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdlink.initcalls import InitCalls

if TYPE_CHECKING:
    from lxml import etree

    from xdlink.jsliteral import Scope, Script


CALLS = InitCalls("mixpanel")
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
    """One ``mixpanel.init(...)`` call; ``config`` is None when its token cannot be read,
    and ``unread`` then says what the token is, as written, and why."""

    config: MixpanelConfig | None
    unread: str | None = None


def find_init_calls(
    script: str, earlier: Callable[[], Sequence[str]] | None = None
) -> tuple[InitCall, ...]:
    """The init calls in the text of one script (a call in a comment or string is none).
    ``earlier``: the texts of the page's inline scripts before this one, where a name the
    call is given may be assigned (asked for only then)."""
    read = _read(script)
    if read.static is not None:
        return read.static
    from xdlink.jsliteral import Scope  # here: see InitCalls.arguments

    scope = Scope(read.script, _scripts(earlier))
    return tuple(init or _init_from(args, scope) for args, init in read.calls)


def _scripts(texts: Callable[[], Sequence[str]] | None) -> Callable[[], Sequence[Script]]:
    if texts is None:
        return tuple
    return lambda: [_read(text).script for text in texts()]


@dataclass(frozen=True)
class _Read:
    """A script and its init calls, each as its arguments and, when reading it needs no
    name looked up, as the InitCall (None otherwise)."""

    script: Script
    calls: tuple[tuple[tuple[Any, ...], InitCall | None], ...]
    static: tuple[InitCall, ...] | None  # all the InitCalls, when none needs a look-up


def _read(script: str) -> _Read:
    return _cached_read(script) if len(script) <= _CACHED_SCRIPT else _read_script(script)


@functools.lru_cache(maxsize=256)
def _cached_read(script: str) -> _Read:
    return _read_script(script)


# What a call the script does not close is: no token can be read from it.
_NOT_CLOSED = InitCall(None, "the call is not closed")


def _read_script(text: str) -> _Read:
    from xdlink.jsliteral import Script, has_names

    script = Script(text)
    calls: list[tuple[tuple[Any, ...], InitCall | None]] = []
    for args in CALLS.arguments(script):
        if args is None:
            calls.append(((), _NOT_CLOSED))
            continue
        named = any(has_names(arg) for arg in (args[:1] + args[2:3]))
        calls.append((args, None if named else _init_from(args, None)))
    static = tuple(init for _, init in calls if init is not None)
    return _Read(script, tuple(calls), static if len(static) == len(calls) else None)


def inits_in_tree(tree: etree._Element) -> list[InitCall]:
    """Return every ``mixpanel.init`` call in the inline scripts of a parsed page, in order."""
    return [
        call for text, earlier in CALLS.in_tree(tree) for call in find_init_calls(text, earlier)
    ]


def _init_from(args: tuple[Any, ...], scope: Scope | None) -> InitCall:
    """The project and instance of ``mixpanel.init(token, config, name)``, its names looked
    up in ``scope``; what its token is when that cannot be read."""
    if not args:
        return InitCall(None, "no token")
    from xdlink.jsliteral import Unknown, evaluate

    token = evaluate(args[0], scope)
    if not isinstance(token, str) or not token:
        if isinstance(token, Unknown):  # shown in backticks, unless it is a template
            shown = token.text if token.text.startswith("`") else f"`{token.text}`"
            return InitCall(None, f"{shown} ({token.why})")
        return InitCall(None, f"`{token!r}` (not a string)")
    instance = evaluate(args[2], scope) if len(args) > 2 else None
    if isinstance(instance, Unknown):
        instance = instance.text
    return InitCall(
        MixpanelConfig(token, instance if isinstance(instance, str) and instance else None)
    )


def page_init(calls: Iterable[InitCall]) -> tuple[MixpanelConfig | None, tuple[str, ...]]:
    """Return the page's main init (the default instance's, else the first readable one), and
    every token the page names."""
    configs = [call.config for call in calls if call.config is not None]
    if not configs:
        return None, ()
    default = [config for config in configs if config.instance is None]
    tokens = tuple(dict.fromkeys(config.token for config in configs))
    return next(iter(default or configs), None), tokens
