"""A run of ``xdlink verify``: every ordered pair of sites checked in one browser, and the
notes on the sites that need no browser."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from xdlink.api import build
from xdlink.domains import host_matches
from xdlink.settings import Settings, WarningKind
from xdlink.verify.browser import ChromiumBrowser, Options, require_playwright
from xdlink.verify.diagnoses import Diagnosis, VerifyFailure
from xdlink.verify.results import PairResult, Status, VerifyReport
from xdlink.verify.sites import Target


def verify(targets: list[Target], settings: Settings, options: Options) -> VerifyReport:
    """Click from every site to every other one, each time as a new visitor, and check
    that the visitor is joined on landing."""
    require_playwright()
    if len(targets) < 2:
        raise VerifyFailure(Diagnosis.TOO_FEW_SITES)
    from xdlink.verify.journey import Journeys  # the module that imports Playwright

    notes = [*_unlisted(targets, settings), *_link_lines(targets, settings)]
    report = VerifyReport(notes=notes, strict=settings.strict)
    with ChromiumBrowser(options) as browser:
        journeys = Journeys(browser, targets, settings)
        for source in targets:
            for target in targets:
                if source is not target:
                    report.pairs.append(journeys.run(source, target))
        report.answered = journeys.answered
    _name_swapped_hosts(targets, report.pairs)
    return report


def _name_swapped_hosts(targets: list[Target], pairs: list[PairResult]) -> None:
    """Fail the pairs of two built folders given under each other's host names: neither
    links to the other, and each links to the host it is served as, as to another site."""
    by_host = {target.host: target for target in targets}
    for pair in pairs:
        back = [p for p in pairs if (p.source, p.target) == (pair.target, pair.source)]
        if pair.status is not Status.NO_LINK or not back or back[0].status is not Status.NO_LINK:
            continue
        source, target = by_host[pair.source], by_host[pair.target]
        if source.folder is None or target.folder is None:
            continue
        if source.folder_link(source) and target.folder_link(target):
            pair.status = Status.NOT_JOINED
            pair.reason = Diagnosis.HOSTS_SWAPPED.say(host=source.host)


def _unlisted(targets: list[Target], settings: Settings) -> Iterator[str]:
    """Note each site that is not one of the listed domains: nothing joins it."""
    for target in targets:
        if not any(host_matches(target.host, domain) for domain in settings.domains):
            domains = ", ".join(settings.domains)
            yield f"note: {target.host} is not a listed domain ({domains}): nothing joins it"


def _link_lines(targets: list[Target], settings: Settings) -> Iterator[str]:
    """Say what ``xdlink build`` reports of each built folder's links to the listed domains.

    Its warnings are silenced: verify shows none of them, and the typo search behind the
    unlinked-domain warning would read the folder a second time (every site lists its own
    domain, to which it rarely links).
    """
    quiet = dataclasses.replace(settings, silence=tuple(kind.value for kind in WarningKind))
    for target in targets:
        if target.folder is not None:
            report = build(target.folder, quiet, write=False)
            for domain in settings.domains:
                if not host_matches(target.host, domain):
                    yield f"{target.host}: {report.link_line(domain)}"
