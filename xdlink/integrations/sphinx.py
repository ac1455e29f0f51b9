"""Sphinx extension: run xdlink over the HTML output after every successful build.

Enabled in conf.py (see :mod:`xdlink.integrations` for every option)::

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
from xdlink.integrations import DEFAULTS, failure, info_lines, settings_from
from xdlink.settings import Settings

logger = logging.getLogger(__name__)

PREFIX = "xdlink_"
_TYPES: dict[str, frozenset[type]] = {
    "domains": frozenset({list, tuple, str}),
    "param": frozenset({str}),
    "ttl": frozenset({int}),
    "token": frozenset({str, type(None)}),
    "fragment": frozenset({bool}),
    "include": frozenset({list, tuple, str}),
    "exclude": frozenset({list, tuple, str}),
    "external": frozenset({str, type(None)}),
    "jobs": frozenset({int}),
}


def setup(app: Sphinx) -> dict[str, Any]:
    for name, default in DEFAULTS.items():
        # Rebuild "": xdlink rewrites the pages in place, so no page needs re-rendering.
        app.add_config_value(PREFIX + name, default, "", _TYPES[name])
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
    options = {name: getattr(config, PREFIX + name) for name in DEFAULTS}
    try:
        return settings_from(options, PREFIX)
    except XdlinkError as exc:
        raise ConfigError(f"xdlink: {exc.message}") from None


def _check_settings(app: Sphinx, config: Config) -> None:
    settings_of(config)


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or not _writes_web_pages(app):
        return
    settings = settings_of(app.config)
    try:
        report = xdlink.build(app.outdir, settings)
    except XdlinkError as exc:
        raise ExtensionError(f"xdlink: {exc.message}") from None
    for notice in report.notices:
        logger.info(f"xdlink: notice: {notice}")
    for warning in report.warnings():
        logger.warning(f"xdlink: {warning}", type="xdlink", subtype="report")
    for line in info_lines(report):
        logger.info(f"xdlink: {line}")
    reason = failure(report)
    if reason is not None:
        raise ExtensionError(reason)


def _writes_web_pages(app: Sphinx) -> bool:
    """HTML builders (html, dirhtml, singlehtml ...), but not EPUB: no visitor to carry."""
    builder = app.builder
    return builder.format == "html" and not builder.name.startswith("epub")


__all__ = ["settings_of", "setup"]
