"""The command line: options become settings, one call runs, the report sets the exit code."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from xdlink import __version__, api
from xdlink.errors import XdlinkError
from xdlink.page import block_markup, script_config
from xdlink.report import Report
from xdlink.script import MixpanelConfig, render
from xdlink.settings import (
    DEFAULT_PARAM,
    DEFAULT_TTL,
    Settings,
    find_config,
    make_settings,
    read_config,
)

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

F = TypeVar("F", bound=Callable[..., Any])


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Eager: put the configuration file's values in ``default_map`` so flags win."""
    path = Path(value) if value else find_config(Path.cwd())
    if value and not Path(value).is_file():
        raise XdlinkError(f"configuration file {value} not found")
    if path is not None:
        options = read_config(path)
        ctx.default_map = {**(ctx.default_map or {}), **options}
    return value


def _apply(function: F, decorators: list[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


CONFIG_OPTION = click.option(
    "--config",
    type=click.Path(dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_load_config,
    help="Read options from this TOML file (default: xdlink.toml or "
    "[tool.xdlink] in pyproject.toml, looked up from the working directory).",
)


def script_options(function: F) -> F:
    """What the browser script is told: shared by build and snippet."""
    return _apply(
        function,
        [
            click.option(
                "-d",
                "--domains",
                multiple=True,
                metavar="LIST",
                help="Domains to carry the visitor between: comma list, repeatable; "
                "'*.x.com' for subdomains only.",
            ),
            click.option(
                "--param",
                default=DEFAULT_PARAM,
                show_default=True,
                help="URL parameter that carries the id.",
            ),
            click.option(
                "--ttl",
                type=int,
                default=DEFAULT_TTL,
                show_default=True,
                help="Seconds a decorated link stays valid.",
            ),
            click.option(
                "--token", help="Mixpanel project token, for sites whose init lives in a bundle."
            ),
            click.option(
                "--fragment",
                is_flag=True,
                help="Carry the id in the #fragment instead of the query.",
            ),
        ],
    )


def site_options(function: F) -> F:
    """Options of the commands that walk a site: build and remove."""
    return _apply(
        function,
        [
            click.argument(
                "site",
                type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
                required=True,
            ),
            CONFIG_OPTION,
            click.option(
                "--include", multiple=True, metavar="GLOB", help="Only pages matching (repeatable)."
            ),
            click.option(
                "--exclude",
                multiple=True,
                metavar="GLOB",
                help="Leave pages matching (repeatable).",
            ),
            click.option(
                "--check", is_flag=True, help="Write nothing; exit 1 if any page would change."
            ),
            click.option(
                "--dry-run", is_flag=True, help="Write nothing; report what would change."
            ),
            click.option("--diff", is_flag=True, help="Write nothing; print a unified diff."),
            FORMAT_OPTION,
            click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
            click.option("-v", "--verbose", is_flag=True, help="Print every page and its action."),
            click.option(
                "-j",
                "--jobs",
                type=click.IntRange(min=0),
                default=0,
                help="Worker processes (default: one per CPU).",
            ),
        ],
    )


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format on stdout.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xdlink")
def main() -> None:
    """Keep one Mixpanel visitor one user across the domains of a static site.

    Run after the site generator and before deploy:

        hugo && xdlink build ./public --domains shop.example,docs.example.org
    """


@main.command()
@script_options
@click.option(
    "--external",
    metavar="FILE",
    help="Write the script to this file in SITE (named with its hash, e.g. "
    "assets/xdlink.3f2a9c1b7d4e.js) and reference it with <script src>, for a CSP that "
    "forbids inline scripts.",
)
@site_options
def build(site: Path, domains: tuple[str, ...], **options: Any) -> None:
    """Insert or update the xdlink script in every page of SITE.

    \b
    Example:
        xdlink build ./public --domains shop.example,docs.example.org
        xdlink build ./public --check    # in CI: exit 1 if a page lacks the script
    """
    settings = _script_settings(
        domains,
        options,
        include=options["include"],
        exclude=options["exclude"],
        jobs=options["jobs"],
        external=options["external"],
    )
    _execute("build", site, settings, options)


@main.command()
@site_options
def remove(site: Path, **options: Any) -> None:
    """Take the xdlink script out of every page of SITE, restoring each byte.

    \b
    Example:
        xdlink remove ./public
    """
    settings = Settings(
        include=options["include"], exclude=options["exclude"], jobs=options["jobs"]
    )
    _execute("remove", site, settings, options)


@main.command()
@CONFIG_OPTION
@script_options
@click.option(
    "--persistence",
    type=click.Choice(["cookie", "localStorage"]),
    help="The persistence your mixpanel.init uses (default cookie).",
)
@click.option("--cookie-domain", help="The cookie_domain your mixpanel.init uses, if any.")
@click.option(
    "--cross-subdomain-cookie/--no-cross-subdomain-cookie",
    default=None,
    help="The cross_subdomain_cookie your mixpanel.init uses (default on).",
)
@click.option("--js", "bare", is_flag=True, help="Print the JavaScript alone, no <script> tag.")
@FORMAT_OPTION
def snippet(domains: tuple[str, ...], **options: Any) -> None:
    """Print the script for pages xdlink does not build: an app, a server template.

    Put it in <head> before the Mixpanel snippet. Its CSP hash goes to stderr (and
    into --format json).

    \b
    Example:
        xdlink snippet --domains shop.example,docs.example.org --token 0123...cdef
    """
    settings = _script_settings(domains, options)
    storage = MixpanelConfig(
        token=settings.token or "",
        persistence=options["persistence"],
        cookie_domain=options["cookie_domain"],
        cross_subdomain_cookie=options["cross_subdomain_cookie"],
    )
    script = render(script_config(settings, storage if settings.token else None))
    element = script.code if options["bare"] else block_markup(script, xml=False)
    if options["output_format"] == "json":
        click.echo(json.dumps({"script": element, "csp_hash": script.sha256}, indent=2))
        return
    click.echo(element)
    click.echo(f"script CSP hash: {script.sha256}", err=True)


def _script_settings(domains: tuple[str, ...], options: dict[str, Any], **more: Any) -> Settings:
    """Settings from the script options, which build and snippet share, and ``more``."""
    return make_settings(
        domains,
        param=options["param"],
        ttl=options["ttl"],
        token=options["token"],
        in_fragment=options["fragment"],
        **more,
    )


def _execute(command: str, site: Path, settings: Settings, options: dict[str, Any]) -> None:
    if options["output_format"] == "text" and not options["quiet"]:
        for notice in settings.notices:
            click.echo(f"notice: {notice}", err=True)
    runner = api.build if command == "build" else api.remove
    flags = {"write": not options["dry_run"], "check": options["check"], "diff": options["diff"]}
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with _progress(options) as progress:
            report = runner(site, settings, progress=progress, **flags)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print(report, options)
    sys.exit(int(report.return_code))


def _interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM (a CI job cancelled) stops the run like Ctrl-C: cleanly, with a report."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def _progress(options: dict[str, Any]) -> Iterator[_Bar | None]:
    """A progress bar on stderr when it is a terminal, never under CI or --quiet."""
    if not sys.stderr.isatty() or os.environ.get("CI") or options["quiet"]:
        yield None
        return
    with click.progressbar(length=0, label="xdlink", file=sys.stderr, show_pos=True) as bar:
        yield _Bar(bar)


class _Bar:
    """The site runner's progress, drawn by click on stderr."""

    def __init__(self, bar: ProgressBar[int]) -> None:
        self.bar = bar

    def start(self, total: int) -> None:
        self.bar.length = total

    def advance(self) -> None:
        self.bar.update(1)


def _print(report: Report, options: dict[str, Any]) -> None:
    if options["output_format"] == "json":
        click.echo(report.render_json())
        return
    for diff in report.diffs:
        click.echo(diff, nl=False)
    for error in report.errors:
        click.echo(error, err=True)
    if options["quiet"]:
        return
    if options["verbose"]:
        for path in report.changed:
            click.echo(f"{'changed' if report.write else 'would change'}: {report.display(path)}")
    for warning in report.warnings():
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())
    for path, status in sorted(report.script_files.items()):
        click.echo(f"script file {report.display(path)}: {status}")
    if report.command == "build" and not report.script_files:
        for digest in report.csp_hashes():
            click.echo(f"script CSP hash: {digest}")
    if report.check and report.would_change:
        click.echo(f"{report.would_change} pages would change; run without --check", err=True)


__all__ = ["main"]
