"""What one page tells the site report: the analytics SDKs it starts (its Mixpanel and
PostHog inits), CSP, links and own address."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from xdlink import csp, posthog
from xdlink.domains import listed
from xdlink.links import links_to, near_hosts, own_hosts
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
    init_unreadable: bool = False
    sdks: frozenset[Sdk] = frozenset()  # the SDKs whose init the page holds
    posthog_init: posthog.PostHogConfig | None = None
    posthog_keys: tuple[str, ...] = ()
    csp_blocks: bool = False
    links: tuple[tuple[str, int], ...] = ()  # (listed domain, link tags leading there)
    no_referrer_links: int = 0  # of those, the ones whose referrer the script cannot restore
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
    lower = source.lowered()
    links, no_referrer = links_to(source.text, domains, lower, head.region_end)
    return Facts(
        init=init,
        tokens=tokens,
        init_unreadable=bool(calls) and init is None,
        sdks=frozenset(sdks),
        posthog_init=posthog_init,
        posthog_keys=posthog_keys,
        links=tuple(links.items()),
        no_referrer_links=no_referrer,
        own_domains=frozenset(listed(own_hosts(source.text, lower), domains)),
        near_hosts=near_hosts(lower, domains) if typo_hints else frozenset(),
        charset_after_script=head.charset_after_script,
    )


def _init_calls(
    source: Source,
    head: Head,
    blocks: list[Block],
    calls_at: tuple[int, ...],
    find: Callable[[str], Sequence[Call]],
    in_tree: Callable[[etree._Element], list[Call]],
) -> list[Call]:
    """One SDK's init calls in the page (``find`` reads them from a script's text,
    ``in_tree`` from a parsed page), each read from the text of the inline script that
    holds it: the head scan has those scripts; for a call anywhere else lxml finds the
    script (a call shown in a code block is not one)."""
    calls_at = tuple(at for at in calls_at if not any(b.start <= at < b.end for b in blocks))
    scripts = [
        span for span in head.inline_scripts if any(span[0] <= at < span[1] for at in calls_at)
    ]
    if all(any(a <= at < b for a, b, _ in scripts) for at in calls_at):
        return [call for a, b, _ in scripts for call in find(source.decoded(a, b))]
    tree, _ = parse_tree(source)
    return in_tree(tree) if tree is not None else []


def csp_blocks(head: Head, csp_hash: str, external: bool) -> bool:
    """Whether the page's own CSP (a meta before the script) refuses the script: inline,
    unless it allows the script's hash; from a file, unless it allows 'self'."""
    policies = head.csp_before_anchor
    if not policies:
        return False
    if external:
        return not csp.allows_self(policies)
    return csp.blocks_inline(policies, csp_hash)
