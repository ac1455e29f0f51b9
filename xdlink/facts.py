"""What one page tells the site report: its Mixpanel init, CSP, links and own address."""

from __future__ import annotations

from dataclasses import dataclass

from xdlink import csp
from xdlink.domains import listed
from xdlink.links import link_hosts, mentioned_in_links, own_hosts
from xdlink.mixpanel import InitCall, MixpanelConfig, find_init_calls, inits_in_tree, page_init
from xdlink.scan import Block, Head
from xdlink.source import Source, parse_tree


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


@dataclass(frozen=True)
class PageContent:
    """What lxml read of a page, parsed only when a fact needs it (links mentioned, or an
    init call outside the head's scripts)."""

    calls: list[InitCall]
    linked: set[str]


def gather_facts(
    source: Source,
    head: Head,
    blocks: list[Block],
    calls_at: tuple[int, ...],
    pending: tuple[str, ...],
) -> Facts:
    """Read the page's Mixpanel init, which of the ``pending`` listed domains its links
    point to, and which of them it names as its own address.

    An init call is read from the text of the inline script that holds it: the head scan
    has those scripts; a call anywhere else is looked for in lxml's tree, where one shown
    in a code block is not a call. Links are looked for with lxml on pages whose text has
    a link-like mention of a pending domain.
    """
    calls_at = tuple(at for at in calls_at if not any(b.start <= at < b.end for b in blocks))
    scripts = [
        span for span in head.inline_scripts if any(span[0] <= at < span[1] for at in calls_at)
    ]
    in_head = all(any(a <= at < b for a, b in scripts) for at in calls_at)
    mentioned = mentioned_in_links(source.text, pending)
    needs_tree = bool(mentioned) or not in_head
    content = _read_tree(source, mentioned) if needs_tree else PageContent([], set())
    if in_head:
        calls = [call for a, b in scripts for call in find_init_calls(source.decoded(a, b))]
    else:
        calls = content.calls
    init, tokens = page_init(calls)
    return Facts(
        init=init,
        tokens=tokens,
        init_unreadable=bool(calls) and init is None,
        linked_domains=frozenset(content.linked),
        own_domains=frozenset(listed(own_hosts(source.text), pending) if pending else ()),
        charset_after_script=head.charset_after_script,
    )


def _read_tree(source: Source, mentioned: set[str]) -> PageContent:
    tree, complete = parse_tree(source)
    if tree is None:
        return PageContent([], set(mentioned))
    linked = listed(link_hosts(tree), mentioned) if mentioned else set()
    # Where libxml2 could not read it all, the text's mentions are all there is to go by.
    return PageContent(inits_in_tree(tree), linked if complete else linked | mentioned)


def csp_blocks(head: Head, csp_hash: str, external: bool) -> bool:
    """Whether the page's own CSP (a meta before the script) refuses the script: inline,
    unless it allows the script's hash; from a file, unless it allows 'self'."""
    policies = head.csp_before_anchor
    if not policies:
        return False
    if external:
        return not csp.allows_self(policies)
    return csp.blocks_inline(policies, csp_hash)
