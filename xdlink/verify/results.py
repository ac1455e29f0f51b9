"""What a run of ``xdlink verify`` found: each pair's outcome and the notes, rendered as text
or JSON, and the exit code decided from them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from xdlink.report import ExitCode
from xdlink.sdks import Sdk

# What the first event on the landing site carried, by SDK, in the report's last lines.
_CARRIED = {
    Sdk.MIXPANEL: "the first Mixpanel event there carried the first site's $device_id and "
    "distinct_id",
    Sdk.POSTHOG: "the first PostHog $pageview there carried the first site's $device_id (as "
    "distinct_id and $device_id) and $session_id",
}


class Status(StrEnum):
    """What became of the visitor who clicked from one site to another."""

    JOINED = "joined"
    NOT_JOINED = "not joined"
    NO_LINK = "no link"


@dataclass
class PairResult:
    """The journey from one site to another and what became of the visitor."""

    source: str
    target: str
    status: Status
    reason: str = ""  # the sentence of the diagnosis, when not joined or without a link
    page: str | None = None  # the page the link was clicked on
    link: str | None = None  # the link as the page wrote it
    sdks: list[str] = field(default_factory=list)  # the SDKs checked: both sites start them
    # By SDK ("Mixpanel", "PostHog"): the visitor's ids on the first site, and the ids the
    # first event on the landing site carries.
    sender: dict[str, dict[str, str]] = field(default_factory=dict)
    landing: dict[str, dict[str, str]] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # what the landing ids were read from

    def line(self) -> str:
        """Return the pair's line of the text report."""
        pair = f"{self.source} -> {self.target}"
        if self.status is Status.JOINED:
            sdks = " and ".join(self.sdks)
            return f"{pair}: joined in {sdks} (link on {self.page} to {self.link})"
        if self.status is Status.NO_LINK:
            return f"{pair}: no link ({self.reason})"
        return f"{pair}: NOT joined: {self.reason}"


@dataclass
class VerifyReport:
    """Every pair's result and the notes on the sites, in the order they were checked."""

    pairs: list[PairResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    answered: dict[Sdk, int] = field(default_factory=dict)  # requests answered in the browser
    strict: bool = False  # warnings make the exit status 4

    @property
    def return_code(self) -> ExitCode:
        """Decide the exit code: a pair that does not join, or no pair joined, fails the run."""
        joined = [pair for pair in self.pairs if pair.status is Status.JOINED]
        failed = [pair for pair in self.pairs if pair.status is Status.NOT_JOINED]
        if not joined or failed:
            return ExitCode.NOT_JOINED
        return ExitCode.WARNINGS if self.strict and self.warnings() else ExitCode.OK

    def warnings(self) -> list[str]:
        """Return what --strict fails on: a site that is not a listed domain, and a pair of
        sites with no link between them (nothing was checked there)."""
        found = [note for note in self.notes if note.startswith("note:")]
        return found + [pair.line() for pair in self.pairs if pair.status is Status.NO_LINK]

    def lines(self) -> Iterator[str]:
        """Yield the text report, line by line."""
        yield from self.notes
        for pair in self.pairs:
            yield pair.line()
        joined = [pair for pair in self.pairs if pair.status is Status.JOINED]
        if joined:
            proven = {sdk for pair in joined for sdk in pair.sdks}
            carried = "; ".join(_CARRIED[sdk] for sdk in Sdk if sdk.value in proven)
            yield (
                f"proven for {len(joined)} of {len(self.pairs)} pairs: the link was decorated "
                "at the click, the parameter left the landing site's address bar, and "
                f"{carried}"
            )
        yield (
            "nothing was sent to Mixpanel or PostHog: their requests were answered inside "
            "the browser"
        )
        if self.return_code is ExitCode.WARNINGS:
            yield f"--strict: the run gave {len(self.warnings())} warnings (exit status 4)"

    def to_json(self) -> dict[str, object]:
        """Return the report as JSON data, the pairs with every field."""
        return {
            "pairs": [asdict(pair) for pair in self.pairs],
            "notes": self.notes,
            "warnings": self.warnings(),
            "sent_to_mixpanel": 0,
            "sent_to_posthog": 0,
            "answered_in_browser": {sdk.value: self.answered.get(sdk, 0) for sdk in Sdk},
            "exit_code": int(self.return_code),
        }

    def render_json(self) -> str:
        """Return the JSON report as text."""
        return json.dumps(self.to_json(), indent=2)
