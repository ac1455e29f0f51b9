"""The exit status of a run over a site, decided in one place from its results."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from xdlink.report.findings import warnings

if TYPE_CHECKING:
    from xdlink.report.results import Results


class ExitCode(IntEnum):
    """The exit statuses of xdlink, documented in docs/cli.md and stable for scripts and CI."""

    OK = 0
    WOULD_CHANGE = 1
    NOT_JOINED = 1  # xdlink verify: a pair of sites does not join
    USAGE = 2
    FILE_ERRORS = 3
    WARNINGS = 4  # --strict: the run gave a warning
    INTERRUPTED = 130


def exit_code(report: Results) -> ExitCode:
    """Return the status a run ends with: an interruption outranks a page that failed, which
    outranks a failed ``--check``, which outranks a warning under ``--strict``."""
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.errors:
        return ExitCode.FILE_ERRORS
    if report.check and report.would_change:
        return ExitCode.WOULD_CHANGE
    if report.strict and warnings(report):
        return ExitCode.WARNINGS
    return ExitCode.OK
