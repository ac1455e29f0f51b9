"""Golden files: every hand-made edge case, compared byte for byte with its expected output.

A case is a folder of ``fixtures/cases/``: ``input.*``, the ``expected.*`` page (absent
when the page is left alone), ``outcome.txt``, and optionally ``flags``: the options of
``xdlink build`` it runs with, read by the command line's own parser (``--domains
shop.example,docs.example.org`` unless the flags name domains).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SETTINGS, insertions, source_of, unified_diff
from xdlink import cli
from xdlink.options import COMMAND_LINE, settings_from
from xdlink.page import Outcome, build_page
from xdlink.scan import Placement
from xdlink.settings import Command, Settings

CASES = sorted(path for path in (FIXTURES / "cases").iterdir() if path.is_dir())
DOMAINS = "shop.example,docs.example.org"


def _input(case: Path) -> Path:
    (found,) = case.glob("input.*")
    return found


def settings_of(case: Path) -> Settings:
    """The case's settings, from its ``flags`` file through the real option parser."""
    flags_file = case / "flags"
    flags = shlex.split(flags_file.read_text()) if flags_file.exists() else []
    if not any(flag in ("-d", "--domains") for flag in flags):
        flags = ["--domains", DOMAINS, *flags]
    context = cli.build.make_context("build", [str(case), *flags])
    return settings_from(context.params, Command.BUILD, COMMAND_LINE)


def normalize(outcome: Outcome, data: bytes) -> bytes:
    """The output with the script's static code, its marker and its hash replaced by
    fixed placeholders, so golden files pin every byte of the page and every value
    rendered into the script for the site, but not the script under development (the
    template is pinned by tests/browser/test_script.py)."""
    assert outcome.output is not None
    assert outcome.script is not None
    source = source_of(data)
    script = outcome.script
    body = script.code[: script.code.rindex("})(") + 2]  # the template before its settings
    replacements = [
        (f'data-xdlink="{_marker_value(outcome)}"', 'data-xdlink="{marker}"'),
        (body, "{script}"),
        (script.fingerprint, "{fingerprint}"),
    ]
    output = outcome.output
    for old, new in replacements:
        output = output.replace(source.encode(old), source.encode(new))
    return output


def _marker_value(outcome: Outcome) -> str:
    from xdlink import __version__

    assert outcome.script is not None
    return f"{__version__} {outcome.script.fingerprint}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(case: Path, request: pytest.FixtureRequest) -> None:
    source = _input(case)
    data = source.read_bytes()
    outcome = build_page(data, settings_of(case), xml=source.suffix == ".xhtml")
    summary = f"{outcome.action}: {outcome.reason}\n" if outcome.reason else f"{outcome.action}\n"
    expected_page = case / f"expected{source.suffix}"
    expected_summary = case / "outcome.txt"
    if request.config.getoption("--update-golden"):
        expected_summary.write_text(summary)
        if outcome.output is not None:
            expected_page.write_bytes(normalize(outcome, data))
        else:
            expected_page.unlink(missing_ok=True)
    assert summary == expected_summary.read_text()
    if outcome.output is None:
        assert not expected_page.exists()
        return
    actual = normalize(outcome, data)
    expected = expected_page.read_bytes()
    assert actual == expected, unified_diff(expected, actual)


def test_cases_without_flags_run_with_the_shared_settings() -> None:
    assert settings_of(FIXTURES / "cases" / "plain-html5") == SETTINGS


ELEMENT = re.compile(r"^(\r\n|\n|\r)?[\t ]*<script data-xdlink=\"[^\"]+\">.*</script>$", re.DOTALL)
FAMILIES = ("generators", "frameworks")


def _describe(page: Path, family: str) -> str:
    """Where the element went in one generator page, and the outcome; one line."""
    data = page.read_bytes()
    outcome = build_page(data, SETTINGS, xml=page.suffix == ".xhtml")
    name = page.relative_to(FIXTURES / family).as_posix()
    if outcome.output is None:
        return f"{name}: {outcome.action} ({outcome.reason})"
    offset, span = next(
        (offset, span)
        for offset, span in insertions(data, outcome.output)
        if ELEMENT.match(span.decode("latin-1"))
    )
    lead = span[: span.index(b"<script")]
    before = data[max(0, offset - 40) : offset].decode("latin-1")
    after = data[offset : offset + 30].decode("latin-1")
    rule = "" if outcome.placement is Placement.HEAD else f" ({outcome.placement})"
    return f"{name}: at byte {offset}{rule} with {lead!r}, after {before!r}, before {after!r}"


@pytest.mark.parametrize("family", FAMILIES)
def test_real_pages_get_the_element_where_expected(
    request: pytest.FixtureRequest, family: str
) -> None:
    """Pins the insertion point in every real generator and framework page, byte for byte."""
    pages = sorted((FIXTURES / family).rglob("*.htm*"))
    actual = "".join(_describe(page, family) + "\n" for page in pages)
    golden = FIXTURES / family / "insertions.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    expected = golden.read_text()
    assert actual == expected, unified_diff(expected.encode(), actual.encode())
