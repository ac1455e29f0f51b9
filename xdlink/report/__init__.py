"""What a run did to a site, in three places: ``results`` gathers each page's result into
counts keyed by outcome, ``findings`` says what needs a look, ``render`` writes the text
and the JSON; ``exit_code`` decides the run's exit status from the results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xdlink.report import render
from xdlink.report.exit_code import ExitCode, exit_code
from xdlink.report.findings import Finding, suggestions, warnings
from xdlink.report.render import Level, Line
from xdlink.report.results import BINARY_PATCH, FileStatus, LinkTally, PageReport, Results


class Report(Results):
    """The results of a run with its views as methods: what the API returns, and what the
    command line and the integrations print from."""

    @property
    def return_code(self) -> ExitCode:
        return exit_code(self)

    def warnings(self) -> list[Finding]:
        return warnings(self)

    def suggestions(self) -> dict[str, tuple[str, int]]:
        return suggestions(self)

    def summary(self) -> str:
        return render.summary(self)

    def __str__(self) -> str:
        return self.summary()

    def lines(self) -> Iterator[Line]:
        return render.lines(self)

    def link_line(self, domain: str) -> str:
        return render.link_line(self, domain)

    def check_failure(self) -> str:
        return render.check_failure(self)

    def to_json(self) -> dict[str, Any]:
        return render.to_json(self)

    def render_json(self) -> str:
        return render.render_json(self)


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
    "Results",
    "exit_code",
]
