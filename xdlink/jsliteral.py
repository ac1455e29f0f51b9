"""Read JavaScript as pages write it, far enough to know the literal values a call is given.

Three parts share one reading of the language's lexical grammar: comments, strings,
template literals (``${...}`` nested to any depth), and regular-expression literals, told
from a division by the code before the slash.

- ``Script``: which positions of a script are code (not in a comment, string, template
  text or regular expression), and what the script assigns to a name;
- ``read_arguments``: the arguments of one call (and ``Script.assignments``: the values
  assigned to a name), each as a small tree of literals (strings, numbers, booleans,
  ``null``), objects (with spreads and computed keys), ``Object.assign(...)``, names to
  look up, and ``Opaque`` for any other expression (a function, a condition, a call), read
  past whole;
- ``evaluate``: such a tree with its names looked up in a ``Scope`` (the page's inline
  scripts up to the reference), giving plain values, ``JSObject`` and ``Unknown``.

Each runs in time linear in the text it reads: a string or regular expression that is not
closed ends with its line, an unclosed comment or template with the text, and after a slash
was wrongly taken for the start of a regular expression, the rest of its line reads slashes
as divisions.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# --- the lexical grammar ----------------------------------------------------------------

_LINE_END = re.compile(r"[\n\r\u2028\u2029]")
_LINE_COMMENT = re.compile(r"//[^\n\r\u2028\u2029]*")


def _string_pattern(quote: str, end: str) -> str:
    """A string literal in ``quote``, ended by ``end`` (its body unrolled: a regex
    alternative per character is several times slower)."""
    other = rf"[^{quote}\\\n\r]*+"
    return rf"{quote}{other}(?:\\(?:\r\n|[\s\S]){other})*+{end}"


# A string literal: one not closed ends with its line.
_STRINGS = {quote: re.compile(_string_pattern(quote, quote + "?")) for quote in "\"'"}
# The text of a template literal up to its closing backtick or its next substitution.
_TEMPLATE_TEXT = re.compile(r"[^`\\$]*+(?:(?:\\[\s\S]|\$(?!\{))[^`\\$]*+)*+(`|\$\{)?")
_REGEX = re.compile(r"/(?![*/])(?:[^/\\\[\n\r]|\\[^\n\r]|\[(?:[^\]\\\n\r]|\\[^\n\r])*\])+/[\w$]*")
# Words after which an expression, and so a regular expression, may start.
_KEYWORDS = frozenset(
    {"await", "case", "delete", "do", "else", "in", "instanceof", "new", "of", "return"}
    | {"throw", "typeof", "void", "yield"}
)
# Code and strings up to a slash or backtick (and, in a template's substitution, a brace).
_RUN = re.compile("(?:[^\"'`/]++|" + "|".join(p.pattern for p in _STRINGS.values()) + ")*+")
_RUN_IN_SUBSTITUTION = re.compile(_RUN.pattern.replace("`/", "`/{}", 1))
# The same up to a position: a string it cuts does not match (so the run stops before it).
_CLOSED_STRINGS = "|".join(_string_pattern(q, rf"(?:{q}|(?=[\n\r]))") for q in "\"'")
_RUN_UPTO = re.compile("(?:[^\"'`/]++|" + _CLOSED_STRINGS + ")*+")
_RUN_UPTO_IN_SUBSTITUTION = re.compile(_RUN_UPTO.pattern.replace("`/", "`/{}", 1))


def _only_lines_before(text: str, position: int) -> bool:
    """Whether nothing in the text before ``position`` can go on past the end of its line:
    no block comment, template or string continued on the next line (a line comment,
    string or regular expression that starts on a line ends on it). One character is
    looked for first: str.find is several times faster for one."""
    find = text.find
    if find("`", 0, position) >= 0:
        return False
    if find("*", 0, position) >= 0 and find("/*", 0, position) >= 0:
        return False
    return find("\\", 0, position) < 0 or _CONTINUED.search(text, 0, position) is None


_CONTINUED = re.compile(r"\\[\n\r]")
_INDENT = re.compile(r"[\s\ufeff]*")


def _regex_after(before: str) -> bool:
    """Whether a ``/`` after this code starts a regular expression rather than a division.

    ``before``: the end of the code before the slash (all of its last word, or its last
    two characters): after a value (a name, a number, ``)``, ``]``, a string, a template,
    a regular expression, ``x++``) it divides; a ``}`` is taken for the end of a block.
    """
    if not before:
        return True
    last = before[-1]
    if last.isalnum() or last in "_$\\":
        return before in _KEYWORDS
    if last in "+-":
        return not before.endswith(("++", "--"))
    return last not in ")]\"'`/"


def _code_before(text: str, start: int, end: int) -> str:
    """The end of the code ``text[start:end]``, as ``_regex_after`` takes it ("" if it
    is all whitespace)."""
    while end > start and text[end - 1].isspace():
        end -= 1
    if end == start:
        return ""
    begin = end - 1
    if not (text[begin].isalnum() or text[begin] in "_$"):
        return text[max(start, end - 2) : end]
    while begin > start and (text[begin - 1].isalnum() or text[begin - 1] in "_$"):
        begin -= 1
    return text[begin:end]


class _Regexes:
    """Regular-expression literals of one text, read unsuccessfully at most once a line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.failed_until = -1

    def end(self, start: int) -> int:
        """Where the regular expression starting at ``start`` ends; -1 if none does."""
        if start < self.failed_until:
            return -1
        match = _REGEX.match(self.text, start)
        if match is not None:
            return match.end()
        line_end = _LINE_END.search(self.text, start)
        self.failed_until = line_end.start() if line_end else len(self.text)
        return -1


