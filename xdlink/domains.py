"""The listed domains: their validation and which hosts each of them covers."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import idna
import publicsuffixlist

from xdlink.errors import XdlinkError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PORT = re.compile(r":\d*$")


def parse_domains(values: Iterable[str]) -> tuple[str, ...]:
    """Split comma lists and normalise each name, in order, without repeats."""
    domains: list[str] = []
    for raw in _split(values):
        name = normalize_domain(raw)
        if name not in domains:
            domains.append(name)
    return tuple(domains)


def url_notices(values: Iterable[str]) -> tuple[str, ...]:
    """Return what parsing changed that the user should hear of: URLs given for domains."""
    return tuple(
        f"domain {raw.strip()!r} is a URL; using its host {normalize_domain(raw)!r}"
        for raw in _split(values)
        if "://" in raw
    )


def _split(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [raw for value in values for raw in value.split(",") if raw.strip()]


def normalize_domain(raw: str) -> str:
    """Return the ASCII, lower-case form of one domain (of its host, when given a URL), refused
    with what to do instead when it is not a domain a site can own."""
    text = raw.strip()
    if "://" in text:
        text = _host_of_url(raw)
    _check_shape(raw, text)
    wildcard = text.startswith("*.")
    host = text[2:] if wildcard else text
    ascii_host = _ascii_host(raw, host.rstrip("."))
    _check_registrable(raw, ascii_host)
    return ("*." if wildcard else "") + ascii_host


def _check_shape(raw: str, text: str) -> None:
    """Refuse the mistakes people make in a domain list, each with its remedy."""
    bad = f"invalid domain {raw.strip()!r}"
    port = _PORT.search(text)
    if port:
        without = text[: port.start()]
        raise XdlinkError(
            f"{bad}: drop the port ({port.group()!r}): xdlink carries the visitor to every "
            f"port of {without!r}"
        )
    if any(char.isspace() for char in text):
        together = ",".join(text.split())
        raise XdlinkError(f"{bad}: separate domains with commas, as in {together!r}")
    if text.startswith(".") and text.strip("."):
        name = text.strip(".")
        raise XdlinkError(
            f"{bad}: write '*.{name}' for its subdomains only, or {name!r} for it and all "
            "its subdomains"
        )


@functools.cache
def _public_suffix_rules() -> frozenset[bytes]:
    """Return the lines of the Public Suffix List that the publicsuffixlist package bundles
    (no network), in UTF-8: its rules, and comments, which start with "//" as no name does.
    Its own parser builds a tree of every rule at every run, and a set of the decoded rules
    took 10 ms to build, which shows in the start-up time ``make bench`` measures."""
    with open(publicsuffixlist.PSLFILE, "rb") as handle:
        return frozenset(map(bytes.strip, handle.read().split(b"\n"))) - {b""}


def _is_rule(rule: str) -> bool:
    return rule.encode("utf-8") in _public_suffix_rules()


def is_public_suffix(host: str) -> bool:
    """Apply the list's algorithm to a whole name: an exception rule ("!www.ck") says no; a
    rule or a wildcard rule over its parent ("*.ck") says yes; an unknown top-level name is a
    suffix by the list's default rule "*". A name whose every child is a suffix
    ("*.kawasaki.jp") counts as one too, as the package counts it. Rules are in Unicode."""
    name = idna.decode(host) if "xn--" in host else host
    if _is_rule("!" + name):
        return False
    parent = name.partition(".")[2]
    wildcard = _is_rule("*." + name) or (bool(parent) and _is_rule("*." + parent))
    return _is_rule(name) or wildcard or not parent


def cookie_suffixes(domains: Iterable[str]) -> tuple[str, ...]:
    """Return the public suffixes of more than one label above the listed domains (github.io,
    co.uk): a cookie that names one as its domain is refused by browsers, and Firefox
    reports it in the console. Single labels (com) the script never names."""
    found = set()
    for domain in domains:
        labels = domain.removeprefix("*.").split(".")
        for start in range(1, len(labels) - 1):
            suffix = ".".join(labels[start:])
            if is_public_suffix(suffix):
                found.add(suffix)
    return tuple(sorted(found))


def _check_registrable(raw: str, host: str) -> None:
    """Refuse a public suffix (com, co.uk, github.io ...): it is not one site, and carrying the
    visitor's id to it would hand it to every site under it."""
    if is_public_suffix(host):
        raise XdlinkError(
            f"invalid domain {raw.strip()!r}: {host} is a public suffix, under which anyone "
            f"can have a site; list your own domain under it, e.g. 'your-site.{host}'"
        )


def _host_of_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise XdlinkError(f"invalid domain {raw.strip()!r}: not a host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise XdlinkError(
            f"invalid domain {raw.strip()!r}: give a host name such as "
            f"{parts.hostname!r}, not a page address"
        )
    return parts.hostname


def _ascii_host(raw: str, host: str) -> str:
    bad = f"invalid domain {raw.strip()!r}"
    if not host or host.isspace():
        raise XdlinkError(f"{bad}: empty host name")
    if _is_ip(host):
        raise XdlinkError(f"{bad}: an IP address, not a domain name")
    not_a_host = f"{bad}: not a host name (letters, digits, hyphens and dots)"
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise XdlinkError(not_a_host) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise XdlinkError(not_a_host)
    return ascii_host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_pattern(domains: tuple[str, ...]) -> str:
    """Return a regular expression for the hosts the listed domains cover: ``b.com`` itself
    and its subdomains on a dot boundary (never ``notb.com``), ``*.b.com`` its subdomains
    only; each also written as a fully qualified name with its trailing dot (``b.com.``).

    Domains are validated host names (letters, digits, hyphens, dots), so escaping the dots
    is all they need; the script builds the expression with RegExp(), a data structure,
    not code.
    """
    plain = [domain.replace(".", "\\.") for domain in domains if not domain.startswith("*.")]
    wild = [domain[2:].replace(".", "\\.") for domain in domains if domain.startswith("*.")]
    parts = []
    if plain:
        parts.append("(^|\\.)(" + "|".join(plain) + ")\\.?$")
    if wild:
        parts.append("\\.(" + "|".join(wild) + ")\\.?$")
    return "|".join(parts) or "$^"


def host_matches(host: str, domain: str) -> bool:
    """Return whether the browser script would carry a visitor to ``host`` for ``domain``: the
    same expression it is given, so the report and the script agree."""
    return _domain_expression(domain).search(host) is not None


@functools.lru_cache(maxsize=256)
def _domain_expression(domain: str) -> re.Pattern[str]:
    return re.compile(host_pattern((domain,)))


def domains_covering(hosts: Iterable[str], domains: Iterable[str]) -> set[str]:
    """Return the listed domains that cover any of the hosts."""
    return {domain for host in hosts for domain in domains if host_matches(host, domain)}
