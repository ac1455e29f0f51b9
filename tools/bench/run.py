"""xdlink benchmark: ``python -m tools.bench.run [--pages N] [--rounds R] [--quick] [--seed S]``.

Generates a seeded site in a temporary folder, then runs every contender once per round,
interleaved (the order rotates each round), each on a fresh ``cp -a`` copy of the site
whose copy time is not counted: xdlink build (first run), xdlink build again (nothing to
change), xdlink remove, the ``sed -i`` one-liner, a naive lxml script (one and two
processes), the lxml parse floor and the I/O floor. xdlink is run through its command
line with its default number of jobs, its bytecode written first, as an install writes
it. The page cache is warm for every contender alike; nothing is dropped from it, and
each run starts with nothing left to write back (``sync``, untimed). Prints medians,
ranges, ratios, memory, scaling and the targets, and writes everything as JSON. Exits 0
whatever the numbers say; 1 only when a contender fails to run or does something other
than what it should.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from tools.bench import measure, peers, realsite, report, sitegen
from tools.bench.measure import Sample

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "bench-cache"
# A listed domain of the generated site's own that none of its pages links to.
OWN_DOMAINS = (sitegen.DOMAINS[0], "handbook.example.net")
# The site a command of a few dozen pages runs on: its time is start-up, not pages.
SMALL_SITE = 50
MARKER = re.compile(rb'<script data-xdlink="[^"]*">.*?</script>', re.DOTALL)


class BenchError(Exception):
    """A contender failed to run or did not do what it should."""


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    pages: int
    rounds: int
    seed: int
    json_path: Path
    workdir: Path
    big: int = 0  # pages of the big scaling point, 0 for none
    real: tuple[str, ...] = ()  # names of the real sites measured after the generated one
    real_rounds: int = 3


@dataclass
class Workspace:
    """The generated sites and the files the contenders share."""

    folder: Path
    pristine: Path
    built: Path
    built_own: Path
    scale_sites: dict[int, Path]
    pages: list[str]
    domains: tuple[str, ...] = sitegen.DOMAINS
    own_domains: tuple[str, ...] = OWN_DOMAINS
    element: bytes = b""
    code_file: Path = Path()
    sed_file: Path = Path()
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Contender:
    """One thing to time: the site it starts from, its command and what it must have done.

    ``start`` names the site copied fresh before each run, or is None for a reader that
    works on the generated site in place.
    """

    key: str
    label: str
    start: str | None
    command: Callable[[Workspace, Path], list[str]]
    check: Callable[[Workspace, Path, Sample, int], dict[str, object]]


# --- options -------------------------------------------------------------------------


def parse_options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.run", description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000, help="pages in the site")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--quick", action="store_true", help="1,000 pages, 2 rounds, no big site")
    parser.add_argument(
        "--big",
        type=int,
        default=100_000,
        help="pages of the big point of the scaling line, built once after the rounds (0: none)",
    )
    parser.add_argument(
        "--real",
        default=",".join(realsite.REAL_SITES),
        help="real generator output measured after the generated site, comma-separated "
        f"({', '.join(realsite.REAL_SITES)}; 'none' for none; --quick takes sphinx only)",
    )
    parser.add_argument("--real-rounds", type=int, default=3, help="rounds on the real sites")
    parser.add_argument("--seed", type=int, default=20240401, help="site generator seed")
    parser.add_argument("--json", type=Path, default=Path("build/bench.json"), help="output")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the temporary folder goes (default: the system's temporary folder)",
    )
    args = parser.parse_args(argv)
    pages, rounds = (1_000, 2) if args.quick else (args.pages, args.rounds)
    big = 0 if args.quick or args.big <= pages else args.big
    if pages < 100 or rounds < 1 or args.real_rounds < 1:
        parser.error("--pages must be at least 100 and --rounds and --real-rounds at least 1")
    real = _real_names(parser, "sphinx" if args.quick and "--real" not in argv else args.real)
    return Options(
        pages,
        rounds,
        args.seed,
        args.json.resolve(),
        args.workdir.resolve(),
        big,
        real,
        1 if args.quick else args.real_rounds,
    )


def _real_names(parser: argparse.ArgumentParser, value: str) -> tuple[str, ...]:
    names = tuple(name for name in value.split(",") if name and name != "none")
    unknown = [name for name in names if name not in realsite.REAL_SITES]
    if unknown:
        parser.error(f"--real: unknown site {', '.join(unknown)}")
    return names


# --- commands ------------------------------------------------------------------------


def xdlink_command() -> list[str]:
    script = Path(sys.executable).parent / "xdlink"
    return [str(script)] if script.exists() else [sys.executable, "-m", "xdlink"]


def build_command(space: Workspace, site: Path) -> list[str]:
    return _build(site, space.domains)


def build_own_command(space: Workspace, site: Path) -> list[str]:
    """The configuration most sites run: their own domain listed beside the other one, and
    no page that links to it by absolute URL (relative links, no canonical)."""
    return _build(site, space.own_domains)


def build_own_silenced_command(space: Workspace, site: Path) -> list[str]:
    """The same with the warning about a domain without links silenced: the difference
    is what that warning costs."""
    return [*_build(site, space.own_domains), "--silence", "xdlink.unlinked-domain"]


def startup_command(_: Workspace, __: Path) -> list[str]:
    """The interpreter and the command line's imports, and nothing else."""
    return [*xdlink_command(), "--version"]


