"""Summaries, targets and the printed table of a benchmark run."""

from __future__ import annotations

import statistics
from typing import Any

from xdlink.site import CHUNK

Result = dict[str, Any]

MEMORY_LIMIT_MB = 150.0
XDLINK_KEYS = ("build", "rebuild", "remove")
# What one report feature may cost, as a share of a build: the warning about a domain
# without links, against the same build with that warning silenced.
FEATURE_LIMIT = 0.03
# A build of a few dozen pages against the command line's start-up alone.
# What a 50-page build may add to start-up: its pages (about 25 ms) and the script's
# rendering (Jinja2's import and the template, about 25 ms); a pool would add 35 ms more.
SMALL_EXTRA_S = 0.1


def _summary(samples: list[Result], pages: int) -> Result:
    walls = [s["wall"] for s in samples]
    median = statistics.median(walls)
    cpu = statistics.median(s["cpu"] for s in samples)
    return {
        "median_s": median,
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_median_s": cpu,
        "pages_per_s": pages / median if median else 0.0,
        "cpu_ms_per_page": cpu * 1000 / pages if pages else 0.0,
        "tree_peak_mb": max(s["tree_mb"] for s in samples),
        "process_peak_mb": max(s["max_process_mb"] for s in samples),
    }


def _summaries(samples: dict[str, list[Result]], pages: dict[str, int]) -> dict[str, Result]:
    summaries = {key: _summary(runs, pages[key]) for key, runs in samples.items()}
    _with_ratios(summaries)
    return summaries


def _pages_of(raw: Result) -> dict[str, int]:
    """How many pages each contender of the generated site works on."""
    pages = raw["options"]["pages"]
    fixed = {"interpreter": 0, "startup": 0, "pool": 0, "small": raw["options"]["small"]}
    return {
        key: int(key.split("@")[1]) if "@" in key else fixed.get(key, pages)
        for key in raw["samples"]
    }


def _with_ratios(summaries: dict[str, Result]) -> None:
    sed, parse = summaries["sed"]["median_s"], summaries["parse"]["median_s"]
    for summary in summaries.values():
        summary["x_sed"] = summary["median_s"] / sed
        summary["x_parse"] = summary["median_s"] / parse


