"""xdlink: carry one Mixpanel visitor across several domains of a static site."""

from __future__ import annotations

__version__ = "0.1.0"
