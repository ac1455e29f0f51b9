"""The MkDocs plugin and the Sphinx extension, on real builds of two tiny sites.

Each test copies a site from fixtures/integrations/ and runs the real generator in a
subprocess, as a user would, then looks at the pages it wrote.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import xdlink
from tests.helpers import FIXTURES, head_scripts
from xdlink.integrations import settings_from

pytest.importorskip("mkdocs")
pytest.importorskip("sphinx")

SITES = FIXTURES / "integrations"
DOMAINS = "shop.example,docs.example.org"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def html_pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def xdlink_scripts(page: Path | bytes) -> list[object]:
    data = page.read_bytes() if isinstance(page, Path) else page
    return [s for s in head_scripts(data) if "data-xdlink" in s.attrib]


def assert_built(site: Path, pages: int) -> None:
    """Every page has exactly one xdlink script in its head; a second run has no work."""
    found = html_pages(site)
    assert len(found) == pages, found
    for page in found:
        head = head_scripts(page.read_bytes())
        ours = [i for i, script in enumerate(head) if "data-xdlink" in script.attrib]
        inits = [i for i, script in enumerate(head) if "mixpanel.init" in (script.text or "")]
        assert len(ours) == 1, page
        assert len(inits) == 1, page
        assert ours[0] < inits[0], page  # it runs before the page's Mixpanel init
    check = run("-m", "xdlink", "build", str(site), "--domains", DOMAINS, "--check", cwd=site)
    assert check.returncode == 0, check.stdout + check.stderr
    nothing = f"{pages} pages seen, 0 would be injected, 0 would be updated, {pages} unchanged"
    assert nothing in check.stdout


def test_settings_name_the_option_as_configured() -> None:
    settings = settings_from({"domains": ["https://shop.example/", "docs.example.org"]})
    assert settings.domains == ("shop.example", "docs.example.org")
    assert settings.notices  # the URL was reduced to its host
    assert settings_from({"domains": "a.example,b.example", "ttl": 60}).ttl == 60
    with pytest.raises(xdlink.XdlinkError, match=r"^invalid xdlink_ttl 0: "):
        settings_from({"domains": ["a.example"], "ttl": 0}, "xdlink_")
    with pytest.raises(xdlink.XdlinkError, match=r"^xdlink_ttl must be of type int, not bool"):
        settings_from({"domains": ["a.example"], "ttl": True}, "xdlink_")
    with pytest.raises(xdlink.XdlinkError, match=r"^no domains given: set xdlink_domains"):
        settings_from({"domains": []}, "xdlink_")
    with pytest.raises(xdlink.XdlinkError, match=r"^xdlink_include must be a string or a list"):
        settings_from({"domains": ["a.example"], "include": [1]}, "xdlink_")


# --- MkDocs ---------------------------------------------------------------------------


@pytest.fixture
def mkdocs_site(tmp_path: Path) -> Path:
    plugins = importlib.metadata.entry_points(group="mkdocs.plugins", name="xdlink")
    if not plugins:
        pytest.fail("the mkdocs.plugins entry point is not installed: pip install -e '.[dev]'")
    site = tmp_path / "mkdocs-site"
    shutil.copytree(SITES / "mkdocs-site", site)
    return site


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_mkdocs_build(mkdocs_site: Path) -> None:
    built = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert built.returncode == 0, built.stderr
    assert "xdlink: 3 pages seen, 3 injected" in built.stderr
    assert "xdlink: script CSP hash: 'sha256-" in built.stderr
    assert_built(mkdocs_site / "site", pages=3)  # index, other/index, 404


def test_mkdocs_bad_domain_fails_the_build(mkdocs_site: Path) -> None:
    edit(mkdocs_site / "mkdocs.yml", "shop.example,", "shop example,")
    built = run("-m", "mkdocs", "build", cwd=mkdocs_site)
    assert built.returncode != 0
    assert "xdlink: invalid domain 'shop example': separate domains with commas" in built.stderr
    assert not html_pages(mkdocs_site / "site")  # stopped before rendering anything


def test_mkdocs_options_are_typed(mkdocs_site: Path) -> None:
    edit(mkdocs_site / "mkdocs.yml", "docs.example.org]", "docs.example.org]\n      ttl: soon")
    built = run("-m", "mkdocs", "build", cwd=mkdocs_site)
    assert built.returncode != 0
    assert "ttl" in built.stderr
    assert "xdlink: ttl must be of type int, not str" in built.stderr


def test_mkdocs_warnings_fail_only_strict_builds(mkdocs_site: Path) -> None:
    edit(mkdocs_site / "mkdocs.yml", "[shop.example,", "[shopp.example, shop.example,")
    plain = run("-m", "mkdocs", "build", cwd=mkdocs_site)
    assert plain.returncode == 0, plain.stderr
    assert "WARNING -  xdlink: no link in the site points to shopp.example" in plain.stderr
    strict = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert strict.returncode != 0
    assert "Aborted with 1 warnings in strict mode" in strict.stdout + strict.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(site: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    address = f"127.0.0.1:{port}"
    command = [sys.executable, "-m", "mkdocs", "serve", "--no-livereload", "-a", address]
    server = subprocess.Popen(
        command, cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield server
    finally:
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def fetch(url: str, server: subprocess.Popen[str]) -> bytes:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return bytes(response.read())
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_mkdocs_serve_serves_pages_with_the_script(mkdocs_site: Path) -> None:
    port = free_port()
    with serving(mkdocs_site, port) as server:
        for path in ("", "other/"):
            page = fetch(f"http://127.0.0.1:{port}/{path}", server)
            assert len(xdlink_scripts(page)) == 1, path
    assert not (mkdocs_site / "site").exists()  # served from a temporary folder


# --- Sphinx ---------------------------------------------------------------------------


@pytest.fixture
def sphinx_site(tmp_path: Path) -> Path:
    site = tmp_path / "sphinx-site"
    shutil.copytree(SITES / "sphinx-site", site)
    return site


def sphinx(site: Path, builder: str, *options: str) -> subprocess.CompletedProcess[str]:
    out = site.parent / f"out-{builder}"
    return run("-m", "sphinx", "-b", builder, *options, str(site), str(out), cwd=site.parent)


@pytest.mark.parametrize(("builder", "pages"), [("html", 4), ("dirhtml", 4)])
def test_sphinx_build(sphinx_site: Path, builder: str, pages: int) -> None:
    built = sphinx(sphinx_site, builder, "-W")
    assert built.returncode == 0, built.stderr
    assert f"xdlink: {pages} pages seen, {pages} injected" in built.stdout
    out = sphinx_site.parent / f"out-{builder}"
    assert_built(out, pages)  # index, other, genindex, search
    # An incremental build rewrites only some pages; all still carry one script.
    again = sphinx(sphinx_site, builder, "-W")
    assert again.returncode == 0, again.stderr
    assert f"xdlink: {pages} pages seen" in again.stdout
    assert_built(out, pages)


def test_sphinx_other_builders_are_left_alone(sphinx_site: Path) -> None:
    built = sphinx(sphinx_site, "text", "-W")
    assert built.returncode == 0, built.stderr
    assert "xdlink" not in built.stdout + built.stderr
    out = sphinx_site.parent / "out-text"
    assert sorted(path.name for path in out.glob("*.txt")) == ["index.txt", "other.txt"]
    assert not html_pages(out)


@pytest.mark.parametrize("builder", ["html", "text"])
def test_sphinx_bad_domain_fails_the_build(sphinx_site: Path, builder: str) -> None:
    built = sphinx(sphinx_site, builder, "-D", "xdlink_domains=shop example")
    assert built.returncode == 2
    error = "ERROR: xdlink: invalid domain 'shop example': separate domains with commas"
    assert error in built.stderr
    assert not list((sphinx_site.parent / f"out-{builder}").rglob("*.*"))


def test_sphinx_bad_value_type_fails_the_build(sphinx_site: Path) -> None:
    edit(sphinx_site / "conf.py", "xdlink_domains", 'xdlink_ttl = "soon"\nxdlink_domains')
    built = sphinx(sphinx_site, "html")
    assert built.returncode == 2
    assert "xdlink: xdlink_ttl must be of type int, not str" in built.stderr


def test_sphinx_warnings_are_sphinx_warnings(sphinx_site: Path) -> None:
    domains = "xdlink_domains=shopp.example,shop.example,docs.example.org"
    plain = sphinx(sphinx_site, "html", "-D", domains)
    assert plain.returncode == 0, plain.stderr
    assert "WARNING: xdlink: no link in the site points to shopp.example" in plain.stderr
    strict = sphinx(sphinx_site, "html", "-W", "-D", domains)
    assert strict.returncode == 1
    suppressed = sphinx(sphinx_site, "html", "-W", "-D", domains, "-D", "suppress_warnings=xdlink")
    assert suppressed.returncode == 0, suppressed.stderr
    assert "shopp.example" not in suppressed.stderr


# --- strict builds: clean on a correct setup, failing on a real mistake --------------------


def test_mkdocs_strict_build_of_a_correct_setup_is_clean(mkdocs_site: Path) -> None:
    """No site_url, pages whose Mixpanel starts from a file of their own (no init in the
    HTML, the site silences that): nothing to warn about."""
    edit(mkdocs_site / "mkdocs.yml", "site_url: https://docs.example.org/\n", "")
    edit(
        mkdocs_site / "mkdocs.yml",
        "docs.example.org]",
        "docs.example.org]\n      silence: [no-init]",
    )
    (mkdocs_site / "overrides" / "main.html").write_text('{% extends "base.html" %}\n')
    built = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr


def test_mkdocs_unknown_option_and_silenced_kind(mkdocs_site: Path) -> None:
    edit(mkdocs_site / "mkdocs.yml", "docs.example.org]", "docs.example.org]\n      domian: x")
    unknown = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert unknown.returncode != 0
    assert "domian" in unknown.stderr
    edit(mkdocs_site / "mkdocs.yml", "domian: x", "silence: [unlinked-domain]")
    edit(mkdocs_site / "mkdocs.yml", "[shop.example,", "[shopp.example, shop.example,")
    silenced = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert silenced.returncode == 0, silenced.stderr


def test_sphinx_default_project_builds_clean_under_w(sphinx_site: Path) -> None:
    """The default theme's pages start no Mixpanel in their HTML; the site says so."""
    edit(sphinx_site / "conf.py", 'html_baseurl = "https://docs.example.org/"\n', "")
    silence = 'suppress_warnings = ["xdlink.no-init"]\ntemplates_path'
    edit(sphinx_site / "conf.py", "templates_path", silence)
    shutil.rmtree(sphinx_site / "_templates")
    built = sphinx(sphinx_site, "html", "-W")
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr


