"""xdlink: carry one Mixpanel visitor across several domains of a static site.

The pipeline, one file a step (docs/architecture.md walks one page through it):

- ``cli.py`` turns flags into ``Settings`` and calls ``api.py``, as the MkDocs and Sphinx
  adapters in ``integrations/`` do. ``settings.py`` declares every option once;
  ``options.py`` reads that table and checks values, ``cli_options.py`` makes the click
  flags from it, ``config.py`` reads xdlink.toml and ``[tool.xdlink]``.
- ``site.py`` walks the site (``files.py`` reads and writes atomically, ``external.py``
  owns the script files of ``--external``) and runs the page core on every page.
- ``page.py`` is the core, bytes in and bytes out: ``source.py`` decodes the page,
  ``scan.py`` finds where the element goes, ``facts.py`` reads what the page says
  (``mixpanel.py`` and ``posthog.py`` their inits, found by ``initcalls.py``,
  ``links.py`` its links, ``csp.py`` its policy),
  ``script.py`` renders the script from ``templates/``. ``outcomes.py`` names what
  becomes of a page and why.
- ``report/`` gathers the pages' results into counts (``results.py``), says what needs a
  look (``findings.py``), writes text and JSON (``render.py``) and decides the exit
  status (``exit_code.py``).
- ``verify/`` proves the join in a real browser after the build: the sites served, the
  browser, the click and the landing, and the reasons it reports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from xdlink.api import Snippet, build, make_settings, remove, snippet
from xdlink.errors import XdlinkError
from xdlink.report import ExitCode, Report
from xdlink.settings import Settings

__all__ = [
    "ExitCode",
    "Report",
    "Settings",
    "Snippet",
    "XdlinkError",
    "__version__",
    "build",
    "make_settings",
    "remove",
    "snippet",
]
