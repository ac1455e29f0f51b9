"""Where a page's links lead and which address it gives as its own, read from its text.

A link is an ``<a>`` (``href``, or an SVG ``xlink:href``), ``<area>`` or ``<form action>``
tag whose URL's host a listed domain covers. The tags are found from the domain names
in the text (``str.find``) and read with the tokenizer's own tag reader, so a page with no
mention of a listed domain costs one pass of ``str.find``; tags inside comments and
raw-text elements (scripts, styles, ``<noscript>``, ``<textarea>``) are not links.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
from urllib.parse import urlsplit

import idna

from xdlink.domains import host_matches
from xdlink.scan import Tag, parse_tag

_LINK_ATTRIBUTES = {"a": ("href", "xlink:href"), "area": ("href",), "form": ("action",)}
_INERT = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp|noscript|noembed|noframes)(?=[\t\n\f\r />])"
    r".*?(?:</\1|\Z)",
    re.DOTALL | re.IGNORECASE,
)


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


_ABSOLUTE_LINK = re.compile(
    r"(?:href|action)[\t\n\f\r ]*=[\t\n\f\r ]*[\"']?[\t\n\f\r ]*(?:https?:)?//([^/\"'\s>?#:\\]+)",
    re.IGNORECASE,
)


def link_hosts(text: str) -> set[str]:
    """The hosts of the page's absolute links, lower-cased (a quick read, for suggestions)."""
    return {host.lower().rstrip(".") for host in _ABSOLUTE_LINK.findall(text)}


def links_to(text: str, domains: tuple[str, ...]) -> dict[str, int]:
    """How many link tags of the page lead to each listed domain (domains with none are
    left out). ``text`` is the page's text view (for UTF-8 pages, bytes read as latin-1)."""
    lowered = text.lower()  # cheap; its length may differ, which only affects rare IDNs
    inert = _LazyInert(text)
    counts = {domain: len(_link_urls(text, lowered, domain, inert)) for domain in domains}
    return {domain: count for domain, count in counts.items() if count}


def link_urls(text: str, domain: str) -> list[str]:
    """The URLs of the page's link tags that lead to ``domain``, in document order."""
    return _link_urls(text, text.lower(), domain, _LazyInert(text))


def _link_urls(text: str, lowered: str, domain: str, inert: _LazyInert) -> list[str]:
    starts = {position for form in _domain_forms(domain) for position in _positions(lowered, form)}
    tags = {tag.start: tag for tag in (_enclosing_tag(text, start) for start in starts) if tag}
    urls = []
    for start in sorted(tags):
        url = _url_to(tags[start], domain)
        if url is not None and not inert.covers(start):
            urls.append(url)
    return urls


def _positions(lowered: str, form: str) -> list[int]:
    found = []
    position = lowered.find(form)
    while position >= 0:
        found.append(position)
        position = lowered.find(form, position + len(form))
    return found


def _url_to(tag: Tag, domain: str) -> str | None:
    for attribute in _LINK_ATTRIBUTES.get(tag.name, ()):
        url = html.unescape(_as_utf8(tag.attrs.get(attribute, "")))
        host = url_host(url)
        if host is not None and host_matches(host, domain):
            return url
    return None


def _as_utf8(value: str) -> str:
    """A value of the latin-1 view of a UTF-8 page, decoded (an IDN host, say)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


class _LazyInert:
    """The spans of the page where a tag is text, not markup (comments, raw text), found
    the first time a tag is asked about."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None
        self.ends: list[int] = []

    def covers(self, position: int) -> bool:
        if self.starts is None:
            spans = [(match.start(), match.end()) for match in _INERT.finditer(self.text)]
            self.starts = [start for start, _ in spans]
            self.ends = [end for _, end in spans]
        index = bisect.bisect_right(self.starts, position) - 1
        return index >= 0 and self.starts[index] < position < self.ends[index]


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
