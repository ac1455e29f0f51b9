"""What a run did to a site, in three places: ``results`` gathers each page's result into
counts keyed by outcome, ``findings`` says what needs a look, ``render`` writes the text
and the JSON; ``exit_code`` decides the run's exit status from the results."""

from __future__ import annotations

from xdlink.report.exit_code import ExitCode, exit_code
from xdlink.report.findings import Finding
from xdlink.report.render import Level, Line
from xdlink.report.results import BINARY_PATCH, FileStatus, LinkTally, PageReport, Report

__all__ = [
    "BINARY_PATCH",
    "ExitCode",
    "FileStatus",
    "Finding",
    "Level",
    "Line",
    "LinkTally",
    "PageReport",
    "Report",
    "exit_code",
]
