"""Whether a page's own Content-Security-Policy lets the xdlink script run."""

from __future__ import annotations

import html
from collections.abc import Iterable


def blocks_inline(policies: Iterable[str], csp_hash: str) -> bool:
    """Return True when any of the meta policies would refuse an inline script with this hash."""
    return any(_policy_blocks(html.unescape(policy), csp_hash) for policy in policies)


def policy_blocks(policy: str, csp_hash: str) -> bool:
    """Return True when one policy (as a header sends it) refuses an inline script with this
    hash."""
    return _policy_blocks(policy, csp_hash)


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
    # The algorithm's name is case-insensitive, its base64 digest is not.
    digest = csp_hash.lower().partition("-")[0], csp_hash.partition("-")[2]
    if any((s.lower().partition("-")[0], s.partition("-")[2]) == digest for s in sources):
        return False
    lowered = [source.lower() for source in sources]
    # A nonce, a hash or 'strict-dynamic' makes browsers ignore 'unsafe-inline'.
    overriding = any(s.startswith(("'nonce-", "'sha")) or s == "'strict-dynamic'" for s in lowered)
    return "'unsafe-inline'" not in lowered or overriding


def allows_self(policies: Iterable[str]) -> bool:
    """Return True unless a policy's script sources leave out 'self' (for ``--external``)."""
    for policy in policies:
        for directive in html.unescape(policy).split(";"):
            parts = directive.lower().split()
            if parts and parts[0] in ("script-src", "default-src") and "'self'" not in parts:
                return False
    return True
