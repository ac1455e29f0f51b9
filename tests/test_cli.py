"""The command line through click's CliRunner: exit codes, messages, options, config."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.helpers import FIXTURES
from xdlink.cli import main

DOMAINS = "shop.example,docs.example.org"


def invoke(*args: str | Path, cwd: Path | None = None) -> Result:
    """Run the CLI; on failure the message shows everything it printed."""
    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)
    finally:
        os.chdir(old)


def output_of(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(FIXTURES / "example", target)
    return target


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_build_then_check_then_remove_restores_every_byte(site: Path) -> None:
    before = snapshot(site)
    result = invoke("build", site, "--domains", DOMAINS, cwd=site)
    assert result.exit_code == 0, output_of(result)
    assert "3 pages seen, 2 injected, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    assert "script CSP hash: 'sha256-" in result.stdout
    built = snapshot(site)
    assert built != before

    again = invoke("build", site, "--domains", DOMAINS, cwd=site)
    assert again.exit_code == 0, output_of(again)
    assert "0 injected, 0 updated, 2 unchanged" in again.stdout
    assert snapshot(site) == built, "a second build rewrote a file"

    check = invoke("build", site, "--domains", DOMAINS, "--check", cwd=site)
    assert check.exit_code == 0, output_of(check)

    removed = invoke("remove", site, cwd=site)
    assert removed.exit_code == 0, output_of(removed)
    assert {path: data for path, (data, _) in snapshot(site).items()} == {
        path: data for path, (data, _) in before.items()
    }


def test_check_exits_1_and_writes_nothing(site: Path) -> None:
    before = snapshot(site)
    result = invoke("build", site, "--domains", DOMAINS, "--check", cwd=site)
    assert result.exit_code == 1, output_of(result)
    assert "2 would be injected" in result.stdout
    assert "--check failed: 2 pages would change (2 page changed: it has no xdlink script)" in (
        result.stderr
    )
    assert snapshot(site) == before


def test_remove_check(site: Path) -> None:
    assert invoke("build", site, "-d", DOMAINS, cwd=site).exit_code == 0
    result = invoke("remove", site, "--check", cwd=site)
    assert result.exit_code == 1, output_of(result)
    assert "2 would be removed" in result.stdout


def test_dry_run_and_diff_write_nothing(site: Path) -> None:
    before = snapshot(site)
    dry = invoke("build", site, "-d", DOMAINS, "--dry-run", "-v", cwd=site)
    assert dry.exit_code == 0, output_of(dry)
    assert f"would change: {site / 'blog' / 'first-post.html'}" in dry.stdout
    # Without -v, a page is named only where it needs a look (an error, a warning).
    quiet = invoke("build", site, "-d", DOMAINS, "--dry-run", cwd=site)
    assert "would change: " not in quiet.stdout + quiet.stderr, output_of(quiet)
    assert "3 pages seen" in quiet.stdout
    diff = invoke("build", site, "-d", DOMAINS, "--diff", cwd=site)
    assert diff.exit_code == 0, output_of(diff)
    assert "--- a/index.html\n+++ b/index.html\n" in diff.stdout
    assert '<meta charset="utf-8"><script data-xdlink="' in diff.stdout
    assert snapshot(site) == before


def test_json_report(site: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--format", "json", cwd=site)
    assert result.exit_code == 0, output_of(result)
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "seen": 3,
        "injected": 2,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
        "skipped": 1,
        "errors": 0,
    }
    assert report["skipped"] == {"fragment (no doctype, <html>, <head> or <body>)": 1}
    assert report["changed"] == ["blog/first-post.html", "index.html"]
    assert report["tokens"] == ["5d9e4a1b2c3d4e5f60718293a4b5c6d7"]
    assert report["csp_hashes"][0].startswith("'sha256-")
    assert report["site"] == str(site)
    assert report["warnings"] == []  # no link to shop.example: the site's own, not a typo


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "shop.example docs.example.org",
            "Error: invalid domain 'shop.example docs.example.org': separate domains with commas,"
            " as in 'shop.example,docs.example.org'",
        ),
        ("shop.example:8080", "Error: invalid domain 'shop.example:8080': drop the port"),
        (".example.org", "Error: invalid domain '.example.org': write '*.example.org' for"),
        ("github.io", "Error: invalid domain 'github.io': github.io is a public suffix"),
        ("*.co.uk", "Error: invalid domain '*.co.uk': co.uk is a public suffix"),
        ("com", "Error: invalid domain 'com': com is a public suffix"),
        ("-shop.example", "Error: invalid domain '-shop.example': not a host name"),
        ("127.0.0.1", "Error: invalid domain '127.0.0.1': an IP address, not a domain name"),
        ("https://shop.example/cart", "Error: invalid domain 'https://shop.example/cart': give"),
        ("ftp://shop.example", "Error: invalid domain 'ftp://shop.example': not a host name"),
        ("a_b.example", "Error: invalid domain 'a_b.example': not a host name"),
        (",", "Error: no domains given"),
    ],
)
def test_bad_domain_is_a_usage_error_and_writes_nothing(
    site: Path, value: str, message: str
) -> None:
    before = snapshot(site)
    result = invoke("build", site, "--domains", value, cwd=site)
    assert result.exit_code == 2, output_of(result)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(site) == before


def test_url_domain_is_normalised_with_a_notice(site: Path) -> None:
    result = invoke(
        "build", site, "-d", "HTTPS://Shop.Example/", "-d", "docs.example.org", cwd=site
    )
    assert result.exit_code == 0, output_of(result)
    assert "notice: domain 'HTTPS://Shop.Example/' is a URL; using its host 'shop.example'" in (
        result.stderr
    )


def test_idn_and_wildcard_domains(site: Path) -> None:
    result = invoke(
        "build", site, "-d", "Bücher.example,*.Example.org", "--format", "json", cwd=site
    )
    assert result.exit_code == 0, output_of(result)
    page = (site / "index.html").read_text()
    assert r'"d":"(^|\\.)(xn--bcher-kva\\.example)\\.?$|\\.(example\\.org)\\.?$"' in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "a b"], "Error: invalid --param 'a b'"),
        (["--ttl", "0"], "Error: invalid --ttl 0"),
        (["--token", "0123456789abcdef0123456789abcdef"], "Error: No such option '--token'"),
        (["--consent"], "Error: No such option '--consent'"),
    ],
)
def test_bad_options(site: Path, args: list[str], message: str) -> None:
    result = invoke("build", site, "-d", DOMAINS, *args, cwd=site)
    assert result.exit_code == 2, output_of(result)
    assert message in result.stderr


def test_missing_site_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("build", tmp_path / "nope", "-d", DOMAINS, cwd=tmp_path)
    assert result.exit_code == 2, output_of(result)
    assert f"Error: site folder {tmp_path / 'nope'} does not exist" in result.stderr


def test_site_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html>")
    result = invoke("build", page, "-d", DOMAINS, cwd=tmp_path)
    assert result.exit_code == 2, output_of(result)
    assert "is not a folder" in result.stderr or "is a file" in result.stderr


def test_read_only_page_is_reported_and_left_alone(site: Path) -> None:
    page = site / "index.html"
    page.chmod(0o444)
    before = page.read_bytes()
    result = invoke("build", site, "-d", DOMAINS, cwd=site)
    assert result.exit_code == 3, output_of(result)
    message = f"error: cannot process {page}: the page is read-only; left as it is"
    assert message in result.stderr
    assert "1 errors" in result.stdout
    assert page.read_bytes() == before
    assert (site / "blog" / "first-post.html").read_bytes() != before


def test_json_report_gives_each_reason_by_its_stable_code(site: Path) -> None:
    (site / "index.html").chmod(0o444)
    result = invoke("build", site, "-d", DOMAINS, "--format", "json", cwd=site)
    assert result.exit_code == 3, output_of(result)
    report = json.loads(result.stdout)
    assert report["reason_codes"] == {
        "skipped": {"fragment": 1},
        "changed": {"new-page": 1},
        "failed": {"index.html": "read-only"},
    }
    assert report["skipped"] == {"fragment (no doctype, <html>, <head> or <body>)": 1}


def test_symlink_out_of_site_is_never_written(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.html"
    shutil.copy(site / "index.html", outside)
    original = outside.read_bytes()
    (site / "linked.html").symlink_to(outside)
    (site / "loop").symlink_to(site)
    result = invoke("build", site, "-d", DOMAINS, "--format", "json", cwd=site)
    assert result.exit_code == 0, output_of(result)
    assert outside.read_bytes() == original
    report = json.loads(result.stdout)
    assert report["skipped"]["symbolic link"] == 1
    assert (site / "linked.html").is_symlink()


def test_include_and_exclude(site: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--exclude", "blog/**", "-v", cwd=site)
    assert result.exit_code == 0, output_of(result)
    assert f"changed: {site / 'index.html'}" in result.stdout
    assert "blog/" not in result.stdout
    only = invoke("build", site, "-d", DOMAINS, "--include", "blog/*.html", "--check", cwd=site)
    assert only.exit_code == 1
    assert "1 pages seen" in only.stdout


def test_config_file_and_precedence(site: Path, tmp_path: Path) -> None:
    (tmp_path / "xdlink.toml").write_text(
        'domains = ["shop.example", "docs.example.org"]\nparam = "cfg"\n'
    )
    result = invoke("build", site, cwd=tmp_path)
    assert result.exit_code == 0, output_of(result)
    assert '"p":"cfg"' in (site / "index.html").read_text()
    flag = invoke("build", site, "--param", "flag", cwd=tmp_path)
    assert flag.exit_code == 0, output_of(flag)
    assert '"p":"flag"' in (site / "index.html").read_text()
    assert "2 updated" in flag.stdout


def test_pyproject_config_and_explicit_config(site: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.xdlink]\ndomains = "shop.example"\nttl = 60\n')
    result = invoke("build", site, cwd=tmp_path)
    assert result.exit_code == 0, output_of(result)
    assert '"t":60' in (site / "index.html").read_text()
    other = tmp_path / "other.toml"
    other.write_text('domains = "docs.example.org"\nttl = 90\n')
    explicit = invoke("build", site, "--config", other, cwd=tmp_path)
    assert explicit.exit_code == 0, output_of(explicit)
    assert '"t":90' in (site / "index.html").read_text()


def test_bad_config_is_a_usage_error(site: Path, tmp_path: Path) -> None:
    (tmp_path / "xdlink.toml").write_text("domain = 'typo.example'\n")
    result = invoke("build", site, cwd=tmp_path)
    assert result.exit_code == 2, output_of(result)
    assert "xdlink.toml: unknown setting 'domain'" in result.stderr


def help_examples(command: str) -> list[list[str]]:
    """The command lines under "Example:" in a command's help, continuations joined."""
    result = invoke(command, "--help")
    assert result.exit_code == 0
    text = result.stdout.split("Example:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    return [
        shlex.split(line)[1:] for line in text.splitlines() if line.strip().startswith("xdlink ")
    ]