def interpreter_command(_: Workspace, __: Path) -> list[str]:
    """The interpreter alone: what any Python command pays."""
    return [sys.executable, "-c", "pass"]


def pool_command(_: Workspace, __: Path) -> list[str]:
    """A build's imports and the start of its worker processes, with no page to read."""
    return [sys.executable, "-m", "tools.bench.poolstart"]


def _build(site: Path, domains: tuple[str, ...]) -> list[str]:
    listed = ",".join(domains)
    return [*xdlink_command(), "build", str(site), "--domains", listed, "--format", "json"]


def remove_command(_: Workspace, site: Path) -> list[str]:
    return [*xdlink_command(), "remove", str(site), "--format", "json"]


def sed_command(space: Workspace, site: Path) -> list[str]:
    """find -exec sed -i; the expression is read from a file, as find allows only one {}."""
    sed = ["sed", "-i", "-f", str(space.sed_file)]
    return ["find", str(site), "-name", "*.html", "-exec", *sed, "{}", "+"]


def sed_expression(element: bytes) -> bytes:
    replacement = re.sub(rb"([\\&#])", rb"\\\1", element).replace(b"\n", b"\\n")
    return b"s#</head>#" + replacement + b"</head>#\n"


def peer_command(kind: str) -> Callable[[Workspace, Path], list[str]]:
    def command(space: Workspace, site: Path) -> list[str]:
        return [sys.executable, "-m", "tools.bench.peers", kind, str(site), str(space.code_file)]

    return command


# --- checks --------------------------------------------------------------------------


def _counts(sample: Sample) -> Counter[str]:
    try:
        return Counter(json.loads(sample.stdout)["counts"])
    except (ValueError, KeyError) as exc:
        raise BenchError(f"xdlink printed no JSON report: {sample.stdout[:200]!r}") from exc


def _expect(sample: Sample, action: str, pages: int) -> None:
    counts = _counts(sample)
    if counts[action] != pages or counts["errors"]:
        raise BenchError(f"expected {pages} {action}, got {dict(counts)}")


def check_build(space: Workspace, site: Path, sample: Sample, _: int) -> dict[str, object]:
    _expect(sample, "injected", len(_pages_under(site)))
    return {}


def check_rebuild(space: Workspace, site: Path, sample: Sample, _: int) -> dict[str, object]:
    counts = _counts(sample)
    if counts["injected"] or counts["updated"]:
        raise BenchError(f"a second build changed pages: {dict(counts)}")
    return {"unchanged": counts["unchanged"], "changed": len(space.pages) - counts["unchanged"]}


def check_remove(space: Workspace, site: Path, sample: Sample, round_: int) -> dict[str, object]:
    _expect(sample, "removed", len(space.pages))
    if round_ > 0:
        return {}
    _, mismatch, errors = filecmp.cmpfiles(space.pristine, site, space.pages, shallow=False)
    if mismatch or errors:
        raise BenchError(f"remove did not restore {len(mismatch) + len(errors)} pages")
    return {"byte_identical": True}


