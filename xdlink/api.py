"""The Python API: one call per command, for the command line, build tools and plugins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdlink.domains import listed
from xdlink.errors import XdlinkError
from xdlink.options import settings_from
from xdlink.report import Finding, Report
from xdlink.script import RenderedScript, ScriptConfig, render
from xdlink.settings import Command, Settings, WarningKind
from xdlink.site import Job, Progress, linked_hosts, run
from xdlink.sourcetree import source_hint


def make_settings(domains: str | Iterable[str] = (), **options: Any) -> Settings:
    """Validated settings: ``domains`` as a list or a comma-separated string, and any
    other option by its long name (``ttl=300``, ``fragment=True``, ``exclude=["404.html"]``).

    Raises XdlinkError naming the first bad value.
    """
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
    """The script as :func:`build` inserts it into every page of a site with these settings."""
    return Snippet(render(ScriptConfig.of(settings)), ())


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
        report.own |= listed([settings.site_domain], settings.domains)
    run(site, Job(command, settings, write=write, diff=diff), report, progress)
    if report.unlinked() and WarningKind.UNLINKED_DOMAIN not in report.silence:
        report.suggest(linked_hosts(site, settings))
    return report
