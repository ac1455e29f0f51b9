"""The one exception type for misuse: reported as a usage error, never as a traceback."""

from __future__ import annotations

import click


class XdlinkError(click.UsageError):
    """Bad options, configuration or site folder: nothing is written, exit code 2."""
