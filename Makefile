# Two commands do everything on a fresh machine: `make serve` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: install lock serve worker test test-sqlite test-postgres lint format demo bench bench-forum clean

## install: the venv, with exactly the versions in requirements.lock, and the project itself.
$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

install: $(BIN)/.installed

## lock: pin again after changing pyproject.toml's dependencies (the newest versions they allow).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q pip-tools
	$(BIN)/pip-compile -q --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

## serve: migrate the database (SQLite in instance/ unless DATABASE_URL says otherwise) and
## serve HTTP and Socket.IO on PORT, with an in-process job worker.
serve: install
	$(BIN)/flask db upgrade
	$(BIN)/flask serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/flask worker

demo: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo

## test: lint, then the suite on SQLite and on PostgreSQL (when it answers; CI requires it) at
## the same time: each pass has its own database, Redis servers and ports, and its output is
## printed whole when it ends.
test: install lint
	$(MAKE) --no-print-directory --output-sync=target -j2 test-sqlite test-postgres

test-sqlite: install
	@echo "== tests on SQLite =="
	$(BIN)/pytest

test-postgres: install
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(TEST_PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== tests on PostgreSQL =="; \
		TEST_DATABASE_URL='$(TEST_PG_URL)' $(BIN)/pytest; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required but does not answer at $(TEST_PG_URL)"; exit 1; \
	else \
		echo "PostgreSQL does not answer at $(TEST_PG_URL): ran SQLite only"; \
	fi

lint: install
	$(BIN)/pip check --disable-pip-version-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@command -v wrk >/dev/null || { echo "make bench needs wrk (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"; exit 1; }
	$(BIN)/python bench/api_bench.py

## bench-forum: 100,000 threads and 1,000,000 posts; lists, reading and search, against the ceiling (~14 min)
bench-forum: install
	@command -v wrk >/dev/null || { echo "make bench-forum needs wrk (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"; exit 1; }
	$(BIN)/python bench/forum_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis
