"""The listed domains: their validation and which hosts each of them covers."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import idna

from xdlink.errors import XdlinkError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def parse_domains(values: Iterable[str]) -> tuple[str, ...]:
    """Split comma lists and normalise each name, in order, without repeats."""
    domains: list[str] = []
    for raw in _split(values):
        name = normalize_domain(raw)
        if name not in domains:
            domains.append(name)
    return tuple(domains)


def url_notices(values: Iterable[str]) -> tuple[str, ...]:
    """What parsing changed that the user should hear of: URLs given for domains."""
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
    """The ASCII, lower-case form of one domain (of its host, when given a URL)."""
    text = raw.strip()
    if "://" in text:
        text = _host_of_url(raw)
    wildcard = text.startswith("*.")
    host = text[2:] if wildcard else text
    ascii_host = _ascii_host(raw, host.rstrip("."))
    return ("*." if wildcard else "") + ascii_host


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
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise XdlinkError(f"{bad}: not a host name ({exc})") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise XdlinkError(f"{bad}: not a host name")
    return ascii_host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


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


def host_matches(host: str, domain: str) -> bool:
    """Whether the browser script would carry a visitor to ``host`` for ``domain``: the
    same expression it is given, so the report and the script agree."""
    return _domain_expression(domain).search(host) is not None


@functools.lru_cache(maxsize=256)
def _domain_expression(domain: str) -> re.Pattern[str]:
    return re.compile(host_pattern((domain,)))


def listed(hosts: Iterable[str], domains: Iterable[str]) -> set[str]:
    """The listed domains that cover any of the hosts."""
    return {domain for host in hosts for domain in domains if host_matches(host, domain)}
