"""Check xdlink against a whole built site, through the real command line.

    python -m tools.verify_tree DIR [--domains a.example,b.example] [--jobs N] [--keep]
                                    [--links]

Copies DIR to a temporary folder and runs ``python -m xdlink build`` on the copy, then
checks every page: either it kept its bytes and the report did not list it as changed,
or exactly one contiguous span was inserted, one ``<script data-xdlink="...">...</script>``
with no whitespace of its own, which an HTML5 parser puts in <head> as the first script
there. A second build must leave every byte and mtime as it
was, and ``xdlink remove`` must give back the original tree byte for byte (non-page
files included). With ``--links``, every page xdlink read (changed, or found current) is
parsed whole by html5lib and its link tags to each listed domain are counted apart from
xdlink: the totals must be the report's (``links to DOMAIN: N on M pages``). Prints a
summary and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import html5lib

from tools.htmlcheck import PAGE_SUFFIXES, head_scripts, insertions, walk_outside

T = TypeVar("T")
DEFAULT_DOMAINS = "shop.example,docs.example.org"
PACKAGE = Path(__file__).resolve().parent.parent / "xdlink"
_SPAN = re.compile(r'<script data-xdlink="[^"\s]+ [^"\s]+">(?P<code>.*)</script>', re.DOTALL)
_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)
_DOCUMENT_HINT = re.compile(rb"<!doctype|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_EARLY_TAG = re.compile(rb"<base[\s/>]|<meta[^>]*charset", re.IGNORECASE)
_TEMPLATE = re.compile(rb"<template[\s>]", re.IGNORECASE)
# html5lib only needs the page up to the inserted element to place it; parsing the rest
# of a large page costs seconds and cannot move an element that is already in the tree.
_PARSE_MARGIN = 256

# path -> (sha256, size, mtime_ns); symbolic links are recorded by their target.
State = dict[str, tuple[str, int, int]]


@dataclass
class Result:
    """What the checker found, page by page and over the whole tree."""

    pages: int = 0
    injected: int = 0
    unchanged: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    odd: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # With --links: per listed domain, the link tags in html5lib's trees and their pages.
    links: dict[str, tuple[int, int]] = field(default_factory=dict)

    def fail(self, path: str, reason: str) -> None:
        self.failures.append((path, reason))


# --- the tree ---------------------------------------------------------------------------


def walk(root: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every non-folder entry under root (symbolic links included, never followed)."""
    with os.scandir(root / prefix if prefix else root) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            yield from walk(root, relative + "/")
        else:
            yield relative, entry


def snapshot(root: Path) -> State:
    state: State = {}
    for relative, entry in walk(root):
        info = entry.stat(follow_symlinks=False)
        if entry.is_symlink():
            digest = "link:" + os.readlink(entry.path)
        else:
            digest = _sha256(Path(entry.path))
        state[relative] = (digest, info.st_size, info.st_mtime_ns)
    return state


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def is_page(relative: str) -> bool:
    return relative.lower().endswith(PAGE_SUFFIXES)


_LINK_TO_FOLDER = "symbolic link to a folder"


def _links_to_folder(path: Path) -> bool:
    return path.is_symlink() and path.is_dir()


# --- the command line -------------------------------------------------------------------


