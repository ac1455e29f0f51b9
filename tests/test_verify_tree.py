"""The whole-site checker (tools/verify_tree.py) agrees with xdlink's report on a site
that holds what real generator output holds: pages xdlink leaves as they are (a
fragment, a page that is a symbolic link) and a symbolic link to a folder, which xdlink
names and does not follow; and it fails a build that damages a page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from xdlink.outcomes import SkipReason

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = "<!doctype html><html><head><title>{}</title></head><body><p>{}</p></body></html>"
# The checker run in its own interpreter, as its users run it: it swaps the xdlink it
# imports for a frozen copy. ``damage`` makes that copy add a paragraph to every page it
# injects, which is not the one contiguous element in the head that xdlink writes.
CHECKER = """
import sys
from tools import verify_tree

def damaging(work):
    package = real(work)
    page = package / "xdlink" / "page.py"
    anchor = "output = source.splice(head.anchor, head.anchor, element)"
    source = page.read_text()
    assert anchor in source
    page.write_text(source.replace(anchor, anchor + "; output += b'<p>x</p>'"))
    return package

if sys.argv[1] == "damage":
    real, verify_tree.freeze_package = verify_tree.freeze_package, damaging
sys.exit(verify_tree.main([sys.argv[2], "--jobs", "1"]))
"""


def a_site(root: Path) -> Path:
    (root / "guide").mkdir(parents=True)
    (root / "index.html").write_text(DOCUMENT.format("Home", "home"))
    (root / "guide" / "start.html").write_text(DOCUMENT.format("Start", "start"))
    (root / "partial.html").write_text("<p>a fragment a generator includes</p>")
    (root / "latest").symlink_to("guide", target_is_directory=True)
    (root / "home.html").symlink_to("index.html")
    return root


def check(site: Path, mode: str = "plain") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CHECKER, mode, str(site)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_site_with_skipped_pages_and_links_passes(tmp_path: Path) -> None:
    done = check(a_site(tmp_path / "site"))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "pages: 5, injected: 2, unchanged: 0" in done.stdout
    skipped = re.search(r"skipped by reason: (.*)", done.stdout)
    assert skipped is not None
    assert json.loads(skipped.group(1)) == {
        SkipReason.FRAGMENT.message: 1,
        SkipReason.SYMBOLIC_LINK.message: 1,
        SkipReason.LINK_TO_FOLDER.message: 1,
    }
    assert "FAILURES: 0" in done.stdout


def test_a_build_that_damages_pages_fails(tmp_path: Path) -> None:
    """The control: the checker can fail."""
    done = check(a_site(tmp_path / "site"), "damage")

    assert done.returncode == 1, done.stdout + done.stderr
    for page in ("index.html", "guide/start.html"):
        assert f"{page}: not the original with one contiguous span inserted" in done.stdout
