"""Where a page's links lead and which address it gives as its own, read from its text.

A link is an ``<a>`` (``href``, or an SVG ``xlink:href``), ``<area>`` or ``<form action>``
tag whose URL's host a listed domain covers. The tags are found from the hosts that follow
``//`` in the text, in one pass for every listed domain and for the hosts that look like a
domain's typo, and read with the tokenizer's own tag reader; tags inside comments and
raw-text elements (scripts, styles, ``<noscript>``, ``<textarea>``) are not links.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import html
import re
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

import idna

from xdlink.domains import host_matches
from xdlink.lowered import Lowered
from xdlink.scan import NAME_END, RAW_TEXT, WS, Tag, parse_tag, tag_source

_LINK_ATTRIBUTES = {"a": ("href", "xlink:href"), "area": ("href",), "form": ("action",)}


# Where a tag is text, not markup: inside a comment or an element the tokenizer reads as
# text (the scanner's own list, so the two cannot drift apart). The openers are searched
# for together (see xdlink.lowered), each closer from its opener.
_INERT_NAMES = ("", *sorted(RAW_TEXT))
_INERT_OPENERS = tuple(f"<{name}" if name else "<!--" for name in _INERT_NAMES)
_INERT_CLOSERS = tuple(f"</{name}" if name else "-->" for name in _INERT_NAMES)
# The long names are searched for without their "<", which is then checked, so that the
# search starts from several bytes (see xdlink.lowered); the short ones keep it, as
# "script", "style" and "title" stand in many attributes.
_BARE_OPENERS = frozenset(
    f"<{name}" for name in ("iframe", "noembed", "noframes", "noscript", "textarea")
)


def url_host(url: str) -> str | None:
    """Return the ASCII host name of an http(s) or scheme-relative URL, or None."""
    return _host(_through_authority(url.strip()))


def _through_authority(url: str) -> str:
    """Return the URL without what follows its authority (path, query, fragment), which cannot
    change its host: a site's canonical URLs then share a few entries of _host's cache."""
    authority = url.find("//")
    end = _AUTHORITY_END.search(url, authority + 2) if authority >= 0 else None
    return url if end is None else url[: end.start()]


_AUTHORITY_END = re.compile(r"[/?#]")


@functools.lru_cache(maxsize=1024)
def _host(url: str) -> str | None:
    try:
        parts = urlsplit(url)
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


# What follows "//" in an absolute or scheme-relative URL, in the lowered view: any user
# info, then the host as written (entities, UTF-8 read as latin-1 and Unicode included),
# up to the first character that ends a host. One search with a two-character prefix; the
# runs are possessive, and "&" is its own branch, so each character is read once: an
# alternation tried at every character of a host, with backtracking to look for "@",
# took half as long again on pages with hundreds of links. Whitespace is ASCII's alone:
# in the latin-1 view, the bytes 0x85 and 0xA0 of a UTF-8 character (the "à" of
# "città", Cyrillic and Thai letters) read as characters that ``\s`` takes for spaces.
_AFTER_SLASHES = re.compile(
    r"//(?:[^\t\n\v\f\r /?#@\"'<>\\]*+@)?((?:[^\t\n\v\f\r /?#:@\"'<>\\&]++|&#?)++)"
)
# A URL attribute's start, just before a host found by _AFTER_SLASHES.
_URL_ATTRIBUTE_BEFORE = re.compile(
    r"(?:href|action)[\t\n\f\r ]*=[\t\n\f\r ]*[\"']?[\t\n\f\r ]*(?:https?:)?\Z"
)
# difflib's default for a close match: a host at least this similar may be a typo.
NEAR_RATIO = 0.8


class LinkedHosts:
    """The hosts a page's text names after ``//``, read once for the links to the listed
    domains and for the hosts that look like their typo; each host is judged once per
    site (cached), and each place once per page."""

    def __init__(self, lowered: Lowered, domains: tuple[str, ...]) -> None:
        self.lowered = lowered.text
        self.domains = domains
        self.found = hosts_after_slashes(lowered)

    def positions(self, domain: str) -> list[int]:
        """Return where a host the domain covers follows ``//``."""
        return self._sorted[0][domain]

    def near(self) -> frozenset[str]:
        """Return the hosts of link URLs that look like a typo of a listed domain (close to
        one that does not cover it), for the report's "did you mean" on a domain without
        links; only a close host has its attribute checked."""
        return frozenset(
            raw.rstrip(".") for at, raw in self._sorted[1] if _in_url_attribute(self.lowered, at)
        )

    @functools.cached_property
    def _sorted(self) -> tuple[dict[str, list[int]], list[tuple[int, str]]]:
        """Where the hosts each domain covers stand, and the hosts close to a domain."""
        by_domain: dict[str, list[int]] = {domain: [] for domain in self.domains}
        close = []
        for at, raw in self.found:
            covering, near = _judged(raw, self.domains)
            for domain in covering:
                by_domain[domain].append(at)
            if near:
                close.append((at, raw))
        return by_domain, close