def test_sphinx_out_of_range_value_is_a_config_error(sphinx_site: Path) -> None:
    edit(sphinx_site / "conf.py", "xdlink_domains", "xdlink_ttl = 99999\nxdlink_domains")
    built = sphinx(sphinx_site, "html")
    assert built.returncode == 2
    assert "xdlink: invalid xdlink_ttl 99999: give seconds from 1 to 3600" in built.stderr
    assert "Traceback" not in built.stderr
    assert "please" not in built.stderr.lower()  # Sphinx's crash report asks to report a bug


def test_sphinx_unknown_setting_warns(sphinx_site: Path) -> None:
    edit(sphinx_site / "conf.py", "xdlink_domains =", 'xdlink_domian = "x"\nxdlink_domains =')
    plain = sphinx(sphinx_site, "html")
    assert plain.returncode == 0, plain.stderr
    assert "xdlink_domian is not an xdlink setting (did you mean xdlink_domains?)" in plain.stderr
    assert sphinx(sphinx_site, "html", "-W").returncode == 1


def test_sphinx_suppresses_one_kind(sphinx_site: Path) -> None:
    domains = "xdlink_domains=shopp.example,shop.example,docs.example.org"
    kind = "suppress_warnings=xdlink.unlinked-domain"
    built = sphinx(sphinx_site, "html", "-W", "-D", domains, "-D", kind)
    assert built.returncode == 0, built.stderr
    other = "suppress_warnings=xdlink.no-init"
    assert sphinx(sphinx_site, "html", "-W", "-D", domains, "-D", other).returncode == 1


