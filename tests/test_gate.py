"""A gate that cannot pass by mistake: runs that see nothing, source folders, leftovers,
warnings with kinds a strict build can silence one by one, and the configuration file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import xdlink
from tests.helpers import FIXTURES, ROOT
from tests.test_cli import DOMAINS, invoke, output_of, snapshot
from xdlink.site import inline_hashes

HEAD = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head>'


# PostHog's official snippet and init, as its documentation gives them.
POSTHOG_SNIPPET = (
    "<script>"
    + (ROOT / "tests" / "browser" / "posthog-snippet.js").read_text()
    + "posthog.init('phc_abc', {api_host: 'https://us.i.posthog.com', defaults: '2025-05-24'})"
    + "</script>"
)


def page(body: str = "", head: str = "") -> str:
    return HEAD.replace("</head>", f"{head}</head>") + f"<body>{body}</body></html>\n"


def make_site(root: Path, pages: dict[str, str]) -> Path:
    for name, text in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(
        tmp_path / "public",
        {"index.html": page('<a href="https://docs.example.org/">d</a>'), "a/b.html": page()},
    )


# --- runs that see nothing ------------------------------------------------------------


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_an_empty_site_fails(tmp_path: Path, check: list[str]) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "style.css").write_text("body {}")
    result = invoke("build", tmp_path / "public", "-d", DOMAINS, *check)
    assert result.exit_code == 2, output_of(result)
    assert f"Error: no page in {tmp_path / 'public'}: no .html, .htm or .xhtml file" in (
        result.stderr
    )


def test_patterns_that_leave_no_page_fail(site: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--include", "blog/**")
    assert result.exit_code == 2, output_of(result)
    assert "no page of" in result.stderr
    assert "is left by the include and exclude patterns (2 pages before them)" in result.stderr


def test_a_pattern_that_matches_nothing_warns(site: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--exclude", "drafts/**")
    assert result.exit_code == 0, output_of(result)
    assert "warning: exclude 'drafts/**' matches no page [xdlink.unmatched-pattern]" in (
        result.stderr
    )


# --- source folders ---------------------------------------------------------------------


def hugo_source(root: Path) -> Path:
    baseof = (
        '<!DOCTYPE html>\n<html lang="{{ .Site.LanguageCode }}">\n<head>\n'
        '  <meta charset="utf-8">\n  {{- partial "head.html" . -}}\n</head>\n'
        '<body>{{ block "main" . }}{{ end }}</body>\n</html>\n'
    )
    return make_site(root, {"hugo.toml": "title = 'x'\n", "layouts/_default/baseof.html": baseof})


def test_a_generator_source_folder_is_refused(tmp_path: Path) -> None:
    source = hugo_source(tmp_path / "site")
    before = snapshot(source)
    result = invoke("build", source, "-d", DOMAINS)
    assert result.exit_code == 2, output_of(result)
    assert (
        f"Error: {source} looks like the source of a Hugo site (hugo.toml is there), not its "
        f"output: run xdlink on the folder the generator writes ({source / 'public'} by "
        "default), or pass --built"
    ) in " ".join(result.stderr.split())
    assert snapshot(source) == before


def test_template_pages_are_left_alone_unless_built_is_given(tmp_path: Path) -> None:
    layouts = hugo_source(tmp_path / "site") / "layouts"
    before = snapshot(layouts)
    result = invoke("build", layouts, "-d", DOMAINS)
    assert result.exit_code == 0, output_of(result)
    assert "1 skipped (1 template syntax in <head>)" in result.stdout
    assert "[xdlink.template-pages]" in result.stderr
    assert snapshot(layouts) == before
    served_as_they_are = invoke("build", layouts, "-d", DOMAINS, "--built")
    assert "1 injected" in served_as_they_are.stdout


def test_mkdocs_and_sphinx_sources_are_named(tmp_path: Path) -> None:
    for config, generator in [("mkdocs.yml", "MkDocs"), ("conf.py", "Sphinx")]:
        folder = make_site(tmp_path / generator, {config: "", "index.html": page()})
        result = invoke("build", folder, "-d", DOMAINS)
        assert result.exit_code == 2
        assert f"looks like the source of a {generator} site ({config} is there)" in result.stderr


def test_sphinx_split_layout_is_known(tmp_path: Path) -> None:
    """sphinx-quickstart --sep: conf.py in source/, the site in build/html."""
    root = make_site(tmp_path / "docs", {"source/conf.py": "", "source/index.html": page()})
    (root / "build").mkdir()
    (root / "Makefile").write_text("SOURCEDIR = source\nBUILDDIR = build\n")
    source = root / "source"
    result = invoke("build", source, "-d", DOMAINS)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"({root / 'build' / 'html'} by default)" in message
    assert "_build" not in message
    # The project's root, with conf.py in source/, is refused too.
    result = invoke("build", root, "-d", DOMAINS)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "looks like the source of a Sphinx site (source/conf.py is there)" in message
    assert f"({root / 'build' / 'html'} by default)" in message
    # Its output is not.
    make_site(root / "build" / "html", {"index.html": page()})
    assert invoke("build", root / "build" / "html", "-d", DOMAINS).exit_code == 0


# --- remove and the script files ---------------------------------------------------------


def test_remove_ignores_the_configuration_files_exclude(site: Path, tmp_path: Path) -> None:
    original = snapshot(site)
    assert invoke("build", site, "-d", DOMAINS, cwd=tmp_path).exit_code == 0
    (tmp_path / "xdlink.toml").write_text('domains = ["shop.example"]\nexclude = ["a/**"]\n')
    result = invoke("remove", site, cwd=tmp_path)
    assert result.exit_code == 0, output_of(result)
    assert {k: v[0] for k, v in snapshot(site).items()} == {k: v[0] for k, v in original.items()}
    narrowed = invoke("build", site, "-d", DOMAINS, "--exclude", "a/**", cwd=tmp_path)
    assert "a/b.html" not in narrowed.stdout
    assert "1 injected" in narrowed.stdout


def test_every_script_file_goes_when_switching_back_to_inline(site: Path) -> None:
    assert invoke("build", site, "-d", DOMAINS, "--external", "assets/xdlink.js").exit_code == 0
    assert (
        invoke("build", site, "-d", DOMAINS, "--external", "js/x.js", "--ttl", "9").exit_code == 0
    )
    files = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.js"))
    assert len(files) == 1
    assert files[0].startswith("js/x.")
    inline = invoke("build", site, "-d", DOMAINS, "-v")
    assert inline.exit_code == 0, output_of(inline)
    assert f"script file {site}/{files[0]}: removed" in inline.stdout
    assert not list(site.rglob("*.js"))
    assert invoke("build", site, "-d", DOMAINS, "--external", "assets/xdlink.js").exit_code == 0
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    assert invoke("remove", site).exit_code == 0
    assert not list(site.rglob("*.js"))
    assert not (site / "assets").exists()


def test_a_file_of_another_tool_with_a_hash_name_stays(site: Path) -> None:
    (site / "app.0123456789ab.js").write_text("console.log(1)")
    assert invoke("build", site, "-d", DOMAINS).exit_code == 0
    assert invoke("remove", site).exit_code == 0
    assert (site / "app.0123456789ab.js").exists()


# --- warnings a strict build can live with ------------------------------------------------


def test_no_init_warning_names_the_ways_a_visitor_is_still_joined(tmp_path: Path) -> None:
    """Only pages with no mixpanel.init or posthog.init at all (a parked snippet counts):
    one whose token is a variable is read by the script as it runs."""
    site = make_site(
        tmp_path / "site",
        {
            "none.html": page("<p>no Mixpanel</p>"),
            "variable.html": page("<script>mixpanel.init(window.TOKEN)</script>"),
            "posthog.html": page(POSTHOG_SNIPPET),
            "parked.html": page(POSTHOG_SNIPPET.replace("<script>", '<script type="text/plain">')),
        },
    )
    result = invoke("build", site, "-d", DOMAINS)
    assert result.exit_code == 0
    assert "warning: 1 pages with no mixpanel.init or posthog.init in their HTML" in result.stderr
    assert "window.xdlink.join(mixpanel)" in result.stderr
    (no_init,) = [line for line in result.stderr.splitlines() if "[xdlink.no-init]" in line]
    assert "none.html" in no_init
    for started in ("variable.html", "posthog.html", "parked.html"):
        assert started not in no_init
    assert "notice: 1 pages whose mixpanel.init token xdlink cannot read" in result.stderr


def test_pages_where_posthog_keeps_no_id_are_named(tmp_path: Path) -> None:
    cookieless = POSTHOG_SNIPPET.replace("defaults:", "cookieless_mode: 'always', defaults:")
    on_reject = POSTHOG_SNIPPET.replace("defaults:", "cookieless_mode: 'on_reject', defaults:")
    pages = {"always.html": page(cookieless), "reject.html": page(on_reject)}
    site = make_site(tmp_path / "site", pages)
    result = invoke("build", site, "-d", DOMAINS)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: 1 pages whose posthog.init sets cookieless_mode: 'always': PostHog keeps no "
        f"id there, so xdlink carries no PostHog visitor to or from them: {site}/always.html "
        "[xdlink.cookieless]"
    ]


def test_each_script_variant_the_site_uses_has_its_csp_hash(tmp_path: Path) -> None:
    """A Mixpanel page, a PostHog page and a page with both: three scripts, each hash
    listed once, each page holding the script its SDKs call for."""
    mixpanel = "<script>mixpanel.init('0123456789abcdef0123456789abcdef')</script>"
    pages = {
        "none.html": page(),
        "mixpanel.html": page(mixpanel),
        "posthog.html": page(POSTHOG_SNIPPET),
        "both.html": page(mixpanel + POSTHOG_SNIPPET),
    }
    site = make_site(tmp_path / "site", pages)
    result = invoke("build", site, "-d", DOMAINS, "--format", "json")
    hashes = json.loads(result.stdout)["csp_hashes"]
    held = {name: inline_hashes((site / name).read_bytes()) for name in pages}
    assert held["none.html"] == held["both.html"]
    assert len({held["mixpanel.html"], held["posthog.html"], held["both.html"]}) == 3
    variants = ("mixpanel.html", "posthog.html", "both.html")
    assert sorted(hashes) == sorted(digest for name in variants for digest in held[name])


def test_a_listed_domain_that_looks_like_a_typo_is_named(tmp_path: Path) -> None:
    pages = {f"p{i}.html": page('<a href="https://shop.example/cart">c</a>') for i in range(12)}
    pages["other.html"] = page('<a href="https://elsewhere.example/">e</a>')
    site = make_site(tmp_path / "docs", pages)
    quiet = ("--silence", "no-init")
    result = invoke("build", site, "-d", "shop.exmaple,docs.example.org", *quiet)
    assert result.exit_code == 0, output_of(result)
    assert result.stderr.splitlines() == [
        "warning: no link in the site points to shop.exmaple: did you mean shop.example "
        "(linked from 12 pages)? [xdlink.unlinked-domain]"
    ]
    correct = invoke("build", site, "-d", "shop.example,docs.example.org", *quiet)
    assert correct.stderr == ""
    assert "links to docs.example.org: none" in correct.stdout


def test_one_linking_page_is_one_page(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "docs", {"index.html": page('<a href="https://shop.example/">s</a>')}
    )
    result = invoke("build", site, "-d", "shop.exmaple", "--silence", "no-init")
    assert "did you mean shop.example (linked from 1 page)?" in result.stderr, output_of(result)


def test_warnings_are_silenced_by_kind(site: Path, tmp_path: Path) -> None:
    result = invoke("build", site, "-d", DOMAINS, "--silence", "no-init", "--format", "json")
    assert json.loads(result.stdout)["warnings"] == []
    loud = invoke("build", site, "-d", DOMAINS, "--format", "json", "--dry-run")
    assert [w["kind"] for w in json.loads(loud.stdout)["warnings"]] == ["xdlink.no-init"]
    (tmp_path / "xdlink.toml").write_text('silence = ["xdlink.no-init"]\n')
    configured = invoke("build", site, "-d", DOMAINS, "--dry-run", cwd=tmp_path)
    assert "warning" not in configured.stderr
    bad = invoke("build", site, "-d", DOMAINS, "--silence", "no-such")
    assert bad.exit_code == 2
    assert "invalid --silence 'no-such': no such warning kind 'xdlink.no-such'" in bad.stderr


def test_snippet_needs_no_token() -> None:
    """The script learns the project from the page's own init (or xdlink.join)."""
    result = invoke("snippet", "-d", DOMAINS)
    assert result.exit_code == 0
    assert "warning" not in result.stderr


