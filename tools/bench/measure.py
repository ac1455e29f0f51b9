"""Run one command in a fresh wrapper process and measure it.

The wrapper is a bare interpreter (``python -S``) that forks, execs the command and waits
for it with ``os.wait4``: it reports the wall time around fork and exit, the CPU time, and
the largest single-process peak RSS of the command and every descendant it waited for (so
a worker pool is covered), without the benchmark's own size leaking into the child. The
peak of the whole tree's summed RSS (wrapper excluded) is sampled from /proc every 20 ms
while the command runs; it counts pages shared between forked workers once per process,
so it errs high.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 0.02
MB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """One timed run of one command."""

    wall: float
    cpu: float
    max_process_mb: float
    tree_mb: float
    returncode: int
    stdout: str
    stderr: str


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            self._stop_event.wait(SAMPLE_EVERY)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def _stat_fields(pid: str) -> tuple[int, int] | None:
    """(parent pid, resident bytes) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    rest = text[text.rfind(b")") + 2 :].split()
    return int(rest[1]), int(rest[21]) * PAGE_SIZE


def tree_rss(root: int) -> int:
    """Summed resident bytes of every process descended from root."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(name)) is not None:
            parents[int(name)], rss[int(name)] = fields
    return sum(rss[pid] for pid in rss if pid != root and _descends(pid, root, parents))


def _descends(pid: int, root: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        if pid == root:
            return True
        pid = parents.get(pid, 0)
    return pid == root


WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
cpu = usage.ru_utime + usage.ru_stime
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {cpu} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run argv to completion in the wrapper and measure it; output is captured."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        descriptor, name = tempfile.mkstemp(prefix="xdlink-bench-", suffix=".txt")
        os.close(descriptor)
        result = Path(name)
        wrapper = [sys.executable, "-S", "-c", WRAPPER, str(result), *argv]
        process = subprocess.Popen(wrapper, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = TreeSampler(process.pid)
        sampler.start()
        process.wait()
        peak = sampler.stop()
        if process.returncode != 0:
            raise OSError(f"the measuring wrapper failed: {_text(err)[-2000:]}")
        wall, cpu, maxrss, code = result.read_text().split()
        result.unlink()
        return Sample(
            wall=float(wall),
            cpu=float(cpu),
            max_process_mb=int(maxrss) / 1024,
            tree_mb=peak / MB,
            returncode=int(code),
            stdout=_text(out),
            stderr=_text(err),
        )


def _text(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")
