"""MkDocs plugin ``xdlink``: run xdlink over ``site_dir`` after every build.

Configured in mkdocs.yml (see :mod:`xdlink.integrations`)::

    plugins:
      - xdlink:
          domains: [shop.example, docs.example.org]
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Literal

from mkdocs.config import base
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

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
from xdlink.report import Level, Line
from xdlink.settings import Settings

log = get_plugin_logger("xdlink")  # the logger "mkdocs.plugins.xdlink"


def _log(line: Line) -> None:
    text = in_own_words(line.text, "")
    if line.level is Level.WARNING:
        log.warning(f"{text} [{line.kind}]")
    elif line.level is Level.DETAIL:
        log.debug(text)
    else:
        log.info(f"notice: {text}" if line.level is Level.NOTICE else text)


class _Value(base.BaseConfigOption[Any]):
    """A value passed on as written: xdlink's own check names what is wrong with it."""

    def __init__(self, default: Any) -> None:
        super().__init__()
        self.default = default


# MkDocs' Config and BasePlugin define an untyped __init_subclass__: the only ignores.
XdlinkConfig = type(
    "XdlinkConfig",
    (base.Config,),
    {option.name: _Value(option.default) for option in OPTIONS},
)


class XdlinkPlugin(BasePlugin[XdlinkConfig]):  # type: ignore[no-untyped-call,valid-type]
    """Checks the options with the rest of mkdocs.yml, runs xdlink after the build."""

    settings: Settings | None = None
    command: str = "build"
    given: frozenset[str] = frozenset()  # the options mkdocs.yml sets

    def load_config(
        self, options: dict[str, Any], config_file_path: str | None = None
    ) -> tuple[Any, Any]:
        self.given = frozenset(options)
        return super().load_config(options, config_file_path)

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        folder = os.path.dirname(config.config_file_path or os.path.abspath("mkdocs.yml"))
        try:
            found = configuration_near(folder)
            self.settings = settings_from(
                dict(self.config), site_url=config.site_url, configuration=found, given=self.given
            )
        except XdlinkError as exc:
            raise PluginError(f"xdlink: {exc}") from None
        line = configuration_line(self.settings, "mkdocs.yml")
        if line is not None:
            log.info(line)
        return config

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        # site_dir is read here, not in on_config: `mkdocs serve` builds into a temporary
        # folder and serves that, so its pages get the script too.
        if self.settings is None:  # on_config always runs first; be safe anyway
            self.on_config(config)
        settings = self.settings
        assert settings is not None
        if self.command == "serve" and not settings.jobs:
            # The dev server runs threads; forking worker processes from a threaded
            # process can deadlock, so pages are processed in this process unless asked.
            settings = dataclasses.replace(settings, jobs=1)
        try:
            report = xdlink.build(config.site_dir, settings)
        except XdlinkError as exc:
            raise PluginError(f"xdlink: {exc}") from None
        log_report(report, _log)
        reason = failure(report)
        if reason is not None:
            raise PluginError(reason)


__all__ = ["XdlinkConfig", "XdlinkPlugin"]
