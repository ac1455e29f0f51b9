"""Render the browser script from its Jinja2 template, minify it and hash it for CSP."""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import jinja2
import rjsmin

TEMPLATE = "xdlink.js.j2"


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


@dataclass(frozen=True)
class ScriptConfig:
    """The per-site values the browser script needs; everything else is static."""

    domains: tuple[str, ...]
    param: str
    ttl: int
    in_fragment: bool = False
    mixpanel: MixpanelConfig | None = None

    def to_json(self) -> dict[str, Any]:
        """The object handed to the script; short keys because it is inlined in every page."""
        data: dict[str, Any] = {"d": host_pattern(self.domains), "p": self.param, "t": self.ttl}
        if self.in_fragment:
            data["f"] = 1
        if self.mixpanel is not None:
            data["m"] = _mixpanel_json(self.mixpanel)
        return data


def host_pattern(domains: tuple[str, ...]) -> str:
    """A regular expression for the hosts the listed domains cover: ``b.com`` itself and
    its subdomains on a dot boundary (never ``notb.com``), ``*.b.com`` its subdomains only.

    Domains are validated host names (letters, digits, hyphens, dots), so escaping the dots
    is all they need; the script builds the expression with RegExp(), a data structure,
    not code.
    """
    plain = [domain.replace(".", "\\.") for domain in domains if not domain.startswith("*.")]
    wild = [domain[2:].replace(".", "\\.") for domain in domains if domain.startswith("*.")]
    parts = []
    if plain:
        parts.append("(^|\\.)(" + "|".join(plain) + ")$")
    if wild:
        parts.append("\\.(" + "|".join(wild) + ")$")
    return "|".join(parts) or "$^"


def _mixpanel_json(config: MixpanelConfig) -> dict[str, Any]:
    """Where the page's SDK keeps its state, precomputed so the inlined script stays small.

    Names and defaults follow mixpanel-browser (2.45 to 2.83): ``mixpanel-persistence.js``
    names the state ``mp_<persistence_name>`` or ``mp_<token>_mixpanel``; ``gdpr-utils.js``
    keeps the opt-out flag under ``<prefix or __mp_opt_in_out_><token>``; ``utils.js``
    ``_.cookie.set`` adds ``SameSite=None; secure`` for cross-site cookies. The script checks
    the opt-out flag in both cookie and localStorage, so the opt-out persistence type is not
    needed.
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
    return data


@dataclass(frozen=True)
class RenderedScript:
    code: str

    @functools.cached_property
    def sha256(self) -> str:
        """The CSP source expression that allows this script inline."""
        digest = hashlib.sha256(self.code.encode("utf-8")).digest()
        return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the code, carried in the block's marker for idempotence."""
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("xdlink", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=256)
def render(config: ScriptConfig) -> RenderedScript:
    """The minified script for one configuration (cached: a site has few of them)."""
    source = _environment().get_template(TEMPLATE).render(config=config.to_json())
    return RenderedScript(code=rjsmin.jsmin(source).strip())