def test_every_command_has_help_with_an_example() -> None:
    for command in main.commands:
        examples = help_examples(command)
        assert examples, command
        assert all(example[0] == command for example in examples)


def test_help_examples_run_as_written(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "example", tmp_path / "public")
    for command in ("build", "snippet", "remove"):
        for example in help_examples(command):
            result = invoke(*example, cwd=tmp_path)
            assert result.exit_code == 0, f"{example}: {output_of(result)}"
    for example in help_examples("verify"):  # parsed only: a verify run is a browser test
        context = main.commands["verify"].make_context("verify", example[1:])
        assert context.params["sites"] or context.params["urls"], example


def test_python_dash_m_runs() -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "xdlink", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("xdlink, version ")


# A process that notes on stderr whether the interpreter's teardown ran (its atexit
# handlers run only then), running the command as the console script and -m do.
_TEARDOWN_NOTED = """
import atexit, sys
atexit.register(lambda: print("teardown ran", file=sys.stderr))
from xdlink.cli import run
sys.argv = ["xdlink", *sys.argv[1:]]
run()
"""


def _command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", _TEARDOWN_NOTED, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("write", [True, False])
def test_a_page_command_ends_once_its_report_is_out(site: Path, write: bool) -> None:
    """Build and remove end their process as soon as the report is printed, without the
    interpreter's teardown: the whole report reaches the pipe, the same as the command
    run in-process prints for a copy of the site, with its exit code (1 for a --check
    that finds pages to change)."""
    twin = site.with_name("twin")
    shutil.copytree(site, twin)
    commands = [["build", "--domains", DOMAINS, "-v", *([] if write else ["--check"])]]
    commands += [["remove", "-v"]] if write else []
    for command, *flags in commands:
        ended = _command(command, site, *flags)
        expected = invoke(command, twin, *flags)
        assert "teardown ran" not in ended.stderr
        assert ended.returncode == expected.exit_code == (0 if write else 1), ended.stderr
        assert ended.stdout == expected.stdout.replace(str(twin), str(site))
        assert len(ended.stdout.splitlines()) >= 3


