"""A page's own ``mixpanel.init(...)`` read as JavaScript, for the report: the forms public
sites write it in, each with the token xdlink must read (or what it says when it cannot),
the calls after it still found, and the reader's cost on any text."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xdlink import mixpanel, posthog
from xdlink.api import build, make_settings
from xdlink.initcalls import calls_in_scripts
from xdlink.jsliteral import Script, read_arguments
from xdlink.mixpanel import MixpanelConfig, _read_script, find_init_calls, inits_in_tree
from xdlink.page import _is_xdlink, build_page
from xdlink.report import Level, Report
from xdlink.scan import script_spans
from xdlink.settings import WarningKind
from xdlink.source import Source, parse_tree, read_source

T = "0123456789abcdef0123456789abcdef"
SETTINGS = make_settings(["shop.example", "docs.example.org"])
SNIPPET = (
    "(function(f,b){if(!b.__SV){var e,g,i,h;window.mixpanel=b;b._i=[];b.init=function(e,f,c)"
    '{function g(a,d){var b=d.split(".");2==b.length&&(a=a[b[0]],d=b[1]);a[d]=function(){a.'
    'push([d].concat(Array.prototype.slice.call(arguments,0)))}}var a=b;"undefined"!==typeof'
    ' c?a=b[c]=[]:c="mixpanel";b._i.push([e,f,c])};b.__SV=1.2;e=f.createElement("script");'
    'e.type="text/javascript";e.async=!0;e.src="undefined"!==typeof MIXPANEL_CUSTOM_LIB_URL?'
    'MIXPANEL_CUSTOM_LIB_URL:"file:"===f.location.protocol&&"//cdn.mxpnl.com/libs/mixpanel-2-'
    'latest.min.js".match(/^\\/\\//)?"https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js":'
    '"//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js";g=f.getElementsByTagName("script")[0];'
    "g.parentNode.insertBefore(e,g)}})(document,window.mixpanel||[]);\n"
)
# What a form reads as: READ for the token T, else what the report says of the token.
READ: str | None = None
# A call after each form's own, which the reader must still find where it is.
AFTER = "abcdefabcdefabcdefabcdefabcdefab"

# The scripts of a page (each a <script> in <head>, in order) and what xdlink must read
# from them. Gathered from the forms public sites' pages write mixpanel.init in.
FORMS: dict[str, tuple[list[str], str | None]] = {
    # The first case: an apostrophe in a line comment of a loaded callback.
    "loaded callback with a quote in a comment": (
        [
            SNIPPET + f'mixpanel.init("{T}", {{loaded: function (mp) {{ // B\'s plan\n'
            "  mp.register({plan: mp.get_property('plan') || \"free\"});\n},\n"
            "persistence: 'localStorage'});"
        ],
        READ,
    ),
    "block comments with quotes": (
        [
            f"/* Mixpanel: it's loaded below */\nmixpanel.init(/* the \"prod\" token */ '{T}', {{\n"
            "  // don't track localhost\n  persistence: /* 'cookie' broke Safari's ITP */ "
            "'localStorage',\n})"
        ],
        READ,
    ),
    "an init commented out before the real one": (
        [
            f'// mixpanel.init("ffffffffffffffffffffffffffffffff", {{debug: true}});\n'
            f'/*\nmixpanel.init("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");\n*/\nmixpanel.init("{T}")'
        ],
        READ,
    ),
    "an init inside a string is none": (
        [f"var help = \"call mixpanel.init('ffff') once\";\nmixpanel.init('{T}')"],
        READ,
    ),
    "template literals": (
        [
            f"mixpanel.init(`{T}`, {{api_host: `https://${{location.host}}/mp`, "
            "debug: `${'{'}`, persistence_name: `shop`, persistence: 'localStorage'})"
        ],
        READ,
    ),
    "regular expressions with quotes and slashes": (
        [
            f"var local = /^(localhost|127\\.0\\.0\\.1)$/.test(location.hostname), n = 4 / 2;\n"
            f"mixpanel.init('{T}', {{ignore: [/it's/, /[/\"']+/g], property_blacklist: "
            "['$referrer'], loaded: function (m) { if (/\\/admin\\//.test(location.href)) "
            "m.opt_out_tracking(); }, persistence: 'localStorage'})"
        ],
        READ,
    ),
    "arrow functions and nested objects": (
        [
            f"mixpanel.init('{T}', {{\n  loaded: (mp) => {{ mp.register({{site: 'shop', "
            "tags: ['a', {b: \"}\"}]}); },\n  track_pageview: 'url-with-path',\n"
            "  persistence: 'localStorage',\n  cross_subdomain_cookie: false,\n})"
        ],
        READ,
    ),
    "a method in the options": (
        [f"mixpanel.init('{T}', {{ loaded(mp) {{ return '}}' }}, persistence: 'localStorage' }})"],
        READ,
    ),
    "minified, !0 and !1": (
        [
            SNIPPET + f'mixpanel.init("{T}",{{secure_cookie:!0,cross_subdomain_cookie:!1,'
            'persistence:"cookie",cookie_domain:".example.org"})'
        ],
        READ,
    ),
    "escapes in strings": (
        [f'mixpanel.init("{T}", {{persistence_name: "sh\\u006fp\\x2d\\u{{31}}"}})'],
        READ,
    ),
    # The second case: the options in a variable.
    "options in a var": (
        [
            "var mpConfig = {\n  api_host: 'https://mp.example.org',\n  persistence: "
            f"'localStorage',\n  track_pageview: true\n}};\nmixpanel.init(\"{T}\", mpConfig);"
        ],
        READ,
    ),
    "token and options in consts, without semicolons": (
        [
            f'const MIXPANEL_TOKEN = "{T}"\nconst MIXPANEL_OPTIONS = {{\n  persistence: '
            '"localStorage",\n}\nmixpanel.init(MIXPANEL_TOKEN, MIXPANEL_OPTIONS)'
        ],
        READ,
    ),
    "options in an earlier script, on window": (
        [
            "window.MP_CONFIG = {persistence: 'localStorage', cookie_domain: '.example.org'};",
            SNIPPET,
            f"mixpanel.init('{T}', window.MP_CONFIG);",
        ],
        READ,
    ),
    "options set key by key": (
        [
            "let config = {};\nconfig.persistence = 'localStorage';\n"
            f"config['cross_subdomain_cookie'] = false;\nmixpanel.init('{T}', config);"
        ],
        READ,
    ),
    "Object.assign of a base and the page's own": (
        [
            "var base = {persistence: 'localStorage', cookie_domain: '.example.org'};",
            f"mixpanel.init('{T}', Object.assign({{}}, base, {{cookie_domain: '.shop.example'}}));",
        ],
        READ,
    ),
    "a spread of a known object": (
        [
            "const defaults = {persistence: 'cookie', secure_cookie: true};\n"
            f"mixpanel.init('{T}', {{...defaults, persistence: 'localStorage'}});"
        ],
        READ,
    ),
    "computed keys that are known": (
        [
            "const STORAGE = 'persistence';\n"
            f"mixpanel.init('{T}', {{[STORAGE]: 'localStorage', ['persistence_name']: 'x'}});"
        ],
        READ,
    ),
    "an init in a handler, its options after it": (
        [
            "document.addEventListener('DOMContentLoaded', function () {\n"
            f"  mixpanel.init('{T}', opts);\n}});\nvar opts = {{persistence: 'localStorage'}};"
        ],
        READ,
    ),
    "a named second instance after the default one": (
        [
            f"mixpanel.init('{T}', {{persistence: 'localStorage'}});\n"
            "mixpanel.init('ffffffffffffffffffffffffffffffff', {}, 'other');"
        ],
        READ,
    ),
    # What cannot be known: read as far as it can be, and said so.
    "a spread of an object no inline script assigns": (
        [f"mixpanel.init('{T}', {{...window.sharedConfig, persistence_name: 'shop'}});"],
        READ,
    ),
    "a computed key that is not known": (
        [f"mixpanel.init('{T}', {{persistence: 'localStorage', [key]: 'cookie'}});"],
        READ,
    ),
    "options built in a function": (
        [
            "function mixpanelConfig() {\n  var c = {persistence: 'localStorage'};\n"
            f"  return c;\n}}\nmixpanel.init('{T}', mixpanelConfig());"
        ],
        READ,
    ),
    "options from an immediately invoked function": (
        [
            "var config = (function () { return {persistence: 'localStorage'}; })();\n"
            f"mixpanel.init('{T}', config);"
        ],
        READ,
    ),
    "a storage option chosen at run time": (
        [
            f"mixpanel.init('{T}', {{debug: location.hostname === 'localhost', persistence: "
            "window.safari ? 'localStorage' : 'cookie'});"
        ],
        READ,
    ),
    "opt-out by default chosen at run time": (
        [f"mixpanel.init('{T}', {{opt_out_tracking_by_default: !hasConsent('analytics')}});"],
        READ,
    ),
    "options in a variable no inline script assigns": (
        [f"mixpanel.init('{T}', MIXPANEL_OPTIONS);"],
        READ,
    ),
    # Tokens given by name.
    "a token in a var of the same script": (
        [f"var token = '{T}';\nmixpanel.init(token, {{loaded: function () {{ // it's\n}}}});"],
        READ,
    ),
    "a token on window in an earlier script, the init in a handler": (
        [
            f"window.MP_TOKEN = '{T}';",
            "addEventListener('load', () => mixpanel.init(MP_TOKEN, {persistence: 'cookie'}));",
        ],
        READ,
    ),
    "a token assigned twice: the last one before the init": (
        [f"var t = 'ffffffffffffffffffffffffffffffff';\nt = '{T}';\nmixpanel.init(t);"],
        READ,
    ),
    # What cannot be read: said so, with the token as written and why.
    "a token no inline script assigns": (
        ["mixpanel.init(window.MP_TOKEN, {});"],
        "`MP_TOKEN` (no inline script of the page assigns it)",
    ),
    "a token read from the page at run time": (
        ["mixpanel.init(document.body.dataset.token, {});"],
        "`document.body.dataset.token` (not a literal)",
    ),
    "a token built in a template": (
        ["var env = 'prod';\nmixpanel.init(`${env}-token`);"],
        "`${env}-token` (not a literal)",
    ),
    "a call the script does not close": (
        [f"mixpanel.init('{T}', {{persistence: 'x'"],
        "the call is not closed",
    ),
}


def _page(scripts: list[str], body: str = "") -> bytes:
    tags = "".join(f"<script>{script}</script>\n" for script in scripts)
    html = f"<!DOCTYPE html><html><head><meta charset=utf-8>\n{tags}</head><body>{body}</body>"
    return (html + "</html>").encode()


@pytest.mark.parametrize(("scripts", "unread"), FORMS.values(), ids=FORMS.keys())
def test_init_forms_are_read(scripts: list[str], unread: str | None) -> None:
    data = _page(scripts)
    facts = build_page(data, SETTINGS).facts
    expected = MixpanelConfig(T) if unread is READ else None
    assert facts.init == expected
    assert facts.init_unread == unread
    # The same read by the other path, lxml's, for a call after the head scan's reach.
    source = read_source(data)
    assert not isinstance(source, str)
    tree, _ = parse_tree(source)
    assert tree is not None
    calls = inits_in_tree(tree)
    assert (calls[0].config, calls[0].unread) == (expected, unread)


@pytest.mark.parametrize(("scripts", "unread"), FORMS.values(), ids=FORMS.keys())
def test_a_call_after_each_form_is_found(scripts: list[str], unread: str | None) -> None:
    """Nothing in a form's arguments (a quote in a comment, a regular expression, a
    template, a function) derails the reader: a call after it is read where it stands."""
    if unread == "the call is not closed":
        return
    after = f"\nmixpanel.init('{AFTER}', {{}}, 'after');"
    tokens = build_page(_page([*scripts[:-1], scripts[-1] + after]), SETTINGS).facts.tokens
    assert tokens[-1] == AFTER
    assert tokens[0] == (T if unread is READ else AFTER)


def test_inits_in_comments_and_strings_name_no_token() -> None:
    for name in ("an init commented out before the real one", "an init inside a string is none"):
        scripts, _ = FORMS[name]
        assert build_page(_page(scripts), SETTINGS).facts.tokens == (T,)


def test_an_init_in_the_body_sees_the_scripts_before_it() -> None:
    body = "<p>x</p><script>mixpanel.init(token)</script>"
    data = _page([f"var token = '{T}';"], body)
    assert build_page(data, SETTINGS).facts.init == MixpanelConfig(T)


# --- the report -------------------------------------------------------------------------

REMOVED_OPTIONS = ("--token", "--persistence", "--consent", "--cookie-domain", "subdomain-cookie")


def _report(tmp_path: Path, pages: dict[str, list[str]]) -> Report:
    for name, scripts in pages.items():
        (tmp_path / name).write_bytes(_page(scripts))
    return build(tmp_path, make_settings(["shop.example"]), write=False)


def _notices(report: Report) -> list[str]:
    return [line.text for line in report.lines() if line.level is Level.NOTICE]


def test_the_report_names_the_page_its_token_and_what_it_assumed(tmp_path: Path) -> None:
    pages = {
        "a.html": ["mixpanel.init(window.MP_TOKEN, {persistence: 'localStorage'})"],
        "b.html": ["mixpanel.init(config.token)"],
        "ok.html": FORMS["loaded callback with a quote in a comment"][0],
    }
    report = _report(tmp_path, pages)
    (message,) = _notices(report)
    assert message.startswith("2 pages whose mixpanel.init token xdlink cannot read")
    assert "taken for pages that start Mixpanel" in message
    assert f"{tmp_path / 'a.html'} (token `MP_TOKEN` (no inline script" in message
    assert f"{tmp_path / 'b.html'} (token `config.token` (not a literal))" in message
    assert "ok.html" not in message
    assert report.warnings() == []  # nothing to do, so nothing to fail a strict build
    assert report.to_json()["notices"] == [message]


@pytest.mark.parametrize(("scripts", "unread"), FORMS.values(), ids=FORMS.keys())
def test_no_warning_and_no_notice_is_false_or_names_a_removed_option(
    tmp_path: Path, scripts: list[str], unread: str | None
) -> None:
    report = _report(tmp_path, {"a.html": scripts})
    notices = _notices(report)
    assert bool(notices) is (unread is not READ)
    warnings = report.warnings()
    assert WarningKind.NO_INIT not in {warning.kind for warning in warnings}
    for text in [*notices, *(warning.message for warning in warnings)]:
        assert not any(option in text for option in REMOVED_OPTIONS), text


# --- the reader on any text -------------------------------------------------------------

JS_PIECES = [
    "a", " ", "\n", "/", "*", "'", '"', "`", "${", "}", "{", "(", ")", "[", "]", "\\", "=",
    "x", "return", "mixpanel.init(", ",", ":", "//", "/*", "*/", "1", ".", "+", "++",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(JS_PIECES), max_size=40))
def test_code_positions_are_the_same_read_from_the_line_or_the_start(pieces: list[str]) -> None:
    """The shortcut that reads only the position's line agrees with a read from the start,
    and reading the arguments of any call ends or says the call is not closed."""
    text = "".join(pieces)
    whole = Script(text)
    whole._skim(len(text))
    for match in re.finditer(r"mixpanel\.init\(", text):
        assert Script(text).in_code(match.start()) == whole.in_code(match.start()), text
        with contextlib.suppress(ValueError):
            read_arguments(text, match.end())
    find_init_calls(text)


def _seconds(function: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize(
    "piece",
    ["/[", "'", "/*", "`${", "{a:", "x = /", "(/", "cfg = {a: ", "mixpanel.init(x, {...y,"],
)
def test_reading_takes_linear_time(piece: str) -> None:
    """Texts that make a reader start over again and again (an unclosed class in a
    regular expression, unclosed strings, comments, templates, objects) cost in
    proportion to their length."""

    def read(count: int) -> Callable[[], object]:
        text = f"var cfg = 1; mixpanel.init('{T}', {{a: {piece * count}"

        def both() -> None:
            _read_script(text)
            Script(text).assignments("cfg")

        return both

    small, large = _seconds(read(1_000)), _seconds(read(8_000))
    assert large < 24 * small + 0.05, (small, large)


# --- finding the calls in a page ---------------------------------------------------------

SDK_CALLS = (mixpanel.CALLS, posthog.CALLS)
PAGE_PIECES = [
    "<script>mixpanel.init('a')</script>",
    "<script>posthog.init('b', {})</script>",
    "<script>window.mixpanel .init( 'c');posthog.init('d')</script>",
    "<script>mymixpanel.init('e'); Mixpanel.init('f'); MIXPANEL.init('g')</script>",
    "<script src=/mixpanel.init(.js></script>",
    '<script data-xdlink="0.1.0 abc">mixpanel.init(x);posthog.init(y)</script>',
    "<p>mixpanel.init('h') and posthog.init('i') in text</p>",
    "<script>var a = 1;</script>",
    "<script>posthog.init(",
    "<!-- <script>mixpanel.init('j')</script> -->",
    "<div title='posthog.init(k)'>",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PAGE_PIECES), max_size=8))
def test_one_search_finds_each_sdks_calls_in_each_script(pieces: list[str]) -> None:
    """One search for both SDKs' names, from the first script to the end of the last, finds
    the calls that a search of each script for each name finds: none in text or in
    attributes between the scripts, none in xdlink's own elements, in order."""
    source = read_source(f"<!doctype html><head>{''.join(pieces)}".encode())
    assert isinstance(source, Source)
    text, lowered = source.text, source.lowered
    own = [span for span in script_spans(text, lowered) if not _is_xdlink(text, span[0])]
    each = [tuple(sdk.positions(text, own, lowered)) for sdk in SDK_CALLS]
    assert calls_in_scripts(text, own, lowered, SDK_CALLS) == each
