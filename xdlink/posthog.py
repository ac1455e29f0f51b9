"""Everything the Python side knows about PostHog: reading a page's ``posthog.init`` for
the report (the project keys a site names, the pages that start PostHog, the pages where
PostHog keeps no id to carry).

posthog-js keeps its state under ``ph_<key>_posthog`` (``ph_<persistence_name>``) as the
init's ``persistence`` says; the browser script reads that from the init's arguments as
the init runs, so the build needs none of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdlink.initcalls import InitCalls

if TYPE_CHECKING:
    from lxml import etree

    from xdlink.jsliteral import Scope


CALLS = InitCalls("posthog")
# The length of the scripts cached (see mixpanel.py).
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


def find_init_calls(
    script: str, earlier: Callable[[], Sequence[str]] | None = None
) -> tuple[InitCall, ...]:
    """The init calls in the text of one script (a call in a comment or string is none).
    ``earlier``: the texts of the page's inline scripts before this one, where a name the
    call is given may be assigned (asked for only then)."""
    calls = _cached_calls(script) if len(script) <= _CACHED_SCRIPT else _calls(script)
    if not calls:
        return ()
    texts = earlier or tuple
    from xdlink.jsliteral import Scope, Script  # here: see InitCalls.arguments

    scope = Scope(Script(script), lambda: [Script(text) for text in texts()])
    return tuple(_init_from(args, scope) for args in calls)


@functools.lru_cache(maxsize=256)
def _cached_calls(script: str) -> tuple[tuple[Any, ...], ...]:
    return _calls(script)


def _calls(text: str) -> tuple[tuple[Any, ...], ...]:
    """The arguments of each init call in code; () for a call the text does not close."""
    from xdlink.jsliteral import Script

    return tuple(args or () for args in CALLS.arguments(Script(text)))


def inits_in_tree(tree: etree._Element) -> list[InitCall]:
    """Every ``posthog.init`` call in the inline scripts of a parsed page, in order (a
    script a consent manager parks as ``type="text/plain"`` included)."""
    return [
        call for text, earlier in CALLS.in_tree(tree) for call in find_init_calls(text, earlier)
    ]


def _init_from(args: tuple[Any, ...], scope: Scope) -> InitCall:
    """The project, instance and cookieless mode of ``posthog.init(key, config, name)``,
    its names looked up in ``scope``."""
    from xdlink.jsliteral import JSObject, evaluate

    key = evaluate(args[0], scope) if args else None
    if not isinstance(key, str) or not key:
        return InitCall(None)
    config = evaluate(args[1], scope, frozenset({"cookieless_mode"})) if len(args) > 1 else None
    mode = config.get("cookieless_mode") if isinstance(config, JSObject) else None
    instance = evaluate(args[2], scope) if len(args) > 2 else None
    name = instance if isinstance(instance, str) and instance else None
    return InitCall(PostHogConfig(key=key, instance=name, cookieless=mode == "always"))


def page_init(calls: Iterable[InitCall]) -> tuple[PostHogConfig | None, tuple[str, ...]]:
    """The page's main init (the default instance's, else the first readable one), and
    every project key the page names."""
    configs = [call.config for call in calls if call.config is not None]
    if not configs:
        return None, ()
    default = [config for config in configs if config.instance is None]
    keys = tuple(dict.fromkeys(config.key for config in configs))
    return next(iter(default or configs), None), keys