def _template_text(text: str, start: int) -> tuple[int, bool]:
    """Where a template's text from ``start`` (after its backtick or a substitution's
    ``}``) ends, and whether at a substitution (``${``) rather than its closing backtick."""
    match = _TEMPLATE_TEXT.match(text, start)
    assert match is not None  # the pattern matches the empty string
    return match.end(), match.group(1) == "${"


def _string_end(text: str, start: int) -> int:
    match = _STRINGS[text[start]].match(text, start)
    assert match is not None  # the pattern matches the opening quote alone
    return match.end()


# --- which positions are code -----------------------------------------------------------


class Script:
    """One inline script: which of its positions are code, and what it assigns to names.

    Read as far as a question needs. The skim takes code and strings in one match, up to
    the next slash or backtick (or brace, in a template's substitution), and keeps where
    each such run starts: whether a position in a run is in a string is asked of the run
    again, up to that position.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._runs: list[int] = []  # the starts of the runs of code and strings
        self._run_ends: list[int] = []
        self._run_kinds: list[bool] = []  # True for a run in a template's substitution
        self._starts: list[int] = []  # the other spans that are not code
        self._ends: list[int] = []
        self._done = 0
        # The open substitutions of template literals (innermost last), each with the
        # braces open inside it.
        self._substitutions: list[int] = []
        self._before = ""  # the end of the code before the last run (see _regex_after)
        self._regexes = _Regexes(text)
        self._assignments: dict[str, tuple[Assignment, ...]] = {}

    def in_code(self, position: int) -> bool:
        """Whether ``position`` is in code rather than in a comment, string, template text
        or regular expression."""
        if self._done == 0 and _only_lines_before(self.text, position):
            on_its_line = self._line_in_code(position)
            if on_its_line is not None:
                return on_its_line
        self._skim(position + 1)
        index = bisect.bisect_right(self._starts, position) - 1
        if index >= 0 and position < self._ends[index]:
            return False
        index = bisect.bisect_right(self._runs, position) - 1
        if index < 0 or position >= self._run_ends[index]:
            return True
        pattern = _RUN_UPTO_IN_SUBSTITUTION if self._run_kinds[index] else _RUN_UPTO
        run = pattern.match(self.text, self._runs[index], position)
        return run is not None and run.end() == position

    def _line_in_code(self, position: int) -> bool | None:
        """``in_code`` read from the start of the position's line, for a text in which
        nothing before that line reaches into it; None if the line starts with a slash
        (a division or a regular expression, by what stands before it)."""
        text = self.text
        line = max(text.rfind("\n", 0, position), text.rfind("\r", 0, position)) + 1
        first = _INDENT.match(text, line, position)
        assert first is not None  # the pattern matches the empty string
        if text.startswith("/", first.end()) and not text.startswith("//", first.end()):
            return None
        if text.find("/", line, position) < 0:  # no comment or regex: strings tell
            run = _RUN_UPTO.match(text, line, position)
            return run is not None and run.end() == position
        return Script(text[line:]).in_code(position - line) if line > 0 else None

    def _not_code(self, start: int, end: int, before: str) -> int:
        self._starts.append(start)
        self._ends.append(end)
        self._before = before
        return end

    def _skim(self, until: int) -> None:
        text, i = self.text, self._done
        substitutions = self._substitutions
        while i < until and i < len(text):
            run = (_RUN_IN_SUBSTITUTION if substitutions else _RUN).match(text, i)
            assert run is not None  # the pattern matches the empty string
            at = run.end()
            if at > i:
                self._runs.append(i)
                self._run_ends.append(at)
                self._run_kinds.append(bool(substitutions))
                self._before = _code_before(text, i, at) or self._before
            if at >= len(text):
                i = at
                break
            char = text[at]
            if char == "/":
                i = self._slash(at)
            elif char == "{":
                substitutions[-1] += 1
                self._before, i = "{", at + 1
            elif char == "}" and substitutions[-1]:
                substitutions[-1] -= 1
                self._before, i = "}", at + 1
            else:  # a template, or the end of a substitution in one
                if char == "}":
                    substitutions.pop()
                i, substitution = _template_text(text, at + 1)
                if substitution:
                    substitutions.append(0)
                    self._not_code(at, i - 2, "{")
                else:
                    self._not_code(at, i, "`")
        self._done = i

    def _slash(self, at: int) -> int:
        text = self.text
        follower = text[at + 1 : at + 2]
        if follower == "/":
            match = _LINE_COMMENT.match(text, at)
            assert match is not None
            return self._not_code(at, match.end(), self._before)
        if follower == "*":
            end = text.find("*/", at + 2)
            return self._not_code(at, len(text) if end < 0 else end + 2, self._before)
        end = self._regexes.end(at) if _regex_after(self._before) else -1
        if end < 0:  # a division
            self._before = "/="
            return at + 1
        return self._not_code(at, end, "/")

    def assignments(self, name: str) -> tuple[Assignment, ...]:
        """What the script assigns to ``name`` (or ``window.name``) in its code, in order."""
        found = self._assignments.get(name)
        if found is None:
            found = self._assignments[name] = tuple(self._find_assignments(name))
        return found

    def _find_assignments(self, name: str) -> Iterator[Assignment]:
        text = self.text
        if name not in text:
            return
        for count, match in enumerate(_assignment_pattern(name).finditer(text)):
            if count == _MOST_ASSIGNMENTS:
                return
            if not self.in_code(match.start()):
                continue
            reader = _Reader(text, match.end())
            try:
                if match.group("merge"):
                    _, *values = reader.arguments()
                    kind, key = MERGE, None
                else:
                    values = [reader.expression()]
                    key = match.group("key") or match.group("quoted") or match.group("single")
                    kind = SET if key is None else KEY
            except ValueError:  # the text ends in it, and so in any assignment after it
                return
            yield Assignment(match.start(), reader.lexer.start, kind, key, tuple(values))
            if reader.lexer.kind == END:
                return


_GLOBAL = r"(?:(?:window|self|globalThis)\s*\.\s*)?"
# The assignments to one name read, at most: each is read up to its end, and a script of
# assignments nested in one another would cost the square of its length.
_MOST_ASSIGNMENTS = 256


def _assignment_pattern(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    return re.compile(
        rf"(?<![\w$.]){_GLOBAL}{escaped}\s*"
        r"(?:\.\s*(?P<key>[A-Za-z_$][\w$]*)\s*"
        r"|\[\s*(?:\"(?P<quoted>[^\"\\\n]*)\"|'(?P<single>[^'\\\n]*)')\s*\]\s*)?"
        r"=(?![=>])"
        rf"|(?<![\w$.])Object\s*\.\s*assign\s*(?P<merge>\()\s*{_GLOBAL}{escaped}\s*,"
    )


SET, KEY, MERGE = "set", "key", "merge"


@dataclass(frozen=True)
class Assignment:
    """An assignment in a script, from ``at`` to ``end``: to the name (SET, one value), to
    one of its keys (KEY), or ``Object.assign(name, ...values)`` (MERGE)."""

    at: int
    end: int
    kind: str
    key: str | None
    values: tuple[Any, ...]


# --- tokens -----------------------------------------------------------------------------

# A token's kind: these, or for punctuation the punctuator itself ("{", "=>", ...).
NAME, NUMBER, STRING, TEMPLATE, TEMPLATE_OPEN, TEMPLATE_MIDDLE, TEMPLATE_CLOSE = range(7)
REGEX, END = range(7, 9)
_KINDS = {"name": NAME, "number": NUMBER, "string": STRING}
# Whitespace and comments, then a name, number, string or punctuator if one follows (a
# slash that is no comment, a backtick or the end of the text: none).
_NEXT = re.compile(
    r"(?:[\s\ufeff]++|//[^\n\r\u2028\u2029]*+|/\*(?s:.*?)(?:\*/|\Z))*+"
    r"(?:(?P<name>(?:[^\W\d]|[$\\])[\w$\\\u200c\u200d]*+)"
    r"|(?P<number>(?:0[xXoObB][\da-fA-F_]++|(?:\d[\d_]*+(?:\.[\d_]*+)?|\.\d[\d_]*+)"
    r"(?:[eE][+-]?\d++)?)n?)"
    r"|(?P<string>" + "|".join(string.pattern for string in _STRINGS.values()) + ")"
    r"|(?P<punct>>>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|==|!=|<=|>=|&&"
    r"|\|\||\?\?|\?\.(?!\d)|\+\+|--|[-+*%&|^]=|\*\*|<<|>>|[^\s\w$\"'`/]))?"
)
# Punctuators that begin no longer one, read without the pattern when nothing but spaces
# stands before them.
_ONE_CHARACTER = frozenset("{}()[],;:")
_SPACES = re.compile(" +")
_BEFORE: dict[int | str, str] = {STRING: '"', TEMPLATE: "`", TEMPLATE_CLOSE: "`", REGEX: "/"}


class _Lexer:
    """The tokens of a script from a position in its code onwards. ``next`` reads one and
    keeps its kind, text (``value``, for names, numbers and punctuators), start and end."""

    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.i = self.gap = self.start = self.end = position
        self.kind: int | str = END
        self.value = ""
        self.braces: list[bool] = []  # the open braces: True for a template's substitution
        self.regexes = _Regexes(text)

    @property
    def newline(self) -> bool:
        """Whether a line break stands before the token."""
        return _LINE_END.search(self.text, self.gap, self.start) is not None

    def next(self) -> int | str:
        text, i = self.text, self.i
        self.gap = i
        # The common tokens, after nothing or plain spaces, without the whole pattern.
        if text.startswith(" ", i):
            i = _SPACES.match(text, i).end()  # type: ignore[union-attr]
        char = text[i : i + 1]
        if char in _ONE_CHARACTER:
            self.start, self.end = i, i + 1
            if char == "}" and self.braces and self.braces.pop():
                return self._template(i, TEMPLATE_MIDDLE, TEMPLATE_CLOSE)
            if char == "{":
                self.braces.append(False)
            self.kind = self.value = char
            self.i = i + 1
            return char
        if char == '"' or char == "'":
            self.start, self.end = i, _string_end(text, i)
            self.kind, self.value, self.i = STRING, '"', self.end
            return STRING
        match = _NEXT.match(text, i)
        assert match is not None  # the pattern matches the empty string
        group = match.lastgroup
        if group is None:
            return self._special(match.end())
        start, end = match.span(group)
        self.start, self.end = start, end
        if group != "punct":
            kind: int | str = _KINDS[group]
            self.value = text[start:end] if kind != STRING else '"'
        else:
            kind = self.value = text[start:end]
            if kind == "{":
                self.braces.append(False)
            elif kind == "}" and self.braces and self.braces.pop():
                return self._template(start, TEMPLATE_MIDDLE, TEMPLATE_CLOSE)
        self.kind, self.i = kind, end
        return kind

    def _special(self, start: int) -> int | str:
        """A template, a regular expression or a division, or the end of the text."""
        text = self.text
        self.start = start
        if start >= len(text):
            self.kind, self.end, self.i = END, start, start
            return END
        if text[start] == "`":
            return self._template(start, TEMPLATE_OPEN, TEMPLATE)
        end = self.regexes.end(start) if _regex_after(self._before()) else -1
        if end > 0:
            kind: int | str = REGEX
        else:  # a division
            end = start + (2 if text.startswith("/=", start) else 1)
            kind = text[start:end]
        self.kind, self.value, self.end, self.i = kind, text[start:end], end, end
        return kind

    def _before(self) -> str:
        """The code before the current position, as _regex_after takes it."""
        if self.kind in _BEFORE:
            return _BEFORE[self.kind]
        return "{" if self.kind in (TEMPLATE_OPEN, TEMPLATE_MIDDLE) else self.value

    def _template(self, start: int, open_kind: int, close_kind: int) -> int:
        end, substitution = _template_text(self.text, start + 1)
        if substitution:
            self.braces.append(True)
        kind = open_kind if substitution else close_kind
        self.kind, self.start, self.end, self.i = kind, start, end, end
        return kind


# --- the tree of a value ----------------------------------------------------------------


@dataclass(frozen=True)
class Opaque:
    """An expression not read: a function, a condition, a call, a template with ``${}``."""

    text: str


@dataclass(frozen=True)
class Name:
    """A name to look up (``x``, ``window.x``), at its position in its script."""

    name: str
    at: int


@dataclass(frozen=True)
class ObjectNode:
    """An object literal's members in order: (key, value); the key None for a spread, a
    tree rather than a str for a computed key."""

    members: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class Merge:
    """``Object.assign(target, ...sources)`` (and ``Object.freeze(object)``)."""

    parts: tuple[Any, ...]


_LITERAL_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None, "undefined": None}
_GLOBALS = frozenset({"window", "self", "globalThis"})
_ENDS = frozenset({",", ")", "]", "}", ";", ":", END})
# What, after a line break, starts a new statement rather than going on with an expression.
_STATEMENT_STARTS = frozenset({NAME, NUMBER, STRING, TEMPLATE, TEMPLATE_OPEN, "{", "!", "~"})
_OPENERS = frozenset({"(", "[", "{", TEMPLATE_OPEN})
_CLOSERS = frozenset({")", "]", "}", TEMPLATE_CLOSE})
_ESCAPE = re.compile(r"\\(u\{[\da-fA-F]+\}|u[\da-fA-F]{4}|x[\da-fA-F]{2}|\r\n|[\s\S])")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_CONTINUATIONS = frozenset({"\n", "\r", "\r\n", "\u2028", "\u2029"})


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body

    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if len(escape) > 1 and escape[0] in "ux":
            return chr(int(escape[1:].strip("{}"), 16))
        return "" if escape in _CONTINUATIONS else _ESCAPES.get(escape, escape)

    try:
        return _ESCAPE.sub(one, body)
    except (ValueError, OverflowError):  # a code point past U+10FFFF
        return body


def _number(text: str) -> Any:
    cleaned = text.replace("_", "")
    try:
        if cleaned[:2].lower() in ("0x", "0o", "0b"):
            return int(cleaned, 0)
        if cleaned.isdigit():
            return int(cleaned)
        return float(cleaned)
    except ValueError:  # a BigInt
        return Opaque(text)


def shorten(text: str, limit: int = 48) -> str:
    """An expression as the report shows it: on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The most common member of an object, ``key: literal`` before a ``,`` or ``}``, in one match
