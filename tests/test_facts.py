"""What xdlink reads from a page: its Mixpanel init, CSP, links and own address."""

from __future__ import annotations

import codecs
import re
from contextlib import AbstractContextManager
from unittest import mock
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.browser.test_meta_values import REL_VALUES, rel_markup
from tests.helpers import ROOT
from xdlink import links as links_module
from xdlink import lowered as lowered_module
from xdlink import posthog
from xdlink.api import make_settings
from xdlink.csp import blocks_inline as csp_blocks_inline
from xdlink.lowered import Lowered, any_case_positions
from xdlink.mixpanel import MixpanelConfig, find_init_calls
from xdlink.page import Action, build_page
from xdlink.scan import RAW_TEXT, script_spans
from xdlink.script import ScriptConfig, render
from xdlink.sdks import Sdk, Variant
from xdlink.settings import Settings

SETTINGS = make_settings(["shop.example", "docs.example.org"])
TOKEN = "0123456789abcdef0123456789abcdef"


def page(head: str = "", body: str = "") -> bytes:
    prologue = '<!DOCTYPE html><html><head><meta charset="utf-8">'
    return f"{prologue}{head}</head><body>{body}</body></html>".encode()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f'mixpanel.init("{TOKEN}")', MixpanelConfig(TOKEN)),
        (
            f"mixpanel.init('{TOKEN}', {{persistence: 'localStorage', cross_subdomain_cookie:"
            " false, cookie_domain: '.example.org', secure_cookie: !0, loaded: function(m) {"
            " m.track('x', {a: [1, 2]}) }, 'persistence_name': \"custom\"})",
            MixpanelConfig(TOKEN),
        ),
        (
            f'window.mixpanel.init(`{TOKEN}`, {{opt_out_tracking_persistence_type: "cookie",'
            ' opt_out_tracking_cookie_prefix: "pfx", cross_site_cookie: true}, "second")',
            MixpanelConfig(TOKEN, instance="second"),
        ),
        (
            f'mixpanel . init ( /* token */ "{TOKEN}" ,'
            ' { debug: x ? 1 : 2, persistence: "cookie" } )',
            MixpanelConfig(TOKEN),
        ),
    ],
)
def test_init_call_is_read(source: str, expected: MixpanelConfig) -> None:
    (call,) = find_init_calls(source)
    assert call.config == expected


@pytest.mark.parametrize(
    "source",
    ["mixpanel.init(TOKEN)", "mixpanel.init(`${token}`)", "mixpanel.init(cfg.token, {})"],
)
def test_init_without_a_literal_token_is_unreadable(source: str) -> None:
    (call,) = find_init_calls(source)
    assert call.config is None


def test_other_identifiers_are_not_init_calls() -> None:
    assert find_init_calls("notmixpanel.init('a'); mixpanel.initialize('b')") == ()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "posthog.init('phc_x', {api_host: 'https://eu.i.posthog.com'})",
            posthog.PostHogConfig("phc_x"),
        ),
        (
            "window.posthog . init(\"phc_x\", {cookieless_mode: 'always'}, 'second')",
            posthog.PostHogConfig("phc_x", instance="second", cookieless=True),
        ),
        ("posthog.init('phc_x', {cookieless_mode: 'on_reject'})", posthog.PostHogConfig("phc_x")),
        ("posthog.init('phc_x', window.PH_CONFIG)", posthog.PostHogConfig("phc_x")),
        ("posthog.init(window.KEY, {})", None),
    ],
)
def test_posthog_init_call_is_read(source: str, expected: posthog.PostHogConfig | None) -> None:
    (call,) = posthog.find_init_calls(source)
    assert call.config == expected


def test_the_posthog_snippet_is_not_an_init_call() -> None:
    snippet = (ROOT / "tests" / "browser" / "posthog-snippet.js").read_text()
    assert posthog.find_init_calls(snippet) == ()
    assert posthog.find_init_calls("myposthog.init('a'); posthog.initialize('b')") == ()


