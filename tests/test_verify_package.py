"""`xdlink verify`'s package without a browser: what importing it loads, and its reasons.

The runs themselves, in Chromium, are tests/browser/test_verify.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from xdlink.errors import XdlinkError
from xdlink.verify import Diagnosis, Target, VerifyFailure
from xdlink.verify.diagnoses import REFUSALS

ROOT = Path(__file__).resolve().parent.parent


def test_importing_xdlink_and_verify_leaves_playwright_unloaded() -> None:
    code = (
        "import sys, xdlink, xdlink.verify\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'playwright')\n"
        "print(' '.join(loaded))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def test_every_refusal_the_script_logs_has_its_own_sentence() -> None:
    """The script's "xdlink: refused <word>" lines, read from its sources."""
    source = "".join(
        (ROOT / "js" / "src" / name).read_text()
        for name in ("core.js", "mixpanel.js", "posthog.js")
    )
    calls = re.findall(r"\blog\(([^,()]*)\)", source)  # log(word): a refusal
    words = {word for call in calls for word in re.findall(r"'([a-z-]+)'", call)}
    assert words == set(REFUSALS)


@pytest.mark.parametrize(
    ("spec", "diagnosis"),
    [
        ("shop.example", Diagnosis.SITE_WITHOUT_FOLDER),
        ("shop.example=", Diagnosis.SITE_WITHOUT_FOLDER),
        ("*.shop.example=.", Diagnosis.SITE_WILDCARD),
        ("shop.example=MISSING", Diagnosis.SITE_NOT_A_FOLDER),
    ],
)
def test_a_bad_site_is_misuse_with_its_reason(
    spec: str, diagnosis: Diagnosis, tmp_path: Path
) -> None:
    spec = spec.replace("MISSING", str(tmp_path / "nope"))
    with pytest.raises(XdlinkError) as raised:
        Target.from_folder(spec)
    assert isinstance(raised.value, VerifyFailure)
    assert raised.value.diagnosis is diagnosis
    assert str(raised.value) == raised.value.reason
    assert str(raised.value).startswith(f"invalid --site {spec!r}: ")