# (no comment, escape or expression in it: a member that has one is read token by token).
_SIMPLE_MEMBER = re.compile(
    r"(?:(?P<name>[A-Za-z_$][\w$]*+)|\"(?P<key2>[^\"\\\n\r]*+)\"|'(?P<key1>[^'\\\n\r]*+)')"
    r"[ \t\n\r]*+:[ \t\n\r]*+"
    r"(?:\"(?P<text2>[^\"\\\n\r]*+)\"|'(?P<text1>[^'\\\n\r]*+)'"
    r"|(?P<word>true|false|null|!0|!1|-?\d++(?:\.\d++)?)(?![\w$.]))"
    r"(?=[ \t\n\r]*+[,}])"
)
_SIMPLE_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "!0": True,
    "!1": False,
}


def _simple_member(match: re.Match[str]) -> tuple[str, Any]:
    key = match.group("name") or match.group("key2") or match.group("key1") or ""
    word = match.group("word")
    if word is None:
        text = match.group("text2")
        return key, match.group("text1") if text is None else text
    return key, _SIMPLE_WORDS[word] if word in _SIMPLE_WORDS else _number(word)


class _Reader:
    """Reads expressions into the tree above, one token ahead."""

    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.lexer = _Lexer(text, position)
        self.lexer.next()
        self.depth = 0  # the objects and calls being read, one in another

    def arguments(self) -> tuple[Any, ...]:
        """The arguments up to the ``)`` that closes them, which is left current."""
        lexer = self.lexer
        args: list[Any] = []
        while lexer.kind != ")":
            if lexer.kind == END:
                raise ValueError("the call is not closed")
            args.append(self.expression())
            if lexer.kind == ",":
                lexer.next()
            elif lexer.kind != ")":
                self.skip()  # a stray token: read past it to the next argument
                if lexer.kind != END and lexer.kind != ")":
                    lexer.next()
        return tuple(args)

    def expression(self) -> Any:
        """One expression, up to the ``,``, closing bracket, ``;`` or (before a new
        statement) line break that ends it: a tree when it is a literal, else Opaque."""
        start = self.lexer.start
        value = self.primary()
        if value is not NOT_READ and self.ended():
            return value
        self.skip()
        end = self.lexer.start if self.lexer.kind != END else len(self.text)
        return Opaque(shorten(self.text[start:end]))

    def ended(self) -> bool:
        kind = self.lexer.kind
        if kind in _ENDS:
            return True
        if kind in _STATEMENT_STARTS:
            return self.lexer.newline
        return False

    def skip(self) -> None:
        """Read past the rest of an expression: to a ``,`` or ``;`` at its own depth, a
        bracket that closes an enclosing one, or the end of the text."""
        lexer = self.lexer
        depth = 0
        kind = lexer.kind
        while kind != END:
            if kind in _OPENERS:
                depth += 1
            elif kind in _CLOSERS:
                if depth == 0:
                    return
                depth -= 1
            elif depth == 0 and (kind == "," or kind == ";"):
                return
            kind = lexer.next()

    def primary(self) -> Any:
        """A literal, object, name or ``Object.assign(...)``; NOT_READ for anything else
        (the caller reads past it)."""
        lexer = self.lexer
        kind = lexer.kind
        if kind in (STRING, TEMPLATE):
            value: Any = _unescape(self.text[lexer.start + 1 : lexer.end - 1])
        elif kind == NUMBER:
            value = _number(lexer.value)
        elif kind == NAME:
            return self.named()
        elif kind == "{":
            return self.object() if self.depth < _DEPTH else NOT_READ
        elif kind == "!" or kind == "-":  # !0, !1 and negative numbers
            lexer.next()
            number = _number(lexer.value) if lexer.kind == NUMBER else NOT_READ
            if isinstance(number, Opaque):
                return NOT_READ
            value = (not number) if kind == "!" else -number
        else:
            return NOT_READ
        lexer.next()
        return value

    def named(self) -> Any:
        lexer = self.lexer
        word, at = lexer.value, lexer.start
        lexer.next()
        if word in _LITERAL_NAMES:
            return _LITERAL_NAMES[word]
        if word == "void" and lexer.kind == NUMBER:
            lexer.next()
            return None
        if (word not in _GLOBALS and word != "Object") or lexer.kind != ".":
            return Name(word, at)
        if lexer.next() != NAME:
            return NOT_READ
        member, member_at = lexer.value, lexer.start
        lexer.next()
        if word != "Object":
            return Name(member, member_at)
        if member in ("assign", "freeze") and lexer.kind == "(" and self.depth < _DEPTH:
            lexer.next()
            self.depth += 1
            parts = self.arguments()
            self.depth -= 1
            lexer.next()
            return Merge(parts[:1] if member == "freeze" else parts)
        return NOT_READ

    def object(self) -> ObjectNode:
        lexer = self.lexer
        lexer.next()
        self.depth += 1
        members: list[tuple[Any, Any]] = []
        text = self.text
        while lexer.kind != "}":
            if lexer.kind == END:
                raise ValueError("the object is not closed")
            simple = _SIMPLE_MEMBER.match(text, lexer.start)
            if simple is not None:  # key: literal, in one match
                members.append(_simple_member(simple))
                lexer.i = simple.end()
                lexer.next()
            else:
                members.append(self.member())
            if lexer.kind == ",":
                lexer.next()
            elif lexer.kind != "}":
                self.skip()  # a stray token
                if lexer.kind != END and lexer.kind != "}":
                    lexer.next()
        lexer.next()
        self.depth -= 1
        return ObjectNode(tuple(members))

    def member(self) -> tuple[Any, Any]:
        lexer = self.lexer
        start, kind = lexer.start, lexer.kind
        if kind == "...":
            lexer.next()
            return None, self.expression()
        key: Any
        shorthand: Any = None
        if kind == NAME:
            key = lexer.value
            shorthand = Name(key, start)
        elif kind in (STRING, TEMPLATE):
            key = _unescape(self.text[start + 1 : lexer.end - 1])
        elif kind == NUMBER:
            key = str(_number(lexer.value))
        elif kind == "[":
            lexer.next()
            key = self.expression()
            if lexer.kind != "]":
                return key, self.rest(start)
        else:
            return "", self.rest(start)
        kind = lexer.next()
        if kind == ":":
            lexer.next()
            return key, self.expression()
        if shorthand is not None and (kind == "," or kind == "}"):
            return key, shorthand
        return key, self.rest(start)  # a method, getter or setter: code, not a value

    def rest(self, start: int) -> Opaque:
        self.skip()
        return Opaque(shorten(self.text[start : self.lexer.start]))


