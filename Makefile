# Two commands on a fresh machine with Python 3.11 and make:
#   make run    install into .venv, migrate the SQLite database, serve with auto-reload
#   make test   install the dev tools, lint, type-check, run the suite on SQLite and PostgreSQL
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test system-packages bench-packages lint typecheck test-sqlite test-postgres coverage bench soak pin clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# With HOST= or PORT= given, the links in development emails follow them (unless
# PUBLIC_BASE_URL is set in the environment), so the link to /invite opens this server.
ifneq ($(origin HOST)$(origin PORT),filefile)
RUN_ENV := PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}"
endif

run: $(VENV)/.runtime
	$(BIN)/python -m app migrate
	$(RUN_ENV) $(BIN)/sanic server:app --dev --host $(HOST) --port $(PORT)

test: system-packages lint typecheck test-sqlite test-postgres coverage

# Debian packages installed when missing if we are root (CI is); otherwise a line says
# which to install and what happens without them.
# $(call debian-packages,PACKAGES,WITHOUT-THEM)
define debian-packages
@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "installing Debian packages:$$missing"; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null \
    || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null); \
  else \
    echo "missing Debian packages:$$missing (sudo apt-get install$$missing); $(2)"; \
  fi; \
fi
endef

# The tests use a real browser and a real PgBouncer; without them (not root) those tests
# say so and skip, and under CI=true they fail.
DEBIAN_PACKAGES := chromium pgbouncer
system-packages:
	$(call debian-packages,$(DEBIAN_PACKAGES),tests that need them skip)

# The benchmarks drive the servers with wrk.
bench-packages:
	$(call debian-packages,wrk,the benchmarks need it)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# Both passes add to one branch-coverage record; `coverage` enforces the floor on it.
test-sqlite: $(VENV)/.dev
	rm -f .coverage
	ONRAMP_TEST_DB=sqlite $(BIN)/python -m pytest --cov --cov-append --cov-report= $(PYTEST_ARGS)

# Skips with a message when PostgreSQL is unreachable; fails instead under CI=true.
test-postgres: $(VENV)/.dev
	ONRAMP_TEST_DB=postgres $(BIN)/python -m pytest --cov --cov-append --cov-report= $(PYTEST_ARGS)

COVERAGE_FLOOR ?= 92
coverage: $(VENV)/.dev
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR)

# Benchmarks (wrk, installed above, and PostgreSQL); results in bench/results/.
bench: bench-packages $(VENV)/.dev
	$(BIN)/python -m bench $(BENCH_ARGS)

soak: bench-packages $(VENV)/.dev
	$(BIN)/python -m bench --soak $(or $(MINUTES),10) $(BENCH_ARGS)

# Regenerate the exact deploy pins from requirements.txt in a throwaway venv.
pin:
	rm -rf .pin-venv && $(PYTHON) -m venv .pin-venv
	.pin-venv/bin/pip install -q -r requirements.txt
	{ echo "# Exact pins for deploys: pip install -r requirements_production.txt"; \
	  echo "# Regenerate with: make pin (fresh venv, requirements.txt, pip freeze)."; \
	  .pin-venv/bin/pip freeze | grep -viE '^(pip|setuptools|wheel)=='; } > requirements_production.txt
	rm -rf .pin-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage
