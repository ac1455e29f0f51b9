"""Summaries, targets and the printed table of a benchmark run."""

from __future__ import annotations

import statistics
from typing import Any

Result = dict[str, Any]

MEMORY_LIMIT_MB = 150.0
XDLINK_KEYS = ("build", "rebuild", "remove")
# What one report feature may cost, as a share of a build: the warning about a domain
# without links, against the same build with that warning silenced.
FEATURE_LIMIT = 0.03


def _summary(samples: list[Result], pages: int) -> Result:
    walls = [s["wall"] for s in samples]
    median = statistics.median(walls)
    return {
        "median_s": median,
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_median_s": statistics.median(s["cpu"] for s in samples),
        "pages_per_s": pages / median if median else 0.0,
        "tree_peak_mb": max(s["tree_mb"] for s in samples),
        "process_peak_mb": max(s["max_process_mb"] for s in samples),
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


def targets(raw: Result, summaries: dict[str, Result], scale: Result) -> list[Result]:
    rebuilds = raw["samples"]["rebuild"] + raw["samples"]["rebuild_own"]
    wrote_nothing = all(s.get("wrote_nothing") for s in rebuilds)
    unchanged = all(s.get("changed") == 0 for s in rebuilds)
    hint = feature_cost(summaries)
    memory = max(summaries[k]["tree_peak_mb"] for k in summaries if k.startswith(XDLINK_KEYS))
    kind = "tmpfs" if raw["machine"]["filesystem"].startswith("tmpfs") else "disk"
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
            f"peak memory < {MEMORY_LIMIT_MB:.0f} MB (all sizes)",
            memory < MEMORY_LIMIT_MB,
            f"{memory:.0f} MB (tree)",
        ),
        (
            "linear scaling (s/page within 1.5x)",
            scale["growth"] <= 1.5,
            f"{scale['growth']:.2f}x from {scale['points'][0]['pages']} "
            f"to {scale['points'][-1]['pages']} pages",
        ),
    ]
    return [{"target": name, "pass": ok, "value": value} for name, ok, value in rows]


def feature_cost(summaries: dict[str, Result]) -> float:
    """The share of a build's CPU time that the no-links hint costs: the build with the
    own domain unlinked against the same build with that warning silenced."""
    loud = summaries["build_own"]["cpu_median_s"]
    silenced = summaries["build_own_silenced"]["cpu_median_s"]
    return loud / silenced - 1 if silenced else 0.0


def summarise(raw: Result, sizes: list[int]) -> Result:
    pages = raw["options"]["pages"]
    summaries = {
        key: _summary(samples, int(key.split("@")[1]) if "@" in key else pages)
        for key, samples in raw["samples"].items()
    }
    _with_ratios(summaries)
    scale = scaling(raw, summaries, sizes)
    return {
        **raw,
        "summary": summaries,
        "scaling": scale,
        "targets": targets(raw, summaries, scale),
    }


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


def _table(result: Result) -> list[str]:
    lines = [
        f"{'contender':<28}{'median s':>9}{'min-max s':>14}{'cpu s':>8}{'pages/s':>9}"
        f"{'x sed':>7}{'x parse':>8}{'tree MB':>9}{'proc MB':>9}"
    ]
    for key, s in result["summary"].items():
        if "@" in key:
            continue
        lines.append(
            f"{result['labels'][key]:<28}{s['median_s']:>9.2f}"
            f"{s['min_s']:>7.2f}-{s['max_s']:<6.2f}{s['cpu_median_s']:>8.2f}"
            f"{s['pages_per_s']:>9.0f}{s['x_sed']:>7.2f}{s['x_parse']:>8.2f}"
            f"{s['tree_peak_mb']:>9.0f}{s['process_peak_mb']:>9.0f}"
        )
    lines.append(
        "tree MB: peak of the summed RSS of the process tree, sampled from /proc every 20 ms; "
        "proc MB: largest single process (wait4 ru_maxrss)"
    )
    return lines


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


def _targets(result: Result) -> list[str]:
    lines = ["", "targets:"]
    for t in result["targets"]:
        lines.append(f"  {'PASS' if t['pass'] else 'MISS'}  {t['target']:<38} {t['value']}")
    return lines


def render(result: Result) -> str:
    return "\n".join(_header(result) + _table(result) + _scaling(result) + _targets(result))