# --- output -------------------------------------------------------------------------------


def test_json_usage_errors_are_json() -> None:
    result = invoke("build", "--format", "json", "nowhere", "-d", "com")
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2
    assert error["error"].startswith("invalid domain 'com': com is a public suffix")


def test_diff_writes_a_patch_git_applies(site: Path) -> None:
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    result = invoke("build", site, "-d", DOMAINS, "--diff")
    assert result.exit_code == 0, output_of(result)
    assert result.stdout.startswith("diff --git a/")
    assert "pages seen" in result.stderr
    assert "pages seen" not in result.stdout
    (site / "change.patch").write_bytes(result.stdout_bytes)
    applied = subprocess.run(
        ["git", "apply", "change.patch"], cwd=site, capture_output=True, text=True, check=False
    )
    assert applied.returncode == 0, applied.stderr
    (site / "change.patch").unlink()
    assert invoke("build", site, "-d", DOMAINS, "--check").exit_code == 0


def test_every_json_key_is_documented(site: Path) -> None:
    cli = (ROOT / "docs" / "cli.md").read_text()
    report = json.loads(invoke("build", site, "-d", DOMAINS, "--format", "json").stdout)
    for key in report:
        assert f"`{key}`" in cli, key


# --- the configuration file ----------------------------------------------------------------


