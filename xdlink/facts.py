"""Read what a page says about itself with lxml: its Mixpanel init, its CSP, its links."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import idna
from lxml import etree

from xdlink.scan import Block, Head, Tag, parse_tag
from xdlink.script import MixpanelConfig, host_pattern
from xdlink.settings import Settings
from xdlink.source import Source, lxml_encoding

INIT_CALL = re.compile(r"mixpanel\s*\.\s*init\s*\(")
_IDENTIFIER_CHAR = re.compile(r"[\w$]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SKIP = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_CLOSERS = {"{": "}", "(": ")", "[": "]"}
_UNKNOWN = object()


@dataclass(frozen=True)
class InitCall:
    """One ``mixpanel.init(...)`` call; ``config`` is None when the token is not a literal."""

    config: MixpanelConfig | None


def parse_tree(data: bytes, encoding: str | None) -> tuple[etree._Element | None, bool]:
    """The page's tree, and whether libxml2 read all of it: it stops at a nesting depth
    of 2,048 even with huge_tree, and drops what lies deeper. It decodes the page itself,
    told the encoding the page declares."""
    options: dict[str, Any] = {"recover": True, "no_network": True, "huge_tree": True}
    try:
        parser = etree.HTMLParser(encoding=encoding, remove_pis=True, **options)
    except LookupError:
        parser = etree.HTMLParser(remove_pis=True, **options)
    try:
        tree = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):
        return None, False
    limited = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return tree, not limited


def mixpanel_inits(tree: etree._Element) -> list[InitCall]:
    """Every ``mixpanel.init`` call in the page's inline scripts, in document order."""
    calls: list[InitCall] = []
    for script in tree.iter("script"):
        if script.get("src") is None and script.text and "mixpanel" in script.text:
            calls.extend(find_init_calls(script.text))
    return calls


def init_call_positions(text: str, start: int = 0, end: int | None = None) -> Iterator[int]:
    """Where ``mixpanel.init(`` stands in the text (found with str.find: a regular
    expression that searches for it is a hundred times slower on long pages)."""
    end = len(text) if end is None else end
    position = text.find("mixpanel", start, end)
    while position >= 0:
        before = text[position - 1 : position]
        if INIT_CALL.match(text, position, end) and not _IDENTIFIER_CHAR.match(before):
            yield position
        position = text.find("mixpanel", position + 8, end)


@functools.lru_cache(maxsize=256)
def find_init_calls(source: str) -> tuple[InitCall, ...]:
    """The init calls of one script's text (cached: a site repeats the same snippet)."""
    return tuple(_init_calls(source))


def _init_calls(source: str) -> Iterator[InitCall]:
    for position in init_call_positions(source):
        match = INIT_CALL.match(source, position)
        assert match is not None
        reader = _JsReader(source, match.end())
        try:
            args = reader.arguments()
        except (IndexError, ValueError):
            yield InitCall(None)
            continue
        yield InitCall(_config_from(args))


def _config_from(args: list[Any]) -> MixpanelConfig | None:
    token = args[0] if args else _UNKNOWN
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
    )


