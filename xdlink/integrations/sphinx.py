"""Sphinx extension: run xdlink over the HTML output after every successful build.

Enabled in conf.py (see :mod:`xdlink.integrations`)::

    extensions = ["xdlink.integrations.sphinx"]
    xdlink_domains = ["shop.example", "docs.example.org"]
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

import xdlink
from xdlink.errors import XdlinkError
from xdlink.integrations import OPTIONS, failure, log_report, settings_from
from xdlink.options import Kind
from xdlink.report import Level
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


def settings_of(config: Config) -> Settings:
    """The validated settings of conf.py's ``xdlink_*`` values; ConfigError if bad."""
    values = {option.name: getattr(config, PREFIX + option.name) for option in OPTIONS}
    try:
        return settings_from(values, PREFIX)
    except XdlinkError as exc:
        raise ConfigError(f"xdlink: {exc}") from None


def _check_settings(app: Sphinx, config: Config) -> None:
    settings_of(config)


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or not _writes_web_pages(app):
        return
    settings = settings_of(app.config)
    try:
        report = xdlink.build(app.outdir, settings)
    except XdlinkError as exc:
        raise ExtensionError(f"xdlink: {exc}") from None
    log_report(report, _log)
    reason = failure(report)
    if reason is not None:
        raise ExtensionError(reason)


def _log(level: Level, text: str) -> None:
    if level is Level.WARNING:
        logger.warning(f"xdlink: {text}", type="xdlink", subtype="report")
    elif level is Level.DETAIL:
        logger.debug(f"xdlink: {text}")
    else:
        prefix = "notice: " if level is Level.NOTICE else ""
        logger.info(f"xdlink: {prefix}{text}")


def _writes_web_pages(app: Sphinx) -> bool:
    """HTML builders (html, dirhtml, singlehtml ...), but not EPUB: no visitor to carry."""
    builder = app.builder
    return builder.format == "html" and not builder.name.startswith("epub")


__all__ = ["settings_of", "setup"]
