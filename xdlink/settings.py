"""The options of a run, declared once: each field of ``Settings`` is one option, with its
type, default, help and check. ``options`` makes the command-line flags, configuration
keys and plugin settings from these fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from xdlink.domains import normalize_domain, parse_domains, url_notices
from xdlink.sdks import Sdk

DEFAULT_PARAM = "_xdl"
DEFAULT_TTL = 120
MAX_TTL = 3600
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
_PATH_PART = re.compile(r"[A-Za-z0-9_.-]+")
# The SDKs by the names options give them: "mixpanel", "posthog".
SDK_NAMES = {sdk.value.lower(): sdk for sdk in Sdk}


class Command(StrEnum):
    BUILD = "build"
    REMOVE = "remove"
    SNIPPET = "snippet"
    VERIFY = "verify"


class WarningKind(StrEnum):
    """The kinds of warning a run can give, each one silenced by its name (``--silence``,
    Sphinx's ``suppress_warnings``): stable, documented in docs/cli.md."""

    UNLINKED_DOMAIN = "xdlink.unlinked-domain"
    NO_INIT = "xdlink.no-init"
    COOKIELESS = "xdlink.cookieless"
    CSP_BLOCKS = "xdlink.csp-blocks"
    CHARSET_LATE = "xdlink.charset-late"
    NO_REFERRER = "xdlink.no-referrer"
    SEVERAL_TOKENS = "xdlink.several-tokens"
    UNMATCHED_PATTERN = "xdlink.unmatched-pattern"
    TEMPLATE_PAGES = "xdlink.template-pages"
    CONFIG = "xdlink.config"


# The commands that take an option, by what they do: render the browser script, render
# or verify it, walk a site's pages, run a browser.
RENDERS_SCRIPT = frozenset({Command.BUILD, Command.SNIPPET})
RENDERS_OR_VERIFIES = RENDERS_SCRIPT | {Command.VERIFY}
WALKS_SITE = frozenset({Command.BUILD, Command.REMOVE})
RUNS_BROWSER = frozenset({Command.VERIFY})


@dataclass(frozen=True)
class Spec:
    """How one option is offered: its help, the commands that take it, and its check.

    ``check`` returns the value normalised, or raises ValueError with what is wrong (the
    caller names the option as its user spelled it) or XdlinkError with a whole message.
    """

    help: str
    commands: frozenset[Command]
    check: Callable[[Any], Any] | None = None
    short: str | None = None
    metavar: str | None = None
    required: frozenset[Command] = frozenset()  # the commands that need a value
    example: str | None = None  # a value to show when it is missing
    notices: Callable[[Any], tuple[str, ...]] | None = None
    # The commands that take the option from a configuration file (None: all of them).
    configured: frozenset[Command] | None = None


def option(default: Any, help: str, commands: frozenset[Command], **spec: Any) -> Any:
    return field(default=default, metadata={"xdlink": Spec(help, commands, **spec)})


def check_param(param: str) -> str:
    if not _PARAM.match(param):
        raise ValueError("use 1-32 letters, digits, '_', '-' or '.', starting with a letter or '_'")
    return param


def check_ttl(ttl: int) -> int:
    if not 1 <= ttl <= MAX_TTL:
        raise ValueError(f"give seconds from 1 to {MAX_TTL}")
    return ttl


def check_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Warning kinds, with or without their ``xdlink.`` prefix."""
    known = {kind.value for kind in WarningKind}
    named = tuple(kind if kind.startswith("xdlink.") else f"xdlink.{kind}" for kind in kinds)
    unknown = [kind for kind in named if kind not in known]
    if unknown:
        raise ValueError(f"no such warning kind {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return named


def check_resolve(rules: tuple[str, ...]) -> tuple[str, ...]:
    for rule in rules:
        host, colon, address = rule.partition(":")
        if not (colon and host.strip() and address.strip()):
            raise ValueError("give HOST:ADDRESS, e.g. shop.example:127.0.0.1")
    return rules


def check_sdks(values: tuple[str, ...]) -> tuple[str, ...]:
    """Return the SDK names of comma lists, lower-cased, in order, without repeats."""
    names: list[str] = []
    for value in values:
        for name in (part.strip().lower() for part in value.split(",")):
            if name not in SDK_NAMES:
                raise ValueError(f"give {', '.join(SDK_NAMES)} or both, as a comma list")
            if name not in names:
                names.append(name)
    return tuple(names)


def check_file(path: str) -> str:
    if not Path(path).is_file():
        raise ValueError("no such file")
    return path


def check_positive(number: int) -> int:
    if number < 1:
        raise ValueError("give 1 or more")
    return number


def check_jobs(jobs: int) -> int:
    if jobs < 0:
        raise ValueError("give 0 (one per CPU) or more")
    return jobs


def check_external(path: str) -> str:
    """Return a path inside the site, written with '/', for the script file of ``--external``: of
    letters, digits, '_', '-' and '.', as it goes into the pages' ``src`` attribute."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or not parts[-1].endswith(".js"):
        raise ValueError("give a .js path inside the site, such as 'assets/xdlink.js'")
    if not all(_PATH_PART.fullmatch(part) for part in parts):
        raise ValueError("use letters, digits, '_', '-', '.' and '/' only")
    return "/".join(part for part in parts if part != ".")


@dataclass(frozen=True)
class Settings:
    """Everything one run needs to know; built once by the CLI, the API or a plugin."""

    domains: tuple[str, ...] = option(
        (),
        "Domains to carry the visitor between: comma list, repeatable; "
        "'*.x.com' for subdomains only.",
        RENDERS_OR_VERIFIES,
        check=parse_domains,
        short="-d",
        metavar="LIST",
        required=RENDERS_SCRIPT,
        example="a.example,b.example",
        notices=url_notices,
    )
    param: str = option(
        DEFAULT_PARAM, "URL parameter that carries the id.", RENDERS_OR_VERIFIES, check=check_param
    )
    ttl: int = option(
        DEFAULT_TTL, "Seconds a decorated link stays valid.", RENDERS_SCRIPT, check=check_ttl
    )
    fragment: bool = option(
        False, "Carry the id in the #fragment instead of the query.", RENDERS_SCRIPT
    )
    external: str | None = option(
        None,
        "Write the script to this file in SITE (named with its hash, e.g. "
        "assets/xdlink.3f2a9c1b7d4e.js) and reference it with <script src>, for a CSP "
        "that forbids inline scripts.",
        frozenset({Command.BUILD}),
        check=check_external,
        metavar="FILE",
    )
    update_csp: bool = option(
        False,
        "Write the script's CSP hashes into the Content-Security-Policy of the site's header "
        "files (SITE/_headers, netlify.toml, vercel.json) where it would block the script; "
        "remove takes them out again.",
        WALKS_SITE,
    )
    sdk: tuple[str, ...] = option(
        (),
        "The SDKs the page starts: mixpanel, posthog (comma list, repeatable; default both). "
        "The script holds the code of these alone.",
        frozenset({Command.SNIPPET}),
        check=check_sdks,
        metavar="LIST",
    )
    site_domain: str | None = option(
        None,
        "The domain this site is served on, when its pages do not say it "
        "(rel=canonical, og:url): never reported as a domain no link points to.",
        frozenset({Command.BUILD}),
        check=normalize_domain,
        metavar="DOMAIN",
    )
    # remove takes out every element unless the command line narrows it: a page excluded
    # in the configuration after it was built still has its script taken out.
    include: tuple[str, ...] = option(
        (),
        "Only pages matching (repeatable).",
        WALKS_SITE,
        metavar="GLOB",
        configured=frozenset({Command.BUILD}),
    )
    exclude: tuple[str, ...] = option(
        (),
        "Leave pages matching (repeatable).",
        WALKS_SITE,
        metavar="GLOB",
        configured=frozenset({Command.BUILD}),
    )
    built: bool = option(
        False,
        "SITE is a built site, although it looks like a site generator's source folder.",
        WALKS_SITE,
    )
    silence: tuple[str, ...] = option(
        (),
        "Do not give warnings of this kind, e.g. xdlink.no-init (repeatable).",
        RENDERS_SCRIPT,
        check=check_kinds,
        metavar="KIND",
    )
    strict: bool = option(
        False,
        "Exit with status 4 when the run gives a warning (its work is done all the same).",
        frozenset({Command.BUILD, Command.VERIFY}),
    )
    jobs: int = option(
        0, "Worker processes (default: one per CPU).", WALKS_SITE, check=check_jobs, short="-j"
    )
    browser: str | None = option(
        None,
        "A Chromium executable (default: $XDLINK_BROWSER, else Playwright's own Chromium).",
        RUNS_BROWSER,
        metavar="PATH",
    )
    mixpanel_sdk: str | None = option(
        None,
        "Serve this copy of the Mixpanel SDK (dist/mixpanel.min.js) in place of Mixpanel's "
        "CDN, for runs without network.",
        RUNS_BROWSER,
        check=check_file,
        metavar="FILE",
    )
    posthog_sdk: str | None = option(
        None,
        "Serve this copy of posthog-js (dist/array.js) in place of PostHog's static/array.js "
        "(and the scripts it loads from the same folder), for runs without network.",
        RUNS_BROWSER,
        check=check_file,
        metavar="FILE",
    )
    resolve: tuple[str, ...] = option(
        (),
        "Send the browser's requests for HOST to ADDRESS (repeatable), like curl's --resolve.",
        RUNS_BROWSER,
        check=check_resolve,
        metavar="HOST:ADDRESS",
    )
    accept: tuple[str, ...] = option(
        (),
        "A CSS selector of a consent banner's accept button: on every page it opens, verify "
        "clicks the first element it matches, if any, before it checks (repeatable).",
        RUNS_BROWSER,
        metavar="SELECTOR",
    )
    headed: bool = option(
        False, "Show the browser in a visible window, for a person to watch the run.", RUNS_BROWSER
    )
    pages: int = option(
        30,
        "Pages of a deployed site to visit when looking for a link to the other site.",
        RUNS_BROWSER,
        check=check_positive,
    )
    timeout: int = option(
        10,
        "Seconds to wait for a page, the SDK or an event.",
        RUNS_BROWSER,
        check=check_positive,
    )
    notices: tuple[str, ...] = field(default=(), compare=False)
    config: str | None = field(default=None, compare=False)  # the file the values came from
    config_warnings: tuple[str, ...] = field(default=(), compare=False)