@pytest.mark.parametrize(
    ("scripts", "sdks"),
    [
        ("", set()),
        (f'<script>mixpanel.init("{TOKEN}")</script>', {Sdk.MIXPANEL}),
        ("<script>posthog.init('phc_x', {})</script>", {Sdk.POSTHOG}),
        ('<script type="text/plain">posthog.init("phc_x", {})</script>', {Sdk.POSTHOG}),
        (
            f'<script>mixpanel.init("{TOKEN}")</script><script>posthog.init("phc_x")</script>',
            {Sdk.MIXPANEL, Sdk.POSTHOG},
        ),
    ],
)
def test_facts_say_which_sdks_a_page_starts(scripts: str, sdks: set[Sdk]) -> None:
    in_head = build_page(page(scripts), SETTINGS).facts
    in_body = build_page(page(body="<p>x</p>" + scripts), SETTINGS).facts
    assert in_head.sdks == in_body.sdks == sdks
    if Sdk.POSTHOG in sdks:
        assert in_head.posthog_init == in_body.posthog_init == posthog.PostHogConfig("phc_x")
        assert in_head.posthog_keys == ("phc_x",)


def test_init_in_head_is_found_without_the_code_block_decoy() -> None:
    decoy = '<pre><code>mixpanel.init("ffffffffffffffffffffffffffffffff")</code></pre>'
    outcome = build_page(page(f'<script>mixpanel.init("{TOKEN}")</script>', decoy), SETTINGS)
    assert outcome.facts.tokens == (TOKEN,)
    assert outcome.facts.init == MixpanelConfig(TOKEN)


def test_init_at_the_end_of_body_is_found_with_lxml() -> None:
    body = f'<p>x</p><script>mixpanel.init("{TOKEN}", {{persistence: "localStorage"}})</script>'
    outcome = build_page(page(body=body), SETTINGS)
    assert outcome.facts.init == MixpanelConfig(TOKEN)


def test_default_instance_wins_over_a_named_one() -> None:
    scripts = (
        f'<script>mixpanel.init("{"a" * 32}", {{}}, "other"); mixpanel.init("{TOKEN}")</script>'
    )
    outcome = build_page(page(scripts), SETTINGS)
    assert outcome.facts.init == MixpanelConfig(TOKEN)
    assert outcome.facts.tokens == ("a" * 32, TOKEN)


def test_the_script_is_the_same_on_every_page_of_an_sdk() -> None:
    """Where Mixpanel keeps its state is read in the browser from the init as it runs: a
    site's Mixpanel pages have one script, and one CSP hash, whatever their inits say."""
    pages = [
        page(f'<script>mixpanel.init("{TOKEN}", {{persistence: "localStorage"}})</script>'),
        page(f"<script>mixpanel.init('{'b' * 32}', {{opt_out_tracking_by_default: 1}})</script>"),
        page('<script type="text/plain">mixpanel.init(T)</script>'),
    ]
    scripts = {build_page(data, SETTINGS).script for data in pages}
    assert scripts == {render(ScriptConfig.of(SETTINGS, Variant.MIXPANEL))}


@pytest.mark.parametrize(
    ("scripts", "variant"),
    [
        ("", Variant.MIXPANEL_POSTHOG),
        (f'<script>mixpanel.init("{TOKEN}")</script>', Variant.MIXPANEL),
        ("<script>posthog.init('phc_x', {persistence: 'cookie'})</script>", Variant.POSTHOG),
        (
            f'<script>mixpanel.init("{TOKEN}")</script><script>posthog.init("phc_x")</script>',
            Variant.MIXPANEL_POSTHOG,
        ),
    ],
)
def test_a_page_gets_the_script_its_sdks_call_for(scripts: str, variant: Variant) -> None:
    assert build_page(page(scripts), SETTINGS).script == render(ScriptConfig.of(SETTINGS, variant))