# What primary() gives for an expression it does not read: expression() reads past it.
NOT_READ = Opaque("")


def read_arguments(text: str, position: int) -> tuple[Any, ...]:
    """The arguments of the call whose ``(`` ends at ``position``, as trees of literals,
    objects, names and Opaque expressions.

    Raises ValueError when the text ends before the call does.
    """
    return _Reader(text, position).arguments()


def has_names(node: Any, keys: frozenset[str] | None = None) -> bool:
    """Whether a tree needs names looked up to be evaluated (for ``keys``, see evaluate)."""
    if isinstance(node, Name):
        return True
    if isinstance(node, ObjectNode):
        for key, value in node.members:
            wanted = not isinstance(key, str) or keys is None or key in keys
            if has_names(key) or (wanted and has_names(value, keys)):
                return True
        return False
    if isinstance(node, Merge):
        return any(has_names(part, keys) for part in node.parts)
    return False


# --- values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known: the expression as written, and why."""

    text: str
    why: str = "not a literal"


# What JSObject.get gives for a key the object does not have.
MISSING = Unknown("", "missing")


@dataclass
class JSObject:
    """An object's keys and values as far as they are known. ``unknown``: what may have
    set keys that are not known (a spread or computed key not read): every key is unknown
    then, until it is set again after it."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[Unknown] = field(default_factory=list)

    def get(self, key: str) -> Any:
        """The key's value: MISSING if it has none, an Unknown if it cannot be known."""
        if key in self.values:
            return self.values[key]
        return self.unknown[-1] if self.unknown else MISSING

    def set_unknown(self, unknown: Unknown) -> None:
        self.unknown.append(unknown)
        for key in self.values:
            self.values[key] = unknown

    def merge(self, other: Any, text: str) -> None:
        """Copy in the keys of ``other`` (a spread, or a source of ``Object.assign``)."""
        if isinstance(other, JSObject):
            for unknown in other.unknown:
                self.set_unknown(unknown)
            self.values.update(other.values)
        elif isinstance(other, Unknown):
            self.set_unknown(other if other.text == text else Unknown(text, other.why))
        # null, undefined, numbers and booleans copy nothing, and strings only indexes.