def hosts_after_slashes(lowered: Lowered) -> list[tuple[int, str]]:
    """Return where each ``//`` stands and the host written after it, as written: the
    matches of a search for the pattern, found from the places of ``//`` (a match holds
    no ``/`` after its own two, so no place of ``//`` falls inside an earlier match).

    The places are found a window at a time: where they stand densely (the comments of
    inline scripts and styles), listing them costs more than the pattern's own search,
    which then reads the rest of the page."""
    text = lowered.text
    match = _AFTER_SLASHES.match
    found: list[tuple[int, str]] = []
    for start in range(0, len(text), _SLASHES_WINDOW):
        # A window ends one character late, so that a "//" across its end is its own.
        places = lowered.positions("//", start, start + _SLASHES_WINDOW + 1)
        if len(places) * _DENSE_SLASHES > _SLASHES_WINDOW:
            found += [(hit.start(), hit.group(1)) for hit in _AFTER_SLASHES.finditer(text, start)]
            return found
        found += [(at, hit.group(1)) for at in places if (hit := match(text, at))]
    return found


# Where a "//" stands every _DENSE_SLASHES characters or more often in a window, the rest of
# the page is read by the pattern's own search: measured on real pages, each place costs
# about 0.4 µs to list and match, the search about 1 ns a character (git-doc's pages, a
# "//" every 127 characters: 74 µs a page by places, 36 by the search; Node.js's, every
# 659: 186 against 212).
_SLASHES_WINDOW = 16384
_DENSE_SLASHES = 400


@functools.lru_cache(maxsize=4096)
def _judged(raw: str, domains: tuple[str, ...]) -> tuple[frozenset[str], bool]:
    """Return the listed domains that cover a host as written after ``//``, and whether it
    looks like a typo of one."""
    host = _host("//" + (html.unescape(_as_utf8(raw)) if "&" in raw else _as_utf8(raw)))
    if host is None:
        return frozenset(), False
    covering = frozenset(domain for domain in domains if host_matches(host, domain))
    return covering, _near(raw.rstrip("."), domains)


def _in_url_attribute(lowered: str, slashes: int) -> bool:
    return _URL_ATTRIBUTE_BEFORE.search(lowered, max(0, slashes - 40), slashes) is not None


@functools.lru_cache(maxsize=4096)
def _near(host: str, domains: tuple[str, ...]) -> bool:
    # A listed domain's own host counts: "shopp.example" listed beside "shop.example".
    return any(is_near(host, domain) and not host_matches(host, domain) for domain in domains)


def is_near(host: str, domain: str) -> bool:
    """Return whether ``host`` is close enough to the listed ``domain`` to be its typo."""
    matcher = difflib.SequenceMatcher(None, host, domain.removeprefix("*."))
    return matcher.real_quick_ratio() >= NEAR_RATIO and matcher.ratio() >= NEAR_RATIO


class LinkCounts(NamedTuple):
    """A page's link tags to the listed domains, as ``links_to`` counts them."""

    counts: dict[str, int]
    no_referrer: int = 0
    forms_under_header: int = 0


