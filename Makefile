# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
MUTATION_STAMP := $(VENV)/.installed-mutation
NODE_STAMP := tests/node/node_modules/.installed
export QUALTRACK_DATABASE_URL ?= sqlite:///instance/qualtrack.db
export QUALTRACK_PORT ?= 8000

.PHONY: run test install install-test init-db load-units lint bench mutation clean worker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The node tools some tests run (tests/node/package.json: openapi-typescript, tsc, graphql-http), at the locked versions.
$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $@

$(MUTATION_STAMP): pyproject.toml $(TEST_STAMP)
	$(BIN)/pip install --quiet -e '.[test,mutation]'
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP) $(NODE_STAMP)

init-db: install
	$(BIN)/qualtrack init-db

load-units: init-db
	$(BIN)/qualtrack load-units data/units

## Serve on 127.0.0.1:$(QUALTRACK_PORT) with gunicorn, after creating and loading the database. Development mode:
## without QUALTRACK_JWT_SECRET, tokens are signed with the public development-only key (the app refuses that
## anywhere QUALTRACK_ENV is not development or test; it is production when unset).
run: export QUALTRACK_ENV ?= development
run: load-units
	$(BIN)/qualtrack serve

## Deliver webhooks (beside `make run`, in another terminal).
worker: export QUALTRACK_ENV ?= development
worker: install
	$(BIN)/qualtrack worker

## The whole suite, on SQLite (or on QUALTRACK_TEST_DATABASE_URL when set), one worker process per core, each with its
## own session database (PYTEST_WORKERS=0: in this process, as a debugger wants it).
PYTEST_WORKERS ?= auto
test: install-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

## Mutation testing of the assessment rules (docs/mutation.md; what is mutated and which tests run: [tool.mutmut] in
## pyproject.toml). Slow, so in neither `make test` nor CI. One mutant at a time, niced; on SQLite unless
## QUALTRACK_TEST_DATABASE_URL is set. Without MUTANTS a fresh run of every mutant; with MUTANTS (mutant names or
## patterns, e.g. MUTANTS='api.services.tracking.iqa.x_take_sample__mutmut_*') those are run again and other results kept.
## Ends by listing the mutants that survived.
mutation: $(MUTATION_STAMP)
	$(if $(MUTANTS),,rm -rf mutants)
	nice -n 10 $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/mutmut results

bench: export QUALTRACK_ENV ?= test
bench: install-test
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache mutants
