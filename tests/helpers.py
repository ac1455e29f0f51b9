"""Shared test helpers: standard settings, block normalisation, splice inspection."""

from __future__ import annotations

import difflib
from pathlib import Path

# Re-exported: the tests import these from here.
from tools.htmlcheck import PAGE_SUFFIXES, head_scripts, insertions  # noqa: F401
from tools.htmlcheck import common_prefix as _common_prefix  # noqa: F401
from tools.htmlcheck import walk_outside as _walk_outside  # noqa: F401
from xdlink.api import make_settings
from xdlink.source import Source, read_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SETTINGS = make_settings(["shop.example,docs.example.org"])


def fixture_pages() -> list[Path]:
    """Every page under fixtures/, generator output and hand-made cases alike."""
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.suffix in PAGE_SUFFIXES
        and path.is_file()
        and "expected" not in path.name
        and "generators-src" not in path.parts
        and "frameworks-src" not in path.parts
    )


def source_of(data: bytes) -> Source:
    source = read_source(data)
    assert isinstance(source, Source), source
    return source


def unified_diff(expected: bytes, actual: bytes) -> str:
    old = expected.decode("latin-1").splitlines(keepends=True)
    new = actual.decode("latin-1").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, "expected", "actual"))
