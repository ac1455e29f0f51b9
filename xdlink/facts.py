"""What one page tells the site report: the analytics SDKs it starts (its Mixpanel and
PostHog inits), CSP, links and own address."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from xdlink import csp, posthog
from xdlink.domains import domains_covering
from xdlink.links import LinkedHosts, links_to, own_hosts
from xdlink.mixpanel import (
    MixpanelConfig,
    find_init_calls,
    inits_in_tree,
    page_init,
)
from xdlink.scan import Block, Head
from xdlink.sdks import Sdk
from xdlink.source import Source, parse_tree

if TYPE_CHECKING:
    from lxml import etree

Call = TypeVar("Call")


@dataclass(frozen=True)
class Facts:
    """What one page tells the site report."""

    init: MixpanelConfig | None = None
    tokens: tuple[str, ...] = ()
    # When the page calls mixpanel.init but no token can be read: what its token is, as
    # written, and why it cannot be read.
    init_unread: str | None = None
    sdks: frozenset[Sdk] = frozenset()  # the SDKs whose init the page holds
    posthog_init: posthog.PostHogConfig | None = None
    posthog_keys: tuple[str, ...] = ()
    csp_blocks: bool = False
    links: tuple[tuple[str, int], ...] = ()  # (listed domain, link tags leading there)
    no_referrer_links: int = 0  # of those, the ones whose referrer the script cannot restore
    # Of those, the forms whose referrer policy, in some browser, is the one a
    # Referrer-Policy header sets (no <meta> sets one): the site runner reads the header.
    forms_under_header: int = 0
    own_domains: frozenset[str] = frozenset()
    near_hosts: frozenset[str] = frozenset()  # linked hosts that look like a domain's typo
    charset_after_script: bool = False


# What a page without facts (skipped, removed, unreadable) reports: one shared instance,
# as building a frozen dataclass per page costs more than the page's other records.
NO_FACTS = Facts()


def gather_facts(
    source: Source,
    head: Head,
    blocks: list[Block],
    calls_at: tuple[int, ...],
    domains: tuple[str, ...],
    typo_hints: bool = True,
    posthog_at: tuple[int, ...] = (),
) -> Facts:
    """Read the page's Mixpanel and PostHog inits (at ``calls_at`` and ``posthog_at``), its
    links to the listed domains, which of them it names as its own address, and
    (``typo_hints``, unless that warning is silenced) the hosts it links to that look like
    a domain's typo."""
    calls = _init_calls(source, head, blocks, calls_at, find_init_calls, inits_in_tree)
    init, tokens = page_init(calls)
    posthog_calls = _init_calls(
        source, head, blocks, posthog_at, posthog.find_init_calls, posthog.inits_in_tree
    )
    posthog_init, posthog_keys = posthog.page_init(posthog_calls)
    sdks = {Sdk.MIXPANEL} if calls else set()
    sdks |= {Sdk.POSTHOG} if posthog_calls else set()
    lower = source.lowered
    own = own_hosts(source.text, lower, [(block.start, block.end) for block in head.blocks])
    hosts = LinkedHosts(lower, domains)
    links = links_to(source.text, domains, lower, head.region_end, hosts)
    return Facts(
        init=init,
        tokens=tokens,
        init_unread=next((call.unread for call in calls), None) if init is None else None,
        sdks=frozenset(sdks),
        posthog_init=posthog_init,
        posthog_keys=posthog_keys,
        links=tuple(links.counts.items()),
        no_referrer_links=links.no_referrer,
        forms_under_header=links.forms_under_header,
        own_domains=frozenset(domains_covering(own, domains)),
        near_hosts=hosts.near() if typo_hints else frozenset(),
        charset_after_script=head.charset_after_script,
    )


def _init_calls(
    source: Source,
    head: Head,
    blocks: list[Block],
    calls_at: tuple[int, ...],
    find: Callable[[str, Callable[[], Sequence[str]]], Sequence[Call]],
    in_tree: Callable[[etree._Element], list[Call]],
) -> list[Call]:
    """One SDK's init calls in the page (``find`` reads them from a script's text and the
    texts of the inline scripts before it, for the names a call is given; ``in_tree``
    from a parsed page), each read from the text of the inline script that holds it: the
    head scan has those scripts; for a call anywhere else lxml finds the script (a call
    shown in a code block is not one)."""
    if not calls_at:  # no call: nothing to read
        return []
    calls_at = tuple(at for at in calls_at if not any(b.start <= at < b.end for b in blocks))
    scripts = head.inline_scripts
    if all(any(a <= at < b for a, b, _ in scripts) for at in calls_at):
        calls: list[Call] = []
        for index, (a, b, _) in enumerate(scripts):
            if any(a <= at < b for at in calls_at):
                earlier = functools.partial(_texts, source, scripts[:index])
                calls += find(source.decoded(a, b), earlier)
        return calls
    tree, _ = parse_tree(source)
    return in_tree(tree) if tree is not None else []


def _texts(source: Source, spans: list[tuple[int, int, str | None]]) -> list[str]:
    return [source.decoded(a, b) for a, b, _ in spans]


def csp_blocks(head: Head, csp_hash: str, external: bool) -> bool:
    """Return whether the page's own CSP (a meta before the script) refuses the script: inline,
    unless it allows the script's hash; from a file, unless it allows 'self'."""
    policies = head.csp_before_anchor
    if not policies:
        return False
    if external:
        return not csp.allows_self(policies)
    return csp.blocks_inline(policies, csp_hash)