def run_cli(command: str, site: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``python -m xdlink`` and return its JSON report, with its exit code."""
    argv = [sys.executable, "-m", "xdlink", command, str(site), "--format", "json"]
    argv += ["--jobs", str(args.jobs)]
    if command == "build":
        argv += ["--domains", args.domains]
    env = dict(os.environ, CI="1", PYTHONPATH=str(args.package))
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, env=env, cwd=args.package
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        message = f"xdlink {command} exited {done.returncode} without a JSON report"
        raise SystemExit(f"{message}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}") from None
    report["_returncode"] = done.returncode
    return report


def freeze_package(work: Path) -> Path:
    """A private copy of xdlink/ for the whole run, so that edits made to the package
    while the checker runs cannot mix two versions of it across the steps."""
    frozen = work / "package"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PACKAGE, frozen / "xdlink", ignore=ignore)
    sys.path.insert(0, str(frozen))
    for name in [name for name in sys.modules if name.split(".")[0] == "xdlink"]:
        del sys.modules[name]
    return frozen


def package_digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            hasher.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:12]


def error_paths(report: dict[str, Any], site: Path) -> dict[str, str]:
    """The pages named in the report's ``error: cannot process PATH: reason`` lines."""
    found: dict[str, str] = {}
    prefix = f"error: cannot process {site}{os.sep}"
    for line in report.get("errors", []):
        if line.startswith(prefix):
            relative, _, reason = line[len(prefix) :].partition(": ")
            found[relative] = reason
    return found


# --- one page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageCheck:
    """One changed page's verdict, computed in a worker process."""

    path: str
    problem: str | None = None
    template: bool = False


def check_changed(original: Path, built: Path, relative: str) -> PageCheck:
    before, after = original.read_bytes(), built.read_bytes()
    problem, end = check_splice(before, after)
    if problem is None:
        problem = check_parse(after[: end + _PARSE_MARGIN]) or check_order(after, end)
        if problem is not None and _TEMPLATE.search(after):
            return PageCheck(relative, problem, template=True)
    return PageCheck(relative, problem)


def check_splice(before: bytes, after: bytes) -> tuple[str | None, int]:
    """(None, where the span ends) when ``after`` is ``before`` plus one xdlink span."""
    candidates = insertions(before, after)
    if not candidates:
        return "not the original with one contiguous span inserted", 0
    problems = [span_problem(before, offset, span) for offset, span in candidates]
    if None in problems:
        offset, span = candidates[-1]
        return None, offset + len(span)
    shaped = [p for p in problems if p is not None and not p.startswith("inserted span is not")]
    return (shaped or problems)[0], 0


def span_problem(before: bytes, offset: int, span: bytes) -> str | None:
    codec = page_codec(before)
    try:
        text = span.decode(codec)
    except UnicodeDecodeError:
        return f"inserted span does not decode as {codec}"
    if _SPAN.fullmatch(text) is None:
        return f"inserted span is not one xdlink script, alone: {text[:120]!r}"
    if len(_SCRIPT_END.findall(text)) != 1:
        return "inserted span holds more than one </script"
    return None


def page_codec(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    return "latin-1"


def check_parse(head: bytes) -> str | None:
    """None when html5lib puts the xdlink script in <head>, first of the scripts there.

    ``head`` is the page up to a little past the inserted element: what follows cannot
    move an element the parser has already placed.
    """
    scripts = head_scripts(head[: len(head) - len(head) % 2])
    marked = [script for script in scripts if script.get("data-xdlink") is not None]
    if not marked:
        return "html5lib does not put the xdlink script in <head>"
    if len(marked) > 1:
        return f"html5lib finds {len(marked)} xdlink scripts in <head>"
    if scripts[0] is not marked[0]:
        first = scripts[0].get("src") or (scripts[0].text or "")[:60]
        return f"xdlink script is not the first script in <head> (first: {first!r})"
    return None


def check_order(after: bytes, end: int) -> str | None:
    """None unless a <meta charset> or <base> that comes before the page's first other
    script ends up after the xdlink script (checked only when one follows the span)."""
    match = _EARLY_TAG.search(after, end)
    if match is None:
        return None
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    head = parser.parse(after[: match.end() + _PARSE_MARGIN], scripting=True).find("head")
    if head is None:
        return None
    seen_xdlink = False
    for element in walk_outside(head, ("noscript", "template")):
        if element.tag == "script":
            if seen_xdlink:
                return None
            seen_xdlink = element.get("data-xdlink") is not None
        elif seen_xdlink and _is_early(element):
            return f"xdlink script comes before <{element.tag} {dict(element.attrib)}>"
    return None


def _is_early(element: Any) -> bool:
    if element.tag == "base":
        return True
    if element.tag != "meta":
        return False
    equiv = (element.get("http-equiv") or "").strip().lower()
    return element.get("charset") is not None or equiv == "content-type"


def check_pages(original: Path, site: Path, paths: list[str], jobs: int) -> Iterator[PageCheck]:
    args = ([original / p for p in paths], [site / p for p in paths], paths)
    return _map(check_changed, jobs, *args)


def _map(work: Callable[..., T], jobs: int, *args: list[Any]) -> Iterator[T]:
    """``map(work, *args)``, in ``jobs`` worker processes when there are two or more."""
    if jobs <= 1:
        yield from map(work, *args)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(work, *args, chunksize=16)


# --- links, as the HTML parser sees them ---------------------------------------------------

_HTML = "{http://www.w3.org/1999/xhtml}"
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# The tags that lead somewhere and the attribute that says where, by namespaced name.
_LINK_TAGS = {
    _HTML + "a": ("href",),
    _SVG + "a": ("href", _XLINK_HREF),
    _HTML + "area": ("href",),
    _HTML + "form": ("action",),
}


def page_links(path: Path, domains: tuple[str, ...]) -> Counter[str]:
    """The link tags of a page's html5lib tree that lead to each listed domain (the host
    as urllib reads it from the attribute's value, entities already decoded)."""
    tree = html5lib.parse(path.read_bytes())
    counts: Counter[str] = Counter()
    for element in tree.iter():
        attributes = _LINK_TAGS.get(element.tag, ())
        urls = [element.get(name) for name in attributes if element.get(name) is not None]
        hosts = {host for host in map(_url_host, urls) if host is not None}
        for domain in domains:
            if any(_covers(domain, host) for host in hosts):
                counts[domain] += 1
    return counts


def _url_host(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not host or parts.scheme.lower() not in ("http", "https", ""):
        return None
    try:
        return host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        return None


def _covers(domain: str, host: str) -> bool:
    if domain.startswith("*."):
        return host.endswith(domain[1:])
    return host == domain or host.endswith("." + domain)


def _compare_links(
    report: dict[str, Any],
    original: Path,
    pages: list[str],
    args: argparse.Namespace,
    result: Result,
) -> None:
    domains = tuple(domain.strip().lower() for domain in args.domains.split(","))
    links: Counter[str] = Counter()
    linking: Counter[str] = Counter()
    paths = [original / p for p in pages]
    for counts in _map(page_links, args.jobs, paths, [domains] * len(paths)):
        links.update(counts)
        linking.update(counts.keys())
    for domain in domains:
        tally = report.get("links", {}).get(domain, {})
        found = (tally.get("links", 0), tally.get("pages", 0))
        if found != (links[domain], linking[domain]):
            result.fail(
                "<report>",
                f"links to {domain}: the report counts {found[0]} on {found[1]} pages, "
                f"html5lib {links[domain]} on {linking[domain]} pages",
            )
        result.links[domain] = (links[domain], linking[domain])


# --- unchanged pages: why -------------------------------------------------------------------


def unchanged_reason(path: Path, domains: str) -> str:
    """Why xdlink left this page as it was, as the report would count it."""
    from xdlink.page import PageError, build_page

    if path.is_symlink():
        return _LINK_TO_FOLDER if path.is_dir() else "symbolic link"
    try:
        outcome = build_page(path.read_bytes(), _settings(domains), path.suffix == ".xhtml")
    except PageError as exc:
        return f"error: {exc}"
    return outcome.reason or outcome.action.value


_SETTINGS_CACHE: dict[str, Any] = {}


def _settings(domains: str) -> Any:
    from xdlink import make_settings

    if domains not in _SETTINGS_CACHE:
        _SETTINGS_CACHE[domains] = make_settings(domains)
    return _SETTINGS_CACHE[domains]


def odd_skip(path: Path, reason: str) -> str | None:
    """A skip reason that looks wrong for what the file holds."""
    if not reason.startswith("fragment") or path.is_symlink():
        return None
    hint = _DOCUMENT_HINT.search(path.read_bytes())
    return None if hint is None else f"reported as {reason} but has {hint.group()!r}"


# --- the steps -------------------------------------------------------------------------------


def check_build(
    original: Path,
    site: Path,
    before: State,
    report: dict[str, Any],
    result: Result,
    args: argparse.Namespace,
) -> State:
    after = snapshot(site)
    _same_files(before, after, "build", result)
    changed = set(report.get("changed", []))
    errors = error_paths(report, site)
    result.errors = [f"{path}: {reason}" for path, reason in sorted(errors.items())]
    pages = sorted(path for path in before if is_page(path))
    # xdlink names every symbolic link to a folder, whatever its name: it follows none.
    folders = [p for p in before if not is_page(p) and _links_to_folder(site / p)]
    if folders:
        result.unchanged[_LINK_TO_FOLDER] += len(folders)
    result.pages = len(pages) + len(folders)
    modified = [p for p in pages if p in after and after[p][0] != before[p][0]]
    for path in pages:
        _check_listing(path, path in modified, changed, errors, result)
    for page in check_pages(original, site, modified, args.jobs):
        _record(page, result)
    result.injected = len(modified)
    kept = _tally_unchanged(site, [p for p in pages if p not in modified], args.domains, result)
    _compare_counts(report, result)
    if args.links:
        _compare_links(report, original, sorted(modified + kept), args, result)
    return after


def _same_files(before: State, after: State, step: str, result: Result) -> None:
    for path in sorted(set(before) ^ set(after)):
        where = "appeared" if path in after else "disappeared"
        result.fail(path, f"file {where} after {step}")
    for path in sorted(set(before) & set(after)):
        if not is_page(path) and before[path][0] != after[path][0]:
            result.fail(path, f"non-page file changed by {step}")


def _check_listing(
    path: str, modified: bool, changed: set[str], errors: dict[str, str], result: Result
) -> None:
    if modified and path not in changed:
        result.fail(path, "bytes changed but the report does not list the page as changed")
    if not modified and path in changed:
        result.fail(path, "listed as changed in the report but its bytes are the same")
    if modified and path in errors:
        result.fail(path, f"bytes changed but reported as error: {errors[path]}")


def _record(page: PageCheck, result: Result) -> None:
    if page.problem is None:
        return
    if page.template:
        result.templates.append(f"{page.path}: {page.problem}")
    else:
        result.fail(page.path, page.problem)


def _tally_unchanged(site: Path, paths: list[str], domains: str, result: Result) -> list[str]:
    """Count why each page kept its bytes; return those xdlink read and found current."""
    kept = []
    for path in paths:
        reason = unchanged_reason(site / path, domains)
        result.unchanged[reason] += 1
        if reason == "unchanged":
            kept.append(path)
        odd = None if reason.startswith("error") else odd_skip(site / path, reason)
        if odd is not None:
            result.odd.append((path, odd))
        if reason in ("injected", "updated"):
            result.fail(path, f"left unchanged, but xdlink in-process says {reason}")
    return kept


def _compare_counts(report: dict[str, Any], result: Result) -> None:
    counts = report.get("counts", {})
    if counts.get("seen") != result.pages:
        result.fail(
            "<report>", f"report saw {counts.get('seen')} pages, the tree has {result.pages}"
        )
    if counts.get("injected", 0) + counts.get("updated", 0) != result.injected:
        result.fail("<report>", f"report counts {counts} but {result.injected} pages changed")
    skipped = Counter({k: v for k, v in result.unchanged.items() if not k.startswith("error")})
    del skipped["unchanged"]
    if Counter(report.get("skipped", {})) != skipped:
        result.fail(
            "<report>", f"skipped by reason {report.get('skipped')} != found {dict(skipped)}"
        )


def check_rebuild(
    site: Path, built: State, samples: dict[str, bytes], report: dict[str, Any], result: Result
) -> None:
    again = snapshot(site)
    for path in sorted(set(built) | set(again)):
        if built.get(path) == again.get(path):
            continue
        if path in samples and path in again:
            result.fail(
                path, "second build changed it: " + where_differs(samples[path], site / path)
            )
        else:
            result.fail(path, f"second build changed it: {built.get(path)} -> {again.get(path)}")
    counts = report.get("counts", {})
    if counts.get("injected") or counts.get("updated") or report.get("changed"):
        result.fail("<report>", f"second build reports changes: {counts}")


def where_differs(first: bytes, path: Path) -> str:
    second = path.read_bytes()
    start = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), 0)
    return f"at byte {start}: {first[start : start + 80]!r} -> {second[start : start + 80]!r}"


def check_remove(site: Path, before: State, result: Result) -> None:
    restored = snapshot(site)
    _same_files(before, restored, "remove", result)
    for path in sorted(set(before) & set(restored)):
        if is_page(path) and before[path][0] != restored[path][0]:
            result.fail(path, "remove did not restore the original bytes")


# --- reporting -------------------------------------------------------------------------------


def print_summary(result: Result, shown: int) -> None:
    skipped = {k: v for k, v in result.unchanged.items() if k != "unchanged"}
    unchanged = result.unchanged["unchanged"]
    print(f"pages: {result.pages}, injected: {result.injected}, unchanged: {unchanged}")
    print(f"skipped by reason: {json.dumps(skipped, sort_keys=True)}")
    print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    for domain, (links, pages) in result.links.items():
        print(f"links to {domain} in html5lib's trees: {links} on {pages} pages")
    _print_list("xdlink errors", result.errors, shown)
    _print_list("odd skips", [f"{p}: {r}" for p, r in result.odd], shown)
    _print_list("pages with <template> (html5lib 1.1 cannot judge)", result.templates, shown)
    _print_list("FAILURES", [f"{p}: {r}" for p, r in result.failures], shown)


def _print_list(title: str, lines: list[str], shown: int) -> None:
    print(f"{title}: {len(lines)}")
    for line in lines[:shown]:
        print(f"  {line}")
    if len(lines) > shown:
        print(f"  ... and {len(lines) - shown} more")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.verify_tree", description=__doc__)
    parser.add_argument("tree", type=Path, help="built site to check (left untouched)")
    parser.add_argument("--domains", default=DEFAULT_DOMAINS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--show", type=int, default=50, help="list at most this many per kind")
    parser.add_argument(
        "--links",
        action="store_true",
        help="count the link tags to each domain in html5lib's tree of every page xdlink "
        "read, against the report (slow: every page is parsed whole)",
    )
    return parser.parse_args(argv)


def verify(args: argparse.Namespace, work: Path) -> Result:
    result = Result()
    site = work / "site"
    steps = result.timings
    started = time.monotonic()
    shutil.copytree(args.tree, site, symlinks=True)
    original = snapshot(site)
    steps["copy"] = _lap(started)
    report = run_cli("build", site, args)
    steps["build"] = _lap(started, steps)
    built = check_build(args.tree, site, original, report, result, args)
    steps["check"] = _lap(started, steps)
    samples = {path: (site / path).read_bytes() for path in _changed_sample(original, built)}
    again = run_cli("build", site, args)
    check_rebuild(site, built, samples, again, result)
    steps["rebuild"] = _lap(started, steps)
    run_cli("remove", site, args)
    check_remove(site, original, result)
    steps["remove"] = _lap(started, steps)
    return result


def _changed_sample(before: State, after: State, size: int = 5) -> list[str]:
    """A few built pages whose bytes are kept, to show how a second build differs."""
    return [p for p in sorted(after) if is_page(p) and before.get(p) != after[p]][:size]


def _lap(started: float, steps: dict[str, float] | None = None) -> float:
    return time.monotonic() - started - sum((steps or {}).values())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.tree.is_dir():
        print(f"{args.tree} is not a folder", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="verify-tree-"))
    try:
        args.package = freeze_package(work)
        frozen = package_digest(args.package / "xdlink")
        result = verify(args, work)
    finally:
        if args.keep:
            print(f"kept the copy in {work / 'site'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"xdlink under test: {frozen} (a copy of {PACKAGE} taken at the start)")
    if package_digest(PACKAGE) != frozen:
        print("note: xdlink/ was edited during the run; results are for the copy")
    print_summary(result, args.show)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
