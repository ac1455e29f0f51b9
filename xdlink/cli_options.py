"""The option table as click options: each command's flags, and ``--config``, made from
``Settings`` so that the command line, configuration files and plugins agree."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from xdlink.config import Configuration, find_configuration
from xdlink.errors import XdlinkError
from xdlink.options import COMMAND_LINE, Kind, Option, options_of, settings_from
from xdlink.settings import Command

F = TypeVar("F", bound=Callable[..., Any])


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
    """Return the command line's values, where it gave none the configuration file's."""
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


__all__ = ["click_options"]
