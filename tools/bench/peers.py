"""The peers xdlink is measured against, each run in a process of its own.

``python -m tools.bench.peers KIND SITE [SCRIPT_FILE]`` where KIND is one of:

- ``lxml``: the naive script people write: parse each page with lxml.html, append a
  ``<script>`` to ``<head>``, serialise with ``lxml.html.tostring`` and write it back.
- ``lxml2``: the same spread over two worker processes.
- ``parse``: the parse floor: read and lxml-parse every page, write nothing.
- ``read``: the I/O floor: read every page once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import lxml.html

PAGE_SUFFIXES = (".html", ".htm")
CHUNK = 64


def pages(root: str) -> list[str]:
    """Every page under root, in sorted order."""
    found: list[str] = []
    for folder, folders, files in os.walk(root):
        folders.sort()
        found.extend(os.path.join(folder, name) for name in sorted(files) if _is_page(name))
    return found


def _is_page(name: str) -> bool:
    return name.lower().endswith(PAGE_SUFFIXES)


def read_page(path: str) -> int:
    with open(path, "rb") as handle:
        return len(handle.read())


def parse_page(path: str) -> int:
    with open(path, "rb") as handle:
        document = lxml.html.document_fromstring(handle.read())
    return len(document)


def inject_page(path: str, script: str) -> int:
    tree = lxml.html.parse(path)
    element = lxml.html.Element("script")
    element.text = script
    tree.getroot().head.append(element)
    data = lxml.html.tostring(tree, encoding="utf-8")
    with open(path, "wb") as handle:
        handle.write(data)
    return len(data)


def _inject_with(script: str) -> Callable[[str], int]:
    return lambda path: inject_page(path, script)


def _inject_pair(pair: tuple[str, str]) -> int:
    return inject_page(*pair)


def run_serial(site: str, work: Callable[[str], int]) -> int:
    return sum(work(path) for path in pages(site))


def run_pool(site: str, script: str, workers: int) -> int:
    pairs = [(path, script) for path in pages(site)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_inject_pair, pairs, chunksize=CHUNK))


def main(argv: list[str]) -> int:
    kind, site = argv[0], argv[1]
    script = Path(argv[2]).read_text("utf-8") if len(argv) > 2 else ""
    if kind == "read":
        run_serial(site, read_page)
    elif kind == "parse":
        run_serial(site, parse_page)
    elif kind == "lxml":
        run_serial(site, _inject_with(script))
    elif kind == "lxml2":
        run_pool(site, script, 2)
    else:
        print(f"unknown peer {kind!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
