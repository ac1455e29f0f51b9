"""The Python API: one call per command, for the command line, build tools and plugins."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdlink import cspfiles
from xdlink.domains import domains_covering
from xdlink.errors import XdlinkError
from xdlink.files import NotWritten
from xdlink.options import options_of, settings_from
from xdlink.report import FileStatus, Finding, Report
from xdlink.script import RenderedScript, ScriptConfig, render
from xdlink.sdks import Variant
from xdlink.settings import SDK_NAMES, Command, Settings
from xdlink.site import Job, Progress, patch, run
from xdlink.sourcetree import source_hint


def make_settings(domains: str | Iterable[str] = (), **options: Any) -> Settings:
    """Return validated settings: ``domains`` as a list or a comma-separated string, and any
    other option by its long name (``ttl=300``, ``fragment=True``, ``exclude=["404.html"]``).

    Raises XdlinkError naming the first bad value, or an option ``xdlink build`` does not
    take (with the option it may be a typo of).
    """
    known = [option.name for option in options_of(Command.BUILD)]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, 1)
            hint = f": did you mean {close[0]}=?" if close else f" (it takes {', '.join(known)})"
            raise XdlinkError(f"make_settings: xdlink build has no option {name!r}{hint}")
    values = {"domains": (domains,) if isinstance(domains, str) else tuple(domains), **options}
    return settings_from(values, Command.BUILD)


def build(
    site: str | Path,
    settings: Settings,
    *,
    write: bool = True,
    check: bool = False,
    diff: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Insert or update the xdlink script in every page of ``site``.

    ``settings`` comes from :func:`xdlink.make_settings`, which validates every value.
    With ``write=False`` nothing is written and the report says what would change;
    ``check=True`` makes ``report.return_code`` 1 when something would.
    """
    return _run(Command.BUILD, Path(site), settings, write, check, diff, progress)


def remove(
    site: str | Path,
    settings: Settings | None = None,
    *,
    write: bool = True,
    check: bool = False,
    diff: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Take the xdlink script out of every page of ``site``, restoring each byte."""
    return _run(Command.REMOVE, Path(site), settings or Settings(), write, check, diff, progress)


@dataclass(frozen=True)
class Snippet:
    """The script for pages xdlink does not build, as an element and as code."""

    script: RenderedScript
    warnings: tuple[Finding, ...] = ()

    @property
    def element(self) -> str:
        return self.script.element()

    @property
    def code(self) -> str:
        return self.script.code

    @property
    def csp_hash(self) -> str:
        return self.script.sha256


def snippet(settings: Settings) -> Snippet:
    """Return the script as :func:`build` inserts it into a page that starts the SDKs of
    ``settings.sdk`` (both when it names none) with these settings."""
    sdks = frozenset(SDK_NAMES[name] for name in settings.sdk)
    return Snippet(render(ScriptConfig.of(settings, Variant.of(sdks))), ())


def _update_csp(
    header_files: list[cspfiles.HeaderFile],
    rules: tuple[cspfiles.Rule, ...],
    report: Report,
    write: bool,
    diff: bool,
    whole: bool,
) -> None:
    """Write the hashes of the site's scripts into the policies of its header files that
    would block them, and (``whole``: a run over every page) take out those of the
    scripts its pages no longer hold."""
    stale = report.old_hashes - set(report.hashes) if whole else set()
    for number, header_file in enumerate(header_files):
        changes: dict[cspfiles.Value, list[cspfiles.Edit]] = {}
        ours = [index for index, rule in enumerate(rules) if rule.file == number]
        for index in ours:
            wanted = sorted(report.csp_covered.get(index, set()) - {""})
            for value in rules[index].values:
                edits = cspfiles.removing(value.text, stale) + cspfiles.adding(value.text, wanted)
                if edits:
                    changes[value] = edits
        if not changes:
            continue
        try:
            text = cspfiles.edit(header_file, changes)
            if write:
                cspfiles.write(header_file, text)
        except (OSError, NotWritten, XdlinkError) as exc:
            message = getattr(exc, "strerror", None) or str(exc)
            report.errors.append(f"error: cannot update {header_file.name}: {message}")
            continue
        for index in ours:
            report.csp_blocking.pop(index, None)  # the policies allow the script now
        if diff:
            report.diffs.append(_file_diff(header_file.name, header_file.text, text))
        status = FileStatus.UPDATED if write else FileStatus.WOULD_BE_UPDATED
        report.csp_files[header_file.name] = status


def _file_diff(name: str, old: str, new: str) -> bytes:
    return patch(name, old.encode("utf-8"), new.encode("utf-8"))


def _run(
    command: Command,
    site: Path,
    settings: Settings,
    write: bool,
    check: bool,
    diff: bool,
    progress: Progress | None,
) -> Report:
    if not site.exists():
        raise XdlinkError(f"site folder {site} does not exist")
    if not site.is_dir():
        raise XdlinkError(f"site {site} is not a folder")
    hint = None if settings.built else source_hint(site)
    if hint is not None:
        raise XdlinkError(hint)
    write = write and not (check or diff)
    report = Report.of(command, str(site), settings, write=write, check=check)
    if settings.site_domain is not None:
        report.own_domains |= domains_covering([settings.site_domain], settings.domains)
    header_files, unread = cspfiles.find(site, strict=settings.update_csp)
    report.notices += unread
    rules = tuple(rule for header_file in header_files for rule in header_file.rules)
    report.csp_rule_names = [f"{header_files[rule.file].name} ({rule.pattern})" for rule in rules]
    old_hashes = settings.update_csp and any(rule.values for rule in rules)
    job = Job(command, settings, write, diff, rules, old_hashes)
    if command is Command.BUILD:
        # Rendered (and cached) before the workers fork, which then neither import Jinja2
        # nor render the script again.
        render(ScriptConfig.of(settings))
    run(site, job, report, progress)
    if settings.update_csp and not report.interrupted and settings.external is None:
        whole = not (settings.include or settings.exclude)
        _update_csp(header_files, rules, report, write, diff, whole)
    return report