def links(body: str, settings: Settings = SETTINGS) -> dict[str, int]:
    return dict(build_page(page(body=body), settings).facts.links)


def test_links_are_link_tags_not_mentions() -> None:
    body = (
        '<p>shop.example is our shop</p><a href="/x">x</a>'
        '<A class="b" HREF="HTTPS://WWW.DOCS.EXAMPLE.ORG/guide">g</A>'
        '<a href="https://docs.example.org/a" title="docs.example.org">again</a>'
        '<a data-href="https://shop.example/" href="/local">not to the shop</a>'
        '<a href="https://notshop.example/">a look-alike</a>'
    )
    assert links(body) == {"docs.example.org": 2}


def test_tags_that_are_text_are_not_links() -> None:
    body = (
        '<!-- <a href="https://shop.example/">commented</a> -->'
        "<script>const a = '<a href=\"https://shop.example/\">in a string</a>';</script>"
        '<noscript><a href="https://shop.example/">without script</a></noscript>'
        '<textarea><a href="https://shop.example/">typed</a></textarea>'
        '<pre>&lt;a href="https://shop.example/"&gt;shown&lt;/a&gt;</pre>'
    )
    assert links(body) == {}
    assert links(body + '<a href="https://shop.example/">real</a>') == {"shop.example": 1}


@pytest.mark.parametrize(
    "element", ["iframe", "noembed", "noframes", "xmp", "style", "textarea", "title"]
)
def test_a_link_inside_an_element_read_as_text_is_not_counted(element: str) -> None:
    import html5lib

    body = f'<{element}><a href="https://shop.example/">text</a></{element}><p>after</p>'
    tree = html5lib.parse(page(body=body).decode(), namespaceHTMLElements=False)
    assert tree.findall(".//a") == [], "html5lib itself reads the tag as text"
    assert links(body) == {}
    assert links(body + '<a href="https://shop.example/">real</a>') == {"shop.example": 1}


def test_svg_area_and_form_links_count() -> None:
    body = (
        '<svg><a xlink:href="https://shop.example/"><circle r="1"/></a></svg>'
        '<map><area href="//docs.example.org/a" shape="rect" coords="0,0,1,1"></map>'
    )
    assert links(body) == {"shop.example": 1, "docs.example.org": 1}
    form = '<form action="https://docs.example.org/search"><input name="q"></form>'
    assert links(form) == {"docs.example.org": 1}


def test_idn_link_written_in_unicode_counts() -> None:
    settings = make_settings(["bücher.example"])
    assert links('<a href="https://bücher.example/">b</a>', settings) == {
        "xn--bcher-kva.example": 1
    }
    assert links('<a href="https://xn--bcher-kva.example/">b</a>', settings) == {
        "xn--bcher-kva.example": 1
    }


# Listed domains whose names, written in Unicode in a UTF-8 page, hold bytes that other
# characters share in the page's latin-1 view (0x85 and 0xA0: NEL and NBSP there).
IDN_HOSTS = ["città.example", "mąka.example", "хлеб.example", "ภาษาไทย.example", "Århus.example"]


@pytest.mark.parametrize("name", IDN_HOSTS)
def test_an_idn_link_counts_whatever_bytes_its_characters_take(name: str) -> None:
    """As the browser resolves it: html5lib's tree, then the URL's host in IDNA form."""
    import html5lib
    import idna

    body = f'<a href="https://www.{name}/a">x</a><a href="//{name}">y</a>'
    tree = html5lib.parse(page(body=body).decode(), namespaceHTMLElements=False)
    expected = idna.encode(name, uts46=True).decode()
    hosts = {urlsplit(anchor.get("href")).hostname for anchor in tree.iter("a")}
    assert {idna.encode(host, uts46=True).decode() for host in hosts} == {
        "www." + expected,
        expected,
    }
    assert links(body, make_settings([name])) == {expected: 2}


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_a_utf16_page_tells_what_its_utf8_twin_tells(bom: bytes, codec: str) -> None:
    """A decoded page's lower-cased view keeps every position: a title of "İ", which
    str.lower() makes two characters, before the init and the links moves nothing."""
    text = page(
        head="<title>İstanbul İzmir</title><script>mixpanel.init('tok')</script>",
        body='<p>ÇİĞ</p><a href="https://shop.example/x">x</a><script>var a = 1;</script>',
    ).decode()
    twin = build_page(text.encode("utf-8"), SETTINGS)
    assert twin.facts.links == (("shop.example", 1),)
    assert twin.facts.tokens == ("tok",)
    assert build_page(bom + text.encode(codec), SETTINGS).facts == twin.facts


