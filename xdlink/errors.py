"""The one exception type for misuse, free of any command-line library."""

from __future__ import annotations


class XdlinkError(Exception):
    """Bad options, configuration or site folder: nothing is written.

    The command line turns it into a usage error (exit code 2), the MkDocs plugin into a
    ``PluginError`` and the Sphinx extension into a ``ConfigError`` or ``ExtensionError``.
    """
