"""The Content-Security-Policy a site ships outside its HTML: the header files of Netlify,
Cloudflare Pages and Vercel, read for the policies that cover each page, and edited to
allow the script's hashes (``--update-csp``) or no longer (``xdlink remove``). Their
Referrer-Policy is read too, never edited: a form follows it (see ``links``).

- ``_headers`` at the site's root (Netlify, Cloudflare Pages): a line holding a path
  pattern, then indented ``Name: value`` lines; ``#`` starts a comment line; a
  Cloudflare ``! Name`` line takes a header of an earlier rule off the pages it covers.
- ``netlify.toml``: ``[[headers]]`` tables with ``for`` (a pattern) and ``[headers.values]``.
- ``vercel.json``: ``headers``, a list of ``{"source": pattern, "headers": [{"key", "value"}]}``.

The two files of the repository (netlify.toml, vercel.json) are looked for in SITE and its
parents, up to the folder that holds ``.git``. Headers of every rule that covers a page
apply to it: several Content-Security-Policy values are several policies, and a script
runs only where each allows it.

Edits are byte-careful: a hash is inserted into, or taken out of, the text of one header
value, and nothing else of the file changes (a TOML or JSON string with escapes in it is
written again in the same kind of string, escaped as needed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xdlink import csp
from xdlink.errors import XdlinkError
from xdlink.files import read_page, replace_file
from xdlink.links import BLOCKING_POLICIES, REFERRER_POLICIES

CSP_HEADER = "content-security-policy"
REFERRER_HEADER = "referrer-policy"
HEADERS = "_headers"
NETLIFY = "netlify.toml"
VERCEL = "vercel.json"
# The directives that govern an inline <script>, in the order CSP3 falls back.
SCRIPT_DIRECTIVES = ("script-src-elem", "script-src", "default-src")


# --- the rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One Content-Security-Policy value of a header file, and where its text stands."""

    text: str  # the header value, as the server sends it
    start: int  # the span of its literal in the file's text: the raw value in _headers,
    end: int  # the quoted string in netlify.toml and vercel.json


@dataclass(frozen=True)
class Rule:
    """A path pattern of a header file and the policies it sets on the pages it covers."""

    file: int  # the index of its file among the files found
    pattern: str
    regex: re.Pattern[str]
    values: tuple[Value, ...] = ()
    detaches: bool = False  # a Cloudflare "! Content-Security-Policy" line
    referrer: tuple[str, ...] = ()  # its Referrer-Policy values
    referrer_detaches: bool = False  # a Cloudflare "! Referrer-Policy" line

    def covers(self, paths: Iterable[str]) -> bool:
        return any(self.regex.fullmatch(path) for path in paths)


@dataclass
class HeaderFile:
    """A header file of the site, read; ``text`` changes as hashes go in and out."""

    path: Path
    kind: str  # HEADERS, NETLIFY or VERCEL
    text: str
    rules: list[Rule] = field(default_factory=list)
    before: os.stat_result | None = None
    bom: bool = False

    @property
    def name(self) -> str:
        """The file as the report names it: from the working directory where it can."""
        try:
            relative = os.path.relpath(self.path)
        except ValueError:  # another drive
            return str(self.path)
        return str(self.path) if relative.startswith(".." + os.sep + "..") else relative


_UNCHECKED = "its Content-Security-Policy and Referrer-Policy are not checked"


def find(site: Path, strict: bool = False) -> tuple[list[HeaderFile], list[str]]:
    """Return the header files that hold a Content-Security-Policy or a Referrer-Policy for
    the site's pages, and notices of those that cannot be read (XdlinkError instead when
    ``strict``: they are to be edited)."""
    found, unread = [], []
    candidates = [site / HEADERS, *_repository_file(site, NETLIFY), *_repository_file(site, VERCEL)]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            header_file = read(path)
        except XdlinkError as exc:
            if strict:
                raise
            unread.append(f"{exc}: {_UNCHECKED}")
            continue
        if any(rule.values or rule.detaches or rule.referrer for rule in header_file.rules):
            found.append(header_file)
    for index, header_file in enumerate(found):
        header_file.rules = [_in_file(rule, index) for rule in header_file.rules]
    return found, unread


