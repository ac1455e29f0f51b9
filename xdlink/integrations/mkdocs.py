"""MkDocs plugin ``xdlink``: run xdlink over ``site_dir`` after every build.

Configured in mkdocs.yml (see :mod:`xdlink.integrations` for every option)::

    plugins:
      - xdlink:
          domains: [shop.example, docs.example.org]
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

import xdlink
from xdlink.errors import XdlinkError
from xdlink.integrations import failure, info_lines, settings_from
from xdlink.settings import DEFAULT_PARAM, DEFAULT_TTL, Settings

log = get_plugin_logger("xdlink")  # the logger "mkdocs.plugins.xdlink"


# MkDocs' Config and BasePlugin define an untyped __init_subclass__: the only ignores.
class XdlinkConfig(base.Config):  # type: ignore[no-untyped-call]
    """The plugin's options: the command line's long option names, same meanings."""

    domains = c.ListOfItems(c.Type(str))
    param = c.Type(str, default=DEFAULT_PARAM)
    ttl = c.Type(int, default=DEFAULT_TTL)
    token = c.Optional(c.Type(str))
    fragment = c.Type(bool, default=False)
    include = c.ListOfItems(c.Type(str), default=[])
    exclude = c.ListOfItems(c.Type(str), default=[])
    external = c.Optional(c.Type(str))
    jobs = c.Type(int, default=0)


class XdlinkPlugin(BasePlugin[XdlinkConfig]):  # type: ignore[no-untyped-call]
    """Validates the options with the rest of mkdocs.yml, runs xdlink after the build."""

    settings: Settings | None = None
    command: str = "build"

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        try:
            self.settings = settings_from(dict(self.config))
        except XdlinkError as exc:
            raise PluginError(f"xdlink: {exc.message}") from None
        return config

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        # site_dir is read here, not in on_config: `mkdocs serve` builds into a temporary
        # folder and serves that, so its pages get the script too.
        if self.settings is None:  # on_config always runs first; be safe anyway
            self.on_config(config)
        settings = self.settings
        assert settings is not None
        if self.command == "serve" and not self.config.jobs:
            # The dev server runs threads; forking worker processes from a threaded
            # process can deadlock, so pages are processed in this process unless asked.
            settings = dataclasses.replace(settings, jobs=1)
        try:
            report = xdlink.build(config.site_dir, settings)
        except XdlinkError as exc:
            raise PluginError(f"xdlink: {exc.message}") from None
        for notice in report.notices:
            log.info(f"notice: {notice}")
        for warning in report.warnings():
            log.warning(warning)
        for line in info_lines(report):
            log.info(line)
        reason = failure(report)
        if reason is not None:
            raise PluginError(reason)


__all__ = ["XdlinkConfig", "XdlinkPlugin"]
