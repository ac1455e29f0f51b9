"""The package installs as the README's Install section says: a wheel built from a
checkout, with its template, its licence and complete metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import ROOT


def test_a_wheel_from_the_checkout_installs_and_runs(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", ROOT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("xdlink-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "xdlink/templates/xdlink.js.j2" in names
    assert any(name.endswith("/licenses/LICENSE") for name in names)
    for field in ("License-Expression: MIT", "Requires-Python: >=3.11", "Classifier: "):
        assert field in metadata
    assert "Description-Content-Type: text/markdown" in metadata
    assert "## Install" in metadata  # the README is the long description

    target = tmp_path / "installed"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, wheel],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    # The dependencies come from this environment; the package from the wheel alone.
    environment = {**os.environ, "PYTHONPATH": str(target)}
    snippet = subprocess.run(
        [sys.executable, "-m", "xdlink", "snippet", "-d", "a.example"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert snippet.returncode == 0, snippet.stderr
    assert snippet.stdout.startswith("<script data-xdlink=")
    where = subprocess.run(
        [sys.executable, "-c", "import xdlink; print(xdlink.__file__)"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))
