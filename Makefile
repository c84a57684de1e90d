# CoopCare: two commands do everything on a fresh machine.
#   make run    set up, migrate, load demo data, start web + worker + beat
#   make test   set up, then every check (lint, format, migrations, mypy, pytest)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK_HASH := $(shell sha1sum requirements.lock pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(LOCK_HASH)
DEBIAN_PACKAGES := libpq-dev gcc libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	chromium poppler-utils fonts-dejavu-core
DEVSERVICES := $(BIN)/python -m cooperative.devservices

.PHONY: run test setup system-packages checks lint typecheck pytest bench clean

run: setup
	@$(DEVSERVICES) run

test: setup
	@$(DEVSERVICES) exec -- $(MAKE) --no-print-directory checks

setup: system-packages $(STAMP)

# Debian packages: installed when running as root, only those missing (a second run is offline).
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c "import ensurepip" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages (install with: sudo apt-get install$$missing); continuing."; \
	  fi; \
	fi

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages from requirements.lock"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

# Every check; run inside `devservices exec` so PostgreSQL and Redis are there.
checks: lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

typecheck:
	$(BIN)/mypy .

# In parallel on the machine's cores (pytest-xdist): each worker has its own test database
# (pytest-django) and its own Redis database (cooperative/settings.py); a file's tests stay on
# one worker, so module fixtures (the seeded demo) are built once. PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= auto

pytest:
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# Benchmarks print figures and write JSON under tests/bench/results/ (never pass/fail by time).
bench: setup
	@$(DEVSERVICES) exec -- $(BIN)/python -m pytest tests/bench -q -s -m bench -p no:randomly

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache test-artifacts
