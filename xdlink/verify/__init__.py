"""``xdlink verify``: the joined journey between every pair of sites, proven in a browser.

The package, one file for each thing the user sees:

- ``sites.py``: the sites given, by host and built folder or by address, and what a
  built folder holds (its start page, its links to the other sites).
- ``serving.py``: what the browser is answered. Built folders are served under their real
  ``https://`` host names from inside the browser (no certificate, hosts file or port),
  Mixpanel's and PostHog's requests are answered there and their events kept.
- ``analytics.py``: the SDKs a page starts (Mixpanel, PostHog), each one's visitor, and
  what the first event on the landing site must carry.
- ``browser.py``: Chromium, launched through Playwright, with a fresh context for each
  visitor and a record of what that visitor's browser saw.
- ``journey.py``: the click from one site and the landing on the other, judged.
- ``diagnoses.py``: every reason verify gives, and ``VerifyFailure``, which carries one.
- ``results.py`` and ``run.py``: the report of a run, and the run over every pair.

Importing this package does not import Playwright; a run does.
"""

from __future__ import annotations

from xdlink.verify.browser import Options
from xdlink.verify.diagnoses import Diagnosis, VerifyFailure
from xdlink.verify.results import PairResult, Status, VerifyReport
from xdlink.verify.run import verify
from xdlink.verify.sites import Target

__all__ = [
    "Diagnosis",
    "Options",
    "PairResult",
    "Status",
    "Target",
    "VerifyFailure",
    "VerifyReport",
    "verify",
]
