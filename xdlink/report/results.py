"""What a run did to a site, as values: each page's result as a worker sends it back, and
the report that gathers them into counts keyed by outcome."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self

from xdlink.facts import NO_FACTS, Facts
from xdlink.outcomes import Action, Change, Failure, Skip, SkipReason
from xdlink.scan import Placement
from xdlink.settings import Command, Settings

# How many pages a warning or a failed --check names before "and N more".
EXAMPLES = 5
# How a page's patch says it is binary to git (a page with NUL bytes: UTF-16).
BINARY_PATCH = b"GIT binary patch\n"


class FileStatus(StrEnum):
    """What a run did, or would do, to a script file of ``--external``."""

    UNCHANGED = "unchanged"
    WRITTEN = "written"
    WOULD_BE_WRITTEN = "would be written"
    REMOVED = "removed"
    WOULD_BE_REMOVED = "would be removed"
    UPDATED = "updated"
    WOULD_BE_UPDATED = "would be updated"

    @property
    def changes(self) -> bool:
        return self is not FileStatus.UNCHANGED


@dataclass
class LinkTally:
    """The links of the site that lead to one listed domain."""

    links: int = 0
    pages: int = 0
    example: str | None = None  # the first page, in walk order, that has one


@dataclass(frozen=True, kw_only=True)
class PageReport:
    """One page's result as it travels back from a worker: no page bytes. A page that
    failed has a ``failure`` and no action."""

    path: str
    action: Action | None = None
    skip: Skip | None = None
    change: Change | None = None  # why the page changes
    failure: Failure | None = None
    facts: Facts = NO_FACTS
    csp_hash: str | None = None
    diff: bytes | None = None  # the page's patch, in its own bytes
    script_file: tuple[str, FileStatus] | None = None
    placement: str | None = None
    csp_rules: tuple[int, ...] = ()  # the header-file rules that set a policy on the page
    csp_blocking: tuple[int, ...] = ()  # those of them whose policy blocks its script
    old_hashes: tuple[str, ...] = ()  # the CSP hashes of the scripts the page held


# What ``Results.add`` counts, and the lists of pages (and of their lines) it appends to,
# in walk order.
_PAGE_COUNTERS = ("counts", "skips", "change_reasons", "hashes", "placements", "near_hosts")
_PAGE_LISTS = (
    "changed",
    "failed",
    "errors",
    "notices",
    "diffs",
    "no_init",
    "cookieless",
    "unread_init",
    "csp_blocked",
    "charset_late",
    "no_referrer",
    "template_pages",
    "framework_pages",
)


@dataclass(kw_only=True)
class Results:
    """The results of one run, gathered page by page. ``findings`` decides its warnings,
    ``exit_code`` its exit status, and ``render`` its text and JSON; ``Report``, in the
    package's ``__init__``, offers the same views as methods, for the Python API."""

    command: Command
    root: str = "."
    domains: tuple[str, ...] = ()
    write: bool = True
    check: bool = False
    strict: bool = False
    silence: frozenset[str] = frozenset()
    config: str | None = None
    config_warnings: tuple[str, ...] = ()
    external: bool = False  # the script is a file of --external, not inline
    interrupted: bool = False
    # Pages by action; the skipped by why; the changed, in walk order, and why they change.
    counts: Counter[str] = field(default_factory=Counter)
    skips: Counter[Skip] = field(default_factory=Counter)
    changed: list[str] = field(default_factory=list)
    change_reasons: Counter[Change] = field(default_factory=Counter)
    change_examples: list[tuple[str, Change]] = field(default_factory=list)  # the first few
    failed: list[tuple[str, Failure]] = field(default_factory=list)  # pages, and why
    errors: list[str] = field(default_factory=list)  # their lines, and the header files'
    notices: list[str] = field(default_factory=list)
    diffs: list[bytes] = field(default_factory=list)
    # What the pages say, for the warnings.
    no_init: list[str] = field(default_factory=list)
    cookieless: list[str] = field(default_factory=list)
    unread_init: list[tuple[str, str]] = field(default_factory=list)  # (page, its token)
    csp_blocked: list[str] = field(default_factory=list)
    charset_late: list[str] = field(default_factory=list)
    no_referrer: list[str] = field(default_factory=list)
    template_pages: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # token: the first page with it
    links: dict[str, LinkTally] = field(default_factory=dict)
    own_domains: set[str] = field(default_factory=set)  # the listed domains of this site
    near_hosts: Counter[str] = field(default_factory=Counter)  # pages per typo-like host
    unmatched_patterns: list[str] = field(default_factory=list)
    hashes: Counter[str] = field(default_factory=Counter)  # the script's CSP hashes
    placements: Counter[str] = field(default_factory=Counter)
    framework_pages: list[tuple[str, str]] = field(default_factory=list)  # (page, rule)
    script_files: dict[str, FileStatus] = field(default_factory=dict)
    # The site's header files (see cspfiles): per rule, the hashes of the pages it covers
    # and the pages whose script it blocks; the hashes pages held; what became of the files.
    csp_rule_names: list[str] = field(default_factory=list)  # "FILE (PATTERN)" by rule
    csp_covered: dict[int, set[str]] = field(default_factory=dict)
    csp_blocking: dict[int, list[str]] = field(default_factory=dict)
    old_hashes: set[str] = field(default_factory=set)
    csp_files: dict[str, FileStatus] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        command: Command,
        root: str,
        settings: Settings,
        *,
        write: bool = True,
        check: bool = False,
    ) -> Self:
        """Return empty results for a run with these settings."""
        return cls(
            command=command,
            root=root,
            domains=settings.domains,
            write=write,
            check=check,
            strict=settings.strict,
            silence=frozenset(settings.silence),
            config=settings.config,
            config_warnings=settings.config_warnings,
            external=settings.external is not None,
            notices=list(settings.notices),
        )

    # --- gathering ------------------------------------------------------------------------

    def add(self, page: PageReport) -> None:
        """Count one page's result."""
        self.counts["seen"] += 1
        if page.failure is not None:
            self.failed.append((page.path, page.failure))
            where = self.display(page.path)
            self.errors.append(f"error: cannot process {where}: {page.failure.message}")
            return
        assert page.action is not None
        self.counts[page.action.value] += 1
        if page.skip is not None:
            self.skips[page.skip] += 1
            if page.skip.reason is SkipReason.TEMPLATE_SYNTAX:
                self.template_pages.append(page.path)
            return
        if page.change is not None:
            self._add_change(page.path, page.change, page.diff)
        self.old_hashes.update(page.old_hashes)
        for rule in page.csp_rules:
            self.csp_covered.setdefault(rule, set()).add(page.csp_hash or "")
        for rule in page.csp_blocking:
            self.csp_blocking.setdefault(rule, []).append(page.path)
        if page.script_file is not None:
            self.add_script_file(*page.script_file)
        if self.command is Command.BUILD:
            self._add_facts(page)
            self._add_placement(page)

    def _add_change(self, path: str, change: Change, diff: bytes | None) -> None:
        self.changed.append(path)
        self.change_reasons[change] += 1
        if len(self.change_examples) < EXAMPLES:
            self.change_examples.append((path, change))
        if diff:
            self.diffs.append(diff)
            if BINARY_PATCH in diff:
                self.notices.append(
                    f"the patch of {self.display(path)} is binary to git (its text has "
                    "NUL bytes, as UTF-16 has): git apply takes it, patch does not"
                )

    def _add_placement(self, page: PageReport) -> None:
        if page.placement is None:
            return
        self.placements[page.placement] += 1
        if page.placement != Placement.HEAD:
            self.framework_pages.append((page.path, page.placement))

    def _add_facts(self, page: PageReport) -> None:
        facts = page.facts
        if facts.init_unread is not None:
            self.unread_init.append((page.path, facts.init_unread))
        elif not facts.sdks:
            self.no_init.append(page.path)
        if facts.posthog_init is not None and facts.posthog_init.cookieless:
            self.cookieless.append(page.path)
        for token in facts.tokens:
            self.tokens.setdefault(token, page.path)
        if facts.csp_blocks:
            self.csp_blocked.append(page.path)
        if facts.charset_after_script:
            self.charset_late.append(page.path)
        if facts.no_referrer_links:
            self.no_referrer.append(page.path)
        if page.csp_hash:
            self.hashes[page.csp_hash] += 1
        for domain, count in facts.links:
            tally = self.links.setdefault(domain, LinkTally())
            tally.links += count
            tally.pages += 1
            tally.example = tally.example or page.path
        self.own_domains |= facts.own_domains
        self.near_hosts.update(facts.near_hosts)

    def merge(self, other: Results) -> None:
        """Count the pages another ``Results`` gathered (a worker's chunk of pages, which
        come after those counted here in walk order), as if each had been added here."""
        for counter in _PAGE_COUNTERS:
            getattr(self, counter).update(getattr(other, counter))
        for pages in _PAGE_LISTS:
            getattr(self, pages).extend(getattr(other, pages))
        room = EXAMPLES - len(self.change_examples)
        self.change_examples += other.change_examples[: max(room, 0)]
        self.own_domains |= other.own_domains
        self.old_hashes |= other.old_hashes
        for token, page in other.tokens.items():
            self.tokens.setdefault(token, page)
        for domain, theirs in other.links.items():
            tally = self.links.setdefault(domain, LinkTally())
            tally.links += theirs.links
            tally.pages += theirs.pages
            tally.example = tally.example or theirs.example
        for path, status in other.script_files.items():
            self.add_script_file(path, status)
        for rule, hashes in other.csp_covered.items():
            self.csp_covered.setdefault(rule, set()).update(hashes)
        for rule, blocked in other.csp_blocking.items():
            self.csp_blocking.setdefault(rule, []).extend(blocked)

    def add_script_file(self, path: str, status: FileStatus) -> None:
        """Record what happened to a script file of ``--external``: a change outranks
        "unchanged", the later change the earlier one."""
        if status.changes or path not in self.script_files:
            self.script_files[path] = status

    # --- what the results add up to -------------------------------------------------------

    @property
    def skipped(self) -> dict[str, int]:
        """The skipped pages counted by the message of their reason, in the order of the
        messages, as the summary and the JSON report give them."""
        by_message: Counter[str] = Counter()
        for skip, count in self.skips.items():
            by_message[skip.message] += count
        return dict(sorted(by_message.items()))

    @property
    def would_change(self) -> int:
        """How many pages and files the run changes, or would change."""
        files = [path for path, status in self.script_files.items() if status.changes]
        files += [path for path, status in self.csp_files.items() if status.changes]
        return len(self.changed) + len(files)

    def csp_hashes(self) -> list[str]:
        """Return the script's CSP hashes, the most used first."""
        return [digest for digest, _ in self.hashes.most_common()]

    def display(self, path: str) -> str:
        """Return a page's path as the user gave the site: under its folder."""
        return os.path.join(self.root, path)
