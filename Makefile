# Two commands on a fresh machine with Python 3.11 and make:
#   make run    install into .venv, migrate the SQLite database, serve with auto-reload
#   make test   install the dev tools, lint, type-check, run the suite on SQLite and PostgreSQL
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test system-packages bench-packages lint typecheck tests coverage bench soak lock clean \
	venv-runtime venv-dev

# The venv is installed from the locks and remembers, by their hashes, what it holds:
# a second `make` with unchanged locks installs nothing. uv, itself pinned in the dev
# lock, does the installing (seconds where pip took a minute); pip only bootstraps it.
# Installed modules are compiled to bytecode once, at install: every Python process
# (the suite starts hundreds) would otherwise compile each module it imports, and with
# PYTHONDONTWRITEBYTECODE set it would do so every time.
# $(call locked-venv,NAME,LOCK,INSTALL-COMMAND)
define locked-venv
@stamp="$(VENV)/.$(1)-$$(sha256sum $(2) | cut -c1-16)"; \
if [ ! -f "$$stamp" ]; then \
  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); \
  [ -x $(UV) ] || $(BIN)/python -m pip install -q "$$(grep -m1 '^uv==' requirements-dev.lock)"; \
  echo "installing $(2) into $(VENV)"; \
  $(UV) pip $(3) --quiet --compile-bytecode --python $(BIN)/python $(2) \
    && rm -f $(VENV)/.$(1)-* && touch "$$stamp"; \
fi
endef

# `make run` needs only the deploy pins (added to what is there); `make test` makes the
# venv exactly the dev lock, which holds those same pins (tests/test_requirements.py).
venv-runtime:
	$(call locked-venv,runtime,requirements_production.txt,install -r)

venv-dev:
	$(call locked-venv,dev,requirements-dev.lock,sync)

# Re-resolve the locks after editing requirements*.txt (existing pins are kept unless
# UPGRADE=1): the deploy pins from requirements.txt, then the dev lock from
# requirements-dev.txt with the deploy pins as constraints, both for Python 3.11.
lock: venv-dev
	$(UV) pip compile --quiet --python-version 3.11 --custom-compile-command "make lock" \
	  $(if $(UPGRADE),--upgrade) requirements.txt -o requirements_production.txt
	$(UV) pip compile --quiet --python-version 3.11 --custom-compile-command "make lock" \
	  $(if $(UPGRADE),--upgrade) requirements-dev.txt -c requirements_production.txt \
	  -o requirements-dev.lock

# With HOST= or PORT= given, the links in development emails follow them (unless
# PUBLIC_BASE_URL is set in the environment), so the link to /invite opens this server.
ifneq ($(origin HOST)$(origin PORT),filefile)
RUN_ENV := PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}"
endif

run: venv-runtime
	$(BIN)/python -m app migrate
	$(RUN_ENV) $(BIN)/sanic server:app --dev --host $(HOST) --port $(PORT)

test: system-packages lint typecheck tests coverage

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

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv-dev
	$(BIN)/mypy

# The whole suite, once, on SQLite and PostgreSQL together (tests/conftest.py says which
# test runs on which): first everything that may share the machine, TEST_WORKERS at a
# time, then the `serial` tests alone. Both add to one branch-coverage record, the
# servers the end-to-end tests start included; `coverage` enforces the floor on it.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest --cov --cov-append --cov-report=
# Our own modules' bytecode is cached too (in __pycache__, ignored by git), whatever
# the shell says: each server the suite starts would compile all of them again.
tests: export PYTHONDONTWRITEBYTECODE :=
# A phase that PYTEST_ARGS leaves without tests (pytest's exit status 5) is no failure.
tests: venv-dev
	rm -f .coverage .coverage.*
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup -m "not serial" $(PYTEST_ARGS) || [ $$? = 5 ]
	$(PYTEST) -n 0 -m serial $(PYTEST_ARGS) || [ $$? = 5 ]

COVERAGE_FLOOR ?= 92
coverage: venv-dev
	@if ls .coverage.* >/dev/null 2>&1; then $(BIN)/coverage combine --quiet --append; fi
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR)

# Benchmarks (wrk, installed above, and PostgreSQL); results in bench/results/.
bench: bench-packages venv-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

soak: bench-packages venv-dev
	$(BIN)/python -m bench --soak $(or $(MINUTES),10) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.*
