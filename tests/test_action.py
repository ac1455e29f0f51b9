"""The GitHub Action and the pre-commit hook run the commands they say, as written."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.browser.harness import CHROMIUM, NODE_MODULES, SDK, require
from tests.helpers import FIXTURES, ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
DOMAINS = "shop.example,docs.example.org"
BIN = Path(sys.executable).parent


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    return found


def run_step(name: str, inputs: dict[str, str], **env: str) -> subprocess.CompletedProcess[str]:
    """A step's script under bash, as the runner gives it: its env with the inputs filled in
    (every other input at its default), xdlink on PATH."""
    defaults = {key: spec.get("default", "") for key, spec in ACTION["inputs"].items()}
    values = {**defaults, **inputs}
    variables = {}
    for key, expression in step(name).get("env", {}).items():
        input_name = expression.removeprefix("${{ inputs.").removesuffix(" }}")
        variables[key] = values[input_name]
    environment = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **variables, **env}
    return subprocess.run(
        ["bash", "-e", "-c", step(name)["run"]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_action_is_composite_and_passes_inputs_through_the_environment() -> None:
    assert ACTION["runs"]["using"] == "composite"
    for entry in ACTION["runs"]["steps"]:
        # An input pasted into a script is a shell injection; the steps read env only.
        assert "${{ inputs." not in entry.get("run", ""), entry.get("name")
    assert step("xdlink verify")["if"] == "inputs.verify != ''"


def test_action_build_step(tmp_path: Path) -> None:
    site = tmp_path / "public"
    shutil.copytree(FIXTURES / "example", site)
    checked = run_step("xdlink build", {"site": str(site), "domains": DOMAINS, "check": "true"})
    assert checked.returncode == 1, checked.stdout + checked.stderr
    built = run_step(
        "xdlink build", {"site": str(site), "domains": DOMAINS, "args": "--ttl 300 --quiet"}
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert '"t":300' in (site / "index.html").read_text()
    again = run_step(
        "xdlink build",
        {"site": str(site), "domains": DOMAINS, "args": "--ttl 300", "check": "true"},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    # strict: a warning (a listed domain no link leads to, a typo) fails the step with 4.
    typo = {"site": str(site), "domains": DOMAINS + ",docs.exmaple.org", "strict": "true"}
    strict = run_step("xdlink build", {**typo, "args": "--ttl 300"})
    assert strict.returncode == 4, strict.stdout + strict.stderr
    assert "[xdlink.unlinked-domain]" in strict.stderr


def test_action_verify_step(tmp_path: Path) -> None:
    require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    sdk = NODE_MODULES / SDK / "dist" / "mixpanel.min.js"
    require(sdk.exists(), "js/node_modules is missing: run `npm ci` in js/")
    pytest.importorskip("playwright")
    sites = tmp_path / "sites"
    shutil.copytree(FIXTURES / "verify", sites)
    for name in ("shop", "docs"):
        built = run_step("xdlink build", {"site": str(sites / name), "domains": DOMAINS})
        assert built.returncode == 0, built.stderr
    listing = f"shop.example={sites / 'shop'}\n\ndocs.example.org={sites / 'docs'}\n"
    verified = run_step(
        "xdlink verify",
        {"verify": listing, "domains": DOMAINS, "verify-args": f"--mixpanel-sdk {sdk}"},
        XDLINK_BROWSER=str(CHROMIUM),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "shop.example -> docs.example.org: joined" in verified.stdout


def test_pre_commit_hook_checks_the_built_site(tmp_path: Path) -> None:
    (hook,) = HOOKS
    assert hook["id"] == "xdlink-check"
    assert hook["pass_filenames"] is False
    site = tmp_path / "docs"
    shutil.copytree(FIXTURES / "example", site)
    command = [*shlex.split(hook["entry"]), str(site), "--domains", DOMAINS]
    environment = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, env=environment, capture_output=True, text=True, check=False)

    failed = run()
    assert failed.returncode == 1
    # A failed commit says why, in one line, under the hook's --quiet.
    assert failed.stdout == ""
    (line,) = failed.stderr.splitlines()
    assert line.startswith("--check failed: ")
    assert "page changed: it has no xdlink script" in line
    subprocess.run([BIN / "xdlink", "build", site, "-d", DOMAINS, "-q"], check=True)
    assert run().returncode == 0


def test_action_passes_accept_and_strict_to_verify(tmp_path: Path) -> None:
    stub = tmp_path / "bin" / "xdlink"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nfor arg in "$@"; do echo "[$arg]"; done\n')
    stub.chmod(0o755)
    inputs = {
        "verify": "shop.example=public\ndocs.example.org=docs",
        "accept": "#accept-all\n\nbutton[data-consent='yes']\n",
        "strict": "true",
    }
    ran = run_step("xdlink verify", inputs, PATH=f"{stub.parent}:{os.environ['PATH']}")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [
        "[verify]",
        "[--site]",
        "[shop.example=public]",
        "[--site]",
        "[docs.example.org=docs]",
        "[--accept]",
        "[#accept-all]",
        "[--accept]",
        "[button[data-consent='yes']]",
        "[--strict]",
    ]
