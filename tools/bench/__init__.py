"""Benchmark of xdlink against its peers: run with ``python -m tools.bench.run``."""
