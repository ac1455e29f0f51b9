"""Real generator output for the benchmark, laid from Debian documentation packages.

Each package is fetched once with ``apt-get download`` into a cache folder (no root
needed, only the machine's package lists) and unpacked with ``dpkg-deb -x``; the site is
the folder of the package that holds the pages, exactly as the generator wrote them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RealSite:
    """A documentation package and how the benchmark lists domains for it.

    ``linked`` are domains its pages link to by absolute URL; ``unlinked`` are the
    configuration most sites run, their own domain beside another one, neither linked.
    """

    name: str
    label: str
    package: str
    root: str
    linked: tuple[str, ...]
    unlinked: tuple[str, ...]


REAL_SITES = {
    site.name: site
    for site in (
        RealSite(
            "javadoc",
            "Javadoc (openjdk-17-doc)",
            "openjdk-17-doc",
            "usr/share/doc/openjdk-17-jre-headless",
            ("docs.oracle.com", "bugreport.java.com"),
            ("api.example.org", "shop.example"),
        ),
        RealSite(
            "sphinx",
            "Sphinx (python3.11-doc)",
            "python3.11-doc",
            "usr/share/doc/python3.11/html",
            ("www.python.org", "bugs.python.org"),
            ("docs.example.org", "shop.example"),
        ),
    )
}


class LayError(Exception):
    """The package could not be fetched or unpacked; the message says what to do."""


def lay(site: RealSite, cache: Path, folder: Path) -> Path:
    """Unpack the site's package under folder and return the folder of its pages."""
    package = _fetched(site.package, cache)
    target = folder / f"real-{site.name}"
    _run(["dpkg-deb", "-x", str(package), str(target)], f"cannot unpack {package.name}")
    root = target / site.root
    if not root.is_dir():
        raise LayError(f"{package.name} has no folder {site.root}")
    return root


def _fetched(package: str, cache: Path) -> Path:
    found = sorted(cache.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    cache.mkdir(parents=True, exist_ok=True)
    hint = "run `apt-get update`, or leave the real sites out with --real none"
    _run(["apt-get", "download", package], f"cannot download {package} ({hint})", cache)
    found = sorted(cache.glob(f"{package}_*.deb"))
    if not found:
        raise LayError(f"apt-get download left no {package} package in {cache} ({hint})")
    return found[-1]


def _run(argv: list[str], failure: str, cwd: Path | None = None) -> None:
    if shutil.which(argv[0]) is None:
        raise LayError(f"{failure}: {argv[0]} is not installed (a Debian or Ubuntu tool)")
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LayError(f"{failure}: {done.stderr.strip()[-500:]}")
