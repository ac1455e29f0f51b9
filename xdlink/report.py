"""What a run did to a site: counts, warnings, errors, rendered as text or JSON."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum, IntEnum, StrEnum
from typing import Any

from xdlink.facts import NO_FACTS, Facts
from xdlink.links import NEAR_RATIO
from xdlink.page import TEMPLATE_REASON, Action
from xdlink.scan import Placement
from xdlink.settings import Command, Settings, WarningKind

EXAMPLES = 5
# How a page's patch says it is binary to git (a page with NUL bytes: UTF-16).
BINARY_PATCH = b"GIT binary patch\n"


class ExitCode(IntEnum):
    """Documented in the README; stable for scripts and CI."""

    OK = 0
    WOULD_CHANGE = 1
    NOT_JOINED = 1  # xdlink verify: a pair of sites does not join
    USAGE = 2
    FILE_ERRORS = 3
    WARNINGS = 4  # --strict: the run gave a warning
    INTERRUPTED = 130


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


class Level(Enum):
    """Where a report line goes: the CLI's streams, or a generator's log levels."""

    ERROR = "error"  # a file that could not be processed, a failed --check: the run fails
    WARNING = "warning"  # worth a look; a strict build fails on it
    NOTICE = "notice"  # a value was read other than it was written
    SUMMARY = "summary"  # what was done
    ADVICE = "advice"  # what to do next
    DETAIL = "detail"  # every page, for -v


@dataclass(frozen=True)
class Line:
    level: Level
    text: str
    kind: WarningKind | None = None  # for warnings


@dataclass(frozen=True)
class Finding:
    """A warning of the report: its kind and its words."""

    kind: WarningKind
    message: str

    def __str__(self) -> str:
        """As the command line prints it after ``warning:``."""
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
_NO_REFERRER = (
    "pages with links to a listed domain that cannot say where they come from, so the "
    'other site joins nobody through them: forms under <meta name="referrer" '
    'content="no-referrer"> (or same-origin), and links with rel="noreferrer", which '
    'Safari keeps (write rel="noopener")'
)
_CSP_BLOCKS = (
    "pages whose Content-Security-Policy blocks the inline script (allow its hash or use "
    "--external)"
)
_TEMPLATE_PAGES = (
    "pages left alone for their template syntax in <head>: if SITE is a generator's "
    "source, run xdlink on its output; if these pages are served as they are, pass --built"
)


@dataclass
class LinkTally:
    """The links of the site that lead to one listed domain."""

    links: int = 0
    pages: int = 0
    example: str | None = None  # the first page, in walk order, that has one


@dataclass(frozen=True)
class PageReport:
    """One page's result as it travels back from a worker: no page bytes."""

    path: str
    action: Action | None
    reason: str | None = None
    error: str | None = None
    facts: Facts = NO_FACTS
    csp_hash: str | None = None
    diff: bytes | None = None  # the page's patch, in its own bytes
    script_file: tuple[str, FileStatus] | None = None
    placement: str | None = None
    csp_rules: tuple[int, ...] = ()  # the header-file rules that set a policy on the page
    csp_blocking: tuple[int, ...] = ()  # those of them whose policy blocks its script
    old_hashes: tuple[str, ...] = ()  # the CSP hashes of the scripts the page held
    why: str | None = None  # why the page changes


