"""Run xdlink as part of a MkDocs or Sphinx build, so there is no separate step to forget.

Both integrations are thin adapters over :func:`xdlink.build`: they take the options of
``xdlink build`` by their long names (``settings.py`` declares them; Sphinx prefixes them
with ``xdlink_``), check them when the generator reads its configuration (a bad domain
stops the build before any page is rendered), run xdlink over the output folder after
every successful build, and log the report through the generator's own logger.

MkDocs
------

Install xdlink with its ``[mkdocs]`` extra (README, Install) and list the plugin in ``mkdocs.yml``::

    plugins:
      - search            # listing plugins replaces MkDocs' default list: keep search
      - xdlink:
          domains: [shop.example, docs.example.org]
          # optional, any option of `xdlink build` by its long name:
          # ttl: 300
          # exclude: ["drafts/**", "404.html"]

The plugin runs at ``on_post_build``, on ``site_dir``; under ``mkdocs serve`` that is the
temporary folder being served, so the served pages carry the script too (there, pages are
processed in one process unless ``jobs`` is set). The summary and the CSP hash are logged
at INFO, xdlink's warnings as MkDocs warnings, so ``mkdocs build --strict`` fails on them
while a plain build only prints them. A page that cannot be processed fails the build.

Sphinx
------

Install xdlink with its ``[sphinx]`` extra (README, Install) and add to ``conf.py``::

    extensions = ["xdlink.integrations.sphinx"]
    xdlink_domains = ["shop.example", "docs.example.org"]
    # optional, any option of `xdlink build` as xdlink_<long name>:
    # xdlink_ttl = 300
    # xdlink_exclude = ["drafts/**"]

After a successful build with an HTML builder (``html``, ``dirhtml``, ``singlehtml`` ...,
not ``epub``) the extension runs xdlink over the output folder; other builders (``text``,
``latex``, ``linkcheck`` ...) are left alone. Settings are checked when ``conf.py`` is read,
whatever the builder. xdlink's warnings are Sphinx warnings of type ``xdlink``: ``-W``
turns them into a failed build and ``suppress_warnings = ["xdlink"]`` silences them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xdlink.config import Configuration, find_configuration
from xdlink.domains import normalize_domain
from xdlink.errors import XdlinkError
from xdlink.options import Spelling, options_of
from xdlink.options import settings_from as _settings_from
from xdlink.report import Level, Line, Report, render
from xdlink.report.findings import warnings
from xdlink.settings import Command, Settings

#: The options the integrations take: those of ``xdlink build``.
OPTIONS = options_of(Command.BUILD)


def settings_from(
    values: Mapping[str, Any],
    prefix: str = "",
    site_url: str | None = None,
    configuration: Configuration | None = None,
    given: Collection[str] | None = None,
) -> Settings:
    """Return validated settings from a generator's configuration values, keyed by long option
    name; errors name the option as the user wrote it (``prefix + name``). ``site_url``,
    the generator's own address for the site, names the site's domain unless
    ``site_domain`` does. ``configuration`` (xdlink.toml or [tool.xdlink]) gives the
    values of the options not in ``given``, the names the generator's configuration sets."""
    values = dict(values)
    if configuration is not None and configuration.path is not None:
        for option in OPTIONS:
            configured = option.spec.configured is None or Command.BUILD in option.spec.configured
            taken = given is not None and option.name in given
            if option.name in configuration.values and configured and not taken:
                values[option.name] = configuration.values[option.name]
    settings = _settings_from(values, Command.BUILD, Spelling(prefix))
    if configuration is not None and configuration.path is not None:
        path, warnings = str(configuration.path), configuration.warnings
        settings = dataclasses.replace(settings, config=path, config_warnings=warnings)
    domain = _domain_of(site_url)
    if settings.site_domain is None and domain is not None:
        settings = dataclasses.replace(settings, site_domain=domain)
    return settings


def _domain_of(url: str | None) -> str | None:
    """Return the domain of the generator's site URL; None where it is none (``mkdocs serve``
    points it at 127.0.0.1)."""
    host = urlsplit(url).hostname if url else None
    try:
        return normalize_domain(host) if host else None
    except XdlinkError:
        return None


def configuration_near(folder: str | Path) -> Configuration:
    """Return the xdlink.toml or [tool.xdlink] nearest the generator's configuration,
    upwards, or raise XdlinkError if it cannot be read."""
    return find_configuration(None, None, Path(folder))


def configuration_line(settings: Settings, generator_file: str) -> str | None:
    """Return the line that names the file the settings came from besides the generator's
    own configuration file, or None when they came from that file alone."""
    if settings.config is None:
        return None
    return f"settings that {generator_file} does not set are read from {settings.config}"


_FLAG = re.compile(r"--([a-z][a-z-]*)")


def in_own_words(text: str, prefix: str) -> str:
    """Return a report line with each command-line option (``--token``) named as the
    generator's configuration names it (``xdlink_domains`` in Sphinx, ``domains`` in MkDocs)."""
    names = {option.name for option in OPTIONS}

    def name(match: re.Match[str]) -> str:
        option = match.group(1).replace("-", "_")
        return prefix + option if option in names else match.group()

    return _FLAG.sub(name, text)


def log_report(report: Report, log: Callable[[Line], None]) -> None:
    """Hand every report line but the errors to the generator's logger (errors fail the
    build through :func:`failure`)."""
    for line in render.lines(report):
        if line.level is not Level.ERROR:
            log(line)


def failure(report: Report) -> str | None:
    """Return why the build must fail, or None. Interrupts are raised as KeyboardInterrupt."""
    if report.interrupted:
        raise KeyboardInterrupt
    found = warnings(report)
    if not report.errors and report.strict and found:
        return f"xdlink: strict is set and the build gave {len(found)} warnings"
    if not report.errors:
        return None
    return "\n".join([f"xdlink: {len(report.errors)} pages could not be processed", *report.errors])


__all__ = [
    "OPTIONS",
    "configuration_line",
    "configuration_near",
    "failure",
    "in_own_words",
    "log_report",
    "settings_from",
]
