"""Entry point for ``python -m xdlink``."""

from xdlink.cli import run

run()
