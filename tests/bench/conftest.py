"""Nothing here is a test: keep pytest from collecting the benchmark."""

collect_ignore_glob = ["*"]