def test_configuration_is_found_from_site(tmp_path: Path) -> None:
    project = tmp_path / "project"
    site = make_site(project / "public", {"index.html": page()})
    (project / "xdlink.toml").write_text('domains = ["shop.example", "docs.example.org"]\n')
    result = invoke("build", "project/public", "-v", cwd=tmp_path)
    assert result.exit_code == 0, output_of(result)
    assert f"configuration: {project / 'xdlink.toml'}" in result.stdout
    report = json.loads(invoke("build", site, "--format", "json").stdout)
    assert report["config"] == str(project / "xdlink.toml")


def test_two_configuration_files_warn(tmp_path: Path) -> None:
    site = make_site(tmp_path / "public", {"index.html": page()})
    (tmp_path / "xdlink.toml").write_text('domains = ["shop.example"]\n')
    (tmp_path / "pyproject.toml").write_text('[tool.xdlink]\ndomains = ["docs.example.org"]\n')
    result = invoke("build", site, "--format", "json")
    report = json.loads(result.stdout)
    assert "xdlink.config" in [w["kind"] for w in report["warnings"]]
    assert report["links"].keys() == {"shop.example"}


def test_the_example_a_newcomer_runs_first_is_clean(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "example", tmp_path / "example")
    result = invoke("build", tmp_path / "example", "-d", DOMAINS)
    assert result.exit_code == 0
    assert result.stderr == ""


