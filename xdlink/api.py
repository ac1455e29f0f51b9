"""The Python API: one call per command, for build tools and plugins."""

from __future__ import annotations

from pathlib import Path

from xdlink.errors import XdlinkError
from xdlink.report import Report
from xdlink.settings import Settings
from xdlink.site import Job, Progress, run


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
    return _run("build", Path(site), settings, write, check, diff, progress)


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
    return _run("remove", Path(site), settings or Settings(), write, check, diff, progress)


def _run(
    command: str,
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
    write = write and not (check or diff)
    report = Report(command, str(site), settings.domains, write=write, check=check)
    report.notices.extend(settings.notices)
    return run(site, Job(command, settings, write=write, diff=diff), report, progress)
