"""Benchmark of xdlink against its peers: run with ``python -m tests.bench.run``."""