def test_the_api_takes_a_comma_list() -> None:
    settings = xdlink.make_settings("shop.example,docs.example.org", fragment=True)
    assert settings.domains == ("shop.example", "docs.example.org")
    assert settings.fragment


def test_links_whose_referrer_cannot_be_restored_are_named(tmp_path: Path) -> None:
    """The other site takes a visitor in only from a listed domain's page: forms under a
    page policy that sends no referrer, and rel=noreferrer links (Safari), cannot say so."""
    meta = '<meta name="referrer" content="no-referrer">'
    link = '<a href="https://docs.example.org/" rel="noopener NoReferrer">d</a>'
    form = '<form action="https://docs.example.org/search"></form>'
    site = make_site(
        tmp_path / "site",
        {
            "rel.html": page(link),
            "form.html": page(meta + form),
            "link-under-policy.html": page(meta + link.replace(" NoReferrer", "")),
            "form-under-origin.html": page(meta.replace("no-referrer", "origin") + form),
            "unlisted.html": page('<a href="https://else.example/" rel="noreferrer">e</a>'),
        },
    )
    result = invoke("build", site, "-d", DOMAINS, "--silence", "no-init")
    assert result.exit_code == 0, output_of(result)
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: 2 pages with links to a listed domain that cannot say")
    assert line.endswith("[xdlink.no-referrer]")
    assert "form.html" in line
    assert "rel.html" in line
    assert "under-" not in line
    assert "unlisted" not in line
