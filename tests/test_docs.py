"""The documentation keeps up with the command line and with itself.

docs/cli.md names every command, option and exit code; the README is the overview that
links to every page of docs/, keeps the two commands a newcomer runs, and stays short;
every relative link in the README and docs/ leads to a file and heading that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tests.helpers import ROOT
from xdlink.cli import main

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
CLI = (DOCS / "cli.md").read_text()
COMMANDS = sorted(main.commands)
# About five minutes of reading, code blocks aside.
README_WORDS = 1200


def test_every_command_is_documented() -> None:
    assert COMMANDS == ["build", "remove", "snippet", "verify"]
    for command in COMMANDS:
        assert f"xdlink {command} " in CLI, command


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
    missing = [name for name in options if not re.search(rf"(?<![\w-]){re.escape(name)}\b", CLI)]
    assert missing == [], f"docs/cli.md lacks {missing} of xdlink {command}"


def test_every_exit_code_is_documented() -> None:
    from xdlink.report import ExitCode

    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", CLI, re.MULTILINE), code


def test_documented_defaults_match() -> None:
    from xdlink.settings import DEFAULT_PARAM, DEFAULT_TTL, MAX_TTL

    assert f"(default `{DEFAULT_PARAM}`)" in CLI
    assert f"(default {DEFAULT_TTL}, at most {MAX_TTL})" in CLI


# --- the README as the overview ------------------------------------------------------------


def outside_code(text: str) -> str:
    """The text without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def links(path: Path) -> list[str]:
    """The targets of the inline Markdown links in a file, code blocks aside."""
    return re.findall(r"\]\(([^)\s]+)\)", outside_code(path.read_text()))


def test_every_docs_page_is_linked_from_the_readme() -> None:
    assert len(PAGES) > 1
    linked = {target.split("#")[0] for target in links(README)}
    missing = [page.name for page in PAGES if f"docs/{page.name}" not in linked]
    assert missing == [], f"the README links to no {missing}"


def test_the_readme_keeps_the_two_commands_of_a_fresh_machine() -> None:
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    assert "make example" in commands
    assert "make test" in commands
    targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert {"example", "test"} <= set(targets)


def test_the_readme_reads_in_five_minutes() -> None:
    words = len(outside_code(README.read_text()).split())
    assert words <= README_WORDS, f"the README has {words} words outside its code blocks"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", outside_code(path.read_text()), re.MULTILINE)
    return {slug(heading) for heading in headings}


def resolves(path: Path, target: str) -> bool:
    """Whether a relative link in `path` leads to a file, and to a heading of it if named."""
    file, _, anchor = target.partition("#")
    linked = (path.parent / file).resolve() if file else path
    if not linked.exists():
        return False
    return not anchor or (linked.suffix == ".md" and anchor in anchors(linked))


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda path: path.name)
def test_every_relative_link_resolves(path: Path) -> None:
    relative = [target for target in links(path) if not re.match(r"[a-z]+:", target)]
    broken = [target for target in relative if not resolves(path, target)]
    assert broken == [], f"{path.name} links to what does not exist"


def test_a_missing_file_or_heading_is_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# `xdlink verify`: proof\n\n[a](#xdlink-verify-proof) [b](#no) [c](no.md)\n")
    assert links(page) == ["#xdlink-verify-proof", "#no", "no.md"]
    assert [resolves(page, target) for target in links(page)] == [True, False, False]
