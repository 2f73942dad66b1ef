# The README's commands. `make test` and `make run` install first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install system-deps test run lint docs bench bench-accept bench-short bench-load \
	bench-folder bench-waiting bench-scale interop

install: $(STAMP)

# Everything here: the web's extra, the workers' (model libraries) and the tests'. torch goes
# first and pinned: the CPU wheel is small, while an unpinned torch pulled in as a dependency
# would fetch gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[web,worker,dev]"
	touch $(STAMP)

# What some tests need from the system: Chromium for the browser tests, Debian's
# docker-compose to validate the compose file. Installed with apt-get when running as root;
# otherwise those tests are skipped with a message naming what is missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null \
	  || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null) \
	  || echo "Could not install$$missing; the tests that need it will be skipped"; \
	else \
	  echo "Not installed:$$missing (Debian: apt-get install$$missing); the tests that need it will be skipped"; \
	fi

test: install system-deps lint
	$(BIN)/python -m pytest

# The whole service on this machine: Redis (started if none answers), a worker, the web app.
run: install
	$(BIN)/vertaal up

# The generated parts of docs/ (settings, CLI and HTTP references) and .env.example's values,
# written from the code; tests/test_docs.py fails when they are out of date.
docs: install
	$(BIN)/python -m docs.generate

# Speed and memory of each engine against plain transformers; prints figures and ratios.
bench: install
	$(BIN)/python -m bench.run

# How long the web takes to accept a 1 KB and a 1 MB article (it must stay within 3x).
bench-accept: install
	$(BIN)/python -m bench.accept

# How long a LibreTranslate or DeepL text waits while long articles are translated.
bench-short: install
	$(BIN)/python -m bench.short

# 48 articles in a folder through `vertaal translate` in this process, then the same queued for
# a live worker: the folder's articles/min should be within 10% of the worker's sustained rate.
bench-folder: install
	$(BIN)/python -m bench.folder --sustained

# The web under 200 clients (locust, in a virtual environment of its own: it patches the
# standard library when imported, so it never shares one with Vertaal or its tests).
bench-load: install .venv-load/bin/locust
	$(BIN)/python -m bench.load

# 64 LibreTranslate clients waiting at once while health and job polling are timed.
bench-waiting: install
	$(BIN)/python -m bench.waiting

# DeepL's own test suite (a checkout of DeepLcom/deepl-python) against a live Vertaal on
# the tiny models, in a virtual environment of its own (.venv-interop, pydantic<2).
interop: install
	@test -n "$(DEEPL_TESTS)" || (echo "usage: make interop DEEPL_TESTS=<deepl-python checkout>"; exit 2)
	$(BIN)/python -m bench.interop "$(DEEPL_TESTS)"

.venv-load/bin/locust:
	$(PYTHON) -m venv .venv-load
	.venv-load/bin/pip install --quiet "locust>=2.40"

# What a second worker buys: the sustained bench with 1 worker process of 1 thread, then 2
# processes of 1 thread on simulated hosts of their own (names, model caches).
bench-scale: install
	$(BIN)/python -m bench.scale

lint: install
	$(BIN)/ruff check cli service workers tests bench docs
	$(BIN)/ruff format --check cli service workers tests bench docs
	$(BIN)/mypy
