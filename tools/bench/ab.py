"""Two checkouts' page cores, side by side: ``python -m tools.bench.ab OLD NEW [SITE]``.

OLD and NEW are folders holding an ``xdlink`` package (a git worktree of each commit).
On a machine whose speed drifts by a fifth from one minute to the next, two whole runs
timed minutes apart say little about a change of a few percent; here each round runs
both cores, in fresh interpreters one after the other (the order alternating), on the same
pages held in memory, and the figure that counts is the median of the rounds' ratios.
Only ``build_page`` is timed: no reading, writing, pool or report.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.bench import realsite
from tools.bench.cores import UNLINKED, page_paths
from tools.bench.run import CACHE

PAGES = 800
CORE = Path(__file__).with_name("ab_core.py")


def one_round(checkout: str, files: list[str], domains: tuple[str, ...], second: bool) -> float:
    """One pass of ``checkout``'s core, in a fresh interpreter that imports nothing else."""
    job = json.dumps([checkout, files, list(domains), second])
    done = subprocess.run(
        [sys.executable, str(CORE), job], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.ab", description=__doc__)
    parser.add_argument("old", help="a folder holding the xdlink package to compare against")
    parser.add_argument("new", help="a folder holding the changed xdlink package")
    parser.add_argument(
        "site", nargs="?", default="javadoc", help="javadoc, sphinx, or a folder of pages"
    )
    parser.add_argument("--domains", help="a folder's listed domains, which its pages link to")
    parser.add_argument("--unlinked", action="store_true", help="list domains no page links to")
    parser.add_argument("--second", action="store_true", help="pages built once already")
    parser.add_argument("--rounds", type=int, default=16, help="rounds of one run each")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="xdlink-ab-", dir="/dev/shm") as folder:
        label, every, domains = _site(args, Path(folder))
        files = random.Random(7).sample(every, min(PAGES, len(every)))
        old: list[float] = []
        new: list[float] = []
        for number in range(args.rounds):
            pair = [(args.old, old), (args.new, new)]
            for checkout, times in pair[:: 1 if number % 2 else -1]:
                times.append(one_round(checkout, files, domains, args.second))
    ratio = statistics.median(b / a for a, b in zip(old, new, strict=True))
    listed = "unlinked" if args.unlinked else "linked"
    build = "second" if args.second else "first"
    print(f"{label}, {len(files)} pages, {listed}, {build} build, {args.rounds} rounds:")
    print(f"  old: median {statistics.median(old):.0f} µs a page (min {min(old):.0f})")
    print(f"  new: median {statistics.median(new):.0f} µs a page (min {min(new):.0f})")
    print(f"  new / old, median of the rounds' ratios: {ratio:.3f}")
    return 0


def _site(args: argparse.Namespace, folder: Path) -> tuple[str, list[str], tuple[str, ...]]:
    """The site's label, its pages and the domains to list: a real site the benchmark lays
    in ``folder``, or a folder of pages given with its linked domains."""
    if args.site in realsite.REAL_SITES:
        known = realsite.REAL_SITES[args.site]
        root = realsite.lay(known, CACHE, folder)
        every = sorted(str(path) for path in root.rglob("*.html"))
        return known.label, every, known.unlinked if args.unlinked else known.linked
    linked = tuple(filter(None, (args.domains or "").split(",")))
    if not args.unlinked and not linked:
        raise SystemExit("a folder of pages needs --domains (or --unlinked)")
    return args.site, page_paths(args.site), UNLINKED if args.unlinked else linked


if __name__ == "__main__":
    sys.exit(main())
