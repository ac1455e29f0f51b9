"""Entry point for ``python -m xdlink``."""

from xdlink.cli import main

main()
