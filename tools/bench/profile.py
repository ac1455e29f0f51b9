"""Where a build's time goes, page by page: ``python -m tools.bench.profile [SITE]``.

SITE is a real site the benchmark lays (``javadoc`` by default, or ``sphinx``) or a
folder of pages. Three runs on tmpfs copies, in this process:

- a first and a second build in one process (``--jobs 1``) under cProfile, split into the
  parts of the pipeline (reading, decoding, the head scan, each fact, splicing, writing,
  the worker's own per-page work, the run around the pages), each as microseconds of
  CPU per page, scaled to the same build timed without the profiler;
- a second build with two workers, whose parent CPU per page is what collecting the
  workers' results costs.

The lines it prints are the table of ``tools/bench/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tools.bench import realsite
from tools.bench.run import CACHE

# (label, module file, function): inclusive time of the function; parts nest in the
# order listed, and each part's own time excludes the parts listed after it inside it.
PARTS = (
    ("reading the file", "files.py", "read_page"),
    ("decoding to text", "source.py", "read_source"),
    ("finding the scripts", "scan.py", "script_spans"),
    ("finding mixpanel.init and posthog.init", "initcalls.py", "calls_in_scripts"),
    ("head scan", "scan.py", "scan_head"),
    ("lower-cased copy", "source.py", "lowered"),
    ("hosts after // (links and typo hints)", "links.py", "hosts_after_slashes"),
    ("links to listed domains", "links.py", "links_to"),
    ("the page's own address", "links.py", "own_hosts"),
    ("typo hints (judging the hosts)", "links.py", "near"),
    ("writing (atomic replace)", "files.py", "replace_file"),
)
CORE = ("page.py", "build_page")
PROCESS = ("site.py", "process")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(site: Path, domains: tuple[str, ...], jobs: int) -> int:
    import xdlink

    settings = xdlink.make_settings(domains, jobs=jobs)
    report = xdlink.build(site, settings)
    return int(report.counts["seen"])


def inclusive(stats: pstats.Stats, file: str, function: str) -> float:
    """Seconds spent in the function and what it calls, summed over its definitions."""
    found = 0.0
    for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if name == function and path.endswith("/xdlink/" + file):
            found += cumulative
    return float(found)


def split(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    """The profiled seconds of each part; the page core's and the worker's remainders."""
    parts = [(label, inclusive(stats, file, function)) for label, file, function in PARTS]
    core = inclusive(stats, *CORE)
    process = inclusive(stats, *PROCESS)
    in_core = sum(seconds for label, seconds in parts if not label.startswith(("read", "writ")))
    read = dict(parts)["reading the file"]
    write = dict(parts)["writing (atomic replace)"]
    return [
        *parts,
        ("rest of the page core (facts, splice)", core - in_core),
        ("worker's per-page bookkeeping", process - core - read - write),
        ("the run around the pages (walk, report)", total - process),
    ]


def profiled(run: Callable[[], int]) -> tuple[pstats.Stats, float, int]:
    # CPU time, not wall time: other processes on the machine must not count.
    profile = cProfile.Profile(time.process_time)
    pages = profile.runcall(run)
    stats = pstats.Stats(profile)
    return stats, float(stats.total_tt), pages  # type: ignore[attr-defined]


def timed(run: Callable[[], int]) -> float:
    started = cpu()
    run()
    return cpu() - started


def fresh(source: Path, folder: Path, name: str) -> Path:
    target = folder / name
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    return target


def report(title: str, stats: pstats.Stats, profiled_s: float, plain_s: float, pages: int) -> None:
    scale = plain_s / profiled_s
    print(f"\n{title}: {plain_s / pages * 1e6:.0f} µs of CPU a page without the profiler")
    for label, seconds in split(stats, profiled_s):
        share = seconds / profiled_s
        print(f"  {label:<42}{seconds * scale / pages * 1e6:>7.1f} µs {share:>6.1%}")


def measure(site: Path, domains: tuple[str, ...], folder: Path) -> None:
    first = fresh(site, folder, "first")
    plain_first = timed(lambda: build(first, domains, 1))
    second = fresh(site, folder, "second")
    stats, profiled_first, pages = profiled(lambda: build(second, domains, 1))
    report("first build, one process", stats, profiled_first, plain_first, pages)
    plain_again = timed(lambda: build(first, domains, 1))
    stats, profiled_again, pages = profiled(lambda: build(second, domains, 1))
    report("second build, one process", stats, profiled_again, plain_again, pages)
    parent, workers = cpu(), children_cpu()
    started = time.perf_counter()
    build(first, domains, 2)
    wall = time.perf_counter() - started
    parent, workers = cpu() - parent, children_cpu() - workers
    print(
        f"\nsecond build, two workers: {wall:.2f} s wall; parent {parent / pages * 1e6:.0f} µs "
        f"a page, workers {workers / pages * 1e6:.0f} µs a page"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.profile", description=__doc__)
    parser.add_argument("site", nargs="?", default="javadoc", help="javadoc, sphinx or a folder")
    parser.add_argument("--unlinked", action="store_true", help="list domains no page links to")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    folder = Path(tempfile.mkdtemp(prefix="xdlink-profile-", dir="/dev/shm"))
    try:
        known = realsite.REAL_SITES.get(args.site)
        if known is None:
            domains: tuple[str, ...] = ("shop.example", "docs.example.org")
            site = Path(args.site)
        else:
            site = realsite.lay(known, CACHE, folder)
            domains = known.unlinked if args.unlinked else known.linked
        print(f"{site}: listed {', '.join(domains)}")
        measure(site, domains, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
