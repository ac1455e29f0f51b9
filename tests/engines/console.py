"""Which console errors are xdlink's: those that the same page without xdlink does not give."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable

import xdlink
from tests.browser.harness import Sites
from tests.engines.driver import Driver, Message, wait_for

# The page's SDKs have started, or never will.
MIXPANEL = "(!window.mixpanel || mixpanel.__loaded)"
POSTHOG = "(!window.posthog || posthog.__loaded)"
# A fresh id in a message: posthog-js probes the parent domains with a cookie
# "dmn_chk_<UUIDv7>", and Firefox reports the one it rejects (on ".test") on every page.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def unexplained_errors(
    errors: list[Message], visitor: Callable[[], Driver], sites: Sites
) -> list[Message]:
    """The errors that the same pages without xdlink do not give."""
    if not errors:
        return []
    known = {key(message) for message in baseline({e.page for e in errors}, visitor, sites)}
    return [error for error in errors if key(error) not in known]


def key(message: Message) -> tuple[str, str, str]:
    """What two errors must share to be the same: page, text but its fresh ids, and script
    (not its line)."""
    source = re.sub(r"(:\d+){1,2}$", "", message.source).split("?")[0].split("#")[0]
    return message.where, UUID.sub("<id>", message.text), source


def baseline(pages: set[str], visitor: Callable[[], Driver], sites: Sites) -> list[Message]:
    """Every error that `pages` give once `xdlink remove` has taken the script out, each
    opened by a new visitor."""
    served = sites.server.capture.sites
    kept = dict(served)
    for host, folder in kept.items():
        plain = sites.root.parent / "without-xdlink" / host
        shutil.copytree(folder, plain, dirs_exist_ok=True)
        xdlink.remove(plain)
        served[host] = plain
    found: list[Message] = []
    try:
        for page in sorted(pages):
            driver = visitor()
            try:
                driver.goto(page)
                with contextlib.suppress(AssertionError):  # a page whose SDK never starts
                    wait_for(driver, f"{MIXPANEL} && {POSTHOG}")
                found += [message for message in driver.messages() if message.level == "error"]
            finally:
                driver.close()
    finally:
        served.update(kept)
    return found
