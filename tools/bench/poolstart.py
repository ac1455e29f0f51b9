"""What starting xdlink's worker processes costs: ``python -m tools.bench.poolstart``.

Imports what ``xdlink build`` imports, then runs the runner's own pool (``site._in_chunks``,
default jobs) on the fewest pages that start one, with work that reads nothing. Its time
less that of ``xdlink --version`` is the pool's start and its shutdown.
"""

from __future__ import annotations

from pathlib import Path

import xdlink.cli  # noqa: F401  (what a build imports before its pool starts)
from xdlink import site


def nothing(_root: str, chunk: list[str]) -> int:
    return len(chunk)


def main() -> None:
    pages = [f"page-{number}.html" for number in range(2 * site.CHUNK)]
    done = sum(site._in_chunks(nothing, Path("."), pages, jobs=0))
    assert done == len(pages)


if __name__ == "__main__":
    main()