def check_peer(space: Workspace, site: Path, sample: Sample, _: int) -> dict[str, object]:
    probe = (site / space.pages[0]).read_bytes()
    code = space.code_file.read_bytes()[:40]
    if code not in probe:
        raise BenchError(f"the script is missing from {space.pages[0]}")
    return {}


def check_nothing(space: Workspace, site: Path, sample: Sample, _: int) -> dict[str, object]:
    return {}


CONTENDERS = (
    Contender("build", "xdlink build (first run)", "pristine", build_command, check_build),
    Contender("rebuild", "xdlink build (again)", "built", build_command, check_rebuild),
    Contender("remove", "xdlink remove", "built", remove_command, check_remove),
    Contender(
        "build_own", "build, own domain unlinked", "pristine", build_own_command, check_build
    ),
    Contender(
        "rebuild_own", "build again, own unlinked", "built_own", build_own_command, check_rebuild
    ),
    Contender(
        "build_own_silenced",
        "build, own, hint silenced",
        "pristine",
        build_own_silenced_command,
        check_build,
    ),
    Contender("sed", "sed -i one-liner", "pristine", sed_command, check_peer),
    Contender("lxml", "naive lxml, 1 process", "pristine", peer_command("lxml"), check_peer),
    Contender("lxml2", "naive lxml, 2 processes", "pristine", peer_command("lxml2"), check_peer),
    Contender("parse", "parse floor (lxml)", None, peer_command("parse"), check_nothing),
    Contender("read", "I/O floor (read)", None, peer_command("read"), check_nothing),
)


# Measured on the generated site only: what a command costs before its first page.
FIXED_COST = (
    Contender("interpreter", "python -c pass", None, interpreter_command, check_nothing),
    Contender("startup", "xdlink --version", None, startup_command, check_nothing),
    Contender("pool", "imports and pool start", None, pool_command, check_nothing),
    Contender(
        "small",
        f"xdlink build, {SMALL_SITE} pages",
        f"scale:{SMALL_SITE}",
        build_command,
        check_build,
    ),
)


def scale_contender(pages: int) -> Contender:
    return Contender(
        f"build@{pages}",
        f"xdlink build, {pages} pages",
        f"scale:{pages}",
        build_command,
        check_build,
    )


# --- sites ---------------------------------------------------------------------------


def _pages_under(site: Path) -> list[str]:
    return [os.path.relpath(path, site) for path in peers.pages(str(site))]


def copy_site(source: Path, target: Path) -> None:
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def delete_site(site: Path) -> None:
    subprocess.run(["rm", "-rf", str(site)], check=True)


