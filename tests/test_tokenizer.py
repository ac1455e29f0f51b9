"""The tag reader against html5lib's tokenizer, which follows the HTML standard's states."""

from __future__ import annotations

from typing import Any

import pytest
from html5lib._tokenizer import HTMLTokenizer
from html5lib.constants import tokenTypes
from hypothesis import given, settings
from hypothesis import strategies as st

from xdlink import scan

TAG_BODY = st.text(alphabet=list("ab =\"'/\t\n-x:>&"), max_size=40)


def html5lib_tag(text: str) -> tuple[str, dict[str, str], str] | None:
    """(name, attributes, text after the tag) of the first token, or None if no tag."""
    tokens: list[dict[str, Any]] = [
        token for token in HTMLTokenizer(text) if token["type"] != tokenTypes["ParseError"]
    ]
    if not tokens or tokens[0]["type"] != tokenTypes["StartTag"]:
        return None
    rest = "".join(token["data"] for token in tokens[1:])
    return tokens[0]["name"], dict(tokens[0]["data"]), rest


@settings(max_examples=2000, deadline=None)
@given(
    prefix=st.sampled_from(["meta", "meta ", "script", "BASE ", "link\n"]),
    body=TAG_BODY,
    tail=st.text(alphabet=list("xy >'\""), max_size=5),
)
def test_tag_reader_agrees_with_html5lib(prefix: str, body: str, tail: str) -> None:
    text = f"<{prefix}{body}{tail}"
    expected = html5lib_tag(text)
    try:
        tag = scan.parse_tag(text, 0, every_attribute=True)
    except scan.UnclosedTag:
        assert expected is None
        return
    assert expected is not None
    name, attributes, rest = expected
    assert tag.name == name
    assert tag.attrs == attributes
    assert text[tag.end :] == rest


@pytest.mark.parametrize(
    ("script", "end"),
    [
        ("x = 1</script>", 5),
        ("a = '</SCRIPT >'", 5),
        ("<!-- <script> </script> --></script>", 27),
        ("<!-- </script> -->", 5),
        ("<!--> </script>", 6),
        ("<!-- <script></script> </script>", 23),
        ("no end", None),
    ],
)
def test_script_end(script: str, end: int | None) -> None:
    expected = len(script) if end is None else end
    assert scan.raw_text_end(script, "script", 0) == expected


_SCRIPT_PIECES = st.sampled_from(
    ["x", "a<b", "<", "</", "</p>", "</script>", "</SCRIPT ", "<!--", "-->", "<script>", "--"]
)


@given(st.lists(_SCRIPT_PIECES, max_size=30))
@settings(max_examples=400, deadline=None)
def test_script_end_agrees_with_html5lib(pieces: list[str]) -> None:
    """Where a script ends, for scripts with few and with many "<" (read by hopping from one
    "<" to the next, then by searching for "</"), escaped or not, against html5lib's tree."""
    assert_script_ends_as_in_html5lib("".join(pieces))


def assert_script_ends_as_in_html5lib(content: str) -> None:
    import html5lib

    prefix = "<!DOCTYPE html><head><script>"
    text = prefix + content
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    script = next(tree.iter("script"))
    assert scan.raw_text_end(text, "script", len(prefix)) == len(prefix) + len(script.text or "")


_SCRIPT_TAILS = [
    "x</script>",
    "<!-- <script> </script> --></script>",
    "<!-- </script> -->",
    "<!--> </script>",
    "<!-- <script></script> </script>",
    "no end",
    "<!-- no end",
]


@pytest.mark.parametrize("tail", _SCRIPT_TAILS)
@pytest.mark.parametrize("lts", [0, 1, 7, 8, 9, 40])
def test_script_end_after_many_lt_agrees_with_html5lib(lts: int, tail: str) -> None:
    """The same, with ``lts`` "<" before the escapes: on both sides of the hops' limit."""
    assert_script_ends_as_in_html5lib("a<b" * lts + tail)
