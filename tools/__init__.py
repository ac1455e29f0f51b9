"""Tools that are not tests: the benchmark, the demo and the tree verifier."""
