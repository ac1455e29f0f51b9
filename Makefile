# One entry point for people and CI: `make example`, `make test`, `make lint`, `make bench`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE_OUT := build/example

JS_STAMP := js/node_modules/.installed-stamp

.PHONY: install js script example demo test pytest lint format bench clean

install: $(STAMP)

# The browser tests load the real Mixpanel SDK from npm (pinned in js/package-lock.json);
# without npm they skip with a loud message, except under CI=true, where they fail.
js: $(JS_STAMP)

$(JS_STAMP): js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed-stamp; \
	else \
		echo "npm not found: browser tests will be skipped (install Node.js and npm to run them)"; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Rebuilds xdlink/templates/xdlink*.js.j2 from js/src/ with terser (commit both; a test
# checks that they match).
script: js
	cd js && npm run build

# Speed and memory against sed, a naive lxml script and the parse and I/O floors, on this
# machine's disk and then on tmpfs (/dev/shm), where only the CPU counts; results also in
# build/bench-disk.json and build/bench-tmpfs.json. `make bench BENCH_ARGS=--quick` for a
# smoke run (1,000 pages, no 100,000-page point).
bench: install
	$(BIN)/python -m tools.bench.run --json build/bench-disk.json $(BENCH_ARGS)
	$(BIN)/python -m tools.bench.run --json build/bench-tmpfs.json --workdir /dev/shm $(BENCH_ARGS)

# Two sites, with and without xdlink, on *.localhost, plus a live page of the events they
# send. Ports: make demo DEMO_ARGS="--port 9000 --capture-port 9001". Stop with Ctrl-C.
demo: install js
	$(BIN)/python -m tools.demo.server $(DEMO_ARGS)

# Builds a copy of the shipped example site, so the fixture itself stays pristine.
example: install
	rm -rf $(EXAMPLE_OUT) && mkdir -p build && cp -r fixtures/example $(EXAMPLE_OUT)
	$(BIN)/xdlink build $(EXAMPLE_OUT) --domains shop.example,docs.example.org
	$(BIN)/xdlink build $(EXAMPLE_OUT) --domains shop.example,docs.example.org --check

test: lint pytest

pytest: install js
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check xdlink tests tools
	$(BIN)/ruff format --check xdlink tests tools
	$(BIN)/mypy

format: install
	$(BIN)/ruff format xdlink tests tools
	$(BIN)/ruff check --fix xdlink tests tools

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