def snapshot(site: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under site with its inode, size and mtime in nanoseconds."""
    found = {}
    for folder, _, files in os.walk(site):
        for name in files:
            info = os.lstat(os.path.join(folder, name))
            found[os.path.join(folder, name)] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return found


def scale_sizes(pages: int) -> list[int]:
    return [pages // 10, 3 * pages // 10, pages]


def prepare(options: Options, folder: Path) -> tuple[Workspace, dict[str, object]]:
    """Generate the sites, build one copy (untimed, it also warms up) and take the script."""
    folder.mkdir()
    started = time.perf_counter()
    stats = sitegen.generate(folder / "site", options.pages, options.seed)
    generated = time.perf_counter() - started
    sizes = [SMALL_SITE, *scale_sizes(options.pages)[:-1]]
    scale = {n: folder / f"site-{n}" for n in sizes}
    for pages, path in scale.items():
        sitegen.generate(path, pages, options.seed)
    space = Workspace(folder, folder / "site", folder / "built", folder / "built-own", scale, [])
    warm_up(space)
    return space, {**asdict(stats), "generate_seconds": round(generated, 2)}


def prepare_real(site: realsite.RealSite, folder: Path) -> tuple[Workspace, dict[str, object]]:
    """Unpack a real site and warm it up as the generated one; no scaling points."""
    folder.mkdir()
    started = time.perf_counter()
    pristine = realsite.lay(site, CACHE, folder)
    laid = time.perf_counter() - started
    space = Workspace(
        folder, pristine, folder / "built", folder / "built-own", {}, [], site.linked, site.unlinked
    )
    warm_up(space)
    size = sum(os.path.getsize(space.pristine / page) for page in space.pages)
    return space, {
        "name": site.label,
        "package": site.package,
        "pages": len(space.pages),
        "page_bytes": size,
        "linked": list(site.linked),
        "unlinked": list(site.unlinked),
        "lay_seconds": round(laid, 2),
    }


def warm_up(space: Workspace) -> None:
    """Build the two starting copies (untimed) and take the script the peers insert."""
    space.pages = _pages_under(space.pristine)
    space.env = {**os.environ, "PYTHONPATH": str(REPO)}
    copy_site(space.pristine, space.built)
    warm = measure.run(build_command(space, space.built), space.folder, space.env)
    if warm.returncode != 0:
        raise BenchError(f"xdlink build failed: {warm.stderr[-2000:]}")
    take_script(space)
    copy_site(space.pristine, space.built_own)
    own = measure.run(build_own_command(space, space.built_own), space.folder, space.env)
    if own.returncode != 0:
        raise BenchError(f"xdlink build failed: {own.stderr[-2000:]}")


def take_script(space: Workspace) -> None:
    """The element xdlink put in most pages, for the peers to insert."""
    found: Counter[bytes] = Counter()
    for relative in space.pages[:200]:
        match = MARKER.search((space.built / relative).read_bytes())
        if match is not None:
            found[match.group(0)] += 1
    if not found:
        raise BenchError("no xdlink element found in the built pages")
    space.element = found.most_common(1)[0][0]
    code = re.sub(rb"^<script[^>]*>|</script>$", b"", space.element)
    space.code_file = space.folder / "script.js"
    space.code_file.write_bytes(code)
    space.sed_file = space.folder / "script.sed"
    space.sed_file.write_bytes(sed_expression(space.element))


# --- rounds --------------------------------------------------------------------------


def start_site(space: Workspace, start: str | None) -> Path | None:
    if start is None:
        return None
    if start.startswith("scale:"):
        return space.scale_sites[int(start.split(":")[1])]
    return {"built": space.built, "built_own": space.built_own}.get(start, space.pristine)


def run_step(space: Workspace, contender: Contender, round_: int) -> dict[str, object]:
    source = start_site(space, contender.start)
    site = space.folder / "work" if source is not None else space.pristine
    if source is not None:
        copy_site(source, site)
    before = snapshot(site) if contender.key.startswith("rebuild") else None
    # On disk, the copy's pages are still being written back, and the last contender's
    # too: a run would share the disk and the CPU with that, by chance. Each starts with
    # nothing left to write; what it writes itself is its own cost.
    os.sync()
    sample = measure.run(contender.command(space, site), space.folder, space.env)
    if sample.returncode != 0:
        raise BenchError(f"{contender.label} exited {sample.returncode}: {sample.stderr[-2000:]}")
    extra = contender.check(space, site, sample, round_)
    if before is not None:
        extra["wrote_nothing"] = snapshot(site) == before
    if source is not None:
        delete_site(site)
    return {**asdict(sample), "stdout": None, "stderr": None, **extra}


def run_big(
    space: Workspace, options: Options, folder: Path, contender: Contender
) -> list[dict[str, object]]:
    """The big point: generated, built once (a site of this size takes minutes a round),
    then deleted, so that the disk holds one big site at a time."""
    print(f"generating and building {options.big} pages once ...", flush=True)
    space.scale_sites[options.big] = folder / f"site-{options.big}"
    sitegen.generate(space.scale_sites[options.big], options.big, options.seed)
    try:
        return [run_step(space, contender, 0)]
    finally:
        shutil.rmtree(space.scale_sites.pop(options.big), ignore_errors=True)


# Builds whose difference is a feature's cost run one right after the other, first one
# then the other as rounds alternate: two runs a minute apart differ by more than a few
# percent on a machine whose speed drifts.
PAIRS = (("build_own", "build_own_silenced"),)


def paired(order: list[Contender], round_: int) -> list[Contender]:
    """The round's order with each pair's second contender moved beside its first."""
    for first, second in PAIRS:
        keys = [contender.key for contender in order]
        if first in keys and second in keys:
            partner = order.pop(keys.index(second))
            at = [contender.key for contender in order].index(first)
            order.insert(at + 1 if round_ % 2 == 0 else at, partner)
    return order


def run_rounds(
    space: Workspace, contenders: list[Contender], rounds: int
) -> dict[str, list[dict[str, object]]]:
    results: dict[str, list[dict[str, object]]] = {c.key: [] for c in contenders}
    for round_ in range(rounds):
        shift = round_ % len(contenders)
        order = paired(contenders[shift:] + contenders[:shift], round_)
        print(f"round {round_ + 1}/{rounds}: ", end="", flush=True)
        for contender in order:
            results[contender.key].append(run_step(space, contender, round_))
            print(".", end="", flush=True)
        print(flush=True)
    return results


# --- main ----------------------------------------------------------------------------


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "python": sys.version.split()[0],
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "sed": _first_line(["sed", "--version"]),
        "xdlink": _first_line([*xdlink_command(), "--version"]),
        "xdlink_commit": _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "xdlink_dirty": bool(_first_line(["git", "-C", str(REPO), "status", "-s", "xdlink"])),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def filesystem(folder: Path) -> str:
    """The mount point and type of the filesystem that holds folder."""
    best = ("", "")
    with open("/proc/mounts") as mounts:
        for line in mounts:
            _, point, kind = line.split()[:3]
            if str(folder).startswith(point.rstrip("/") + "/") and len(point) > len(best[0]):
                best = (point, kind)
    return f"{best[1]} at {best[0]}"


def _first_line(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout.splitlines() or [""])[0].strip()


def compile_package() -> None:
    """Write xdlink's bytecode, as ``pip install`` does for a user. An editable install has
    none until its first import, and none at all where PYTHONDONTWRITEBYTECODE is set:
    every run would then compile the package again, a cost no installed copy pays."""
    package = REPO / "xdlink"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def bench(options: Options) -> dict[str, object]:
    compile_package()
    info = machine()
    folder = Path(tempfile.mkdtemp(prefix="xdlink-bench-", dir=options.workdir))
    info["filesystem"] = filesystem(folder)
    started = time.perf_counter()
    try:
        print(f"generating {options.pages} pages (seed {options.seed}) in {folder} ...")
        space, site = prepare(options, folder / "generated")
        sizes = scale_sizes(options.pages)[:-1]
        contenders = [*CONTENDERS, *FIXED_COST, *(scale_contender(n) for n in sizes)]
        results = run_rounds(space, contenders, options.rounds)
        if options.big:
            contenders.append(big := scale_contender(options.big))
            results[big.key] = run_big(space, options, folder, big)
        shutil.rmtree(folder / "generated", ignore_errors=True)
        real = {name: bench_real(name, options, folder) for name in options.real}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["total_seconds"] = round(time.perf_counter() - started, 1)
    return {
        "machine": info,
        "options": {
            "pages": options.pages,
            "rounds": options.rounds,
            "seed": options.seed,
            "small": SMALL_SITE,
        },
        "site": site,
        "labels": {c.key: c.label for c in contenders},
        "samples": results,
        "real": real,
    }


def bench_real(name: str, options: Options, folder: Path) -> dict[str, object]:
    """The same contenders on one real site, which is deleted afterwards."""
    site = realsite.REAL_SITES[name]
    print(f"laying {site.label} ...", flush=True)
    space, facts = prepare_real(site, folder / name)
    try:
        results = run_rounds(space, list(CONTENDERS), options.real_rounds)
    finally:
        shutil.rmtree(folder / name, ignore_errors=True)
    labels = {c.key: c.label for c in CONTENDERS}
    return {"site": facts, "rounds": options.real_rounds, "labels": labels, "samples": results}


def main(argv: list[str] | None = None) -> int:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    try:
        raw = bench(options)
    except (BenchError, realsite.LayError, subprocess.CalledProcessError, OSError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    sizes = scale_sizes(options.pages) + ([options.big] if options.big else [])
    result = report.summarise(raw, sizes)
    print(report.render(result))
    options.json_path.parent.mkdir(parents=True, exist_ok=True)
    options.json_path.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"results written to {options.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
