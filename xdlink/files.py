"""Files written safely: a temporary file beside the target, renamed over it."""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import stat
from collections.abc import Iterator

from xdlink.outcomes import Because, FailReason, Failure

TEMP_PREFIX = ".xdlink-"


class NotWritten(Exception):
    """The file is left as it is, for the reason given: not an I/O failure."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def read_page(path: str) -> tuple[bytes, os.stat_result]:
    """Return a page's bytes and the status of the file they were read from: one open, never
    through a symbolic link (the walk reports those), and no buffered file object."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        data = os.read(descriptor, info.st_size + 1)
        if len(data) != info.st_size:
            # Short (a signal) or long (the file grew): read on to the end of the file.
            data = b"".join(_rest_of(descriptor, data))
    finally:
        os.close(descriptor)
    # A page that grows after fstat is not written back: replace_file sees a new size.
    return data, info


def _rest_of(descriptor: int, start: bytes) -> Iterator[bytes]:
    yield start
    while chunk := os.read(descriptor, 1 << 16):
        yield chunk


def replace_file(path: str, data: bytes, before: os.stat_result) -> None:
    """Write to a temporary file beside the page and rename it over the page.

    The rename is atomic, so a reader or an interrupted run sees the old page or the new
    one, never part of one. A page changed or replaced since it was read is left alone.
    """
    if not writable(before):
        raise NotWritten(Because(FailReason.READ_ONLY))
    descriptor, temporary = create_temporary(os.path.dirname(path))
    try:
        fill(descriptor, data, stat.S_IMODE(before.st_mode), _owner_to_keep(before))
        check_unchanged(path, before)
        os.replace(temporary, path)
    except BaseException:
        unlink_quietly(temporary)
        raise


def _owner_to_keep(before: os.stat_result) -> tuple[int, int] | None:
    """The page's owner, when the file the process creates would not have it: only root can
    give a file away, so only root's runs keep another user's pages theirs."""
    euid, uid, gid = _ids()
    owner = (before.st_uid, before.st_gid)
    return owner if euid == 0 and owner != (uid, gid) else None


def fill(descriptor: int, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Write all of ``data`` to a new file, give it its mode (and owner), and close it:
    with the descriptor alone, as a file object would only add its buffer's cost."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fchmod(descriptor, mode)
        if owner is not None:
            os.fchown(descriptor, *owner)
    finally:
        os.close(descriptor)


_NUMBERS = itertools.count()


def create_temporary(folder: str) -> tuple[int, str]:
    """Return a new file that no one else can have opened: O_EXCL, named by process and number
    (cheaper than tempfile's random names, and as safe with O_EXCL)."""
    prefix = os.path.join(folder, f"{TEMP_PREFIX}{_pid()}-")
    while True:
        temporary = f"{prefix}{next(_NUMBERS)}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), temporary
        except FileExistsError:
            continue


# The process's ids, asked of the kernel once (each is a system call, and a worker writes
# thousands of pages); a forked worker asks again.
@functools.cache
def _pid() -> int:
    return os.getpid()


@functools.cache
def _ids() -> tuple[int, int, int]:
    return os.geteuid(), os.getuid(), os.getgid()


def _forget_ids() -> None:
    _pid.cache_clear()
    _ids.cache_clear()


os.register_at_fork(after_in_child=_forget_ids)


def check_unchanged(path: str, before: os.stat_result) -> None:
    now = os.stat(path, follow_symlinks=False)
    same = (now.st_ino, now.st_size, now.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    if not same:
        raise NotWritten(Because(FailReason.CHANGED_WHILE_READ))


def writable(info: os.stat_result) -> bool:
    """Keep read-only pages read-only, even for root, who could rename over them."""
    return bool(info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def is_stale(name: str) -> bool:
    """Return whether a file is a temporary file of an xdlink process that no longer runs."""
    match = re.fullmatch(re.escape(TEMP_PREFIX) + r"(\d+)-\d+\.tmp", name)
    return match is not None and not process_exists(int(match.group(1)))


def process_exists(pid: int) -> bool:
    """Return whether a process that could still be writing the file runs (a zombie cannot)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return True


def write_new_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """Create or replace a file of xdlink's own through a temporary file and a rename."""
    descriptor, temporary = create_temporary(os.path.dirname(path))
    try:
        fill(descriptor, data, mode)
        os.replace(temporary, path)
    except BaseException:
        unlink_quietly(temporary)
        raise


def read_if_exists(path: str) -> bytes | None:
    try:
        return read_file(path)
    except FileNotFoundError:
        return None
