"""Walk a site, run the page core on every page, write back only what changed, atomically."""

from __future__ import annotations

import base64
import difflib
import functools
import hashlib
import io
import operator
import os
import re
import signal
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from xdlink import cspfiles, external
from xdlink.errors import XdlinkError
from xdlink.facts import Facts
from xdlink.files import (
    TEMP_PREFIX,
    NotWritten,
    is_stale,
    read_page,
    replace_file,
    unlink_quietly,
)
from xdlink.outcomes import Action, Because, FailReason, Failure, Skip, SkipReason
from xdlink.page import Outcome, PageError, build_page, remove_page
from xdlink.report import BINARY_PATCH, FileStatus, PageReport, Report, Results
from xdlink.scan import scan_blocks
from xdlink.script import CDATA, RenderedScript
from xdlink.settings import Command, Settings
from xdlink.source import Source, read_source

if TYPE_CHECKING:
    from concurrent.futures import Future

PAGE_SUFFIXES = (".html", ".htm", ".xhtml")
T = TypeVar("T")
# The names of the script files of --external: stem, 12 hex digits of hash, .js.
SCRIPT_FILE = re.compile(r".+\.[0-9a-f]{12}\.js")
CHUNK = 64
LARGEST_CHUNK = 512


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, pages: int) -> None: ...


@dataclass(frozen=True)
class Job:
    """One run over a site: what to do to each page and whether to write."""

    command: Command
    settings: Settings
    write: bool = True
    diff: bool = False
    # The rules of the site's header files (see cspfiles), and whether the hashes of the
    # scripts a page held are wanted (to take them out of those files).
    header_rules: tuple[cspfiles.Rule, ...] = ()
    old_hashes: bool = False


@dataclass(frozen=True)
class Entry:
    """Something the walk met and does not process, and why: a symbolic link, or a folder
    it cannot read (the pages it finds are their relative paths alone)."""

    relative: str
    skip: Skip | None = None
    error: Failure | None = None


@dataclass
class Tree:
    """What the walk found: the pages to process (and what it reports), xdlink's script
    files, and how the include and exclude patterns fared."""

    pages: list[str] = field(default_factory=list)  # plain strings: a site can have 100,000
    reported: list[Entry] = field(default_factory=list)  # symbolic links, unreadable folders
    script_files: list[str] = field(default_factory=list)
    pages_seen: int = 0  # pages before the patterns
    unmatched: list[str] = field(default_factory=list)  # patterns that matched no page
    stale: list[str] = field(default_factory=list)  # temporary files left, when not tidied


def scan_tree(
    root: Path, include: Iterable[str] = (), exclude: Iterable[str] = (), tidy: bool = False
) -> Tree:
    """Walk the site in sorted order; symbolic links are reported, never followed.

    Temporary files left by an xdlink process that no longer runs (one killed mid-write)
    are deleted when ``tidy`` (a run that writes), so that they are never deployed; else
    listed in ``stale``.
    """
    patterns = [("include", pattern, _glob(pattern)) for pattern in include]
    patterns += [("exclude", pattern, _glob(pattern)) for pattern in exclude]
    matched: set[str] = set()

    def selected(relative: str) -> bool:
        if not patterns:
            return True
        hits = {pattern for _, pattern, matches in patterns if matches(relative)}
        matched.update(hits)
        wanted = not include or any(pattern in hits for pattern in include)
        return wanted and not any(pattern in hits for pattern in exclude)

    tree = Tree()
    found: list[str | Entry] = []
    _walk(str(root), "", tree.stale, found)
    for entry in found:
        if isinstance(entry, str):
            if entry.endswith(".js") and SCRIPT_FILE.fullmatch(entry.rpartition("/")[2]):
                tree.script_files.append(entry)
            if _is_page(entry):
                tree.pages_seen += 1
                if selected(entry):
                    tree.pages.append(entry)
        elif _reported(entry) and selected(entry.relative):
            tree.reported.append(entry)
    tree.unmatched = [f"{kind} {pat!r}" for kind, pat, _ in patterns if pat not in matched]
    if tidy:
        for relative in tree.stale:
            unlink_quietly(os.path.join(root, relative))
        tree.stale = []
    return tree


def _reported(entry: Entry) -> bool:
    """Whether the walk's report names what it could not read or follow: a failing folder,
    and a symbolic link where a page or a folder (which may hold pages) would be."""
    if entry.error is not None or _is_page(entry.relative):
        return True
    return entry.skip is not None and entry.skip.reason is SkipReason.LINK_TO_FOLDER


def _is_page(relative: str) -> bool:
    return relative.lower().endswith(PAGE_SUFFIXES)


