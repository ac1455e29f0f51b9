"""The site runner: walk order and globs, atomic replacement, modes, owners, parallel runs."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SETTINGS
from xdlink import files as files_module
from xdlink import site as site_module
from xdlink.facts import Facts
from xdlink.mixpanel import MixpanelConfig
from xdlink.outcomes import Because, ChangeReason, FailReason, SkipReason
from xdlink.page import Action, build_page
from xdlink.posthog import PostHogConfig
from xdlink.report import BINARY_PATCH, FileStatus, PageReport, Report, Results
from xdlink.sdks import Sdk
from xdlink.settings import Command, Settings
from xdlink.site import TEMP_PREFIX, Job, run, scan_tree

PAGE = (FIXTURES / "cases" / "plain-html5" / "input.html").read_bytes()


def make_site(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PAGE)
    return root


def build(root: Path, settings: Settings = SETTINGS) -> Report:
    return run(
        root,
        Job(Command.BUILD, settings),
        Report(command=Command.BUILD, root=str(root), domains=settings.domains),
    )


def test_walk_is_sorted_and_filters_by_suffix(tmp_path: Path) -> None:
    make_site(tmp_path, ["b.html", "a/z.htm", "a/b.xhtml", "c.HTML", "d.txt", "a/.x.html"])
    (tmp_path / f"{TEMP_PREFIX}left.tmp").write_bytes(b"")
    assert scan_tree(tmp_path).pages == [
        "a/.x.html",
        "a/b.xhtml",
        "a/z.htm",
        "b.html",
        "c.HTML",
    ]


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ((), ("drafts/**",), ["docs/drafts/x.html", "index.html"]),
        ((), ("**/drafts/**",), ["index.html"]),
        ((), ("*.html",), []),
        (("drafts/*",), (), ["drafts/a.html"]),
        (("**/x.html",), (), ["docs/drafts/x.html"]),
        ((), ("drafts/",), ["index.html"]),
        (("index.html",), (), ["index.html"]),
    ],
)
def test_globs(
    tmp_path: Path, include: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]
) -> None:
    make_site(tmp_path, ["index.html", "drafts/a.html", "drafts/deep/b.html", "docs/drafts/x.html"])
    found = scan_tree(tmp_path, include, exclude).pages
    assert found == expected


def test_mode_and_owner_are_kept(tmp_path: Path) -> None:
    make_site(tmp_path, ["a.html"])
    page = tmp_path / "a.html"
    page.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(page, 1234, 5678)
    build(tmp_path)
    info = page.stat()
    assert page.read_bytes() != PAGE
    assert info.st_mode & 0o7777 == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (1234, 5678)


def test_failed_write_leaves_the_page_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(tmp_path, ["a.html", "b.html"])

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_module.os, "replace", full_disk)
    report = build(tmp_path)
    assert report.errors == [
        f"error: cannot process {tmp_path / 'a.html'}: No space left on device",
        f"error: cannot process {tmp_path / 'b.html'}: No space left on device",
    ]
    assert int(report.return_code) == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.html", "b.html"]
    assert (tmp_path / "a.html").read_bytes() == PAGE


def test_page_changed_during_the_run_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(tmp_path, ["a.html"])
    real_read = site_module.read_page

    def read_then_change(path: str) -> tuple[bytes, os.stat_result]:
        read = real_read(path)
        Path(path).write_bytes(b"<!DOCTYPE html><title>new content</title>")
        return read

    monkeypatch.setattr(site_module, "read_page", read_then_change)
    report = build(tmp_path)
    assert "the page changed while xdlink was reading it" in report.errors[0]
    assert (tmp_path / "a.html").read_bytes() == b"<!DOCTYPE html><title>new content</title>"


def test_a_forked_worker_names_its_temporary_files_by_its_own_process(tmp_path: Path) -> None:
    # The walk deletes the temporary files of processes that no longer run: a worker's
    # must carry its own id, not that of the process it was forked from.
    descriptor, name = files_module.create_temporary(str(tmp_path))
    os.close(descriptor)
    assert Path(name).name.startswith(f"{TEMP_PREFIX}{os.getpid()}-")
    child = os.fork()
    if child == 0:
        descriptor, name = files_module.create_temporary(str(tmp_path))
        os._exit(0 if Path(name).name.startswith(f"{TEMP_PREFIX}{os.getpid()}-") else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("most", [1, 7, 64])
def test_a_page_read_in_short_reads_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    # A read may return less than asked for (a signal): the page is read to its end, and
    # built from its whole text, not from its first bytes.
    make_site(tmp_path, ["a.html"])
    real_read = os.read
    monkeypatch.setattr(files_module.os, "read", lambda fd, n: real_read(fd, min(n, most)))
    data, info = files_module.read_page(str(tmp_path / "a.html"))
    assert data == PAGE
    assert info.st_size == len(PAGE)
    report = build(tmp_path)
    assert report.errors == []
    assert (tmp_path / "a.html").read_bytes() == build_page(PAGE, SETTINGS).output


def test_unsupported_encoding_is_skipped_not_changed(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_bytes(b'<!DOCTYPE html><meta charset="utf-7"><title>+AGA-</title>')
    report = build(tmp_path)
    assert report.errors == []
    assert report.skipped == {"encoding utf-7 (a byte-level splice is unsafe)": 1}
    assert page.read_bytes().endswith(b"+AGA-</title>")


def test_parallel_run_matches_serial_run(tmp_path: Path) -> None:
    names = [f"s{index // 50}/p{index}.html" for index in range(300)]
    serial = make_site(tmp_path / "serial", names)
    parallel = make_site(tmp_path / "parallel", names)
    one = build(serial, replace(SETTINGS, jobs=1))
    two = build(parallel, replace(SETTINGS, jobs=2))
    assert one.counts == two.counts
    assert one.changed == two.changed
    assert one.counts[Action.INJECTED.value] == 300
    for name in names:
        assert (serial / name).read_bytes() == (parallel / name).read_bytes()


def test_hard_linked_page_gets_a_new_file(tmp_path: Path) -> None:
    make_site(tmp_path, ["a.html"])
    os.link(tmp_path / "a.html", tmp_path / "copy.htm.bak")
    build(tmp_path)
    assert (tmp_path / "a.html").read_bytes() != PAGE
    assert (tmp_path / "copy.htm.bak").read_bytes() == PAGE


def test_second_build_touches_no_file(tmp_path: Path) -> None:
    make_site(tmp_path, ["a.html", "sub/b.html"])
    build(tmp_path)
    stamps = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*.html")}
    report = build(tmp_path)
    assert report.counts["unchanged"] == 2
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*.html")} == stamps


def test_copy_of_fixture_tree_roundtrip(tmp_path: Path) -> None:
    target = tmp_path / "site"
    shutil.copytree(FIXTURES / "generators", target)
    before = {path: path.read_bytes() for path in target.rglob("*") if path.is_file()}
    build(target)
    run(target, Job(Command.REMOVE, Settings()), Report(command=Command.REMOVE))
    assert {path: path.read_bytes() for path in target.rglob("*") if path.is_file()} == before


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_stale_temporary_files_are_removed_live_ones_kept(tmp_path: Path) -> None:
    make_site(tmp_path, ["a.html"])
    stale = tmp_path / f"{TEMP_PREFIX}{_dead_pid()}-3.tmp"
    live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-99999.tmp"
    stale.write_bytes(b"half a page")
    live.write_bytes(b"another run's page")
    build(tmp_path)
    assert not stale.exists()
    assert live.exists()


def test_unreadable_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_site(tmp_path, ["a.html", "locked/b.html"])
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path.endswith("locked/"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(site_module.os, "scandir", scandir)
    report = build(tmp_path)
    assert report.errors == [f"error: cannot process {tmp_path}/locked/: Permission denied"]
    assert report.counts["injected"] == 1


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupt_stops_cleanly(tmp_path: Path, signal_name: str) -> None:
    """The signal comes once the run has written its first pages, whatever the machine's
    speed (a delay taken from an earlier run's time could let a loaded machine finish
    first). The run starts with SIGINT as a terminal's Ctrl-C finds it: a suite started in
    the background of a script inherits it ignored, and the run would then, rightly,
    ignore it too."""
    names = [f"d{index % 40}/p{index}.html" for index in range(4000)]
    root = make_site(tmp_path / "site", names)
    built = build_page(PAGE, SETTINGS).output
    domains = "shop.example,docs.example.org"
    command = [sys.executable, "-m", "xdlink", "build", str(root), "-d", domains, "-j2"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    probes = [root / name for name in names[:40]]  # a page of each folder: every chunk has some
    while process.poll() is None and all(probe.read_bytes() == PAGE for probe in probes):
        time.sleep(0.001)
    with contextlib.suppress(ProcessLookupError):  # a run that ended first fails below
        os.killpg(process.pid, getattr(signal, signal_name))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert "interrupted: " in stdout.decode()
    assert "Traceback" not in stderr.decode()
    states = {(root / name).read_bytes() for name in names}
    assert states <= {PAGE, built}
    assert not list(root.rglob(f"{TEMP_PREFIX}*"))


def test_page_removed_during_the_run_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(tmp_path, ["a.html", "b.html"])
    real_read = site_module.read_page

    def vanish_then_read(path: str) -> tuple[bytes, os.stat_result]:
        if path.endswith("a.html"):
            os.unlink(path)
        return real_read(path)

    monkeypatch.setattr(site_module, "read_page", vanish_then_read)
    report = build(tmp_path)
    assert report.errors == [
        f"error: cannot process {tmp_path / 'a.html'}: No such file or directory"
    ]
    assert report.counts["injected"] == 1
    assert not (tmp_path / "a.html").exists()


def test_symlink_to_a_page_inside_the_site_is_processed_once(tmp_path: Path) -> None:
    make_site(tmp_path, ["real/page.html"])
    (tmp_path / "alias.html").symlink_to(tmp_path / "real" / "page.html")
    (tmp_path / "mirror").symlink_to(tmp_path / "real")
    report = build(tmp_path)
    assert report.counts["injected"] == 1
    assert report.skipped == {"symbolic link": 1, "symbolic link to a folder": 1}
    built = (tmp_path / "real" / "page.html").read_bytes()
    assert built.count(b"data-xdlink=") == 1
    assert (tmp_path / "alias.html").is_symlink()
    assert (tmp_path / "alias.html").read_bytes() == built


def test_page_replaced_by_a_link_during_the_run_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.html"
    outside.write_bytes(PAGE)
    site = make_site(tmp_path / "site", ["a.html"])
    real_scan = site_module.scan_tree

    def scan_then_swap(*args: object, **kwargs: object) -> site_module.Tree:
        tree = real_scan(*args, **kwargs)  # type: ignore[arg-type]
        (site / "a.html").unlink()
        (site / "a.html").symlink_to(outside)
        return tree

    monkeypatch.setattr(site_module, "scan_tree", scan_then_swap)
    report = build(site)
    assert len(report.errors) == 1
    assert "a.html" in report.errors[0]
    assert outside.read_bytes() == PAGE
    assert (site / "a.html").is_symlink()


def test_a_build_opens_each_page_once_also_when_a_domain_has_no_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    from xdlink import api

    typo = '<a href="https://shop.example/cart">c</a>'
    site = tmp_path / "site"
    for index in range(5):
        (site / f"p{index}.html").parent.mkdir(parents=True, exist_ok=True)
        (site / f"p{index}.html").write_text(f"<!DOCTYPE html><head></head><body>{typo}</body>")
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def os_open(path: str, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def open_(path: object, *args: object, **kwargs: object) -> object:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    settings = api.make_settings("shop.exmaple,docs.example.org", jobs=1)
    report = api.build(site, settings)
    pages = [path for path in opened if path.endswith(".html")]
    assert sorted(pages) == sorted(str(site / f"p{i}.html") for i in range(5))
    assert report.suggestions() == {"shop.exmaple": ("shop.example", 5)}


def _page_reports() -> list[PageReport]:
    """Page results that between them fill every part of the results a page can fill, some
    twice, so that the second one's share must be added to the first one's."""
    mixpanel = frozenset({Sdk.MIXPANEL})
    facts = Facts(
        init=MixpanelConfig("t1"),
        tokens=("t1",),
        sdks=mixpanel,
        links=(("shop.example", 3),),
        no_referrer_links=1,
        own_domains=frozenset({"shop.example"}),
        near_hosts=frozenset({"shopp.example"}),
        csp_blocks=True,
        charset_after_script=True,
    )
    other = Facts(
        init=MixpanelConfig("t2"),
        tokens=("t2", "t1"),
        sdks=mixpanel | {Sdk.POSTHOG},
        posthog_init=PostHogConfig("k", cookieless=True),
        links=(("shop.example", 1), ("docs.example.org", 2)),
        own_domains=frozenset({"docs.example.org"}),
        near_hosts=frozenset({"shopp.example", "doc.example.org"}),
    )
    new = Because(ChangeReason.NEW_PAGE)
    built = {"action": Action.INJECTED, "change": new, "csp_hash": "'sha256-a'"}
    return [
        PageReport(path="a.html", **built, facts=facts, placement="head", csp_rules=(0,)),
        PageReport(path="b.html", failure=Because(FailReason.READ_ONLY)),
        PageReport(path="c.html", action=Action.SKIPPED, skip=Because(SkipReason.FRAGMENT)),
        PageReport(path="d.html", action=Action.SKIPPED, skip=Because(SkipReason.TEMPLATE_SYNTAX)),
        PageReport(path="e.html", action=Action.UNCHANGED, facts=Facts(init_unread="TOKEN")),
        PageReport(
            path="f.html",
            **built,
            facts=other,
            placement="next-head-count",
            diff=b"diff --git a/f.html b/f.html\n" + BINARY_PATCH,
            script_file=("xdlink.0123456789ab.js", FileStatus.UNCHANGED),
            csp_rules=(0, 1),
            csp_blocking=(1,),
            old_hashes=("'sha256-old'",),
        ),
        PageReport(path="g.html", action=Action.UNCHANGED, csp_hash="'sha256-b'"),
        PageReport(
            path="h.html",
            action=Action.UPDATED,
            change=Because(ChangeReason.SETTINGS_CHANGED),
            facts=facts,
            placement="head",
            script_file=("xdlink.0123456789ab.js", FileStatus.UPDATED),
            csp_rules=(1,),
            csp_blocking=(1,),
            old_hashes=("'sha256-older'",),
        ),
        *(PageReport(path=f"n{index}.html", **built, facts=facts) for index in range(6)),
    ]


# What a run sets once, not page by page: every other field of the results is gathered
# from the pages.
_RUN_FIELDS = {
    "command",
    "root",
    "domains",
    "write",
    "check",
    "strict",
    "silence",
    "config",
    "config_warnings",
    "external",
    "interrupted",
    "unmatched_patterns",
    "csp_rule_names",
    "csp_files",
}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
def test_the_results_of_chunks_add_up_to_those_of_their_pages(size: int) -> None:
    """The workers gather their chunks' results: merged in walk order, they say what the
    pages' results, added one by one, say."""
    pages = _page_reports()
    one_by_one = Results(command=Command.BUILD, root="site")
    for page in pages:
        one_by_one.add(page)
    gathered = [item.name for item in fields(Results) if item.name not in _RUN_FIELDS]
    assert [name for name in gathered if not getattr(one_by_one, name)] == []
    merged = Results(command=Command.BUILD, root="site")
    for start in range(0, len(pages), size):
        chunk = Results(command=Command.BUILD, root="site")
        for page in pages[start : start + size]:
            chunk.add(page)
        merged.merge(chunk)
    assert merged == one_by_one


@pytest.mark.parametrize("count", [0, 1, 63, 64, 129, 1000, 10_140, 100_000])
@pytest.mark.parametrize("jobs", [1, 2, 8])
def test_chunks_hold_every_page_in_order_the_last_ones_small(count: int, jobs: int) -> None:
    """Large chunks while many pages remain (each chunk costs the parent a fixed share),
    small ones at the end, so that no worker is left with a large one while the others
    wait."""
    pages = [f"p{number}.html" for number in range(count)]
    chunks = list(site_module._chunked(pages, jobs))
    assert [page for chunk in chunks for page in chunk] == pages
    sizes = [len(chunk) for chunk in chunks]
    assert all(site_module.CHUNK <= size <= site_module.LARGEST_CHUNK for size in sizes[:-1])
    assert sizes == sorted(sizes, reverse=True)
    # The chunks under way at the end, four a job, are the smallest.
    if count >= 4 * jobs * site_module.CHUNK:
        assert max(sizes[-4 * jobs :]) <= site_module.CHUNK
