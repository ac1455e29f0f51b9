"""Read the literal arguments of one JavaScript call; anything else reads as unknown."""

from __future__ import annotations

import re
from typing import Any

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SKIP = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_CLOSERS = {"{": "}", "(": ")", "[": "]"}

#: What an argument that is not a literal (a variable, a call, a template) reads as.
UNKNOWN = object()


def read_arguments(source: str, position: int) -> list[Any]:
    """Return the arguments of the call whose ``(`` ends at ``position``: strings, booleans
    (``!0``/``!1`` too) and objects of them; UNKNOWN for anything else.

    Raises ValueError when the text ends before the call does.
    """
    try:
        return _Reader(source, position).arguments()
    except IndexError:
        raise ValueError("the call is not closed") from None


class _Reader:
    def __init__(self, source: str, position: int) -> None:
        self.source = source
        self.i = position

    def skip(self) -> str:
        match = _SKIP.match(self.source, self.i)
        self.i = match.end() if match else self.i
        return self.source[self.i : self.i + 1]

    def arguments(self) -> list[Any]:
        args: list[Any] = []
        while self.skip() not in (")", ""):
            args.append(self.value())
            if self.skip() == ",":
                self.i += 1
        return args

    def value(self) -> Any:
        char = self.skip()
        if char in "\"'`":
            return self.string(char)
        if char == "{":
            return self.object()
        if char == "!" and self.source[self.i + 1 : self.i + 2] in "01":
            self.i += 2
            return self.source[self.i - 1] == "0"
        word = _IDENT.match(self.source, self.i) or _NUMBER.match(self.source, self.i)
        if word and word.group() in ("true", "false"):
            self.i = word.end()
            return word.group() == "true"
        return self.opaque()

    def string(self, quote: str) -> Any:
        out: list[str] = []
        i = self.i + 1
        while self.source[i] != quote:
            if self.source[i] == "\\":
                i += 1
            elif quote == "`" and self.source.startswith("${", i):
                self.i = i
                self.opaque_until(quote)
                return UNKNOWN
            out.append(self.source[i])
            i += 1
        self.i = i + 1
        return "".join(out)

    def object(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.i += 1
        while self.skip() not in ("}", ""):
            key = self.key()
            if self.skip() == ":":
                self.i += 1
                result[key] = self.value()
            if self.skip() == ",":
                self.i += 1
            elif self.skip() != "}":
                self.opaque()
        self.i += 1
        return result

    def key(self) -> str:
        char = self.skip()
        if char in "\"'":
            key = self.string(char)
            return key if isinstance(key, str) else ""
        word = _IDENT.match(self.source, self.i) or _NUMBER.match(self.source, self.i)
        if word is None:
            raise ValueError("not an object key")
        self.i = word.end()
        return word.group()

    def opaque(self) -> Any:
        """Skip an expression up to the next ``,`` ``)`` or ``}`` at its own depth."""
        depth: list[str] = []
        source = self.source
        while True:
            char = source[self.i]
            if char in "\"'`":
                self.string(char)
                continue
            if char in _CLOSERS:
                depth.append(_CLOSERS[char])
            elif depth and char == depth[-1]:
                depth.pop()
            elif not depth and char in ",)}":
                return UNKNOWN
            self.i += 1

    def opaque_until(self, quote: str) -> None:
        while self.source[self.i] != quote:
            self.i += 2 if self.source[self.i] == "\\" else 1
        self.i += 1