def _walk(root: str, prefix: str, stale: list[str], found: list[str | Entry]) -> None:
    """Append to ``found`` the files under a folder in sorted order (by relative path), and
    what the walk reports (links, unreadable folders) as Entries: appended, not yielded, as
    each yield would pass up through a generator for every folder level."""
    try:
        with os.scandir(os.path.join(root, prefix)) as scan:
            entries = sorted(scan, key=_NAME)
    except OSError as exc:
        found.append(Entry(prefix or ".", error=_os_failure(exc)))
        return
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.name.startswith(TEMP_PREFIX):
            if is_stale(entry.name):
                stale.append(relative)
        elif entry.is_symlink():
            link = SkipReason.LINK_TO_FOLDER if _is_folder(entry.path) else SkipReason.SYMBOLIC_LINK
            found.append(Entry(relative, skip=Because(link)))
        elif entry.is_dir(follow_symlinks=False):
            _walk(root, relative + "/", stale, found)
        elif entry.is_file(follow_symlinks=False):
            found.append(relative)


_NAME = operator.attrgetter("name")


def _os_failure(exc: OSError) -> Failure:
    return Because(FailReason.OS_ERROR, exc.strerror or str(exc))


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


def process_chunk(root: str, pages: list[str], job: Job) -> Results:
    """Process pages in order, checking each script file of ``--external`` once, and gather
    their results: in the worker, as sending each page's result to the parent cost the
    parent more than the pages' reports do (``make bench`` shows the parent's share)."""
    script_files: dict[str, tuple[str, FileStatus]] = {}
    results = Results(command=job.command, root=root)
    for relative in pages:
        results.add(process(root, relative, job, script_files))
    return results


def process(
    root: str, relative: str, job: Job, script_files: dict[str, tuple[str, FileStatus]]
) -> PageReport:
    """Read one page, run the core on it and, if it changed, replace it atomically."""
    path = os.path.join(root, relative)
    try:
        data, before = read_page(path)
        outcome = _run_core(data, job, relative)
        if outcome.output is not None and job.write:
            replace_file(path, outcome.output, before)
        script_file = _script_file(root, job, outcome, script_files)
    except (PageError, NotWritten) as exc:
        return PageReport(path=relative, failure=exc.failure)
    except OSError as exc:
        return PageReport(path=relative, failure=_os_failure(exc))
    diff = _diff(relative, data, outcome) if job.diff and outcome.output is not None else None
    csp = outcome.script.sha256 if outcome.script is not None else None
    placement = None if outcome.placement is None else str(outcome.placement)
    covered, blocked = _csp_rules(job, relative, csp)
    return PageReport(
        path=relative,
        action=outcome.action,
        skip=outcome.skip,
        change=outcome.change,
        facts=_with_header_referrer(job, relative, outcome.facts),
        csp_hash=csp,
        diff=diff,
        script_file=script_file,
        placement=placement,
        csp_rules=covered,
        csp_blocking=blocked,
        old_hashes=inline_hashes(data) if job.old_hashes else (),
    )


