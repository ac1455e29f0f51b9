"""Faults, the way storage tools test them: kills, full disks, read-only folders, races.

After each, every page must hold its old bytes or its new bytes, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SETTINGS
from xdlink.files import TEMP_PREFIX
from xdlink.page import build_page

DOMAINS = ",".join(SETTINGS.domains)
SOURCES = sorted((FIXTURES / "generators").rglob("*.html"))


def make_tree(root: Path, copies: int) -> dict[Path, tuple[bytes, bytes]]:
    """A tree of real generator pages; for each page, (old bytes, expected new bytes)."""
    expected: dict[Path, tuple[bytes, bytes]] = {}
    for copy in range(copies):
        for index, source in enumerate(SOURCES):
            target = root / f"c{copy}" / f"{index:03}-{source.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            target.write_bytes(data)
            built = build_page(data, SETTINGS).output
            expected[target] = (data, data if built is None else built)
    return expected


def xdlink(*args: str, without_root_powers: bool = False) -> subprocess.Popen[bytes]:
    """Run the CLI; ``without_root_powers``: as root that file permissions bind."""
    prefix = []
    if without_root_powers:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "xdlink", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def assert_old_or_new(expected: dict[Path, tuple[bytes, bytes]]) -> None:
    for path, (old, new) in expected.items():
        assert path.read_bytes() in (old, new), path


def temporaries(root: Path) -> list[Path]:
    return list(root.rglob(f"{TEMP_PREFIX}*"))


def _wait_for_group_to_go(group: int) -> None:
    """The workers die a moment after the parent; their temporary files are stale after."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process group {group} still alive")


def _build(site: Path) -> tuple[subprocess.Popen[bytes], float]:
    return xdlink("build", str(site), "-d", DOMAINS, "-j2"), time.monotonic()


def _kill_repeatedly(tmp_path: Path, count: int) -> None:
    site = tmp_path / "site"
    expected = make_tree(site, copies=40)
    process, started = _build(site)
    process.communicate(timeout=300)
    duration = time.monotonic() - started  # kills land anywhere in a whole run
    partial = 0
    for delay in random.Random(count).sample(range(5, 95), count):
        if all(path.read_bytes() == new for path, (_, new) in expected.items()):
            for path, (old, _) in expected.items():
                path.write_bytes(old)
        process, _ = _build(site)
        time.sleep(duration * delay / 100)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        _wait_for_group_to_go(process.pid)
        assert_old_or_new(expected)
        states = {path.read_bytes() == new for path, (_, new) in expected.items()}
        partial += states == {True, False}
    assert partial >= count // 3, f"only {partial} of {count} kills landed mid-run"
    finish = xdlink("build", str(site), "-d", DOMAINS)
    _, stderr = finish.communicate(timeout=120)
    assert finish.returncode == 0, stderr.decode()
    assert temporaries(site) == []
    for path, (_, new) in expected.items():
        assert path.read_bytes() == new, path


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    _kill_repeatedly(tmp_path, count=8)


@pytest.mark.slow
def test_sigkill_at_many_random_moments(tmp_path: Path) -> None:
    _kill_repeatedly(tmp_path, count=60)


def test_two_builds_at_once(tmp_path: Path) -> None:
    expected = make_tree(tmp_path / "site", copies=8)
    first = xdlink("build", str(tmp_path / "site"), "-d", DOMAINS, "-j2")
    second = xdlink("build", str(tmp_path / "site"), "-d", DOMAINS, "-j2")
    for process in (first, second):
        _, stderr = process.communicate(timeout=120)
        # A page the other run replaced between read and write is reported, never clobbered.
        assert process.returncode in (0, 3), stderr.decode()
        assert "Traceback" not in stderr.decode()
    for path, (_, new) in expected.items():
        assert path.read_bytes() == new, path
    assert temporaries(tmp_path / "site") == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_disk_full(small_disk: Path) -> None:
    page = (FIXTURES / "cases" / "plain-html5" / "input.html").read_bytes()
    pages = []
    for index in range(40):
        path = small_disk / f"p{index:02}.html"
        path.write_bytes(page)
        pages.append(path)
    filler = small_disk / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 1024)
    process = xdlink("build", str(small_disk), "-d", DOMAINS, "-j1")
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr.decode()
    assert "No space left on device" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert {path.read_bytes() for path in pages} == {page}
    assert temporaries(small_disk) == []
    filler.unlink()
    retry = xdlink("build", str(small_disk), "-d", DOMAINS, "-j1")
    retry.communicate(timeout=60)
    assert retry.returncode == 0
    assert all(path.read_bytes() != page for path in pages)


def test_read_only_folder(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv, to drop root's power over file modes")
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "example", site)
    locked = site / "blog"
    locked.chmod(0o555)
    before = (locked / "first-post.html").read_bytes()
    process = xdlink("build", str(site), "-d", DOMAINS, without_root_powers=True)
    _, stderr = process.communicate(timeout=60)
    locked.chmod(0o755)
    assert process.returncode == 3, stderr.decode()
    message = f"error: cannot process {locked / 'first-post.html'}: Permission denied"
    assert message in stderr.decode()
    assert (locked / "first-post.html").read_bytes() == before
    assert list(locked.iterdir()) == [locked / "first-post.html"]
    assert b"data-xdlink" in (site / "index.html").read_bytes()
