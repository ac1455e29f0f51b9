"""The option table (the fields of ``Settings``) made into what each front end needs:
click options, configuration-file keys, plugin settings, and one check of their values."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click

from xdlink.errors import XdlinkError
from xdlink.settings import Command, Settings, Spec

F = TypeVar("F", bound=Callable[..., Any])


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
        """The Python types a configuration value of this option may have."""
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
    """Validated settings from raw values keyed by option name; XdlinkError naming the
    first bad value as its user spelled it. Options the command does not take are left
    at their defaults."""
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
    """The value if it has the option's type (a list becomes a tuple), else XdlinkError."""
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


# --- the command line ------------------------------------------------------------------


def click_options(command: Command) -> Callable[[F], F]:
    """Add the command's options from the table, and ``--config``; the function receives
    them checked, as one ``settings: Settings`` argument. A value the command line leaves
    at its default comes from the configuration file, when there is one."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            explicit: Path | None = kwargs.pop("config")
            given = {option.name: kwargs.pop(option.name) for option in options_of(command)}
            try:
                found = find_configuration(explicit, kwargs.get("site"), Path.cwd())
                values = _with_configuration(given, found, command)
                settings = settings_from(values, command, COMMAND_LINE)
            except XdlinkError as exc:
                raise click.UsageError(str(exc)) from None
            path = str(found.path) if found.path else None
            settings = dataclasses.replace(settings, config=path, config_warnings=found.warnings)
            return function(*args, settings=settings, **kwargs)

        decorated: Callable[..., Any] = CONFIG_OPTION(wrapper)
        for option in reversed(options_of(command)):
            decorated = _click_option(option)(decorated)
        return typing.cast(F, decorated)

    return decorate


CONFIG_OPTION = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read options from this TOML file (default: the nearest xdlink.toml, or "
    "pyproject.toml with [tool.xdlink], from SITE upwards, else from the working directory).",
)


def _with_configuration(
    given: dict[str, Any], found: Configuration, command: Command
) -> dict[str, Any]:
    """The command line's values, where it gave none the configuration file's."""
    context = click.get_current_context()
    values = dict(given)
    for option in options_of(command):
        configured = option.spec.configured
        from_file = option.name in found.values and (configured is None or command in configured)
        source = context.get_parameter_source(option.name)
        if from_file and source in (None, click.core.ParameterSource.DEFAULT):
            values[option.name] = found.values[option.name]
    return values


def _click_option(option: Option) -> Callable[[F], F]:
    names = [option.flag] + ([option.spec.short] if option.spec.short else [])
    settings: dict[str, Any] = {"help": option.spec.help, "metavar": option.spec.metavar}
    if option.kind is Kind.LIST:
        settings["multiple"] = True
    elif option.kind is Kind.FLAG:
        settings["is_flag"] = True
    elif option.kind is Kind.SWITCH:
        names = [f"{option.flag}/--no-{option.flag[2:]}"]
        settings["default"] = None
    elif option.kind is Kind.CHOICE:
        settings["type"] = click.Choice(option.choices)
    elif option.kind is Kind.INT:
        settings["type"] = int
    if option.kind in (Kind.TEXT, Kind.INT, Kind.CHOICE):
        settings["default"] = option.default
        settings["show_default"] = bool(option.default)
    return click.option(*names, option.name, **settings)


# --- configuration files ---------------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    """The configuration file a run uses, its values, and what a user should hear of it."""

    path: Path | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def find_configuration(explicit: Path | None, site: Path | None, cwd: Path) -> Configuration:
    """``--config``; else the nearest file from SITE upwards; else from the working
    directory upwards. A second file that would have been found is named in a warning."""
    if explicit is not None:
        if not explicit.is_file():
            raise XdlinkError(f"configuration file {explicit} not found")
        return Configuration(explicit, read_config(explicit))
    near_site = _nearest(site) if site is not None else (None, ())
    near_cwd = _nearest(cwd)
    path = near_site[0] or near_cwd[0]
    if path is None:
        return Configuration()
    warnings = near_site[1] if near_site[0] else near_cwd[1]
    other = near_cwd[0]
    if near_site[0] and other and other.resolve() != near_site[0].resolve():
        warnings += (f"{other} (from the working directory) is not used: {path} is nearer SITE",)
    return Configuration(path, read_config(path), warnings)


def _nearest(start: Path) -> tuple[Path | None, tuple[str, ...]]:
    """The configuration file nearest ``start`` upwards, and a warning if its folder has
    two (xdlink.toml wins over [tool.xdlink])."""
    for folder in (start, *start.resolve().parents):
        found = [
            path
            for path in (folder / "xdlink.toml", folder / "pyproject.toml")
            if _configures(path)
        ]
        if len(found) == 2:
            return found[0], (
                f"both {found[0]} and {found[1]} [tool.xdlink] configure xdlink: using {found[0]}",
            )
        if found:
            return found[0], ()
    return None, ()


def _configures(path: Path) -> bool:
    if not path.is_file():
        return False
    return path.name == "xdlink.toml" or "xdlink" in _load_toml(path).get("tool", {})


def read_config(path: Path) -> dict[str, Any]:
    """Option values from one configuration file, keyed by option name, type-checked."""
    data = _load_toml(path)
    table = data.get("tool", {}).get("xdlink", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise XdlinkError(f"{path}: [tool.xdlink] must be a table")
    by_name = {option.name: option for option in OPTIONS}
    values: dict[str, Any] = {}
    for key, value in table.items():
        option = by_name.get(key.replace("-", "_"))
        if option is None:
            known = ", ".join(sorted(by_name))
            raise XdlinkError(f"{path}: unknown setting {key!r} (known: {known})")
        values[option.name] = typed(option, value, f"{path}: {key}")
    return values


def _load_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here: most runs read no configuration file

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise XdlinkError(f"cannot read configuration {path}: {exc}") from None


__all__ = [
    "COMMAND_LINE",
    "OPTIONS",
    "Kind",
    "Option",
    "Spelling",
    "click_options",
    "find_configuration",
    "options_of",
    "read_config",
    "settings_from",
]
