"""One frozen set of options, the validation of its values, and configuration files."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import idna

from xdlink.errors import XdlinkError

DEFAULT_PARAM = "_xdl"
DEFAULT_TTL = 120
MAX_TTL = 3600

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
# Mixpanel project tokens are 32 hex characters; accept any short token-shaped value so
# that self-hosted proxies with other token formats still work.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Settings:
    """Everything one run needs to know; built once by the CLI or the Python API."""

    domains: tuple[str, ...] = ()
    param: str = DEFAULT_PARAM
    ttl: int = DEFAULT_TTL
    token: str | None = None
    in_fragment: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    jobs: int = 0
    external: str | None = None
    notices: tuple[str, ...] = field(default=(), compare=False)


def make_settings(
    domains: Iterable[str],
    *,
    param: str = DEFAULT_PARAM,
    ttl: int = DEFAULT_TTL,
    token: str | None = None,
    in_fragment: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    jobs: int = 0,
    external: str | None = None,
) -> Settings:
    """Validate raw option values; raise XdlinkError naming the first bad one."""
    names, notices = parse_domains(domains)
    return Settings(
        domains=names,
        param=check_param(param),
        ttl=check_ttl(ttl),
        token=check_token(token),
        in_fragment=in_fragment,
        include=tuple(include),
        exclude=tuple(exclude),
        jobs=jobs,
        external=check_external(external),
        notices=notices,
    )


def parse_domains(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split comma lists, normalise each name; return (domains, notices)."""
    domains: list[str] = []
    notices: list[str] = []
    for value in values:
        for raw in value.split(","):
            if not raw.strip():
                continue
            name, notice = normalize_domain(raw)
            if notice:
                notices.append(notice)
            if name not in domains:
                domains.append(name)
    if not domains:
        raise XdlinkError("no domains given: pass --domains a.example,b.example")
    return tuple(domains), tuple(notices)


def normalize_domain(raw: str) -> tuple[str, str | None]:
    """Return the ASCII, lower-case form of one domain, and a notice if it was a URL."""
    text = raw.strip()
    notice = None
    if "://" in text:
        text = _host_of_url(raw)
        notice = f"domain {raw.strip()!r} is a URL; using its host {text!r}"
    wildcard = text.startswith("*.")
    host = text[2:] if wildcard else text
    ascii_host = _ascii_host(raw, host.rstrip("."))
    return ("*." if wildcard else "") + ascii_host, notice


def _host_of_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise XdlinkError(f"invalid domain {raw.strip()!r}: not a host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise XdlinkError(
            f"invalid domain {raw.strip()!r}: give a host name such as "
            f"{parts.hostname!r}, not a page address"
        )
    return parts.hostname


def _ascii_host(raw: str, host: str) -> str:
    bad = f"invalid domain {raw.strip()!r}"
    if not host or host.isspace():
        raise XdlinkError(f"{bad}: empty host name")
    if _is_ip(host):
        raise XdlinkError(f"{bad}: an IP address, not a domain name")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise XdlinkError(f"{bad}: not a host name ({exc})") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise XdlinkError(f"{bad}: not a host name")
    return ascii_host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_param(param: str) -> str:
    if not _PARAM.match(param):
        raise XdlinkError(
            f"invalid --param {param!r}: use 1-32 letters, digits, '_', '-' or '.', "
            "starting with a letter or '_'"
        )
    return param


def check_external(path: str | None) -> str | None:
    """A path inside the site, written with '/', for the script file of ``--external``."""
    if path is None:
        return None
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or not parts[-1].endswith(".js"):
        raise XdlinkError(
            f"invalid --external {path!r}: give a .js path inside the site, such as "
            "'assets/xdlink.js'"
        )
    return "/".join(part for part in parts if part != ".")


def check_ttl(ttl: int) -> int:
    if not 1 <= ttl <= MAX_TTL:
        raise XdlinkError(f"invalid --ttl {ttl}: give seconds from 1 to {MAX_TTL}")
    return ttl


def check_token(token: str | None) -> str | None:
    if token is not None and not _TOKEN.match(token):
        raise XdlinkError(f"invalid --token {token!r}: not a Mixpanel project token")
    return token


# --- configuration files -------------------------------------------------------------

CONFIG_KEYS = frozenset(
    {"domains", "param", "ttl", "token", "fragment", "include", "exclude", "jobs", "external"}
)


def find_config(start: Path) -> Path | None:
    """The nearest xdlink.toml, or pyproject.toml with [tool.xdlink], from start upwards."""
    for folder in (start, *start.parents):
        candidate = folder / "xdlink.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "xdlink" in _load_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def read_config(path: Path) -> dict[str, Any]:
    """Option defaults from one config file, keyed like the command-line options."""
    data = _load_toml(path)
    table = data.get("tool", {}).get("xdlink", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise XdlinkError(f"{path}: [tool.xdlink] must be a table")
    options: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in CONFIG_KEYS:
            known = ", ".join(sorted(CONFIG_KEYS))
            raise XdlinkError(f"{path}: unknown setting {key!r} (known: {known})")
        options[name] = _config_value(path, key, value)
    return options


def _config_value(path: Path, key: str, value: Any) -> Any:
    if key in ("domains", "include", "exclude"):
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise XdlinkError(f"{path}: {key} must be a string or a list of strings")
    expected: type = {"ttl": int, "jobs": int, "fragment": bool}.get(key, str)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise XdlinkError(f"{path}: {key} must be of type {expected.__name__}")
    return value


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise XdlinkError(f"cannot read configuration {path}: {exc}") from None
