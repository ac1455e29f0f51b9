"""The option table, read from the fields of ``Settings``, and the one check of option
values that every front end shares: the command line (``cli_options``), configuration
files (``config``) and the generator plugins (``integrations``)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from xdlink.errors import XdlinkError
from xdlink.settings import Command, Settings, Spec


class Kind(Enum):
    """The shape of an option's value, read from its field's type."""

    TEXT = "a string"
    INT = "an integer"
    FLAG = "true or false"
    SWITCH = "true, false or unset"
    LIST = "a string or a list of strings"
    CHOICE = "one of"


@dataclass(frozen=True)
class Option:
    name: str
    kind: Kind
    default: Any
    optional: bool
    spec: Spec
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def python_types(self) -> frozenset[type]:
        """Return the Python types a configuration value of this option may have."""
        kinds: dict[Kind, set[type]] = {
            Kind.TEXT: {str},
            Kind.CHOICE: {str},
            Kind.INT: {int},
            Kind.FLAG: {bool},
            Kind.SWITCH: {bool},
            Kind.LIST: {list, tuple, str},
        }
        return frozenset(kinds[self.kind] | ({type(None)} if self.optional else set()))


def _option(field: dataclasses.Field[Any], hint: Any) -> Option:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    optional = union and type(None) in typing.get_args(hint)
    base = next(arg for arg in typing.get_args(hint) if arg is not type(None)) if optional else hint
    if typing.get_origin(base) is typing.Literal:
        kind, choices = Kind.CHOICE, tuple(typing.get_args(base))
    else:
        simple = {str: Kind.TEXT, int: Kind.INT, bool: Kind.SWITCH if optional else Kind.FLAG}
        kind, choices = simple.get(base, Kind.LIST), ()
    return Option(field.name, kind, field.default, optional, field.metadata["xdlink"], choices)


def _table() -> tuple[Option, ...]:
    hints = typing.get_type_hints(Settings)
    return tuple(
        _option(field, hints[field.name])
        for field in dataclasses.fields(Settings)
        if "xdlink" in field.metadata
    )


OPTIONS = _table()


def options_of(command: Command) -> tuple[Option, ...]:
    return tuple(option for option in OPTIONS if command in option.spec.commands)


# --- one check of the values ------------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """How the user names options where the values come from: ``--ttl`` on the command
    line, ``xdlink_ttl`` in Sphinx's conf.py, ``ttl`` in a file or a plugin config."""

    prefix: str = ""
    dashes: bool = False
    verb: str = "set"

    def name(self, option: Option) -> str:
        return self.prefix + (option.name.replace("_", "-") if self.dashes else option.name)


COMMAND_LINE = Spelling("--", dashes=True, verb="pass")


def settings_from(
    values: Mapping[str, Any], command: Command, spelling: Spelling = Spelling()
) -> Settings:
    """Return validated settings from raw values keyed by option name, or raise XdlinkError
    naming the first bad value as its user spelled it. Options the command does not take
    are left at their defaults."""
    checked: dict[str, Any] = {}
    notices: list[str] = []
    for option in options_of(command):
        value = values.get(option.name, option.default)
        value = typed(option, value, spelling.name(option))
        if value is not None and option.spec.check is not None:
            value = _checked(option, value, spelling)
        if command in option.spec.required and not value:
            example = f" {option.spec.example}" if spelling is COMMAND_LINE else ""
            raise XdlinkError(
                f"no {option.name} given: {spelling.verb} {spelling.name(option)}{example}"
            )
        if option.spec.notices is not None and value:
            notices.extend(option.spec.notices(values.get(option.name)))
        checked[option.name] = value
    return Settings(**checked, notices=tuple(notices))


def typed(option: Option, value: Any, name: str) -> Any:
    """Return the value if it has the option's type (a list becomes a tuple); otherwise
    raise XdlinkError."""
    if value is None and option.optional:
        return None
    if option.kind is Kind.LIST:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise XdlinkError(f"{name} must be a string or a list of strings")
    if option.kind is Kind.CHOICE:
        if value not in option.choices:
            raise XdlinkError(f"{name} must be one of {', '.join(map(repr, option.choices))}")
        return value
    expected: type = {Kind.INT: int, Kind.TEXT: str}.get(option.kind, bool)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        kind = type(value).__name__
        raise XdlinkError(f"{name} must be of type {expected.__name__}, not {kind}")
    return value


def _checked(option: Option, value: Any, spelling: Spelling) -> Any:
    assert option.spec.check is not None
    try:
        return option.spec.check(value)
    except ValueError as exc:
        shown = ", ".join(map(repr, value)) if option.kind is Kind.LIST else repr(value)
        raise XdlinkError(f"invalid {spelling.name(option)} {shown}: {exc}") from None


__all__ = [
    "COMMAND_LINE",
    "OPTIONS",
    "Kind",
    "Option",
    "Spelling",
    "options_of",
    "settings_from",
    "typed",
]
