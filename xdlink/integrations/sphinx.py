"""Sphinx extension: run xdlink over the HTML output after every successful build.

Enabled in conf.py (see :mod:`xdlink.integrations`)::

    extensions = ["xdlink.integrations.sphinx"]
    xdlink_domains = ["shop.example", "docs.example.org"]
"""

from __future__ import annotations

import difflib
from typing import Any, NoReturn

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

import xdlink
from xdlink.errors import XdlinkError
from xdlink.integrations import (
    OPTIONS,
    configuration_line,
    configuration_near,
    failure,
    in_own_words,
    log_report,
    settings_from,
)
from xdlink.options import Kind
from xdlink.report import Level, Line
from xdlink.settings import Settings

logger = logging.getLogger(__name__)

PREFIX = "xdlink_"


def setup(app: Sphinx) -> dict[str, Any]:
    for option in OPTIONS:
        # A list default, so that `-D xdlink_domains=a.example,b.example` is split.
        default = list(option.default) if option.kind is Kind.LIST else option.default
        # Rebuild "": xdlink rewrites the pages in place, so no page needs re-rendering.
        app.add_config_value(PREFIX + option.name, default, "", option.python_types())
    # Before Sphinx's own type check (priority 800), so a bad value is one clear error.
    app.connect("config-inited", _check_settings, priority=500)
    app.connect("build-finished", _build_finished)
    return {
        "version": xdlink.__version__,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


def settings_of(config: Config, confdir: str | None = None) -> Settings:
    """The validated settings of conf.py's ``xdlink_*`` values (and -D's), and, for those
    neither sets, of the xdlink.toml or [tool.xdlink] nearest ``confdir``; ConfigError if
    bad."""
    values = {option.name: getattr(config, PREFIX + option.name) for option in OPTIONS}
    raw = set(getattr(config, "_raw_config", {})) | set(getattr(config, "_overrides", {}))
    given = {name.removeprefix(PREFIX) for name in raw if name.startswith(PREFIX)}
    try:
        found = configuration_near(confdir) if confdir is not None else None
        return settings_from(
            values, PREFIX, config.html_baseurl or None, configuration=found, given=given
        )
    except XdlinkError as exc:
        raise ConfigError(f"xdlink: {exc}") from None


def _stop(error: ConfigError | ExtensionError) -> NoReturn:
    """Stop the build with xdlink's message and exit status 2. Sphinx 9 answers every
    exception, its own ConfigError included, with a crash report that asks to report a bug
    to Sphinx; a user's mistake deserves its message alone."""
    logger.error(str(error))
    raise SystemExit(2) from None


def _check_settings(app: Sphinx, config: Config) -> None:
    known = {PREFIX + option.name for option in OPTIONS}
    for name in sorted(getattr(config, "_raw_config", {})):
        if name.startswith(PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            logger.warning(
                f"xdlink: {name} is not an xdlink setting{hint}", type="xdlink", subtype="config"
            )
    try:
        settings = settings_of(config, str(app.confdir))
    except ConfigError as exc:
        _stop(exc)
    line = configuration_line(settings, "conf.py")
    if line is not None:
        logger.info(f"xdlink: {line}")


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or not _writes_web_pages(app):
        return
    try:
        settings = settings_of(app.config, str(app.confdir))
    except ConfigError as exc:
        _stop(exc)
    try:
        report = xdlink.build(app.outdir, settings)
    except XdlinkError as exc:
        _stop(ExtensionError(f"xdlink: {exc}"))
    log_report(report, _log)
    reason = failure(report)
    if reason is not None:
        _stop(ExtensionError(reason))


def _log(line: Line) -> None:
    text = in_own_words(line.text, PREFIX)  # xdlink_domains, not --domains
    if line.level is Level.WARNING:
        # type.subtype is the kind: suppress_warnings = ["xdlink.no-init"] silences it.
        subtype = (line.kind or "xdlink.report").removeprefix("xdlink.")
        logger.warning(f"xdlink: {text}", type="xdlink", subtype=subtype)
    elif line.level is Level.DETAIL:
        logger.debug(f"xdlink: {text}")
    else:
        prefix = "notice: " if line.level is Level.NOTICE else ""
        logger.info(f"xdlink: {prefix}{text}")


def _writes_web_pages(app: Sphinx) -> bool:
    """HTML builders (html, dirhtml, singlehtml ...), but not EPUB: no visitor to carry."""
    builder = app.builder
    return builder.format == "html" and not builder.name.startswith("epub")


__all__ = ["settings_of", "setup"]