def _in_file(rule: Rule, index: int) -> Rule:
    return dataclasses.replace(rule, file=index)


def _repository_file(site: Path, name: str) -> Iterator[Path]:
    """Return the nearest ``name`` from SITE upwards, not above the repository's root."""
    for folder in (site, *site.resolve().parents):
        if (folder / name).is_file():
            yield folder / name
            return
        if (folder / ".git").exists():
            return


def read(path: Path) -> HeaderFile:
    """Read a header file and its rules, or raise XdlinkError if it cannot be read."""
    try:
        data, before = read_page(str(path))
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise XdlinkError(f"cannot read {path}: {exc}") from None
    kind = path.name if path.name in (NETLIFY, VERCEL) else HEADERS
    header_file = HeaderFile(path, kind, text, before=before, bom=data.startswith(b"\xef\xbb\xbf"))
    header_file.rules = list(_rules(kind, text, path))
    return header_file


def _rules(kind: str, text: str, path: Path) -> Iterator[Rule]:
    if kind == HEADERS:
        return _headers_rules(text)
    if kind == NETLIFY:
        return _netlify_rules(text, path)
    return _vercel_rules(text, path)


# --- _headers --------------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def _headers_rules(text: str) -> Iterator[Rule]:
    rule: Rule | None = None
    for match in _LINE.finditer(text):
        line = match.group().rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] not in " \t":
            if rule is not None:
                yield rule
            rule = Rule(-1, stripped, _netlify_regex(stripped))
        elif rule is not None:
            rule = _with_header_line(rule, line, match.start())
    if rule is not None:
        yield rule


def _with_header_line(rule: Rule, line: str, start: int) -> Rule:
    """The rule with one indented line of _headers read: a header it sets or detaches."""
    head, colon, rest = line.partition(":")
    name = head.strip().lower()
    if name.startswith("!"):
        detached = name[1:].strip()
        if detached == CSP_HEADER:
            return dataclasses.replace(rule, detaches=True)
        if detached == REFERRER_HEADER:
            return dataclasses.replace(rule, referrer_detaches=True)
        return rule
    value = rest.strip()
    if colon and name == REFERRER_HEADER:
        return dataclasses.replace(rule, referrer=(*rule.referrer, value))
    if not colon or name != CSP_HEADER:
        return rule
    at = start + len(head) + 1 + len(rest) - len(rest.lstrip())
    return dataclasses.replace(rule, values=(*rule.values, Value(value, at, at + len(value))))


def _netlify_regex(pattern: str) -> re.Pattern[str]:
    """Return the regular expression of a path pattern of Netlify and Cloudflare Pages:
    ``*`` (a splat) matches anything, ``:name`` one path segment; a full URL's host is
    left out."""
    path = re.sub(r"^https?://[^/]*", "", pattern) or "/"
    out = []
    for piece in re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", path):
        if piece == "*":
            out.append(".*")
        elif piece.startswith(":") and len(piece) > 1:
            out.append("[^/]+")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


# --- netlify.toml ----------------------------------------------------------------------

