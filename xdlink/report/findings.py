"""What a run's results call for a look at: the warnings, each of its kind, and the host
the site links to that a listed domain no link leads to may be a typo of."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from xdlink.links import NEAR_RATIO
from xdlink.report.results import EXAMPLES, Results
from xdlink.settings import Command, WarningKind


@dataclass(frozen=True)
class Finding:
    """A warning of the report: its kind and its words."""

    kind: WarningKind
    message: str

    def __str__(self) -> str:
        """Return the warning as the command line prints it after ``warning:``."""
        return f"{self.message} [{self.kind}]"


_NO_INIT = (
    "pages with no mixpanel.init or posthog.init in their HTML (a visitor is joined there "
    "only if the page starts Mixpanel or PostHog later, through a consent banner's snippet "
    "or a script file, or if its app calls window.xdlink.join(mixpanel) or "
    "window.xdlink.join(posthog))"
)
_COOKIELESS = (
    "pages whose posthog.init sets cookieless_mode: 'always': PostHog keeps no id there, so "
    "xdlink carries no PostHog visitor to or from them"
)
_INIT_UNREADABLE = (
    "pages whose mixpanel.init token xdlink cannot read in their HTML, taken for pages "
    "that start Mixpanel, their tokens left out of the check for more than one token (the "
    "script reads the init as it runs, so visitors are joined there all the same)"
)
_NO_REFERRER = (
    "pages with links to a listed domain that cannot say where they come from, so the "
    'other site joins nobody through them: forms under <meta name="referrer" '
    'content="no-referrer"> (or same-origin) or a Referrer-Policy header of the site\'s '
    'header files that says so, and links with rel="noreferrer", which Safari keeps '
    '(write rel="noopener")'
)
_CSP_BLOCKS = (
    "pages whose Content-Security-Policy blocks the inline script (allow its hash or use "
    "--external)"
)
_TEMPLATE_PAGES = (
    "pages left alone for their template syntax in <head>: if SITE is a generator's "
    "source, run xdlink on its output; if these pages are served as they are, pass --built"
)
_CHARSET_LATE = "pages that run a script before <meta charset> (xdlink runs after it)"


def warnings(report: Results) -> list[Finding]:
    """Return what needs a look, each with its kind; the silenced kinds left out."""
    found = [*_config_warnings(report), *_page_warnings(report)]
    return [warning for warning in found if warning.kind not in report.silence]


def _config_warnings(report: Results) -> Iterator[Finding]:
    for text in report.config_warnings:
        yield Finding(WarningKind.CONFIG, text)
    for pattern in report.unmatched_patterns:
        yield Finding(WarningKind.UNMATCHED_PATTERN, f"{pattern} matches no page")


def _page_warnings(report: Results) -> Iterator[Finding]:
    if report.command is not Command.BUILD or not report.counts["seen"]:
        return
    for domain, (host, pages) in suggestions(report).items():
        yield Finding(
            WarningKind.UNLINKED_DOMAIN,
            f"no link in the site points to {domain}: did you mean {host} "
            f"(linked from {pages} {'page' if pages == 1 else 'pages'})?",
        )
    pages_by_kind = [
        (WarningKind.TEMPLATE_PAGES, report.template_pages, _TEMPLATE_PAGES),
        (WarningKind.NO_INIT, report.no_init, _NO_INIT),
        (WarningKind.COOKIELESS, report.cookieless, _COOKIELESS),
        (WarningKind.CSP_BLOCKS, report.csp_blocked, _CSP_BLOCKS),
        (WarningKind.NO_REFERRER, report.no_referrer, _NO_REFERRER),
        (WarningKind.CHARSET_LATE, report.charset_late, _CHARSET_LATE),
    ]
    for kind, paths, title in pages_by_kind:
        if paths:
            yield Finding(kind, _pages_named(report, title, paths))
    for rule, paths in sorted(report.csp_blocking.items()):
        if paths:
            title = _header_csp(report, rule)
            yield Finding(WarningKind.CSP_BLOCKS, _pages_named(report, title, paths))
    if len(report.tokens) > 1:
        where = ", ".join(f"{token} ({report.display(p)})" for token, p in report.tokens.items())
        yield Finding(
            WarningKind.SEVERAL_TOKENS, f"more than one Mixpanel token across the site: {where}"
        )


def _header_csp(report: Results, rule: int) -> str:
    where = report.csp_rule_names[rule]
    if report.external:
        return f"pages whose Content-Security-Policy in {where} blocks the script file"
    return (
        f"pages whose Content-Security-Policy in {where} blocks the inline script "
        "(--update-csp writes its hash there; or allow it by hand, or use --external)"
    )


def init_notices(report: Results) -> list[str]:
    """Return the notice for the pages whose init token cannot be read, each named with the
    token as written: a fact worth knowing, not a warning, as nothing needs doing."""
    if not report.unread_init:
        return []
    pages = [f"{report.display(path)} (token {token})" for path, token in report.unread_init]
    more = f" and {len(pages) - EXAMPLES} more" if len(pages) > EXAMPLES else ""
    return [f"{len(pages)} {_INIT_UNREADABLE}: {', '.join(pages[:EXAMPLES])}{more}"]


def _pages_named(report: Results, title: str, paths: list[str]) -> str:
    """Return the number of pages, the title, and the first few pages by name."""
    shown = ", ".join(report.display(path) for path in paths[:EXAMPLES])
    more = f" and {len(paths) - EXAMPLES} more" if len(paths) > EXAMPLES else ""
    return f"{len(paths)} {title}: {shown}{more}"


def unlinked(report: Results) -> list[str]:
    """Return the listed domains no link leads to and no page names as its own address."""
    return [
        domain
        for domain in report.domains
        if domain not in report.links and domain not in report.own_domains
    ]


def suggestions(report: Results) -> dict[str, tuple[str, int]]:
    """For each unlinked domain, the host the site links to that it is most likely a typo
    of, with the number of pages that link to it."""
    found: dict[str, tuple[str, int]] = {}
    if report.interrupted:  # not every link was seen
        return found
    hosts = list(report.near_hosts)
    for domain in unlinked(report):
        close = difflib.get_close_matches(domain.removeprefix("*."), hosts, 1, NEAR_RATIO)
        if close:
            found[domain] = (close[0], report.near_hosts[close[0]])
    return found
