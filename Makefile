# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv first; `make test` also
# gets the browser the dashboard's tests drive (.ci/chromium: installed when possible, else those tests are
# skipped with a line saying how to get them; never skipped under CI).
# Django 6 needs Python >= 3.12 while jobq supports 3.11: `make test` also builds .venv-django with Python 3.12 or
# newer (PYTHON_DJANGO, else the first that runs of python3.12, 3.13, 3.14 and pyenv's versions) and runs tests/django there, after the main
# suite. Without such a Python it stops with a line saying so: the Django tests are never silently left out.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The first candidate that runs and is >= 3.12 (a pyenv shim for a version not selected does not run).
PYTHON_DJANGO ?= $(shell for p in python3.12 python3.13 python3.14 $$HOME/.pyenv/versions/3.1[234]*/bin/python; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v "$$p"; break; }; done)
DJANGO_VENV := .venv-django
DJANGO_BIN := $(DJANGO_VENV)/bin
DJANGO_STAMP := $(DJANGO_VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "$(PYTHON) -m venv failed: on Debian or Ubuntu, apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(DJANGO_STAMP): pyproject.toml
	@test -n "$(PYTHON_DJANGO)" || { echo "the Django tests need Python >= 3.12 (Django 6), and none was found: install python3.12, or set PYTHON_DJANGO=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON_DJANGO) -m venv $(DJANGO_VENV) || { rm -rf $(DJANGO_VENV); echo "$(PYTHON_DJANGO) -m venv failed" >&2; exit 1; }
	$(DJANGO_BIN)/pip install --quiet --upgrade pip
	$(DJANGO_BIN)/pip install --quiet -e '.[django,dev]'
	touch $(DJANGO_STAMP)

demo: $(STAMP)
	$(BIN)/jobq demo

test: $(STAMP) $(DJANGO_STAMP) lint
	$(BIN)/pytest $(PYTEST_ARGS) $$(.ci/chromium)
	$(DJANGO_BIN)/pytest $(PYTEST_ARGS) tests/django

lint: $(STAMP) $(DJANGO_STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy
	$(DJANGO_BIN)/mypy $$(find src/jobq/contrib/django tests/django -name '*.py')
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DJANGO_VENV) build src/*.egg-info
