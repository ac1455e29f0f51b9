"""The library stands without the command line: importing xdlink, running it from Python,
its worker processes and the generator plugins load no click; Jinja2 is loaded only
where the script is rendered. Each check runs in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "<!doctype html><html><head><title>{n}</title></head><body><p>{n}</p></body></html>"
# The modules that own the command line: the only ones that may import click.
COMMAND_LINE = {"xdlink.cli", "xdlink.cli_options", "xdlink.__main__"}


def run_python(code: str, cwd: Path | None = None) -> str:
    """Run ``code`` in a new interpreter that imports this worktree's xdlink."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_import_xdlink_loads_neither_click_nor_jinja2() -> None:
    loaded = run_python(
        """
        import sys
        import xdlink
        print(sorted(name for name in ("click", "jinja2") if name in sys.modules))
        """
    )
    assert loaded.strip() == "[]"


def test_the_command_line_does_load_click() -> None:
    """The control: the check above sees click where it is imported."""
    loaded = run_python("import sys, xdlink.cli; print('click' in sys.modules)")
    assert loaded.strip() == "True"


def test_no_module_but_the_command_line_imports_click() -> None:
    """With click made unimportable, every other module of the package imports; the MkDocs
    plugin is left out because MkDocs itself imports click (its own command line)."""
    imported = run_python(
        f"""
        import pkgutil, sys
        sys.modules["click"] = None  # any import of click now raises ImportError
        import xdlink
        names = [m.name for m in pkgutil.walk_packages(xdlink.__path__, "xdlink.")]
        skipped = {sorted(COMMAND_LINE)!r} + ["xdlink.integrations.mkdocs"]
        for name in names:
            if name not in skipped:
                __import__(name)
        print(len(names))
        """
    )
    assert int(imported) > 20


def test_the_mkdocs_plugin_leaves_the_command_line_alone() -> None:
    pytest.importorskip("mkdocs")
    loaded = run_python(
        f"""
        import sys
        from xdlink.integrations import mkdocs
        mkdocs.XdlinkPlugin
        print(sorted(name for name in {sorted(COMMAND_LINE)!r} if name in sys.modules))
        """
    )
    assert loaded.strip() == "[]"


def test_workers_build_a_site_without_click(tmp_path: Path) -> None:
    """A run in worker processes, with click unimportable: a page whose work imported
    click would be reported as an error."""
    for number in range(300):
        (tmp_path / f"page{number}.html").write_text(PAGE.format(n=number))
    counts = run_python(
        f"""
        import sys
        sys.modules["click"] = None
        import xdlink
        settings = xdlink.make_settings("shop.example,docs.example.org", jobs=2)
        report = xdlink.build({str(tmp_path)!r}, settings)
        print(report.counts["injected"], len(report.errors))
        """
    )
    assert counts.split() == ["300", "0"]


@pytest.mark.parametrize(("command", "renders"), [("remove", False), ("build", True)])
def test_jinja2_is_loaded_only_to_render_the_script(
    tmp_path: Path, command: str, renders: bool
) -> None:
    (tmp_path / "index.html").write_text(PAGE.format(n=1))
    call = "xdlink.remove(site)" if command == "remove" else "xdlink.build(site, settings)"
    loaded = run_python(
        f"""
        import sys
        import xdlink
        site = {str(tmp_path)!r}
        settings = xdlink.make_settings("shop.example,docs.example.org")
        report = {call}
        assert not report.errors, report.errors
        print("jinja2" in sys.modules)
        """
    )
    assert loaded.strip() == str(renders)


def modules_loaded(
    folder: Path, pages: int, script: str, jobs: int, modules: tuple[str, ...]
) -> list[bool]:
    """Build ``pages`` pages whose head ends with ``script``, in a fresh interpreter with
    ``jobs`` processes; return which of ``modules`` the build loaded there."""
    for number in range(pages):
        page = PAGE.format(n=number).replace("</head>", script + "</head>")
        (folder / f"page{number}.html").write_text(page)
    loaded = run_python(
        f"""
        import sys
        import xdlink
        settings = xdlink.make_settings("shop.example,docs.example.org", jobs={jobs})
        report = xdlink.build({str(folder)!r}, settings)
        assert report.counts["injected"] == {pages}, report.counts
        print(*(name in sys.modules for name in {modules!r}))
        """
    )
    return [word == "True" for word in loaded.split()]


@pytest.mark.parametrize(("pages", "pool"), [(50, False), (300, True)])
def test_a_small_site_waits_on_no_process_pool(tmp_path: Path, pages: int, pool: bool) -> None:
    """A command that builds 50 pages waits on no process pool and no import it does not
    use: below two chunks of pages the run stays in one process and never imports the
    pool's modules; the larger site is the control, where they are seen. Pages whose init
    is in a head script need no lxml tree either."""
    init = "<script>mixpanel.init('token')</script>"
    modules = ("concurrent.futures.process", "multiprocessing", "lxml")
    assert modules_loaded(tmp_path, pages, init, 2, modules) == [pool, pool, False]


@pytest.mark.parametrize("netlify_toml", [False, True])
def test_tomllib_is_loaded_only_to_read_a_toml_file(tmp_path: Path, netlify_toml: bool) -> None:
    """Most sites have no netlify.toml and most runs no configuration file: a build reads
    TOML, and imports its reader, only when one is there (the control)."""
    site = tmp_path / "public"
    site.mkdir()
    (site / "index.html").write_text(PAGE.format(n=1))
    if netlify_toml:
        (tmp_path / ".git").mkdir()
        (tmp_path / "netlify.toml").write_text(
            '[[headers]]\nfor = "/*"\n[headers.values]\nX-Frame-Options = "DENY"\n'
        )
    loaded = run_python(
        f"""
        import sys
        import xdlink
        settings = xdlink.make_settings("shop.example,docs.example.org")
        report = xdlink.build({str(site)!r}, settings)
        assert not report.errors, report.errors
        print("tomllib" in sys.modules)
        """
    )
    assert loaded.strip() == str(netlify_toml)


@pytest.mark.parametrize(
    ("script", "reads"),
    [
        ("", False),
        ("<script>var shown = 'mixpanel and posthog';</script>", False),
        ("<script>mixpanel.init('token')</script>", True),
        ("<script>posthog.init('phc_key', {api_host: '/ingest'})</script>", True),
    ],
)
def test_the_javascript_reader_is_loaded_only_to_read_an_init(
    tmp_path: Path, script: str, reads: bool
) -> None:
    """A site whose pages call no SDK's init in their HTML (documentation, a bundled SDK)
    never loads the reader of JavaScript values, even where the SDKs' names stand in a
    script; a page with a call loads it to read the call (the controls)."""
    assert modules_loaded(tmp_path, 300, script, 1, ("xdlink.jsliteral",)) == [reads]