@pytest.mark.parametrize(
    "args", [["--version"], ["snippet", "--domains", DOMAINS], ["build", "/nonexistent"]]
)
def test_other_commands_and_usage_errors_end_the_usual_way(args: list[str]) -> None:
    """The control: any other exit runs the teardown, as a process normally does."""
    assert "teardown ran" in _command(*args).stderr


def test_external_script_file(site: Path) -> None:
    before = snapshot(site)
    init = '<script>mixpanel.init("5d9e4a1b2c3d4e5f60718293a4b5c6d7", {persistence: "cookie"})'
    (site / "blog" / "based.html").write_text(
        f'<!DOCTYPE html><html><head><base href="/blog/"><title>b</title>{init}</script></head>'
    )
    result = invoke("build", site, "-d", DOMAINS, "--external", "assets/js/xdlink.js", cwd=site)
    assert result.exit_code == 0, output_of(result)
    (script,) = (site / "assets" / "js").iterdir()
    assert script.name.startswith("xdlink.")
    assert script.suffix == ".js"
    assert script.read_bytes().startswith(b"/*! xdlink ")
    assert f"script file {site / 'assets/js' / script.name}: written" in result.stdout
    assert "script CSP hash" not in result.stdout
    tag = f'src="../assets/js/{script.name}"></script>'
    assert tag in (site / "blog" / "first-post.html").read_text()
    assert f'src="assets/js/{script.name}"></script>' in (site / "index.html").read_text()
    assert f'src="/assets/js/{script.name}"></script>' in (site / "blog/based.html").read_text()

    again = invoke("build", site, "-d", DOMAINS, "--external", "assets/js/xdlink.js", "--check")
    assert again.exit_code == 0, output_of(again)
    script.unlink()
    missing = invoke("build", site, "-d", DOMAINS, "--external", "assets/js/xdlink.js", "--check")
    assert missing.exit_code == 1, output_of(missing)
    assert "would be written" in missing.stdout

    other = invoke("build", site, "-d", DOMAINS, "--external", "assets/js/xdlink.js", "--ttl", "60")
    assert other.exit_code == 0, output_of(other)
    (newer,) = (site / "assets" / "js").iterdir()
    assert newer.name != script.name

    (site / "blog" / "based.html").unlink()
    removed = invoke("remove", site)
    assert removed.exit_code == 0, output_of(removed)
    assert "removed" in removed.stdout
    assert not (site / "assets").exists()
    assert {path: data for path, (data, _) in snapshot(site).items()} == {
        path: data for path, (data, _) in before.items()
    }


