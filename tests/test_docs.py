"""The README keeps up with the command line: every option of every command is there."""

from __future__ import annotations

import re

import click
import pytest

from tests.helpers import ROOT
from xdlink.cli import main

README = (ROOT / "README.md").read_text()
COMMANDS = sorted(main.commands)


def test_every_command_is_documented() -> None:
    assert COMMANDS == ["build", "remove", "snippet", "verify"]
    for command in COMMANDS:
        assert f"xdlink {command} " in README, command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_documented(command: str) -> None:
    options = [
        name
        for parameter in main.commands[command].params
        if isinstance(parameter, click.Option)
        for name in parameter.opts
        if name.startswith("--")
    ]
    assert options
    missing = [name for name in options if not re.search(rf"(?<![\w-]){re.escape(name)}\b", README)]
    assert missing == [], f"README lacks {missing} of xdlink {command}"


def test_every_exit_code_is_documented() -> None:
    from xdlink.report import ExitCode

    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", README, re.MULTILINE), code


def test_documented_defaults_match() -> None:
    from xdlink.settings import DEFAULT_PARAM, DEFAULT_TTL, MAX_TTL

    assert f"(default `{DEFAULT_PARAM}`)" in README
    assert f"(default {DEFAULT_TTL}, at most {MAX_TTL})" in README
