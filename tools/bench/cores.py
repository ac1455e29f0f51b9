"""The page core's CPU a page on folders of built pages, one line a folder:
``python -m tools.bench.cores FOLDER=DOMAIN,DOMAIN [FOLDER=...] [--pages N]``.

For each folder, up to N of its pages (a fixed random sample) are held in memory and
``build_page`` runs on them in this process, best of three: a first build and a second
build (the pages the first one made), with the listed domains given (pages that link
to them) and with two that no page links to. Reading and writing are left out: what
is left is what the core costs on that generator's pages, a page and a byte.
"""

from __future__ import annotations

import argparse
import os
import random

from tools.bench.ab_core import one_pass
from xdlink.api import make_settings
from xdlink.page import build_page
from xdlink.settings import Settings

UNLINKED = ("docs.example.org", "shop.example")
PAGE_SUFFIXES = (".html", ".htm", ".xhtml")


def page_paths(folder: str) -> list[str]:
    """The folder's pages, symbolic links left out, sorted."""
    return sorted(
        os.path.join(parent, name)
        for parent, _, names in os.walk(folder)
        for name in names
        if name.endswith(PAGE_SUFFIXES) and not os.path.islink(os.path.join(parent, name))
    )


def sample(folder: str, count: int) -> list[bytes]:
    """Up to ``count`` pages of the folder, the same on every run."""
    paths = page_paths(folder)
    random.Random(1).shuffle(paths)
    pages = []
    for path in paths[:count]:
        with open(path, "rb") as handle:
            pages.append(handle.read())
    return pages


def per_page(pages: list[bytes], settings: Settings) -> float:
    """Seconds of CPU one build_page takes, best of three passes over the pages."""
    return min(one_pass(build_page, pages, settings) for _ in range(3))


def line(folder: str, domains: tuple[str, ...], count: int) -> str:
    pages = sample(folder, count)
    if not pages:
        return f"{folder}: no page"
    size = sum(map(len, pages)) / len(pages)
    cells = [f"{folder}: {len(pages)} pages of {size / 1024:.1f} KB"]
    for label, listed in (("linked", domains), ("unlinked", UNLINKED)):
        settings = make_settings(listed, jobs=1)
        built = [build_page(page, settings).output or page for page in pages]
        for build, run in (("first", pages), ("second", built)):
            seconds = per_page(run, settings)
            per_byte = seconds * 1e9 / size
            cells.append(f"{label} {build} {seconds * 1e6:.0f} µs ({per_byte:.1f} ns/B)")
    return "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="+", metavar="FOLDER=DOMAIN,DOMAIN")
    parser.add_argument("--pages", type=int, default=600)
    args = parser.parse_args()
    for site in args.sites:
        folder, _, domains = site.partition("=")
        print(line(folder, tuple(filter(None, domains.split(","))), args.pages), flush=True)


if __name__ == "__main__":
    main()
