"""xdlink: carry one Mixpanel visitor across several domains of a static site."""

from __future__ import annotations

__version__ = "0.1.0"

from xdlink.api import build, remove
from xdlink.errors import XdlinkError
from xdlink.report import ExitCode, Report
from xdlink.settings import Settings, make_settings

__all__ = [
    "ExitCode",
    "Report",
    "Settings",
    "XdlinkError",
    "__version__",
    "build",
    "make_settings",
    "remove",
]