@pytest.mark.parametrize("value", ["../outside.js", "/abs/x.js", "assets/xdlink.txt"])
def test_external_must_be_a_script_inside_the_site(site: Path, value: str) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--external", value)
    assert result.exit_code == 2, output_of(result)
    assert f"Error: invalid --external {value!r}" in result.stderr


def test_external_never_writes_through_a_link_out_of_the_site(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (site / "assets").symlink_to(outside)
    result = invoke("build", site, "-d", DOMAINS, "--external", "assets/xdlink.js")
    assert result.exit_code == 3, output_of(result)
    assert "leads outside the site" in result.stderr
    assert list(outside.iterdir()) == []


def test_snippet_prints_the_script_and_its_hash() -> None:
    result = invoke("snippet", "-d", DOMAINS)
    assert result.exit_code == 0, output_of(result)
    element = result.stdout.strip()
    assert element.startswith('<script data-xdlink="')
    assert element.endswith("</script>")
    assert result.stderr.startswith("script CSP hash: 'sha256-")
    bare = invoke("snippet", "-d", DOMAINS, "--js", "--format", "json")
    assert bare.exit_code == 0, output_of(bare)
    data = json.loads(bare.stdout)
    assert not data["script"].startswith("<")
    digest = base64.b64encode(hashlib.sha256(data["script"].encode()).digest()).decode()
    assert data["csp_hash"] == f"'sha256-{digest}'"


def _built_script(tmp_path: Path, head: str) -> str:
    """The script ``xdlink build`` gives a page with this head."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(
        f"<!doctype html><html><head>{head}</head><body></body></html>"
    )
    assert invoke("build", site, "-d", DOMAINS, "-q").exit_code == 0
    text = (site / "index.html").read_text()
    start = text.index("<script data-xdlink")
    return text[start : text.index("</script>", start) + len("</script>")]


MIXPANEL_INIT = '<script>mixpanel.init("0123456789abcdef0123456789abcdef")</script>'
POSTHOG_INIT = '<script>posthog.init("phc_0123456789", {})</script>'


@pytest.mark.parametrize(
    ("sdk", "head"),
    [
        ("mixpanel", MIXPANEL_INIT),
        ("posthog", POSTHOG_INIT),
        ("posthog,mixpanel", MIXPANEL_INIT + POSTHOG_INIT),
        (None, ""),
    ],
)
def test_snippet_is_the_script_build_gives_a_page_that_starts_the_sdks(
    tmp_path: Path, sdk: str | None, head: str
) -> None:
    """ "--sdk ... says which SDKs the page starts: the script holds the code of those alone,
    as `xdlink build` gives a page that starts them"; without it, both."""
    result = invoke("snippet", "-d", DOMAINS, *(("--sdk", sdk) if sdk else ()))
    assert result.exit_code == 0, output_of(result)
    assert result.stdout.strip() == _built_script(tmp_path, head)


def test_snippet_names_the_sdks_it_knows() -> None:
    result = invoke("snippet", "-d", DOMAINS, "--sdk", "mixpanel,amplitude")
    assert result.exit_code == 2, output_of(result)
    assert "Error: invalid --sdk 'mixpanel,amplitude': give mixpanel, posthog or both" in (
        result.stderr
    )


def test_snippet_needs_domains() -> None:
    result = invoke("snippet")
    assert result.exit_code == 2, output_of(result)
    assert "Error: no domains given" in result.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('param = "</script><!--"', "invalid --param '</script><!--'"),
        ('param = "abc\\u2028def"', "invalid --param 'abc\\u2028def'"),
        ('domains = ["shop.example\\"><script>"]', "invalid domain"),
        ('domains = ["shop.example\\u0000"]', "invalid domain"),
        ("ttl = true", "ttl must be of type int"),
        ('external = "../../etc/x.js"', "invalid --external '../../etc/x.js'"),
    ],
)
def test_hostile_config_values_are_refused(
    site: Path, tmp_path: Path, line: str, message: str
) -> None:
    before = snapshot(site)
    default = "" if line.startswith("domains") else 'domains = ["shop.example"]\n'
    (tmp_path / "xdlink.toml").write_text(f"{default}{line}\n")
    result = invoke("build", site, cwd=tmp_path)
    assert result.exit_code == 2, output_of(result)
    assert message in result.stderr
    assert snapshot(site) == before