@dataclass
class Report:
    """Accumulates page results; knows the summary line, warnings and exit code."""

    command: Command
    root: str = "."
    domains: tuple[str, ...] = ()
    write: bool = True
    check: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    no_init: list[str] = field(default_factory=list)
    cookieless: list[str] = field(default_factory=list)
    csp_blocked: list[str] = field(default_factory=list)
    charset_late: list[str] = field(default_factory=list)
    no_referrer: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    hashes: Counter[str] = field(default_factory=Counter)
    links: dict[str, LinkTally] = field(default_factory=dict)
    own: set[str] = field(default_factory=set)
    diffs: list[bytes] = field(default_factory=list)
    interrupted: bool = False
    script_files: dict[str, FileStatus] = field(default_factory=dict)
    template_pages: list[str] = field(default_factory=list)
    unmatched_patterns: list[str] = field(default_factory=list)
    near_hosts: Counter[str] = field(default_factory=Counter)  # pages per typo-like host
    silence: frozenset[str] = frozenset()
    strict: bool = False
    config: str | None = None
    config_warnings: tuple[str, ...] = ()
    placements: Counter[str] = field(default_factory=Counter)
    framework_pages: list[tuple[str, str]] = field(default_factory=list)  # (page, rule)
    # The site's header files (see cspfiles): per rule, the hashes of the pages it covers
    # and the pages whose script it blocks; the hashes pages held; what became of the files.
    csp_rule_names: list[str] = field(default_factory=list)  # "FILE (PATTERN)" by rule
    csp_covered: dict[int, set[str]] = field(default_factory=dict)
    csp_blocking: dict[int, list[str]] = field(default_factory=dict)
    old_hashes: set[str] = field(default_factory=set)
    csp_files: dict[str, FileStatus] = field(default_factory=dict)
    external: bool = False
    change_reasons: Counter[str] = field(default_factory=Counter)  # why pages change
    change_examples: list[tuple[str, str]] = field(default_factory=list)  # the first few

    @classmethod
    def of(cls, command: Command, root: str, settings: Settings, **options: Any) -> Report:
        """An empty report for a run with these settings."""
        return cls(
            command,
            root,
            settings.domains,
            silence=frozenset(settings.silence),
            strict=settings.strict,
            config=settings.config,
            config_warnings=settings.config_warnings,
            notices=list(settings.notices),
            **options,
        )

    def add(self, page: PageReport) -> None:
        self.counts["seen"] += 1
        if page.error is not None:
            self.errors.append(f"error: cannot process {self.display(page.path)}: {page.error}")
            return
        assert page.action is not None
        self.counts[page.action.value] += 1
        if page.action is Action.SKIPPED:
            self.skipped[page.reason or "unknown"] += 1
            if page.reason == TEMPLATE_REASON:
                self.template_pages.append(page.path)
            return
        if page.action in (Action.INJECTED, Action.UPDATED, Action.REMOVED):
            self.changed.append(page.path)
            why = page.why or (
                "it holds the xdlink script" if page.action is Action.REMOVED else ""
            )
            self.change_reasons[why] += 1
            if len(self.change_examples) < EXAMPLES:
                self.change_examples.append((page.path, why))
        if page.diff:
            self.diffs.append(page.diff)
            if BINARY_PATCH in page.diff:
                self.notices.append(
                    f"the patch of {self.display(page.path)} is binary to git (its text has "
                    "NUL bytes, as UTF-16 has): git apply takes it, patch does not"
                )
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

    def _add_placement(self, page: PageReport) -> None:
        if page.placement is None:
            return
        self.placements[page.placement] += 1
        if page.placement != Placement.HEAD:
            self.framework_pages.append((page.path, page.placement))

    def _add_facts(self, page: PageReport) -> None:
        facts = page.facts
        if not facts.sdks:
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
        self.own |= facts.own_domains
        self.near_hosts.update(facts.near_hosts)

    # --- outcome ----------------------------------------------------------------------

    def add_script_file(self, path: str, status: FileStatus) -> None:
        """Record what happened to a script file of ``--external``: a change outranks
        "unchanged", the later change the earlier one."""
        if status.changes or path not in self.script_files:
            self.script_files[path] = status

    @property
    def would_change(self) -> int:
        files = [path for path, status in self.script_files.items() if status.changes]
        files += [path for path, status in self.csp_files.items() if status.changes]
        return len(self.changed) + len(files)

    @property
    def return_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.errors:
            return ExitCode.FILE_ERRORS
        if self.check and self.would_change:
            return ExitCode.WOULD_CHANGE
        if self.strict and self.warnings():
            return ExitCode.WARNINGS
        return ExitCode.OK

    def warnings(self) -> list[Finding]:
        """What needs a look, each with its kind; the silenced kinds left out."""
        found = [*self._config_warnings(), *self._page_warnings()]
        return [warning for warning in found if warning.kind not in self.silence]

    def _config_warnings(self) -> Iterator[Finding]:
        for text in self.config_warnings:
            yield Finding(WarningKind.CONFIG, text)
        for pattern in self.unmatched_patterns:
            yield Finding(WarningKind.UNMATCHED_PATTERN, f"{pattern} matches no page")

    def _page_warnings(self) -> Iterator[Finding]:
        if self.command is not Command.BUILD or not self.counts["seen"]:
            return
        for domain, (host, pages) in self.suggestions().items():
            yield Finding(
                WarningKind.UNLINKED_DOMAIN,
                f"no link in the site points to {domain}: did you mean {host} "
                f"(linked from {pages} pages)?",
            )
        listed = [
            (WarningKind.TEMPLATE_PAGES, self.template_pages, _TEMPLATE_PAGES),
            (WarningKind.NO_INIT, self.no_init, _NO_INIT),
            (WarningKind.COOKIELESS, self.cookieless, _COOKIELESS),
            (WarningKind.CSP_BLOCKS, self.csp_blocked, _CSP_BLOCKS),
            (WarningKind.NO_REFERRER, self.no_referrer, _NO_REFERRER),
            (WarningKind.CHARSET_LATE, self.charset_late,
             "pages that run a script before <meta charset> (xdlink runs after it)"),
        ]  # fmt: skip
        for kind, paths, title in listed:
            if paths:
                yield Finding(kind, self._listed(title, paths))
        for rule, paths in sorted(self.csp_blocking.items()):
            if paths:
                yield Finding(WarningKind.CSP_BLOCKS, self._listed(self._header_csp(rule), paths))
        if len(self.tokens) > 1:
            where = ", ".join(f"{token} ({self.display(p)})" for token, p in self.tokens.items())
            yield Finding(
                WarningKind.SEVERAL_TOKENS, f"more than one Mixpanel token across the site: {where}"
            )

    def _header_csp(self, rule: int) -> str:
        where = self.csp_rule_names[rule]
        if self.external:
            return f"pages whose Content-Security-Policy in {where} blocks the script file"
        return (
            f"pages whose Content-Security-Policy in {where} blocks the inline script "
            "(--update-csp writes its hash there; or allow it by hand, or use --external)"
        )

    def unlinked(self) -> list[str]:
        """Listed domains no link leads to and no page names as its own address."""
        return [d for d in self.domains if d not in self.links and d not in self.own]

    def suggestions(self) -> dict[str, tuple[str, int]]:
        """For each unlinked domain, the host the site links to that it is most likely a
        typo of, with the number of pages that link to it."""
        found: dict[str, tuple[str, int]] = {}
        if self.interrupted:  # not every link was seen
            return found
        hosts = list(self.near_hosts)
        for domain in self.unlinked():
            close = difflib.get_close_matches(domain.removeprefix("*."), hosts, 1, NEAR_RATIO)
            if close:
                found[domain] = (close[0], self.near_hosts[close[0]])
        return found

    def _listed(self, title: str, paths: list[str]) -> str:
        shown = ", ".join(self.display(path) for path in paths[:EXAMPLES])
        more = f" and {len(paths) - EXAMPLES} more" if len(paths) > EXAMPLES else ""
        return f"{len(paths)} {title}: {shown}{more}"

    def display(self, path: str) -> str:
        return os.path.join(self.root, path)

    def summary(self) -> str:
        verb = "" if self.write else "would be "
        parts = [f"{self.counts['seen']} pages seen"]
        actions = ("injected", "updated") if self.command is Command.BUILD else ("removed",)
        parts += [f"{self.counts[action]} {verb}{action}" for action in actions]
        if self.command is Command.BUILD and self.counts["removed"]:
            # An AMP page keeps no script: one an earlier build put there is taken out.
            parts.append(f"{self.counts['removed']} {verb}removed from AMP pages")
        parts.append(f"{self.counts['unchanged']} unchanged")
        skipped = sum(self.skipped.values())
        if skipped:
            reasons = ", ".join(
                f"{count} {reason}" for reason, count in sorted(self.skipped.items())
            )
            parts.append(f"{skipped} skipped ({reasons})")
        else:
            parts.append("0 skipped")
        parts.append(f"{len(self.errors)} errors")
        summary = ", ".join(parts)
        return f"interrupted: {summary}" if self.interrupted else summary

    def __str__(self) -> str:
        return self.summary()

    def lines(self) -> Iterator[Line]:
        """Every line of the report but the diffs, in order: the one renderer that the
        command line and the generator integrations share."""
        if self.config:
            yield Line(Level.DETAIL, f"configuration: {self.config}")
        for notice in self.notices:
            yield Line(Level.NOTICE, notice)
        for error in self.errors:
            yield Line(Level.ERROR, error)
        verb = "changed" if self.write else "would change"
        for path in self.changed:
            yield Line(Level.DETAIL, f"{verb}: {self.display(path)}")
        for path, rule in self.framework_pages:
            yield Line(Level.DETAIL, f"placed {rule}: {self.display(path)}")
        for warning in self.warnings():
            yield Line(Level.WARNING, warning.message, warning.kind)
        yield Line(Level.SUMMARY, self.summary())
        if self.command is Command.BUILD and self.counts["seen"]:
            for domain in self.domains:
                yield Line(Level.SUMMARY, self.link_line(domain))
        for path, status in sorted(self.script_files.items()):
            yield Line(Level.SUMMARY, f"script file {self.display(path)}: {status}")
        for path, status in self.csp_files.items():
            yield Line(Level.SUMMARY, f"Content-Security-Policy in {path}: {status}")
        if self.command is Command.BUILD and not self.script_files:
            for digest in self.csp_hashes():
                yield Line(Level.SUMMARY, f"script CSP hash: {digest}")
        if self.check and self.would_change:
            # An error line: printed under --quiet too, so a failed gate always says why.
            yield Line(Level.ERROR, self.check_failure())
        if self.return_code is ExitCode.WARNINGS:
            count = len(self.warnings())
            yield Line(Level.ERROR, f"--strict: the run gave {count} warnings (exit status 4)")

    def check_failure(self) -> str:
        """Why --check fails: how many pages would change and why, the first of them, and
        the files that would change."""
        parts = []
        if self.changed:
            reasons = ", ".join(
                f"{count} {why}" for why, count in self.change_reasons.most_common()
            )
            shown = ", ".join(f"{self.display(path)} ({why})" for path, why in self.change_examples)
            more = len(self.changed) - len(self.change_examples)
            shown += f" and {more} more" if more > 0 else ""
            parts.append(f"{len(self.changed)} pages would change ({reasons}): {shown}")
        changing = [self.display(path) for path, st in self.script_files.items() if st.changes]
        changing += [path for path, status in self.csp_files.items() if status.changes]
        if changing:
            parts.append(f"{len(changing)} files would change: {', '.join(changing)}")
        return f"--check failed: {'; '.join(parts)}; run without --check to write them"

    def link_line(self, domain: str) -> str:
        tally = self.links.get(domain)
        if tally is None:
            own = " (this site's own domain)" if domain in self.own else ""
            return f"links to {domain}: none{own}"
        example = self.display(tally.example or "")
        return f"links to {domain}: {tally.links} on {tally.pages} pages (e.g. {example})"

    def csp_hashes(self) -> list[str]:
        return [digest for digest, _ in self.hashes.most_common()]

    def to_json(self) -> dict[str, Any]:
        return {
            "command": str(self.command),
            "site": self.root,
            "config": self.config,
            "write": self.write,
            "counts": {
                "seen": self.counts["seen"],
                "injected": self.counts["injected"],
                "updated": self.counts["updated"],
                "removed": self.counts["removed"],
                "unchanged": self.counts["unchanged"],
                "skipped": sum(self.skipped.values()),
                "errors": len(self.errors),
            },
            "skipped": dict(sorted(self.skipped.items())),
            "changed": self.changed,
            "errors": self.errors,
            "notices": self.notices,
            "warnings": [{"kind": w.kind.value, "message": w.message} for w in self.warnings()],
            "csp_hashes": self.csp_hashes(),
            "script_files": self.script_files,
            "csp_files": self.csp_files,
            "tokens": sorted(self.tokens),
            "links": {
                domain: dataclasses.asdict(self.links.get(domain, LinkTally()))
                for domain in self.domains
            }
            if self.command is Command.BUILD
            else {},
            "placements": dict(sorted(self.placements.items())),
            "interrupted": self.interrupted,
            "exit_code": int(self.return_code),
        }

    def render_json(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)
