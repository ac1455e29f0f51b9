"""A seeded, deterministic static site in the shapes real generators produce.

Pages come in four shapes (Sphinx, minified Hugo, MkDocs Material, Docusaurus), 5 to 60 KB
each, spread over the root, section folders and dated blog folders, with non-HTML assets
beside them. Most heads carry the Mixpanel snippet and a ``mixpanel.init`` call; many
navigation bars link to the listed domains. Page ``i`` depends only on the seed and ``i``,
so a smaller site is a prefix of a larger one.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DOMAINS = ("shop.example", "docs.example.org")
MIN_PAGE = 5 * 1024
MAX_PAGE = 60 * 1024
MEDIAN_PAGE = 15_000
MIXPANEL_SHARE = 0.85
DOMAIN_LINK_SHARE = 0.6
ASSET_EVERY = 8

MIXPANEL_SNIPPET = (
    "(function(f,b){if(!b.__SV){var e,g,i,h;window.mixpanel=b;b._i=[];b.init=function(e,f,c)"
    '{function g(a,d){var b=d.split(".");2==b.length&&(a=a[b[0]],d=b[1]);a[d]=function(){a.push'
    '([d].concat(Array.prototype.slice.call(arguments,0)))}}var a=b;"undefined"!==typeof c?a=b'
    '[c]=[]:c="mixpanel";a.people=a.people||[];a.toString=function(a){var d="mixpanel";'
    '"mixpanel"!==c&&(d+="."+c);a||(d+=" (stub)");return d};a.people.toString=function(){return '
    'a.toString(1)+".people (stub)"};i="disable time_event track track_pageview track_links '
    "track_forms track_with_groups add_group set_group remove_group register register_once alias "
    "unregister identify name_tag set_config reset opt_in_tracking opt_out_tracking "
    "has_opted_in_tracking has_opted_out_tracking clear_opt_in_out_tracking start_batch_senders "
    "people.set people.set_once people.unset people.increment people.append people.union "
    'people.track_charge people.clear_charges people.delete_user people.remove".split(" ");\n'
    'for(h=0;h<i.length;h++)g(a,i[h]);var j="set set_once union unset remove delete".split(" ");'
    "a.get_group=function(){function b(c){d[c]=function(){call2_args=arguments;call2=[c].concat("
    'Array.prototype.slice.call(call2_args,0));a.push([e,call2])}}for(var d={},e=["get_group"]'
    ".concat(Array.prototype.slice.call(arguments,0)),c=0;c<j.length;c++)b(j[c]);return d};"
    'b._i.push([e,f,c])};b.__SV=1.2;e=f.createElement("script");e.type="text/javascript";'
    'e.async=!0;e.src="undefined"!==typeof MIXPANEL_CUSTOM_LIB_URL?MIXPANEL_CUSTOM_LIB_URL:'
    '"file:"===f.location.protocol&&"//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js".match'
    '(/^\\/\\//)?"https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js":'
    '"//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js";g=f.getElementsByTagName("script")[0];'
    "g.parentNode.insertBefore(e,g)}})(document,window.mixpanel||[]);"
)

SYLLABLES = (
    "ka te ri mo su na lo ve pi da ge hu zo fi be ta ne ro li ma se co du pa re mi no qua ex in "
    "on ul ar or en an is us um ent ion tor ly ic al ité über ção"
)

SYLLABLE_LIST = SYLLABLES.split(" ")

ICON_PATH = (
    "M{a}.{b} {c}.{d}c-.{e} .{f}-1.{a} 1.{b}-2.{c} 1.{d}H{e}.{f}l-{a}.{b}-{c}.{d}A{e} {f} 0 0 1 "
    "{a}.{b} {c}.{d}V{e}.{f}a{a}.{b} {c}.{d} 0 0 0-{e}.{f}-{a}.{b}Z"
)


@dataclass(frozen=True)
class SiteStats:
    """What was generated."""

    pages: int
    assets: int
    bytes: int
    shapes: dict[str, int]
    with_mixpanel: int
    with_domain_links: int


@dataclass
class Pools:
    """Ready-made pieces that pages are assembled from, so generating stays fast."""

    words: list[str]
    paragraphs: list[str]
    minified: list[str]
    icons: list[str]
    token: str


@dataclass(frozen=True)
class PageSpec:
    """One page to assemble: its path, shape and the choices that vary between pages."""

    index: int
    relative: str
    depth: int
    shape: str
    size: int
    mixpanel: bool
    domain_links: bool
    rng: random.Random


# --- pools ---------------------------------------------------------------------------


def make_pools(seed: int) -> Pools:
    rng = random.Random(seed)
    words = [_word(rng) for _ in range(600)]
    paragraphs = [_block(rng, words, minify=False) for _ in range(500)]
    minified = [_block(rng, words, minify=True) for _ in range(500)]
    icons = [_icon(rng) for _ in range(24)]
    return Pools(words, paragraphs, minified, icons, f"{rng.getrandbits(128):032x}")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLE_LIST) for _ in range(rng.randint(1, 4)))


def _sentence(rng: random.Random, words: list[str]) -> str:
    text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 22)))
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", " —"))


def _block(rng: random.Random, words: list[str], minify: bool) -> str:
    kind = rng.random()
    if kind < 0.6:
        html = _prose(rng, words)
    elif kind < 0.8:
        html = _code(rng, words)
    elif kind < 0.9:
        html = _table(rng, words)
    else:
        html = _list(rng, words)
    return html.replace("\n", "") if minify else html + "\n"


def _prose(rng: random.Random, words: list[str]) -> str:
    sentences = [_sentence(rng, words) for _ in range(rng.randint(2, 7))]
    link = f'<a class="reference internal" href="{rng.choice(words)}.html">{rng.choice(words)}</a>'
    sentences.insert(rng.randint(0, len(sentences)), link)
    emphasis = f"<em>{rng.choice(words)}</em> &amp; <code>{rng.choice(words)}()</code>"
    return f"<p>{' '.join(sentences)} {emphasis}</p>"


def _code(rng: random.Random, words: list[str]) -> str:
    lines = []
    for _ in range(rng.randint(3, 14)):
        name, value = rng.choice(words), rng.choice(words)
        lines.append(
            f'<span class="n">{name}</span> <span class="o">=</span> '
            f'<span class="s2">&quot;{value}&quot;</span>'
        )
    body = "\n".join(lines)
    return (
        '<div class="highlight-python notranslate"><div class="highlight">'
        f"<pre>{body}\n</pre></div></div>"
    )


def _table(rng: random.Random, words: list[str]) -> str:
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{rng.choice(words)}</td>" for _ in range(4)) + "</tr>"
        for _ in range(rng.randint(3, 10))
    )
    return f'<table class="docutils align-default">\n<tbody>\n{rows}\n</tbody>\n</table>'


def _list(rng: random.Random, words: list[str]) -> str:
    items = "\n".join(f"<li><p>{_sentence(rng, words)}</p></li>" for _ in range(rng.randint(3, 8)))
    return f'<ul class="simple">\n{items}\n</ul>'


def _icon(rng: random.Random) -> str:
    parts = [
        ICON_PATH.format(**{k: rng.randint(0, 99) for k in "abcdef"})
        for _ in range(rng.randint(1, 6))
    ]
    paths = "".join(f'<path d="{d}"/>' for d in parts)
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{paths}</svg>'


# --- one page ------------------------------------------------------------------------


def page_spec(index: int, seed: int) -> PageSpec:
    rng = random.Random(f"{seed}:{index}")
    relative, depth = _place(rng, index)
    size = int(rng.lognormvariate(math.log(MEDIAN_PAGE), 0.6))
    return PageSpec(
        index=index,
        relative=relative,
        depth=depth,
        shape=rng.choices(tuple(SHAPES), weights=(3, 3, 3, 2))[0],
        size=min(MAX_PAGE, max(MIN_PAGE, size)),
        mixpanel=rng.random() < MIXPANEL_SHARE,
        domain_links=rng.random() < DOMAIN_LINK_SHARE,
        rng=rng,
    )


def _place(rng: random.Random, index: int) -> tuple[str, int]:
    where = rng.random()
    if index == 0:
        return "index.html", 0
    if where < 0.1:
        return f"page-{index}.html", 0
    if where < 0.75:
        return f"docs/section-{index % 37}/page-{index}.html", 2
    year, month = 2015 + index % 10, 1 + index % 12
    return f"blog/{year}/{month:02d}/post-{index}/index.html", 4


def render_page(spec: PageSpec, pools: Pools) -> str:
    head, nav, open_body, close_body, minify = SHAPES[spec.shape](spec, pools)
    filler = pools.minified if minify else pools.paragraphs
    used = len(head) + len(nav) + len(open_body) + len(close_body)
    blocks: list[str] = []
    rng = spec.rng
    while used < spec.size:
        block = rng.choice(filler)
        if used + len(block) > MAX_PAGE:
            break
        blocks.append(block)
        used += len(block)
    return "".join((head, open_body, nav, *blocks, close_body))


def _up(spec: PageSpec) -> str:
    return "../" * spec.depth


def _title(spec: PageSpec, pools: Pools) -> str:
    rng = spec.rng
    return " ".join(rng.choice(pools.words) for _ in range(rng.randint(2, 6))).title()


def _mixpanel_script(pools: Pools, minify: bool) -> str:
    init = (
        f'mixpanel.init("{pools.token}", '
        '{track_pageview: true, persistence: "localStorage", api_host: "https://api-eu.mixpanel.com"});'
    )
    if minify:
        return f"<script>{MIXPANEL_SNIPPET.replace(chr(10), '')}{init}</script>"
    return f'<script type="text/javascript">\n{MIXPANEL_SNIPPET}\n{init}\n</script>\n'


def _domain_links(spec: PageSpec, quote: str) -> list[str]:
    if not spec.domain_links:
        return []
    q = quote
    return [
        f"<a href={q}https://{DOMAINS[0]}/pricing{q}>Pricing</a>",
        f"<a href={q}https://www.{DOMAINS[0]}/cart?ref=docs{q}>Shop</a>",
        f"<a href={q}https://{DOMAINS[1]}/guide/{spec.index % 50}/{q}>Guide</a>",
    ]


def _nav_items(spec: PageSpec, pools: Pools, count: int, quote: str) -> list[str]:
    rng, q = spec.rng, quote
    items = [
        f"<a href={q}{_up(spec)}docs/section-{rng.randrange(37)}/"
        f"page-{rng.randrange(9999)}.html{q}>{rng.choice(pools.words).title()}</a>"
        for _ in range(count)
    ]
    items.append(f"<a href={q}https://github.com/example/project{q}>GitHub</a>")
    return items + _domain_links(spec, quote)


def _with_class(anchor: str, name: str) -> str:
    return anchor.replace("<a ", f'<a class="{name}" ', 1)


# --- shapes --------------------------------------------------------------------------

Parts = tuple[str, str, str, str, bool]


def sphinx(spec: PageSpec, pools: Pools) -> Parts:
    up, rng = _up(spec), spec.rng
    styles = "".join(
        f'    <link rel="stylesheet" type="text/css" '
        f'href="{up}_static/{name}.css?v={rng.getrandbits(32):08x}" />\n'
        for name in ("pygments", "alabaster", "basic", "copybutton", "tabs", "sphinx-design.min")
    )
    scripts = "".join(
        f'    <script src="{up}_static/{name}.js?v={rng.getrandbits(32):08x}"></script>\n'
        for name in ("documentation_options", "doctools", "sphinx_highlight", "clipboard.min")
    )
    head = (
        '<!DOCTYPE html>\n\n<html lang="en" data-content_root="' + (up or "./") + '">\n  <head>\n'
        '    <meta charset="utf-8" />\n'
        '    <meta name="viewport" content="width=device-width, initial-scale=1.0" />'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n\n'
        f"    <title>{_title(spec, pools)} &#8212; Example 4.2 documentation</title>\n"
        f"{styles}{scripts}"
        f'    <link rel="index" title="Index" href="{up}genindex.html" />\n'
        f'    <link rel="search" title="Search" href="{up}search.html" />\n'
        f'    <link rel="next" title="Next" href="page-{spec.index + 1}.html" />\n'
        f'    <link rel="prev" title="Previous" href="page-{spec.index - 1}.html" />\n'
        + (_mixpanel_script(pools, minify=False) if spec.mixpanel else "")
        + '   \n  <link rel="stylesheet" href="'
        + up
        + '_static/custom.css" type="text/css" />\n\n  </head><body>\n'
    )
    nav = (
        '<div class="sphinxsidebar" role="navigation" aria-label="Main">\n'
        '<div class="sphinxsidebarwrapper">\n<ul class="current">\n'
        + "\n".join(f'<li class="toctree-l1">{a}</li>' for a in _nav_items(spec, pools, 30, '"'))
        + "\n</ul>\n</div>\n</div>\n"
    )
    open_body = (
        '  <div class="document">\n    <div class="documentwrapper">\n'
        '      <div class="body" role="main">\n'
    )
    close_body = (
        "      </div>\n    </div>\n  </div>\n"
        '  <div class="footer">&#169;2024, Example. Powered by Sphinx 7.2.6</div>\n'
        "  </body>\n</html>"
    )
    return head, nav, open_body, close_body, False


def hugo(spec: PageSpec, pools: Pools) -> Parts:
    rng = spec.rng
    metas = "".join(
        f"<meta property=og:{name} content={rng.choice(pools.words)}>"
        for name in ("title", "description", "type", "url", "image", "site_name", "locale")
    )
    head = (
        "<!doctype html><html lang=en-us dir=ltr><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<meta name=description content="{_title(spec, pools)}">'
        f'<meta name=generator content="Hugo 0.121.1">{metas}'
        f"<title>{_title(spec, pools)} | Example</title>"
        f'<link rel=canonical href="https://example.com/{spec.relative}">'
        f"<link rel=stylesheet href=/css/main.min.{rng.getrandbits(64):016x}.css "
        'integrity="sha256-Zm9vYmFy" crossorigin=anonymous>'
        "<link rel=icon href=/favicon.ico><link rel=manifest href=/site.webmanifest>"
        "<script src=/js/theme.min.js defer></script>"
        + (_mixpanel_script(pools, minify=True) if spec.mixpanel else "")
        + "</head><body class=list>"
    )
    icons = "".join(rng.choice(pools.icons) for _ in range(6))
    nav = (
        f"<header class=header><nav class=nav><a class=logo href=/>{icons}Example</a><ul id=menu>"
        + "".join(f"<li>{a}" for a in _nav_items(spec, pools, 12, ""))
        + "</ul></nav></header><main class=main><article class=post-single>"
    )
    close_body = (
        "</article></main><footer class=footer><span>&copy; 2024 Example</span></footer>"
        "<script>document.getElementById('menu').scrollLeft=0</script></body></html>"
    )
    return head, nav, "", close_body, True


def mkdocs(spec: PageSpec, pools: Pools) -> Parts:
    up, rng = _up(spec), spec.rng
    head = (
        '<!doctype html>\n<html lang="en" class="no-js">\n  <head>\n    \n'
        '      <meta charset="utf-8">\n'
        '      <meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f'      <meta name="description" content="{_title(spec, pools)}">\n'
        '      <meta name="author" content="Example Team">\n'
        f'      <link rel="canonical" href="https://example.com/{spec.relative}">\n'
        f'      <link rel="prev" href="{up}prev/">\n      <link rel="next" href="{up}next/">\n'
        f'      <link rel="icon" href="{up}assets/images/favicon.png">\n'
        '      <meta name="generator" content="mkdocs-1.5.3, mkdocs-material-9.5.3">\n'
        f"      <title>{_title(spec, pools)} - Example</title>\n"
        f'      <link rel="stylesheet" href="{up}assets/stylesheets/'
        f'main.{rng.getrandbits(32):08x}.min.css">\n'
        f'      <link rel="stylesheet" href="{up}assets/stylesheets/'
        f'palette.{rng.getrandbits(32):08x}.min.css">\n'
        '      <link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>\n'
        '      <link rel="stylesheet" href="https://fonts.googleapis.com/css?family='
        'Roboto:300,300i,400,400i,700,700i%7CRoboto+Mono:400,400i,700,700i&display=fallback">\n'
        '      <script>__md_scope=new URL("..",location),'
        "__md_hash=e=>[...e].reduce((e,_)=>(e<<5)-e+_.charCodeAt(0),0),"
        '__md_get=(e,_=localStorage,t=__md_scope)=>JSON.parse(_.getItem(t.pathname+"."+e))</script>\n'
        + (_mixpanel_script(pools, minify=False) if spec.mixpanel else "")
        + '  </head>\n  \n  \n    \n    \n  <body dir="ltr">\n'
    )
    icons = [rng.choice(pools.icons) for _ in range(8)]
    nav = (
        '    <header class="md-header" data-md-component="header">\n'
        '      <nav class="md-header__inner md-grid">'
        f'<a href="{up}" class="md-header__button md-logo">{icons[0]}</a>'
        f'<label class="md-header__button md-icon" for="__drawer">{icons[1]}</label></nav>\n'
        '    </header>\n    <nav class="md-nav md-nav--primary" data-md-level="0">\n'
        '      <ul class="md-nav__list">\n'
        + "".join(
            f'        <li class="md-nav__item">{_with_class(a, "md-nav__link")}</li>\n'
            for a in _nav_items(spec, pools, 40, '"')
        )
        + "      </ul>\n    </nav>\n"
        + "".join(f'    <span class="md-icon">{icon}</span>\n' for icon in icons[2:])
    )
    open_body = '    <main class="md-main">\n      <article class="md-content__inner md-typeset">\n'
    close_body = (
        "      </article>\n    </main>\n"
        '    <script id="__config" type="application/json">{"base": "' + (up or ".") + '", '
        '"features": ["navigation.tabs", "search.highlight"], '
        '"search": "assets/javascripts/workers/search.js"}</script>\n'
        f'    <script src="{up}assets/javascripts/'
        f'bundle.{rng.getrandbits(32):08x}.min.js"></script>\n'
        "  </body>\n</html>"
    )
    return head, nav, open_body, close_body, False


def docusaurus(spec: PageSpec, pools: Pools) -> Parts:
    rng = spec.rng
    preloads = "".join(
        f'<link rel="preload" href="/assets/js/{rng.getrandbits(32):08x}.'
        f'{rng.getrandbits(32):08x}.js" as="script">'
        for _ in range(rng.randint(20, 45))
    )
    head = (
        '<!doctype html>\n<html lang="en" dir="ltr" class="docs-wrapper plugin-docs '
        'plugin-id-default docs-version-current docs-doc-page" data-has-hydrated="false">\n<head>\n'
        '<meta charset="UTF-8">\n<meta name="generator" content="Docusaurus v3.5.2">\n'
        f'<title data-rh="true">{_title(spec, pools)} | Example</title>'
        '<meta data-rh="true" name="viewport" content="width=device-width,initial-scale=1">'
        '<meta data-rh="true" name="twitter:card" content="summary_large_image">'
        f'<meta data-rh="true" property="og:url" content="https://example.com/{spec.relative}">'
        '<meta data-rh="true" property="og:locale" content="en">'
        '<meta data-rh="true" name="docusaurus_locale" content="en">'
        '<meta data-rh="true" name="docsearch:language" content="en">'
        '<link data-rh="true" rel="icon" href="/img/favicon.ico">'
        f'<link data-rh="true" rel="canonical" href="https://example.com/{spec.relative}">'
        f'<script type="application/ld+json">{_ld_json(spec, pools)}</script>'
        + (_mixpanel_script(pools, minify=True) if spec.mixpanel else "")
        + f'<link rel="stylesheet" href="/assets/css/styles.{rng.getrandbits(32):08x}.css">'
        f'<script src="/assets/js/runtime~main.{rng.getrandbits(32):08x}.js" '
        'defer="defer"></script>'
        f'<script src="/assets/js/main.{rng.getrandbits(32):08x}.js" defer="defer"></script>\n'
        f'{preloads}</head>\n<body class="navigation-with-keyboard">\n'
        '<script>!function(){function t(t){document.documentElement.setAttribute("data-theme",t)}'
        "var e=function(){try{return new URLSearchParams(window.location.search)"
        '.get("docusaurus-theme")}'
        'catch(t){}}()||function(){try{return localStorage.getItem("theme")}catch(t){}}();'
        't(null!==e?e:"light")}()</script>'
    )
    nav = (
        '<div id="__docusaurus"><nav aria-label="Main" class="navbar navbar--fixed-top">'
        '<div class="navbar__inner"><div class="navbar__items">'
        + "".join(
            _with_class(a, "navbar__item navbar__link") for a in _nav_items(spec, pools, 25, '"')
        )
        + rng.choice(pools.icons)
        + '</div></div></nav><div class="main-wrapper"><article>'
        '<div class="theme-doc-markdown markdown">'
    )
    close_body = "</div></article></div></div></body>\n</html>"
    return head, nav, "", close_body, True


def _ld_json(spec: PageSpec, pools: Pools) -> str:
    rng = spec.rng
    words = pools.words
    crumbs = ",".join(
        f'{{"@type":"ListItem","position":{n},"name":"{rng.choice(words)}",'
        f'"item":"https://example.com/docs/{rng.choice(words)}/{rng.choice(words)}"}}'
        for n in range(1, rng.randint(20, 60))
    )
    return (
        '{"@context":"https://schema.org","@type":"BreadcrumbList","itemListElement":['
        + crumbs
        + "]}"
    )


SHAPES: dict[str, Callable[[PageSpec, Pools], Parts]] = {
    "sphinx": sphinx,
    "hugo-minified": hugo,
    "mkdocs": mkdocs,
    "docusaurus": docusaurus,
}


# --- assets and the whole site -------------------------------------------------------


def _asset(index: int, seed: int) -> tuple[str, bytes]:
    rng = random.Random(f"asset:{seed}:{index}")
    kind = index % 4
    if kind == 0:
        return f"assets/images/img-{index}.png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(
            rng.randint(2_000, 40_000)
        )
    if kind == 1:
        rule = f".c{index}{{margin:0 auto;padding:{rng.randint(0, 40)}px}}"
        return f"assets/css/part-{index}.css", (rule * rng.randint(50, 400)).encode()
    if kind == 2:
        return f"assets/js/chunk-{index}.js", (
            b"(self.webpackChunk=self.webpackChunk||[]).push([[%d],{}]);" % index
        ) * rng.randint(20, 200)
    return f"docs/section-{index % 37}/data-{index}.json", b'{"k":1}' * rng.randint(10, 300)


def _write(root: Path, relative: str, data: bytes, made: set[str]) -> None:
    folder = os.path.dirname(relative)
    if folder not in made:
        os.makedirs(root / folder, exist_ok=True)
        made.add(folder)
    with open(root / relative, "wb") as handle:
        handle.write(data)


def generate(root: Path, pages: int, seed: int) -> SiteStats:
    """Write ``pages`` pages (and their assets) under ``root``, which must not exist yet."""
    root.mkdir(parents=True)
    pools = make_pools(seed)
    made: set[str] = {""}
    total, shapes, mixpanel, linked = 0, dict.fromkeys(SHAPES, 0), 0, 0
    for index in range(pages):
        spec = page_spec(index, seed)
        data = render_page(spec, pools).encode("utf-8")
        _write(root, spec.relative, data, made)
        total += len(data)
        shapes[spec.shape] += 1
        mixpanel += spec.mixpanel
        linked += spec.domain_links
    assets = pages // ASSET_EVERY
    for index in range(assets):
        relative, data = _asset(index, seed)
        _write(root, relative, data, made)
        total += len(data)
    return SiteStats(pages, assets, total, shapes, mixpanel, linked)