class _JsReader:
    """Reads the literal arguments of one call; anything not a literal reads as unknown."""

    def __init__(self, source: str, position: int) -> None:
        self.source = source
        self.i = position

    def skip(self) -> str:
        match = _SKIP.match(self.source, self.i)
        self.i = match.end() if match else self.i
        return self.source[self.i : self.i + 1]

    def arguments(self) -> list[Any]:
        args: list[Any] = []
        while self.skip() not in (")", ""):
            args.append(self.value())
            if self.skip() == ",":
                self.i += 1
        return args

    def value(self) -> Any:
        char = self.skip()
        if char in "\"'`":
            return self.string(char)
        if char == "{":
            return self.object()
        if char == "!" and self.source[self.i + 1 : self.i + 2] in "01":
            self.i += 2
            return self.source[self.i - 1] == "0"
        word = _IDENT.match(self.source, self.i) or _NUMBER.match(self.source, self.i)
        if word and word.group() in ("true", "false"):
            self.i = word.end()
            return word.group() == "true"
        return self.opaque()

    def string(self, quote: str) -> Any:
        out: list[str] = []
        i = self.i + 1
        while self.source[i] != quote:
            if self.source[i] == "\\":
                i += 1
            elif quote == "`" and self.source.startswith("${", i):
                self.i = i
                self.opaque_until(quote)
                return _UNKNOWN
            out.append(self.source[i])
            i += 1
        self.i = i + 1
        return "".join(out)

    def object(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.i += 1
        while self.skip() not in ("}", ""):
            key = self.key()
            if self.skip() == ":":
                self.i += 1
                result[key] = self.value()
            if self.skip() == ",":
                self.i += 1
            elif self.skip() != "}":
                self.opaque()
        self.i += 1
        return result

    def key(self) -> str:
        char = self.skip()
        if char in "\"'":
            key = self.string(char)
            return key if isinstance(key, str) else ""
        word = _IDENT.match(self.source, self.i) or _NUMBER.match(self.source, self.i)
        if word is None:
            raise ValueError("not an object key")
        self.i = word.end()
        return word.group()

    def opaque(self) -> Any:
        """Skip an expression up to the next ``,`` ``)`` or ``}`` at its own depth."""
        depth: list[str] = []
        source = self.source
        while True:
            char = source[self.i]
            if char in "\"'`":
                self.string(char)
                continue
            if char in _CLOSERS:
                depth.append(_CLOSERS[char])
            elif depth and char == depth[-1]:
                depth.pop()
            elif not depth and char in ",)}":
                return _UNKNOWN
            self.i += 1

    def opaque_until(self, quote: str) -> None:
        while self.source[self.i] != quote:
            self.i += 2 if self.source[self.i] == "\\" else 1
        self.i += 1


# --- Content-Security-Policy -----------------------------------------------------------


def csp_blocks_inline(policies: Iterable[str], csp_hash: str) -> bool:
    """True when any of the meta policies would refuse an inline script with this hash."""
    return any(_policy_blocks(html.unescape(policy), csp_hash) for policy in policies)


def _policy_blocks(policy: str, csp_hash: str) -> bool:
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        parts = directive.split()
        if parts:
            directives.setdefault(parts[0].lower(), parts[1:])
    for name in ("script-src-elem", "script-src", "default-src"):
        if name in directives:
            sources = directives[name]
            break
    else:
        return False
    if csp_hash in sources:
        return False
    lowered = [source.lower() for source in sources]
    # A nonce, a hash or 'strict-dynamic' makes browsers ignore 'unsafe-inline'.
    overriding = any(s.startswith(("'nonce-", "'sha")) or s == "'strict-dynamic'" for s in lowered)
    return "'unsafe-inline'" not in lowered or overriding


def csp_allows_self(policies: Iterable[str]) -> bool:
    """True unless a policy's script sources leave out 'self' (for ``--external``)."""
    for policy in policies:
        for directive in html.unescape(policy).split(";"):
            parts = directive.lower().split()
            if parts and parts[0] in ("script-src", "default-src") and "'self'" not in parts:
                return False
    return True


# --- links --------------------------------------------------------------------------


# Separate expressions: libxml2 merges the node sets of a union ("|") in quadratic time,
# minutes on a page with a million links.
_LINK_URLS = [
    etree.XPath(expression)
    for expression in (
        "//a/@*[local-name() = 'href' or local-name() = 'xlink:href'][contains(., '//')]",
        "//area/@href[contains(., '//')]",
        "//form/@action[contains(., '//')]",
    )
]


def link_hosts(tree: etree._Element) -> set[str]:
    """ASCII host names of the absolute http(s) links, areas, forms and SVG links."""
    hosts: set[str] = set()
    for expression in _LINK_URLS:
        urls = expression(tree)
        assert isinstance(urls, list)
        hosts.update(host for host in map(url_host, map(str, urls)) if host)
    return hosts


def url_host(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not host or parts.scheme.lower() not in ("http", "https", ""):
        return None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    return host.rstrip(".")


def host_matches(host: str, domain: str) -> bool:
    """Whether the browser script would carry a visitor to ``host`` for ``domain``: the
    same expression it is given, so the report and the script agree."""
    return _domain_expression(domain).search(host) is not None


@functools.lru_cache(maxsize=256)
def _domain_expression(domain: str) -> re.Pattern[str]:
    return re.compile(host_pattern((domain,)))


# --- one page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What one page tells the site report."""

    init: MixpanelConfig | None = None
    tokens: tuple[str, ...] = ()
    init_unreadable: bool = False
    csp_blocks: bool = False
    linked_domains: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()
    charset_after_script: bool = False


def gather_facts(
    source: Source,
    head: Head,
    settings: Settings,
    blocks: list[Block],
    settled: frozenset[str] = frozenset(),
) -> Facts:
    """Read the page's Mixpanel init, which listed domains its links point to, and which
    it names as its own address.

    When every ``mixpanel.init(`` of the page stands in an inline script of its head, the
    scan has the script's text; otherwise lxml parses the page and finds the real calls
    (a call shown in a code block is not one). Links and own addresses are looked for only
    for domains not yet ``settled`` (seen linked, or named as the site's own, elsewhere in
    the site); links with lxml, on pages whose text has a link-like mention of one.
    """
    calls_at = [at for at in init_calls_in(source.text) if not _inside(at, blocks)]
    scripts = [
        span for span in head.inline_scripts if any(span[0] <= at < span[1] for at in calls_at)
    ]
    in_head = all(any(a <= at < b for a, b in scripts) for at in calls_at)
    pending = tuple(domain for domain in settings.domains if domain not in settled)
    mentioned = _domains_in_links(source.text, pending)
    tree, complete = None, True
    if mentioned or not in_head:
        tree, complete = parse_tree(source.data, lxml_encoding(source))
    if in_head:
        calls = [call for a, b in scripts for call in find_init_calls(source.decoded(a, b))]
    else:
        calls = mixpanel_inits(tree) if tree is not None else []
    configs = [call.config for call in calls if call.config is not None]
    default = [config for config in configs if config.instance is None]
    linked = _listed(link_hosts(tree), pending) if mentioned and tree is not None else set()
    if not complete:
        linked |= mentioned  # past libxml2's depth limit the text is all there is
    own_hosts = {host for host in map(url_host, own_urls(source.text)) if host}
    own = _listed(own_hosts, pending) if pending else set()
    return Facts(
        init=next(iter(default or configs), None),
        tokens=tuple(dict.fromkeys(config.token for config in configs)),
        init_unreadable=bool(calls) and not configs,
        linked_domains=frozenset(linked),
        own_domains=frozenset(own),
        charset_after_script=head.charset_after_script,
    )


@functools.lru_cache(maxsize=4)
def init_calls_in(text: str) -> tuple[int, ...]:
    """Positions of ``mixpanel.init(`` (cached: the page core asks twice per page)."""
    return tuple(init_call_positions(text))


def _inside(position: int, blocks: list[Block]) -> bool:
    return any(block.start <= position < block.end for block in blocks)


_OWN_URL_TAG = {"canonical": "link", "og:url": "meta"}


def own_urls(text: str) -> list[str]:
    """The URLs a page gives as its own: <link rel=canonical> and og:url, found by their
    words (cheaper than following the head for them on every page)."""
    urls = []
    for word, element in _OWN_URL_TAG.items():
        position = text.find(word)
        while position >= 0:
            tag = _enclosing_tag(text, position)
            if tag is not None and tag.name == element:
                if element == "link" and word in tag.attrs.get("rel", "").lower().split():
                    urls.append(tag.attrs.get("href", ""))
                elif element == "meta" and tag.attrs.get("property") == word:
                    urls.append(tag.attrs.get("content", ""))
            position = text.find(word, position + len(word))
    return urls


def _enclosing_tag(text: str, position: int) -> Tag | None:
    start = text.rfind("<", 0, position)
    try:
        tag = parse_tag(text, start, every_attribute=True) if start >= 0 else None
    except ValueError:
        return None
    return tag if tag is not None and tag.end > position else None


def _listed(hosts: set[str], domains: tuple[str, ...]) -> set[str]:
    return {domain for host in hosts for domain in domains if host_matches(host, domain)}


@functools.lru_cache(maxsize=64)
def _domain_forms(domain: str) -> tuple[str, ...]:
    """The domain as links may write it: ASCII, Unicode, and UTF-8 bytes read as latin-1
    (the view of a UTF-8 page), all lower-cased."""
    ascii_name = domain.removeprefix("*.")
    unicode_name = idna.decode(ascii_name) if "xn--" in ascii_name else ascii_name
    forms = {ascii_name, unicode_name, unicode_name.encode("utf-8").decode("latin-1")}
    return tuple(sorted(form.lower() for form in forms))


_LINK_BEFORE_HOST = re.compile(
    r"<(?:a|area|form)[\t\n\f\r /][^<>]*?(?:href|action)[\t\n\f\r ]*=[\t\n\f\r ]*"
    r"[\"']?[\t\n\f\r ]*(?:https?:)?//(?:[^/\"'\s>?#<]*\.)?\Z"
)
_HOST_CHAR = re.compile(r"[\w.-]")


def _domains_in_links(text: str, domains: tuple[str, ...]) -> set[str]:
    """The domains that a link, area or form attribute in the text seems to name: a
    prefilter (str.find, then a look at what precedes each hit), confirmed by lxml."""
    if not domains:
        return set()
    lowered = text.lower()  # cheap; its length may differ, which is harmless here
    return {
        domain
        for domain in domains
        if any(_in_link(lowered, form) for form in _domain_forms(domain))
    }


def _in_link(lowered: str, form: str) -> bool:
    position = lowered.find(form)
    while position >= 0:
        end = position + len(form)
        ends_host = not _HOST_CHAR.match(lowered, end)
        if ends_host and _LINK_BEFORE_HOST.search(lowered, max(0, position - 512), position):
            return True
        position = lowered.find(form, end)
    return False
