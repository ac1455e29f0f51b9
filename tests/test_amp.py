"""AMP pages allow no author script: left alone, counted, and cleaned of an old element."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import SETTINGS
from xdlink import api
from xdlink.cli import main
from xdlink.outcomes import SkipReason
from xdlink.page import Action, build_page, remove_page

BODY = "<head><meta charset=utf-8><title>t</title></head><body><p>hi</p></body></html>"


@pytest.mark.parametrize(
    "root",
    [
        "<html ⚡>",
        "<html ⚡️>",  # with the emoji variation selector, as the validator accepts
        "<html amp>",
        "<html AMP>",
        "<html Amp=''>",
        '<html lang="en" amp="">',
        "<html\n  ⚡4email\n  data-css-strict>",
        "<html amp4email>",
        "<html AMP4EMAIL>",
        "<html ⚡️4email>",
        "<html ⚡4ads>",
        "<html amp4ads>",
        "<html/amp>",
    ],
)
def test_amp_pages_are_skipped_with_a_reason_naming_amp(root: str) -> None:
    page = f"<!doctype html>\n{root}{BODY}".encode()
    outcome = build_page(page, SETTINGS)
    assert outcome.action is Action.SKIPPED
    assert outcome.output is None
    assert "AMP" in (outcome.reason or "")


@pytest.mark.parametrize(
    "root",
    ["<html>", "<html lang=amp>", "<html data-amp>", "<html ampx>", "<html amp4web>", "<html ⚡x>"],
)
def test_other_roots_are_not_amp(root: str) -> None:
    page = f"<!doctype html>\n{root}{BODY}".encode()
    assert build_page(page, SETTINGS).action is Action.INJECTED


def test_an_html_tag_later_in_the_head_also_names_the_root() -> None:
    # The parser adds a later <html> tag's attributes to the root element.
    page = b"<!doctype html><html><head><html amp><meta charset=utf-8></head><body></body>"
    assert build_page(page, SETTINGS).action is Action.SKIPPED


def test_a_script_an_earlier_build_put_in_an_amp_page_comes_out() -> None:
    plain = f"<!doctype html>\n<html lang=en>{BODY}".encode()
    built = build_page(plain, SETTINGS).output
    assert built is not None
    amp = built.replace(b"<html lang=en>", b"<html \xe2\x9a\xa1 lang=en>")
    original = plain.replace(b"<html lang=en>", b"<html \xe2\x9a\xa1 lang=en>")
    # remove cleans it, byte for byte
    removed = remove_page(amp)
    assert removed.action is Action.REMOVED
    assert removed.output == original
    # and so does a build, which never leaves the script in an AMP page
    rebuilt = build_page(amp, SETTINGS)
    assert rebuilt.action is Action.REMOVED
    assert rebuilt.output == original
    assert rebuilt.reason == SkipReason.AMP.message


def test_the_report_counts_amp_pages(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(f"<!doctype html><html>{BODY}", encoding="utf-8")
    (tmp_path / "amp.html").write_text(f"<!doctype html><html ⚡>{BODY}", encoding="utf-8")
    (tmp_path / "email.html").write_text(f"<!doctype html><html amp4email>{BODY}", "utf-8")
    report = api.build(tmp_path, SETTINGS)
    assert report.skipped == {SkipReason.AMP.message: 2}
    assert report.counts["injected"] == 1
    assert f"2 skipped (2 {SkipReason.AMP.message})" in report.summary()
    assert report.to_json()["skipped"] == {SkipReason.AMP.message: 2}
    assert "amp" not in "".join(report.changed)


def test_build_takes_an_old_script_out_of_amp_pages_and_check_sees_it(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(f"<!doctype html><html>{BODY}", encoding="utf-8")
    api.build(tmp_path, SETTINGS)
    page.write_bytes(page.read_bytes().replace(b"<html>", b"<html amp>"))
    runner = CliRunner()
    args = ["build", str(tmp_path), "--domains", "shop.example,docs.example.org"]
    checked = runner.invoke(main, [*args, "--check"])
    assert checked.exit_code == 1, checked.output
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "1 removed from AMP pages" in result.output
    assert b"data-xdlink" not in page.read_bytes()
    assert runner.invoke(main, [*args, "--check"]).exit_code == 0


def test_a_utf16_amp_page_is_skipped_too() -> None:
    page = "\ufeff<!doctype html><html ⚡>" + BODY
    assert build_page(page.encode("utf-16-le"), SETTINGS).action is Action.SKIPPED