def test_json_report_keys_are_stable(site: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--format", "json")
    assert list(json.loads(result.stdout)) == [
        "command",
        "site",
        "config",
        "write",
        "counts",
        "skipped",
        "changed",
        "errors",
        "notices",
        "warnings",
        "csp_hashes",
        "script_files",
        "csp_files",
        "tokens",
        "links",
        "placements",
        "interrupted",
        "exit_code",
        "reason_codes",
    ]


def test_build_reports_the_links_to_each_listed_domain(tmp_path: Path) -> None:
    head = '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
    pages = {
        "a/index.html": '<a href="https://docs.example.org/">d</a>'
        '<a href="//docs.example.org/x">x</a>',
        "b.html": '<a href="https://www.docs.example.org/y">y</a>',
        "c.html": "<p>docs.example.org, in words only</p>",
    }
    for name, body in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"{head}{body}</body></html>")
    result = invoke("build", tmp_path, "-d", DOMAINS, "--dry-run")
    lines = result.stdout.splitlines()
    assert f"links to docs.example.org: 3 on 2 pages (e.g. {tmp_path}/a/index.html)" in lines
    assert "links to shop.example: none" in lines
    report = json.loads(invoke("build", tmp_path, "-d", DOMAINS, "--format", "json").stdout)
    assert report["links"] == {
        "shop.example": {"links": 0, "pages": 0, "example": None},
        "docs.example.org": {"links": 3, "pages": 2, "example": "a/index.html"},
    }
