"""What becomes of a page, as values: the action taken, and why a page is skipped, changes
or fails, each reason a member with its stable code and its message beside it.

Counting, tests and tools read the members; only the report's renderer reads the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Generic, TypeVar


class Action(StrEnum):
    """What a run did, or would do, to one page."""

    INJECTED = "injected"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    SKIPPED = "skipped"


class _Reason(Enum):
    """A reason with a stable code (kebab-case, for tools) and the message a user reads.
    A message with ``{detail}`` in it is completed by the page (an encoding's name)."""

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


class SkipReason(_Reason):
    """Why a page is left alone: it is not an HTML document xdlink can change safely."""

    EMPTY = "empty", "empty file"
    NOT_TEXT = "not-text", "not text (NUL bytes)"
    UNSAFE_ENCODING = "unsafe-encoding", "encoding {detail} (a byte-level splice is unsafe)"
    FRAGMENT = "fragment", "fragment (no doctype, <html>, <head> or <body>)"
    TEMPLATE_SYNTAX = "template-syntax", "template syntax in <head>"
    ENDS_IN_COMMENT = "ends-in-comment", "the page ends inside a comment before its head"
    AMP = "amp", "AMP page (AMP allows no author script)"
    SYMBOLIC_LINK = "symbolic-link", "symbolic link"
    LINK_TO_FOLDER = "symbolic-link-to-folder", "symbolic link to a folder"


class ChangeReason(_Reason):
    """Why a page changes: the causes a ``--check`` gate names."""

    NEW_PAGE = "new-page", "page changed: it has no xdlink script"
    SETTINGS_CHANGED = "settings-changed", "settings changed"
    MISPLACED = "misplaced", "page changed: its xdlink script is out of place"
    VERSION_CHANGED = "version-changed", "script version changed ({detail})"
    AMP = "amp", "AMP page (AMP allows no author script)"
    HOLDS_SCRIPT = "holds-script", "it holds the xdlink script"


class FailReason(_Reason):
    """Why a page, or a folder of the site, cannot be processed; the run goes on."""

    UNDECODABLE = "undecodable", "cannot decode as {detail}"
    READ_ONLY = "read-only", "the page is read-only; left as it is"
    CHANGED_WHILE_READ = (
        "changed-while-read",
        "the page changed while xdlink was reading it; left as it is",
    )
    OS_ERROR = "os-error", "{detail}"


R = TypeVar("R", SkipReason, ChangeReason, FailReason)


@dataclass(frozen=True)
class Because(Generic[R]):
    """A reason as one page has it: the member, and the detail its message names."""

    reason: R
    detail: str = ""

    @property
    def code(self) -> str:
        return self.reason.code

    @property
    def message(self) -> str:
        return self.reason.message.format(detail=self.detail)

    def __str__(self) -> str:
        return self.message


Skip = Because[SkipReason]
Change = Because[ChangeReason]
Failure = Because[FailReason]

__all__ = [
    "Action",
    "Because",
    "Change",
    "ChangeReason",
    "FailReason",
    "Failure",
    "Skip",
    "SkipReason",
]
