# Hotline. The two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extra pytest arguments: make test ARGS="-k api -x"
ARGS ?=

.PHONY: help run test test-fast lint format venv venv-prod lock translations migrate worker bench bench-reports bench-intake bench-soak bench-pages bench-nearby

help:
	@echo "make run        migrate, load the demo city if empty, run web + worker (+ embedded Redis)"
	@echo "make test       install services (apt), lint, run all tests on SQLite and PostgreSQL"
	@echo "make test-fast  SQLite only, no browser, embedded Redis; no apt (ARGS=... for pytest)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make format     ruff check --fix + ruff format"
	@echo "make venv       create .venv and install requirements-dev.lock (runtime + tools) when it changed"
	@echo "make venv-prod  create .venv and install requirements.lock (runtime only): production"
	@echo "make lock       refresh requirements.lock and requirements-dev.lock (hashes) from requirements*.txt"
	@echo "make translations  compile translations/ catalogs"
	@echo "make migrate    flask db upgrade on DATABASE_URL"
	@echo "make worker     one RQ worker with the scheduler, on both queues or QUEUE=urgent|bulk (needs REDIS_URL)"
	@echo "make bench      run benchmarks/*.py"
	@echo "make bench-intake  ticket intake under gunicorn vs a trivial endpoint, SQLite and PostgreSQL (ARGS=...)"
	@echo "make bench-nearby  tickets near a point beside SELECT 1, SQLite and PostgreSQL (ARGS=--tickets N)"
	@echo "make bench-soak    minutes of steady intake while a worker is killed and Redis restarted (ARGS=...)"
	@echo "make bench-reports  reports at 1,000,000 tickets on SQLite and PostgreSQL (TICKETS=...)"
	@echo "make bench-pages    every role's pages under gunicorn, SQLite and PostgreSQL (ARGS=\"--tickets 10000000\")"

run: venv translations
	$(BIN)/python scripts/run.py

test:
	bash scripts/test.sh $(ARGS)

test-fast: venv translations
	$(BIN)/python scripts/with_valkey.py $(BIN)/pytest -m "not browser and not postgres" $(ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

venv: $(VENV)/.installed

# Installed from the lock files only (every package pinned, its hash checked): what CI tests is
# what runs. The stamp is newer than the lock once it is installed; `make lock` and this reruns.
$(VENV)/.installed: requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@

# Production: the runtime packages only, no test or development tools (docs/production.md).
venv-prod: $(VENV)/.installed-prod

$(VENV)/.installed-prod: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

# The lock files, from requirements*.txt: the versions already locked are kept unless a
# requirement asks for another (UPGRADE=1: the newest that fit). Python 3.11.0 and later:
# Debian 12's 3.11.2 needs packages (async-timeout) that a newer 3.11 does not. The dev lock
# is constrained by the runtime lock, so both name the same versions.
UPGRADE ?=
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: | $(BIN)/uv
	$(LOCK) --output-file requirements.lock requirements.txt
	$(LOCK) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

$(BIN)/uv:
	$(MAKE) --no-print-directory venv

# No catalog yet is fine: pybabel fails on an empty directory, so look first. Any venv will do
# (pybabel is a runtime package): production compiles them after `make venv-prod`.
translations: | $(BIN)/pybabel
	@if compgen -G "translations/*/LC_MESSAGES/*.po" > /dev/null; then \
		$(BIN)/pybabel compile -d translations; \
	else \
		echo "no translation catalogs to compile"; \
	fi

$(BIN)/pybabel:
	$(MAKE) --no-print-directory venv

migrate: venv
	$(BIN)/flask --app hotline db upgrade

worker: venv
	$(BIN)/python -m workers.worker $(if $(QUEUE),--queue $(QUEUE))

bench: venv
	@shopt -s nullglob; files=(benchmarks/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks yet"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f" || exit 1; done

# The reports benchmark at scale (a few minutes per database): make bench-reports TICKETS=10000000
TICKETS ?= 1000000
bench-reports: venv
	$(BIN)/python benchmarks/reports.py --tickets $(TICKETS) --db both

bench-intake: venv
	$(BIN)/python benchmarks/intake.py $(ARGS)

bench-soak: venv
	$(BIN)/python benchmarks/soak.py $(ARGS)

# Every page each role opens, at 100,000 tickets by default: make bench-pages ARGS="--tickets 10000000"
bench-pages: venv
	$(BIN)/python benchmarks/pages.py $(ARGS)

# geo (issue 18): tickets near a point beside SELECT 1, SQLite then PostgreSQL (ARGS="--tickets 10000000")
bench-nearby: venv
	$(BIN)/python benchmarks/nearby.py --db sqlite $(ARGS)
	$(BIN)/python benchmarks/nearby.py --db postgresql $(ARGS)
