"""The rendered browser script: its size budget, its build, and what its settings become."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import rjsmin

from tests.browser.harness import ROOT, require
from xdlink.mixpanel import MixpanelConfig
from xdlink.script import ScriptConfig, render

JS = ROOT / "js"
TEMPLATE = ROOT / "xdlink" / "templates" / "xdlink.js.j2"
REALISTIC = ScriptConfig(
    domains=("shop.example.com", "www.example-blog.org"),
    param="_xdl",
    ttl=120,
    mixpanel=MixpanelConfig(token="3f1c9a7e5b2d4c6e8a0b1c2d3e4f5a6b"),
)
# The first budget was 2,400 bytes and 1,300 gzipped, which every feature together did not fit
# (features win over bytes); the debug mode then had 150 gzipped more and took 130, and
# consent-safe adoption 413 more. js/README.md shows where the bytes go.
# These limits hold the measured size, so that growth is a decision, not an accident.
MAX_BYTES = 3865
MAX_GZIPPED = 2080


def test_size_budget() -> None:
    code = render(REALISTIC).code.encode()
    gzipped = len(gzip.compress(code, compresslevel=9, mtime=0))
    assert len(code) <= MAX_BYTES, f"{len(code)} bytes, {gzipped} gzipped"
    assert gzipped <= MAX_GZIPPED, f"{len(code)} bytes, {gzipped} gzipped"


def test_template_is_the_minified_source() -> None:
    node = shutil.which("node")
    require(node is not None, "node is missing: apt-get install -y nodejs npm")
    require((JS / "node_modules" / "terser").is_dir(), "terser is missing: run `npm ci` in js/")
    assert node is not None
    built = subprocess.run(
        [node, "build.mjs", "--stdout"], cwd=JS, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    assert TEMPLATE.read_text() == built.stdout, "stale template: run `npm run build` in js/"


def test_no_dynamic_code() -> None:
    code = render(REALISTIC).code
    assert not re.search(r"\beval\b|innerHTML|outerHTML|document\.write|Function\(", code)


def test_settings_cannot_close_the_script_element() -> None:
    hostile = MixpanelConfig(token="t", persistence_name="</script><script>alert(1)//<!--")
    code = render(ScriptConfig(domains=("a.example",), param="_xdl", ttl=120, mixpanel=hostile))
    assert "</" not in code.code
    assert "<!--" not in code.code


def test_only_the_settings_change_between_sites() -> None:
    other = ScriptConfig(domains=("x.example", "*.y.example"), param="p", ttl=9, fragment=True)
    first, second = render(REALISTIC).code, render(other).code
    settings = r'{"d":"(^|\\.)(x\\.example)$|\\.(y\\.example)$","f":1,"p":"p","t":9}'
    assert second.count(settings) == 1
    assert first.replace(compact(REALISTIC), "S") == second.replace(settings, "S")


def compact(config: ScriptConfig) -> str:
    return json.dumps(config.to_json(), separators=(",", ":"), sort_keys=True)


def mapped(**fields: Any) -> dict[str, Any]:
    config = MixpanelConfig(token="tok", **fields)
    data: dict[str, Any] = ScriptConfig(("a.example",), "_xdl", 1, mixpanel=config).to_json()
    return data["m"]  # type: ignore[no-any-return]


def test_mixpanel_settings_are_precomputed() -> None:
    assert mapped() == {"n": "mp_tok_mixpanel", "o": "__mp_opt_in_out_tok"}
    assert mapped(persistence_name="custom", opt_out_cookie_prefix="pre_") == {
        "n": "mp_custom",
        "o": "pre_tok",
    }
    assert mapped(persistence="localStorage")["l"] == 1
    assert mapped(persistence="cookie").get("l") is None
    assert mapped(cross_subdomain_cookie=False)["h"] == 1
    assert mapped(cross_subdomain_cookie=True).get("h") is None
    assert mapped(cookie_domain=".example.com")["c"] == ".example.com"
    assert mapped(secure_cookie=True)["a"] == ";secure"
    assert mapped(cross_site_cookie=True, secure_cookie=False)["a"] == ";SameSite=None;secure"


RENDERED = [
    REALISTIC,
    ScriptConfig(domains=("x.example", "*.y.example"), param="p.q-r", ttl=3600, fragment=True),
    ScriptConfig(domains=("xn--bcher-kva.example",), param="_xdl", ttl=1),
    ScriptConfig(
        domains=("a.example",),
        param="_xdl",
        ttl=120,
        mixpanel=MixpanelConfig(
            token="t" * 64,
            instance="second",
            persistence="localStorage",
            persistence_name="</script><!-- \u2028 \" ' {a: 1, b: [2]}",
            cookie_domain=".a.example",
            cross_subdomain_cookie=False,
            secure_cookie=True,
            cross_site_cookie=True,
            opt_out_persistence="cookie",
            opt_out_cookie_prefix="pre fix",
        ),
    ),
]


@pytest.mark.parametrize("config", RENDERED)
def test_rendered_script_needs_no_minifier(config: ScriptConfig) -> None:
    """The template is minified at development time and the settings go in as compact
    JSON, so a JavaScript minifier at render time would change no byte."""
    code = render(config).code
    assert rjsmin.jsmin(code) == code
