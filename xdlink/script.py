"""The browser script: rendered from its Jinja2 template, hashed for CSP, as an element."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdlink import __version__
from xdlink.domains import cookie_suffixes, host_pattern
from xdlink.scan import MARKER_ATTRIBUTE
from xdlink.sdks import Variant
from xdlink.settings import Settings

if TYPE_CHECKING:
    import jinja2

# What wraps the script in a page served as XML.
CDATA = ("/*<![CDATA[*/", "/*]]>*/")


@dataclass(frozen=True)
class ScriptConfig:
    """The per-site values the browser script needs, and the variant a page's SDKs call
    for; everything else is static. The script reads where each SDK keeps its state from
    the page's own init as it runs, so a site has one script (and one CSP hash) per
    variant its pages use."""

    domains: tuple[str, ...]
    param: str
    ttl: int
    fragment: bool = False
    variant: Variant = Variant.MIXPANEL

    @classmethod
    def of(cls, settings: Settings, variant: Variant = Variant.MIXPANEL) -> ScriptConfig:
        return cls(
            # In one order whatever order they were given in: the same domains, the same script.
            domains=tuple(sorted(settings.domains)),
            param=settings.param,
            ttl=settings.ttl,
            fragment=settings.fragment,
            variant=variant,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the object handed to the script, with short keys, as it is inlined in every
        page."""
        data: dict[str, Any] = {"d": host_pattern(self.domains), "p": self.param, "t": self.ttl}
        if self.fragment:
            data["f"] = 1
        suffixes = cookie_suffixes(self.domains)
        if suffixes:
            data["s"] = list(suffixes)
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
        """A short hash of the code, carried in the element's marker for idempotence."""
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()[:12]

    def element(self, xml: bool = False, src: str | None = None) -> str:
        """Return the element: the script inline, or (``src``) a synchronous reference to its
        file."""
        marker = f'{MARKER_ATTRIBUTE}="{__version__} {self.fingerprint}"'
        if src is not None:
            return f'<script {marker} src="{html.escape(src)}"></script>'
        code = f"{CDATA[0]}{self.code}{CDATA[1]}" if xml else self.code
        return f"<script {marker}>{code}</script>"


@functools.cache
def _environment() -> jinja2.Environment:
    """Return the one Jinja2 environment, every setting written out. Jinja2 is imported here, where
    a template is rendered: reading and removing never load it."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("xdlink", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The template is minified already (js/build.mjs); compact JSON keeps it so.
    environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    return environment


@functools.lru_cache(maxsize=256)
def render(config: ScriptConfig) -> RenderedScript:
    """Return the script for one configuration (cached: a site has few of them)."""
    template = _environment().get_template(config.variant.value)
    source = template.render(config=config.to_json())
    return RenderedScript(code=source.strip())