def scaling(raw: Result, summaries: dict[str, Result], sizes: list[int]) -> Result:
    """Seconds and seconds per page of the first build at each size, and a straight-line fit."""
    points = []
    for size in sizes:
        key = "build" if size == raw["options"]["pages"] else f"build@{size}"
        seconds = summaries[key]["median_s"]
        points.append({"pages": size, "median_s": seconds, "s_per_page": seconds / size})
    xs = [p["pages"] for p in points]
    ys = [p["median_s"] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    growth = points[-1]["s_per_page"] / points[0]["s_per_page"]
    return {"points": points, "fixed_s": intercept, "ms_per_page": slope * 1000, "growth": growth}


# The speed targets, as ratios to sed: where the disk is in the way (its writes cost
# everyone the same) and on tmpfs, where only the CPU counts.
SPEED_TARGETS = {
    "disk": {"build": 0.9, "rebuild": 0.25, "remove": 0.9},
    "tmpfs": {"build": 1.0, "rebuild": 0.5, "remove": 0.8},
}


def targets(
    samples: dict[str, list[Result]],
    summaries: dict[str, Result],
    kind: str,
    scale: Result | None = None,
) -> list[Result]:
    """The target rows of one site; ``kind`` is "disk" or "tmpfs"; the scaling row and the
    fixed cost only where the generated site measured them."""
    rebuilds = samples["rebuild"] + samples["rebuild_own"]
    wrote_nothing = all(s.get("wrote_nothing") for s in rebuilds)
    unchanged = all(s.get("changed") == 0 for s in rebuilds)
    hint = feature_cost(samples)
    memory = max(summaries[k]["tree_peak_mb"] for k in summaries if k.startswith(XDLINK_KEYS))
    limit = SPEED_TARGETS[kind]

    def against_sed(name: str, key: str, target: str) -> tuple[str, bool, str]:
        ratio = summaries[key]["x_sed"]
        return f"{name} <= {limit[target]}x sed ({kind})", ratio <= limit[target], f"{ratio:.2f}x"

    rows = [
        against_sed("first build", "build", "build"),
        against_sed("second build", "rebuild", "rebuild"),
        against_sed("first build, own domain unlinked", "build_own", "build"),
        against_sed("second build, own domain unlinked", "rebuild_own", "rebuild"),
        (
            f"the no-links hint costs <= {FEATURE_LIMIT:.0%} of a build (cpu)",
            hint <= FEATURE_LIMIT,
            f"{hint:+.1%}",
        ),
        (
            "second build writes nothing",
            wrote_nothing and unchanged,
            "no mtime, inode or size changed" if wrote_nothing else "files were rewritten",
        ),
        against_sed("remove", "remove", "remove"),
        (
            f"peak memory < {MEMORY_LIMIT_MB:.0f} MB",
            memory < MEMORY_LIMIT_MB,
            f"{memory:.0f} MB (tree)",
        ),
    ]
    if "small" in summaries:
        rows.append(_fixed_cost_row(summaries))
    if scale is not None:
        rows.append(
            (
                "linear scaling (s/page within 1.5x)",
                scale["growth"] <= 1.5,
                f"{scale['growth']:.2f}x from {scale['points'][0]['pages']} "
                f"to {scale['points'][-1]['pages']} pages",
            )
        )
    return [{"target": name, "pass": ok, "value": value} for name, ok, value in rows]


def _fixed_cost_row(summaries: dict[str, Result]) -> tuple[str, bool, str]:
    """A command on a few dozen pages waits on little more than the interpreter and the
    command line's imports: its pages and the script's rendering, no process pool, no
    module it does not use (tests/test_imports.py holds the modules themselves)."""
    startup, small = summaries["startup"]["median_s"], summaries["small"]["median_s"]
    extra = small - startup
    return (
        f"a small build <= xdlink --version + {SMALL_EXTRA_S} s",
        extra <= SMALL_EXTRA_S,
        f"+{extra:.3f} s ({small:.2f} s against {startup:.2f} s)",
    )


def _cpu(sample: Result) -> float:
    return float(sample["cpu"])


def feature_cost(samples: dict[str, list[Result]]) -> float:
    """The share of a build's CPU time that the no-links hint costs: the build with the
    own domain unlinked against the same build with that warning silenced, run one right
    after the other in each round (run.PAIRS); the median of the rounds' ratios."""
    pairs = zip(samples["build_own"], samples["build_own_silenced"], strict=True)
    ratios = [_cpu(loud) / _cpu(silenced) for loud, silenced in pairs if _cpu(silenced)]
    return statistics.median(ratios) - 1 if ratios else 0.0


def summarise(raw: Result, sizes: list[int]) -> Result:
    summaries = _summaries(raw["samples"], _pages_of(raw))
    scale = scaling(raw, summaries, sizes)
    kind = "tmpfs" if raw["machine"]["filesystem"].startswith("tmpfs") else "disk"
    real = {
        name: {
            **leg,
            "summary": (found := _summaries(leg["samples"], _real_pages(leg))),
            "targets": targets(leg["samples"], found, kind),
        }
        for name, leg in raw.get("real", {}).items()
    }
    return {
        **raw,
        "summary": summaries,
        "scaling": scale,
        "targets": targets(raw["samples"], summaries, kind, scale),
        "real": real,
    }


def _real_pages(leg: Result) -> dict[str, int]:
    return dict.fromkeys(leg["samples"], leg["site"]["pages"])


# --- text ----------------------------------------------------------------------------


def _header(result: Result) -> list[str]:
    m, site, opts = result["machine"], result["site"], result["options"]
    shapes = ", ".join(f"{k} {v}" for k, v in site["shapes"].items())
    return [
        "",
        f"machine: {m['cpu_count']} cores ({m['cpus_usable']} usable), Python {m['python']}, "
        f"lxml {m['lxml']} (libxml2 {m['libxml2']}), {m['sed']}",
        f"xdlink: {m['xdlink']} at {m['xdlink_commit']}"
        + (" with uncommitted changes" if m["xdlink_dirty"] else "")
        + ", default jobs",
        f"load average before {m['load_before']}, after {m['load_after']}",
        f"site: {site['pages']} pages + {site['assets']} assets, {site['bytes'] / 2**20:.0f} MB, "
        f"generated in {site['generate_seconds']:.1f} s (seed {opts['seed']})",
        f"  shapes: {shapes}; Mixpanel init in {site['with_mixpanel']}, "
        f"links to listed domains in {site['with_domain_links']}",
        f"rounds: {opts['rounds']}, interleaved, fresh copy each (copy time excluded), "
        f"page cache warm for all; work folder on {m['filesystem']}; "
        f"whole run {m['total_seconds']:.0f} s",
        "",
    ]


def _table(summary: dict[str, Result], labels: dict[str, str]) -> list[str]:
    lines = [
        f"{'contender':<28}{'median s':>9}{'min-max s':>14}{'cpu s':>8}{'cpu ms/pg':>10}"
        f"{'x sed':>7}{'x parse':>8}{'tree MB':>9}{'proc MB':>9}"
    ]
    for key, s in summary.items():
        if "@" in key:
            continue
        lines.append(
            f"{labels[key]:<28}{s['median_s']:>9.2f}"
            f"{s['min_s']:>7.2f}-{s['max_s']:<6.2f}{s['cpu_median_s']:>8.2f}"
            f"{s['cpu_ms_per_page']:>10.3f}{s['x_sed']:>7.2f}{s['x_parse']:>8.2f}"
            f"{s['tree_peak_mb']:>9.0f}{s['process_peak_mb']:>9.0f}"
        )
    return lines


_MEMORY_NOTE = (
    "tree MB: peak of the summed RSS of the process tree, sampled from /proc every 20 ms; "
    "proc MB: largest single process (wait4 ru_maxrss)"
)


def _scaling(result: Result) -> list[str]:
    scale = result["scaling"]
    lines = ["", "scaling of xdlink build (first run):"]
    for p in scale["points"]:
        lines.append(
            f"  {p['pages']:>7} pages {p['median_s']:>8.2f} s "
            f"{p['s_per_page'] * 1000:>8.3f} ms/page"
        )
    lines.append(
        f"  fit: {scale['fixed_s']:.2f} s fixed + {scale['ms_per_page']:.3f} ms/page; "
        f"s/page grows {scale['growth']:.2f}x"
    )
    return lines


def _targets(rows: list[Result]) -> list[str]:
    lines = ["", "targets:"]
    for t in rows:
        lines.append(f"  {'PASS' if t['pass'] else 'MISS'}  {t['target']:<52} {t['value']}")
    return lines


def _fixed_cost(result: Result) -> list[str]:
    summary = result["summary"]
    startup, small = summary["startup"], summary["small"]
    pages = result["options"]["small"]
    lines = [
        "",
        f"fixed cost: `xdlink --version` {startup['median_s']:.3f} s "
        f"({startup['cpu_median_s']:.3f} s cpu); a {pages}-page build {small['median_s']:.3f} s "
        f"({small['cpu_median_s']:.3f} s cpu)",
    ]
    if "interpreter" in summary and "pool" in summary:
        interpreter, pool = summary["interpreter"]["median_s"], summary["pool"]["median_s"]
        lines.append(
            f"  of which: interpreter start-up {interpreter:.3f} s, imports and command line "
            f"{startup['median_s'] - interpreter:.3f} s; a pool of workers, started and "
            f"shut down, {pool - startup['median_s']:+.3f} s more (runs of {2 * CHUNK} pages "
            "or more)"
        )
    return lines


def _real(name: str, leg: Result) -> list[str]:
    site = leg["site"]
    return [
        "",
        f"real site {name}: {site['name']}, {site['pages']} pages, "
        f"{site['page_bytes'] / 2**20:.0f} MB of pages, {leg['rounds']} rounds; "
        f"linked: {', '.join(site['linked'])}; unlinked: {', '.join(site['unlinked'])}",
        *_table(leg["summary"], leg["labels"]),
        *_targets(leg["targets"]),
    ]


def render(result: Result) -> str:
    lines = [
        *_header(result),
        *_table(result["summary"], result["labels"]),
        _MEMORY_NOTE,
        *_fixed_cost(result),
        *_scaling(result),
        *_targets(result["targets"]),
    ]
    for name, leg in result["real"].items():
        lines += _real(name, leg)
    return "\n".join(lines)
