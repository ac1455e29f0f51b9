"""Everything the Python side knows about Mixpanel: reading a page's ``mixpanel.init``,
the form of a project token, and where the SDK keeps its state, told to the script.

Names and defaults follow mixpanel-browser 2.45 to 2.83; the browser side of the same
facts is ``js/src/xdlink.js``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from xdlink.jsliteral import read_arguments

if TYPE_CHECKING:
    from lxml import etree

    from xdlink.settings import Settings

Persistence = Literal["cookie", "localStorage"]

INIT_CALL = re.compile(r"mixpanel\s*\.\s*init\s*\(")
_IDENTIFIER_CHAR = re.compile(r"[\w$]")
# Mixpanel project tokens are 32 hex characters; accept any short token-shaped value so
# that self-hosted proxies with other token formats still work.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Scripts longer than this are read each time rather than cached: the cache is for the
# snippet a site repeats on every page, and must not hold large scripts alive.
_CACHED_SCRIPT = 16 * 1024


@dataclass(frozen=True)
class MixpanelConfig:
    """What a page's own ``mixpanel.init(token, config, name)`` says about its storage."""

    token: str
    instance: str | None = None
    persistence: str | None = None
    persistence_name: str | None = None
    cookie_domain: str | None = None
    cross_subdomain_cookie: bool | None = None
    secure_cookie: bool | None = None
    cross_site_cookie: bool | None = None
    opt_out_persistence: str | None = None
    opt_out_cookie_prefix: str | None = None
    # Mixpanel waits for consent: opt_out_tracking_by_default, or an init in a script that
    # a consent manager enables (type="text/plain" and the like) or --consent.
    consent: bool = False


@dataclass(frozen=True)
class InitCall:
    """One ``mixpanel.init(...)`` call; ``config`` is None when the token is not a literal."""

    config: MixpanelConfig | None


def check_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise ValueError("not a Mixpanel project token")
    return token


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


def find_init_calls(script: str, runs: bool = True) -> tuple[InitCall, ...]:
    """The init calls in the text of one script; ``runs`` False for a script the browser
    does not run as it stands (a consent manager enables it after consent)."""
    calls = _cached_init_calls(script) if len(script) <= _CACHED_SCRIPT else (*_init_calls(script),)
    if runs:
        return calls
    return tuple(InitCall(_awaiting_consent(call.config)) for call in calls)


def _awaiting_consent(config: MixpanelConfig | None) -> MixpanelConfig | None:
    return None if config is None else dataclasses.replace(config, consent=True)


# What browsers run as a classic script (the HTML standard's JavaScript MIME types) or a
# module; any other type is a data block, the way consent managers park scripts.
_SCRIPT_TYPES = frozenset(
    {"", "module", "application/ecmascript", "application/javascript", "application/x-ecmascript"}
    | {"application/x-javascript", "text/ecmascript", "text/javascript", "text/jscript"}
    | {"text/javascript1.0", "text/javascript1.1", "text/javascript1.2", "text/javascript1.3"}
    | {"text/javascript1.4", "text/javascript1.5", "text/livescript", "text/x-ecmascript"}
    | {"text/x-javascript"}
)


def script_runs(script_type: str | None) -> bool:
    """Whether a script element of this ``type`` attribute runs when the page loads."""
    return script_type is None or script_type.strip().lower() in _SCRIPT_TYPES


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
            calls.extend(find_init_calls(script.text, script_runs(script.get("type"))))
    return calls


def _config_from(args: list[Any]) -> MixpanelConfig | None:
    token = args[0] if args else None
    if not isinstance(token, str) or not token:
        return None
    options = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    instance = args[2] if len(args) > 2 and isinstance(args[2], str) else None

    def text(key: str) -> str | None:
        value = options.get(key)
        return value if isinstance(value, str) else None

    def flag(key: str) -> bool | None:
        value = options.get(key)
        return value if isinstance(value, bool) else None

    return MixpanelConfig(
        token=token,
        instance=instance,
        persistence=text("persistence"),
        persistence_name=text("persistence_name"),
        cookie_domain=text("cookie_domain"),
        cross_subdomain_cookie=flag("cross_subdomain_cookie"),
        secure_cookie=flag("secure_cookie"),
        cross_site_cookie=flag("cross_site_cookie"),
        opt_out_persistence=text("opt_out_tracking_persistence_type"),
        opt_out_cookie_prefix=text("opt_out_tracking_cookie_prefix"),
        consent=flag("opt_out_tracking_by_default") is True,
    )


def page_init(calls: Iterable[InitCall]) -> tuple[MixpanelConfig | None, tuple[str, ...]]:
    """The init whose storage the script writes (the default instance's, else the first
    readable one), and every token the page names."""
    configs = [call.config for call in calls if call.config is not None]
    default = [config for config in configs if config.instance is None]
    tokens = tuple(dict.fromkeys(config.token for config in configs))
    return next(iter(default or configs), None), tokens


def given_init(settings: Settings) -> MixpanelConfig | None:
    """The init the options describe (``--token`` and its storage options), if any."""
    if settings.token is None:
        return None
    return MixpanelConfig(
        token=settings.token,
        persistence=settings.persistence,
        cookie_domain=settings.cookie_domain,
        cross_subdomain_cookie=settings.cross_subdomain_cookie,
        consent=settings.consent,
    )


def storage_for(page: MixpanelConfig | None, given: MixpanelConfig | None) -> MixpanelConfig | None:
    """The storage the script writes on a page: the page's own init, unless the options
    name another token (the page's init is then not the one that counts). Consent asked
    for by either counts."""
    if given is None:
        return page
    if page is not None and page.token == given.token:
        return dataclasses.replace(page, consent=page.consent or given.consent)
    return given


def script_json(config: MixpanelConfig, suffixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Where the page's SDK keeps its state, precomputed so the inlined script stays small.

    ``mixpanel-persistence.js`` names the state ``mp_<persistence_name>`` or
    ``mp_<token>_mixpanel``; ``gdpr-utils.js`` keeps the opt-out flag under
    ``<prefix or __mp_opt_in_out_><token>``; ``utils.js`` ``_.cookie.set`` adds
    ``SameSite=None; secure`` for cross-site cookies. The script checks the opt-out flag in
    both cookie and localStorage, so the opt-out persistence type is not needed.
    ``suffixes``: the public suffixes no cookie of the script may name as its domain.
    """
    name = "mp_" + (config.persistence_name or config.token + "_mixpanel")
    prefix = config.opt_out_cookie_prefix or "__mp_opt_in_out_"
    data: dict[str, Any] = {"n": name, "o": prefix + config.token}
    if config.persistence == "localStorage":
        data["l"] = 1
    if config.cookie_domain:
        data["c"] = config.cookie_domain
    if config.cross_subdomain_cookie is False:
        data["h"] = 1
    if config.cross_site_cookie:
        data["a"] = ";SameSite=None;secure"
    elif config.secure_cookie:
        data["a"] = ";secure"
    if config.consent:
        data["b"] = 1
    if suffixes and data.get("l") != 1:
        data["s"] = list(suffixes)
    return data
