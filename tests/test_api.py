"""The Python API: the same runs as the command line, as calls that return a Report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import xdlink
from tests.helpers import FIXTURES


def test_build_check_and_remove(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "example", site)
    original = (site / "index.html").read_bytes()
    settings = xdlink.make_settings(["shop.example", "docs.example.org"])

    checked = xdlink.build(site, settings, check=True)
    assert checked.return_code is xdlink.ExitCode.WOULD_CHANGE
    assert (site / "index.html").read_bytes() == original

    report = xdlink.build(site, settings)
    assert report.return_code is xdlink.ExitCode.OK
    assert report.counts["injected"] == 2
    assert str(report).startswith("3 pages seen, 2 injected")

    removed = xdlink.remove(site)
    assert removed.counts["removed"] == 2
    assert (site / "index.html").read_bytes() == original


def test_bad_values_raise_xdlink_error(tmp_path: Path) -> None:
    with pytest.raises(xdlink.XdlinkError, match="invalid domain 'not a host'"):
        xdlink.make_settings(["not a host"])
    with pytest.raises(xdlink.XdlinkError, match="does not exist"):
        xdlink.build(tmp_path / "missing", xdlink.make_settings(["a.example"]))