# --- one configuration for every entry point -------------------------------------------------


def test_mkdocs_reads_xdlink_toml_for_what_mkdocs_yml_does_not_set(mkdocs_site: Path) -> None:
    edit(
        mkdocs_site / "mkdocs.yml",
        "  - xdlink:\n      domains: [shop.example, docs.example.org]",
        "  - xdlink",
    )
    (mkdocs_site / "xdlink.toml").write_text(f'domains = "{DOMAINS}"\nttl = 300\n')
    built = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert built.returncode == 0, built.stderr
    assert (
        f"xdlink: settings that mkdocs.yml does not set are read from {mkdocs_site / 'xdlink.toml'}"
        in built.stderr
    )
    assert '"t":300' in (mkdocs_site / "site" / "index.html").read_text()
    assert_built(mkdocs_site / "site", pages=3)
    # What mkdocs.yml sets wins.
    edit(mkdocs_site / "mkdocs.yml", "  - xdlink", "  - xdlink:\n      ttl: 60")
    again = run("-m", "mkdocs", "build", "--strict", cwd=mkdocs_site)
    assert again.returncode == 0, again.stderr
    assert '"t":60' in (mkdocs_site / "site" / "index.html").read_text()


def test_mkdocs_strict_option_fails_on_warnings(mkdocs_site: Path) -> None:
    edit(mkdocs_site / "mkdocs.yml", "[shop.example,", "[shopp.example, shop.example,")
    (mkdocs_site / "xdlink.toml").write_text("strict = true\n")
    built = run("-m", "mkdocs", "build", cwd=mkdocs_site)
    assert built.returncode != 0
    assert "xdlink: strict is set and the build gave 1 warnings" in built.stderr


