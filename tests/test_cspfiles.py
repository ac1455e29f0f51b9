"""The Content-Security-Policy a site ships in its header files: read, warned about, and
kept allowing the script with --update-csp (Netlify and Cloudflare's _headers,
netlify.toml, vercel.json); and their Referrer-Policy, which a form follows."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from xdlink import api, cspfiles
from xdlink.cli import main
from xdlink.csp import policy_blocks

PAGE = "<!doctype html><html><head><meta charset=utf-8><title>t</title></head><body></body></html>"
DOMAINS = "a.example,b.example"
SELF = "'self'"


def site(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository's root: nothing above it is read
    folder = tmp_path / "public"
    for page in ("index.html", "docs/index.html", "docs/guide.html", "about.html"):
        (folder / page).parent.mkdir(parents=True, exist_ok=True)
        (folder / page).write_text(PAGE)
    return folder


def build(folder: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(folder), "-d", DOMAINS, *args])
    return result.exit_code, result.output


def script_hash(folder: Path) -> str:
    report = api.build(folder, api.make_settings(DOMAINS), write=False)
    return report.csp_hashes()[0]


# --- the policies --------------------------------------------------------------------------

H = "'sha256-abc='"


@pytest.mark.parametrize(
    ("policy", "blocked"),
    [
        ("default-src 'self'", True),
        ("default-src 'self'; script-src 'self' 'unsafe-inline'", False),
        ("script-src 'unsafe-inline'", False),
        ("script-src 'unsafe-inline' 'nonce-x'", True),  # a nonce turns unsafe-inline off
        ("script-src 'unsafe-inline' 'sha256-other='", True),
        ("script-src 'unsafe-inline' 'strict-dynamic'", True),
        (f"script-src 'strict-dynamic' {H}", False),
        ("script-src 'self' 'SHA256-abc='", False),  # the algorithm's case does not count
        ("script-src 'self' 'sha256-ABC='", True),  # the digest's does
        (f"script-src-elem 'self'; script-src {H}", True),  # script-src-elem governs <script>
        (f"script-src-elem {H}; script-src 'none'", False),
        ("img-src *; style-src 'self'", False),  # nothing about scripts
        ("default-src 'none'; script-src 'unsafe-inline'", False),
    ],
)
def test_which_policies_block_the_inline_script(policy: str, blocked: bool) -> None:
    assert policy_blocks(policy, H) is blocked


@pytest.mark.parametrize(
    ("value", "added"),
    [
        ("default-src 'self'", "default-src 'self' H"),
        ("default-src 'self'; img-src *", "default-src 'self' H; img-src *"),
        ("script-src 'self' https://cdn;  object-src 'none'",
         "script-src 'self' https://cdn H;  object-src 'none'"),
        ("default-src 'self'; script-src-elem 'self'; script-src 'self'",
         "default-src 'self'; script-src-elem 'self' H; script-src 'self'"),
        ("script-src 'unsafe-inline'", "script-src 'unsafe-inline'"),  # allowed: untouched
        ("script-src 'unsafe-inline', default-src 'self'",
         "script-src 'unsafe-inline', default-src 'self' H"),
        ("script-src ;", "script-src H ;"),
    ],
)  # fmt: skip
def test_hashes_go_where_csp3_looks_and_come_out_again(value: str, added: str) -> None:
    digest = "'sha256-xyz='"
    new = cspfiles._apply(value, cspfiles.adding(value, [digest]))
    assert new == added.replace(" H", f" {digest}")
    assert cspfiles._apply(new, cspfiles.removing(new, [digest])) == value
    assert not any(policy_blocks(p, digest) for p in cspfiles.policies(new) if "unsafe" not in p)


@pytest.mark.parametrize(
    ("pattern", "page", "covered"),
    [
        ("/*", "index.html", True),
        ("/*", "docs/guide.html", True),
        ("/docs/*", "docs/index.html", True),
        ("/docs/*", "index.html", False),
        ("/docs/", "docs/index.html", True),
        ("/about", "about.html", True),
        ("/:page", "about.html", True),
        ("/:page", "docs/guide.html", False),
        ("https://:project.pages.dev/*", "docs/guide.html", True),
    ],
)
def test_headers_patterns(pattern: str, page: str, covered: bool) -> None:
    regex = cspfiles._netlify_regex(pattern)
    assert any(regex.fullmatch(path) for path in cspfiles.served_paths(page)) is covered


@pytest.mark.parametrize(
    ("source", "page", "covered"),
    [
        ("/(.*)", "docs/guide.html", True),
        ("/:path*", "docs/guide.html", True),
        ("/:path*", "index.html", True),
        ("/docs/:slug", "docs/guide.html", True),
        ("/docs/:slug", "about.html", False),
        ("/DOCS/:path+", "docs/guide.html", True),
        ("/about", "about.html", True),
        ("/about", "docs/guide.html", False),
    ],
)
def test_vercel_sources(source: str, page: str, covered: bool) -> None:
    regex = cspfiles._vercel_regex(source)
    assert any(regex.fullmatch(path) for path in cspfiles.served_paths(page)) is covered


# --- the three files ----------------------------------------------------------------------

HEADERS = (
    "# security headers\r\n"
    "/*\r\n"
    "  X-Frame-Options: DENY\r\n"
    "  Content-Security-Policy: default-src 'self'; img-src *\r\n"
    "\r\n"
    "/docs/*\r\n"
    "  content-security-policy:   script-src 'self' 'unsafe-inline'\r\n"
)
NETLIFY = """\
[build]
  publish = "public"  # the site

