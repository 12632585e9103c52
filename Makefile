# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench venv lint migrate seed clean-var

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

.env:
	cp .env.example .env

venv: $(STAMP) .env

## make run: the whole system on embedded defaults (SQLite, file broker): web + worker + beat
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_wilayah
	$(BIN)/python manage.py setup_periodic_tasks
	$(BIN)/python manage.py seed_demo
	@# Ctrl-C stops the three processes; honcho then exits 130, which is the normal way out
	$(BIN)/honcho start -f Procfile || [ $$? -eq 130 ]

## make test: the whole suite (SQLite by default; DATABASE_URL/CELERY_BROKER_URL select PostgreSQL/Redis),
## one pytest-xdist worker per core (TEST_WORKERS=0 runs it in one process)
TEST_WORKERS ?= auto
test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## make bench: scale tests and the province-scale benchmarks on PostgreSQL (README "Benchmarks");
## BENCH_SIZES=10k (default), 100k or 1M persons
bench: venv
	$(BIN)/python -m pytest -m bench $(PYTEST_ARGS)
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

clean-var:
	rm -rf var/db.sqlite3* var/broker