class Scope:
    """A script of the page, and the inline scripts before it (read only when a name is
    not assigned in the script itself: a callable gives them)."""

    def __init__(self, script: Script, earlier: Callable[[], Sequence[Script]]) -> None:
        self.script = script
        self._earlier = earlier
        self._scripts: Sequence[Script] | None = None

    def earlier(self) -> Sequence[Script]:
        if self._scripts is None:
            self._scripts = self._earlier()
        return self._scripts

    def within(self, index: int) -> Scope:
        """The scope of the earlier script at ``index``."""
        scripts = self.earlier()
        return Scope(scripts[index], lambda: scripts[:index])


Binding = tuple[tuple[Scope, Assignment], list[tuple[Scope, Assignment]]]


def _binding(name: Name, scope: Scope) -> Binding | None:
    """The assignment to ``name`` that the reference sees, with the scope it was made
    in, and the changes to its keys after it and before the reference, in order: the last
    assignment before the reference in its own script, else in the latest earlier inline
    script that makes one; failing both, the first one after it in its own script (for an
    init in a function that runs later, such as an event handler)."""
    changes: list[tuple[Scope, Assignment]] = []
    own = scope.script.assignments(name.name)
    # An assignment the reference stands in (var c = {...c}) is made after it is read.
    found = _last_set([a for a in own if a.end <= name.at], scope, changes)
    if found is None:
        earlier = scope.earlier()
        for index in range(len(earlier) - 1, -1, -1):
            assignments = list(earlier[index].assignments(name.name))
            found = _last_set(assignments, scope.within(index), changes)
            if found is not None:
                break
    if found is not None:
        changes.reverse()
        return found, changes
    after = [a for a in own if a.at > name.at]
    for index, assignment in enumerate(after):
        if assignment.kind == SET:
            following = []
            for change in after[index + 1 :]:
                if change.kind == SET:
                    break
                following.append((scope, change))
            return (scope, assignment), following
    return None


