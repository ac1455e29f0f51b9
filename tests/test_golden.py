"""Golden files: every hand-made edge case, compared byte for byte with its expected output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SETTINGS, insertions, normalize, unified_diff
from xdlink.page import build_page

CASES = sorted(path for path in (FIXTURES / "cases").iterdir() if path.is_dir())


def _input(case: Path) -> Path:
    (found,) = case.glob("input.*")
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(case: Path, request: pytest.FixtureRequest) -> None:
    source = _input(case)
    data = source.read_bytes()
    outcome = build_page(data, SETTINGS, xml=source.suffix == ".xhtml")
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


ELEMENT = re.compile(r"^(\r\n|\n|\r)?[\t ]*<script data-xdlink=\"[^\"]+\">.*</script>$", re.DOTALL)
GENERATED = sorted((FIXTURES / "generators").rglob("*.htm*"))
INSERTIONS = FIXTURES / "generators" / "insertions.txt"


def _describe(page: Path) -> str:
    """Where the element went in one generator page, and the outcome; one line."""
    data = page.read_bytes()
    outcome = build_page(data, SETTINGS, xml=page.suffix == ".xhtml")
    name = page.relative_to(FIXTURES / "generators").as_posix()
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
    return f"{name}: at byte {offset} with {lead!r}, after {before!r}, before {after!r}"


def test_generator_pages_get_the_element_where_expected(request: pytest.FixtureRequest) -> None:
    """Pins the insertion point in every real generator page, byte for byte."""
    actual = "".join(_describe(page) + "\n" for page in GENERATED)
    if request.config.getoption("--update-golden"):
        INSERTIONS.write_text(actual)
    expected = INSERTIONS.read_text()
    assert actual == expected, unified_diff(expected.encode(), actual.encode())
