"""The command line: flags become settings, one API call runs, the report sets the exit code."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from xdlink import __version__, api
from xdlink.cli_options import click_options
from xdlink.errors import XdlinkError
from xdlink.report import ExitCode, Level, Report, exit_code, render
from xdlink.settings import Command, Settings

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

F = TypeVar("F", bound=Callable[..., Any])
Runner = Callable[..., Report]


@contextlib.contextmanager
def _usage_errors() -> Iterator[None]:
    """Misuse found by the library is a usage error: its message, exit code 2."""
    try:
        yield
    except XdlinkError as exc:
        raise click.UsageError(str(exc)) from None


def _apply(function: F, decorators: list[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format on stdout.",
)


@dataclass(frozen=True)
class RunOptions:
    """How a command that walks a site runs and reports."""

    check: bool
    dry_run: bool
    diff: bool
    output_format: str
    quiet: bool
    verbose: bool


def run_options(function: F) -> F:
    """SITE and the run options of build and remove; the function receives the options as
    one ``run: RunOptions`` argument."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        run = RunOptions(**{name: kwargs.pop(name) for name in RunOptions.__dataclass_fields__})
        return function(*args, run=run, **kwargs)

    return _apply(
        cast(F, wrapper),
        [
            click.argument(
                "site",
                type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
                required=True,
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
        ],
    )


class _Group(click.Group):
    """Under --format json a usage error is one JSON object on stdout too, for scripts
    that parse the output whatever happens."""

    def main(self, args: Any = None, *more: Any, **extra: Any) -> Any:
        arguments = sys.argv[1:] if args is None else list(args)
        if not _wants_json(arguments):
            return super().main(arguments, *more, **extra)
        try:
            return super().main(arguments, *more, **{**extra, "standalone_mode": False})
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            error = {"error": exc.format_message(), "exit_code": exc.exit_code}
            click.echo(json.dumps(error, indent=2))
            sys.exit(exc.exit_code)
        except click.Abort:
            sys.exit(int(ExitCode.INTERRUPTED))


def _wants_json(arguments: list[str]) -> bool:
    pairs = zip(arguments, [*arguments[1:], ""], strict=True)
    return "--format=json" in arguments or ("--format", "json") in pairs


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="xdlink")
def main() -> None:
    """Keep one Mixpanel or PostHog visitor one user across the domains of a static site.

    Run after the site generator and before deploy:

        hugo && xdlink build ./public --domains shop.example,docs.example.org
    """


@main.command()
@click_options(Command.BUILD)
@run_options
def build(site: Path, settings: Settings, run: RunOptions) -> None:
    """Insert or update the xdlink script in every page of SITE.

    \b
    Example:
        xdlink build ./public --domains shop.example,docs.example.org
        xdlink build ./public --domains shop.example,docs.example.org --check
        (in CI, --check writes nothing and exits 1 if a page lacks the script)
    """
    _execute(api.build, site, settings, run)


@main.command()
@click_options(Command.REMOVE)
@run_options
def remove(site: Path, settings: Settings, run: RunOptions) -> None:
    """Take the xdlink script out of every page of SITE, restoring each byte.

    \b
    Example:
        xdlink remove ./public
    """
    _execute(api.remove, site, settings, run)


@main.command()
@click_options(Command.SNIPPET)
@click.option("--js", "bare", is_flag=True, help="Print the JavaScript alone, no <script> tag.")
@FORMAT_OPTION
def snippet(settings: Settings, bare: bool, output_format: str) -> None:
    """Print the script for pages xdlink does not build: an app, a server template.

    Put it in <head> before the SDK's snippet; an app that bundles mixpanel-browser or
    posthog-js calls window.xdlink.join(mixpanel) (or join(posthog)) before its init.
    --sdk leaves out the code of an SDK the app does not start. Its CSP hash goes to
    stderr (and into --format json).

    \b
    Example:
        xdlink snippet --domains shop.example,docs.example.org --sdk posthog
    """
    result = api.snippet(settings)
    element = result.code if bare else result.element
    if output_format == "json":
        warnings = [{"kind": w.kind.value, "message": w.message} for w in result.warnings]
        data = {"script": element, "csp_hash": result.csp_hash, "warnings": warnings}
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(element)
    click.echo(f"script CSP hash: {result.csp_hash}", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning.message} [{warning.kind}]", err=True)