[[headers]]
  for = "/docs/*"
  [headers.values]
    X-Frame-Options = "DENY"
    Content-Security-Policy = "script-src 'self' https://cdn.mxpnl.com; object-src 'none'"

[[headers]]
  for = "/about"
  [headers.values]
    Content-Security-Policy = '''
      default-src 'self';
      img-src *'''
"""
VERCEL = """{
  "cleanUrls": true,
  "headers": [
    {
      "source": "/(.*)",
      "headers": [
        {"key": "X-Frame-Options", "value": "DENY"},
        {"key": "Content-Security-Policy", "value": "script-src-elem 'self' 'strict-dynamic' 'nonce-r4nd0m'; object-src 'none'"}
      ]
    },
    {"source": "/about", "headers": [{"key": "Content-Security-Policy", "value": "script-src 'self' 'unsafe-inline'"}]}
  ]
}
"""  # noqa: E501
FILES = {"public/_headers": HEADERS, "netlify.toml": NETLIFY, "vercel.json": VERCEL}
# What each file's blocking policies cover: file -> (pattern, pages) of each
BLOCKED = {
    "public/_headers": [("/*", 4)],
    "netlify.toml": [("/docs/*", 2), ("/about", 1)],
    "vercel.json": [("/(.*)", 4)],
}


@pytest.mark.parametrize("name", FILES)
def test_a_blocking_policy_is_a_warning_naming_file_and_pattern(tmp_path: Path, name: str) -> None:
    folder = site(tmp_path)
    (tmp_path / name).write_bytes(FILES[name].encode())
    code, output = build(folder)
    assert code == 0, output
    shown = str(tmp_path / name)
    warnings = [line for line in output.splitlines() if "[xdlink.csp-blocks]" in line]
    assert len(warnings) == len(BLOCKED[name]), output
    for (pattern, pages), warning in zip(BLOCKED[name], warnings, strict=True):
        assert f"{pages} pages whose Content-Security-Policy in {shown} ({pattern})" in warning
    # A build does not touch the file without --update-csp.
    assert (tmp_path / name).read_bytes() == FILES[name].encode()


@pytest.mark.parametrize("name", FILES)
def test_update_csp_writes_the_hash_byte_carefully_and_remove_takes_it_out(
    tmp_path: Path, name: str
) -> None:
    folder = site(tmp_path)
    path = tmp_path / name
    path.write_bytes(FILES[name].encode())
    digest = script_hash(folder)
    code, output = build(folder, "--update-csp")
    assert code == 0, output
    assert "[xdlink.csp-blocks]" not in output
    assert f"Content-Security-Policy in {path}: updated" in output
    text = path.read_bytes().decode()
    # Only the hash came in, once per blocking policy; every other byte is as it was.
    assert text.replace(f" {digest}", "") == FILES[name]
    assert text.count(digest) == len(BLOCKED[name])
    assert _parses(name, text)
    # Nothing more to do: a second run and --check change nothing.
    assert build(folder, "--update-csp", "--check")[0] == 0
    assert path.read_bytes().decode() == text
    # Other settings: the old hash goes, the new one comes.
    code, output = build(folder, "--update-csp", "--ttl", "300")
    assert code == 0, output
    new = path.read_bytes().decode()
    assert digest not in new
    assert new.count("'sha256-") == len(BLOCKED[name])
    # remove takes it out: the file is byte for byte what it was.
    result = CliRunner().invoke(main, ["remove", str(folder), "--update-csp"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == FILES[name].encode()


def _parses(name: str, text: str) -> bool:
    if name.endswith(".toml"):
        tomllib.loads(text)
    elif name.endswith(".json"):
        json.loads(text)
    return True


def test_check_fails_while_the_file_lacks_the_hash(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (folder / "_headers").write_text(HEADERS)
    assert build(folder)[0] == 0
    code, output = build(folder, "--update-csp", "--check")
    assert code == 1, output
    assert f"Content-Security-Policy in {folder / '_headers'}: would be updated" in output
    code, output = build(folder, "--update-csp", "--diff")
    assert "+  Content-Security-Policy: default-src 'self' 'sha256-" in output


def test_an_escaped_string_is_written_again_escaped(tmp_path: Path) -> None:
    folder = site(tmp_path)
    value = "default-src \\u0027self\\u0027"
    (tmp_path / "vercel.json").write_text(
        '{"headers": [{"source": "/(.*)", "headers": '
        f'[{{"key": "Content-Security-Policy", "value": "{value}"}}]}}]}}'
    )
    assert build(folder, "--update-csp")[0] == 0
    data = json.loads((tmp_path / "vercel.json").read_text())
    policy = data["headers"][0]["headers"][0]["value"]
    assert policy == f"default-src 'self' {script_hash(folder)}"


def test_files_above_the_repository_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "netlify.toml").write_text(NETLIFY)
    (tmp_path / "repo").mkdir()
    folder = site(tmp_path / "repo")
    _, output = build(folder)
    assert "[xdlink.csp-blocks]" not in output


def test_a_cloudflare_detach_line_takes_the_policy_off(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (folder / "_headers").write_text(
        "/*\n  Content-Security-Policy: default-src 'self'\n/docs/*\n  ! Content-Security-Policy\n"
    )
    _, output = build(folder)
    assert "2 pages whose Content-Security-Policy" in output


def test_an_unreadable_file_is_a_notice_unless_it_is_to_be_edited(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (tmp_path / "netlify.toml").write_text("[[headers]\n")
    code, output = build(folder)
    assert code == 0
    assert "its Content-Security-Policy and Referrer-Policy are not checked" in output
    assert build(folder, "--update-csp")[0] == 2


def test_external_scripts_need_self(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (folder / "_headers").write_text("/*\n  Content-Security-Policy: script-src https://cdn\n")
    _, output = build(folder, "--external", "assets/xdlink.js")
    assert "blocks the script file" in output
    (folder / "_headers").write_text("/*\n  Content-Security-Policy: script-src 'self'\n")
    _, output = build(folder, "--external", "assets/xdlink.js")
    assert "[xdlink.csp-blocks]" not in output


# --- the Referrer-Policy ---------------------------------------------------------------

FORM = '<form action="https://b.example/search"><button>go</button></form>'
REFERRER_FILES = {
    # each sends no referrer from the docs pages alone
    "public/_headers": (
        "/*\n  Referrer-Policy: origin\n"
        "/docs/*\n  Referrer-Policy: no-referrer\n  X-Frame-Options: DENY\n"
        "/docs/guide\n  Referrer-Policy: bogus\n"
    ),
    "netlify.toml": (
        '[[headers]]\n  for = "/*"\n  [headers.values]\n    Referrer-Policy = "origin"\n'
        '[[headers]]\n  for = "/docs/*"\n  [headers.values]\n'
        '    referrer-policy = "strict-origin, Same-Origin"\n'
    ),
    "vercel.json": json.dumps(
        {
            "headers": [
                {
                    "source": "/docs/(.*)",
                    "headers": [{"key": "Referrer-Policy", "value": "no-referrer"}],
                }
            ]
        }
    ),
}


def form_site(tmp_path: Path) -> Path:
    """The site of the CSP tests, each page holding a form to the other listed domain."""
    folder = site(tmp_path)
    for page in folder.rglob("*.html"):
        page.write_text(PAGE.replace("<body>", f"<body>{FORM}"))
    return folder


@pytest.mark.parametrize("name", REFERRER_FILES)
def test_forms_under_a_header_that_sends_no_referrer_are_named(tmp_path: Path, name: str) -> None:
    """In file order, the last policy the headers of the page's rules name holds."""
    folder = form_site(tmp_path)
    (tmp_path / name).write_text(REFERRER_FILES[name])
    code, output = build(folder, "--silence", "no-init")
    assert code == 0, output
    (warning,) = [line for line in output.splitlines() if "[xdlink.no-referrer]" in line]
    assert warning.startswith("warning: 2 pages with links to a listed domain"), warning
    assert "docs/guide.html" in warning or "docs/index.html" in warning
    assert (tmp_path / name).read_text() == REFERRER_FILES[name]  # read, never edited
    report = api.build(folder, api.make_settings(DOMAINS), write=False)
    assert sorted(report.no_referrer) == ["docs/guide.html", "docs/index.html"]