def test_sphinx_reads_pyproject_for_what_conf_py_does_not_set(sphinx_site: Path) -> None:
    edit(sphinx_site / "conf.py", 'xdlink_domains = ["shop.example", "docs.example.org"]\n', "")
    (sphinx_site / "pyproject.toml").write_text(
        f'[project]\nname = "docs"\n\n[tool.xdlink]\ndomains = "{DOMAINS}"\nttl = 300\n'
    )
    built = sphinx(sphinx_site, "html", "-W")
    assert built.returncode == 0, built.stderr
    line = (
        f"xdlink: settings that conf.py does not set are read from {sphinx_site / 'pyproject.toml'}"
    )
    assert line in built.stdout
    out = sphinx_site.parent / "out-html"
    assert '"t":300' in (out / "index.html").read_text()
    # conf.py and -D win over the file.
    again = sphinx(sphinx_site, "html", "-W", "-D", "xdlink_ttl=60")
    assert again.returncode == 0, again.stderr
    assert '"t":60' in (out / "index.html").read_text()


def test_sphinx_speaks_in_its_own_option_names(sphinx_site: Path) -> None:
    # A _headers file copied into the output whose policy blocks the script: its warning
    # names two options.
    (sphinx_site / "extra").mkdir()
    (sphinx_site / "extra" / "_headers").write_text(
        "/*\n  Content-Security-Policy: script-src 'self'\n"
    )
    with (sphinx_site / "conf.py").open("a") as conf:
        conf.write('html_extra_path = ["extra"]\n')
    built = sphinx(sphinx_site, "html")
    assert built.returncode == 0, built.stderr
    assert "xdlink_update_csp writes its hash there" in built.stderr
    assert "use xdlink_external" in built.stderr
    assert "--update-csp" not in built.stdout + built.stderr