def _last_set(
    assignments: list[Assignment], scope: Scope, changes: list[tuple[Scope, Assignment]]
) -> tuple[Scope, Assignment] | None:
    """The last assignment to the name itself; the key changes after it are added to
    ``changes`` (latest first)."""
    for assignment in reversed(assignments):
        if assignment.kind == SET:
            return scope, assignment
        changes.append((scope, assignment))
    return None


class _Evaluation:
    """One evaluation: each assignment is evaluated once (so a chain of names is read
    in linear time), and one that refers back to itself is Unknown."""

    def __init__(self, keys: frozenset[str] | None) -> None:
        self.keys = keys
        self.done: dict[tuple[int, int], Any] = {}
        self.steps = 0
        self.depth = 0  # the names being looked up, one in another

    def value(self, node: Any, scope: Scope | None) -> Any:
        if node is None or isinstance(node, str | bool | int | float):
            return node
        if isinstance(node, Opaque):
            return Unknown(node.text)
        self.steps += 1
        if self.steps > 10_000:
            return Unknown(_text(node), "too long to read")
        if isinstance(node, ObjectNode):
            return self.object(node, scope)
        if isinstance(node, Merge):
            target = JSObject()
            for part in node.parts:
                target.merge(self.value(part, scope), _text(part))
            return target
        assert isinstance(node, Name)
        if self.depth >= _DEPTH:
            return Unknown(node.name, "too deep to read")
        self.depth += 1
        try:
            return self.lookup(node, scope)
        finally:
            self.depth -= 1

    def object(self, node: ObjectNode, scope: Scope | None) -> JSObject:
        result = JSObject()
        for key, value in node.members:
            if key is None:
                result.merge(self.value(value, scope), "..." + _text(value))
                continue
            if not isinstance(key, str):
                computed = self.value(key, scope)
                if not isinstance(computed, str | int | float) or isinstance(computed, bool):
                    result.set_unknown(Unknown(f"[{_text(key)}]", "a computed key"))
                    continue
                key = str(computed)
            if self.keys is None or key in self.keys:
                result.values[key] = self.value(value, scope)
            else:
                result.values[key] = _NOT_WANTED
        return result

    def lookup(self, node: Name, scope: Scope | None) -> Any:
        unassigned = Unknown(node.name, "no inline script of the page assigns it")
        found = None if scope is None else _binding(node, scope)
        if found is None:
            return unassigned
        (where, assignment), changes = found
        value = self.assigned(where, assignment, node.name)
        if isinstance(value, Unknown) and value.text != node.name:
            value = Unknown(shorten(f"{node.name} = {value.text}"), value.why)
        if not changes:
            return value
        if isinstance(value, Unknown):  # var c = f(); c.key = 'v': that key is known
            value = JSObject(unknown=[value])
        elif not isinstance(value, JSObject):
            return Unknown(node.name, "its keys are set, but it is not an object")
        value = JSObject(dict(value.values), list(value.unknown))
        for change_scope, change in changes:
            if change.kind == MERGE:
                for source in change.values:
                    value.merge(self.value(source, change_scope), _text(source))
            elif self.keys is None or change.key in self.keys:
                assert change.key is not None
                value.values[change.key] = self.value(change.values[0], change_scope)
        return value

    def assigned(self, scope: Scope, assignment: Assignment, name: str) -> Any:
        key = (id(scope.script), assignment.at)
        if key in self.done:
            value = self.done[key]
            return Unknown(name, "assigned from itself") if value is _PENDING else value
        self.done[key] = _PENDING
        value = self.done[key] = self.value(assignment.values[0], scope)
        return value


_PENDING = object()
# How deep names are looked up in one another, and objects read in one another.
_DEPTH = 32
_NOT_WANTED = Unknown("", "not wanted")  # the value of a key not asked for


def evaluate(node: Any, scope: Scope | None = None, keys: frozenset[str] | None = None) -> Any:
    """The value of a tree: str, int, float, bool, None (``null``, ``undefined``),
    JSObject or Unknown; names are looked up in ``scope`` (None: no name is known).
    ``keys``: the only keys of objects whose values are wanted (the others are not read)."""
    if node is None or isinstance(node, str | bool | int | float):
        return node
    return _Evaluation(keys).value(node, scope)


def _text(node: Any) -> str:
    """A short text for a tree, for the report."""
    if isinstance(node, Opaque):
        return node.text
    if isinstance(node, Name):
        return node.name
    if isinstance(node, ObjectNode):
        return "{...}"
    if isinstance(node, Merge):
        return "Object.assign(...)"
    return repr(node)