def links_to(
    text: str,
    domains: tuple[str, ...],
    lowered: Lowered | None = None,
    markup_at: int = 0,
    hosts: LinkedHosts | None = None,
) -> LinkCounts:
    """Return how many link tags of the page lead to each listed domain (domains with none are
    left out), how many of them send no referrer that the script can restore (see
    ``_no_referrer``), and how many are forms whose policy, in some browser, is the page's
    Referrer-Policy header's (no <meta> sets one there). ``text`` is the page's text view
    (for UTF-8 pages, bytes read as latin-1); ``lowered``, ``Lowered.of(text)``, when the
    caller has it. ``markup_at``: a position where the tokenizer is outside comments and
    raw text (where the head scan stopped), from which the links after it are told from
    text. ``hosts``: the page's ``LinkedHosts``, when the caller has them."""
    lowered = lowered if lowered is not None else Lowered.of(text)
    hosts = hosts if hosts is not None else LinkedHosts(lowered, domains)
    live = _live_links(text, lowered, hosts, markup_at)
    counts = {domain: len(links) for domain, links in live.items() if links}
    if not counts:
        return LinkCounts(counts)
    tags = [tag for links in live.values() for _, tag in links]
    # Only a form's referrer follows the page's policy; most pages link with no form.
    forms = sum(tag[1:5].lower() == "form" for tag in tags)
    policies = _meta_policies(text, lowered.text) if forms else (None, None)
    forms_blocked = any(policy in BLOCKING_POLICIES for policy in policies)
    no_referrer = sum(_no_referrer(tag, forms_blocked) for tag in tags)
    under_header = forms if None in policies and not forms_blocked else 0
    return LinkCounts(counts, no_referrer, under_header)


def link_urls(text: str, domain: str) -> list[str]:
    """Return the URLs of the page's link tags that lead to ``domain``, in document order."""
    lowered = Lowered.of(text)
    return [url for url, _ in _live_links(text, lowered, LinkedHosts(lowered, (domain,)))[domain]]


# The landing page takes the value only from a listed domain's page, and the script makes
# a decorated navigation name its origin (a referrerpolicy attribute, rel noreferrer made
# noopener). Two cases stay out of its reach: a form under a page policy that sends no
# referrer across origins (a form has no referrerpolicy attribute), and rel=noreferrer on
# a link in WebKit, which keeps that relation once parsed whatever the attribute becomes.
BLOCKING_POLICIES = frozenset({"no-referrer", "same-origin", "never"})
# What a Referrer-Policy header may set; any other value leaves the policy as it was.
REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "same-origin",
        "no-referrer-when-downgrade",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
# What a <meta name="referrer"> may set: the same and the legacy keywords.
_META_POLICIES = REFERRER_POLICIES | {"never", "default", "always", "origin-when-crossorigin"}
_ASCII_WHITESPACE = re.compile(f"[{WS}]+")
_META_REFERRER = re.compile(r"<meta\b[^>]*\bname[\t\n\f\r ]*=[\t\n\f\r ]*[\"']?referrer\b")


def _meta_policies(text: str, lowered: str) -> tuple[str | None, str | None]:
    """Return the policy the page's <meta name="referrer"> tags set, as Chromium and WebKit
    read them (as written) and as Firefox does (trimmed): the last that names one, or
    None where none does (the header's policy, if any, then holds). No browser trims the
    name."""
    if "referrer" not in lowered:  # most pages: one str search, no regular expression
        return None, None
    as_written = trimmed = None
    for meta in _META_REFERRER.finditer(lowered):
        tag = parse_tag(text, meta.start(), every_attribute=True)
        if tag.value("name").lower() != "referrer":
            continue
        value = tag.value("content").lower()
        if value in _META_POLICIES:
            as_written = value
        if (stripped := value.strip(WS)) in _META_POLICIES:
            trimmed = stripped
    return as_written, trimmed


@functools.lru_cache(maxsize=4096)
def _no_referrer(raw_tag: str, forms_blocked: bool) -> bool:
    tag = parse_tag(raw_tag, 0, every_attribute=True)
    if tag.name == "form":
        return forms_blocked
    return "noreferrer" in _rel_tokens(tag)


def _live_links(
    text: str, lowered: Lowered, hosts: LinkedHosts, markup_at: int = 0
) -> dict[str, list[tuple[str, str]]]:
    """Return the URLs and tags of the link tags leading to each domain, in document order,
    without those that are text (in comments and raw-text elements): one inert pass for
    all the domains, from ``markup_at`` when no link comes before it."""
    found = sorted(_link_candidates(text, hosts))
    live: dict[str, list[tuple[str, str]]] = {domain: [] for domain in hosts.domains}
    if not found:
        return live
    first, last = found[0][0], found[-1][0]
    inert = _Inert(lowered, last, markup_at if first >= markup_at else 0)
    for start, domain, url, tag in found:
        if not inert.covers(start):
            live[domain].append((url, tag))
    return live


def _link_candidates(text: str, hosts: LinkedHosts) -> list[tuple[int, str, str, str]]:
    """Return the link tags that lead to a listed domain, inert or not: (the tag's start,
    the domain, the URL, the tag's source), a tag once per domain."""
    candidates = []
    for domain in hosts.domains:
        starts = set()
        for at in hosts.positions(domain):
            found = _enclosing_tag(text, at)
            if found is None or found[0] in starts:
                continue
            starts.add(found[0])
            url = _url_to(found[1], domain)
            if url is not None:
                candidates.append((found[0], domain, url, found[1]))
    return candidates