def _csp_rules(
    job: Job, relative: str, csp_hash: str | None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The header-file rules that set a policy on the page and those that block its script."""
    if not job.header_rules or job.command is Command.REMOVE or csp_hash is None:
        return (), ()
    covered = cspfiles.covering(job.header_rules, relative)
    external = job.settings.external is not None
    blocks = cspfiles.blocks
    return covered, tuple(i for i in covered if blocks(job.header_rules[i], csp_hash, external))


def _with_header_referrer(job: Job, relative: str, facts: Facts) -> Facts:
    """The page's facts with its forms counted among the links that send no referrer
    where its policy is the Referrer-Policy header's and that header sends none."""
    if not facts.forms_under_header or not cspfiles.referrer_blocks(job.header_rules, relative):
        return facts
    return replace(facts, no_referrer_links=facts.no_referrer_links + facts.forms_under_header)


def inline_hashes(data: bytes) -> tuple[str, ...]:
    """The CSP hashes of the inline xdlink scripts a page holds."""
    source = read_source(data)
    if not isinstance(source, Source):
        return ()
    hashes = []
    for block in scan_blocks(source.text, source.start):
        if block.src is None:
            element = source.decoded(block.start, block.end)
            code = element[element.index(">") + 1 : element.rindex("<")]
            code = code.removeprefix(CDATA[0]).removesuffix(CDATA[1])
            hashes.append(RenderedScript(code).sha256)
    return tuple(hashes)


def _run_core(data: bytes, job: Job, relative: str) -> Outcome:
    if job.command is Command.REMOVE:
        return remove_page(data)
    return build_page(data, job.settings, relative.lower().endswith(".xhtml"), relative)


def _script_file(
    root: str, job: Job, outcome: Outcome, checked: dict[str, tuple[str, FileStatus]]
) -> tuple[str, FileStatus] | None:
    """Write or check the script file of ``--external``, once per script: ``checked``
    holds the files already written or checked in this chunk."""
    if job.settings.external is None or outcome.script is None:
        return None
    key = outcome.script.fingerprint
    if key not in checked:
        checked[key] = external.ensure(root, job.settings.external, outcome.script, job.write)
    return checked[key]


def _diff(relative: str, data: bytes, outcome: Outcome) -> bytes:
    assert outcome.output is not None
    return patch(relative, data, outcome.output)


def patch(relative: str, data: bytes, output: bytes) -> bytes:
    """A file's patch as ``git diff --binary`` writes it: in the file's own bytes (its
    encoding, its line endings), lines split at LF alone, a last line without one marked;
    for a file git sees as binary (NUL bytes: UTF-16), a GIT binary patch."""
    names = _patch_name(f"a/{relative}"), _patch_name(f"b/{relative}")
    header = b"diff --git %s %s\n" % names
    if b"\0" in data or b"\0" in output:
        return header + _binary_patch(data, output)
    old, new = io.BytesIO(data).readlines(), io.BytesIO(output).readlines()
    # git ends a name with a space by a tab on these lines.
    old_label, new_label = (name + b"\t" if b" " in name else name for name in names)
    lines = difflib.diff_bytes(difflib.unified_diff, old, new, old_label, new_label)
    return header + b"".join(
        line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n"
        for line in lines
    )


def _patch_name(name: str) -> bytes:
    """A path as git writes it in a patch: C-quoted when it holds a quote, a backslash or
    a control character."""
    raw = os.fsencode(name)
    if not any(byte < 0x20 or byte in b'"\\\x7f' for byte in raw):
        return raw
    return b'"' + b"".join(_QUOTED.get(byte, bytes([byte])) for byte in raw) + b'"'


_QUOTED = {
    **{byte: b"\\%03o" % byte for byte in [*range(0x20), 0x7F]},
    **dict(zip(b'\a\b\t\n\v\f\r"\\', [b"\\" + bytes([c]) for c in b'abtnvfr"\\'], strict=True)),
}


def _binary_patch(old: bytes, new: bytes) -> bytes:
    """The body of a GIT binary patch: the full object ids (git applies a binary patch
    only to the page it was made from) and both pages whole, the new one first."""
    index = b"index %s..%s\n" % (_blob_id(old), _blob_id(new))
    return index + BINARY_PATCH + _literal(new) + _literal(old)


def _blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest().encode()


def _literal(data: bytes) -> bytes:
    """One hunk of a binary patch: the bytes deflated, in lines of 52 bytes in git's
    base85, each led by its length (A-Z: 1-26, a-z: 27-52); an empty line ends it."""
    deflated = zlib.compress(data)
    lines = [b"literal %d\n" % len(data)]
    for start in range(0, len(deflated), 52):
        chunk = deflated[start : start + 52]
        length = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[len(chunk) - 1]
        lines.append(bytes([length]) + base64.b85encode(chunk, pad=True) + b"\n")
    return b"".join(lines) + b"\n"


# --- the whole site ------------------------------------------------------------------


def run(
    root: Path,
    job: Job,
    report: Report,
    progress: Progress | None = None,
) -> Report:
    """Process every page of the site, in parallel when jobs > 1, feeding the report."""
    with _Interrupts() as interrupts:
        try:
            _run(root, job, report, progress, interrupts.stopped)
        except KeyboardInterrupt:  # a second signal
            interrupts.signalled = True
    # Every page is old or new: writes are renames, and the chunks under way are
    # finished and reported. The caller sets the exit code.
    report.interrupted = interrupts.signalled
    return report


def _run(
    root: Path,
    job: Job,
    report: Report,
    progress: Progress | None,
    stopped: Callable[[], bool],
) -> None:
    tree = scan_tree(root, job.settings.include, job.settings.exclude, tidy=job.write)
    pages = tree.pages
    _check_pages(root, tree)
    report.unmatched_patterns = tree.unmatched
    for relative in tree.stale:
        report.notices.append(
            f"{report.display(relative)} is a temporary file of a killed xdlink run: "
            "a run that writes deletes it"
        )
    for entry in tree.reported:
        if entry.error is not None:
            report.add(PageReport(path=entry.relative, failure=entry.error))
        elif entry.skip is not None:
            report.add(PageReport(path=entry.relative, action=Action.SKIPPED, skip=entry.skip))
    if progress is not None:
        progress.start(len(pages))
    for results in _map(root, pages, job, stopped):
        report.merge(results)
        if progress is not None:
            progress.advance(results.counts["seen"])
    if len(pages) == tree.pages_seen and not stopped():
        # Pages left out by the patterns may still use a file: only a whole run tidies.
        _tidy_script_files(str(root), tree, job, report)


def _check_pages(root: Path, tree: Tree) -> None:
    """A run that sees no page is a mistake (an empty folder, the wrong one, patterns that
    leave nothing), not a success: a CI gate must not pass on nothing."""
    if tree.pages or any(entry.error for entry in tree.reported):
        return
    if not tree.pages_seen:
        raise XdlinkError(
            f"no page in {root}: no .html, .htm or .xhtml file under it (is it the "
            "generator's output folder, and was the site built?)"
        )
    raise XdlinkError(
        f"no page of {root} is left by the include and exclude patterns "
        f"({tree.pages_seen} pages before them)"
    )


def _tidy_script_files(root: str, tree: Tree, job: Job, report: Report) -> None:
    """Every script file xdlink wrote that this run did not write or keep goes: after a
    build, those of other settings or of an earlier --external; after remove, all."""
    for relative in tree.script_files:
        if relative in report.script_files or not external.is_ours(root, relative):
            continue
        if job.write:
            external.delete(root, relative)
        status = FileStatus.REMOVED if job.write else FileStatus.WOULD_BE_REMOVED
        report.add_script_file(relative, status)


def _map(root: Path, pages: list[str], job: Job, stopped: Callable[[], bool]) -> Iterator[Results]:
    """The results of the chunks of pages, in walk order."""
    work = functools.partial(process_chunk, job=job)
    return _in_chunks(work, root, pages, job.settings.jobs, stopped)


def _in_chunks(
    work: Callable[[str, list[str]], T],
    root: Path,
    pages: list[str],
    jobs: int,
    stopped: Callable[[], bool] = lambda: False,
) -> Iterator[T]:
    """``work(root, chunk)`` for the chunks of pages, in order: in worker processes when it
    pays, a few chunks ahead of the caller, so that results do not pile up in memory.
    Once ``stopped()``, no chunk starts, and those under way are finished and given."""
    jobs = jobs or os.cpu_count() or 1
    chunks = deque(_chunked(pages, jobs))
    if jobs <= 1 or len(pages) < 2 * CHUNK:
        while chunks and not stopped():
            yield work(str(root), chunks.popleft())
        return
    # Imported here: runs that use no worker do not pay for its import (see `make bench`).
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, initializer=_leave_interrupts_to_parent) as pool:
        running: deque[Future[T]] = deque()
        try:
            while chunks or running:
                if stopped():
                    # Chunks a worker has taken run to their end: their pages are written.
                    pool.shutdown(wait=True, cancel_futures=True)
                    yield from (future.result() for future in running if not future.cancelled())
                    return
                while chunks and len(running) < 4 * jobs:
                    running.append(pool.submit(work, str(root), chunks.popleft()))
                yield running[0].result()
                running.popleft()
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _chunked(pages: list[str], jobs: int) -> Iterator[list[str]]:
    """The pages in chunks: of up to ``LARGEST_CHUNK`` pages while many remain, as each chunk
    costs the parent about half a millisecond however small, then smaller, down to
    ``CHUNK``, so that the workers finish together."""
    start = 0
    while start < len(pages):
        size = min(max((len(pages) - start) // (4 * jobs), CHUNK), LARGEST_CHUNK)
        yield pages[start : start + size]
        start += size


class _Interrupts:
    """Ctrl-C and SIGTERM, where they would raise KeyboardInterrupt (Python's own handler,
    which the command line gives SIGTERM too), held to a point where nothing is half
    done: a signal is noted, the runner starts nothing more, and what the workers have
    begun is finished and reported. A second signal raises at once."""

    def __init__(self) -> None:
        self.signalled = False
        self.previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}

    def stopped(self) -> bool:
        return self.signalled

    def __enter__(self) -> _Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is signal.default_int_handler:
                try:
                    self.previous[signum] = signal.signal(signum, self._note)
                except ValueError:  # not the main thread: signals are its business
                    return self
        return self

    def _note(self, _signum: int, _frame: FrameType | None) -> None:
        if self.signalled:
            raise KeyboardInterrupt
        self.signalled = True

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _leave_interrupts_to_parent() -> None:
    """Workers ignore Ctrl-C and SIGTERM sent to the whole process group: the parent
    cancels what has not started, and the pages under way are finished, not abandoned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