# How a link may write a listed domain's host, and whether it counts: the same as the host
# a browser's URL parser gives (whatwg: user info dropped, case folded, entities decoded
# by the HTML parser, a trailing dot kept as the same host).
HOST_FORMS = {
    "plain": ('<a href="https://shop.example/p">x</a>', True),
    "upper case": ('<a href="HTTPS://SHOP.EXAMPLE/p">x</a>', True),
    "scheme-relative": ('<a href="//shop.example/p">x</a>', True),
    "user info": ('<a href="https://user:pw@shop.example/p">x</a>', True),
    "port": ('<a href="https://shop.example:8443/p">x</a>', True),
    "trailing dot": ('<a href="https://shop.example./p">x</a>', True),
    "entity in the host": ('<a href="https://&#115;hop.example/p">x</a>', True),
    "unquoted": ("<a href=https://shop.example/p>x</a>", True),
    "query only": ('<a href="https://shop.example?q=1">x</a>', True),
    "subdomain": ('<a href="https://www.shop.example/">x</a>', True),
    "in the path of another host": ('<a href="https://other.example/shop.example">x</a>', False),
    "in a query": ('<a href="https://other.example/?to=https://shop.example/">x</a>', False),
    "look-alike": ('<a href="https://shop.example.evil.test/">x</a>', False),
    "user info naming it": ('<a href="https://shop.example@evil.test/">x</a>', False),
    "mailto": ('<a href="mailto:team@shop.example">x</a>', False),
}


@pytest.mark.parametrize(("body", "counts"), HOST_FORMS.values(), ids=HOST_FORMS.keys())
def test_a_host_counts_as_the_browser_resolves_it(body: str, counts: bool) -> None:
    import html5lib

    (anchor,) = html5lib.parse(page(body=body).decode(), namespaceHTMLElements=False).iter("a")
    host = urlsplit(anchor.get("href")).hostname
    resolved = host is not None and host.rstrip(".").endswith("shop.example")
    resolved = resolved and not host.rstrip(".").endswith(".example.evil.test")
    assert resolved is counts, "the table agrees with the URL parser"
    assert links(body) == ({"shop.example": 1} if counts else {})


def test_canonical_and_og_url_name_the_site_itself() -> None:
    head = (
        '<link rel="canonical" href="https://shop.example/p/">'
        '<meta property="og:url" content="https://docs.example.org/x">'
    )
    facts = build_page(page(head), SETTINGS).facts
    assert facts.own_domains == {"shop.example", "docs.example.org"}


def test_a_canonical_link_is_read_whatever_the_case_of_its_words() -> None:
    """A link's relation is matched without regard to ASCII case (HTML's rel keywords),
    and so its tag name; the og:url property is matched as written, as its readers do."""
    head = (
        '<LINK REL="Canonical" HREF="https://shop.example/p/">'
        '<meta property="OG:URL" content="https://docs.example.org/x">'
    )
    assert build_page(page(head), SETTINGS).facts.own_domains == {"shop.example"}


