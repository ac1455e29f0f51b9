"""One pass of a checkout's page core, for ``tools.bench.ab``: run as a script, so that
the only xdlink package it imports is the checkout's.

``python tools/bench/ab_core.py '[CHECKOUT, [FILE, ...], [DOMAIN, ...], SECOND]'`` prints
the CPU microseconds of one ``build_page`` a page.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def core(checkout: str, files: list[str], domains: list[str], second: bool) -> float:
    sys.path.insert(0, checkout)
    from xdlink.api import make_settings
    from xdlink.page import build_page

    settings = make_settings(tuple(domains), jobs=1)
    pages = [Path(file).read_bytes() for file in files]
    if second:
        pages = [build_page(page, settings).output or page for page in pages]
    return one_pass(build_page, pages, settings) * 1e6


def one_pass(build_page: Callable[..., Any], pages: list[bytes], settings: Any) -> float:
    """Seconds of CPU one ``build_page`` takes, a pass over the pages after the caches a
    site's first pages fill."""
    for page in pages[:50]:
        build_page(page, settings)
    started = time.process_time()
    for page in pages:
        build_page(page, settings)
    return (time.process_time() - started) / len(pages)


if __name__ == "__main__":
    print(core(*json.loads(sys.argv[1])))
