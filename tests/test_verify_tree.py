"""The whole-site checker (tools/verify_tree.py) agrees with xdlink's report on a site
that holds what real generator output holds: pages xdlink leaves as they are (a
fragment, a page that is a symbolic link), a symbolic link to a folder, which xdlink
names and does not follow, and links in the forms pages write them; and it fails a build
that damages a page or miscounts links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from xdlink import build, make_settings
from xdlink.outcomes import SkipReason

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = "<!doctype html><html><head><title>{}</title></head><body>{}</body></html>"
# Link tags to shop.example that html5lib's tree holds (5), and tags that are text to it.
LINKS = (
    '<a href="https://shop.example/">plain</a>'
    '<a href="HTTPS://Shop.Example./cart">case and a trailing dot</a>'
    '<a href="//shop&#46;example/p">an entity in the host</a>'
    '<svg><a xlink:href="https://shop.example/svg"><circle r="1"/></a></svg>'
    '<form action="https://shop.example/search"><input name="q"></form>'
    '<!-- <a href="https://shop.example/commented">in a comment</a> -->'
    '<textarea><a href="https://shop.example/text">text</a></textarea>'
    '<a href="https://docs.example.org/">the other domain</a>'
)
FIRST_LINK = LINKS[: LINKS.index("</a>") + 4]
# The checker run in its own interpreter, as its users run it (it swaps the xdlink it
# imports for a frozen copy). A damage mode edits that copy before the run.
CHECKER = """
import sys
from tools import verify_tree

DAMAGE = {
    # Every injected page gets a paragraph too: not the one element in the head.
    "page": ("page.py", "output = source.splice(head.anchor, head.anchor, element)",
             "; output += b'<p>x</p>'"),
    # Links inside comments and raw text count.
    "links": ("links.py", "index = bisect.bisect_right(self.starts, position) - 1",
              "; return False"),
}

def damaged(work):
    package = freeze(work)
    file, anchor, added = DAMAGE[sys.argv[1]]
    module = package / "xdlink" / file
    source = module.read_text()
    assert anchor in source
    module.write_text(source.replace(anchor, anchor + added))
    return package

if sys.argv[1] in DAMAGE:
    freeze, verify_tree.freeze_package = verify_tree.freeze_package, damaged
sys.exit(verify_tree.main(sys.argv[2:] + ["--jobs", "1"]))
"""


def a_site(root: Path) -> Path:
    (root / "guide").mkdir(parents=True)
    (root / "index.html").write_text(DOCUMENT.format("Home", LINKS))
    (root / "guide" / "start.html").write_text(DOCUMENT.format("Start", FIRST_LINK))
    (root / "partial.html").write_text("<p>a fragment a generator includes</p>" + LINKS)
    (root / "latest").symlink_to("guide", target_is_directory=True)
    (root / "home.html").symlink_to("index.html")
    return root


def check(site: Path, mode: str = "plain", *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CHECKER, mode, str(site), *options]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_site_with_skipped_pages_and_links_passes(tmp_path: Path) -> None:
    done = check(a_site(tmp_path / "site"), "plain", "--links")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "pages: 5, injected: 2, unchanged: 0" in done.stdout
    skipped = re.search(r"skipped by reason: (.*)", done.stdout)
    assert skipped is not None
    assert json.loads(skipped.group(1)) == {
        SkipReason.FRAGMENT.message: 1,
        SkipReason.SYMBOLIC_LINK.message: 1,
        SkipReason.LINK_TO_FOLDER.message: 1,
    }
    assert "links to shop.example in html5lib's trees: 6 on 2 pages" in done.stdout
    assert "links to docs.example.org in html5lib's trees: 1 on 1 pages" in done.stdout
    assert "FAILURES: 0" in done.stdout


def test_the_links_of_pages_already_built_count(tmp_path: Path) -> None:
    """A site built before: every page is read and left as it is, and its links still
    count in the report, as in the tree. (That `remove` does not give back such a site,
    which held xdlink's element from the start, is the checker's one complaint.)"""
    site = a_site(tmp_path / "site")
    build(site, make_settings("shop.example,docs.example.org"))

    done = check(site, "plain", "--links")

    assert "pages: 5, injected: 0, unchanged: 2" in done.stdout
    assert "links to shop.example in html5lib's trees: 6 on 2 pages" in done.stdout
    failures = done.stdout.split("FAILURES: ")[1].splitlines()
    assert failures == [
        "2",
        "  guide/start.html: remove did not restore the original bytes",
        "  index.html: remove did not restore the original bytes",
    ]


def test_a_build_that_damages_pages_fails(tmp_path: Path) -> None:
    """A control: the checker can fail."""
    done = check(a_site(tmp_path / "site"), "page")

    assert done.returncode == 1, done.stdout + done.stderr
    for page in ("index.html", "guide/start.html"):
        assert f"{page}: not the original with one contiguous span inserted" in done.stdout


def test_a_build_that_counts_links_in_text_fails(tmp_path: Path) -> None:
    """A control: the link count is held to the tree's."""
    done = check(a_site(tmp_path / "site"), "links", "--links")

    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "links to shop.example: the report counts 8 on 2 pages, html5lib 6 on 2 pages"
        in done.stdout
    )