@pytest.mark.parametrize("before_charset", [True, False])
def test_the_own_address_is_read_alike_beside_xdlinks_element(before_charset: bool) -> None:
    """A second build passes over xdlink's own element when it looks for the page's own
    address: a canonical link before it and an og:url after it are still both read."""
    canonical = '<link rel="canonical" href="https://shop.example/p/">'
    og_url = '<meta property="og:url" content="https://docs.example.org/x">'
    charset = '<meta charset="utf-8">'
    head = canonical + charset if before_charset else charset + canonical
    data = f"<!DOCTYPE html><html><head>{head}{og_url}</head><body></body></html>".encode()
    first = build_page(data, SETTINGS)
    assert first.output is not None
    second = build_page(first.output, SETTINGS)
    assert second.action is Action.UNCHANGED
    assert first.facts.own_domains == second.facts.own_domains
    assert second.facts.own_domains == {"shop.example", "docs.example.org"}


def test_the_own_address_is_read_in_the_head_only() -> None:
    """A canonical link in the body is one search engines ignore; the body is not read."""
    body = '<link rel="canonical" href="https://shop.example/p/"> the canonical form'
    data = f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"
    assert build_page(data.encode(), SETTINGS).facts.own_domains == frozenset()


@pytest.mark.parametrize(
    ("policy", "blocks"),
    [
        ("default-src 'self'", True),
        ("script-src 'self' 'unsafe-inline'", False),
        ("script-src 'self' 'unsafe-inline' 'nonce-abc'", True),
        ("script-src 'unsafe-inline' 'strict-dynamic'", True),
        ("img-src *", False),
        ("default-src 'none'; script-src 'HASH'", False),
        ("script-src-elem 'self'; script-src 'unsafe-inline'", True),
        ("script-src &#39;unsafe-inline&#39;", False),
    ],
)
def test_csp(policy: str, blocks: bool) -> None:
    assert csp_blocks_inline([policy.replace("HASH", "sha256-x")], "'sha256-x'") is blocks


def test_csp_meta_after_the_script_does_not_apply_to_it() -> None:
    csp = '<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
    before = b"<!DOCTYPE html><html><head>" + csp.encode() + b'<meta charset="utf-8"></head></html>'
    assert build_page(before, SETTINGS).facts.csp_blocks is True
    after = page(csp)
    assert build_page(after, SETTINGS).facts.csp_blocks is False


# The browsers' readings of these metas are checked in tests/browser/test_meta_values.py.
@pytest.mark.parametrize(
    ("equiv", "enforced"),
    [
        ("Content-Security-Policy", True),
        ("CONTENT-security-POLICY", True),
        (" Content-Security-Policy", False),
        ("Content-Security-Policy\t", False),
    ],
)
def test_a_csp_meta_is_read_by_its_http_equiv_as_written(equiv: str, enforced: bool) -> None:
    csp = f"<meta http-equiv='{equiv}' content=\"script-src 'none'\"><meta charset=utf-8>"
    facts = build_page(b"<!DOCTYPE html><html><head>" + csp.encode() + b"</head>", SETTINGS).facts
    assert facts.csp_blocks is enforced


@pytest.mark.parametrize(
    ("metas", "counted"),
    [
        ('<meta name="Referrer" content="NO-REFERRER">', True),
        ('<meta name="referrer" content=" no-referrer">', True),  # as Firefox reads it
        ('<meta name="referrer " content="no-referrer">', False),
        ('<meta name="referrer" content="no-referrer"><meta name="referrer" content="x">', True),
        (
            '<meta name="referrer" content="no-referrer"><meta name="referrer" content="origin">',
            False,
        ),
    ],
)
def test_forms_send_no_referrer_where_a_browser_reads_a_blocking_policy(
    metas: str, counted: bool
) -> None:
    form = '<form action="https://shop.example/buy"></form>'
    facts = build_page(page(metas, form), SETTINGS).facts
    assert facts.links == (("shop.example", 1),)
    assert facts.no_referrer_links == int(counted)


