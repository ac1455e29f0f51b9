"""The script files of ``--external``: written once per script, tidied when they go stale."""

from __future__ import annotations

import os

from xdlink import __version__
from xdlink.files import read_file, read_if_exists, unlink_quietly, write_new_file
from xdlink.page import external_file
from xdlink.report import FileStatus
from xdlink.script import RenderedScript

HEADER = b"/*! xdlink "


def content(script: RenderedScript) -> bytes:
    """Return the file's bytes: a marker line by which xdlink knows its own files, then the code."""
    return HEADER + f"{__version__} */\n{script.code}\n".encode()


def ensure(root: str, external: str, script: RenderedScript, write: bool) -> tuple[str, FileStatus]:
    """Write the script's file if it is missing or differs; return (site path, status)."""
    relative = external_file(external, script)
    path = os.path.join(root, relative)
    wanted = content(script)
    if read_if_exists(path) == wanted:
        return relative, FileStatus.UNCHANGED
    if not write:
        return relative, FileStatus.WOULD_BE_WRITTEN
    folder = os.path.dirname(path)
    _check_inside(root, folder)
    os.makedirs(folder, exist_ok=True)
    write_new_file(path, wanted)
    return relative, FileStatus.WRITTEN


def _check_inside(root: str, folder: str) -> None:
    """Never write through a symbolic link that leads out of the site."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(folder)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise PermissionError(1, f"{folder} leads outside the site")


def is_ours(root: str, relative: str) -> bool:
    path = os.path.join(root, relative)
    try:
        return not os.path.islink(path) and read_file(path).startswith(HEADER)
    except OSError:
        return False


def delete(root: str, relative: str) -> None:
    """Delete one of xdlink's files, and the folders it leaves empty (xdlink made them)."""
    unlink_quietly(os.path.join(root, relative))
    folder = os.path.dirname(relative)
    while folder:
        try:
            os.rmdir(os.path.join(root, folder))
        except OSError:
            return
        folder = os.path.dirname(folder)
