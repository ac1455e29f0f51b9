"""Run xdlink as part of a MkDocs or Sphinx build, so there is no separate step to forget.

Both integrations are thin wrappers over :func:`xdlink.build`: they read the same options
as the command line, validate them when the generator reads its configuration (a bad
domain stops the build before any page is rendered), run xdlink over the output folder
after every successful build, and log the report through the generator's own logger.

MkDocs
------

Install with ``pip install 'xdlink[mkdocs]'`` and list the plugin in ``mkdocs.yml``::

    plugins:
      - search            # listing plugins replaces MkDocs' default list: keep search
      - xdlink:
          domains: [shop.example, docs.example.org]
          # optional, same meaning as the command-line options:
          # param: _xdl
          # ttl: 120
          # token: 0123456789abcdef0123456789abcdef
          # fragment: false
          # include: ["guide/**"]
          # exclude: ["drafts/**", "404.html"]
          # external: assets/xdlink.js
          # jobs: 0

Options are checked with the rest of mkdocs.yml (``on_config``): a bad domain stops the
build before any page is rendered. The plugin runs at ``on_post_build``, on ``site_dir``;
under ``mkdocs serve`` that is the temporary folder being served, so the served pages carry
the script too (there, pages are processed in one process unless ``jobs`` is set). The
summary and the CSP hash are logged at INFO, xdlink's warnings (a listed domain no link
points to, pages without ``mixpanel.init`` ...) as MkDocs warnings, so ``mkdocs build
--strict`` fails on them while a plain build only prints them. A page that cannot be
processed fails the build.

Sphinx
------

Install with ``pip install 'xdlink[sphinx]'`` and add to ``conf.py``::

    extensions = ["xdlink.integrations.sphinx"]
    xdlink_domains = ["shop.example", "docs.example.org"]
    # optional, same meaning as the command-line options:
    # xdlink_param = "_xdl"
    # xdlink_ttl = 120
    # xdlink_token = "0123456789abcdef0123456789abcdef"
    # xdlink_fragment = False
    # xdlink_include = []
    # xdlink_exclude = ["drafts/**"]
    # xdlink_external = "_static/xdlink.js"
    # xdlink_jobs = 0

After a successful build with an HTML builder (``html``, ``dirhtml``, ``singlehtml`` ...,
not ``epub``) the extension runs xdlink over the output folder; other builders (``text``,
``latex``, ``linkcheck`` ...) are left alone. Settings are checked when ``conf.py`` is read,
whatever the builder. xdlink's warnings are Sphinx warnings of type ``xdlink``: ``-W``
turns them into a failed build and ``suppress_warnings = ["xdlink"]`` silences them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from xdlink.errors import XdlinkError
from xdlink.report import Report
from xdlink.settings import (
    DEFAULT_PARAM,
    DEFAULT_TTL,
    Settings,
    make_settings,
)

#: Option names, as both integrations spell them after their prefix, with defaults.
DEFAULTS: dict[str, Any] = {
    "domains": [],
    "param": DEFAULT_PARAM,
    "ttl": DEFAULT_TTL,
    "token": None,
    "fragment": False,
    "include": [],
    "exclude": [],
    "external": None,
    "jobs": 0,
}

_CLI_FLAGS = ("domains", "param", "ttl", "token", "external")


def settings_from(options: Mapping[str, Any], prefix: str = "") -> Settings:
    """Validated settings from a generator's configuration values, keyed like DEFAULTS.

    Values come from YAML or ``conf.py``, so their types are checked too; error messages
    name the option as the user wrote it (``prefix + name``), not as a command-line flag.
    """
    values = {name: options.get(name, default) for name, default in DEFAULTS.items()}
    names = {name: prefix + name for name in DEFAULTS}
    domains = _strings(values["domains"], names["domains"])
    if not any(part.strip() for domain in domains for part in domain.split(",")):
        raise XdlinkError(f"no domains given: set {names['domains']}")
    try:
        return make_settings(
            domains,
            param=_typed(values["param"], str, names["param"]),
            ttl=_typed(values["ttl"], int, names["ttl"]),
            token=_optional_str(values["token"], names["token"]),
            in_fragment=_typed(values["fragment"], bool, names["fragment"]),
            include=_strings(values["include"], names["include"]),
            exclude=_strings(values["exclude"], names["exclude"]),
            jobs=_jobs(values["jobs"], names["jobs"]),
            external=_optional_str(values["external"], names["external"]),
        )
    except XdlinkError as exc:
        message = exc.message
        for flag in _CLI_FLAGS:
            message = message.replace(f"--{flag}", names[flag])
        raise XdlinkError(message) from None


def _typed(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise XdlinkError(f"{name} must be of type {kind.__name__}, not {type(value).__name__}")
    return value


def _optional_str(value: Any, name: str) -> str | None:
    return None if value is None else str(_typed(value, str, name))


def _jobs(value: Any, name: str) -> int:
    jobs = int(_typed(value, int, name))
    if jobs < 0:
        raise XdlinkError(f"{name} must be 0 (one per CPU) or more, not {jobs}")
    return jobs


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise XdlinkError(f"{name} must be a string or a list of strings")


def info_lines(report: Report) -> Iterator[str]:
    """What the command line prints on stdout for a build: summary, script file, CSP hash."""
    yield report.summary()
    for path, status in sorted(report.script_files.items()):
        yield f"script file {report.display(path)}: {status}"
    if not report.script_files:
        for digest in report.csp_hashes():
            yield f"script CSP hash: {digest}"


def failure(report: Report) -> str | None:
    """Why the build must fail, or None. Interrupts are raised as KeyboardInterrupt."""
    if report.interrupted:
        raise KeyboardInterrupt
    if not report.errors:
        return None
    return "\n".join([f"xdlink: {len(report.errors)} pages could not be processed", *report.errors])


__all__ = ["DEFAULTS", "failure", "info_lines", "settings_from"]