@pytest.mark.parametrize("rel", REL_VALUES, ids=repr)
def test_a_rel_holds_the_words_browsers_split_it_into(rel: str) -> None:
    """The browsers' table (tests/browser/test_meta_values.py), without a browser: a rel
    attribute is split at ASCII whitespace alone, for noreferrer and canonical alike."""
    head, link = rel_markup(rel, "https://docs.example.org/x")
    facts = build_page(page(head, link), SETTINGS).facts
    assert facts.links == (("docs.example.org", 1),)
    assert (facts.no_referrer_links == 1) is REL_VALUES[rel]
    assert ("docs.example.org" in facts.own_domains) is REL_VALUES[rel]


def test_public_suffix_check_agrees_with_the_package() -> None:
    """xdlink reads the package's bundled list into a set (its own parser takes a fifth of
    a second at every run); on names made from every rule, both give the same answer."""
    from importlib import resources

    import idna
    import publicsuffixlist

    from xdlink.domains import is_public_suffix

    package = publicsuffixlist.PublicSuffixList()
    data = resources.files(publicsuffixlist).joinpath("public_suffix_list.dat").read_text()
    names: set[str] = set()
    for line in data.splitlines():
        rule = line.strip().lstrip("!").replace("*.", "x.")
        if rule and not rule.startswith("//"):
            names.update([rule, "a." + rule, rule.partition(".")[2]])
    checked = 0
    for name in sorted(names - {""}):
        try:
            ascii_name = idna.encode(name, uts46=True).decode()
        except idna.IDNAError:
            continue
        assert is_public_suffix(ascii_name) == package.is_public(ascii_name), ascii_name
        checked += 1
    assert checked > 20_000


# --- cookies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domains", "suffixes"),
    [
        (["shop.example", "docs.example.org"], None),
        (["a.example", "site.github.io"], ["github.io"]),
        (["a.example", "*.shop.example.co.uk"], ["co.uk"]),
        (["a.b.s3.amazonaws.com", "x.example"], ["s3.amazonaws.com"]),
    ],
)
def test_public_suffixes_above_the_domains_are_named_for_cookies(
    domains: list[str], suffixes: list[str] | None
) -> None:
    settings = make_settings(domains)
    assert ScriptConfig.of(settings).to_json().get("s") == suffixes


def test_hosts_that_look_like_a_typo_are_read_from_link_urls_only() -> None:
    body = (
        '<a href="https://shop.exmaple/p">typo</a><a href=//docs.exampel.org/>typo</a>'
        "<p>see https://shop.exampel/ in the text</p>"
        '<a href="https://shop.example/">listed</a><a href="https://unrelated.test/">far</a>'
    )
    facts = build_page(page(body=body), SETTINGS).facts
    assert facts.near_hosts == frozenset({"shop.exmaple", "docs.exampel.org"})


# The plain reading of the host after "//" (any user info, then host characters and the
# "&#" of entities), which links._AFTER_SLASHES reads in fewer steps.
PLAIN_AFTER_SLASHES = re.compile(r"//(?:[^\s/?#@\"'<>\\]*@)?((?:&#|[^\s/?#:@\"'<>\\])+)")


HOST_PIECES = ["//", "&#", "&", "#", ";", "@", ":", "/", "?", ".", "a", "1", "-", " ", "\t"]
HOST_PIECES += ['"', "'", "<", ">", "\\", "é"]


def compiled_search_only() -> AbstractContextManager[object]:
    """The compiled search on windows of any length: it serves only those of 2 KB and
    more, and the texts hypothesis makes are shorter."""
    return mock.patch.object(lowered_module, "_SHORT", 0)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(HOST_PIECES), max_size=24).map("".join))
def test_the_hosts_after_slashes_are_those_the_plain_pattern_reads(text: str) -> None:
    plain = [(match.start(), match.group(1)) for match in PLAIN_AFTER_SLASHES.finditer(text)]
    with compiled_search_only():
        assert links_module.hosts_after_slashes(Lowered.of(text)) == plain
    assert links_module.hosts_after_slashes(Lowered(text)) == plain  # a decoded page's view
    # Windows of a few characters, each read by places or handing the rest to the
    # pattern's own search: past two places in a window, at the first, or never.
    for window, dense in ((4, 2), (5, 10**6), (3, 0), (2, 1)):
        with (
            mock.patch.object(links_module, "_SLASHES_WINDOW", window),
            mock.patch.object(links_module, "_DENSE_SLASHES", dense),
        ):
            assert links_module.hosts_after_slashes(Lowered.of(text)) == plain


