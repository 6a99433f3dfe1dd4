# Two commands: `make run` serves the app, `make test` runs the whole suite.
# Both work on a fresh Debian machine with Python 3.11: they create .venv and install
# what is missing (Python packages from PyPI, chromium and a CJK font from Debian).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_URL := postgres://postgres@127.0.0.1:5432/plantracker

.PHONY: run demo test test-postgres setup install system-packages postgres lint messages

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Browser tests drive Debian's chromium (never a browser download); screenshots need a CJK
# font; the catalog test runs gettext's xgettext.
system-packages:
	@if ! command -v chromium >/dev/null || ! command -v xgettext >/dev/null \
		|| ! fc-list :lang=zh | grep -q .; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-wqy-microhei gettext >/dev/null; \
	fi

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_plan
	$(PY) manage.py create_demo_users

# `make run` shows the app at work: a year of SAMPLE progress (load_demo, every text marked
# 【示例数据】, written through the services) seen on DEMO_DATE, a day in the 2014 plan's third
# quarter, so the dashboard has green, yellow and red. `make test` never loads it.
DEMO_DATE ?= 2014-09-20
demo: setup
	$(PY) manage.py load_demo --date $(DEMO_DATE)

run: demo
	PLANTRACKER_DEMO_DATE=$(DEMO_DATE) $(PY) manage.py runserver 127.0.0.1:8000

test: setup system-packages
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest

postgres:
	@pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start 2>/dev/null || true
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='plantracker'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres plantracker

test-postgres: export DATABASE_URL := $(PG_URL)
test-postgres: install system-packages postgres
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=staticfiles \
		--ignore=scripts --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

# --- Hardening: backup and restore, load test (docs/deploy.md) ---------------------------
.PHONY: backup restore loadtest
BACKUP_DIR ?= backups
BACKUP_KEEP ?= 0
LOAD_CLIENTS ?= 24
LOAD_SECONDS ?= 60
LOAD_ATTEMPTS ?= 1000
LOAD_WORKERS ?= 3
LOAD_JSON ?=

# The database of DATABASE_URL (pg_dump -Fc, or SQLite's online backup) and MEDIA_ROOT, in one
# file backups/plantracker-<UTC time>.tar.gz; BACKUP_KEEP=N keeps only the newest N.
# Installs only when there is no .venv yet: on a server (docs/deploy.md) cron never runs pip.
BACKUP_DEPS := $(if $(wildcard $(PY)),,install)
backup: $(BACKUP_DEPS)
	$(PY) scripts/backup.py backup --dir $(BACKUP_DIR) --keep $(BACKUP_KEEP)

# make restore FILE=backups/plantracker-….tar.gz [YES=1]: replaces the database and MEDIA_ROOT
# (after a …-pre-restore backup of the current state).
restore: $(BACKUP_DEPS)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/plantracker-….tar.gz [YES=1]"; exit 2; }
	$(PY) scripts/backup.py restore "$(FILE)" $(if $(YES),--yes)

# gunicorn on 127.0.0.1 against a throw-away PostgreSQL database, LOAD_CLIENTS clients editing
# the same report for at most LOAD_SECONDS; checks that every save is accounted for.
loadtest: install postgres
	$(PY) scripts/loadserver.py --clients $(LOAD_CLIENTS) --duration $(LOAD_SECONDS) \
		--attempts $(LOAD_ATTEMPTS) --workers $(LOAD_WORKERS) $(if $(LOAD_JSON),--json $(LOAD_JSON))

# --- Benchmarks (README, Performance) ----------------------------------------------------
# make bench [SIZE=province|national] [BENCH_ARGS=…]: generates the data in its own PostgreSQL
# databases (plantracker_bench, plantracker_bench_scale; dropped afterwards), measures, prints a
# table and writes bench/results.json. Options: .venv/bin/python bench/run.py --help
.PHONY: bench
SIZE ?= province
BENCH_ARGS ?=
bench: install postgres
	$(PY) bench/run.py --size $(SIZE) $(BENCH_ARGS)
