"""Golden files: every hand-made edge case, compared byte for byte with its expected output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SETTINGS, normalize, unified_diff
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