# The plain reading of where a tag is text: the next opener of a comment or a raw-text
# element, then its closer, searched for with one pattern from where the last span ended.
PLAIN_INERT_MARK = re.compile(rf"<(?:!--|({'|'.join(RAW_TEXT)})(?=[\t\n\f\r />]))")


def plain_inert(lowered: str, until: int, start: int) -> list[tuple[int, int]]:
    spans, position = [], start
    while (mark := PLAIN_INERT_MARK.search(lowered, position, until)) is not None:
        closer = f"</{mark.group(1)}" if mark.group(1) else "-->"
        end = lowered.find(closer, mark.end())
        position = len(lowered) if end < 0 else end + len(closer)
        spans.append((mark.start(), position))
    return spans


INERT_PIECES = ["<!--", "-->", "<", "</", "!", "-", ">", " ", "\n", "a", "s", "/", "é"]
INERT_PIECES += [f"<{name}" for name in RAW_TEXT] + [f"</{name}" for name in RAW_TEXT]
INERT_PIECES += ["<scripts", "<titles", "<noscripts", "<iframe/", "<style>"]
# The names alone: an opener when a "<" comes before them, text otherwise (the long ones
# are searched for without their "<").
INERT_PIECES += sorted(RAW_TEXT)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.sampled_from(INERT_PIECES), max_size=30).map("".join),
    st.integers(0, 200),
    st.integers(0, 40),
)
def test_the_inert_spans_are_those_the_plain_search_finds(
    text: str, until: int, start: int
) -> None:
    """Each opener is searched for alone; the spans are those of one search for them all,
    from each span's end, on the bytes of a latin-1 view and in a decoded page's text."""
    plain = plain_inert(text, until, start)
    with compiled_search_only():
        inert = links_module._Inert(Lowered.of(text), until, start)
    assert list(zip(inert.starts, inert.ends, strict=True)) == plain
    inert = links_module._Inert(Lowered(text), until, start)
    assert list(zip(inert.starts, inert.ends, strict=True)) == plain


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["/", "a", "<s", "é", "//", "\n"]), max_size=30).map("".join),
    st.sampled_from(["/", "//", "///", "<s", "a/", "é"]),
    st.integers(0, 60),
    st.one_of(st.none(), st.integers(0, 60)),
)
def test_a_literal_is_found_where_str_find_finds_it(
    text: str, needle: str, start: int, end: int | None
) -> None:
    """The compiled search gives every place str.find gives, overlapping ones included."""
    stop = len(text) if end is None else end
    expected = [at for at in range(start, stop) if text.startswith(needle, at, stop)]
    with compiled_search_only():
        assert Lowered.of(text).positions(needle, start, end) == expected
    assert Lowered.of(text).positions(needle, start, end) == expected  # short: str.find
    assert Lowered(text).positions(needle, start, end) == expected


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["-", "x", "X", "dl", "DL", "ink", "inK", "é", "-xdlink"]), max_size=30
    ).map("".join),
    st.integers(0, 60),
)
def test_a_name_is_found_in_any_case_where_the_tokenizer_would_read_it(
    text: str, start: int
) -> None:
    """Every spelling of a name with its ASCII letters in either case, first two places."""
    expected = [at for at in range(start, len(text)) if text[at : at + 7].lower() == "-xdlink"]
    raw = text.encode("latin-1")
    assert any_case_positions(raw, "-xdlink", start) == expected[:2]
    assert any_case_positions(raw, "-xdlink", start, most=99) == expected


