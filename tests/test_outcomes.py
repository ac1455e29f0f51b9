"""Every way a page is skipped, changes or fails is a member with a stable code: the core
and the report hand the member on, and the message is the one the report prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xdlink import api
from xdlink.outcomes import Because, ChangeReason, FailReason, SkipReason
from xdlink.page import build_page, remove_page
from xdlink.source import Source, read_source

SETTINGS = api.make_settings("shop.example,docs.example.org")
HEAD = b"<!doctype html><html><head><title>t</title></head><body></body></html>"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", SkipReason.EMPTY),
        (b"<html>\x00</html>", SkipReason.NOT_TEXT),
        (b'<meta charset="utf-7"><title>t</title>', SkipReason.UNSAFE_ENCODING),
        (b"<p>a fragment</p>", SkipReason.FRAGMENT),
        (b"<!doctype html><head><title>{{ title }}</title></head>", SkipReason.TEMPLATE_SYNTAX),
        (b"<!DOCTYPE html><!-- X", SkipReason.ENDS_IN_COMMENT),
        (b"<!doctype html><html amp><head></head></html>", SkipReason.AMP),
    ],
)
def test_a_skipped_page_carries_its_member(data: bytes, reason: SkipReason) -> None:
    outcome = build_page(data, SETTINGS)
    assert outcome.skip is not None
    assert outcome.skip.reason is reason
    assert outcome.reason == outcome.skip.message


def test_the_encoding_is_the_detail_of_its_message() -> None:
    skip = read_source(b'<meta charset="utf-7"><title>t</title>')
    assert skip == Because(SkipReason.UNSAFE_ENCODING, "utf-7")
    assert str(skip) == "encoding utf-7 (a byte-level splice is unsafe)"
    assert isinstance(read_source(HEAD), Source)


def test_a_changed_page_carries_why() -> None:
    built = build_page(HEAD, SETTINGS)
    assert built.change == Because(ChangeReason.NEW_PAGE)
    assert built.output is not None
    other = api.make_settings("shop.example,docs.example.org", ttl=300)
    assert build_page(built.output, other).change == Because(ChangeReason.SETTINGS_CHANGED)
    assert remove_page(built.output).change == Because(ChangeReason.HOLDS_SCRIPT)
    assert build_page(built.output, SETTINGS).change is None


def test_codes_are_unique_and_stable_words() -> None:
    for members in (SkipReason, ChangeReason, FailReason):
        codes = [member.code for member in members]
        assert len(set(codes)) == len(codes)
        assert all(code.replace("-", "").isalpha() and code.islower() for code in codes)


def test_the_report_counts_by_member(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(HEAD)
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "blank.html").write_bytes(b"  \n")
    (tmp_path / "part.html").write_bytes(b"<p>a fragment</p>")
    os.symlink("index.html", tmp_path / "link.html")
    report = api.build(tmp_path, SETTINGS, write=False)
    assert report.skips == {
        Because(SkipReason.EMPTY): 2,
        Because(SkipReason.FRAGMENT): 1,
        Because(SkipReason.SYMBOLIC_LINK): 1,
    }
    assert report.change_reasons == {Because(ChangeReason.NEW_PAGE): 1}
    assert report.to_json()["skipped"] == {
        "empty file": 2,
        "fragment (no doctype, <html>, <head> or <body>)": 1,
        "symbolic link": 1,
    }


def test_a_failed_page_carries_its_member(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_bytes(HEAD)
    page.chmod(0o444)
    report = api.build(tmp_path, SETTINGS)
    assert report.errors == [
        f"error: cannot process {tmp_path}/index.html: {FailReason.READ_ONLY.message}"
    ]
    assert report.failed == [("index.html", Because(FailReason.READ_ONLY))]
    assert page.read_bytes() == HEAD


def test_the_cli_page_lists_every_code() -> None:
    cli = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text("utf-8")
    prose = " ".join(cli.split())
    for members in (SkipReason, ChangeReason, FailReason):
        for member in members:
            assert f"`{member.code}`" in prose, member
