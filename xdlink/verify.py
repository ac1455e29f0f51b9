"""``xdlink verify``: the joined journey between every pair of sites, proven in a browser.

This module decides what to check and says what was found; ``journey.py`` drives the
browser. Built folders are served to the browser under their real ``https://`` host
names from inside the browser (request routing): no certificate, hosts file or port.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from xdlink.api import build
from xdlink.domains import host_matches, normalize_domain
from xdlink.errors import XdlinkError
from xdlink.links import link_urls, url_host
from xdlink.report import ExitCode
from xdlink.settings import Settings, WarningKind
from xdlink.site import scan_tree
from xdlink.source import PageError, Source, read_source


@dataclass(frozen=True)
class Target:
    """One site to verify: its host, its start page and, before deploy, its folder."""

    host: str
    start: str  # the URL of the start page
    folder: Path | None = None

    @classmethod
    def from_folder(cls, spec: str) -> Target:
        """``HOST=DIR`` or ``HOST=DIR:/START/PATH``."""
        host, equals, rest = spec.partition("=")
        if not equals or not rest:
            raise XdlinkError(f"invalid --site {spec!r}: give HOST=DIR, e.g. shop.example=public")
        folder, start = rest, "/"
        if ":/" in rest:
            folder, _, path = rest.rpartition(":/")
            start = "/" + path
        name = normalize_domain(host)
        if name.startswith("*."):
            raise XdlinkError(f"invalid --site {spec!r}: give the site's own host, not *.")
        if not Path(folder).is_dir():
            raise XdlinkError(f"invalid --site {spec!r}: {folder} is not a folder")
        return cls(name, f"https://{name}{start}", Path(folder))

    @classmethod
    def from_url(cls, url: str) -> Target:
        host = url_host(url)
        if host is None or urlsplit(url).scheme not in ("http", "https"):
            raise XdlinkError(f"invalid site {url!r}: give an http(s) address")
        return cls(host, url)

    def page_url(self, relative: str) -> str:
        """The address under which the browser is served a page of the folder."""
        path = PurePosixPath(relative)
        served = "" if path.name == "index.html" else path.name
        folder = "" if str(path.parent) == "." else f"{path.parent}/"
        origin = urlsplit(self.start)
        return f"{origin.scheme}://{origin.netloc}/{folder}{served}"


@dataclass(frozen=True)
class Options:
    """How to run the browser."""

    browser: str | None = None  # a Chromium executable; None: Playwright's own
    mixpanel_sdk: Path | None = None  # served in place of Mixpanel's CDN
    pages: int = 30  # how many pages of a deployed site to visit when looking for a link
    timeout: float = 10.0  # seconds to wait for a page, the SDK or an event
    resolve: tuple[tuple[str, str], ...] = ()  # (host, address): DNS for the browser
    accept: tuple[str, ...] = ()  # selectors of consent banners' accept buttons
    headed: bool = False  # a visible window

    @classmethod
    def of(cls, settings: Settings) -> Options:
        rules = tuple(rule.partition(":")[::2] for rule in settings.resolve)
        sdk = Path(settings.mixpanel_sdk) if settings.mixpanel_sdk else None
        return cls(
            settings.browser,
            sdk,
            settings.pages,
            settings.timeout,
            rules,
            settings.accept,
            settings.headed,
        )


class Status(StrEnum):
    JOINED = "joined"
    NOT_JOINED = "not joined"
    NO_LINK = "no link"


@dataclass
class PairResult:
    """The journey from one site to another and what became of the visitor."""

    source: str
    target: str
    status: Status
    reason: str = ""
    page: str | None = None  # the page the link was clicked on
    link: str | None = None  # the link as the page wrote it
    sender: dict[str, str] = field(default_factory=dict)  # ids on the first site
    landing: dict[str, str] = field(default_factory=dict)  # ids of the first event there

    def line(self) -> str:
        pair = f"{self.source} -> {self.target}"
        if self.status is Status.JOINED:
            return f"{pair}: joined (link on {self.page} to {self.link})"
        if self.status is Status.NO_LINK:
            return f"{pair}: no link ({self.reason})"
        return f"{pair}: NOT joined: {self.reason}"


@dataclass
class VerifyReport:
    pairs: list[PairResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    answered: int = 0  # Mixpanel requests answered inside the browser
    strict: bool = False  # warnings make the exit status 4

    @property
    def return_code(self) -> ExitCode:
        joined = [pair for pair in self.pairs if pair.status is Status.JOINED]
        failed = [pair for pair in self.pairs if pair.status is Status.NOT_JOINED]
        if not joined or failed:
            return ExitCode.NOT_JOINED
        return ExitCode.WARNINGS if self.strict and self.warnings() else ExitCode.OK

    def warnings(self) -> list[str]:
        """What --strict fails on: a site that is not a listed domain, a pair of sites with
        no link between them (nothing was checked there)."""
        found = [note for note in self.notes if note.startswith("note:")]
        return found + [pair.line() for pair in self.pairs if pair.status is Status.NO_LINK]

    def lines(self) -> Iterator[str]:
        yield from self.notes
        for pair in self.pairs:
            yield pair.line()
        joined = [pair for pair in self.pairs if pair.status is Status.JOINED]
        if joined:
            yield (
                f"proven for {len(joined)} of {len(self.pairs)} pairs: the link was decorated "
                "at the click, the parameter left the landing site's address bar, and the first "
                "Mixpanel event there carried the first site's $device_id and distinct_id"
            )
        yield "nothing was sent to Mixpanel: its tracking requests were answered inside the browser"
        if self.return_code is ExitCode.WARNINGS:
            yield f"--strict: the run gave {len(self.warnings())} warnings (exit status 4)"

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": [asdict(pair) for pair in self.pairs],
            "notes": self.notes,
            "warnings": self.warnings(),
            "sent_to_mixpanel": 0,
            "answered_in_browser": self.answered,
            "exit_code": int(self.return_code),
        }

    def render_json(self) -> str:
        return json.dumps(self.to_json(), indent=2)


def verify(targets: list[Target], settings: Settings, options: Options) -> VerifyReport:
    """Click from every site to every other one in a fresh browser, and check the join."""
    try:
        from xdlink.journey import Journeys  # Playwright is an optional dependency
    except ImportError:
        raise XdlinkError(
            "xdlink verify needs Playwright: pip install playwright (xdlink's [verify] extra), "
            "then "
            "`playwright install chromium` (or pass --browser PATH to a Chromium)"
        ) from None
    if len(targets) < 2:
        raise XdlinkError("give at least two sites: --site HOST=DIR twice, or two URLs")
    notes = [*_unlisted(targets, settings), *_link_lines(targets, settings)]
    report = VerifyReport(notes=notes, strict=settings.strict)
    missing = {target.host: _start_missing(target) for target in targets}
    with Journeys(targets, settings, options) as journeys:
        for source in targets:
            for target in targets:
                if source is target:
                    continue
                broken = missing[source.host] or missing[target.host]
                if broken:  # no browser needed to say so
                    reason = broken
                    report.pairs.append(
                        PairResult(source.host, target.host, Status.NOT_JOINED, reason)
                    )
                else:
                    report.pairs.append(journeys.run(source, target, _folder_link))
        report.answered = journeys.answered
    _swapped(targets, report)
    return report


def _start_missing(target: Target) -> str:
    """Why a built folder cannot serve its start page, or ""."""
    if target.folder is None:
        return ""
    relative = urlsplit(target.start).path.lstrip("/")
    candidates = (relative, os.path.join(relative, "index.html"), relative + ".html")
    if any((target.folder / name).is_file() for name in candidates if name):
        return ""
    return (
        f"the start page {target.start} answered 404 (is the site folder one level too high? "
        f"{target.folder} has no {relative or 'index.html'})"
    )


def _swapped(targets: list[Target], report: VerifyReport) -> None:
    """Two built folders given under each other's host names: neither links to the other,
    and each links to the host it is served as, as to another site."""
    for pair in report.pairs:
        back = [p for p in report.pairs if (p.source, p.target) == (pair.target, pair.source)]
        if pair.status is not Status.NO_LINK or not back or back[0].status is not Status.NO_LINK:
            continue
        by_host = {target.host: target for target in targets}
        source, target = by_host[pair.source], by_host[pair.target]
        if source.folder is None or target.folder is None:
            continue
        if _folder_link(source, source) and _folder_link(target, target):
            pair.status = Status.NOT_JOINED
            pair.reason = (
                f"the pages served as {source.host} link to {source.host} as another site: "
                "are the --site hosts swapped?"
            )


def _unlisted(targets: list[Target], settings: Settings) -> Iterator[str]:
    for target in targets:
        if not any(host_matches(target.host, domain) for domain in settings.domains):
            listed = ", ".join(settings.domains)
            yield f"note: {target.host} is not a listed domain ({listed}): nothing joins it"


def _link_lines(targets: list[Target], settings: Settings) -> Iterator[str]:
    """What ``xdlink build`` reports of each built folder's links to the listed domains.

    Its warnings are silenced: verify shows none of them, and the typo search behind the
    unlinked-domain one would read the folder a second time (every site lists its own
    domain, to which it rarely links)."""
    quiet = dataclasses.replace(settings, silence=tuple(kind.value for kind in WarningKind))
    for target in targets:
        if target.folder is not None:
            report = build(target.folder, quiet, write=False)
            for domain in settings.domains:
                if not host_matches(target.host, domain):
                    yield f"{target.host}: {report.link_line(domain)}"


def _folder_link(source: Target, target: Target) -> tuple[str, str] | None:
    """The first page of a built folder, the start page first, with a link to the target's
    host, and that link: (page URL, link as written). None when no page has one."""
    assert source.folder is not None
    for relative in _pages(source):
        try:
            page = read_source((source.folder / relative).read_bytes())
        except (OSError, PageError):
            continue
        if not isinstance(page, Source):
            continue
        urls = [url for url in link_urls(page.text, target.host) if url_host(url) == target.host]
        if urls:
            return source.page_url(relative), urls[0]
    return None


def _pages(source: Target) -> list[str]:
    assert source.folder is not None
    pages = scan_tree(source.folder).pages
    start = urlsplit(source.start).path.lstrip("/")
    first = [page for page in pages if page in (start, os.path.join(start, "index.html"))]
    return first + [page for page in pages if page not in first]