MARK_NEEDLES = ("<!--", "<s", "<t", "é-")


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["<", "!", "-", "s", "t", "é", "<!--", "<s", "a"]), max_size=30).map(
        "".join
    ),
    st.integers(0, 60),
    st.one_of(st.none(), st.integers(0, 60)),
)
def test_literals_found_together_are_where_str_find_finds_each(
    text: str, start: int, end: int | None
) -> None:
    """Needles none of which can stand across another's place, found in one search."""
    stop = len(text) if end is None else end
    expected = []
    for at in range(start, stop):
        index = next((i for i, n in enumerate(MARK_NEEDLES) if text.startswith(n, at, stop)), None)
        if index is not None:
            expected.append((at, index))
    assert Lowered.of(text).marks(MARK_NEEDLES, start, end) == expected
    assert Lowered(text).marks(MARK_NEEDLES, start, end) == expected
    # Searched for without their "<", which is checked: the same places.
    bare = frozenset({"<s", "<t"})
    assert Lowered.of(text).marks(MARK_NEEDLES, start, end, bare) == expected
    assert Lowered(text).marks(MARK_NEEDLES, start, end, bare) == expected


SCRIPT_PAGES = {
    "plain": "<script>mixpanel.init('t')</script>",
    "upper case": "<SCRIPT TYPE='text/javascript'>mixpanel.init('t')</SCRIPT>",
    "parked by a consent manager": '<script type="text/plain">mixpanel.init("t")</script>',
    "after an escaped end tag": ("<script><!--<script>'</script>' mixpanel.init('t')--></script>"),
    "a '>' in an attribute": '<script data-x="a>b">mixpanel.init("t")</script>',
    "no end tag": "<script>mixpanel.init('t')",
    "scripts, not script": "<scripts>x</scripts><script>mixpanel.init('t')</script>",
}


@pytest.mark.parametrize("body", SCRIPT_PAGES.values(), ids=list(SCRIPT_PAGES))
def test_every_script_the_parser_sees_lies_in_a_script_span(body: str) -> None:
    """The SDKs' names are looked for in the script spans alone: each script html5lib reads
    must lie inside one."""
    import html5lib

    text = page(body=body).decode()
    spans = list(script_spans(text, Lowered.of(text)))
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    scripts = [script.text for script in tree.iter("script") if script.text]
    assert scripts
    for script in scripts:
        assert any(script in text[start:end] for start, end in spans), (script, spans)
    facts = build_page(page(body=body), SETTINGS).facts
    assert Sdk.MIXPANEL in facts.sdks


def test_an_init_shown_in_a_code_block_starts_no_sdk() -> None:
    built = build_page(page(body="<pre><code>mixpanel.init('t')</code></pre>"), SETTINGS)
    assert built.facts.sdks == frozenset()


def test_an_sdk_name_in_another_case_is_not_the_sdk() -> None:
    """The names are found in the lower-cased page, and JavaScript's names keep their case:
    ``MixPanel.init`` is not Mixpanel's object."""
    body = "<script>MixPanel.init('t'); PostHog.init('phc_x')</script>"
    assert build_page(page(body=body), SETTINGS).facts.sdks == frozenset()
    body = "<script>MixPanel.init('t'); mixpanel.init('t')</script>"
    assert build_page(page(body=body), SETTINGS).facts.sdks == {Sdk.MIXPANEL}


def test_an_element_marked_in_upper_case_in_the_body_is_the_one_moved() -> None:
    """The tokenizer lower-cases attribute names: a script marked ``DATA-XDLINK`` is
    xdlink's, in the body too, and a build moves it rather than adding a second."""
    body = '<p>x</p><script DATA-XDLINK="0.1.0 abc">var a = 1;</script>'
    built = build_page(page(body=body), SETTINGS)
    assert built.action is Action.UPDATED
    assert built.output is not None
    assert built.output.lower().count(b"data-xdlink") == 1
    assert b"var a = 1;" not in built.output