class _Inert:
    """The spans where a tag is text, not markup: comments and raw-text elements, found
    in one pass that jumps from each opener to its closer (linear in the page), up to the
    last position asked about. An opener inside an earlier span is text itself."""

    def __init__(self, lowered: Lowered, until: int, start: int = 0) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        text = lowered.text
        position = start
        for at, index in lowered.marks(_INERT_OPENERS, start, until, _BARE_OPENERS):
            after = at + len(_INERT_OPENERS[index])
            # A name is read up to its end, which must stand before ``until`` too.
            named = index > 0
            if at < position or (named and text[after : min(after + 1, until)] not in NAME_END):
                continue
            closer = _INERT_CLOSERS[index]
            end = text.find(closer, after)
            position = len(text) if end < 0 else end + len(closer)
            self.starts.append(at)
            self.ends.append(position)

    def covers(self, position: int) -> bool:
        index = bisect.bisect_right(self.starts, position) - 1
        return index >= 0 and position < self.ends[index]


@functools.lru_cache(maxsize=4096)
def _url_to(raw_tag: str, domain: str) -> str | None:
    """Return the URL of a link tag (its source text) when it leads to ``domain``; cached, as
    navigation bars repeat the same tags on every page of a site."""
    tag = parse_tag(raw_tag, 0, every_attribute=True)
    for attribute in _LINK_ATTRIBUTES.get(tag.name, ()):
        url = html.unescape(_as_utf8(tag.attrs.get(attribute, "")))
        host = url_host(url)
        if host is not None and host_matches(host, domain):
            return url
    return None


def _as_utf8(value: str) -> str:
    """Return a value of the latin-1 view of a UTF-8 page, decoded (an IDN host, say)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


_OWN_URL_TAG = {"canonical": "link", "og:url": "meta"}


def own_hosts(
    text: str, lowered: Lowered | None = None, skipped: Sequence[tuple[int, int]] = ()
) -> set[str]:
    """Return the hosts a page gives as its own in its head: <link rel=canonical> and og:url,
    found by their words before the body (cheaper than following the head for them).
    ``skipped``: the spans of xdlink's own elements, in order, which hold neither."""
    return {host for host in map(url_host, own_urls(text, lowered, skipped)) if host}


def own_urls(
    text: str, lowered: Lowered | None = None, skipped: Sequence[tuple[int, int]] = ()
) -> list[str]:
    after = skipped[-1][1] if skipped else 0
    lowered = lowered if lowered is not None else Lowered.of(text)
    body = lowered.text.find("<body", after)
    end = len(text) if body < 0 else body
    ranges = [(0, end)]
    if skipped:
        starts = [0, *(span_end for _, span_end in skipped)]
        ranges = list(zip(starts, [*(span_start for span_start, _ in skipped), end], strict=True))
    urls = []
    for word in _OWN_URL_TAG:
        for start, stop in ranges:
            for position in lowered.positions(word, start, stop):
                found = _enclosing_tag(text, position)
                url = None if found is None else _own_url(found[1], word)
                if url is not None:
                    urls.append(url)
    return urls


@functools.lru_cache(maxsize=1024)
def _own_url(raw_tag: str, word: str) -> str | None:
    tag = parse_tag(raw_tag, 0, every_attribute=True)
    if tag.name != _OWN_URL_TAG[word]:
        return None
    if tag.name == "link" and word in _rel_tokens(tag):
        return tag.attrs.get("href", "")
    if tag.name == "meta" and tag.attrs.get("property") == word:
        return tag.attrs.get("content", "")
    return None


def _rel_tokens(tag: Tag) -> list[str]:
    """The words of a tag's rel, as browsers split them: at ASCII whitespace alone (not at
    the other characters ``str.split`` takes, such as a no-break space)."""
    return _ASCII_WHITESPACE.split(tag.value("rel").lower())


def _enclosing_tag(text: str, position: int) -> tuple[int, str] | None:
    """Return the start and source text of the tag that ``position`` is inside, if any."""
    start = text.rfind("<", 0, position)
    raw = tag_source(text, start) if start >= 0 else None
    return None if raw is None or start + len(raw) <= position else (start, raw)