_TOML_KEY = re.compile(
    r"(?:^|(?<=[{,]))[ \t]*(?:\"content-security-policy\"|'content-security-policy'"
    r"|content-security-policy)[ \t]*=[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)


def _netlify_rules(text: str, path: Path) -> Iterator[Rule]:
    try:
        data = _toml(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise XdlinkError(f"cannot read {path}: {exc}") from None
    tables = data.get("headers", [])
    if not isinstance(tables, list):
        return
    found = _toml_values(text)
    wanted: list[tuple[str, list[str], tuple[str, ...]]] = []
    for table in tables:
        if not isinstance(table, dict) or not isinstance(table.get("for"), str):
            continue
        values = table.get("values", {})
        pairs = [
            (key.lower(), value)
            for key, value in (values.items() if isinstance(values, dict) else ())
            if isinstance(value, str)
        ]
        policies = [value for key, value in pairs if key == CSP_HEADER]
        referrer = tuple(value for key, value in pairs if key == REFERRER_HEADER)
        wanted.append((table["for"], policies, referrer))
    every = [policy for _, policies, _ in wanted for policy in policies]
    if [value.text for value in found] != every:
        # Read all the same; such a value cannot be edited (see _edit_literal).
        found = [Value(policy, -1, -1) for policy in every]
    position = 0
    for pattern, policies, referrer in wanted:
        values = tuple(found[position : position + len(policies)])
        position += len(policies)
        yield Rule(-1, pattern, _netlify_regex(pattern), values, referrer=referrer)


def _toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, imported here: most sites have no netlify.toml, and the import
    (with the datetime module it brings) is about 9 ms of every run's start. Its
    TOMLDecodeError is a ValueError."""
    import tomllib

    return tomllib.loads(text)


def _toml_values(text: str) -> list[Value]:
    values = []
    for key in _TOML_KEY.finditer(text):
        end = _toml_string_end(text, key.end())
        if end is None:
            continue
        literal = text[key.end() : end]
        try:
            value = _toml(f"v = {literal}")["v"]
        except ValueError:
            continue
        values.append(Value(value, key.end(), end))
    return values


def _toml_string_end(text: str, start: int) -> int | None:
    """Return where the TOML string that starts at ``start`` ends (after its closing quotes)."""
    for quote in ('"""', "'''", '"', "'"):
        if text.startswith(quote, start):
            break
    else:
        return None
    position = start + len(quote)
    while position < len(text):
        if quote[0] == '"' and text[position] == "\\":
            position += 2
            continue
        if text.startswith(quote, position):
            end = position + len(quote)
            if len(quote) == 3:  # up to two quotes may stand right before the closing ones
                while end < len(text) and text[end] == quote[0] and end - position < 5:
                    end += 1
            return end
        if len(quote) == 1 and text[position] in "\r\n":
            return None
        position += 1
    return None


# --- vercel.json -----------------------------------------------------------------------


class _Str(str):
    """A JSON string that knows where its literal stands in the text."""

    span: tuple[int, int]


_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"')
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


def _json(text: str, path: Path) -> Any:
    """Return the JSON value with the span of every string, or raise XdlinkError if the
    text is not JSON."""
    try:
        json.loads(text)
        value, _ = _json_value(text, _skip(text, 0))
    except (ValueError, IndexError) as exc:
        raise XdlinkError(f"cannot read {path}: {exc}") from None
    return value


def _json_value(text: str, position: int) -> tuple[Any, int]:
    char = text[position]
    if char == '"':
        match = _JSON_STRING.match(text, position)
        if match is None:
            raise ValueError(f"bad string at {position}")
        string = _Str(json.loads(match.group()))
        string.span = (match.start(), match.end())
        return string, match.end()
    if char in "[{":
        closing = "]" if char == "[" else "}"
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        position = _skip(text, position + 1)
        while text[position] != closing:
            if char == "{":
                key, position = _json_value(text, position)
                position = _skip(text, _skip(text, position) + 1)  # the colon
                pairs[key], position = _json_value(text, position)
            else:
                item, position = _json_value(text, position)
                items.append(item)
            position = _skip(text, position)
            if text[position] == ",":
                position = _skip(text, position + 1)
        return (pairs if char == "{" else items), position + 1
    match = _JSON_SCALAR.match(text, position)
    if match is None:
        raise ValueError(f"bad value at {position}")
    return json.loads(match.group()), match.end()


def _skip(text: str, position: int) -> int:
    return _JSON_SPACE.match(text, position).end()  # type: ignore[union-attr]


def _vercel_rules(text: str, path: Path) -> Iterator[Rule]:
    data = _json(text, path)
    entries = data.get("headers", []) if isinstance(data, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            continue
        values, referrer = [], []
        for header in entry.get("headers", []) or []:
            if not isinstance(header, dict):
                continue
            key, value = header.get("key"), header.get("value")
            if not isinstance(key, str) or not isinstance(value, _Str):
                continue
            if key.lower() == CSP_HEADER:
                values.append(Value(str(value), *value.span))
            elif key.lower() == REFERRER_HEADER:
                referrer.append(str(value))
        source = str(entry["source"])
        yield Rule(-1, source, _vercel_regex(source), tuple(values), referrer=tuple(referrer))


def _vercel_regex(source: str) -> re.Pattern[str]:
    """Return the regular expression of a ``source`` of vercel.json (path-to-regexp):
    ``:name`` one segment, ``:name*`` any number, ``:name+`` one or more, ``:name?``
    optional, ``(regex)`` as written; case does not matter, and a trailing slash may
    follow."""
    token = re.compile(r"(/?):([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?([*+?]?)|(\([^)]*\))([*+?]?)")
    out: list[str] = []
    position = 0
    for match in token.finditer(source):
        out.append(re.escape(source[position : match.start()]))
        position = match.end()
        if match.group(2) is not None:
            slash, inner, modifier = match.group(1), match.group(3), match.group(4)
            segment = f"(?:{inner[1:-1]})" if inner else "[^/]+"
            if modifier in ("*", "+"):
                repeated = f"(?:{re.escape(slash)}{segment})"
                out.append(repeated + modifier)
            elif modifier == "?":
                out.append(f"(?:{re.escape(slash)}{segment})?")
            else:
                out.append(re.escape(slash) + segment)
        else:
            out.append(f"(?:{match.group(5)[1:-1]}){match.group(6)}")
    out.append(re.escape(source[position:]))
    return re.compile("".join(out).rstrip("/") + "/?", re.IGNORECASE)


# --- which rules cover a page, and whether they let the script run ---------------------


def served_paths(relative: str) -> tuple[str, ...]:
    """Return the URL paths a page of the site is served under (index pages under their folder,
    pages under their name without ``.html`` too, as the hosts do)."""
    path = "/" + relative
    name = posixpath.basename(relative)
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in ("html", "htm"):
        return (path,)
    if stem == "index":
        folder = path[: -len(name)]
        return (path, folder, folder.rstrip("/") or "/", path[: -len(suffix) - 1])
    return (path, path[: -len(suffix) - 1])


def covering(rules: tuple[Rule, ...], relative: str) -> tuple[int, ...]:
    """Return the indices of the rules with a policy that cover the page (none where a rule
    detaches the header)."""
    paths = served_paths(relative)
    found = [index for index, rule in enumerate(rules) if rule.covers(paths)]
    if any(rules[index].detaches for index in found):
        return ()
    return tuple(index for index in found if rules[index].values)


def referrer_blocks(rules: tuple[Rule, ...], relative: str) -> bool:
    """Return whether the rules' Referrer-Policy headers on the page send no referrer to
    another origin."""
    return referrer_policy(rules, relative) in BLOCKING_POLICIES


def referrer_policy(rules: tuple[Rule, ...], relative: str) -> str:
    """Return the referrer policy the rules' Referrer-Policy headers set on the page, as a
    browser reads the header: its values in order, one list, the last policy it knows in
    any ASCII case wins ("" when none: the browser's default)."""
    paths = served_paths(relative)
    covering = [r for r in rules if (r.referrer or r.referrer_detaches) and r.covers(paths)]
    if any(rule.referrer_detaches for rule in covering):
        return ""
    values = ",".join(value for rule in covering for value in rule.referrer)
    tokens = [token.strip(" \t").lower() for token in values.split(",")]
    return next((token for token in reversed(tokens) if token in REFERRER_POLICIES), "")


def policies(value: str) -> list[str]:
    """Return the policies of one header value: a comma separates them."""
    return [policy for policy in value.split(",") if policy.strip()]


def blocks(rule: Rule, csp_hash: str | None, external: bool) -> bool:
    """Return whether the rule's policies refuse the script: inline, unless each allows its
    hash; from a file (``--external``), unless each allows 'self'."""
    every = [policy for value in rule.values for policy in policies(value.text)]
    if external or csp_hash is None:
        return not csp.allows_self(every) or any(_strict_dynamic(policy) for policy in every)
    return any(csp.policy_blocks(policy, csp_hash) for policy in every)


def _strict_dynamic(policy: str) -> bool:
    directive = _script_directive(policy)
    return directive is not None and "'strict-dynamic'" in directive[2].lower().split()


# --- editing policies ------------------------------------------------------------------


Edit = tuple[int, int, str]  # (start, end, replacement) in a header value


def _directives(policy: str, offset: int) -> Iterator[tuple[str, int, str]]:
    """Return (name, where its sources end, its text) of each directive of one policy."""
    position = offset
    for piece in policy.split(";"):
        words = piece.split()
        if words:
            end = position + len(piece.rstrip())
            yield words[0].lower(), end, piece
        position += len(piece) + 1


def _script_directive(policy: str, offset: int = 0) -> tuple[str, int, str] | None:
    found: dict[str, tuple[str, int, str]] = {}
    for directive in _directives(policy, offset):
        found.setdefault(directive[0], directive)
    return next((found[name] for name in SCRIPT_DIRECTIVES if name in found), None)


def _policy_spans(value: str) -> Iterator[tuple[int, str]]:
    position = 0
    for policy in value.split(","):
        yield position, policy
        position += len(policy) + 1


def adding(value: str, hashes: Iterable[str]) -> list[Edit]:
    """Return edits that add each hash a policy of ``value`` blocks to the directive that
    governs inline scripts there (script-src-elem, else script-src, else default-src)."""
    edits = []
    for offset, policy in _policy_spans(value):
        directive = _script_directive(policy, offset)
        if directive is None:
            continue
        missing = [digest for digest in hashes if csp.policy_blocks(policy, digest)]
        if missing:
            edits.append((directive[1], directive[1], "".join(f" {d}" for d in missing)))
    return edits


def removing(value: str, hashes: Iterable[str]) -> list[Edit]:
    """Return edits that take every source equal to one of ``hashes`` out, with the space before."""
    wanted = set(hashes)
    return [
        (match.start(), match.end(), "")
        for match in re.finditer(r"[ \t\r\n]*('sha256-[A-Za-z0-9+/=_-]+')", value)
        if match.group(1) in wanted
    ]


def _apply(value: str, edits: list[Edit]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        value = value[:start] + replacement + value[end:]
    return value


def edit(header_file: HeaderFile, changes: dict[Value, list[Edit]]) -> str:
    """Return the file's text with the edits made to its values."""
    text = header_file.text
    for value, edits in sorted(changes.items(), key=lambda item: -item[0].start):
        if value.start < 0:
            raise XdlinkError(
                "cannot find its Content-Security-Policy values in its text: write each as "
                '`Content-Security-Policy = "..."` in [headers.values]'
            )
        literal = text[value.start : value.end]
        replaced = _edit_literal(header_file.kind, literal, value.text, edits)
        text = text[: value.start] + replaced + text[value.end :]
    try:  # never write a file the host cannot read
        if header_file.kind == NETLIFY:
            _toml(text)
        elif header_file.kind == VERCEL:
            json.loads(text)
    except ValueError as exc:
        raise XdlinkError(f"the edit would break it ({exc})") from None
    return text


def _edit_literal(kind: str, literal: str, value: str, edits: list[Edit]) -> str:
    """Return the literal of a header value with the edits made: in place where the literal holds
    the value as it is; else written again in the same kind of string."""
    new = _apply(value, edits)
    if kind == HEADERS:
        return new
    body_start = _verbatim_body(kind, literal, value)
    if body_start is not None:
        shifted = [(start + body_start, end + body_start, text) for start, end, text in edits]
        candidate = _apply(literal, shifted)
        if _decodes_to(kind, candidate, new):
            return candidate
    return json.dumps(new)  # a JSON string is a TOML basic string too, for these values


def _verbatim_body(kind: str, literal: str, value: str) -> int | None:
    """Return where the value starts in its literal when the literal holds it unescaped."""
    for quote in ('"""', "'''", '"', "'") if kind == NETLIFY else ('"',):
        if literal.startswith(quote):
            body = literal[len(quote) : len(literal) - len(quote)]
            start = len(quote)
            if len(quote) == 3 and body.startswith(("\r\n", "\n")):
                start += 2 if body.startswith("\r\n") else 1
            if quote[0] == '"' and "\\" in body:
                return None
            return start if literal[start : start + len(value)] == value else None
    return None


def _decodes_to(kind: str, literal: str, value: str) -> bool:
    try:
        if kind == NETLIFY:
            return bool(_toml(f"v = {literal}")["v"] == value)
        return bool(json.loads(literal) == value)
    except ValueError:
        return False


def write(header_file: HeaderFile, text: str) -> None:
    data = ("\ufeff" if header_file.bom else "").encode() + text.encode("utf-8")
    assert header_file.before is not None
    replace_file(str(header_file.path), data, header_file.before)
