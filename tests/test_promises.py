"""Every checkable promise of the README and docs/, quoted next to the test that holds it.

Each test carries the page's own words in ``@promise(PAGE, ...)``, and
``test_the_docs_make_each_promise`` finds every quote in that page (line breaks and
indents aside), so a promise reworded, dropped or moved to another page fails here, and a
promise in the docs with no quote here is one without a test, for review to see. The
tests run xdlink as a user would: the command line on a copy of a site, the API as
docs/integrations.md shows it, a real ``git apply``, a real process sent SIGTERM.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

import xdlink
from tests.helpers import FIXTURES, ROOT, SETTINGS
from tests.test_cli import DOMAINS, invoke, output_of, snapshot
from tests.test_site import _dead_pid
from xdlink.outcomes import SkipReason
from xdlink.page import Action, build_page

# The pages that make promises, relative to the repository's root.
CLI = "docs/cli.md"
CSP = "docs/csp.md"
GUARANTEES = "docs/guarantees.md"
INTEGRATIONS = "docs/integrations.md"
PROMISES: list[tuple[str, str, str]] = []  # (test, page, quote)
F = TypeVar("F", bound=Callable[..., object])
PAGE = (FIXTURES / "cases" / "plain-html5" / "input.html").read_bytes()


def promise(page: str, *quotes: str) -> Callable[[F], F]:
    """The words of a page that the test holds."""

    def mark(test: F) -> F:
        PROMISES.extend((test.__name__, page, quote) for quote in quotes)
        return test

    return mark


def flat(text: str) -> str:
    return " ".join(text.split())


def make_site(root: Path, pages: dict[str, bytes]) -> Path:
    for name, data in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def case_input(name: str) -> Path:
    (found,) = (FIXTURES / "cases" / name).glob("input.*")
    return found


# --- --diff ----------------------------------------------------------------------------

ENCODED_CASES = [
    "windows-1252",
    "shift-jis",
    "utf16-le-bom",
    "utf16-be-bom",
    "crlf",
    "mixed-line-endings",
    "utf8-bom",
    "invalid-utf8",
    "minified-single-line",  # no line break at the end
    "unquoted-attributes",
]


def git(folder: Path, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=folder, input=data, capture_output=True, check=False)


@promise(
    CLI,
    "With `--diff`, stdout holds the patch alone (`git apply` takes it) and the report goes "
    "to stderr.",
    "The patch is in each page's own bytes (its encoding, its line endings), as `git diff` "
    "writes it; a page with NUL bytes (UTF-16) is binary to git, and its patch a binary one, "
    "which a notice names.",
)
def test_diff_applies_with_git_in_every_encoding(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pages = {f"{name}.html": case_input(name).read_bytes() for name in ENCODED_CASES}
    pages["café and spaces.html"] = "<!DOCTYPE html><title>é “quoted” 日本</title>\n".encode()
    make_site(site, pages)
    assert git(site, "init", "-q").returncode == 0
    built = tmp_path / "built"
    shutil.copytree(site, built)
    assert invoke("build", built, "-d", DOMAINS).exit_code == 0

    result = invoke("build", site, "-d", DOMAINS, "--diff")
    assert result.exit_code == 0, output_of(result)
    patch = result.stdout_bytes
    assert b"pages seen" not in patch
    assert "\N{REPLACEMENT CHARACTER}".encode() not in patch
    assert "é “quoted” 日本".encode() in patch
    assert "ソフトウェア".encode("shift_jis") in patch
    assert b"\x93" in patch  # windows-1252's “
    for name in ("utf16-le-bom.html", "utf16-be-bom.html"):
        assert f"the patch of {site / name} is binary to git" in result.stderr
    checked = git(site, "apply", "--check", "-", data=patch)
    assert checked.returncode == 0, checked.stderr.decode()
    assert git(site, "apply", "-", data=patch).returncode == 0
    for name in pages:
        assert (site / name).read_bytes() == (built / name).read_bytes(), name
    back = git(site, "apply", "-", data=invoke("remove", site, "--diff").stdout_bytes)
    assert back.returncode == 0, back.stderr.decode()
    for name, data in pages.items():
        assert (site / name).read_bytes() == data, name


@promise(
    CLI,
    "With `--diff`, stdout holds the patch alone (`git apply` takes it)",
)
def test_a_page_without_a_last_line_break_does_not_glue_the_next_patch(tmp_path: Path) -> None:
    ending = b"<!DOCTYPE html><html><head><title>t</title></head><body>x</body></html>"
    site = make_site(tmp_path, {"a.html": ending, "b.html": ending + b"\n", "c.html": ending})
    git(site, "init", "-q")
    patch = invoke("build", site, "-d", DOMAINS, "--diff").stdout_bytes
    assert patch.count(b"\n\\ No newline at end of file\n") == 4
    assert b"</html>diff" not in patch
    applied = git(site, "apply", "-", data=patch)
    assert applied.returncode == 0, applied.stderr.decode()
    assert invoke("build", site, "-d", DOMAINS, "--check").exit_code == 0


# --- template syntax ---------------------------------------------------------------------

HEAD = '<!DOCTYPE html>\n<html>\n<head>\n  <meta charset="utf-8">\n'
TEMPLATES = {
    "jinja-include": HEAD + '  {% include "head.html" %}\n</head>\n<body></body></html>\n',
    "go-partial": HEAD + '  {{ partial "head.html" . }}\n</head>\n<body></body></html>\n',
    "go-trimmed": HEAD + '  {{- partial "head.html" . -}}\n</head>\n<body></body></html>\n',
    "liquid-before-head": "<!DOCTYPE html>\n<html>\n  {% include head.html %}\n  <body></body>\n",
    "handlebars": HEAD + "  {{> head}}\n</head>\n<body></body></html>\n",
    "erb-text": HEAD + "  <%= csrf_meta_tags %>\n</head>\n<body></body></html>\n",
    "erb-attribute": '<!DOCTYPE html>\n<html lang="<%= I18n.locale %>"><head></head></html>\n',
    "ejs-title": HEAD + "  <title><%= title %></title>\n</head>\n<body></body></html>\n",
    "go-attribute": '<!DOCTYPE html>\n<html lang="{{ .Site.LanguageCode }}"><head></head>\n',
    "late-in-head": HEAD
    + '  <script src="/theme.js"></script>\n'
    + '  <link rel="preload" href="/font.woff2" as="font" crossorigin>\n' * 30
    + '  {{ template "analytics" . }}\n</head>\n<body></body></html>\n',
}
BUILT = {
    "json-ld": HEAD + '  <script type="application/ld+json">{"a":{"b":{}}}</script>\n</head>\n',
    "client-template": HEAD
    + '  <script type="text/x-handlebars-template">{{#each items}}{{name}}{{/each}}</script>\n'
    + "</head>\n<body></body></html>\n",
    "code-with-braces": HEAD + '  <script>if(a){{let b="<%"}}</script>\n</head>\n<body></body>\n',
    "braces-in-body": HEAD + "</head>\n<body><pre>{{ .Title }} {% raw %} <%= x %></pre></body>\n",
    "implied-head": "<!DOCTYPE html><title>Go templates</title><p>{{ .Title }}</p>\n",
    "style": HEAD + "  <style>@media print{.a{b:c}}</style>\n</head><body>{{x}}</body>\n",
}


@promise(
    CLI,
    'pages with template syntax in their `<head>` (`lang="{{ .Lang }}"`, `{% include '
    '"head.html" %}`) are left alone and listed in a warning.',
    "That is Jinja, Nunjucks, Liquid and Twig (`{% %}`, `{{ }}`), Go templates and Handlebars "
    "(`{{ }}`), ERB and EJS (`<% %>`), in a tag, as text or in the title, anywhere up to "
    "`</head>`; a script's own text does not count (JSON-LD and code hold braces).",
)
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_syntax_anywhere_in_the_head_is_left_alone(name: str) -> None:
    outcome = build_page(TEMPLATES[name].encode(), SETTINGS)
    assert (outcome.action, outcome.reason) == (Action.SKIPPED, SkipReason.TEMPLATE_SYNTAX.message)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_syntax_beside_xdlinks_element_is_still_found(name: str) -> None:
    """xdlink's own script is passed over when the head is searched for template syntax; the
    head around it is not: a page built with --built is left alone by a build without it."""
    forced = build_page(TEMPLATES[name].encode(), dataclasses.replace(SETTINGS, built=True))
    assert forced.action is Action.INJECTED
    assert forced.output is not None
    outcome = build_page(forced.output, SETTINGS)
    assert (outcome.action, outcome.reason) == (Action.SKIPPED, SkipReason.TEMPLATE_SYNTAX.message)


@promise(
    CLI,
    "a script's own text does not count (JSON-LD and code hold braces).",
)
@pytest.mark.parametrize("name", BUILT)
def test_braces_in_scripts_or_the_body_are_not_template_syntax(name: str) -> None:
    assert build_page(BUILT[name].encode(), SETTINGS).action is Action.INJECTED


@promise(
    CLI,
    "are left alone and listed in a warning.",
)
def test_a_layouts_folder_is_left_as_it_is(tmp_path: Path) -> None:
    layouts = make_site(
        tmp_path / "_layouts",
        {"default.html": TEMPLATES["liquid-before-head"].encode(), "post.html": b"{{ content }}"},
    )
    before = snapshot(layouts)
    result = invoke("build", layouts, "-d", DOMAINS)
    assert result.exit_code == 0, output_of(result)
    assert "1 template syntax in <head>" in result.stdout
    assert f"{layouts / 'default.html'} [xdlink.template-pages]" in result.stderr
    assert snapshot(layouts) == before


# --- refused values -----------------------------------------------------------------------


@promise(
    GUARANTEES,
    "`--external` paths of letters, digits, `_`, `-`, `.` and `/`. Quotes, `</script>`, "
    "`<!--`, U+2028 or control characters are refused with exit code 2.",
)
@pytest.mark.parametrize(
    "value", ['a".js', "a'.js", "a<b.js", "a&b.js", "a b.js", "a\x01.js", "a\u2028.js", "a?.js"]
)
def test_external_names_are_checked(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path / "site", {"index.html": PAGE})
    before = snapshot(site)
    result = invoke("build", site, "-d", DOMAINS, "--external", value)
    assert result.exit_code == 2, output_of(result)
    assert f"invalid --external {value!r}" in result.stderr
    assert snapshot(site) == before


@promise(
    GUARANTEES,
    "Quotes, `</script>`, `<!--`, U+2028 or control characters are refused with exit code 2.",
)
@pytest.mark.parametrize(
    "args",
    [
        ["-d", 'shop.example"'],
        ["-d", "shop.example<!--"],
        ["--param", "x\u2028"],
        ["--param", "a'b"],
        ["--token", "</script>"],
        ["--token", "abc\x00"],
        ["--cookie-domain", "a.exa\x1fmple"],
    ],
)
def test_hostile_values_are_refused(tmp_path: Path, args: list[str]) -> None:
    site = make_site(tmp_path / "site", {"index.html": PAGE})
    before = snapshot(site)
    result = invoke("build", site, "-d", DOMAINS, *args)
    assert result.exit_code == 2, output_of(result)
    assert snapshot(site) == before


# --- check modes --------------------------------------------------------------------------


@promise(
    CLI,
    "| `--check` | Write nothing; exit 1 if any page would change.",
    "| `--dry-run` | Write nothing; report what would change",
    "| `--diff` | Write nothing; print a unified diff of every page that would change. |",
)
@promise(
    GUARANTEES,
    "`--check`, `--dry-run` and `--diff` only name them.",
)
@pytest.mark.parametrize(
    "args",
    [["build", "--check"], ["build", "--dry-run"], ["build", "--diff"], ["remove", "--check"]],
)
def test_check_modes_write_nothing_not_even_a_stale_file_away(
    tmp_path: Path, args: list[str]
) -> None:
    site = make_site(tmp_path / "site", {"index.html": PAGE, "a/b.html": PAGE})
    if args[0] == "remove":
        assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    stale = site / "a" / f".xdlink-{_dead_pid()}-7.tmp"
    stale.write_bytes(PAGE[:40])
    before = snapshot(site)
    result = invoke(args[0], site, *(["-d", DOMAINS] if args[0] == "build" else []), *args[1:])
    assert result.exit_code in (0, 1), output_of(result)
    assert snapshot(site) == before
    assert f"notice: {stale} is a temporary file of a killed xdlink run" in result.stderr


@promise(
    GUARANTEES,
    "Temporary files (`.xdlink-PID-N.tmp`) left by a process that was killed outright are "
    "deleted by the next run that writes, so they are never deployed;",
)
def test_a_run_that_writes_deletes_stale_temporary_files(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"index.html": PAGE})
    stale = site / f".xdlink-{_dead_pid()}-7.tmp"
    live = site / f".xdlink-{os.getpid()}-7.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"another run's")
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    assert not stale.exists()
    assert live.exists()


# --- interrupted runs -----------------------------------------------------------------------


@promise(
    GUARANTEES,
    "Ctrl-C or SIGTERM stops a run cleanly: the pages under way are finished, nothing else is "
    "started, and the report says what was done: every page written is in it",
)
@promise(
    CLI,
    "| 130 | Interrupted by Ctrl-C or SIGTERM: pages under way were finished, the rest left as "
    "they were, and the report says what was done. |",
    "`interrupted` (true after Ctrl-C or SIGTERM)",
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_report_of_an_interrupted_run_lists_every_page_written(
    tmp_path: Path, jobs: str
) -> None:
    names = sorted(f"d{index % 30:02d}/p{index:04d}.html" for index in range(3000))  # walk order
    root = make_site(tmp_path / "site", dict.fromkeys(names, PAGE))
    command = [sys.executable, "-m", "xdlink", "build", str(root), "-d", DOMAINS, f"-j{jobs}"]
    for page in (names[200], names[1500]):
        process = subprocess.Popen(
            [*command, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while b"data-xdlink" not in (root / page).read_bytes() and time.monotonic() < deadline:
            time.sleep(0.001)
        os.killpg(process.pid, signal.SIGTERM)  # the workers too, as a terminal or CI does
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr.decode()
        report = json.loads(stdout)
        on_disk = [name for name in names if b"data-xdlink" in (root / name).read_bytes()]
        assert report["interrupted"] is True
        assert len(on_disk) < len(names)
        missing = len(set(on_disk) - set(report["changed"]))
        assert report["changed"] == on_disk, f"{missing} pages written but not reported"
        assert report["counts"]["injected"] == len(on_disk)
        for name in on_disk:
            (root / name).write_bytes(PAGE)


# --- the Python API ----------------------------------------------------------------------------


@promise(
    INTEGRATIONS,
    "it validates every value and raises `xdlink.XdlinkError` (a plain `Exception`) naming "
    "the bad one. A name that is no option of `xdlink build` (`exlude=`) is refused the same "
    "way.",
)
def test_make_settings_refuses_a_typo() -> None:
    with pytest.raises(xdlink.XdlinkError, match=r"no option 'exlude': did you mean exclude=\?"):
        xdlink.make_settings("a.example,b.example", exlude=["404.html"])
    with pytest.raises(xdlink.XdlinkError, match=r"no option 'bogus' \(it takes domains, param"):
        xdlink.make_settings("a.example,b.example", bogus=1)
    with pytest.raises(xdlink.XdlinkError, match="no option 'timeout'"):
        xdlink.make_settings("a.example,b.example", timeout=3)  # xdlink verify's
    with pytest.raises(xdlink.XdlinkError, match="invalid ttl 0"):
        xdlink.make_settings("a.example,b.example", ttl=0)
    assert issubclass(xdlink.XdlinkError, Exception)


def doc_block(page: str, after: str) -> str:
    text = (ROOT / page).read_text()
    section = text[text.index(after) :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@promise(
    INTEGRATIONS,
    'print("warning:", warning)',
)
def test_the_api_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_init = b"<!DOCTYPE html><html><head><title>t</title></head><body></body></html>"
    make_site(tmp_path / "public", {"index.html": no_init})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        exec(doc_block(INTEGRATIONS, "## Python API"), {})
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("1 pages seen, 1 injected")
    assert "Finding(" not in out
    assert "\nwarning: 1 pages with no mixpanel.init or posthog.init in their HTML" in out
    assert out.rstrip().endswith("[xdlink.no-init]")


# --- pages left alone, pages that fail ---------------------------------------------------------


@promise(
    GUARANTEES,
    "**Pages it leaves alone**, each with a reason in the report: fragments and partials (no "
    "doctype, `<html>`, `<head>` or `<body>`), empty files, binary files, pages in "
    "encodings where a byte-level splice is unsafe (UTF-7, ISO-2022, EBCDIC)",
)
@promise(
    CLI,
    "| 0 | Done (or, with `--check`, nothing would change). |",
)
def test_pages_left_alone_each_with_a_reason(tmp_path: Path) -> None:
    pages = {
        "fragment.html": b"<p>a partial</p>\n",
        "empty.html": b"",
        "binary.html": case_input("binary-png").read_bytes(),
        "utf7.html": b'<!DOCTYPE html><meta charset="utf-7"><title>+AGA-</title>',
        "jis.html": '<!DOCTYPE html><meta charset="iso-2022-jp"><title>日本</title>'.encode(
            "iso-2022-jp"
        ),
        "ebcdic.html": b'<?xml version="1.0" encoding="cp037"?>\n<html></html>',
        "page.html": PAGE,
    }
    site = make_site(tmp_path / "site", pages)
    before = snapshot(site)
    result = invoke("build", site, "-d", DOMAINS, "--format", "json")
    assert result.exit_code == 0, output_of(result)
    report = json.loads(result.stdout)
    assert report["changed"] == ["page.html"]
    assert report["skipped"] == {
        "empty file": 1,
        "encoding cp037 (a byte-level splice is unsafe)": 1,
        "encoding iso2022_jp (a byte-level splice is unsafe)": 1,
        "encoding utf-7 (a byte-level splice is unsafe)": 1,
        "fragment (no doctype, <html>, <head> or <body>)": 1,
        "not text (NUL bytes)": 1,
    }
    after = snapshot(site)
    assert {k: v for k, v in after.items() if k != "page.html"} == {
        k: v for k, v in before.items() if k != "page.html"
    }


@promise(
    GUARANTEES,
    "A read-only page is left as it is too, but as an error (exit code 3)",
)
@promise(
    CLI,
    "| 3 | Some files could not be processed (each reported as `error: cannot process ...`); "
    "every other page was processed. |",
)
def test_a_read_only_page_is_an_error(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"locked.html": PAGE, "open.html": PAGE})
    (site / "locked.html").chmod(0o444)
    result = invoke("build", site, "-d", DOMAINS)
    assert result.exit_code == 3, output_of(result)
    assert f"error: cannot process {site / 'locked.html'}: the page is read-only" in result.stderr
    assert (site / "locked.html").read_bytes() == PAGE
    assert (site / "open.html").read_bytes() != PAGE
    assert (site / "locked.html").stat().st_mode & 0o777 == 0o444


@promise(
    GUARANTEES,
    "A page that ends inside a comment before its head is skipped with that reason.",
)
def test_a_page_ending_in_a_comment_is_skipped() -> None:
    outcome = build_page(b"<!DOCTYPE html><!-- never closed <head>", SETTINGS)
    assert (outcome.action, outcome.reason) == (
        Action.SKIPPED,
        "the page ends inside a comment before its head",
    )


# --- what a build does and keeps -----------------------------------------------------------------

# The hand-made cases, less those that hold an xdlink element before the first build.
ALL_CASES = sorted(
    path.name
    for path in (FIXTURES / "cases").iterdir()
    if path.is_dir() and xdlink.page.remove_page(case_input(path.name).read_bytes()).output is None
)


@promise(
    GUARANTEES,
    "`xdlink remove` takes every xdlink element out (an element that xdlink 0.1.0 put on a line "
    "of its own, with that line); the page is then byte-identical to what it was before the "
    "first build.",
    "the encoding (UTF-8, windows-1252, Shift_JIS, UTF-16 ...), line endings, entities, "
    "`<br />`, comments, inline SVG and attribute quoting stay byte for byte as they were.",
)
def test_build_then_remove_gives_back_every_byte(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "site",
        {name + case_input(name).suffix: case_input(name).read_bytes() for name in ALL_CASES},
    )
    before = {name: data for name, (data, _) in snapshot(site).items()}
    assert invoke("build", site, "-d", DOMAINS, "--external", "x/xdlink.js").exit_code == 0
    assert invoke("build", site, "-d", DOMAINS, "--ttl", "60").exit_code == 0
    assert invoke("remove", site).exit_code == 0
    assert {name: data for name, (data, _) in snapshot(site).items()} == before


@promise(
    GUARANTEES,
    "A second build with the same settings rewrites no file (mtimes stay).",
    "A build with other settings replaces the element in place.",
    'The element carries `data-xdlink="VERSION HASH"`.',
)
def test_a_second_build_writes_nothing_and_other_settings_replace_in_place(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE, "b/c.htm": PAGE})
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    built = snapshot(site)
    time.sleep(0.01)
    again = invoke("build", site, "-d", DOMAINS, "--format", "json")
    assert json.loads(again.stdout)["changed"] == []
    assert snapshot(site) == built
    assert invoke("build", site, "-d", DOMAINS, "--ttl", "60").exit_code == 0
    old, new = built["a.html"][0], (site / "a.html").read_bytes()
    marker = re.compile(rb'<script data-xdlink="' + xdlink.__version__.encode() + rb' [0-9a-f]+"')
    assert len(marker.findall(old)) == len(marker.findall(new)) == 1
    assert old.index(b"<script data-xdlink") == new.index(b"<script data-xdlink")
    assert old[: old.index(b"<script")] == new[: new.index(b"<script")]
    assert old[old.index(b"</script>") :] == new[new.index(b"</script>") :]


@promise(
    GUARANTEES,
    "renamed over the original, keeping its mode (and owner, when run as root).",
)
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_modes_are_kept(tmp_path: Path, mode: int) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    (site / "a.html").chmod(mode)
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    assert (site / "a.html").stat().st_mode & 0o7777 == mode


@promise(
    GUARANTEES,
    "Symbolic links (to pages or to folders) are reported and never followed or written "
    "through; a page reached through a link is processed once, under its real name.",
    "A page with several hard links is replaced by a new file under the name xdlink walked; "
    "the other names keep the old bytes.",
)
def test_links_are_never_written_through(tmp_path: Path) -> None:
    outside = make_site(tmp_path / "outside", {"page.html": PAGE})
    site = make_site(tmp_path / "site", {"real/page.html": PAGE})
    (site / "to-outside.html").symlink_to(outside / "page.html")
    (site / "folder").symlink_to(outside)
    (site / "alias.html").symlink_to(site / "real" / "page.html")
    os.link(outside / "page.html", site / "hard.html")
    result = invoke("build", site, "-d", DOMAINS, "--format", "json")
    report = json.loads(result.stdout)
    assert report["changed"] == ["hard.html", "real/page.html"]
    assert report["skipped"] == {"symbolic link": 2, "symbolic link to a folder": 1}
    assert (outside / "page.html").read_bytes() == PAGE
    assert b"data-xdlink" in (site / "hard.html").read_bytes()


@promise(
    CLI,
    "`xdlink build` inserts or updates the script in every `.html`, `.htm` and `.xhtml` page "
    "under SITE, in sorted order.",
)
def test_every_page_in_sorted_order(tmp_path: Path) -> None:
    names = ["b.html", "a/z.htm", "a/b.xhtml", "c.txt", "a.html.bak", "Z.HTML"]
    site = make_site(tmp_path / "site", dict.fromkeys(names, PAGE))
    report = json.loads(invoke("build", site, "-d", DOMAINS, "--format", "json").stdout)
    assert report["changed"] == ["Z.HTML", "a/b.xhtml", "a/z.htm", "b.html"]
    assert (site / "c.txt").read_bytes() == PAGE


@promise(
    GUARANTEES,
    "Pages served as XML (`.xhtml`, or an XML declaration) get the script wrapped in a "
    "commented CDATA section.",
)
def test_xml_pages_get_cdata(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.xhtml": PAGE})
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    page = (site / "a.xhtml").read_bytes()
    assert re.search(rb"<script data-xdlink=[^>]*>/\*<!\[CDATA\[\*/.*/\*\]\]>\*/</script>", page)


@promise(
    CSP,
    "by its hash (`xdlink build` prints it, `script CSP hash: 'sha256-...'`)",
)
def test_the_csp_hash_is_the_hash_of_the_script_in_the_page(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    result = invoke("build", site, "-d", DOMAINS)
    (printed,) = re.findall(r"script CSP hash: '(sha256-[^']+)'", result.stdout)
    page = (site / "a.html").read_text()
    code = re.search(r"<script data-xdlink=\"[^\"]+\">(.*?)</script>", page, re.S)
    assert code is not None
    digest = base64.b64encode(hashlib.sha256(code.group(1).encode()).digest()).decode()
    assert printed == f"sha256-{digest}"


@promise(
    CSP,
    "or, with `--external`, as a file from `'self'`",
)
@promise(
    CLI,
    "Older files of earlier settings are deleted; `xdlink remove` deletes them all.",
)
def test_external_files_come_and_go(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    assert invoke("build", site, "-d", DOMAINS, "--external", "js/x.js").exit_code == 0
    (first,) = (site / "js").glob("x.*.js")
    assert re.fullmatch(r"x\.[0-9a-f]{12}\.js", first.name)
    assert f'src="js/{first.name}"' in (site / "a.html").read_text()
    assert (
        invoke("build", site, "-d", DOMAINS, "--external", "js/x.js", "--ttl", "60").exit_code == 0
    )
    (second,) = (site / "js").glob("x.*.js")
    assert second != first
    assert invoke("remove", site).exit_code == 0
    assert not (site / "js").exists()
    assert (site / "a.html").read_bytes() == PAGE


# --- usage errors and the configuration file ---------------------------------------------------


@promise(
    CLI,
    "| 2 | Usage error: bad option, domain or configuration, SITE missing or not a folder. "
    "Nothing was written. |",
    'A usage error under `--format json` is one object too: `{"error": "...", "exit_code": 2}`.',
)
@pytest.mark.parametrize(
    "args",
    [
        ["-d", "com"],
        ["-d", DOMAINS, "--ttl", "0"],
        ["-d", DOMAINS, "--no-such-option"],
        ["-d", DOMAINS, "--config", "missing.toml"],
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path: Path, args: list[str]) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    before = snapshot(site)
    result = invoke("build", site, *args)
    assert result.exit_code == 2, output_of(result)
    as_json = invoke("build", site, *args, "--format", "json")
    assert json.loads(as_json.stdout).keys() == {"error", "exit_code"}
    assert snapshot(site) == before


@promise(
    CLI,
    "| 1 | `--check`: some page (or script or header file) would change;",
)
def test_check_exits_1_then_0(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    assert invoke("build", site, "-d", DOMAINS, "--check").exit_code == 1
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    assert invoke("build", site, "-d", DOMAINS, "--check").exit_code == 0


@promise(
    CLI,
    "A SITE without a page (an empty folder, or the site not built yet), or "
    "`--include`/`--exclude` patterns that leave no page, is a usage error (exit 2): a CI gate "
    "must not pass on nothing. A pattern that matches no page at all is a warning.",
)
def test_runs_that_see_nothing_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("build", empty, "-d", DOMAINS, "--check").exit_code == 2
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    assert invoke("build", site, "-d", DOMAINS, "--exclude", "*.html").exit_code == 2
    result = invoke("build", site, "-d", DOMAINS, "--exclude", "drafts/**")
    assert result.exit_code == 0
    assert "[xdlink.unmatched-pattern]" in result.stderr


@promise(
    CLI,
    "An unknown key is a usage error, so a typo never passes silently.",
    "Keys are the long option names; command-line flags win.",
)
def test_configuration_keys(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    (site / "xdlink.toml").write_text(
        f"domains = {DOMAINS.split(',')!r}\nttl = 300\n".replace("'", '"')
    )
    assert invoke("build", site, "--ttl", "60").exit_code == 0
    assert '"t":60' in (site / "a.html").read_text()
    (site / "xdlink.toml").write_text('domains = ["shop.example"]\nexlude = ["a.html"]\n')
    typo = invoke("build", site)
    assert typo.exit_code == 2
    assert "unknown setting 'exlude'" in typo.stderr


@promise(
    CLI,
    "`write` (false for `--check`, `--dry-run`, `--diff`)",
)
@pytest.mark.parametrize(
    ("flag", "write"), [(None, True), ("--check", False), ("--dry-run", False), ("--diff", False)]
)
def test_json_write_key(tmp_path: Path, flag: str | None, write: bool) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    result = invoke("build", site, "-d", DOMAINS, "--format", "json", *([flag] if flag else []))
    assert json.loads(result.stdout)["write"] is write


@promise(
    CLI,
    "A URL given by mistake (`https://shop.example/`) is reduced to its host with a notice;",
)
def test_a_url_for_a_domain_is_reduced_to_its_host(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE})
    result = invoke("build", site, "-d", "https://shop.example/,docs.example.org")
    assert result.exit_code == 0, output_of(result)
    assert "notice:" in result.stderr
    assert "shop.example" in result.stderr
    assert "links to shop.example:" in result.stdout


@promise(
    CLI,
    "| `-j, --jobs N` | Worker processes (default: one per CPU). |",
)
def test_workers_change_nothing_but_the_time(tmp_path: Path) -> None:
    names = [f"d{index % 7}/p{index}.html" for index in range(300)]
    results = []
    for jobs in ("1", "2"):
        site = make_site(tmp_path / jobs, dict.fromkeys(names, PAGE))
        report = json.loads(
            invoke("build", site, "-d", DOMAINS, "-j", jobs, "--format", "json").stdout
        )
        results.append((report["changed"], report["counts"], snapshot(site).keys()))
        assert {data for data, _ in snapshot(site).values()} != {PAGE}
    assert results[0] == results[1]


@promise(
    CLI,
    "Only the command line narrows it (`--include`, `--exclude`): the configuration file's "
    "`include` and `exclude` do not apply to `remove`, so a page excluded after it was built is "
    "cleaned too.",
)
def test_remove_cleans_pages_the_configuration_excludes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"a.html": PAGE, "drafts/b.html": PAGE})
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    (tmp_path / "xdlink.toml").write_text('domains = ["shop.example"]\nexclude = ["drafts/**"]\n')
    assert invoke("remove", site, cwd=tmp_path).exit_code == 0
    assert (site / "drafts" / "b.html").read_bytes() == PAGE
    assert invoke("build", site, "-d", DOMAINS, "--exclude", "drafts/**").exit_code == 0
    assert invoke("remove", site, "--exclude", "drafts/**").exit_code == 0
    assert (site / "a.html").read_bytes() == PAGE


# --- the quotes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "page", "quote"), PROMISES, ids=[f"{t}:{q[:30]}" for t, _, q in PROMISES]
)
def test_the_docs_make_each_promise(test: str, page: str, quote: str) -> None:
    text = flat((ROOT / page).read_text())
    assert flat(quote) in text, f"{test} holds a promise {page} no longer makes"
