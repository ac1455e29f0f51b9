"""A run's results in words: the text lines the command line and the generator
integrations print, and the JSON report, both read from the same results."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from xdlink.outcomes import Change, Skip
from xdlink.report.exit_code import ExitCode, exit_code
from xdlink.report.findings import init_notices, warnings
from xdlink.report.results import LinkTally, Results
from xdlink.settings import Command, WarningKind


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
    """One line of the report, with its level and, for a warning, its kind."""

    level: Level
    text: str
    kind: WarningKind | None = None


def summary(report: Results) -> str:
    """Return the one line that says what the run did: pages seen, changed, skipped, failed."""
    verb = "" if report.write else "would be "
    counts = report.counts
    parts = [f"{counts['seen']} pages seen"]
    actions = ("injected", "updated") if report.command is Command.BUILD else ("removed",)
    parts += [f"{counts[action]} {verb}{action}" for action in actions]
    if report.command is Command.BUILD and counts["removed"]:
        # An AMP page keeps no script: one an earlier build put there is taken out.
        parts.append(f"{counts['removed']} {verb}removed from AMP pages")
    parts.append(f"{counts['unchanged']} unchanged")
    skipped = report.skipped
    if skipped:
        reasons = ", ".join(f"{count} {message}" for message, count in skipped.items())
        parts.append(f"{sum(skipped.values())} skipped ({reasons})")
    else:
        parts.append("0 skipped")
    parts.append(f"{len(report.errors)} errors")
    text = ", ".join(parts)
    return f"interrupted: {text}" if report.interrupted else text


def lines(report: Results, details: bool = True) -> Iterator[Line]:
    """Yield every line of the report but the diffs, in order: this is the one renderer that
    the command line and the generator integrations share. ``details``: the lines of
    level DETAIL (one a page) too, which a run without -v prints none of."""
    if report.config and details:
        yield Line(Level.DETAIL, f"configuration: {report.config}")
    for notice in [*report.notices, *init_notices(report)]:
        yield Line(Level.NOTICE, notice)
    for error in report.errors:
        yield Line(Level.ERROR, error)
    if details:
        yield from _detail_lines(report)
    found = warnings(report)
    for warning in found:
        yield Line(Level.WARNING, warning.message, warning.kind)
    yield Line(Level.SUMMARY, summary(report))
    yield from _outcome_lines(report)
    if report.check and report.would_change:
        # An error line: printed under --quiet too, so a failed gate always says why.
        yield Line(Level.ERROR, check_failure(report))
    if exit_code(report) is ExitCode.WARNINGS:
        yield Line(Level.ERROR, f"--strict: the run gave {len(found)} warnings (exit status 4)")


def _detail_lines(report: Results) -> Iterator[Line]:
    verb = "changed" if report.write else "would change"
    for path in report.changed:
        yield Line(Level.DETAIL, f"{verb}: {report.display(path)}")
    for path, rule in report.framework_pages:
        yield Line(Level.DETAIL, f"placed {rule}: {report.display(path)}")


def _outcome_lines(report: Results) -> Iterator[Line]:
    """Yield the links to each listed domain, the files the run wrote and the script's CSP
    hashes."""
    if report.command is Command.BUILD and report.counts["seen"]:
        for domain in report.domains:
            yield Line(Level.SUMMARY, link_line(report, domain))
    for path, status in sorted(report.script_files.items()):
        yield Line(Level.SUMMARY, f"script file {report.display(path)}: {status}")
    for path, status in report.csp_files.items():
        yield Line(Level.SUMMARY, f"Content-Security-Policy in {path}: {status}")
    if report.command is Command.BUILD and not report.script_files:
        for digest in report.csp_hashes():
            yield Line(Level.SUMMARY, f"script CSP hash: {digest}")


def check_failure(report: Results) -> str:
    """Return why --check fails: how many pages would change and why, the first of them, and the
    files that would change."""
    parts = []
    if report.changed:
        reasons = ", ".join(
            f"{count} {change.message}" for change, count in report.change_reasons.most_common()
        )
        shown = ", ".join(
            f"{report.display(path)} ({change.message})" for path, change in report.change_examples
        )
        more = len(report.changed) - len(report.change_examples)
        shown += f" and {more} more" if more > 0 else ""
        parts.append(f"{len(report.changed)} pages would change ({reasons}): {shown}")
    changing = [report.display(path) for path, st in report.script_files.items() if st.changes]
    changing += [path for path, status in report.csp_files.items() if status.changes]
    if changing:
        parts.append(f"{len(changing)} files would change: {', '.join(changing)}")
    return f"--check failed: {'; '.join(parts)}; run without --check to write them"


def link_line(report: Results, domain: str) -> str:
    """Return how many links lead to a listed domain, from how many pages, with an example."""
    tally = report.links.get(domain)
    if tally is None:
        own = " (this site's own domain)" if domain in report.own_domains else ""
        return f"links to {domain}: none{own}"
    example = report.display(tally.example or "")
    return f"links to {domain}: {tally.links} on {tally.pages} pages (e.g. {example})"


def to_json(report: Results) -> dict[str, Any]:
    """Return the report as the JSON object ``--format json`` prints; its keys are documented in
    docs/cli.md and stable."""
    counts = report.counts
    skipped = report.skipped
    return {
        "command": str(report.command),
        "site": report.root,
        "config": report.config,
        "write": report.write,
        "counts": {
            "seen": counts["seen"],
            "injected": counts["injected"],
            "updated": counts["updated"],
            "removed": counts["removed"],
            "unchanged": counts["unchanged"],
            "skipped": sum(skipped.values()),
            "errors": len(report.errors),
        },
        "skipped": skipped,
        "changed": report.changed,
        "errors": report.errors,
        "notices": [*report.notices, *init_notices(report)],
        "warnings": [{"kind": w.kind.value, "message": w.message} for w in warnings(report)],
        "csp_hashes": report.csp_hashes(),
        "script_files": report.script_files,
        "csp_files": report.csp_files,
        "tokens": sorted(report.tokens),
        "links": {
            domain: dataclasses.asdict(report.links.get(domain, LinkTally()))
            for domain in report.domains
        }
        if report.command is Command.BUILD
        else {},
        "placements": dict(sorted(report.placements.items())),
        "interrupted": report.interrupted,
        "exit_code": int(exit_code(report)),
        "reason_codes": reason_codes(report),
    }


def reason_codes(report: Results) -> dict[str, Any]:
    """Return the reasons by their stable codes, for tools: skipped pages and changes
    counted by code, and each failed page with its code."""
    return {
        "skipped": _by_code(report.skips),
        "changed": _by_code(report.change_reasons),
        "failed": {path: failure.code for path, failure in report.failed},
    }


def _by_code(counts: Counter[Skip] | Counter[Change]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for because, count in counts.items():
        found[because.code] += count
    return dict(sorted(found.items()))


def render_json(report: Results) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=False)
