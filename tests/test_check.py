"""--check as a CI gate: the same settings in another order pass, and a failure says why
each page would change, naming the first ones, even under --quiet."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from xdlink import __version__
from xdlink.cli import main

PAGE = "<!doctype html><html><head><meta charset=utf-8><title>t</title></head><body></body></html>"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def site(tmp_path: Path, pages: int = 7) -> Path:
    for number in range(pages):
        (tmp_path / f"page{number}.html").write_text(PAGE)
    return tmp_path


def test_the_same_domains_in_another_order_change_nothing(tmp_path: Path) -> None:
    folder = site(tmp_path)
    assert invoke("build", str(folder), "-d", "shop.example,docs.example.org").exit_code == 0
    for order in (
        ["-d", "docs.example.org,shop.example"],
        ["-d", "docs.example.org", "-d", "shop.example"],
    ):
        result = invoke("build", str(folder), *order, "--check")
        assert result.exit_code == 0, result.output
    (tmp_path / "xdlink.toml").write_text('domains = ["docs.example.org", "shop.example"]\n')
    assert invoke("build", str(folder), "--check", "--quiet").exit_code == 0


def test_check_names_the_settings_and_the_first_pages_under_quiet(tmp_path: Path) -> None:
    folder = site(tmp_path)
    assert invoke("build", str(folder), "-d", "shop.example,docs.example.org").exit_code == 0
    result = invoke(
        "build",
        str(folder),
        "-d",
        "shop.example,docs.example.org",
        "--ttl",
        "300",
        "--check",
        "--quiet",
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("--check failed: 7 pages would change (7 settings changed): ")
    assert f"{folder / 'page0.html'} (settings changed)" in lines[0]
    assert "and 2 more" in lines[0]


def test_check_names_a_new_page_and_another_version(tmp_path: Path) -> None:
    folder = site(tmp_path, 2)
    args = ["-d", "shop.example,docs.example.org"]
    assert invoke("build", str(folder), *args).exit_code == 0
    old = folder / "page0.html"
    old.write_text(old.read_text().replace(f'data-xdlink="{__version__} ', 'data-xdlink="0.0.9 '))
    (folder / "new.html").write_text(PAGE)
    result = invoke("build", str(folder), *args, "--check", "--quiet")
    assert result.exit_code == 1
    assert (
        "2 pages would change (1 page changed: it has no xdlink script, 1 script version "
        f"changed (0.0.9 to {__version__})): {folder / 'new.html'} (page changed: it has no "
        f"xdlink script), {folder / 'page0.html'} (script version changed"
    ) in result.output


def test_check_names_a_misplaced_or_doubled_script(tmp_path: Path) -> None:
    folder = site(tmp_path, 1)
    args = ["-d", "shop.example,docs.example.org"]
    assert invoke("build", str(folder), *args).exit_code == 0
    page = folder / "page0.html"
    text = page.read_text()
    element = text[text.index("<script") : text.index("</script>") + 9]
    page.write_text(text.replace("</body>", element + "</body>"))
    result = invoke("build", str(folder), *args, "--check", "--quiet")
    assert "(1 page changed: its xdlink script is out of place)" in result.output


def test_remove_check_says_why(tmp_path: Path) -> None:
    folder = site(tmp_path, 1)
    assert invoke("build", str(folder), "-d", "shop.example").exit_code == 0
    result = invoke("remove", str(folder), "--check", "--quiet")
    assert result.exit_code == 1
    assert "1 pages would change (1 it holds the xdlink script)" in result.output


def test_strict_turns_warnings_into_exit_status_4(tmp_path: Path) -> None:
    folder = site(tmp_path, 1)
    plain = invoke("build", str(folder), "-d", "shop.example")  # no init: a warning
    assert plain.exit_code == 0
    assert "[xdlink.no-init]" in plain.output
    strict = invoke("build", str(folder), "-d", "shop.example", "--strict", "--quiet")
    assert strict.exit_code == 4
    assert strict.output.strip() == "--strict: the run gave 1 warnings (exit status 4)"
    silenced = invoke(
        "build", str(folder), "-d", "shop.example", "--strict", "--silence", "no-init"
    )
    assert silenced.exit_code == 0
    (tmp_path / "xdlink.toml").write_text('domains = ["shop.example"]\nstrict = true\n')
    assert invoke("build", str(folder)).exit_code == 4
    json_run = invoke("build", str(folder), "--format", "json")
    assert '"exit_code": 4' in json_run.output