def test_a_meta_that_sets_a_policy_wins_over_the_header(tmp_path: Path) -> None:
    folder = form_site(tmp_path)
    (folder / "_headers").write_text("/*\n  Referrer-Policy: no-referrer\n")
    # " origin" sets a policy in Firefox alone: Chromium and Safari keep the header's
    for content, counted in [("origin", False), ("bogus", True), (" origin", True)]:
        meta = f'<meta name="referrer" content="{content}">'
        (folder / "about.html").write_text(
            PAGE.replace("<title>", meta + "<title>").replace("<body>", f"<body>{FORM}")
        )
        report = api.build(folder, api.make_settings(DOMAINS), write=False)
        assert ("about.html" in report.no_referrer) is counted, content
        assert "index.html" in report.no_referrer


def test_the_header_counts_for_forms_alone(tmp_path: Path) -> None:
    """A link's referrer the script restores over any page policy."""
    folder = site(tmp_path)
    (folder / "index.html").write_text(
        PAGE.replace("<body>", '<body><a href="https://b.example/">b</a>')
    )
    (folder / "_headers").write_text("/*\n  Referrer-Policy: no-referrer\n")
    report = api.build(folder, api.make_settings(DOMAINS), write=False)
    assert report.links["b.example"].links == 1
    assert report.no_referrer == []


def test_a_cloudflare_detach_line_takes_the_referrer_policy_off(tmp_path: Path) -> None:
    folder = form_site(tmp_path)
    (folder / "_headers").write_text(
        "/*\n  Referrer-Policy: same-origin\n/docs/*\n  ! Referrer-Policy\n"
    )
    report = api.build(folder, api.make_settings(DOMAINS), write=False)
    assert sorted(report.no_referrer) == ["about.html", "index.html"]


def test_a_file_with_a_referrer_policy_alone_is_read_and_left_as_it_is(tmp_path: Path) -> None:
    folder = form_site(tmp_path)
    (folder / "_headers").write_text("/about\n  Referrer-Policy: no-referrer\n")
    before = (folder / "_headers").read_bytes()
    code, output = build(folder, "--update-csp")
    assert code == 0, output
    assert "[xdlink.csp-blocks]" not in output
    assert (folder / "_headers").read_bytes() == before
    report = api.build(folder, api.make_settings(DOMAINS), write=False)
    assert report.no_referrer == ["about.html"]
