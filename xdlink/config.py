"""Configuration files: finding the xdlink.toml or pyproject.toml ``[tool.xdlink]`` a run
uses, and reading its option values, checked against the option table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdlink.errors import XdlinkError
from xdlink.options import OPTIONS, typed


@dataclass(frozen=True)
class Configuration:
    """The configuration file a run uses, its values, and what a user should hear of it."""

    path: Path | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def find_configuration(explicit: Path | None, site: Path | None, cwd: Path) -> Configuration:
    """Return the configuration a run uses: the file ``--config`` names, else the nearest
    file from SITE upwards, else the nearest from the working directory upwards. A second
    file that would have been found is named in a warning."""
    if explicit is not None:
        if not explicit.is_file():
            raise XdlinkError(f"configuration file {explicit} not found")
        return Configuration(explicit, read_config(explicit))
    near_site = _nearest(site) if site is not None else (None, ())
    near_cwd = _nearest(cwd)
    path = near_site[0] or near_cwd[0]
    if path is None:
        return Configuration()
    warnings = near_site[1] if near_site[0] else near_cwd[1]
    other = near_cwd[0]
    if near_site[0] and other and other.resolve() != near_site[0].resolve():
        warnings += (f"{other} (from the working directory) is not used: {path} is nearer SITE",)
    return Configuration(path, read_config(path), warnings)


def _nearest(start: Path) -> tuple[Path | None, tuple[str, ...]]:
    """Return the configuration file nearest ``start`` upwards, and a warning if its folder has
    two (xdlink.toml wins over [tool.xdlink])."""
    for folder in (start, *start.resolve().parents):
        found = [
            path
            for path in (folder / "xdlink.toml", folder / "pyproject.toml")
            if _configures(path)
        ]
        if len(found) == 2:
            return found[0], (
                f"both {found[0]} and {found[1]} [tool.xdlink] configure xdlink: using {found[0]}",
            )
        if found:
            return found[0], ()
    return None, ()


def _configures(path: Path) -> bool:
    if not path.is_file():
        return False
    return path.name == "xdlink.toml" or "xdlink" in _load_toml(path).get("tool", {})


def read_config(path: Path) -> dict[str, Any]:
    """Return option values from one configuration file, keyed by option name, type-checked."""
    data = _load_toml(path)
    table = data.get("tool", {}).get("xdlink", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise XdlinkError(f"{path}: [tool.xdlink] must be a table")
    by_name = {option.name: option for option in OPTIONS}
    values: dict[str, Any] = {}
    for key, value in table.items():
        option = by_name.get(key.replace("-", "_"))
        if option is None:
            known = ", ".join(sorted(by_name))
            raise XdlinkError(f"{path}: unknown setting {key!r} (known: {known})")
        values[option.name] = typed(option, value, f"{path}: {key}")
    return values


def _load_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here: most runs read no configuration file

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise XdlinkError(f"cannot read configuration {path}: {exc}") from None


__all__ = ["Configuration", "find_configuration", "read_config"]
