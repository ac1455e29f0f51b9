"""Walk a site, run the page core on every page, write back only what changed, atomically."""

from __future__ import annotations

import difflib
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Protocol

from xdlink import external
from xdlink.files import (
    TEMP_PREFIX,
    NotWritten,
    read_file,
    remove_if_stale,
    replace_file,
)
from xdlink.page import Action, Outcome, PageError, build_page, remove_page
from xdlink.report import FileStatus, PageReport, Report
from xdlink.settings import Command, Settings

PAGE_SUFFIXES = (".html", ".htm", ".xhtml")
CHUNK = 64


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...


@dataclass(frozen=True)
class Job:
    """One run over a site: what to do to each page and whether to write."""

    command: Command
    settings: Settings
    write: bool = True
    diff: bool = False


@dataclass(frozen=True)
class Entry:
    """A page found by the walk, or why something the walk met is not processed."""

    relative: str
    skip: str | None = None
    error: str | None = None


def walk(root: Path, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> Iterator[Entry]:
    """Pages under root in sorted order; symbolic links are reported, never followed.

    Temporary files left by an xdlink process that no longer runs (one killed mid-write)
    are deleted on the way, so that they are never deployed.
    """
    includes = [_glob(pattern) for pattern in include]
    excludes = [_glob(pattern) for pattern in exclude]
    for entry in _walk(str(root), ""):
        relative = entry.relative
        is_page = relative.lower().endswith(PAGE_SUFFIXES)
        if entry.error is None and entry.skip != "symbolic link to a folder" and not is_page:
            continue
        if includes and not any(matches(relative) for matches in includes):
            continue
        if any(matches(relative) for matches in excludes):
            continue
        yield entry


def _walk(root: str, prefix: str) -> Iterator[Entry]:
    try:
        with os.scandir(os.path.join(root, prefix)) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        yield Entry(prefix or ".", error=exc.strerror or str(exc))
        return
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.name.startswith(TEMP_PREFIX):
            remove_if_stale(entry.path, entry.name)
        elif entry.is_symlink():
            folder = _is_folder(entry.path)
            yield Entry(relative, skip="symbolic link to a folder" if folder else "symbolic link")
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(root, relative + "/")
        elif entry.is_file(follow_symlinks=False):
            yield Entry(relative)


def _is_folder(path: str) -> bool:
    try:
        return os.path.isdir(path)
    except OSError:
        return False


def _glob(pattern: str) -> Callable[[str], bool]:
    """A matcher for one glob: ``**`` crosses folders, ``*`` does not; a bare name
    (no ``/``) matches the file name at any depth, like a .gitignore line."""
    regex = _glob_regex(pattern.strip().lstrip("/"))
    return lambda relative: regex.fullmatch(relative) is not None


@lru_cache(maxsize=64)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    if "/" not in pattern.rstrip("/"):
        pattern = "**/" + pattern
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


# --- one page ------------------------------------------------------------------------


def process_chunk(root: str, pages: list[str], job: Job) -> list[PageReport]:
    """Process pages in order, checking each script file of ``--external`` once."""
    script_files: dict[str, tuple[str, FileStatus]] = {}
    return [process(root, relative, job, script_files) for relative in pages]


def process(
    root: str, relative: str, job: Job, script_files: dict[str, tuple[str, FileStatus]]
) -> PageReport:
    """Read one page, run the core on it and, if it changed, replace it atomically."""
    path = os.path.join(root, relative)
    try:
        before = os.stat(path, follow_symlinks=False)
        data = read_file(path)
        outcome = _run_core(data, job, relative)
        if outcome.output is not None and job.write:
            replace_file(path, outcome.output, before)
        script_file = _script_file(root, job, outcome, script_files)
    except (PageError, NotWritten) as exc:
        return PageReport(relative, None, error=str(exc))
    except OSError as exc:
        return PageReport(relative, None, error=exc.strerror or str(exc))
    diff = _diff(relative, data, outcome) if job.diff and outcome.output is not None else None
    csp = outcome.script.sha256 if outcome.script is not None else None
    return PageReport(
        relative,
        outcome.action,
        outcome.reason,
        None,
        outcome.facts,
        csp,
        diff,
        script_file,
        outcome.referenced,
    )


def _run_core(data: bytes, job: Job, relative: str) -> Outcome:
    if job.command is Command.REMOVE:
        return remove_page(data, relative)
    return build_page(data, job.settings, relative.lower().endswith(".xhtml"), relative)


def _script_file(
    root: str, job: Job, outcome: Outcome, done: dict[str, tuple[str, FileStatus]]
) -> tuple[str, FileStatus] | None:
    """Write or check the script file of ``--external``, once per script in ``done``."""
    if job.settings.external is None or outcome.script is None:
        return None
    key = outcome.script.fingerprint
    if key not in done:
        done[key] = external.ensure(root, job.settings.external, outcome.script, job.write)
    return done[key]


def _diff(relative: str, data: bytes, outcome: Outcome) -> str:
    assert outcome.output is not None
    old = data.decode("utf-8", "replace").splitlines(keepends=True)
    new = outcome.output.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{relative}", f"b/{relative}"))


# --- the whole site ------------------------------------------------------------------


def run(
    root: Path,
    job: Job,
    report: Report,
    progress: Progress | None = None,
) -> Report:
    """Process every page of the site, in parallel when jobs > 1, feeding the report."""
    entries = list(walk(root, job.settings.include, job.settings.exclude))
    pages = [entry.relative for entry in entries if entry.skip is None and entry.error is None]
    for entry in entries:
        if entry.error is not None:
            report.add(PageReport(entry.relative, None, error=entry.error))
        elif entry.skip is not None:
            report.add(PageReport(entry.relative, Action.SKIPPED, reason=entry.skip))
    if progress is not None:
        progress.start(len(pages))
    try:
        for page in _map(root, pages, job):
            report.add(page)
            if progress is not None:
                progress.advance()
    except KeyboardInterrupt:
        # Every page is old or new: writes are renames, and workers finish the page
        # they are on. What was done is reported; the caller sets the exit code.
        report.interrupted = True
        return report
    _tidy_script_files(str(root), job, report)
    return report


def _tidy_script_files(root: str, job: Job, report: Report) -> None:
    """After a build, older script files of ``--external`` go; after remove, all of them."""
    if job.command is Command.BUILD and job.settings.external is not None:
        gone = external.stale(root, job.settings.external, report.script_files)
    elif job.command is Command.REMOVE:
        gone = [path for path in sorted(report.referenced) if external.is_ours(root, path)]
    else:
        return
    for relative in gone:
        if job.write:
            external.delete(root, relative)
        status = FileStatus.REMOVED if job.write else FileStatus.WOULD_BE_REMOVED
        report.add_script_file(relative, status)


def _map(root: Path, pages: list[str], job: Job) -> Iterator[PageReport]:
    """Page reports in walk order, from worker processes when it pays."""
    chunks = [pages[start : start + CHUNK] for start in range(0, len(pages), CHUNK)]
    jobs = job.settings.jobs or os.cpu_count() or 1
    if jobs <= 1 or len(pages) < 2 * CHUNK:
        for chunk in chunks:
            yield from process_chunk(str(root), chunk, job)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_leave_interrupts_to_parent) as pool:
        try:
            for reports in pool.map(process_chunk, repeat(str(root)), chunks, repeat(job)):
                yield from reports
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _leave_interrupts_to_parent() -> None:
    """Workers ignore Ctrl-C and SIGTERM sent to the whole process group: the parent
    cancels what has not started, and the pages under way are finished, not abandoned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