def _print(report: Report, run: RunOptions) -> None:
    """Print the report as JSON, or as text lines by level: stdout for what was done, stderr
    for what needs a look."""
    if run.output_format == "json":
        click.echo(render.render_json(report))
        return
    for diff in report.diffs:
        click.echo(diff, nl=False)
    # With --diff, stdout is the patch alone, for `git apply`; the report goes to stderr.
    report_stream_is_stderr = run.diff
    for line in render.lines(report, details=run.verbose):
        if line.level is Level.ERROR:
            click.echo(line.text, err=True)
        elif run.quiet:
            continue
        elif line.level is Level.WARNING:
            click.echo(f"warning: {line.text} [{line.kind}]", err=True)
        elif line.level is Level.NOTICE:
            click.echo(f"notice: {line.text}", err=True)
        elif line.level is Level.ADVICE:
            click.echo(line.text, err=True)
        elif line.level is Level.SUMMARY or run.verbose:
            click.echo(line.text, err=report_stream_is_stderr)


def _execute(runner: Runner, site: Path, settings: Settings, run: RunOptions) -> None:
    flags = {"write": not run.dry_run, "check": run.check, "diff": run.diff}
    # SIGTERM (a CI job cancelled) stops the run like Ctrl-C: cleanly, with a report.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with _usage_errors(), _progress(run.quiet) as progress:
            report = runner(site, settings, progress=progress, **flags)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print(report, run)
    raise _ReportPrinted(int(exit_code(report)))


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[_Bar | None]:
    """Yield a progress bar on stderr when it is a terminal; None under CI or --quiet."""
    if not sys.stderr.isatty() or os.environ.get("CI") or quiet:
        yield None
        return
    with click.progressbar(length=0, label="xdlink", file=sys.stderr, show_pos=True) as bar:
        yield _Bar(bar)


@main.command()
@click_options(Command.VERIFY)
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="HOST=DIR[:/PATH]",
    help="A built site: its host name, its folder and optionally its start page "
    "(repeatable). Served to the browser under https://HOST/.",
)
@FORMAT_OPTION
def verify(
    settings: Settings, urls: tuple[str, ...], sites: tuple[str, ...], output_format: str
) -> None:
    """Prove the join in headless Chromium: click from every site to every other one.

    Checks, for each ordered pair of sites with a link between them, that the link is
    decorated at the click, that the parameter leaves the address bar on landing, and, for
    each SDK both pages start, that the first event there carries the first site's ids:
    Mixpanel's first event its $device_id and distinct_id, PostHog's first $pageview its
    $device_id (as distinct_id) and $session_id. Mixpanel's and PostHog's requests are
    answered inside the browser: nothing is sent to either.

    \b
    Example:
        xdlink verify --site shop.example=public --site docs.example.org=docs-site
        xdlink verify https://shop.example/ https://docs.example.org/
    """
    from xdlink.verify import Options, Target
    from xdlink.verify import verify as run_verify

    with _usage_errors():
        targets = [Target.from_folder(spec) for spec in sites]
        targets += [Target.from_url(url) for url in urls]
        if not settings.domains:
            settings = dataclasses.replace(settings, domains=tuple(t.host for t in targets))
        report = run_verify(targets, settings, Options.of(settings))
    if output_format == "json":
        click.echo(report.render_json())
    else:
        for line in report.lines():
            click.echo(line)
    sys.exit(int(report.return_code))


class _Bar:
    """The site runner's progress, drawn by click on stderr."""

    def __init__(self, bar: ProgressBar[int]) -> None:
        self.bar = bar

    def start(self, total: int) -> None:
        self.bar.length = total

    def advance(self, pages: int) -> None:
        self.bar.update(pages)


class _ReportPrinted(SystemExit):
    """The exit of a page command (build, remove) whose report is printed."""


def run() -> None:
    """The ``xdlink`` command: ``main``, and once a page command has printed its report,
    the end of the process at once, its output flushed.

    Its workers are joined and its files closed by then; what the interpreter's teardown
    would do after it, freeing each module and object one by one (about 30 ms after a
    3-page site, 60 after the Javadoc's 10,140 pages, a tenth of a small site's run), no
    one needs. Any other command, or output that cannot be flushed (a closed pipe), ends
    the usual way."""
    try:
        main()
    except _ReportPrinted as exc:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:
            raise SystemExit(exc.code) from None
        os._exit(int(exc.code or 0))


__all__ = ["main", "run"]
