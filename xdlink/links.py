"""Where a page's links lead and which address it gives as its own."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

import idna
from lxml import etree

from xdlink.scan import Tag, parse_tag

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
    """The ASCII host name of an http(s) or scheme-relative URL, or None."""
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


_OWN_URL_TAG = {"canonical": "link", "og:url": "meta"}


def own_hosts(text: str) -> set[str]:
    """The hosts a page gives as its own: <link rel=canonical> and og:url, found by their
    words (cheaper than following the head for them on every page)."""
    return {host for host in map(url_host, own_urls(text)) if host}


def own_urls(text: str) -> list[str]:
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


def mentioned_in_links(text: str, domains: tuple[str, ...]) -> set[str]:
    """The domains that a link, area or form attribute in the text seems to name: a
    prefilter (str.find, then a look at what precedes each hit) for ``link_hosts``."""
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
